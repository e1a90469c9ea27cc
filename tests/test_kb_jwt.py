"""Key Binding JWT (RFC 9901 §4.3 creation, §7.3 validation); SPECS §8 items 71-74 and 76-78.

Each check of ``verify_kb_jwt`` has its negative case here. KB-JWTs with a wrong header or payload
are forged with the real holder key (``forge``), so only the property under test is wrong.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from verifier import disclosure, jose, kb_jwt, sd_jwt, sd_jwt_issuance
from verifier.errors import DuoError
from verifier.sd_jwt_selection import present

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
IAT = int(NOW.timestamp())
NONCE = "n-0S6_WzA2Mj"
AUD = "x509_san_dns:verifier.example"
ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_JWK = jose.public_jwk(HOLDER_KEY)
HOLDER = jose.private_key_signer(HOLDER_KEY, "ES256")


def _salts() -> Callable[[], bytes]:
    counter = itertools.count()
    return lambda: hashlib.sha256(b"kb-salt-%d" % next(counter)).digest()[:16]


def issue(hash_alg: str = "sha-256") -> str:
    claims = {
        "iss": "https://issuer.duo.test",
        "cnf": {"jwk": HOLDER_JWK},
        "given_name": "Jan",
        "family_name": "van der Berg",
        "award_date": "2024-07-01",
    }
    return sd_jwt_issuance.issue(
        claims,
        header={"alg": "ES256", "typ": "dc+sd-jwt"},
        signer=jose.private_key_signer(ISSUER_KEY, "ES256"),
        disclosable=lambda p: p[0] not in ("iss", "cnf"),
        salt=_salts(),
        hash_alg=hash_alg,
    )


SD_JWT = issue()
PRESENTED = present(SD_JWT, ["given_name", "award_date"])


def kb(presented: str = PRESENTED, **changes: Any) -> str:
    """A genuine KB-JWT over ``presented``, optionally with header/payload fields changed."""
    return kb_jwt.create_kb_jwt(
        presented,
        signer=changes.get("signer", HOLDER),
        alg=changes.get("alg", "ES256"),
        nonce=changes.get("nonce", NONCE),
        aud=changes.get("aud", AUD),
        iat=changes.get("iat", IAT),
    )


def forge(header: dict[str, Any] | None = None, **payload: Any) -> str:
    """A holder-signed KB-JWT with arbitrary header and payload (None removes a claim)."""
    claims: dict[str, Any] = {
        "iat": IAT,
        "aud": AUD,
        "nonce": NONCE,
        "sd_hash": kb_jwt.sd_hash(PRESENTED, "sha-256"),
    }
    claims.update(payload)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jose.sign_compact(header or {"typ": "kb+jwt", "alg": "ES256"}, claims, HOLDER)


def check(presentation: str, **policy: Any) -> dict[str, Any]:
    parsed = sd_jwt.parse(presentation, expect_kb=True)
    options: dict[str, Any] = {
        "holder_jwk": HOLDER_JWK,
        "nonce": NONCE,
        "aud": AUD,
        "now": NOW,
        "max_age": timedelta(minutes=5),
        "max_future_skew": timedelta(seconds=30),
        "algorithms": ["ES256", "EdDSA"],
    }
    options.update(policy)
    return kb_jwt.verify_kb_jwt(parsed, **options)


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(DuoError) as caught:
        call()
    return caught.value.code


def test_created_kb_jwt_verifies_and_has_the_rfc_shape() -> None:
    """SDJ-6: typ kb+jwt; iat, aud (one string), nonce, sd_hash; nothing else."""
    token = kb()
    parsed = jose.parse_compact(token)
    assert parsed.header == {"typ": "kb+jwt", "alg": "ES256"}
    assert set(parsed.payload) == {"iat", "aud", "nonce", "sd_hash"}
    assert check(PRESENTED + token) == parsed.payload


def test_sd_hash_is_over_the_presented_sd_jwt_with_sd_alg() -> None:
    """§4.3.1: base64url(H(<JWT>~<D..>~)) with the ``_sd_alg`` hash."""
    expected = jose.b64url_encode(hashlib.sha256(PRESENTED.encode("ascii")).digest())
    assert jose.parse_compact(kb()).payload["sd_hash"] == expected
    presented = present(issue("sha-384"), ["given_name"])
    payload = jose.parse_compact(kb(presented)).payload
    assert len(jose.b64url_decode(payload["sd_hash"])) == 48
    assert check(presented + kb(presented))["sd_hash"] == disclosure.b64_hash(presented, "sha-384")


def test_kb_jwt_over_no_disclosures() -> None:
    presented = present(SD_JWT, [])
    assert presented.count("~") == 1
    assert check(presented + kb(presented))["nonce"] == NONCE


def test_eddsa_holder_key() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    token = kb(signer=jose.private_key_signer(key, "EdDSA"), alg="EdDSA")
    assert check(PRESENTED + token, holder_jwk=jose.public_jwk(key))["aud"] == AUD


def test_missing_kb_jwt_is_rejected() -> None:
    """SPECS §8 item 71: binding required and no KB-JWT -> reject (§7.3 step 2)."""
    assert code_of(lambda: check(PRESENTED)) == "kb_jwt_missing"
    parsed = sd_jwt.parse(PRESENTED, expect_kb=False)
    verify = lambda: kb_jwt.verify_kb_jwt(  # noqa: E731
        parsed,
        holder_jwk=HOLDER_JWK,
        nonce=NONCE,
        aud=AUD,
        now=NOW,
        max_age=timedelta(minutes=5),
        max_future_skew=timedelta(0),
        algorithms=["ES256"],
    )
    assert code_of(verify) == "kb_jwt_missing"


@pytest.mark.parametrize(
    "header",
    [
        {"typ": "JWT", "alg": "ES256"},
        {"alg": "ES256"},
        {"typ": "KB+JWT", "alg": "ES256"},
        {"typ": "dc+sd-jwt", "alg": "ES256"},
    ],
)
def test_wrong_typ_is_rejected(header: dict[str, Any]) -> None:
    """SPECS §8 item 72 / §7.3 step 5.4: ``typ`` must be ``kb+jwt``."""
    assert code_of(lambda: check(PRESENTED + forge(header))) == "kb_jwt_typ_invalid"


def test_alg_none_is_rejected() -> None:
    """SPECS §8 item 72 / §7.3 step 5.2: alg none -> reject, even if the policy lists it."""
    header = jose.b64url_encode(b'{"typ":"kb+jwt","alg":"none"}')
    body = jose.parse_compact(kb()).raw.split(".")[1]
    unsigned = f"{header}.{body}."
    check_none = lambda: check(PRESENTED + unsigned, algorithms=["ES256", "none"])  # noqa: E731
    assert code_of(check_none) == "kb_jwt_alg_invalid"


def test_alg_outside_the_policy_is_rejected() -> None:
    forged = forge({"typ": "kb+jwt", "alg": "HS256"})
    assert code_of(lambda: check(PRESENTED + forged, algorithms=["HS256"])) == "kb_jwt_alg_invalid"
    assert code_of(lambda: check(PRESENTED + kb(), algorithms=["EdDSA"])) == "kb_jwt_alg_invalid"


def test_bad_signature_is_rejected() -> None:
    """SPECS §8 item 73: a corrupted KB-JWT signature -> reject (§7.3 step 5.3)."""
    head, body, signature = kb().split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    bad = f"{head}.{body}.{flipped}"
    assert code_of(lambda: check(PRESENTED + bad)) == "kb_jwt_signature_invalid"


def test_kb_jwt_signed_by_a_key_other_than_cnf_is_rejected() -> None:
    """SPECS §8 item 73: signed by a key != ``cnf`` -> reject (§7.3 step 5.1)."""
    stranger = jose.private_key_signer(ec.generate_private_key(ec.SECP256R1()), "ES256")
    assert code_of(lambda: check(PRESENTED + kb(signer=stranger))) == "kb_jwt_signature_invalid"


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "oct", "k": "c2VjcmV0"},
        {**HOLDER_JWK, "d": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        "not a jwk",
    ],
)
def test_unusable_holder_key_is_rejected(jwk: Any) -> None:
    assert code_of(lambda: check(PRESENTED + kb(), holder_jwk=jwk)) == "holder_key_invalid"


@pytest.mark.parametrize(
    "iat",
    [
        IAT - 365 * 24 * 3600,  # SPECS §8 item 77: a year in the past
        IAT + 365 * 24 * 3600,  # SPECS §8 item 77: a year in the future
        IAT - 301,
        IAT + 31,
        None,
        "1700000000",
        True,
    ],
)
def test_iat_outside_the_window_is_rejected(iat: Any) -> None:
    """SPECS §8 item 77 / §7.3 step 5.5: ``iat`` within [now - max_age, now + skew]."""
    assert code_of(lambda: check(PRESENTED + forge(iat=iat))) == "kb_jwt_iat_invalid"


@pytest.mark.parametrize("iat", [IAT - 300, IAT, IAT + 30, float(IAT) + 0.5])
def test_iat_inside_the_window_is_accepted(iat: float) -> None:
    assert check(PRESENTED + forge(iat=iat))["iat"] == iat


@pytest.mark.parametrize("nonce", ["another-nonce", NONCE + " ", None, 12345, [NONCE]])
def test_nonce_mismatch_is_rejected(nonce: Any) -> None:
    """SPECS §8 item 74 / §7.3 step 5.6: ``nonce`` must equal the request nonce."""
    assert code_of(lambda: check(PRESENTED + forge(nonce=nonce))) == "kb_jwt_nonce_mismatch"


@pytest.mark.parametrize(
    "aud",
    [
        "verifier.example",  # the client_id prefix dropped
        "x509_san_dns:other.example",  # another verifier
        [AUD],  # §4.3: a single string, never an array
        None,
    ],
)
def test_aud_mismatch_is_rejected(aud: Any) -> None:
    """SPECS §8 item 76 / §7.3 step 5.6: ``aud`` must equal the full client_id."""
    assert code_of(lambda: check(PRESENTED + forge(aud=aud))) == "kb_jwt_aud_mismatch"


def test_expired_kb_jwt_is_rejected() -> None:
    """§7.3 step 5.8: an optional ``exp`` is honoured (RFC 7519 §4.1.4)."""
    assert check(PRESENTED + forge(exp=IAT + 60))["exp"] == IAT + 60
    assert code_of(lambda: check(PRESENTED + forge(exp=IAT - 1))) == "kb_jwt_expired"
    assert code_of(lambda: check(PRESENTED + forge(exp="later"))) == "kb_jwt_expired"


def _disclosures(compact: str) -> tuple[str, list[str]]:
    head, *rest = compact.split("~")
    return head, rest[:-1]


def test_sd_hash_mismatch_when_disclosures_change() -> None:
    """SPECS §8 item 78 / §7.3 step 5.7: a Disclosure added, removed or reordered -> reject."""
    token = kb()
    head, shown = _disclosures(PRESENTED)
    _, every = _disclosures(SD_JWT)
    added = sd_jwt_issuance.serialize(head, [*shown, next(d for d in every if d not in shown)])
    removed = sd_jwt_issuance.serialize(head, shown[:1])
    reordered = sd_jwt_issuance.serialize(head, list(reversed(shown)))
    for presentation in (added, removed, reordered):
        with pytest.raises(DuoError) as caught:
            check(presentation + token)
        assert caught.value.code == "kb_jwt_sd_hash_mismatch"


@pytest.mark.parametrize("value", [None, "", 5, kb_jwt.sd_hash(PRESENTED, "sha-512")])
def test_missing_or_wrong_sd_hash_is_rejected(value: Any) -> None:
    assert code_of(lambda: check(PRESENTED + forge(sd_hash=value))) == "kb_jwt_sd_hash_mismatch"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        check(PRESENTED + kb(), now=NOW.replace(tzinfo=None))


def test_create_refuses_bad_inputs() -> None:
    """§4.3: alg never none; aud a single string; the input is an SD-JWT without a KB-JWT."""
    with pytest.raises(ValueError):
        kb(alg="none")
    with pytest.raises(ValueError):
        kb(aud=[AUD])
    assert code_of(lambda: kb(PRESENTED + kb())) == "kb_jwt_unexpected"


def test_cnf_jwk_lookup() -> None:
    assert kb_jwt.cnf_jwk({"cnf": {"jwk": HOLDER_JWK}}) == HOLDER_JWK
    for claims in ({}, {"cnf": "x"}, {"cnf": {"kid": "k"}}):
        with pytest.raises(DuoError) as caught:
            kb_jwt.cnf_jwk(claims)
        assert caught.value.code == "cnf_jwk_missing"
