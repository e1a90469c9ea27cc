"""SD-JWT VC through ``verifier.verify.verify``: every check rejects, with its name and stable code.

SPECS §4 "Verification" and §8 items 60-61, 64-78 and 85. Tampered credentials are signed again
with DUO's real issuer key (``duo.resign`` / ``duo.sd_jwt``) and KB-JWTs with the real holder key,
so each negative case is rejected by the check under test, never by a broken signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from conftest import (
    AUDIENCE,
    BOUND,
    NONCE,
    NOW,
    VCT,
    Duo,
    check_of,
    expect,
    expect_valid,
    policy,
    raw_disclosure,
    salt_source,
)
from cryptography.hazmat.primitives.asymmetric import ec

from schemas import loader
from verifier import jose, kb_jwt, strict_json
from verifier.disclosure import Disclosure, b64_hash, decode
from verifier.sd_jwt_issuance import make_sd_payload
from verifier.sd_jwt_vc import NEVER_DISCLOSABLE

T0 = int(NOW.timestamp())
SKEW = 60  # Policy's default clock skew, in seconds


@pytest.fixture(scope="module")
def credential(duo: Duo) -> str:
    """A bound diploma without a status reference (the status checks are in test_verify.py)."""
    return duo.issue()


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A JWS with an empty signature, built by hand (no library will make one)."""
    parts = (jose.b64url_encode(strict_json.dumps(p).encode()) for p in (header, payload))
    return ".".join(parts) + "."


def _payload(
    duo: Duo, extra: dict[str, Any], disclosable: Callable[[tuple[Any, ...]], bool]
) -> tuple[dict[str, Any], list[Disclosure]]:
    """DUO's registered claims plus ``extra``, hidden where ``disclosable`` says."""
    claims = {**duo.registered_claims(), **extra}
    return make_sd_payload(claims, disclosable=disclosable, salt=salt_source())


def _data_claims(path: tuple[Any, ...]) -> bool:
    return path[0] not in NEVER_DISCLOSABLE | {"iat"}


def test_baseline_credential_and_presentation_are_valid(duo: Duo, credential: str) -> None:
    """The positive case every negative one below departs from."""
    expect_valid(duo.verify(credential))
    verdict = duo.verify(duo.present(credential), BOUND)
    expect_valid(verdict)
    assert check_of(verdict, "holder_binding").outcome == "passed"
    assert verdict.claims["given_name"] == "Sanne Johanna"
    assert "birthdate" not in verdict.claims  # not disclosed: its digest is ignored


# --- the issuer-signed JWT: items 60, 61 ---------------------------------------------------------


def _flip_signature_byte(text: str) -> str:
    first, _, rest = text.partition("~")
    head, body, signature = first.split(".")
    raw = bytearray(jose.b64url_decode(signature))
    raw[10] ^= 0x01
    return f"{head}.{body}.{jose.b64url_encode(bytes(raw))}~{rest}"


def _edit_claim_without_signing(text: str) -> str:
    first, _, rest = text.partition("~")
    head, body, signature = first.split(".")
    payload = strict_json.loads(jose.b64url_decode(body))
    payload["iss"] = "https://issuer.duo.test/"
    return f"{head}.{jose.b64url_encode(strict_json.dumps(payload).encode())}.{signature}~{rest}"


@pytest.mark.parametrize("tamper", [_flip_signature_byte, _edit_claim_without_signing])
def test_corrupted_issuer_signature_is_rejected(
    duo: Duo, credential: str, tamper: Callable[[str], str]
) -> None:
    """SPECS §8 item 60: a corrupted signature (or a payload changed under it) is rejected."""
    expect(duo.verify(tamper(credential)), "invalid", "signature", "sd_jwt_signature_invalid")


