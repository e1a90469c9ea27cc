"""Unit tests of the reference holder's OpenID4VP 1.0 side (verifier.holder.oid4vp_client).

The verifier here is ``StubVerifier``: a few lines of WSGI on a real loopback server that serve a
Request Object built from OpenID4VP 1.0 §5 in this file (signed with the development PKI's
``verifier_request`` key) and record what arrives at the response_uri. What the holder posts is
read back as a verifier would (jose.jwe_decrypt, verifier.verify with the request's nonce and the
full client_id as audience), so these tests pin the wire format without the service of issue 4.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from conftest import ISSUER, NOW, Duo
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from keys.file_store import FileKeyStore, init_store
from verifier import jose, strict_json, x509_trust
from verifier.cli import wallet as wallet_cli
from verifier.errors import ProtocolError
from verifier.holder.dcql_selection import resolve, select
from verifier.holder.oid4vp_client import Oid4vpClient, VerifierError, encryption_key
from verifier.holder.proofs import HolderKey
from verifier.holder.request_object import JAR_MEDIA_TYPE, STATIC_AUD, WALLET_METADATA
from verifier.holder.responses import Issued
from verifier.holder.store import StoredCredential, Wallet
from verifier.policy import Policy
from verifier.verify import verify

VCT = f"{ISSUER}/vct/diploma"
ASKED = ["given_name", "family_name", "institution.name"]


def dcql(**changes: Any) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": "diploma",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [VCT]},
        "claims": [{"path": p.split(".")} for p in ASKED],
    }
    query.update(changes)
    return {"credentials": [query]}


def encryption_jwk() -> dict[str, Any]:
    jwk = HolderKey.generate().private_jwk()
    return {**jwk, "use": "enc", "alg": "ECDH-ES", "kid": "resp-key-1"}


@dataclass
class StubVerifier:
    """A verifier written from the spec in this test: request_uri (GET/POST) and response_uri."""

    keys: FileKeyStore
    prefix: str = "x509_hash"
    response_mode: str = "direct_post.jwt"
    dns_name: str = "verifier.duo.test"
    host: str = "127.0.0.1"
    query: dict[str, Any] = field(default_factory=dcql)
    encs: list[str] = field(default_factory=lambda: ["A256GCM", "A128GCM"])
    #: change the Request Object's header and claims before signing (negative cases)
    tamper: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    answer: tuple[int, dict[str, Any]] = (200, {"redirect_uri": "http://127.0.0.1/cb#rc=1"})
    request_answer: tuple[int, str] | None = None  # (status, content type) instead of the JAR
    key: dict[str, Any] = field(default_factory=encryption_jwk)
    nonce: str = "n-0S6_WzA2Mj-holder-test-nonce"
    state: str = "st-7Fj2-holder-test-state"
    fetches: list[dict[str, str]] = field(default_factory=list)
    posts: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.base = f"http://{self.host}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def x5c(self) -> list[str]:
        return list(self.keys.signing_key("verifier_request").record.x5c)

    @property
    def client_id(self) -> str:
        if self.prefix == "x509_hash":
            leaf = x509_trust.parse_certificate(self.x5c[0])
            return f"x509_hash:{x509_trust.x509_hash(leaf)}"
        if self.prefix == "x509_san_dns":
            return f"x509_san_dns:{self.dns_name}"
        return f"redirect_uri:{self.base}/response"

    def claims(self, wallet_nonce: str | None) -> dict[str, Any]:
        public = {k: v for k, v in self.key.items() if k != "d"}
        claims: dict[str, Any] = {
            "aud": STATIC_AUD,
            "iat": int(NOW.timestamp()),
            "client_id": self.client_id,
            "response_type": "vp_token",
            "response_mode": self.response_mode,
            "response_uri": f"{self.base}/response",
            "nonce": self.nonce,
            "state": self.state,
            "dcql_query": self.query,
            "client_metadata": {
                "jwks": {"keys": [public]},
                "encrypted_response_enc_values_supported": self.encs,
                "vp_formats_supported": WALLET_METADATA["vp_formats_supported"],
            },
        }
        if wallet_nonce is not None:
            claims["wallet_nonce"] = wallet_nonce
        return claims

    def request_object(self, wallet_nonce: str | None) -> str:
        header = {"alg": "ES256", "typ": "oauth-authz-req+jwt", "x5c": self.x5c}
        claims = self.claims(wallet_nonce)
        if self.tamper is not None:
            self.tamper(header, claims)
        return jose.sign_compact(header, claims, self.keys.signing_key("verifier_request").sign)

    def uri(self, method: str | None = None, client_id: str | None = None) -> str:
        params = {"client_id": client_id or self.client_id, "request_uri": f"{self.base}/request"}
        if method is not None:
            params["request_uri_method"] = method
        return "openid4vp://?" + urlencode(params)

    def by_value_uri(self, **changes: str) -> str:
        """§5.9.3 redirect_uri prefix: every parameter in the URI, objects as JSON strings."""
        claims = self.claims(None)
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}
        del params["aud"], params["iat"]
        params.update(changes)
        return "openid4vp://?" + urlencode(params)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/request":
            self.fetches.append({"method": request.method, **request.form.to_dict()})
            self.fetches[-1]["accept"] = request.headers.get("Accept", "")
            if self.request_answer is not None:
                status, kind = self.request_answer
                return Response("x", status=status, content_type=kind)(environ, start_response)
            token = self.request_object(request.form.get("wallet_nonce"))
            return Response(token, content_type=JAR_MEDIA_TYPE)(environ, start_response)
        self.posts.append(request.form.to_dict())
        status, body = self.answer
        return Response(json.dumps(body), status=status, content_type="application/json")(
            environ, start_response
        )

    def received(self) -> dict[str, Any]:
        """The last response as the verifier reads it: decrypted for direct_post.jwt."""
        form = self.posts[-1]
        if self.response_mode == "direct_post":
            return {k: json.loads(v) if k == "vp_token" else v for k, v in form.items()}
        assert set(form) == {"response"}  # §8.3.1: nothing in the clear
        header, plaintext = jose.jwe_decrypt(
            form["response"], private_jwk=self.key, algs={"ECDH-ES"}, encs={"A128GCM", "A256GCM"}
        )
        return {"header": header, **strict_json.loads_object(plaintext)}


@pytest.fixture
def stub(duo: Duo) -> Iterator[Callable[..., StubVerifier]]:
    made: list[StubVerifier] = []

    def make(**options: Any) -> StubVerifier:
        made.append(StubVerifier(options.pop("keys", duo.keys), **options))
        return made[-1]

    yield make
    for verifier in made:
        verifier.close()


@pytest.fixture
def wallet(duo: Duo, tmp_path: Path) -> Wallet:
    """A wallet with one bound diploma (the duo holder's key) and one unbound."""
    found = Wallet.open(tmp_path / "wallet")
    key = HolderKey(duo.holder)
    found.add(Issued(duo.issue(status="valid"), "diploma_sd_jwt", "dc+sd-jwt", key, None),
              issuer=ISSUER, received_at=NOW)  # fmt: skip
    found.add(Issued(duo.issue(bound=False), "diploma_sd_jwt", "dc+sd-jwt", None, None),
              issuer=ISSUER, received_at=NOW)  # fmt: skip
    found.save()
    return found


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def client(http: requests.Session, wallet: Wallet, anchors: Any = None) -> Oid4vpClient:
    return Oid4vpClient(http, clock=lambda: NOW, wallet=wallet, verifier_anchors=anchors)


def code(error: pytest.ExceptionInfo[ProtocolError]) -> str:
    return error.value.code


def checked(duo: Duo, presentation: str, verifier: StubVerifier) -> dict[str, Any]:
    """The presentation's verdict at the verifier: bound to its nonce and full client_id."""
    policy = Policy(require_holder_binding=True, nonce=verifier.nonce, audience=verifier.client_id)
    verdict = verify(presentation, trust=duo.trust, policy=policy, now=NOW)
    assert verdict.outcome == "valid", verdict.checks
    return dict(verdict.claims)


# --- the happy paths ------------------------------------------------------------------------
def test_x509_hash_get_direct_post_jwt(duo: Duo, stub: Any, wallet: Wallet, http: Any) -> None:
    """VP-1, VP-5 (x509_hash), VP-10 (JWE alg = the key's alg, kid copied, enc from the list,
    vp_token and state top-level), VP-11, VP-14 and item 76 (KB-JWT aud = the full client_id)."""
    verifier = stub(encs=["A256GCM", "A128GCM"])
    outcome = client(http, wallet).respond(verifier.uri())
    assert verifier.fetches == [{"method": "GET", "accept": JAR_MEDIA_TYPE}]
    got = verifier.received()
    assert got["header"]["alg"] == "ECDH-ES" and got["header"]["kid"] == "resp-key-1"
    assert got["header"]["enc"] == "A256GCM" and got["state"] == verifier.state
    assert list(got["vp_token"]) == ["diploma"] and len(got["vp_token"]["diploma"]) == 1
    claims = checked(duo, got["vp_token"]["diploma"][0], verifier)
    assert claims["given_name"] == "Sanne Johanna" and claims["institution"] == {
        "name": "Universiteit Leiden"
    }
    assert "birthdate" not in claims and "record_id" not in claims  # only what was asked
    assert outcome.answer.redirect_uri == "http://127.0.0.1/cb#rc=1"
    assert outcome.warnings == ("verifier_chain_not_checked",)
    assert outcome.shared[0]["credential_id"] == "1"  # the bound one; the other has no key


def test_request_uri_method_post_direct_post(
    duo: Duo, stub: Any, wallet: Wallet, http: Any
) -> None:
    """VP-7 (§5.10): a form POST with wallet_metadata and a fresh wallet_nonce, which comes back
    in the Request Object; VP-9 (§8.2): direct_post sends vp_token as JSON and state in a form."""
    verifier = stub(response_mode="direct_post")
    client(http, wallet).respond(verifier.uri("post"), disclose=["birthdate"])
    fetch = verifier.fetches[0]
    assert fetch["method"] == "POST" and fetch["accept"] == JAR_MEDIA_TYPE
    assert json.loads(fetch["wallet_metadata"]) == WALLET_METADATA
    assert len(fetch["wallet_nonce"]) >= 22  # 128 bits, base64url
    got = verifier.received()
    assert set(got) == {"vp_token", "state"} and got["state"] == verifier.state
    claims = checked(duo, got["vp_token"]["diploma"][0], verifier)
    assert claims["birthdate"] == "1998-03-14"  # --disclose adds to the query


def test_x509_san_dns_with_the_verifier_root(
    duo: Duo, stub: Any, wallet: Wallet, http: Any
) -> None:
    """VP-5 (x509_san_dns): with the verifier's root the chain is trusted, so the response_uri
    may be on another host than the dNSName (§5.9.3); without it, it may not."""
    verifier = stub(prefix="x509_san_dns")
    anchors = x509_trust.load_anchors_pem(duo.keys.anchors_pem())
    outcome = client(http, wallet, anchors).respond(verifier.uri())
    assert outcome.request.trusted and outcome.warnings == ()
    checked(duo, verifier.received()["vp_token"]["diploma"][0], verifier)
    with pytest.raises(ProtocolError) as refused:
        client(http, wallet).respond(verifier.uri())
    assert code(refused) == "response_uri_invalid" and len(verifier.posts) == 1


def test_x509_san_dns_on_its_own_host_without_anchors(
    duo: Duo, stub: Any, wallet: Wallet, http: Any, localhost_keys: FileKeyStore
) -> None:
    """VP-5: a dNSName naming the response_uri's host needs no anchor; the result carries the
    warning that the chain was not checked (a named limit of the reference wallet)."""
    verifier = stub(prefix="x509_san_dns", dns_name="localhost", host="localhost",
                    keys=localhost_keys)  # fmt: skip
    outcome = client(http, wallet).respond(verifier.uri())
    assert outcome.warnings == ("verifier_chain_not_checked",) and not outcome.request.trusted
    checked(duo, verifier.received()["vp_token"]["diploma"][0], verifier)


@pytest.fixture(scope="module")
def localhost_keys(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    return init_store(tmp_path_factory.mktemp("lh"), issuer=ISSUER, verifier_host="localhost",
                      now=NOW)  # fmt: skip


def test_redirect_uri_prefix_by_value(duo: Duo, stub: Any, wallet: Wallet, http: Any) -> None:
    """VP-5 (redirect_uri: unsigned, the client_id is the response_uri), parameters by value."""
    verifier = stub(prefix="redirect_uri", response_mode="direct_post")
    outcome = client(http, wallet).respond(verifier.by_value_uri())
    assert not outcome.request.signed and outcome.warnings == ("verifier_not_authenticated",)
    assert verifier.fetches == []
    checked(duo, verifier.received()["vp_token"]["diploma"][0], verifier)
    other = verifier.by_value_uri(response_uri=f"{verifier.base}/elsewhere")
    with pytest.raises(ProtocolError) as refused:
        client(http, wallet).load(other)
    assert code(refused) == "response_uri_invalid"
    with pytest.raises(ProtocolError) as signed:  # redirect_uri requests cannot be signed
        client(http, wallet).load(verifier.uri())
    assert code(signed) == "client_id_prefix_unsupported"


# --- the request is checked before anything is sent -----------------------------------------
def _set(where: str, name: str, value: Any) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def tamper(header: dict[str, Any], claims: dict[str, Any]) -> None:
        target = header if where == "header" else claims
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value

    return tamper


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_set("header", "typ", "JWT"), "request_invalid"),  # VP-1
        (_set("header", "typ", None), "request_invalid"),
        (_set("header", "x5c", None), "request_invalid"),
        (_set("claims", "client_id", "x509_hash:AAAA"), "client_id_mismatch"),  # §5.10.1
        (_set("claims", "aud", "https://wallet.example"), "request_invalid"),  # VP-4
        (_set("claims", "response_type", "code"), "request_invalid"),
        (_set("claims", "response_mode", "fragment"), "response_mode_unsupported"),
        (_set("claims", "redirect_uri", "http://127.0.0.1/x"), "request_invalid"),  # VP-9
        (_set("claims", "response_uri", None), "url_refused"),
        (_set("claims", "response_uri", "https://evil.example/r"), "url_refused"),
        (_set("claims", "nonce", None), "request_invalid"),  # VP-2
        (_set("claims", "nonce", "not url safe!"), "request_invalid"),
        (_set("claims", "state", "a/b"), "request_invalid"),
        (_set("claims", "dcql_query", None), "request_invalid"),
        (_set("claims", "scope", "diploma"), "request_invalid"),
        (_set("claims", "transaction_data", ["e30"]), "transaction_data_unsupported"),
        (_set("claims", "exp", int(NOW.timestamp()) - 1), "request_invalid"),
        (_set("claims", "client_metadata", "x"), "request_invalid"),
    ],
)
def test_bad_request_objects_are_refused(
    stub: Any, wallet: Wallet, http: Any, tamper: Any, expected: str
) -> None:
    verifier = stub(tamper=tamper)
    with pytest.raises(ProtocolError) as refused:
        client(http, wallet).respond(verifier.uri())
    assert code(refused) == expected and verifier.posts == []


