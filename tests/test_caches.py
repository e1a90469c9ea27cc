"""The caches and fast paths of the hot path give the answers the plain code gives.

Each cache is keyed on everything its result depends on and keeps successes only; whatever
depends on the time or the caller is checked on every call. These tests change one input at a
time after a success has been cached and expect the plain code's rejection (bench/README.md).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import jwt
import pytest
from conftest import ISSUER, NOW, VCT, Duo, b64_der, salt_source
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.credentials import signing
from keys import pki
from verifier import disclosure, jose, sd_jwt_issuance, sd_jwt_vc, strict_json, x509_trust
from verifier import token_status_list as tsl
from verifier.errors import InvalidCredential

URI = f"{ISSUER}/status/1"
DAY = timedelta(days=1)


def _code(call: Callable[[], object]) -> str:
    with pytest.raises(InvalidCredential) as caught:
        call()
    return caught.value.code


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except InvalidCredential as error:
        return error.code


def _cert(
    key: ec.EllipticCurvePrivateKey,
    subject: str,
    *,
    signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None,
    start: datetime,
    end: datetime,
) -> x509.Certificate:
    """A root (``signer`` None) or a leaf with the development PKI's profile and given validity."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    ca = signer is None
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement"), False
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name if signer is None else signer[1].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
                **usage,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key if signer is None else signer[0], hashes.SHA256())
    )


def _pki(root_days: int, leaf_days: int) -> tuple[x509.Certificate, x509.Certificate]:
    """A root valid NOW-1d..NOW+root_days and a leaf valid NOW-1d..NOW+leaf_days."""
    root_key, leaf_key = pki.new_key(), pki.new_key()
    start = NOW - DAY
    root = _cert(root_key, "cache root", signer=None, start=start, end=NOW + root_days * DAY)
    leaf = _cert(
        leaf_key, "cache leaf", signer=(root_key, root), start=start, end=NOW + leaf_days * DAY
    )
    return root, leaf


# --- x5c chains (SPECS §8 item 62) ------------------------------------------------------------


def test_cached_chain_is_not_reused_outside_the_leaf_validity() -> None:
    """SPECS §8 item 62: after a success, a `now` past notAfter (or before notBefore) fails."""
    root, leaf = _pki(root_days=3650, leaf_days=30)
    cache, x5c = x509_trust.ChainCache(), [b64_der(leaf)]
    assert cache.validate(x5c, [root], now=NOW) == leaf
    assert cache.validate(x5c, [root], now=NOW + 29 * DAY) == leaf
    late = leaf.not_valid_after_utc + timedelta(seconds=1)
    assert _code(lambda: cache.validate(x5c, [root], now=late)) == "x5c_expired"
    early = leaf.not_valid_before_utc - timedelta(seconds=1)
    assert _code(lambda: cache.validate(x5c, [root], now=early)) == "x5c_not_yet_valid"
    assert cache.validate(x5c, [root], now=NOW) == leaf


@pytest.mark.parametrize("days", [-2, 0, 29, 31, 364, 366])
def test_cache_agrees_with_full_validation_when_the_anchor_expires_first(days: int) -> None:
    """The window is the whole validated path's, anchor included: the cache never says more."""
    root, leaf = _pki(root_days=30, leaf_days=365)
    cache, x5c = x509_trust.ChainCache(), [b64_der(leaf)]
    cache.validate(x5c, [root], now=NOW)
    at = NOW + days * DAY
    cached = _outcome(lambda: cache.validate(x5c, [root], now=at))
    assert cached == _outcome(lambda: x509_trust.validate_chain(x5c, [root], now=at))


def test_cached_chain_is_not_reused_for_other_anchors() -> None:
    """SPECS §8 item 62: a chain validated to one anchor is untrusted under another."""
    root, leaf = _pki(root_days=3650, leaf_days=30)
    other, _ = _pki(root_days=3650, leaf_days=30)
    cache, x5c = x509_trust.ChainCache(), [b64_der(leaf)]
    cache.validate(x5c, [root], now=NOW)
    assert _code(lambda: cache.validate(x5c, [other], now=NOW)) == "x5c_untrusted"


