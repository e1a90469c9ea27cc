"""OpenID4VCI 1.0 §10 encryption: the JWE functions of verifier.jose and issuer.oid4vci.encryption.

Real cryptography throughout: the wallet side encrypts requests with ``jose.jwe_encrypt`` and the
issuer's published key, and decrypts responses with its own key, as a wallet would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import request

from issuer.app import Services, create_app
from issuer.config import Settings
from issuer.db import make_engine
from issuer.oid4vci import encryption
from issuer.oid4vci.encryption import (
    EncryptionKeyError,
    ResponseEncryption,
    credential_response,
    encryption_metadata,
    read_credential_request,
    request_encryption_key,
)
from keys.file_store import FileKeyStore, init_store
from verifier import jose
from verifier.errors import InvalidCredential, ProtocolError

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "http://127.0.0.1:8080"
Make = Callable[..., Services]
BODY = {"credentials": [{"credential": "eyJ...~"}], "notification_id": "n-1"}


def key_pair(kid: str | None = "wallet-1", curve: ec.EllipticCurve | None = None) -> tuple[
    dict[str, Any], dict[str, Any]
]:
    """A wallet's (public, private) ECDH-ES JWKs."""
    key = ec.generate_private_key(curve or ec.SECP256R1())
    public = {**jose.public_jwk(key), "alg": "ECDH-ES", "use": "enc"}
    if kid is not None:
        public["kid"] = kid
    size = (key.curve.key_size + 7) // 8
    d = jose.b64url_encode(key.private_numbers().private_value.to_bytes(size, "big"))
    return public, {**public, "d": d}


WALLET_PUBLIC, WALLET_PRIVATE = key_pair()