def test_alg_none_issuer_jwt_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 61 / SDJ-2: alg none with a genuine, trusted x5c is never accepted."""
    first, _, rest = credential.partition("~")
    jws = jose.parse_compact(first)
    forged = _unsigned({**jws.header, "alg": "none"}, jws.payload) + "~" + rest
    expect(duo.verify(forged), "invalid", "signature", "sd_jwt_signature_invalid")


def test_mac_alg_keyed_with_the_public_key_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §4 verification step 1: HS256 keyed with the issuer's public key (alg confusion)."""
    first, _, rest = credential.partition("~")
    jws = jose.parse_compact(first)
    header = {**jws.header, "alg": "HS256"}
    body = _unsigned(header, jws.payload)[:-1]
    secret = strict_json.dumps(duo.keys.signing_key("issuer").record.public_jwk).encode()
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    forged = f"{body}.{jose.b64url_encode(mac)}~{rest}"
    expect(duo.verify(forged), "invalid", "signature", "sd_jwt_signature_invalid")


def test_alg_outside_the_policy_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §4 verification step 1: ES256 is refused when the policy allows only EdDSA."""
    verdict = duo.verify(credential, policy(algorithms=frozenset({"EdDSA"})))
    expect(verdict, "invalid", "signature", "sd_jwt_signature_invalid")


@pytest.mark.parametrize("typ", ["vc+sd-jwt", "JWT", "example+sd-jwt", None])
def test_typ_other_than_dc_sd_jwt_is_rejected(duo: Duo, credential: str, typ: str | None) -> None:
    """SPECS §8 item 61 / SDV-1: typ must be dc+sd-jwt; the legacy vc+sd-jwt and none refused."""

    def set_typ(header: dict[str, Any], _: dict[str, Any]) -> None:
        header.pop("typ")
        if typ is not None:
            header["typ"] = typ

    verdict = duo.verify(duo.resign(credential, set_typ))
    expect(verdict, "invalid", "format", "sd_jwt_vc_typ_invalid")


# --- Disclosures: items 64-67 --------------------------------------------------------------------


def test_disclosure_not_referenced_by_any_digest_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 64: a Disclosure whose digest the issuer never signed."""
    forged = raw_disclosure("c2FsdHNhbHRzYWx0c2FsdA", "family_name", "Someone Else")
    verdict = duo.verify(credential + forged + "~")
    expect(verdict, "invalid", "disclosures", "disclosure_unreferenced")


