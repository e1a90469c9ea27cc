"""Unit tests of the reference holder (verifier.holder): offers, proofs, responses, wallet file.

HTTP is the injected edge: ``ScriptedHttp`` answers from a script and records what was sent.
Everything else is the real code with real keys and real signatures.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.credentials.signing import sign_sd_jwt_vc, sign_vcdm
from schemas import loader
from verifier import jose
from verifier.errors import ProtocolError
from verifier.holder import offer as offers
from verifier.holder.encryption import ResponseEncryption, encrypt_request
from verifier.holder.metadata import ISSUER_WELL_KNOWN, well_known_url
from verifier.holder.oid4vci_client import Oid4vciClient
from verifier.holder.proofs import HolderKey, dpop_proof, htu, key_proof, pkce_challenge
from verifier.holder.responses import Issued, Pending, needs_proof, outcome
from verifier.holder.store import WALLET_FILE, Wallet
from verifier.holder.tokens import parse_token_response
from verifier.holder.transport import MAX_BODY_BYTES, IssuerError, Reply, check_url, send

ISSUER = "http://127.0.0.1:8080"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRE = offers.PRE_AUTHORIZED_GRANT


def code(error: pytest.ExceptionInfo[ProtocolError]) -> str:
    return error.value.code


# --- offers (OpenID4VCI 1.0 §4.1) -------------------------------------------------------------
#: The deep link of OpenID4VCI 1.0 §4.1.2 (its second example), verbatim but for line breaks.
SPEC_DEEP_LINK = (
    "openid-credential-offer://?"
    "credential_offer=%7B%22credential_issuer%22:%22https://credential-issuer.exam"
    "ple.com%22,%22credential_configuration_ids%22:%5B%22org.iso.18013.5.1.mDL%22%"
    "5D,%22grants%22:%7B%22urn:ietf:params:oauth:grant-type:pre-authorized_code%22"
    ":%7B%22pre-authorized_code%22:%22oaKazRN8I0IbtZ0C7JuMn5%22,%22tx_code%22:%7B%"
    "22input_mode%22:%22text%22,%22description%22:%22Please%20enter%20the%20serial"
    "%20number%20of%20your%20physical%20drivers%20license%22%7D%7D%7D%7D"
)


def offer_object(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["diploma_sd_jwt", "diploma_jwt_vc_json"],
        "grants": {PRE: {"pre-authorized_code": "abc", "tx_code": {"length": 6}}},
    }
    base.update(changes)
    return base


def test_spec_deep_link_by_value_parses() -> None:
    """VCI-1, VCI-6: the spec's own by-value deep link; tx_code text mode with a description."""
    kind, text = offers.split_offer_uri(SPEC_DEEP_LINK)
    assert kind == "value"
    offer = offers.load_offer_json(text)
    assert offer.credential_issuer == "https://credential-issuer.example.com"
    assert offer.credential_configuration_ids == ("org.iso.18013.5.1.mDL",)
    assert (
        offer.pre_authorized is not None and offer.pre_authorized.code == "oaKazRN8I0IbtZ0C7JuMn5"
    )
    assert offer.pre_authorized.tx_code == offers.TxCode(
        "text", None, "Please enter the serial number of your physical drivers license"
    )
    assert offer.authorization_code is None


def test_offer_by_reference_and_other_schemes() -> None:
    """VCI-1, VCI-6: by reference; haip-vci:// (HAIP §4.2) reads the same query."""
    target = f"{ISSUER}/offers/xyz"
    for scheme in ("openid-credential-offer://", "haip-vci://"):
        uri = f"{scheme}?credential_offer_uri={quote(target, safe='')}"
        assert offers.split_offer_uri(uri) == ("reference", target)


@pytest.mark.parametrize(
    "uri",
    [
        "openid-credential-offer://?",
        "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=x",
        "openid-credential-offer://?credential_offer_uri=a&credential_offer_uri=b",
        "openid-credential-offer://?credential_offer=" + "x" * 20000,
    ],
)
def test_offer_uri_needs_exactly_one_offer_parameter(uri: str) -> None:
    """VCI-1: exactly one of credential_offer and credential_offer_uri."""
    with pytest.raises(ProtocolError) as error:
        offers.split_offer_uri(uri)
    assert code(error) == "offer_invalid"