def test_chain_cache_refuses_what_validate_chain_refuses() -> None:
    root, leaf = _pki(root_days=3650, leaf_days=30)
    cache = x509_trust.ChainCache()
    cache.validate([b64_der(leaf)], [root], now=NOW)
    for bad in ("not a list", [1], [b64_der(leaf) + "A"], [b64_der(root)]):
        assert _code(lambda b=bad: cache.validate(b, [root], now=NOW)) == _code(  # type: ignore[misc]
            lambda b=bad: x509_trust.validate_chain(b, [root], now=NOW)  # type: ignore[misc]
        )
    with pytest.raises(ValueError):
        cache.validate([b64_der(leaf)], [root], now=NOW.replace(tzinfo=None))
    assert len(cache) == 1  # failures are never kept


def test_chain_cache_is_bounded() -> None:
    root_key = pki.new_key()
    root = _cert(root_key, "bound root", signer=None, start=NOW - DAY, end=NOW + 9 * DAY)
    cache = x509_trust.ChainCache(maxsize=3)
    for _ in range(5):
        end = NOW + DAY
        leaf = _cert(pki.new_key(), "leaf", signer=(root_key, root), start=NOW - DAY, end=end)
        cache.validate([b64_der(leaf)], [root], now=NOW)
        assert 1 <= len(cache) <= 3


def test_trust_store_replace_starts_with_an_empty_cache(duo: Duo) -> None:
    """SPECS §8 item 62: a store made by replace() with other anchors decides afresh."""
    header = duo.header()
    assert duo.trust.issuer_key(header, ISSUER, now=NOW, signed_at=None) is not None
    other, _ = _pki(root_days=3650, leaf_days=30)
    foreign = replace(duo.trust, anchors=(other,))
    assert foreign == replace(duo.trust, anchors=(other,))  # the cache is not compared
    issuer_key = lambda: foreign.issuer_key(header, ISSUER, now=NOW, signed_at=None)  # noqa: E731
    assert _code(issuer_key) == "x5c_untrusted"


def test_status_list_key_is_not_reused_after_its_certificate_expires(duo: Duo) -> None:
    """SPECS §8 item 62: the status-list signer's chain, cached at NOW, fails once expired."""
    header = duo.header("status_list", "statuslist+jwt")
    store = replace(duo.trust)
    assert store.status_list_key(header, ISSUER, uri=URI, now=NOW) is not None
    leaf = x509_trust.parse_certificate(header["x5c"][0])
    late = leaf.not_valid_after_utc + timedelta(seconds=1)
    key = lambda: store.status_list_key(header, ISSUER, uri=URI, now=late)  # noqa: E731
    assert _code(key) == "x5c_expired"


# --- type metadata (SDV-7, SDV-8) --------------------------------------------------------------


def _payload(duo: Duo, **changes: Any) -> dict[str, Any]:
    return {**duo.registered_claims(), **changes}


def test_changed_type_metadata_document_is_checked_again(duo: Duo) -> None:
    """SDV-8: the cache keys on the document text; other bytes meet vct#integrity afresh."""
    sd_jwt_vc.check_type_metadata(_payload(duo), duo.trust)
    document = duo.trust.type_metadata[VCT]
    changed = replace(duo.trust, type_metadata={VCT: document.replace('"name":', '"name": ', 1)})
    check = lambda: sd_jwt_vc.check_type_metadata(_payload(duo), changed)  # noqa: E731
    assert _code(check) == "type_metadata_integrity_mismatch"


def test_changed_integrity_string_is_checked_again(duo: Duo) -> None:
    """SDV-8: a cached document does not vouch for another vct#integrity."""
    sd_jwt_vc.check_type_metadata(_payload(duo), duo.trust)
    other = "sha256-" + base64.b64encode(bytes(32)).decode("ascii")
    check = lambda: sd_jwt_vc.check_type_metadata(  # noqa: E731
        _payload(duo, **{"vct#integrity": other}), duo.trust
    )
    assert _code(check) == "type_metadata_integrity_mismatch"