def test_same_disclosure_sent_twice_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 64 (RFC 9901 §4): a Holder never sends a Disclosure twice."""
    first = credential.split("~")[1]
    expect(duo.verify(credential + first + "~"), "invalid", "disclosures", "disclosure_duplicate")


@pytest.mark.parametrize("send_disclosure", [True, False])
def test_duplicate_digest_in_sd_is_rejected(duo: Duo, send_disclosure: bool) -> None:
    """SPECS §8 item 64: one digest twice in ``_sd``, disclosed or not (RFC 9901 §7.1 step 4)."""
    payload, made = _payload(duo, {"given_name": "Jan"}, _data_claims)
    payload["_sd"] = [*payload["_sd"], payload["_sd"][0]]
    text = duo.sd_jwt(payload, made if send_disclosure else [])
    expect(duo.verify(text), "invalid", "disclosures", "digest_duplicate")


def test_digest_in_sd_and_in_an_array_is_rejected(duo: Duo) -> None:
    """SPECS §8 item 64: the same (undisclosed) digest in ``_sd`` and at an array slot."""
    digest = b64_hash("not a disclosure anyone holds", "sha-256")
    payload = {**duo.registered_claims(), "languages": [{"...": digest}], "_sd": [digest]}
    expect(duo.verify(duo.sd_jwt(payload, [])), "invalid", "disclosures", "digest_duplicate")


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_disclosure_with_a_reserved_name_is_rejected(duo: Duo, name: str) -> None:
    """SPECS §8 item 65: a Disclosure named ``_sd`` or ``...`` (RFC 9901 §7.1 step 3.3.2.2)."""
    forged = raw_disclosure("c2FsdC0xMjM0NTY3ODkwYWI", name, "x")
    payload = {**duo.registered_claims(), "_sd": [b64_hash(forged, "sha-256")]}
    verdict = duo.verify(duo.sd_jwt(payload, [forged]))
    expect(verdict, "invalid", "disclosures", "disclosure_name_forbidden")


def test_disclosure_repeating_a_plain_claim_is_rejected(duo: Duo) -> None:
    """SPECS §8 item 65: a Disclosure for a name that is already a plain claim at that level."""
    forged = duo.disclose("given_name", "Mallory")
    payload = {**duo.registered_claims(), "given_name": "Jan", "_sd": [forged.digest("sha-256")]}
    verdict = duo.verify(duo.sd_jwt(payload, [forged]))
    expect(verdict, "invalid", "disclosures", "disclosure_name_conflict")


def test_two_disclosures_with_one_name_are_rejected(duo: Duo) -> None:
    """SPECS §8 item 65: two Disclosures carry the same claim name."""
    first = duo.disclose("given_name", "Jan", salt="c2FsdC1vbmUtMTIzNDU2Nzg")
    second = duo.disclose("given_name", "Mallory", salt="c2FsdC10d28tMTIzNDU2Nzg")
    digests = sorted(d.digest("sha-256") for d in (first, second))
    payload = {**duo.registered_claims(), "_sd": digests}
    verdict = duo.verify(duo.sd_jwt(payload, [first, second]))
    expect(verdict, "invalid", "disclosures", "disclosure_name_conflict")


def test_object_disclosure_at_an_array_slot_is_rejected(duo: Duo) -> None:
    """SPECS §8 item 66: a 3-element Disclosure referenced from an array slot."""
    forged = raw_disclosure("c2FsdC0xMjM0NTY3ODkwYWI", "language", "nl")
    payload = {**duo.registered_claims(), "languages": [{"...": b64_hash(forged, "sha-256")}]}
    verdict = duo.verify(duo.sd_jwt(payload, [forged]))
    expect(verdict, "invalid", "disclosures", "disclosure_kind_mismatch")


def test_array_disclosure_in_sd_is_rejected(duo: Duo) -> None:
    """SPECS §8 item 66: a 2-element Disclosure referenced from ``_sd``."""
    forged = raw_disclosure("c2FsdC0xMjM0NTY3ODkwYWI", "nl")
    payload = {**duo.registered_claims(), "_sd": [b64_hash(forged, "sha-256")]}
    verdict = duo.verify(duo.sd_jwt(payload, [forged]))
    expect(verdict, "invalid", "disclosures", "disclosure_kind_mismatch")


@pytest.mark.parametrize(
    "elements", [["c2FsdA"], ["c2FsdA", "a", "b", "c"], [1, "given_name", "x"], ["s", 7, "x"]]
)
def test_disclosure_of_the_wrong_shape_is_rejected(duo: Duo, elements: list[Any]) -> None:
    """SPECS §8 item 66 / SDJ-3: not ``[salt, name, value]`` or ``[salt, value]``."""
    forged = raw_disclosure(*elements)
    payload = {**duo.registered_claims(), "_sd": [b64_hash(forged, "sha-256")]}
    verdict = duo.verify(duo.sd_jwt(payload, [forged]))
    expect(verdict, "invalid", "format", "disclosure_malformed")


@pytest.mark.parametrize("sd_alg", ["md5", "sha-1", "sha-256-32", "SHA-256", 256])
def test_unknown_or_weak_sd_alg_is_rejected(duo: Duo, sd_alg: Any) -> None:
    """SPECS §8 item 67 / SDJ-2: ``_sd_alg`` md5 and other weak or unknown names."""
    payload, made = _payload(duo, {"given_name": "Jan"}, _data_claims)
    payload["_sd_alg"] = sd_alg
    expect(duo.verify(duo.sd_jwt(payload, made)), "invalid", "format", "sd_alg_unsupported")


def test_sha384_sd_alg_is_accepted(duo: Duo) -> None:
    """SPECS SDJ-2: a registered strong hash other than the default."""
    claims = {**duo.registered_claims(), "given_name": "Jan"}
    payload, made = make_sd_payload(
        claims, disclosable=_data_claims, salt=salt_source(), hash_alg="sha-384"
    )
    verdict = duo.verify(duo.sd_jwt(payload, made))
    expect_valid(verdict)
    assert verdict.claims["given_name"] == "Jan"


# --- validity window: item 68 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "offset", "code"),
    [
        ("exp", -SKEW - 1, "expired"),
        ("exp", -SKEW, "expired"),  # the boundary: exp + skew == now is already too late
        ("exp", -3600 * 24 * 365, "expired"),
        ("nbf", SKEW + 1, "not_yet_valid"),
        ("nbf", 3600 * 24 * 365, "not_yet_valid"),
    ],
)
def test_outside_the_validity_window_is_rejected(
    duo: Duo, claim: str, offset: int, code: str
) -> None:
    """SPECS §8 item 68: ``exp`` in the past, ``nbf`` in the future, beyond the clock skew."""
    text = duo.issue({**loader.example_claims("diploma"), claim: T0 + offset})
    expect(duo.verify(text), "invalid", "validity_period", code)


@pytest.mark.parametrize(("claim", "offset"), [("exp", -SKEW + 1), ("nbf", SKEW), ("nbf", 0)])
def test_inside_the_clock_skew_is_accepted(duo: Duo, claim: str, offset: int) -> None:
    """SPECS §8 item 68: the positive side of each boundary."""
    expect_valid(duo.verify(duo.issue({**loader.example_claims("diploma"), claim: T0 + offset})))


def test_zero_clock_skew_moves_the_boundary(duo: Duo) -> None:
    """SPECS §8 item 68: with no skew, exp == now is expired and exp == now + 1 is not."""
    strict = policy(clock_skew=timedelta(0))
    at_now = duo.issue({**loader.example_claims("diploma"), "exp": T0})
    expect(duo.verify(at_now, strict), "invalid", "validity_period", "expired")
    expect_valid(duo.verify(at_now, policy(clock_skew=timedelta(seconds=1))))
    later = duo.issue({**loader.example_claims("diploma"), "exp": T0 + 1})
    expect_valid(duo.verify(later, strict))


def test_iat_in_the_future_is_rejected(duo: Duo, credential: str) -> None:
    """A credential issued later than now plus the skew."""

    def future(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["iat"] = T0 + SKEW + 1

    verdict = duo.verify(duo.resign(credential, future))
    expect(verdict, "invalid", "validity_period", "iat_in_future")


@pytest.mark.parametrize("value", ["2030-01-01", True, None, [T0]])
def test_exp_that_is_not_a_number_is_rejected(duo: Duo, credential: str, value: Any) -> None:
    """RFC 7519 §4.1.4: exp is a NumericDate; ``null`` is not one and is no absent exp either."""

    def bad_exp(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["exp"] = value

    verdict = duo.verify(duo.resign(credential, bad_exp))
    expect(verdict, "invalid", "validity_period", "jwt_time_invalid")


@pytest.mark.parametrize("iat", [10**20, -(10**20), 1e300])
def test_iat_beyond_any_date_never_crashes(duo: Duo, credential: str, iat: Any) -> None:
    """An iat no datetime can hold is read before the signature check: a verdict, not a crash."""

    def set_iat(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["iat"] = iat

    verdict = duo.verify(duo.resign(credential, set_iat))
    if iat > 0:
        expect(verdict, "invalid", "validity_period", "iat_in_future")
    else:
        expect_valid(verdict)


# --- registered claims: items 69, 70 -------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", 7, ["x"]])
def test_vct_missing_or_not_a_string_is_rejected(duo: Duo, credential: str, value: Any) -> None:
    """SPECS §8 item 69 / SDV-2: vct is required and a non-empty string."""

    def set_vct(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload.pop("vct")
        if value is not None:
            payload["vct"] = value

    expect(duo.verify(duo.resign(credential, set_vct)), "invalid", "claims", "vct_missing")


@pytest.mark.parametrize("name", ["exp", "nbf", "cnf", "status", "vct", "vct#integrity"])
def test_registered_claim_sent_as_a_disclosure_is_rejected(duo: Duo, name: str) -> None:
    """SPECS §8 item 70 / SDV-3: these claims are never selectively disclosable."""
    values = {
        "exp": T0 + 3600,
        "nbf": T0 - 3600,
        "status": {"status_list": {"idx": duo.refs["valid"].idx, "uri": duo.registry.uri}},
    }
    extra = {name: values[name]} if name in values else {}
    payload, made = _payload(duo, extra, lambda path: path == (name,))
    assert name not in payload and len(made) == 1
    expect(duo.verify(duo.sd_jwt(payload, made)), "invalid", "claims", "claim_not_disclosable")


def test_iss_sent_as_a_disclosure_leaves_no_issuer(duo: Duo) -> None:
    """SPECS §8 item 70: a disclosable iss; the issuer-signed JWT then names no issuer at all."""
    payload, made = _payload(duo, {}, lambda path: path == ("iss",))
    expect(duo.verify(duo.sd_jwt(payload, made)), "invalid", "issuer_trust", "iss_missing")


@pytest.mark.parametrize(
    "path", [("cnf", "jwk"), ("status", "status_list"), ("status", "status_list", "idx")]
)
def test_hidden_sub_claim_of_a_registered_claim_is_rejected(
    duo: Duo, path: tuple[str, ...]
) -> None:
    """SPECS §8 item 70 / SDV-3: nor are their sub-claims (``cnf.jwk`` hidden inside ``cnf``)."""
    status = {"status_list": {"idx": duo.refs["valid"].idx, "uri": duo.registry.uri}}
    payload, made = _payload(duo, {"status": status}, lambda p: p == path)
    assert made and "_sd" in str(payload[path[0]])
    expect(duo.verify(duo.sd_jwt(payload, made)), "invalid", "claims", "claim_not_disclosable")


# --- type metadata: item 85 ----------------------------------------------------------------------


def test_type_metadata_not_matching_vct_integrity_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 85 / SDV-8: the bundle's document differs from what vct#integrity pins."""
    document = duo.trust.type_metadata[VCT]
    changed = document.replace('"name":', '"name": ', 1)  # same JSON, other bytes
    assert changed != document
    trust = replace(duo.trust, type_metadata={VCT: changed})
    verdict = duo.verify(credential, trust=trust)
    expect(verdict, "invalid", "type_metadata", "type_metadata_integrity_mismatch")