@pytest.fixture(scope="module")
def key_store(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    return init_store(
        tmp_path_factory.mktemp("ks"), issuer=ISSUER, verifier_host="verifier.duo.test",
        now=datetime.now(UTC),
    )


@pytest.fixture
def make_services(tmp_path: Path, key_store: FileKeyStore) -> Iterator[Make]:
    """Services on a data dir of their own; the engine and key store are not used here."""
    engine = make_engine(f"sqlite:///{tmp_path / 'duo.sqlite3'}")

    def make(required: bool = False, data_dir: Path | None = None) -> Services:
        settings = Settings(data_dir=data_dir or tmp_path / "data", require_encryption=required)
        return Services(settings, engine, key_store, lambda: datetime.now(UTC))

    yield make
    engine.dispose()


def issuer_key(services: Services) -> dict[str, Any]:
    """The public request-encryption key a wallet finds in the metadata."""
    meta = encryption_metadata(services)["credential_request_encryption"]
    return dict(meta["jwks"]["keys"][0])


def encrypt_for(
    jwk: dict[str, Any], claims: Any, enc: str = "A128GCM", zip_: str | None = None
) -> bytes:
    """What a wallet sends: ``claims`` (JSON, or raw bytes) as a JWE for ``jwk``."""
    text = json.dumps(claims).encode() if not isinstance(claims, bytes) else claims
    token = jose.jwe_encrypt(
        text, recipient_jwk=jwk, alg=jwk["alg"], enc=enc, kid=jwk.get("kid"), zip_=zip_
    )
    return token.encode()


def params(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"jwk": dict(WALLET_PUBLIC), "enc": "A256GCM"}
    value.update(changes)
    return {k: v for k, v in value.items() if v is not None}


def refused(body: bytes, content_type: str | None, services: Services) -> ProtocolError:
    """The 400 ProtocolError that reading this request raises."""
    with pytest.raises(ProtocolError) as caught:
        read_credential_request(body, content_type, services=services)
    assert caught.value.status == 400
    return caught.value


def rebuild(
    token: str, header: dict[str, Any] | None = None, part: int = -1, data: bytes = b""
) -> str:
    """``token`` with another protected header (as given) and/or one other part."""
    parts = token.split(".")
    if header is not None:
        parts[0] = jose.b64url_encode(json.dumps(header).encode())
    if part >= 0:
        parts[part] = jose.b64url_encode(data)
    return ".".join(parts)


def header_of(token: str) -> dict[str, Any]:
    return json.loads(jose.b64url_decode(token.split(".")[0]))  # type: ignore[no-any-return]


# --- verifier.jose: JWE ---------------------------------------------------------------------


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
@pytest.mark.parametrize("zip_", [None, "DEF"])
def test_jwe_round_trip(enc: str, zip_: str | None) -> None:
    """VCI-34: alg ECDH-ES, kid copied, zip only when requested, a fresh epk each time."""
    plaintext = json.dumps(BODY).encode() * 20
    tokens = [
        jose.jwe_encrypt(plaintext, recipient_jwk=WALLET_PUBLIC, alg="ECDH-ES", enc=enc,
                         kid="wallet-1", zip_=zip_)
        for _ in range(2)
    ]
    header, decrypted = jose.jwe_decrypt(
        tokens[0], private_jwk=WALLET_PRIVATE, algs=["ECDH-ES"], encs=[enc]
    )
    assert decrypted == plaintext
    assert {k: v for k, v in header.items() if k != "epk"} == {
        "alg": "ECDH-ES", "enc": enc, "kid": "wallet-1", **({"zip": zip_} if zip_ else {})
    }
    assert "d" not in header["epk"] and header["epk"]["crv"] == "P-256"
    assert header["epk"] != header_of(tokens[1])["epk"]
    if zip_:
        assert len(tokens[0]) < len(plaintext)


def test_jwe_without_kid() -> None:
    public, private = key_pair(kid=None)
    token = jose.jwe_encrypt(b"{}", recipient_jwk=public, alg="ECDH-ES", enc="A128GCM",
                             kid=None, zip_=None)
    header, plaintext = jose.jwe_decrypt(token, private_jwk=private, algs=["ECDH-ES"],
                                         encs=["A128GCM"])
    assert "kid" not in header and plaintext == b"{}"


def _token(enc: str = "A128GCM", zip_: str | None = None, plaintext: bytes = b'{"a":1}') -> str:
    return jose.jwe_encrypt(plaintext, recipient_jwk=WALLET_PUBLIC, alg="ECDH-ES", enc=enc,
                            kid="wallet-1", zip_=zip_)


def _off_curve_epk(token: str) -> str:
    header = header_of(token)
    header["epk"] = {**header["epk"], "y": header["epk"]["x"]}
    return rebuild(token, header)


def _other_curve_epk(token: str) -> str:
    header = header_of(token)
    header["epk"] = {k: v for k, v in key_pair(curve=ec.SECP384R1())[0].items()
                     if k in ("kty", "crv", "x", "y")}
    return rebuild(token, header)


def _with(**members: Any) -> Callable[[str], str]:
    return lambda token: rebuild(token, {**header_of(token), **members})


def _duplicate_header(token: str) -> str:
    text = json.dumps(header_of(token))[:-1] + ', "alg": "ECDH-ES"}'
    return ".".join([jose.b64url_encode(text.encode()), *token.split(".")[1:]])


def _flip(part: int) -> Callable[[str], str]:
    def flip(token: str) -> str:
        data = bytearray(jose.b64url_decode(token.split(".")[part]))
        data[0] ^= 1
        return rebuild(token, part=part, data=bytes(data))

    return flip


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda t: t.rsplit(".", 1)[0], "jwe_malformed"),
        (lambda t: t + "=", "jwe_malformed"),
        (lambda t: json.dumps({"protected": t.split(".")[0]}), "jwe_malformed"),
        (_duplicate_header, "jwe_malformed"),
        (lambda t: rebuild(t, part=1, data=b"k" * 16), "jwe_malformed"),
        (lambda t: rebuild(t, part=2, data=b"i" * 16), "jwe_malformed"),
        (_off_curve_epk, "jwe_malformed"),
        (_other_curve_epk, "jwe_malformed"),
        (_with(epk=None), "jwe_malformed"),
        (_with(alg="ECDH-ES+A128KW"), "jwe_alg_unsupported"),
        (_with(alg="RSA-OAEP"), "jwe_alg_unsupported"),
        (_with(alg="dir"), "jwe_alg_unsupported"),
        (_with(enc="A192GCM"), "jwe_alg_unsupported"),
        (_with(enc="A128CBC-HS256"), "jwe_alg_unsupported"),
        (_with(zip="GZIP"), "jwe_alg_unsupported"),
        (_with(crit=["exp"], exp=1), "jwe_alg_unsupported"),
        (_with(kid="someone-else"), "jwe_key_unknown"),
        (lambda t: rebuild(t, {k: v for k, v in header_of(t).items() if k != "kid"}),
         "jwe_key_unknown"),
        (_with(typ="JWT"), "jwe_decrypt_failed"),  # the header is the AAD
        (_flip(3), "jwe_decrypt_failed"),
        (_flip(4), "jwe_decrypt_failed"),
    ],
)
def test_jwe_decrypt_rejects(mutate: Callable[[str], str], code: str) -> None:
    """A JWE that is malformed, uses other algorithms, names another key or was tampered with."""
    with pytest.raises(InvalidCredential) as caught:
        jose.jwe_decrypt(mutate(_token()), private_jwk=WALLET_PRIVATE, algs=["ECDH-ES"],
                         encs=["A128GCM", "A256GCM"])
    assert caught.value.code == code


