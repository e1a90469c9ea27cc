"""``verifier.verify.verify``: format dispatch, input caps, holder-binding notes and status.

SPECS §8 items 79-81 (IETF Token Status List, TSL §8.3), 86 (W3C Bitstring Status List §3.2) and
87 (VC-JOSE-COSE §3.1.3, §4.1.2), plus the promise that any text gives a Verdict, never an
exception. Status lists and list credentials are signed with DUO's real status-list key, so a
rejected list is rejected by the check under test.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from conftest import (
    BOUND,
    ISSUER,
    NOW,
    Duo,
    ForeignPki,
    check_of,
    expect,
    expect_valid,
    policy,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.status_lists import BITS, LIST_SIZE
from verifier import bitstring_status_list as bsl
from verifier import jose
from verifier.errors import InvalidCredential
from verifier.status_check import FetchedList, StatusSource
from verifier.token_status_list import StatusReference, build_status_list_token
from verifier.vc_jose import sign_vc_jwt
from verifier.verdict import Verdict
from verifier.verify import MAX_INPUT_BYTES, verify

T0 = int(NOW.timestamp())
W3C_LIST = f"{ISSUER}/status/w3c/1"
NO_BINDING = policy(nonce=None, audience=None)


def _flip(token: str, index: int = 10) -> str:
    """The JWS with one byte of its signature changed."""
    head, body, signature = token.split(".")
    raw = bytearray(jose.b64url_decode(signature))
    raw[index] ^= 0x01
    return f"{head}.{body}.{jose.b64url_encode(bytes(raw))}"


def _b64json(value: Any) -> str:
    return jose.b64url_encode(json.dumps(value).encode())


# --- format dispatch ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["vc+jwt", "jwt_vc_json"])
def test_vcdm_formats_verify_and_report_their_format(duo: Duo, fmt: str) -> None:
    """Each of the three formats (SD-JWT VC is in test_sd_jwt_vc.py) is told and verified."""
    verdict = duo.verify(duo.issue_vcdm(fmt))
    expect_valid(verdict)
    assert verdict.format == fmt
    binding = check_of(verdict, "holder_binding")
    assert (binding.outcome, binding.code) == ("not_proven", "holder_binding_missing")


def test_sd_jwt_vc_reports_its_format(duo: Duo) -> None:
    verdict = duo.verify(duo.issue(status="valid"))
    expect_valid(verdict)
    assert verdict.format == "dc+sd-jwt"
    assert [c.name for c in verdict.checks] == [
        "format",
        "issuer_trust",
        "signature",
        "disclosures",
        "claims",
        "validity_period",
        "type_metadata",
        "holder_binding",
        "status",
    ]


@pytest.mark.parametrize("fmt", ["vc+jwt", "jwt_vc_json"])
def test_vcdm_credential_cannot_satisfy_required_binding(duo: Duo, fmt: str) -> None:
    """SPECS §4 verification step 8: a VCDM credential on its own proves no holder."""
    text = duo.issue_vcdm(fmt, bound=True)
    expect(duo.verify(text, BOUND), "invalid", "holder_binding", "holder_binding_missing")


def test_issuer_jwt_without_its_tilde_is_an_sd_jwt_error(duo: Duo) -> None:
    """SPECS SDJ-1: an issuer JWT alone (no ``~``) is told by its typ and refused as SD-JWT."""
    verdict = duo.verify(duo.issue().partition("~")[0])
    expect(verdict, "invalid", "format", "sd_jwt_malformed")
    assert verdict.format == "dc+sd-jwt"


def test_formats_are_never_mixed(duo: Duo) -> None:
    """SPECS JWTVC / JOSE-1: a vc+jwt given as SD-JWT, or a jwt_vc_json relabelled vc+jwt."""
    expect(duo.verify(duo.issue_vcdm("vc+jwt") + "~"), "invalid", "format", "sd_jwt_vc_typ_invalid")
    v11 = duo.issue_vcdm("jwt_vc_json")

    def relabel(header: dict[str, Any], _: dict[str, Any]) -> None:
        header["typ"] = "vc+jwt"

    expect(duo.verify(duo.resign(v11, relabel)), "invalid", "format", "vc_claim_forbidden")


def test_naive_now_is_a_programming_error(duo: Duo) -> None:
    with pytest.raises(ValueError, match="timezone"):
        verify("x", trust=duo.trust, policy=policy(), now=NOW.replace(tzinfo=None))


# --- holder binding notes ------------------------------------------------------------------------


def test_binding_not_required_and_not_presented_is_not_proven(duo: Duo) -> None:
    """SPECS §4 verification step 7: valid, with holder binding ``not_proven``."""
    verdict = duo.verify(duo.issue(), NO_BINDING)
    expect_valid(verdict)
    binding = check_of(verdict, "holder_binding")
    assert (binding.outcome, binding.code) == ("not_proven", "kb_jwt_missing")


def test_kb_jwt_without_nonce_and_audience_is_not_proven(duo: Duo) -> None:
    """A KB-JWT that the relying party gives nothing to check against proves nothing."""
    verdict = duo.verify(duo.present(duo.issue()), NO_BINDING)
    expect_valid(verdict)
    binding = check_of(verdict, "holder_binding")
    assert (binding.outcome, binding.code) == ("not_proven", "holder_binding_context_missing")


def test_presented_kb_jwt_is_checked_even_when_not_required(duo: Duo) -> None:
    """A KB-JWT that is there and checkable is checked: a wrong one never passes silently."""
    presentation = duo.present(duo.issue(), nonce="someone-else's-nonce")
    verdict = duo.verify(presentation, policy())
    expect(verdict, "invalid", "holder_binding", "kb_jwt_nonce_mismatch")
    expect_valid(duo.verify(duo.present(duo.issue()), policy()))


# --- input caps and garbage ---------------------------------------------------------------------


def test_input_over_256_kib_is_rejected_unread(duo: Duo) -> None:
    """DESIGN §7: a size cap before any parsing, whatever the format looks like."""
    for text in ("a" * (MAX_INPUT_BYTES + 1), duo.issue() + "A" * MAX_INPUT_BYTES + "~"):
        verdict = duo.verify(text)
        expect(verdict, "invalid", "format", "input_too_large")
        assert verdict.format == "unknown"
    expect(duo.verify("a" * MAX_INPUT_BYTES), "invalid", "format", "format_unknown")


def _nested(depth: int) -> dict[str, Any]:
    """A payload whose JSON nests ``depth`` levels, the payload object itself included."""
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return {"deep": value}


@pytest.mark.parametrize("as_sd_jwt", [True, False])
def test_json_nested_33_deep_is_rejected(duo: Duo, as_sd_jwt: bool) -> None:
    """strict_json: 32 levels at most, in the issuer JWT of an SD-JWT and in a plain JWS."""
    payload = {**duo.registered_claims(), **_nested(33)}
    text = duo.sign(duo.header(), payload) + ("~" if as_sd_jwt else "")
    expect(duo.verify(text), "invalid", "format", "json_too_deep")
    ok = {**duo.registered_claims(), **_nested(32)}
    expect_valid(duo.verify(duo.sign(duo.header(), ok) + "~"))


@pytest.mark.parametrize("as_sd_jwt", [True, False])
def test_duplicate_key_in_the_header_is_rejected(duo: Duo, as_sd_jwt: bool) -> None:
    """RFC 7515 §4 / RFC 9901 §7.1: a repeated member name, here ``alg``, in the JOSE header."""
    header = duo.header()
    text = json.dumps(header)[:-1] + ', "alg": "ES256"}'
    head = jose.b64url_encode(text.encode())
    body = _b64json(duo.registered_claims())
    signature = jose.b64url_encode(duo.keys.signing_key("issuer").sign(f"{head}.{body}".encode()))
    token = f"{head}.{body}.{signature}" + ("~" if as_sd_jwt else "")
    expect(duo.verify(token), "invalid", "format", "json_duplicate_key")


def test_duplicate_key_in_a_disclosure_is_rejected(duo: Duo) -> None:
    raw = jose.b64url_encode(b'["c2FsdC0xMjM0NTY3ODkwYWI", "given_name", {"a": 1, "a": 2}]')
    expect(duo.verify(duo.issue() + raw + "~"), "invalid", "format", "json_duplicate_key")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "format_unknown"),
        ("not a credential", "format_unknown"),
        ("a.b", "format_unknown"),
        ("a.b.c", "format_unknown"),
        ("e30.e30.", "format_unknown"),  # {} header: no alg
        ("~", "sd_jwt_malformed"),
        ("~~~", "sd_jwt_malformed"),
        ("a.b.c~", "sd_jwt_malformed"),
        ("e30.e30.~", "sd_jwt_malformed"),
        ("ëyJ.e30.~", "sd_jwt_malformed"),
        ("W10.e30.", "format_unknown"),  # [] header
        (_b64json({"alg": "ES256"}) + ".bnVsbA.", "format_unknown"),  # null payload
    ],
)
def test_garbage_is_an_invalid_format_verdict(duo: Duo, text: str, code: str) -> None:
    expect(duo.verify(text), "invalid", "format", code)


def _verdict_or_crash(duo: Duo, text: str) -> Verdict:
    verdict = duo.verify(text, BOUND)
    assert verdict.outcome in {"valid", "invalid", "undetermined"}
    if verdict.outcome == "invalid":
        assert dict(verdict.claims) == {}
    return verdict


def _decoded(text: str) -> list[bytes | str]:
    """Every base64url segment of an SD-JWT+KB decoded (the rest kept as text)."""
    parts: list[bytes | str] = []
    for segment in (s for piece in text.split("~") for s in piece.split(".")):
        try:
            parts.append(jose.b64url_decode(segment))
        except InvalidCredential:
            parts.append(segment)
    return parts


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_gives_a_verdict(duo: Duo, text: str) -> None:
    """verify() turns arbitrary input into a Verdict and never raises."""
    assert _verdict_or_crash(duo, text).outcome == "invalid"


@settings(max_examples=150, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=10**6),
    replacement=st.sampled_from(["", "~", ".", "A", "_", "-", "=", "é", "e30", "~~"]),
)
def test_damaged_presentation_gives_a_verdict(
    duo: Duo, presentation: str, position: int, replacement: str
) -> None:
    """One character of a genuine SD-JWT+KB replaced: never a crash, never ``valid``.

    The one exception is a signature's last character whose unused low bits changed: the same
    signature bytes in non-canonical base64url, which jose.b64url_decode accepts.
    """
    at = position % len(presentation)
    damaged = presentation[:at] + replacement + presentation[at + 1 :]
    if damaged != presentation and _verdict_or_crash(duo, damaged).outcome == "valid":
        assert _decoded(damaged) == _decoded(presentation)


@pytest.fixture(scope="module")
def presentation(duo: Duo) -> str:
    return duo.present(duo.issue(status="valid"))


# --- Token Status List: items 79-81 --------------------------------------------------------------


def test_valid_status_passes(duo: Duo) -> None:
    verdict = duo.verify(duo.issue(status="valid"))
    expect_valid(verdict)
    assert check_of(verdict, "status").outcome == "passed"


@pytest.mark.parametrize(
    ("status", "code"), [("revoked", "credential_revoked"), ("suspended", "credential_suspended")]
)
def test_revoked_and_suspended_credentials_are_rejected(duo: Duo, status: str, code: str) -> None:
    """SPECS §8 item 79: status 1 (INVALID) and 2 (SUSPENDED), also inside a presentation."""
    expect(duo.verify(duo.issue(status=status)), "invalid", "status", code)
    presented = duo.present(duo.issue(status=status))
    expect(duo.verify(presented, BOUND), "invalid", "status", code)


def test_suspended_is_accepted_when_the_policy_says_so(duo: Duo) -> None:
    """SPECS §8 item 79: value 2 rejects per policy; revoked stays rejected."""
    lenient = policy(accept_suspended=True)
    expect_valid(duo.verify(duo.issue(status="suspended"), lenient))
    expect(
        duo.verify(duo.issue(status="revoked"), lenient), "invalid", "status", "credential_revoked"
    )


def _resigned_list(duo: Duo, **changes: Any) -> str:
    def mutate(header: dict[str, Any], payload: dict[str, Any]) -> None:
        for name, value in changes.items():
            target = header if name == "typ" else payload
            target[name] = value

    return duo.resign(duo.status_token(), mutate, purpose="status_list")


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda duo: _flip(duo.status_token()), "status_list_signature_invalid"),
        (lambda duo: _resigned_list(duo, typ="JWT"), "status_list_typ_invalid"),
        (lambda duo: _resigned_list(duo, sub=f"{ISSUER}/status/2"), "status_list_sub_mismatch"),
        (lambda duo: _resigned_list(duo, exp=T0 - 1), "status_list_expired"),
        (lambda duo: _resigned_list(duo, exp=T0), "status_list_expired"),
        (lambda duo: _resigned_list(duo, nbf=T0 + 3600), "status_list_not_yet_valid"),
        (
            lambda duo: _resigned_list(duo, status_list={"bits": 3, "lst": ""}),
            "status_list_malformed",
        ),
        (lambda duo: duo.status_token().split(".")[0], "status_list_malformed"),
    ],
)
def test_unacceptable_status_list_leaves_status_undetermined(
    duo: Duo, make: Any, code: str
) -> None:
    """SPECS §8 item 80: the list is rejected; that proves nothing about the credential."""
    trust = duo.with_status_list(make(duo))
    expect(duo.verify(duo.issue(status="revoked"), trust=trust), "undetermined", "status", code)


def test_status_list_signed_by_an_untrusted_key_is_undetermined(
    duo: Duo, foreign: ForeignPki
) -> None:
    """SPECS §8 item 80: a list whose x5c does not chain to the anchor."""
    jws = jose.parse_compact(duo.status_token())
    header = {**jws.header, "x5c": foreign.x5c}
    trust = duo.with_status_list(foreign.sign(header, jws.payload))
    expect(
        duo.verify(duo.issue(status="valid"), trust=trust),
        "undetermined",
        "status",
        "x5c_untrusted",
    )


def test_stale_snapshot_is_undetermined(duo: Duo) -> None:
    """SPECS §8 item 80 / docs/trust-bundle.md: a snapshot past its exp never says valid."""
    later = NOW + timedelta(days=8)
    verdict = duo.verify(duo.issue(status="valid"), now=later)
    expect(verdict, "undetermined", "status", "status_list_expired")


def test_missing_status_list_is_undetermined(duo: Duo) -> None:
    """SPECS §8 item 80: no snapshot for the referenced URI."""
    verdict = duo.verify(duo.issue(status="revoked"), trust=duo.with_status_list(None))
    expect(verdict, "undetermined", "status", "status_list_unavailable")


def _served(token: str, content_type: str) -> StatusSource:
    return lambda _uri: FetchedList(token, content_type)


def test_wrong_content_type_is_undetermined(duo: Duo) -> None:
    """SPECS §8 item 80 / TSL §8.2: a fetched list must be application/statuslist+jwt."""
    token, text = duo.status_token(), duo.issue(status="valid")

    def fetched_as(content_type: str) -> Verdict:
        source = _served(token, content_type)
        return verify(text, trust=duo.trust, policy=policy(), now=NOW, status_source=source)

    expect_valid(fetched_as("application/statuslist+jwt"))
    for content_type in ("application/json", "text/plain", "application/jwt"):
        verdict = fetched_as(content_type)
        expect(verdict, "undetermined", "status", "status_list_content_type_invalid")


def _status_list(duo: Duo, values: dict[int, int]) -> str:
    """A genuine statuslist+jwt for the bundle's URI with ``values`` set (2 bits, TSL §4.1)."""
    key = duo.keys.signing_key("status_list")
    statuses = [0] * LIST_SIZE
    for idx, value in values.items():
        statuses[idx] = value
    return build_status_list_token(
        statuses,
        BITS,
        uri=duo.registry.uri,
        iat=T0,
        exp=T0 + 3600,
        ttl=600,
        signer=key.sign,
        alg=key.record.alg,
        x5c=list(key.record.x5c),
    )