def test_type_metadata_missing_from_trust_is_skipped(duo: Duo, credential: str) -> None:
    """SPECS §8 item 85: no document for this vct: the check is skipped, the credential valid."""
    verdict = duo.verify(credential, trust=replace(duo.trust, type_metadata={}))
    expect_valid(verdict)
    check = check_of(verdict, "type_metadata")
    assert (check.outcome, check.code) == ("skipped", "type_metadata_unavailable")
    assert check_of(duo.verify(credential), "type_metadata").outcome == "passed"


def test_type_metadata_of_another_vct_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS SDV-7: without vct#integrity, the document's vct must still be the credential's."""

    def drop_integrity(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload.pop("vct#integrity")

    other = loader.type_metadata_document("grade_list", "https://issuer.duo.test").decode()
    trust = replace(duo.trust, type_metadata={VCT: other})
    verdict = duo.verify(duo.resign(credential, drop_integrity), trust=trust)
    expect(verdict, "invalid", "type_metadata", "type_metadata_vct_mismatch")


# --- holder binding: items 71-78 -----------------------------------------------------------------


def _kb(
    duo: Duo,
    presented: str,
    *,
    header: dict[str, Any] | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
    unsigned: bool = False,
    **claims: Any,
) -> str:
    """``presented`` (ending in ``~``) plus a KB-JWT with the given header and claims changed."""
    payload = {
        "iat": T0,
        "aud": AUDIENCE,
        "nonce": NONCE,
        "sd_hash": kb_jwt.sd_hash(presented, "sha-256"),
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    head = header or {"typ": "kb+jwt", "alg": "ES256"}
    if unsigned:
        return presented + _unsigned(head, payload)
    signer = jose.private_key_signer(key or duo.holder, "ES256")
    return presented + jose.sign_compact(head, payload, signer)


def _selected(presentation: str) -> str:
    return presentation[: presentation.rindex("~") + 1]


def test_hand_made_kb_jwt_is_accepted(duo: Duo, credential: str) -> None:
    """The positive case of the KB-JWT forgeries below."""
    expect_valid(duo.verify(_kb(duo, _selected(duo.present(credential))), BOUND))


def test_required_binding_without_kb_jwt_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 71 (RFC 9901 §7.3): the SD-JWT has no KB-JWT; decided before parsing."""
    expect(duo.verify(credential, BOUND), "invalid", "format", "kb_jwt_missing")


def test_required_binding_without_nonce_and_audience_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §4 verification step 7: a required binding is never waived for want of context."""
    presentation = duo.present(credential)
    for pol in (replace(BOUND, nonce=None), replace(BOUND, audience=None)):
        verdict = duo.verify(presentation, pol)
        expect(verdict, "invalid", "holder_binding", "holder_binding_context_missing")


@pytest.mark.parametrize("typ", ["JWT", "dc+sd-jwt", None])
def test_kb_jwt_with_wrong_typ_is_rejected(duo: Duo, credential: str, typ: str | None) -> None:
    """SPECS §8 item 72: KB-JWT typ must be kb+jwt."""
    header = {"alg": "ES256"} if typ is None else {"typ": typ, "alg": "ES256"}
    text = _kb(duo, _selected(duo.present(credential)), header=header)
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "kb_jwt_typ_invalid")


def test_kb_jwt_with_alg_none_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 72: an unsigned KB-JWT."""
    header = {"typ": "kb+jwt", "alg": "none"}
    text = _kb(duo, _selected(duo.present(credential)), header=header, unsigned=True)
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "kb_jwt_alg_invalid")


def test_kb_jwt_signed_by_another_key_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 73: a KB-JWT signed by a key that is not the credential's cnf key."""
    thief = ec.generate_private_key(ec.SECP256R1())
    text = duo.present(credential, key=thief)
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "kb_jwt_signature_invalid")