def test_jwe_decrypt_allows_only_the_given_enc() -> None:
    with pytest.raises(InvalidCredential) as caught:
        jose.jwe_decrypt(_token("A256GCM"), private_jwk=WALLET_PRIVATE, algs=["ECDH-ES"],
                         encs=["A128GCM"])
    assert caught.value.code == "jwe_alg_unsupported"


def test_jwe_decrypt_with_another_key_of_the_same_kid_fails() -> None:
    _, other = key_pair()
    with pytest.raises(InvalidCredential) as caught:
        jose.jwe_decrypt(_token(), private_jwk=other, algs=["ECDH-ES"], encs=["A128GCM"])
    assert caught.value.code == "jwe_decrypt_failed"


def test_jwe_decrypt_caps_size_and_inflation() -> None:
    """A token over the cap, and a small DEF token that inflates beyond it (zip bomb)."""
    bomb = _token(zip_="DEF", plaintext=b"0" * 200_000)
    assert len(bomb) < 2_000  # small on the wire
    for token, code in [(_token(plaintext=b"x" * 5000), "jwe_malformed"),
                        (bomb, "jwe_decrypt_failed")]:
        with pytest.raises(InvalidCredential) as caught:
            jose.jwe_decrypt(token, private_jwk=WALLET_PRIVATE, algs=["ECDH-ES"],
                             encs=["A128GCM"], max_size=4096)
        assert caught.value.code == code


@pytest.mark.parametrize(
    ("jwk", "alg", "enc", "zip_", "code"),
    [
        (WALLET_PRIVATE, "ECDH-ES", "A128GCM", None, "jwe_key_invalid"),
        (key_pair(curve=ec.SECP384R1())[0], "ECDH-ES", "A128GCM", None, "jwe_key_invalid"),
        ({**WALLET_PUBLIC, "alg": "ECDH-ES+A128KW"}, "ECDH-ES", "A128GCM", None, "jwe_key_invalid"),
        ({**WALLET_PUBLIC, "use": "sig"}, "ECDH-ES", "A128GCM", None, "jwe_key_invalid"),
        ({**WALLET_PUBLIC, "y": WALLET_PUBLIC["x"]}, "ECDH-ES", "A128GCM", None, "jwe_key_invalid"),
        ({**WALLET_PUBLIC, "kid": 7}, "ECDH-ES", "A128GCM", None, "jwe_key_invalid"),
        ({"kty": "oct", "k": "AAAA"}, "ECDH-ES", "A128GCM", None, "jwe_key_invalid"),
        (WALLET_PUBLIC, "RSA-OAEP", "A128GCM", None, "jwe_alg_unsupported"),
        (WALLET_PUBLIC, "ECDH-ES", "A128CBC-HS256", None, "jwe_alg_unsupported"),
        (WALLET_PUBLIC, "ECDH-ES", "A128GCM", "GZIP", "jwe_alg_unsupported"),
    ],
)
def test_jwe_encrypt_rejects(
    jwk: dict[str, Any], alg: str, enc: str, zip_: str | None, code: str
) -> None:
    with pytest.raises(InvalidCredential) as caught:
        jose.jwe_encrypt(b"{}", recipient_jwk=jwk, alg=alg, enc=enc, kid=None, zip_=zip_)
    assert caught.value.code == code


# --- issuer: the request-encryption key and the metadata ------------------------------------