def test_signature_and_certificate_binding(
    duo: Duo, stub: Any, wallet: Wallet, http: Any, localhost_keys: FileKeyStore
) -> None:
    """VP-5: the Request Object verifies with the x5c leaf, whose hash is the x509_hash and
    whose dNSName is the x509_san_dns client_id; another leaf in x5c fails both ways."""
    other_leaf = list(localhost_keys.signing_key("verifier_request").record.x5c)
    verifier = stub(tamper=_set("header", "x5c", other_leaf))
    with pytest.raises(ProtocolError) as forged:
        client(http, wallet).respond(verifier.uri())
    assert code(forged) == "request_signature_invalid"
    leaf = x509_trust.parse_certificate(other_leaf[0])
    plain = stub()
    with pytest.raises(ProtocolError) as other:
        client(http, wallet).respond(plain.uri(client_id=f"x509_hash:{x509_trust.x509_hash(leaf)}"))
    assert code(other) == "client_id_not_certified"  # the leaf in x5c has another hash
    san = stub(prefix="x509_san_dns", dns_name="other.duo.test")
    with pytest.raises(ProtocolError) as named:
        client(http, wallet).respond(san.uri())
    assert code(named) == "client_id_not_certified"
    hashed = stub(tamper=_set("claims", "client_id", "x509_hash:" + "A" * 43))
    with pytest.raises(ProtocolError) as hash_error:
        client(http, wallet).respond(hashed.uri(client_id="x509_hash:" + "A" * 43))
    assert code(hash_error) == "client_id_not_certified"
    assert verifier.posts == plain.posts == san.posts == hashed.posts == []