def test_kb_jwt_with_corrupted_signature_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 73: a flipped byte in the KB-JWT signature."""
    text = duo.present(credential)
    head, body, signature = text[text.rindex("~") + 1 :].split(".")
    raw = bytearray(jose.b64url_decode(signature))
    raw[-5] ^= 0x80
    forged = f"{_selected(text)}{head}.{body}.{jose.b64url_encode(bytes(raw))}"
    expect(duo.verify(forged, BOUND), "invalid", "holder_binding", "kb_jwt_signature_invalid")


def test_bound_presentation_of_an_unbound_credential_is_rejected(duo: Duo) -> None:
    """SPECS §4 verification step 9: no cnf.jwk, so no key a KB-JWT could be checked with."""
    text = duo.present(duo.issue(bound=False))
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "cnf_jwk_missing")


@pytest.mark.parametrize("nonce", ["another-nonce", "", None])
def test_kb_jwt_nonce_mismatch_is_rejected(duo: Duo, credential: str, nonce: str | None) -> None:
    """SPECS §8 item 74: the KB-JWT's nonce is not this transaction's (or missing)."""
    text = _kb(duo, _selected(duo.present(credential)), nonce=nonce)
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "kb_jwt_nonce_mismatch")


def test_presentation_replayed_in_a_new_transaction_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 75: at this layer a replay is a nonce mismatch.

    Remembering which transactions were answered (state, response_code) is OpenID4VP's job
    (issue 4); here the second transaction's fresh nonce is what the old KB-JWT cannot match.
    """
    first = duo.present(credential, nonce="transaction-1-nonce")
    expect_valid(duo.verify(first, replace(BOUND, nonce="transaction-1-nonce")))
    second = duo.verify(first, replace(BOUND, nonce="transaction-2-nonce"))
    expect(second, "invalid", "holder_binding", "kb_jwt_nonce_mismatch")