@pytest.mark.parametrize("required", [False, True])
def test_metadata(make_services: Make, required: bool) -> None:
    """VCI-11: alg/enc values and encryption_required; jwks with a unique kid, public only."""
    meta = encryption_metadata(make_services(required))
    response = meta["credential_response_encryption"]
    request_ = meta["credential_request_encryption"]
    assert response == {
        "alg_values_supported": ["ECDH-ES"], "enc_values_supported": ["A128GCM", "A256GCM"],
        "zip_values_supported": ["DEF"], "encryption_required": required,
    }
    assert request_["enc_values_supported"] == ["A128GCM", "A256GCM"]
    assert request_["zip_values_supported"] == ["DEF"]
    assert request_["encryption_required"] is required
    (key,) = request_["jwks"]["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (key["alg"], key["use"], key["kid"]) == ("ECDH-ES", "enc", jose.jwk_thumbprint(key))
    jose.check_jwe_recipient(key, alg="ECDH-ES")


def test_key_file_is_made_once_shared_and_private(make_services: Make,
                                                  tmp_path: Path) -> None:
    """Two services (two workers' worth) on one data dir see one key, in a 0600 file."""
    first, second = make_services(False), make_services(True)
    assert issuer_key(first) == issuer_key(second)
    path = tmp_path / "data" / "request-encryption.jwk"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert request_encryption_key(first.settings)["d"]
    before = path.read_bytes()
    encryption._LOADED.clear()  # a new process reads the same file
    assert issuer_key(first) == issuer_key(second) and path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["request-encryption.jwk"]


def test_key_file_lives_in_the_key_directory(make_services: Make,
                                            tmp_path: Path) -> None:
    (tmp_path / "kd" / "keys").mkdir(parents=True)
    issuer_key(make_services(data_dir=tmp_path / "kd"))
    path = tmp_path / "kd" / "keys" / "request-encryption.jwk"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_racing_workers_agree_on_one_key(tmp_path: Path) -> None:
    """Threads race to create the key; another process then reads the same one."""
    settings = Settings(data_dir=tmp_path / "race")
    found: list[str] = []
    threads = [threading.Thread(target=lambda: found.append(
        request_encryption_key(settings)["kid"])) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in (tmp_path / "race").iterdir()] == ["request-encryption.jwk"]
    code = ("import sys; from pathlib import Path; from issuer.config import Settings; "
            "from issuer.oid4vci.encryption import request_encryption_key as k; "
            "print(k(Settings(data_dir=Path(sys.argv[1])))['kid'])")
    other = subprocess.run([sys.executable, "-c", code, str(tmp_path / "race")], cwd=ROOT,
                           capture_output=True, text=True, check=True, timeout=60)
    assert other.stdout.strip() == found[0]


@pytest.mark.parametrize(
    "damage",
    [
        lambda jwk: b"not json",
        lambda jwk: json.dumps({**jwk, "d": key_pair()[1]["d"]}).encode(),
        lambda jwk: json.dumps({k: v for k, v in jwk.items() if k != "use"}).encode(),
        lambda jwk: json.dumps({k: v for k, v in jwk.items() if k != "d"}).encode(),
    ],
)
def test_damaged_key_file_is_refused(
    tmp_path: Path, damage: Callable[[dict[str, Any]], bytes]
) -> None:
    settings = Settings(data_dir=tmp_path / "dmg")
    path = tmp_path / "dmg" / "request-encryption.jwk"
    jwk = request_encryption_key(settings)
    path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(damage(jwk))
    with pytest.raises(EncryptionKeyError) as caught:
        request_encryption_key(settings)
    assert caught.value.code == "request_key_corrupt"


# --- issuer: reading credential requests ----------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8"])
def test_plain_request(make_services: Make, content_type: str) -> None:
    """VCI-25: application/json; unknown parameters stay for the caller to ignore."""
    body = {"credential_configuration_id": "diploma_sd_jwt", "future_parameter": [1]}
    request_, encryption_ = read_credential_request(
        json.dumps(body).encode(), content_type, services=make_services()
    )
    assert request_ == body and encryption_ is None


def test_plain_request_may_ask_for_response_encryption(make_services: Make) -> None:
    """[D] accepted while request encryption is optional; null counts as absent."""
    services = make_services()
    body = {"credential_configuration_id": "x", "credential_response_encryption": params(zip="DEF")}
    _, found = read_credential_request(json.dumps(body).encode(), "application/json",
                                       services=services)
    assert found == ResponseEncryption(WALLET_PUBLIC, "A256GCM", "DEF")
    assert (found.alg, found.kid) == ("ECDH-ES", "wallet-1")
    absent = {"credential_response_encryption": None, "credential_configuration_id": "x"}
    _, found_none = read_credential_request(json.dumps(absent).encode(), "application/json",
                                            services=services)
    assert found_none is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"a": 1, "a": 2}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'{"a": 1}', "text/plain"),
        (b'{"a": 1}', "application/x-www-form-urlencoded"),
        (b'{"a": 1}', None),
    ],
)
def test_bad_plain_request(make_services: Make, body: bytes,
                           content_type: str | None) -> None:
    """SPECS §8 item 25: not a JSON object, or the wrong Content-Type."""
    error = refused(body, content_type, make_services())
    assert error.code == "invalid_credential_request"


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
@pytest.mark.parametrize("zip_", [None, "DEF"])
def test_encrypted_request(make_services: Make, enc: str, zip_: str | None) -> None:
    """VCI-25/VCI-34: a wallet encrypts its request (and response key) for the metadata key."""
    services = make_services(required=True)
    claims = {"credential_configuration_id": "diploma_sd_jwt", "proofs": {"jwt": ["x"]},
              "credential_response_encryption": params(enc=enc)}
    token = encrypt_for(issuer_key(services), claims, enc, zip_)
    request_, found = read_credential_request(token, "application/jwt", services=services)
    assert request_ == claims
    assert found == ResponseEncryption(WALLET_PUBLIC, enc, None)