@pytest.mark.parametrize("idx", [LIST_SIZE, LIST_SIZE + 7, 2**40])
def test_index_beyond_the_list_is_rejected(duo: Duo, idx: int) -> None:
    """SPECS §8 item 81 (TSL §8.3 step 6 MUST): a definite no, not undetermined."""
    text = duo.issue(status=StatusReference(idx, duo.registry.uri))
    expect(duo.verify(text), "invalid", "status", "status_index_out_of_range")


def test_first_and_last_index_of_the_list_are_read(duo: Duo) -> None:
    """TSL §4.1: entries are packed from the least significant bit, up to the very last one."""
    trust = duo.with_status_list(_status_list(duo, {0: 2, LIST_SIZE - 1: 1}))
    for idx, code in ((0, "credential_suspended"), (LIST_SIZE - 1, "credential_revoked")):
        text = duo.issue(status=StatusReference(idx, duo.registry.uri))
        expect(duo.verify(text, trust=trust), "invalid", "status", code)
    expect_valid(duo.verify(duo.issue(status=StatusReference(1, duo.registry.uri)), trust=trust))


@pytest.mark.parametrize("reference", [{"idx": -1, "uri": "x:y"}, {"idx": "5", "uri": "x:y"}, {}])
def test_malformed_status_reference_is_rejected(duo: Duo, reference: dict[str, Any]) -> None:
    """SPECS TSL-3: ``status.status_list`` is ``{idx: integer >= 0, uri}``."""
    text = duo.issue(status=None)

    def set_status(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["status"] = {"status_list": {**reference}}

    verdict = duo.verify(duo.resign(text, set_status))
    expect(verdict, "invalid", "status", "status_reference_malformed")


def test_application_specific_status_is_undetermined(duo: Duo) -> None:
    """TSL §7.1: value 3 has no agreed meaning, so the credential is neither valid nor revoked."""
    text = duo.issue(status=StatusReference(5, duo.registry.uri))
    verdict = duo.verify(text, trust=duo.with_status_list(_status_list(duo, {5: 3})))
    expect(verdict, "undetermined", "status", "status_unrecognized")


# --- W3C Bitstring Status List through verify(): item 86 -----------------------------------------


def _w3c_credential(duo: Duo, entry: dict[str, Any] | None) -> str:
    """A small VCDM 2.0 credential as vc+jwt, signed with DUO's issuer key."""
    document: dict[str, Any] = {
        "@context": [bsl.VC_CONTEXT],
        "id": "urn:uuid:6a3c1c2e-0d5c-4b8e-9a55-6c7d7d1f0a01",
        "type": ["VerifiableCredential"],
        "issuer": {"id": ISSUER},
        "validFrom": "2026-03-01T12:00:00Z",
        "credentialSubject": {"name": "Sanne Johanna van der Berg"},
    }
    if entry is not None:
        document["credentialStatus"] = entry
    key = duo.keys.signing_key("issuer")
    record = key.record
    return sign_vc_jwt(
        document, signer=key.sign, alg=record.alg, x5c=list(record.x5c), kid=record.kid, iat=T0
    )


def _list_credential(duo: Duo, encoded: str, purpose: str = "revocation") -> str:
    subject = bsl.status_list_credential_subject(
        list_url=W3C_LIST, purpose=purpose, encoded_list=encoded
    )
    document = bsl.build_status_list_credential(
        list_url=W3C_LIST, issuer=ISSUER, subject=subject, valid_from=NOW
    )
    key = duo.keys.signing_key("status_list")
    return sign_vc_jwt(
        document, signer=key.sign, alg=key.record.alg, x5c=list(key.record.x5c), kid=None
    )


def _w3c(
    duo: Duo,
    *,
    index: int = 5,
    purpose: str = "revocation",
    set_bits: tuple[int, ...] = (),
    list_purpose: str | None = None,
    encoded: str | None = None,
    listed: bool = True,
    pol: Any = None,
) -> Verdict:
    entry = bsl.build_status_entry(purpose=purpose, index=index, list_url=W3C_LIST)
    bits = bsl.encode_bitstring(set_bits) if encoded is None else encoded
    lists = {W3C_LIST: _list_credential(duo, bits, list_purpose or purpose)} if listed else {}
    trust = replace(duo.trust, status_lists=lists)
    return duo.verify(_w3c_credential(duo, entry), pol or NO_BINDING, trust=trust)


def test_w3c_status_bit_clear_is_valid(duo: Duo) -> None:
    verdict = _w3c(duo, set_bits=(4, 6))
    expect_valid(verdict)
    assert check_of(verdict, "status").outcome == "passed"
    assert verdict.format == "vc+jwt"


def test_w3c_revoked_bit_is_rejected(duo: Duo) -> None:
    """SPECS §8 item 86 / BSL-2: index 0 is the left-most bit; bit 5 set revokes index 5."""
    expect(_w3c(duo, set_bits=(5,)), "invalid", "status", "credential_revoked")


def test_w3c_suspension_bit_follows_the_policy(duo: Duo) -> None:
    """SPECS §8 items 79/86: a suspension purpose rejects unless the policy accepts it."""
    expect(
        _w3c(duo, purpose="suspension", set_bits=(5,)), "invalid", "status", "credential_suspended"
    )
    lenient = replace(NO_BINDING, accept_suspended=True)
    expect_valid(_w3c(duo, purpose="suspension", set_bits=(5,), pol=lenient))


def test_w3c_list_shorter_than_131072_entries(duo: Duo) -> None:
    """SPECS §8 item 86 / BSL-3: STATUS_LIST_LENGTH_ERROR; the list is rejected (undetermined)."""
    short = "u" + jose.b64url_encode(gzip.compress(bytes(1024), mtime=0))
    expect(_w3c(duo, encoded=short), "undetermined", "status", "STATUS_LIST_LENGTH_ERROR")


def test_w3c_purpose_mismatch(duo: Duo) -> None:
    """SPECS §8 item 86 / BSL-3: STATUS_VERIFICATION_ERROR when the list is for another purpose."""
    verdict = _w3c(duo, purpose="suspension", list_purpose="revocation", set_bits=(5,))
    expect(verdict, "undetermined", "status", "STATUS_VERIFICATION_ERROR")


def test_w3c_missing_list(duo: Duo) -> None:
    """SPECS §8 item 86 / BSL-3: STATUS_RETRIEVAL_ERROR, undetermined."""
    expect(_w3c(duo, listed=False), "undetermined", "status", "STATUS_RETRIEVAL_ERROR")


@pytest.mark.parametrize("index", [bsl.MIN_ENTRIES, bsl.MIN_ENTRIES * 8])
def test_w3c_index_out_of_range(duo: Duo, index: int) -> None:
    """SPECS §8 item 86 / BSL-3: RANGE_ERROR is a definite no."""
    expect(_w3c(duo, index=index), "invalid", "status", "RANGE_ERROR")


def test_w3c_list_signed_by_an_untrusted_key(duo: Duo, foreign: ForeignPki) -> None:
    """BSL-3: a list whose proof fails leaves the status undetermined."""
    good = _list_credential(duo, bsl.encode_bitstring((5,)))
    jws = jose.parse_compact(good)
    forged = foreign.sign({**jws.header, "x5c": foreign.x5c}, jws.payload)
    entry = bsl.build_status_entry(purpose="revocation", index=5, list_url=W3C_LIST)
    trust = replace(duo.trust, status_lists={W3C_LIST: forged})
    verdict = duo.verify(_w3c_credential(duo, entry), NO_BINDING, trust=trust)
    expect(verdict, "undetermined", "status", "x5c_untrusted")


# --- VC-JOSE-COSE: item 87 -----------------------------------------------------------------------


def _vc_jwt_payload(duo: Duo) -> dict[str, Any]:
    return jose.parse_compact(_w3c_credential(duo, None)).payload


def _vc_jwt_header(duo: Duo) -> dict[str, Any]:
    return duo.header(typ="vc+jwt") | {"cty": "vc"}


@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_vc_jwt_with_a_vc_or_vp_claim_is_rejected(duo: Duo, claim: str) -> None:
    """SPECS §8 item 87 / VC-JOSE-COSE §3.1.3: no vc or vp claim, even a well-formed one."""
    payload = _vc_jwt_payload(duo)
    payload[claim] = {k: v for k, v in payload.items() if k not in {"iss", "iat"}}
    text = duo.sign(_vc_jwt_header(duo), payload)
    expect(duo.verify(text), "invalid", "format", "vc_claim_forbidden")


@pytest.mark.parametrize("iss", ["https://issuer.other.example", "https://issuer.duo.test/"])
def test_vc_jwt_iss_other_than_issuer_is_rejected(duo: Duo, iss: str) -> None:
    """SPECS §8 item 87 / VC-JOSE-COSE §4.1.2: iss must equal issuer.id."""
    payload = {**_vc_jwt_payload(duo), "iss": iss}
    text = duo.sign(_vc_jwt_header(duo), payload)
    expect(duo.verify(text), "invalid", "issuer_trust", "issuer_mismatch")


def test_vc_jwt_tampering_is_rejected_with_its_check(duo: Duo, foreign: ForeignPki) -> None:
    """The VCDM checks are named like the SD-JWT ones: format, issuer_trust, signature, validity."""
    text = _w3c_credential(duo, None)
    expect(duo.verify(_flip(text)), "invalid", "signature", "signature_invalid")
    jws = jose.parse_compact(text)
    unsigned = f"{_b64json({**jws.header, 'alg': 'none'})}.{text.split('.')[1]}."
    expect(duo.verify(unsigned), "invalid", "format", "alg_not_allowed")
    forged = foreign.sign({**jws.header, "x5c": foreign.x5c}, jws.payload)
    expect(duo.verify(forged), "invalid", "issuer_trust", "x5c_untrusted")
    until = duo.sign(jws.header, {**jws.payload, "validUntil": "2026-03-02T12:00:00Z"})
    expect_valid(duo.verify(until, now=NOW + timedelta(days=1)))
    later = NOW + timedelta(days=1, seconds=1)
    expect(duo.verify(until, now=later), "invalid", "validity_period", "expired")


def test_jwt_vc_json_iss_other_than_vc_issuer_is_rejected(duo: Duo) -> None:
    """SPECS JWTVC: in VCDM 1.1 JWTs, iss represents vc.issuer."""
    text = duo.issue_vcdm("jwt_vc_json")

    def other_iss(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["iss"] = "https://issuer.other.example"

    expect(duo.verify(duo.resign(text, other_iss)), "invalid", "issuer_trust", "issuer_mismatch")


def test_strict_json_is_used_for_vc_jwt_payloads(duo: Duo) -> None:
    """A vc+jwt whose payload repeats a member name is refused before anything else."""
    head = _b64json(_vc_jwt_header(duo))
    body = jose.b64url_encode(b'{"iss": "https://issuer.duo.test", "iss": "x"}')
    signature = jose.b64url_encode(duo.keys.signing_key("issuer").sign(f"{head}.{body}".encode()))
    expect(duo.verify(f"{head}.{body}.{signature}"), "invalid", "format", "json_duplicate_key")