@pytest.mark.parametrize(
    "aud", ["verifier.duo.test", "x509_san_dns:evil.example", "https://verifier.duo.test"]
)
def test_kb_jwt_aud_mismatch_is_rejected(duo: Duo, credential: str, aud: str) -> None:
    """SPECS §8 item 76: aud with the client_id prefix dropped, or another verifier's."""
    text = duo.present(credential, aud=aud)
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "kb_jwt_aud_mismatch")


def test_kb_jwt_aud_as_an_array_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS SDJ-6: aud is one string, not an array that contains the verifier."""
    text = _kb(duo, _selected(duo.present(credential)), aud=[AUDIENCE])
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "kb_jwt_aud_mismatch")


@pytest.mark.parametrize(
    ("offset", "valid"),
    [
        (-365 * 86400, False),
        (365 * 86400, False),
        (-300, True),  # Policy.kb_max_age: 5 minutes old is still fresh
        (-301, False),
        (SKEW, True),
        (SKEW + 1, False),
    ],
)
def test_kb_jwt_iat_window(duo: Duo, credential: str, offset: int, valid: bool) -> None:
    """SPECS §8 item 77: iat a year off either way is rejected; the window's edges hold."""
    verdict = duo.verify(duo.present(credential, iat=T0 + offset), BOUND)
    if valid:
        expect_valid(verdict)
    else:
        expect(verdict, "invalid", "holder_binding", "kb_jwt_iat_invalid")