def test_offer_defaults_and_unknown_parameters() -> None:
    """VCI-3: input_mode defaults to numeric; unknown parameters are ignored (§4.1.1)."""
    offer = offers.parse_offer(offer_object(extra={"x": 1}))
    assert offer.pre_authorized is not None
    assert offer.pre_authorized.tx_code == offers.TxCode("numeric", 6, None)
    no_pin = offer_object(grants={PRE: {"pre-authorized_code": "abc"}, "authorization_code": {}})
    parsed = offers.parse_offer(no_pin)
    assert parsed.pre_authorized is not None and parsed.pre_authorized.tx_code is None
    assert parsed.authorization_code == offers.AuthorizationCodeGrant(None, None)


@pytest.mark.parametrize(
    "changes",
    [
        {"credential_issuer": None},
        {"credential_configuration_ids": []},
        {"credential_configuration_ids": ["a", "a"]},
        {"credential_configuration_ids": "diploma_sd_jwt"},
        {"grants": []},
        {"grants": {PRE: {"tx_code": {}}}},
        {"grants": {PRE: {"pre-authorized_code": "c", "tx_code": {"input_mode": "emoji"}}}},
        {"grants": {PRE: {"pre-authorized_code": "c", "tx_code": {"length": True}}}},
        {"grants": {PRE: {"pre-authorized_code": "c", "tx_code": {"length": 0}}}},
        {"grants": {PRE: {"pre-authorized_code": "c", "tx_code": {"description": "d" * 301}}}},
        {"grants": {PRE: {"pre-authorized_code": "c", "authorization_server": 5}}},
        {"grants": {"authorization_code": []}},
    ],
)
def test_bad_offers_are_refused(changes: dict[str, Any]) -> None:
    """VCI-2, VCI-3: required members, unique ids, tx_code shape (description <= 300)."""
    with pytest.raises(ProtocolError) as error:
        offers.parse_offer(offer_object(**changes))
    assert code(error) == "offer_invalid"


def test_offer_json_is_parsed_strictly() -> None:
    with pytest.raises(ProtocolError) as error:
        offers.load_offer_json('{"credential_issuer": "a", "credential_issuer": "b"}')
    assert code(error) == "offer_invalid"


def test_tx_code_is_checked_before_sending() -> None:
    """VCI-3: a numeric PIN of the offered length; a typo never costs a try at the issuer."""
    numeric = offers.TxCode("numeric", 6, None)
    assert offers.check_tx_code(numeric, "123456") == "123456"
    assert offers.check_tx_code(offers.TxCode("text", None, None), "ab-12") == "ab-12"
    for wrong in ("12345", "1234567", "12345a", "١٢٣٤٥٦", ""):
        with pytest.raises(ProtocolError) as error:
            offers.check_tx_code(numeric, wrong)
        assert code(error) == "tx_code_invalid"


