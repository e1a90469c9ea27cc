"""The signed trust bundle (trust-bundle+jwt): opened only when its anchors certify its signer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, Duo

from issuer.trust_bundle import signed_bundle
from verifier import jose
from verifier.cli import check
from verifier.errors import InvalidCredential
from verifier.trust_bundle import open_bundle_jwt


def test_signed_bundle_opens_to_its_payload(duo: Duo) -> None:
    token = signed_bundle(duo.bundle, duo.keys)
    assert open_bundle_jwt(token, now=NOW) == json.loads(json.dumps(duo.bundle))


def _expect(token: str, code: str) -> None:
    with pytest.raises(InvalidCredential) as error:
        open_bundle_jwt(token, now=NOW)
    assert error.value.code == code


def test_tampered_bundle_is_refused(duo: Duo) -> None:
    """A mirror that edits the payload breaks the signature."""

    token = signed_bundle(duo.bundle, duo.keys)
    head, body, sig = token.split(".")
    payload = json.loads(jose.b64url_decode(body))
    payload["generated_at"] = "2030-01-01T00:00:00Z"
    forged = f"{head}.{jose.b64url_encode(json.dumps(payload).encode())}.{sig}"
    _expect(forged, "trust_bundle_signature_invalid")


def test_bundle_signed_by_the_status_list_key_is_refused(duo: Duo) -> None:
    header = {**duo.header("status_list"), "typ": "trust-bundle+jwt"}
    token = duo.sign(header, dict(duo.bundle), "status_list")
    _expect(token, "x5c_issuer_mismatch")


@pytest.mark.parametrize("typ", ["JWT", None])
def test_wrong_typ_is_refused(duo: Duo, typ: str | None) -> None:
    header = {k: v for k, v in duo.header().items() if k != "typ"}
    if typ:
        header["typ"] = typ
    _expect(duo.sign(header, dict(duo.bundle)), "trust_bundle_malformed")


def test_cli_accepts_the_signed_form(duo: Duo, tmp_path: Path, capsys: Any) -> None:
    bundle = tmp_path / "bundle.jwt"
    bundle.write_text(signed_bundle(duo.bundle, duo.keys))
    credential = tmp_path / "c.txt"
    credential.write_text(duo.issue(status="valid"))
    at = NOW.isoformat()
    argv = ["check", "--json", "--bundle", str(bundle), "--at", at, str(credential)]
    assert check.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "valid"
    bundle.write_text(signed_bundle(duo.bundle, duo.keys)[:-4] + "AAAA")
    assert check.main(["check", "--bundle", str(bundle), "--at", at, str(credential)]) == 64