def test_undecryptable_requests(make_services: Make) -> None:
    """§10: a JWE we cannot decrypt (garbage, another key, another kid, not ASCII)."""
    services = make_services()
    ours = issuer_key(services)
    claims = {"credential_configuration_id": "x"}
    other_key = {**key_pair()[0], "kid": ours["kid"]}
    bodies = [
        b"abc",
        encrypt_for(other_key, claims),
        encrypt_for({**ours, "kid": "k2"}, claims),
        encrypt_for(ours, claims) + b"\xc3\xa9",
        encrypt_for(ours, claims).replace(b".", b"..", 1),
    ]
    for body in bodies:
        error = refused(body, "application/jwt", services)
        assert error.code == "invalid_encryption_parameters", body


def test_encrypted_payload_must_be_a_json_object(make_services: Make) -> None:
    services = make_services()
    for plaintext in [b"[1]", b"eyJhbGciOiJFUzI1NiJ9.e30.sig", b'{"a":1,"a":2}']:
        token = encrypt_for(issuer_key(services), plaintext)
        error = refused(token, "application/jwt", services)
        assert error.code == "invalid_credential_request"


def test_plain_request_while_encryption_is_required(make_services: Make) -> None:
    """SPECS §8 item 49 / VCI-34 [S]: a plain request is refused when encryption is required."""
    body = json.dumps({"credential_configuration_id": "x",
                       "credential_response_encryption": params()}).encode()
    error = refused(body, "application/json", make_services(True))
    assert error.code == "invalid_encryption_parameters"


def test_response_encryption_required_but_absent(make_services: Make) -> None:
    """SPECS §8 item 48: encryption_required and no credential_response_encryption."""
    services = make_services(True)
    for claims in [{"credential_configuration_id": "x"},
                   {"credential_configuration_id": "x", "credential_response_encryption": None}]:
        token = encrypt_for(issuer_key(services), claims)
        error = refused(token, "application/jwt", services)
        assert error.code == "invalid_encryption_parameters"


@pytest.mark.parametrize(
    "value",
    [
        params(enc="A192GCM"),
        params(enc="A128CBC-HS256"),
        params(enc=None),
        params(zip="GZIP"),
        params(jwk={k: v for k, v in WALLET_PUBLIC.items() if k != "alg"}),
        params(jwk={**WALLET_PUBLIC, "alg": "ECDH-ES+A256KW"}),
        params(jwk={**WALLET_PUBLIC, "alg": "RSA-OAEP-256"}),
        params(jwk=WALLET_PRIVATE),
        params(jwk=None),
        params(jwk="not a key"),
        params(jwk=key_pair(curve=ec.SECP384R1())[0]),
        params(jwk={**WALLET_PUBLIC, "y": WALLET_PUBLIC["x"]}),
        params(jwk={**WALLET_PUBLIC, "use": "sig"}),
        "A256GCM",
        [params()],
    ],
)
def test_bad_response_encryption_parameters(make_services: Make, value: Any) -> None:
    """SPECS §8 item 47 (suite): unsupported enc/alg, a jwk without alg, a private jwk, ..."""
    services = make_services()
    claims = {"credential_configuration_id": "x", "credential_response_encryption": value}
    for body, content_type in [(encrypt_for(issuer_key(services), claims), "application/jwt"),
                               (json.dumps(claims).encode(), "application/json")]:
        error = refused(body, content_type, services)
        assert error.code == "invalid_encryption_parameters"
        assert error.detail.isascii() and '"' not in error.detail and "\\" not in error.detail