# --- proofs -----------------------------------------------------------------------------------
def test_key_proof_for_anonymous_pre_authorized_access() -> None:
    """VCI-28: typ, ES256, jwk without d; aud = issuer, iat, nonce; no iss when anonymous."""
    key = HolderKey.generate()
    proof = jose.parse_compact(key_proof(key, audience=ISSUER, nonce="n1", iat=7, client_id=None))
    assert proof.header == {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": key.public_jwk}
    assert "d" not in proof.header["jwk"]
    assert proof.payload == {"aud": ISSUER, "iat": 7, "nonce": "n1"}
    jose.verify_signature(proof, proof.header["jwk"], algorithms={"ES256"})


def test_key_proof_names_the_client_when_there_is_one() -> None:
    """VCI-28: iss = client_id when the client identified itself; no nonce without endpoint."""
    key = HolderKey.generate()
    proof = jose.parse_compact(key_proof(key, audience=ISSUER, nonce=None, iat=7, client_id="w"))
    assert proof.payload == {"aud": ISSUER, "iat": 7, "iss": "w"}


def test_dpop_proof_claims() -> None:
    """RFC 9449 §4.2: typ dpop+jwt, jwk; htu without query/fragment; ath over the token."""
    key = HolderKey.generate()
    url = f"{ISSUER}/credential?x=1#f"
    token = dpop_proof(key, method="POST", url=url, iat=9, jti="j", nonce="srv", access_token="tok")
    proof = jose.parse_compact(token)
    assert proof.header == {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk}
    ath = jose.b64url_encode(hashlib.sha256(b"tok").digest())
    assert proof.payload == {
        "jti": "j", "htm": "POST", "htu": f"{ISSUER}/credential", "iat": 9, "nonce": "srv",
        "ath": ath,
    }  # fmt: skip
    jose.verify_signature(proof, key.public_jwk, algorithms={"ES256"})
    assert htu(ISSUER + "/token") == ISSUER + "/token"
    plain = jose.parse_compact(dpop_proof(key, method="POST", url=url, iat=9, jti="k"))
    assert "nonce" not in plain.payload and "ath" not in plain.payload


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    """VCI-15: RFC 7636 Appendix B's code_verifier and its S256 code_challenge."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    with pytest.raises(ValueError):
        pkce_challenge("short")


def test_holder_key_round_trip_and_refusals() -> None:
    key = HolderKey.generate()
    again = HolderKey.from_jwk(key.private_jwk())
    assert again.thumbprint == key.thumbprint
    assert key.private_jwk()["d"] not in repr(again)
    other = HolderKey.generate().private_jwk()
    mismatched = {**key.private_jwk(), "d": other["d"]}
    for bad in ({**key.private_jwk(), "crv": "P-384"}, key.public_jwk, mismatched, "x"):
        with pytest.raises(ProtocolError) as error:
            HolderKey.from_jwk(bad)
        assert code(error) == "holder_key_invalid"


# --- transport and metadata -------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(status: int, body: Any, **headers: str) -> Answer:
    return Answer(
        status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}
    )


@dataclass
class FakeResponse:
    status_code: int
    body: bytes
    raw_headers: dict[str, str]

    @property
    def headers(self) -> Mapping[str, str]:
        return self.raw_headers

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        for start in range(0, len(self.body), chunk_size):
            yield self.body[start : start + chunk_size]

    def close(self) -> None:
        pass


@dataclass
class ScriptedHttp:
    """The injected HTTP edge: answers in order, remembers every request."""

    answers: list[Answer | Exception]
    sent: list[dict[str, Any]] = field(default_factory=list)

    def request(self, method: str, url: str, **options: Any) -> FakeResponse:
        self.sent.append({"method": method, "url": url, **options})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(answer.status, answer.body, answer.headers)


@pytest.mark.parametrize(
    "url",
    ["https://issuer.example/x", "ftp://127.0.0.1/x", "http://127.0.0.1/x#f", None, "http://[::1"],
)
def test_only_loopback_urls_are_used(url: Any) -> None:
    """The reference holder talks to loopback hosts only; nothing is sent otherwise."""
    http = ScriptedHttp([])
    with pytest.raises(ProtocolError) as error:
        send(http, "GET", url)
    assert code(error) == "url_refused" and http.sent == []
    assert check_url("http://localhost:1/a?b") == "http://localhost:1/a?b"


def test_transport_never_follows_redirects_and_caps_bodies() -> None:
    http = ScriptedHttp([Answer(200, b"x" * (MAX_BODY_BYTES + 1)), OSError("refused")])
    with pytest.raises(ProtocolError) as error:
        send(http, "GET", ISSUER)
    assert code(error) == "response_too_large"
    assert http.sent[0]["allow_redirects"] is False and http.sent[0]["stream"] is True
    with pytest.raises(ProtocolError) as error:
        send(http, "GET", ISSUER)
    assert code(error) == "transport_failed"


def test_well_known_urls_insert_before_the_path() -> None:
    """VCI-8 (§12.2.2): the well-known segment goes between host and path."""
    assert well_known_url(ISSUER, ISSUER_WELL_KNOWN) == f"{ISSUER}{ISSUER_WELL_KNOWN}"
    tenant = well_known_url(f"{ISSUER}/tenant/", ISSUER_WELL_KNOWN)
    assert tenant == f"{ISSUER}{ISSUER_WELL_KNOWN}/tenant"


def test_load_offer_by_reference() -> None:
    """VCI-5: GET the offer URI; 200 application/json; anything else is refused."""
    uri = f"openid-credential-offer://?credential_offer_uri={quote(ISSUER + '/offers/1')}"
    good = json_answer(200, offer_object())
    signed = Answer(200, b"eyJ.e30.", {"Content-Type": "application/jwt"})
    http = ScriptedHttp([good, signed, json_answer(404, {"error": "not_found"})])
    client = Oid4vciClient(http, clock=lambda: NOW)
    assert client.load_offer(uri).credential_configuration_ids[0] == "diploma_sd_jwt"
    assert http.sent[0]["method"] == "GET" and http.sent[0]["url"] == ISSUER + "/offers/1"
    with pytest.raises(ProtocolError) as error:
        client.load_offer(uri)
    assert code(error) == "offer_invalid"
    with pytest.raises(IssuerError) as refused:
        client.load_offer(uri)
    assert refused.value.error == "not_found" and refused.value.status == 404


def test_dpop_nonce_is_retried_once_and_remembered() -> None:
    """RFC 9449 §8 (AS: 400 use_dpop_nonce) and §9 (resource: 401 with a DPoP challenge)."""
    ask = json_answer(400, {"error": "use_dpop_nonce"}, **{"DPoP-Nonce": "n1"})
    ask_rs = Answer(
        401, b"", {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "n2"}
    )
    http = ScriptedHttp([ask, json_answer(200, {}), ask_rs, json_answer(200, {}), ask, ask])
    client = Oid4vciClient(http, clock=lambda: NOW)
    key = HolderKey.generate()
    assert client.send("POST", ISSUER + "/token", dpop_key=key).status == 200
    nonces = [jose.parse_compact(s["headers"]["DPoP"]).payload.get("nonce") for s in http.sent]
    assert nonces == [None, "n1"]
    assert client.send("POST", ISSUER + "/credential", dpop_key=key).status == 200
    assert jose.parse_compact(http.sent[2]["headers"]["DPoP"]).payload["nonce"] == "n1"
    assert jose.parse_compact(http.sent[3]["headers"]["DPoP"]).payload["nonce"] == "n2"
    assert client.send("POST", ISSUER + "/token", dpop_key=key).status == 400  # one retry only
    assert len(http.sent) == 6


def discovery_answers(**server: Any) -> list[Answer | Exception]:
    """Issuer metadata (§12.2.4) and AS metadata (RFC 8414) of a minimal issuer."""
    issuer = {
        "credential_issuer": ISSUER,
        "credential_endpoint": f"{ISSUER}/credential",
        "credential_configurations_supported": {"diploma_sd_jwt": {"format": "dc+sd-jwt"}},
    }
    metadata = {"issuer": ISSUER, "token_endpoint": f"{ISSUER}/token", **server}
    return [json_answer(200, issuer), json_answer(200, metadata)]


def test_token_request_of_the_pre_authorized_grant() -> None:
    """VCI-21 (§6.1): grant_type, pre-authorized_code, tx_code; client authentication headers
    (Appendix E) when configured; without DPoP support at the AS, a Bearer token."""
    offer = offers.parse_offer(offer_object())
    token = json_answer(200, {"access_token": "t", "token_type": "Bearer"})
    http = ScriptedHttp([*discovery_answers(), token])
    client = Oid4vciClient(
        http, clock=lambda: NOW, client_id="w", client_authentication=lambda aud: {"X-A": aud}
    )
    flow = client.pre_authorized(offer, tx_code="123456")
    sent = http.sent[2]
    assert sent["url"] == f"{ISSUER}/token" and sent["headers"]["X-A"] == ISSUER
    assert "DPoP" not in sent["headers"] and flow.dpop_key is None
    assert sent["data"] == {
        "grant_type": PRE, "pre-authorized_code": "abc", "tx_code": "123456", "client_id": "w",
    }  # fmt: skip
    assert flow.client_id == "w" and not flow.token.sender_constrained


def test_a_missing_or_mistyped_pin_is_caught_before_the_token_request() -> None:
    """VCI-21 (§6.1: tx_code MUST be sent when offered); nothing reaches the token endpoint."""
    offer = offers.parse_offer(offer_object())
    for pin, expected in ((None, "tx_code_required"), ("12345", "tx_code_invalid")):
        http = ScriptedHttp(discovery_answers())
        with pytest.raises(ProtocolError) as error:
            Oid4vciClient(http, clock=lambda: NOW).pre_authorized(offer, tx_code=pin)
        assert code(error) == expected and len(http.sent) == 2


def test_metadata_must_name_the_identifier_it_was_fetched_for() -> None:
    """VCI-9 (§12.2.4): credential_issuer identical to the identifier, else unused."""
    wrong = json_answer(200, {"credential_issuer": ISSUER + "/other"})
    with pytest.raises(ProtocolError) as error:
        Oid4vciClient(ScriptedHttp([wrong]), clock=lambda: NOW).discover(ISSUER)
    assert code(error) == "metadata_invalid"
    other_as = [*discovery_answers()[:1], json_answer(200, {"issuer": "http://127.0.0.1:9"})]
    with pytest.raises(ProtocolError) as error:
        Oid4vciClient(ScriptedHttp(other_as), clock=lambda: NOW).discover(ISSUER)
    assert code(error) == "metadata_invalid"


# --- token and credential responses -----------------------------------------------------------
def reply(status: int, body: Any) -> Reply:
    return Reply(status, {"content-type": "application/json"}, json.dumps(body).encode())


def test_token_response_with_and_without_authorization_details() -> None:
    """VCI-18: credential_identifiers per configuration; token_type case-insensitive."""
    plain = parse_token_response(reply(200, {"access_token": "t", "token_type": "bearer"}))
    assert (plain.token_type, plain.authorization_details, plain.sender_constrained) == (
        "Bearer", False, False,
    )  # fmt: skip
    details = [
        {"type": "openid_credential", "credential_configuration_id": "c",
         "credential_identifiers": ["i1", "i2"]},
        {"type": "something_else"},
    ]  # fmt: skip
    token = parse_token_response(
        reply(200, {"access_token": "t", "token_type": "DPoP", "authorization_details": details})
    )
    assert token.identifiers == {"c": ("i1", "i2")} and token.sender_constrained
    assert "t" not in repr(token).replace("identifiers", "")


@pytest.mark.parametrize(
    "status, body",
    [
        (201, {"access_token": "t", "token_type": "Bearer"}),
        (200, {"token_type": "Bearer"}),
        (200, {"access_token": "t", "token_type": "MAC"}),
        (200, {"access_token": "t", "token_type": "Bearer", "authorization_details": []}),
        (200, {"access_token": "t", "token_type": "Bearer", "authorization_details": [
            {"type": "openid_credential", "credential_configuration_id": "c"}]}),
    ],
)  # fmt: skip
def test_bad_token_responses(status: int, body: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_token_response(reply(status, body))
    assert code(error) == "response_malformed"


@pytest.fixture(scope="module")
def keys_and_credentials(duo: Any) -> tuple[list[HolderKey], list[str], str]:
    holders = [HolderKey.generate(), HolderKey.generate()]
    claims = loader.example_claims("diploma")
    sd = [
        sign_sd_jwt_vc("diploma", claims, keys=duo.keys, issuer=ISSUER, holder_jwk=k.public_jwk,
                       status=None, now=NOW)
        for k in holders
    ]  # fmt: skip
    w3c = sign_vcdm("jwt_vc_json", "diploma", claims, keys=duo.keys, issuer=ISSUER,
                    holder_jwk=holders[0].public_jwk, now=NOW)  # fmt: skip
    return holders, sd, w3c


SD_CONFIGURATION = {"format": "dc+sd-jwt"}


def test_credentials_are_matched_to_their_keys(keys_and_credentials: Any) -> None:
    """VCI-31: one credential per proven key, found by cnf.jwk (SD-JWT) or did:jwk (W3C)."""
    holders, sd, w3c = keys_and_credentials
    answer = {"credentials": [{"credential": sd[1]}, {"credential": sd[0]}], "notification_id": "n"}
    issued = outcome(200, answer, "diploma_sd_jwt", SD_CONFIGURATION, list(holders))
    assert isinstance(issued, list)
    assert [i.key for i in issued] == [holders[1], holders[0]]
    assert issued[0] == Issued(sd[1], "diploma_sd_jwt", "dc+sd-jwt", holders[1], "n")
    vc = outcome(200, {"credentials": [{"credential": w3c}]}, "diploma_jwt_vc_json",
                 {"format": "jwt_vc_json"}, [holders[0]])  # fmt: skip
    assert isinstance(vc, list) and vc[0].key == holders[0] and vc[0].notification_id is None


@pytest.mark.parametrize("case", ["other_key", "twice", "with_kb", "not_a_string"])
def test_credentials_not_bound_to_a_proven_key_are_refused(
    keys_and_credentials: Any, case: str
) -> None:
    """VCI-31 and SPECS §4 step 10: each key binds at most one credential; no SD-JWT+KB."""
    holders, sd, _ = keys_and_credentials
    items = {
        "other_key": [{"credential": sd[1]}],
        "twice": [{"credential": sd[0]}, {"credential": sd[0]}],
        "with_kb": [{"credential": sd[0] + "eyJ.e30.sig"}],
        "not_a_string": [{"credential": {"x": 1}}],
    }[case]
    with pytest.raises(ProtocolError) as error:
        outcome(200, {"credentials": items}, "c", SD_CONFIGURATION, [holders[0]])
    expected = "response_malformed" if case == "not_a_string" else "credential_not_bound"
    assert code(error) == expected


def test_deferred_and_malformed_credential_responses() -> None:
    """VCI-31: 202 transaction_id + interval, never mixed with credentials."""
    key = HolderKey.generate()
    pending = outcome(202, {"transaction_id": "t", "interval": 5}, "c", SD_CONFIGURATION, [key])
    assert pending == Pending("t", 5, "c", (key,))
    cases: list[tuple[int, dict[str, Any]]] = [
        (202, {"transaction_id": "t"}),
        (202, {"transaction_id": "t", "interval": 0}),
        (202, {"transaction_id": "t", "interval": 5, "credentials": []}),
        (200, {"credentials": []}),
        (200, {"credentials": [{"credential": "x"}], "transaction_id": "t"}),
        (201, {"credentials": [{"credential": "x"}]}),
        (200, {"credentials": [{"credential": "x"}], "notification_id": 3}),
    ]
    for status, body in cases:
        with pytest.raises(ProtocolError) as error:
            outcome(status, body, "c", SD_CONFIGURATION, [])
        assert code(error) == "response_malformed", body


def test_proofs_are_needed_only_with_proof_types() -> None:
    """VCI-10/VCI-27: proofs are required iff proof_types_supported; the holder signs ES256."""
    assert needs_proof({"format": "jwt_vc_json"}) is False
    es256 = {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
    assert needs_proof({"proof_types_supported": es256}) is True
    others: list[dict[str, Any]] = [
        {"jwt": {"proof_signing_alg_values_supported": ["ES384"]}},
        {"di_vp": {}},
    ]
    for other in others:
        with pytest.raises(ProtocolError) as error:
            needs_proof({"proof_types_supported": other})
        assert code(error) == "proof_type_unsupported"


# --- encryption (OpenID4VCI 1.0 §10) ----------------------------------------------------------
RESPONSE_METADATA = {"alg_values_supported": ["ECDH-ES"], "enc_values_supported": ["A256GCM"]}


def test_response_encryption_round_trip() -> None:
    """VCI-34: the jwk has alg ECDH-ES and a kid; the JWE made for it decrypts; others do not."""
    wanted = ResponseEncryption.new(RESPONSE_METADATA)
    parameters = wanted.parameters()
    jwk = parameters["jwk"]
    assert parameters["enc"] == "A256GCM" and "d" not in jwk
    assert (jwk["alg"], jwk["use"]) == ("ECDH-ES", "enc") and jwk["kid"]
    token = jose.jwe_encrypt(b'{"a":1}', recipient_jwk=jwk, alg="ECDH-ES", enc="A256GCM",
                             kid=jwk["kid"], zip_=None)  # fmt: skip
    assert wanted.decrypt(token) == b'{"a":1}'
    for bad_kid, enc in (("other", "A256GCM"), (jwk["kid"], "A128GCM")):
        other = jose.jwe_encrypt(b"{}", recipient_jwk=jwk, alg="ECDH-ES", enc=enc, kid=bad_kid,
                                 zip_=None)  # fmt: skip
        with pytest.raises(ProtocolError) as error:
            wanted.decrypt(other)
        assert code(error) == "response_not_decryptable"


def test_response_encryption_needs_what_the_holder_supports() -> None:
    for metadata in (
        {"alg_values_supported": ["RSA-OAEP"], "enc_values_supported": ["A128GCM"]},
        {"alg_values_supported": ["ECDH-ES"], "enc_values_supported": ["A128CBC-HS256"]},
        {"alg_values_supported": ["ECDH-ES"]},
    ):
        with pytest.raises(ProtocolError) as error:
            ResponseEncryption.new(metadata)
        assert code(error) == "encryption_unsupported"


def test_request_encryption_uses_the_issuer_key_and_copies_its_kid() -> None:
    """VCI-34 (§10): the JWE alg is the JWK's alg and the kid is copied."""
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    public = {**jose.public_jwk(issuer_key), "alg": "ECDH-ES", "kid": "req-1", "use": "enc"}
    private = {**HolderKey(issuer_key).private_jwk(), "alg": "ECDH-ES", "kid": "req-1"}
    metadata = {"jwks": {"keys": [{"kty": "RSA", "alg": "RSA-OAEP"}, public]},
                "enc_values_supported": ["A128GCM"], "encryption_required": True}  # fmt: skip
    token = encrypt_request({"credential_configuration_id": "c"}, metadata)
    header, plaintext = jose.jwe_decrypt(token, private_jwk=private, algs={"ECDH-ES"},
                                         encs={"A128GCM"})  # fmt: skip
    assert header["kid"] == "req-1" and json.loads(plaintext) == {
        "credential_configuration_id": "c"
    }
    without_alg = {**metadata, "jwks": {"keys": [{k: v for k, v in public.items() if k != "alg"}]}}
    with pytest.raises(ProtocolError) as error:
        encrypt_request({}, without_alg)
    assert code(error) == "encryption_unsupported"


# --- the wallet file --------------------------------------------------------------------------
def test_wallet_file_round_trip(tmp_path: Path, keys_and_credentials: Any) -> None:
    holders, sd, w3c = keys_and_credentials
    wallet = Wallet.open(tmp_path / "d")
    first = wallet.add(Issued(sd[0], "diploma_sd_jwt", "dc+sd-jwt", holders[0], "n"),
                       issuer=ISSUER, received_at=NOW)  # fmt: skip
    second = wallet.add(Issued(w3c, "diploma_jwt_vc_json", "jwt_vc_json", None, None),
                        issuer=ISSUER, received_at=NOW)  # fmt: skip
    wallet.save()
    path = tmp_path / "d" / WALLET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [WALLET_FILE]
    again = Wallet.open(tmp_path / "d")
    assert again.credentials == [first, second] and (first.id, second.id) == ("1", "2")
    assert again.key(holders[0].thumbprint).thumbprint == holders[0].thumbprint
    assert again.find("2").key is None and first.summary()["received_at"] == NOW.isoformat()
    assert "credential" not in first.summary()
    for missing in (lambda: again.find("9"), lambda: again.key("nope")):
        with pytest.raises(ProtocolError):
            missing()
    with pytest.raises(ValueError):
        wallet.add(Issued(w3c, "c", "jwt_vc_json", None, None), issuer=ISSUER,
                   received_at=datetime(2026, 1, 1))  # fmt: skip


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"wallet_version": 2, "keys": {}, "credentials": []}',
        b'{"wallet_version": 1, "keys": [], "credentials": []}',
        b'{"wallet_version": 1, "keys": {}, "credentials": [{"id": "1"}]}',
        b'{"wallet_version": 1, "keys": {}, "credentials": [], "keys": {}}',
    ],
)
def test_a_damaged_wallet_file_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / WALLET_FILE).write_bytes(content)
    with pytest.raises(ProtocolError) as error:
        Wallet.open(tmp_path)
    assert code(error) == "wallet_file_invalid"