def test_cached_document_does_not_vouch_for_another_vct(duo: Duo) -> None:
    """SDV-7: the same text filed under another vct is checked against that vct."""
    sd_jwt_vc.check_type_metadata(_payload(duo), duo.trust)
    other_vct = f"{ISSUER}/vct/other"
    trust = replace(duo.trust, type_metadata={other_vct: duo.trust.type_metadata[VCT]})
    check = lambda: sd_jwt_vc.check_type_metadata(  # noqa: E731
        _payload(duo, vct=other_vct), trust
    )
    assert _code(check) == "type_metadata_vct_mismatch"


# --- status list tokens (TSL-2, TSL-5, TSL-6) --------------------------------------------------


def _token(key: ec.EllipticCurvePrivateKey, *, exp: int = 3600, **claims: Any) -> str:
    iat = int(NOW.timestamp())
    token = tsl.build_status_list_token(
        [0, 1, 2], 2, uri=URI, iat=iat, exp=iat + exp, ttl=60,
        signer=jose.private_key_signer(key, "ES256"), alg="ES256", kid="status-1",
    )  # fmt: skip
    if not claims:
        return token
    jws = jose.parse_compact(token)
    signer = jose.private_key_signer(key, "ES256")
    return jose.sign_compact(jws.header, {**jws.payload, **claims}, signer)


def _check(token: str, key: Any, **changes: Any) -> tsl.StatusList:
    args: dict[str, Any] = {
        "uri": URI, "resolve_key": lambda header, payload: key, "now": NOW, "algorithms": ["ES256"],
    }  # fmt: skip
    return tsl.verify_status_list_token(token, **{**args, **changes})


@pytest.fixture
def status_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_memoised_list_is_still_expired_at_a_later_now(status_key: Any) -> None:
    """TSL-5: a token verified (and memoised) at NOW is rejected once exp has passed."""
    token, public = _token(status_key), status_key.public_key()
    assert _check(token, public).get(1) == 1
    later = NOW + timedelta(hours=2)
    assert _code(lambda: _check(token, public, now=later)) == "status_list_expired"


def test_memoised_list_is_still_not_yet_valid_at_an_earlier_now(status_key: Any) -> None:
    """RFC 7519 §4.1.5: nbf is compared with each call's now."""
    token = _token(status_key, nbf=int(NOW.timestamp()) + 60)
    public = status_key.public_key()
    assert _check(token, public, now=NOW + timedelta(minutes=2)).get(2) == 2
    assert _code(lambda: _check(token, public)) == "status_list_not_yet_valid"


def test_memoised_list_still_checks_history_and_media_type(status_key: Any) -> None:
    """TSL-6 and TSL-4: `at` and the response's media type are checked on every call."""
    token, public = _token(status_key), status_key.public_key()
    _check(token, public)
    before = NOW - timedelta(hours=1)
    assert _code(lambda: _check(token, public, at=before)) == "status_list_time_not_covered"
    wrong = lambda: _check(token, public, content_type="application/jwt")  # noqa: E731
    assert _code(wrong) == "status_list_content_type_invalid"


def test_tampered_token_is_not_served_from_the_memo(status_key: Any) -> None:
    """TSL-2: any other text is verified in full (the memo keys on the exact token)."""
    token, public = _token(status_key), status_key.public_key()
    _check(token, public)
    head, body, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _code(lambda: _check(f"{head}.{body}.{flipped}", public)) == (
        "status_list_signature_invalid"
    )
    forged = _token(ec.generate_private_key(ec.SECP256R1()))  # same content, another key
    assert _code(lambda: _check(forged, public)) == "status_list_signature_invalid"