# --- issuer: credential responses -----------------------------------------------------------


@pytest.mark.parametrize("status", [200, 202])
@pytest.mark.parametrize("zip_", [None, "DEF"])
def test_encrypted_response(status: int, zip_: str | None) -> None:
    """VCI-34: application/jwt; JWE alg = the JWK's alg, kid copied, zip only when requested."""
    response = credential_response(BODY, status, ResponseEncryption(WALLET_PUBLIC, "A256GCM", zip_))
    assert response.status_code == status and response.mimetype == "application/jwt"
    assert response.headers["Cache-Control"] == "no-store"
    header, plaintext = jose.jwe_decrypt(response.get_data(as_text=True),
                                         private_jwk=WALLET_PRIVATE, algs=["ECDH-ES"],
                                         encs=["A256GCM"])
    assert json.loads(plaintext) == BODY
    assert (header["alg"], header["enc"], header["kid"]) == ("ECDH-ES", "A256GCM", "wallet-1")
    assert header.get("zip") == zip_


def test_encrypted_response_for_a_key_without_kid() -> None:
    public, private = key_pair(kid=None)
    response = credential_response(BODY, 200, ResponseEncryption(public, "A128GCM", None))
    header, _ = jose.jwe_decrypt(response.get_data(as_text=True), private_jwk=private,
                                 algs=["ECDH-ES"], encs=["A128GCM"])
    assert "kid" not in header and "zip" not in header


@pytest.mark.parametrize("status", [200, 202, 400])
def test_plain_response(status: int) -> None:
    response = credential_response(BODY, status, None)
    assert response.status_code == status and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store" and response.get_json() == BODY


def test_error_bodies_are_never_encrypted() -> None:
    """SPECS §8 item 50 / VCI-33: an error status goes out as plain JSON even when asked."""
    error = {"error": "invalid_proof", "error_description": "the proof is invalid"}
    response = credential_response(error, 400, ResponseEncryption(WALLET_PUBLIC, "A128GCM", None))
    assert response.mimetype == "application/json" and response.get_json() == error


def test_through_the_app(tmp_path: Path, key_store: FileKeyStore) -> None:
    """SPECS §8 item 50 end to end in the issuer app: success is a JWE, any error plain JSON."""
    settings = Settings(data_dir=tmp_path / "app", public_url=ISSUER)
    engine = make_engine(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    app = create_app(settings, engine=engine, keys=key_store)

    def endpoint() -> Any:
        from issuer.app import services

        body, wanted = read_credential_request(request.get_data(), request.content_type,
                                               services=services())
        if body.get("fail"):
            raise ProtocolError("invalid_proof", "the proof is invalid")
        return credential_response({"credentials": [{"credential": "c"}]}, 200, wanted)

    app.add_url_rule("/test-credential", view_func=endpoint, methods=["POST"])
    client = app.test_client()
    with app.app_context():
        ours = issuer_key(app.extensions["duo"])
    asked = {"credential_response_encryption": params()}
    ok = client.post("/test-credential", data=encrypt_for(ours, asked),
                     content_type="application/jwt")
    assert ok.status_code == 200 and ok.mimetype == "application/jwt"
    _, plaintext = jose.jwe_decrypt(ok.get_data(as_text=True), private_jwk=WALLET_PRIVATE,
                                    algs=["ECDH-ES"], encs=["A256GCM"])
    assert json.loads(plaintext) == {"credentials": [{"credential": "c"}]}
    for data, content_type in [(encrypt_for(ours, {**asked, "fail": True}), "application/jwt"),
                               (encrypt_for(ours, {"credential_response_encryption": params(
                                   enc="A192GCM")}), "application/jwt"),
                               (b"{", "application/json")]:
        failed = client.post("/test-credential", data=data, content_type=content_type)
        assert failed.status_code == 400 and failed.mimetype == "application/json"
        assert failed.headers["Cache-Control"] == "no-store"
        assert failed.get_json()["error"] in {"invalid_proof", "invalid_encryption_parameters",
                                              "invalid_credential_request"}
    engine.dispose()