def _named(text: str, name: str) -> str:
    """The top-level Disclosure of claim ``name`` in an SD-JWT."""
    return next(d for d in text.split("~")[1:-1] if decode(d).name == name)


def _add_disclosure(duo: Duo, credential: str, presentation: str) -> str:
    issuer_jwt, _, rest = presentation.partition("~")
    return f"{issuer_jwt}~{_named(credential, 'birthdate')}~{rest}"


def _remove_disclosure(duo: Duo, credential: str, presentation: str) -> str:
    return presentation.replace(_named(presentation, "given_name") + "~", "")


def _reorder_disclosures(duo: Duo, credential: str, presentation: str) -> str:
    parts = presentation.split("~")
    middle = parts[1:-1]
    assert len(middle) >= 2
    return "~".join([parts[0], *middle[::-1], parts[-1]])


@pytest.mark.parametrize("change", [_add_disclosure, _remove_disclosure, _reorder_disclosures])
def test_disclosures_changed_after_binding_are_rejected(
    duo: Duo, credential: str, change: Callable[[Duo, str, str], str]
) -> None:
    """SPECS §8 item 78: sd_hash no longer matches once a Disclosure is added, removed or moved."""
    presentation = duo.present(credential)
    changed = change(duo, credential, presentation)
    assert changed != presentation
    expect(duo.verify(changed, BOUND), "invalid", "holder_binding", "kb_jwt_sd_hash_mismatch")


def test_kb_jwt_with_past_exp_is_rejected(duo: Duo, credential: str) -> None:
    """RFC 9901 §7.3 step 5.8: an optional exp in the KB-JWT must lie in the future."""
    text = _kb(duo, _selected(duo.present(credential)), exp=T0)
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "kb_jwt_expired")


def test_kb_jwt_over_every_disclosure_is_accepted(duo: Duo, credential: str) -> None:
    """SPECS SDJ-1/SDJ-6: nothing withheld; sd_hash covers the issued SD-JWT as it is."""
    verdict = duo.verify(_kb(duo, credential), BOUND)
    expect_valid(verdict)
    assert verdict.claims["birthdate"] == "1998-03-14"