def test_memo_keys_on_key_uri_and_algorithms(status_key: Any) -> None:
    """TSL-2, TSL-5: the same token under another key, uri or algorithm set is decided afresh."""
    token, public = _token(status_key), status_key.public_key()
    _check(token, public)
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert _code(lambda: _check(token, other)) == "status_list_signature_invalid"
    assert _code(lambda: _check(token, public, uri=URI + "0")) == "status_list_sub_mismatch"
    narrow = lambda: _check(token, public, algorithms=["ES384"])  # noqa: E731
    assert _code(narrow) == "status_list_signature_invalid"
    assert _check(token, jose.public_jwk(public)).get(1) == 1  # a JWK key: verified, not memoised


def test_status_list_memo_is_bounded(status_key: Any) -> None:
    public = status_key.public_key()
    for ttl in range(tsl.VERIFIED_LISTS + 3):
        _check(_token(status_key, exp=3600 + ttl), public)
        assert 1 <= len(tsl._VERIFIED) <= tsl.VERIFIED_LISTS


# --- strict JSON and base64url (SDJ-2, RFC 7515 §2) ---------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(value=_JSON)
def test_dumps_and_loads_agree_with_the_json_module(value: Any) -> None:
    text = strict_json.dumps(value)
    assert text == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert strict_json.loads(text) == json.loads(text)


def test_depth_limit_with_and_without_the_bracket_count_shortcut() -> None:
    """Nesting above 32 is refused, brackets inside strings do not count, and duplicates fail."""
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        strict_json.loads(opener * 32 + "1" + closer * 32)
        deep = opener * 33 + "1" + closer * 33
        assert _code(lambda d=deep: strict_json.loads(d)) == "json_too_deep"  # type: ignore[misc]
    assert strict_json.loads(json.dumps(["[{" * 100])) == ["[{" * 100]
    assert _code(lambda: strict_json.loads('[{"a":1,"a":1}]')) == "json_duplicate_key"
    with pytest.raises(InvalidCredential) as caught:
        strict_json.loads("[" * 40 + "]" * 40)
    assert not re.search(r"\d", str(caught.value))  # fixed message, no limit interpolated


def _reference_decode(text: str) -> bytes | None:
    """The plain base64url decoder: alphabet, padding added, canonical re-encoding."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if base64.urlsafe_b64encode(data).rstrip(b"=").decode() == text else None


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="AQgwEkz09-_+/=\n .\x00é", max_size=12), data=st.binary(max_size=70))
def test_base64url_agrees_with_the_reference(text: str, data: bytes) -> None:
    """RFC 7515 §2: canonical unpadded base64url only, exactly as the plain decoder decides."""
    assert jose.b64url_encode(data) == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert jose.b64url_decode(jose.b64url_encode(data)) == data
    expected = _reference_decode(text)
    assert _outcome(lambda: jose.b64url_decode(text)) == (
        "malformed_base64" if expected is None else expected
    )


def test_base64url_short_strings_exhaustively() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/="
    for first in alphabet:
        for second in ("", *alphabet):
            text = first + second
            expected = _reference_decode(text)
            assert _outcome(lambda t=text: jose.b64url_decode(t)) == (  # type: ignore[misc]
                "malformed_base64" if expected is None else expected
            )
    assert _code(lambda: jose.b64url_decode(binascii.hexlify(b"x").decode() + "\u0660")) == (
        "malformed_base64"
    )


# --- keys and headers (RFC 7517, RFC 7518 §6.2.1, RFC 7515 §5.1) ------------------------------


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_ec_jwk_gives_the_key_pyjwk_gives(curve: ec.EllipticCurve) -> None:
    jwk = jose.public_jwk(ec.generate_private_key(curve))
    assert jose.public_key_from_jwk(jwk).public_numbers() == jwt.PyJWK(jwk).key.public_numbers()
    padded = {**jwk, "x": jwk["x"] + "=" * (-len(jwk["x"]) % 4)}  # PyJWK's leniency is kept
    assert _outcome(lambda: jose.public_key_from_jwk(padded).public_numbers()) == _outcome(
        lambda: jwt.PyJWK(padded).key.public_numbers()
    )


def test_ec_jwk_that_is_not_a_key_is_refused() -> None:
    jwk = jose.public_jwk(ec.generate_private_key(ec.SECP256R1()))
    x = int.from_bytes(jose.b64url_decode(jwk["x"]), "big")
    off_curve = {**jwk, "x": jose.b64url_encode(((x + 1) % 2**256).to_bytes(32, "big"))}
    short = {**jwk, "y": jose.b64url_encode(bytes(31))}
    for bad in (off_curve, short, {**jwk, "alg": "RS256"}, {**jwk, "crv": "P-384"}):
        assert _code(lambda b=bad: jose.public_key_from_jwk(b)) == "jwk_invalid"  # type: ignore[misc]


def test_encoded_header_signs_the_same_token() -> None:
    header = {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "k", "x5c": ["AAAA"]}
    signer: jose.Signer = lambda data: data[:3]  # noqa: E731  (deterministic)
    token = jose.sign_compact(header, {"a": 1}, signer)
    assert jose.sign_compact(jose.encode_header(header), {"a": 1}, signer) == token
    with pytest.raises(ValueError):
        jose.encode_header({"typ": "x"})


def test_issuer_header_is_encoded_per_key(duo: Duo) -> None:
    """The cached header is the current key's: kid and x5c come from the record."""
    head = jose.parse_compact(duo.issue().split("~", 1)[0]).header
    assert head == duo.header()
    one = signing._sd_jwt_vc_header("ES256", "k1", ("AAAA",))
    assert one != signing._sd_jwt_vc_header("ES256", "k2", ("AAAA",))
    assert one != signing._sd_jwt_vc_header("ES256", "k1", ("BBBB",))