def test_a_foreign_root_does_not_make_the_verifier_trusted(
    stub: Any, wallet: Wallet, http: Any, localhost_keys: FileKeyStore
) -> None:
    verifier = stub()
    anchors = x509_trust.load_anchors_pem(localhost_keys.anchors_pem())
    with pytest.raises(ProtocolError) as refused:
        client(http, wallet, anchors).respond(verifier.uri())
    assert code(refused) == "verifier_untrusted"


def test_the_wallet_nonce_must_come_back(stub: Any, wallet: Wallet, http: Any) -> None:
    """VP-7 (§5.10.1): a Request Object without the wallet_nonce the wallet sent is refused."""
    for tamper in (_set("claims", "wallet_nonce", None), _set("claims", "wallet_nonce", "x")):
        verifier = stub(tamper=tamper)
        with pytest.raises(ProtocolError) as refused:
            client(http, wallet).respond(verifier.uri("post"))
        assert code(refused) == "wallet_nonce_mismatch" and verifier.posts == []


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://wallet.example/?client_id=a&request_uri=b", "request_uri_invalid"),
        ("openid4vp://?request_uri=http%3A%2F%2F127.0.0.1%2Fr", "request_uri_invalid"),
        ("openid4vp://?client_id=a&client_id=b&request_uri=c", "request_uri_invalid"),
        ("openid4vp://?client_id=x509_hash%3Aa&request_uri=http%3A%2F%2F127.0.0.1%2Fr"
         "&request_uri_method=PUT", "invalid_request_uri_method"),
        ("openid4vp://?client_id=a&request_uri_method=get", "request_uri_invalid"),
        ("openid4vp://?client_id=x509_hash%3Aa&request_uri=https%3A%2F%2Fverifier.example%2Fr",
         "url_refused"),
        ("openid4vp://?client_id=x509_hash%3Aa&request=eyJ.e30.x", "request_invalid"),
        ("openid4vp://?client_id=did%3Aexample%3A1&request=eyJ.e30.x",
         "client_id_prefix_unsupported"),
        ("openid4vp://?client_id=origin%3Ahttps%3A%2F%2Fa&response_type=vp_token",
         "client_id_prefix_unsupported"),
        (12, "request_uri_invalid"),
    ],
)  # fmt: skip
def test_bad_request_uris(wallet: Wallet, http: Any, uri: Any, expected: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        client(http, wallet).load(uri)
    assert code(refused) == expected


@pytest.mark.parametrize("answer", [(404, "application/json"), (200, "application/jwt"),
                                    (302, JAR_MEDIA_TYPE)])  # fmt: skip
def test_the_request_uri_must_answer_200_with_a_request_object(
    stub: Any, wallet: Wallet, http: Any, answer: tuple[int, str]
) -> None:
    """§5.10.2: any HTTP error (a redirect too, §14.4) ends processing; the media type is
    application/oauth-authz-req+jwt."""
    verifier = stub(request_answer=answer)
    with pytest.raises(ProtocolError) as refused:
        client(http, wallet).load(verifier.uri())
    assert code(refused) == "request_object_unavailable"


def test_request_uri_without_an_authority(stub: Any, wallet: Wallet, http: Any) -> None:
    """``openid4vp:?...`` (what an HTTP Location header makes of ``openid4vp://?...``) is the
    same request."""
    verifier = stub()
    request = client(http, wallet).load(verifier.uri().replace("openid4vp://", "openid4vp:"))
    assert request.client_id == verifier.client_id and request.nonce == verifier.nonce


def test_signed_request_by_value(duo: Duo, stub: Any, wallet: Wallet, http: Any) -> None:
    """RFC 9101 §5.1 ``request`` by value, checked like one fetched by reference."""
    verifier = stub()
    uri = "openid4vp://?" + urlencode(
        {"client_id": verifier.client_id, "request": verifier.request_object(None)}
    )
    client(http, wallet).respond(uri)
    checked(duo, verifier.received()["vp_token"]["diploma"][0], verifier)


# --- responses ------------------------------------------------------------------------------
def test_nothing_matching_tells_the_verifier_access_denied(
    stub: Any, wallet: Wallet, http: Any
) -> None:
    """§8.5 access_denied (item 84's wallet side), encrypted like any direct_post.jwt response."""
    verifier = stub(query=dcql(meta={"vct_values": ["https://other.example/vct"]}))
    with pytest.raises(ProtocolError) as refused:
        client(http, wallet).respond(verifier.uri())
    assert code(refused) == "no_matching_credential"
    got = verifier.received()
    assert got["error"] == "access_denied" and got["state"] == verifier.state
    assert "vp_token" not in got


def test_verifier_errors_are_reported(stub: Any, wallet: Wallet, http: Any) -> None:
    """§8.2: the response_uri answers 200 JSON; an error (or a redirect) is VerifierError."""
    for answer, error in (((400, {"error": "invalid_request"}), "invalid_request"),
                          ((302, {}), "unknown")):  # fmt: skip
        verifier = stub(answer=answer)
        with pytest.raises(VerifierError) as refused:
            client(http, wallet).respond(verifier.uri())
        assert refused.value.error == error and refused.value.status == answer[0]


def test_encryption_key_choice() -> None:
    """VP-6/VP-10: a key whose use is enc (or absent) with alg ECDH-ES on P-256; enc from the
    verifier's list (default A128GCM); nothing usable is encryption_unsupported."""
    good = {k: v for k, v in encryption_jwk().items() if k != "d"}
    signing = {**good, "use": "sig"}
    no_alg = {k: v for k, v in good.items() if k != "alg"}
    assert encryption_key({"jwks": {"keys": [signing, no_alg, good]}}) == (good, "A128GCM")
    listed = {
        "jwks": {"keys": [good]},
        "encrypted_response_enc_values_supported": ["A128CBC-HS256", "A256GCM"],
    }
    assert encryption_key(listed)[1] == "A256GCM"
    both = {
        "jwks": {"keys": [good]},
        "encrypted_response_enc_values_supported": ["A128GCM", "A256GCM"],
    }
    assert encryption_key(both)[1] == "A128GCM"  # the verifier's order by default
    assert encryption_key(both, ["A256GCM", "A128GCM"])[1] == "A256GCM"  # or the wallet's
    assert encryption_key({"jwks": {"keys": [good]}}, ["A256GCM"])[1] == "A128GCM"  # if listed
    cbc_only = {
        "jwks": {"keys": [good]},
        "encrypted_response_enc_values_supported": ["A128CBC-HS256"],
    }
    for metadata in ({}, {"jwks": {"keys": [signing, no_alg]}}, cbc_only):
        with pytest.raises(ProtocolError) as refused:
            encryption_key(metadata)
        assert code(refused) == "encryption_unsupported"


# --- DCQL as a wallet (§6, §7) ---------------------------------------------------------------
def stored(wallet: Wallet) -> list[StoredCredential]:
    return list(wallet.credentials)  # id 1: bound, id 2: not bound


def test_claims_path_pointers() -> None:
    """§7.1.1: strings select keys, null every element, integers one; a wrong type is an error
    (nothing selected), a missing key or index drops that element."""
    claims = {"a": [{"b": 1}, {"b": 2}, {"c": 3}], "d": {"e": "x"}}
    assert resolve(claims, ["a", None, "b"]) == [(("a", 0, "b"), 1), (("a", 1, "b"), 2)]
    assert resolve(claims, ["a", 2, "c"]) == [(("a", 2, "c"), 3)]
    assert resolve(claims, ["a", 5]) == []
    assert resolve(claims, ["d", 0]) == []  # an index into an object
    assert resolve(claims, ["a", "b"]) == []  # a key into an array
    assert resolve(claims, ["d", -1]) == [] and resolve(claims, ["d", True]) == []
    assert resolve(claims, ["d", "e"]) == [(("d", "e"), "x")]


def test_values_match_type_and_value(wallet: Wallet) -> None:
    """§6.3 values: eqf_level 6 matches 6, not "6"; nlqf_level "6" matches "6" only."""
    hit = dcql(claims=[{"path": ["eqf_level"], "values": [5, 6]},
                       {"path": ["nlqf_level"], "values": ["6"]}])  # fmt: skip
    chosen = select(hit, stored(wallet))["diploma"][0]
    assert chosen.paths == (("eqf_level",), ("nlqf_level",))
    for miss in ([{"path": ["eqf_level"], "values": ["6"]}],
                 [{"path": ["nlqf_level"], "values": [6]}],
                 [{"path": ["eqf_level"], "values": [True]}]):  # fmt: skip
        with pytest.raises(ProtocolError) as none:
            select(dcql(claims=miss), stored(wallet))
        assert code(none) == "no_matching_credential"


def test_claim_sets_give_the_first_satisfiable_option(wallet: Wallet) -> None:
    """§6.4.1: the first option the credential can satisfy; none, no credential."""
    claims = [{"id": "a", "path": ["no_such_claim"]}, {"id": "b", "path": ["given_name"]},
              {"id": "c", "path": ["award_date"]}]  # fmt: skip
    query = dcql(claims=claims, claim_sets=[["a", "c"], ["b", "c"], ["c"]])
    assert select(query, stored(wallet))["diploma"][0].paths == (("given_name",), ("award_date",))
    with pytest.raises(ProtocolError) as none:
        select(dcql(claims=claims, claim_sets=[["a"]]), stored(wallet))
    assert code(none) == "no_matching_credential"


def test_binding_multiple_and_no_claims(wallet: Wallet) -> None:
    """VP-3/§6.1: binding is required by default (only bound credentials match); without it,
    ``multiple`` returns every match and a single query the most recent; no ``claims``, no
    selectively disclosable claim."""
    assert [s.credential.id for s in select(dcql(), stored(wallet))["diploma"]] == ["1"]
    loose = dcql(require_cryptographic_holder_binding=False)
    assert [s.credential.id for s in select(loose, stored(wallet))["diploma"]] == ["2"]
    many = dcql(require_cryptographic_holder_binding=False, multiple=True)
    found = select(many, stored(wallet))["diploma"]
    assert [s.credential.id for s in found] == ["1", "2"]
    assert not any(s.holder_binding for s in found)
    bare = {k: v for k, v in dcql()["credentials"][0].items() if k != "claims"}
    assert select({"credentials": [bare]}, stored(wallet))["diploma"][0].paths == ()


def test_credential_sets(wallet: Wallet) -> None:
    """§6.4.2: the first satisfiable option of each set; an unmet required set returns nothing;
    an optional set only when it can be met; queries outside the chosen options are left out."""
    diploma = dcql()["credentials"][0]
    other = {**diploma, "id": "pid", "meta": {"vct_values": ["urn:eudi:pid:1"]}}
    query = {"credentials": [diploma, other],
             "credential_sets": [{"options": [["pid"], ["diploma"]]},
                                 {"options": [["pid"]], "required": False}]}  # fmt: skip
    assert list(select(query, stored(wallet))) == ["diploma"]
    query["credential_sets"][1]["required"] = True
    with pytest.raises(ProtocolError) as none:
        select(query, stored(wallet))
    assert code(none) == "no_matching_credential"
    with pytest.raises(ProtocolError) as both:
        select({"credentials": [diploma, other]}, stored(wallet))  # no sets: all required
    assert code(both) == "no_matching_credential"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"credentials": []},
        {"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {}}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt"}]},  # meta is required (VP-8)
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}] * 2},  # ids unique
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claims": []}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claims": [{"path": []}]}]},
        {
            "credentials": [
                {
                    "id": "a",
                    "format": "dc+sd-jwt",
                    "meta": {},
                    "claims": [{"path": ["x"]}],
                    "claim_sets": [["x"]],
                }
            ]
        },
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claim_sets": [["x"]]}]},
        {
            "credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}],
            "credential_sets": [{"options": [["b"]]}],
        },
        {
            "credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}],
            "credential_sets": [{"options": []}],
        },
    ],
)
def test_malformed_dcql_is_refused(wallet: Wallet, query: dict[str, Any]) -> None:
    """VP-8: a query that breaks §6's rules is refused before anything is chosen."""
    with pytest.raises(ProtocolError) as refused:
        select(query, stored(wallet))
    assert code(refused) == "dcql_query_invalid"