# --- Disclosures and salts (SDJ-3) -------------------------------------------------------------


def test_disclosure_digest_memo_follows_the_text_and_the_algorithm() -> None:
    """SDJ-3 / RFC 9901 §4.2.3: the digest is over the raw text, per hash algorithm."""
    one = disclosure.object_disclosure("c2FsdC0x", "a", 1)
    two = disclosure.object_disclosure("c2FsdC0y", "a", 1)
    assert one.digest("sha-256") == disclosure.b64_hash(one.raw, "sha-256")
    copy = replace(one, raw=two.raw)
    assert copy.digest("sha-256") == two.digest("sha-256") != one.digest("sha-256")
    assert one.digest("sha-384") == disclosure.b64_hash(one.raw, "sha-384")
    assert _code(lambda: one.digest("sha-1")) == "sd_alg_unsupported"


def test_salt_pool_never_repeats_across_threads_and_refills() -> None:
    """SDJ-3: 16-byte salts (128 bits), each handed out once, also under concurrent use."""
    salts: list[bytes] = []

    def draw() -> None:
        salts.extend(signing._random_salt() for _ in range(300))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(salts) == 1200 and len(set(salts)) == 1200
    assert {len(salt) for salt in salts} == {16}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_does_not_repeat_the_parents_salts() -> None:
    """SDJ-3: a child process starts with an empty pool instead of the parent's next bytes."""
    signing._random_salt()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, signing._random_salt())
        os._exit(0)
    os.close(write)
    from_child = os.read(read, 16)
    os.close(read)
    os.waitpid(child, 0)
    assert len(from_child) == 16 and from_child != signing._random_salt()


def test_builder_accepts_any_mapping_and_sequence_like_plain_ones() -> None:
    """SDJ-3: the type() shortcut changes nothing for Mapping subclasses and tuples."""
    plain = {"a": {"b": "x", "c": [1, 2.5, None, True]}}
    wrapped = MappingProxyType({"a": MappingProxyType({"b": "x", "c": (1, 2.5, None, True)})})
    made = [
        sd_jwt_issuance.make_sd_payload(
            claims, disclosable=lambda path: True, salt=salt_source(), decoys=1
        )
        for claims in (plain, wrapped)
    ]
    assert made[0][0] == made[1][0]
    assert [d.raw for d in made[0][1]] == [d.raw for d in made[1][1]]