def test_an_unbound_presentation_has_no_kb_jwt(
    duo: Duo, stub: Any, wallet: Wallet, http: Any
) -> None:
    """require_cryptographic_holder_binding false: the SD-JWT alone, ending in ``~``."""
    verifier = stub(query=dcql(require_cryptographic_holder_binding=False))
    client(http, wallet).respond(verifier.uri())
    shown = verifier.received()["vp_token"]["diploma"][0]
    assert shown.endswith("~")
    policy = Policy(require_holder_binding=False, nonce=None, audience=None)
    assert verify(shown, trust=duo.trust, policy=policy, now=NOW).outcome == "valid"


# --- duo-wallet respond -----------------------------------------------------------------------
def test_duo_wallet_respond(
    stub: Any, wallet: Wallet, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 4 deliverable 5: ``duo-wallet respond REQUEST_URI [--disclose] [--json]``."""
    verifier = stub()
    home = str(wallet.path.parent)
    argv = ["respond", verifier.uri("post"), "--data-dir", home, "--disclose", "birthdate"]
    assert wallet_cli.main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["client_id"] == verifier.client_id and result["trusted"] is False
    assert result["redirect_uri"] == "http://127.0.0.1/cb#rc=1"
    assert result["shared"][0]["disclosed"][-1] == ["birthdate"]
    kb = jose.parse_compact(verifier.received()["vp_token"]["diploma"][0].split("~")[-1])
    assert kb.payload["nonce"] == verifier.nonce and kb.payload["aud"] == verifier.client_id
    anchor = tmp_path / "root.pem"
    anchor.write_text(json.dumps("not a certificate"))
    assert wallet_cli.main(["respond", verifier.uri(), "--data-dir", home]) == 0
    captured = capsys.readouterr()
    assert "presented 1 credential(s)" in captured.out and "continue in the browser" in captured.out
    assert "chain was not checked" in captured.err
    assert wallet_cli.main(["respond", "openid4vp://?x=1", "--data-dir", home]) == 1
    assert "error (request_uri_invalid)" in capsys.readouterr().err
    verifier.answer = (400, {"error": "invalid_request"})
    assert wallet_cli.main(["respond", verifier.uri(), "--data-dir", home]) == 1
    assert "the verifier refused (invalid_request)" in capsys.readouterr().err
