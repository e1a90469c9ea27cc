"""The command lines end to end: sign with duo-issuer, present with duo-wallet, check with
duo-verifier, and every tampered variant rejected with its code (issue 2 "Done when")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from issuer import cli as issuer_cli
from issuer.demo import run as run_demo
from verifier import jose
from verifier.cli import check, wallet

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"
AUD = "https://employer.example"


def _issuer(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = issuer_cli.main(list(argv))
    captured = capsys.readouterr()
    _issuer.last_err = captured.err  # type: ignore[attr-defined]
    return code, captured.out


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = check.main(["check", "--json", *argv])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A data dir with keys, a holder key, signed credentials of every format and the bundle."""
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    assert issuer_cli.main(["keys", "init", "--data-dir", str(data)]) == 0
    holder_private = root / "holder.jwk"
    public = wallet.keygen(holder_private)
    holder_public = root / "holder.pub.jwk"
    holder_public.write_text(json.dumps(public))
    return {"root": root, "data": data, "holder": holder_private, "holder_pub": holder_public}


def _sign(world: dict[str, Path], capsys: pytest.CaptureFixture[str], fmt: str,
          type_name: str = "diploma", bound: bool = False) -> Path:
    argv = ["credential", "sign", "--data-dir", str(world["data"]), "--claims",
            str(EXAMPLES / f"{type_name}.json"), "--type", type_name, "--format", fmt]
    if bound:
        argv += ["--holder-jwk", str(world["holder_pub"])]
    code, out = _issuer(capsys, *argv)
    assert code == 0
    path = world["root"] / f"{type_name}-{fmt}-{bound}.txt"
    path.write_text(out)
    return path


def _bundle(world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> Path:
    code, out = _issuer(capsys, "bundle", "export", "--data-dir", str(world["data"]))
    assert code == 0
    path = world["root"] / "bundle.json"
    path.write_text(out)
    return path


@pytest.mark.parametrize("type_name", ["diploma", "grade_list", "nt2_diploma", "inburgering",
                                       "enrolment"])
def test_every_type_signs_and_verifies(world, capsys, type_name: str) -> None:
    credential = _sign(world, capsys, "dc+sd-jwt", type_name)
    code, verdict = _check(capsys, "--bundle", str(_bundle(world, capsys)), str(credential))
    assert (code, verdict["outcome"]) == (0, "valid")
    assert verdict["claims"]["vct"].endswith(f"/vct/{type_name}")
    holder = {c["name"]: c for c in verdict["checks"]}["holder_binding"]
    assert (holder["outcome"], holder["code"]) == ("not_proven", "kb_jwt_missing")


@pytest.mark.parametrize("fmt", ["vc+jwt", "jwt_vc_json"])
def test_vcdm_formats_verify(world, capsys, fmt: str) -> None:
    credential = _sign(world, capsys, fmt)
    assert "/status/w3c/" in _issuer.last_err  # type: ignore[attr-defined]
    code, verdict = _check(capsys, "--bundle", str(_bundle(world, capsys)), str(credential))
    assert (code, verdict["outcome"], verdict["format"]) == (0, "valid", fmt)
    # A BitstringStatusListEntry from the data directory's database, its list in the bundle.
    assert {c["name"]: c for c in verdict["checks"]}["status"]["outcome"] == "passed"


def _flip_signature(text: str) -> str:
    jwt, rest = text.split("~", 1) if "~" in text else (text, None)
    head, body, sig = jwt.split(".")
    raw = bytearray(jose.b64url_decode(sig))
    raw[5] ^= 0x01
    jwt = f"{head}.{body}.{jose.b64url_encode(bytes(raw))}"
    return jwt if rest is None else f"{jwt}~{rest}"


def _edit_payload(text: str) -> str:
    jwt, rest = text.split("~", 1)
    head, body, sig = jwt.split(".")
    payload = json.loads(jose.b64url_decode(body))
    payload["iat"] += 1
    body = jose.b64url_encode(json.dumps(payload).encode())
    return f"{head}.{body}.{sig}~{rest}"


def _forge_disclosure(text: str) -> str:
    parts = text.split("~")
    parts[1] = jose.b64url_encode(json.dumps(["c2FsdHNhbHRzYWx0", "family_name", "X"]).encode())
    return "~".join(parts)


def _duplicate_disclosure(text: str) -> str:
    parts = text.split("~")
    return "~".join([parts[0], parts[1], *parts[1:]])


TAMPERING: dict[str, tuple[Callable[[str], str], str]] = {
    "signature flipped (item 60)": (_flip_signature, "sd_jwt_signature_invalid"),
    "payload edited": (_edit_payload, "sd_jwt_signature_invalid"),
    "forged disclosure (item 64)": (_forge_disclosure, "disclosure_unreferenced"),
    "duplicated disclosure": (_duplicate_disclosure, "disclosure_duplicate"),
    "issuer JWT truncated": (lambda t: t[: t.index("~") // 2] + "~", "sd_jwt_malformed"),
    "no tilde at all": (lambda t: t[: t.index("~")], "sd_jwt_malformed"),
    "not a JWS": (lambda t: "x" + t[: t.index("~")].replace(".", ""), "format_unknown"),
    "garbage after the last tilde": (lambda t: t + "not-a-jwt", "kb_jwt_malformed"),
    "disclosure not base64url": (lambda t: t.replace("~", "~%%~", 1), "disclosure_malformed"),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_tampered_sd_jwt_vc_is_rejected(world, capsys, tmp_path: Path, name: str) -> None:
    tamper, expected = TAMPERING[name]
    credential = _sign(world, capsys, "dc+sd-jwt").read_text().strip()
    bad = tmp_path / "bad.txt"
    bad.write_text(tamper(credential))
    code, verdict = _check(capsys, "--bundle", str(_bundle(world, capsys)), str(bad))
    assert (code, verdict["outcome"], verdict["claims"]) == (1, "invalid", {})
    assert expected in [c["code"] for c in verdict["checks"]]


@pytest.mark.parametrize("fmt", ["vc+jwt", "jwt_vc_json"])
def test_tampered_vcdm_is_rejected(world, capsys, tmp_path: Path, fmt: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(_flip_signature(_sign(world, capsys, fmt).read_text().strip()))
    code, verdict = _check(capsys, "--bundle", str(_bundle(world, capsys)), str(bad))
    assert (code, verdict["checks"][-1]["code"]) == (1, "signature_invalid")


def test_omitting_disclosures_is_allowed_and_hides_the_claim(world, capsys, tmp_path) -> None:
    """Selective disclosure: a holder may drop Disclosures; the claims are then absent."""
    parts = _sign(world, capsys, "dc+sd-jwt").read_text().strip().split("~")
    fewer = tmp_path / "fewer.txt"
    fewer.write_text("~".join([parts[0], *parts[3:]]))
    code, verdict = _check(capsys, "--bundle", str(_bundle(world, capsys)), str(fewer))
    assert code == 0
    full = _check(capsys, "--bundle", str(world["root"] / "bundle.json"),
                  str(world["root"] / "diploma-dc+sd-jwt-False.txt"))[1]
    assert len(json.dumps(verdict["claims"])) < len(json.dumps(full["claims"]))


def _present(world, capsys, credential: Path, nonce: str, disclose: str) -> Path:
    code = wallet.main(["present", "--key", str(world["holder"]), "--disclose", disclose,
                        "--nonce", nonce, "--aud", AUD, str(credential)])
    assert code == 0
    path = world["root"] / "presentation.txt"
    path.write_text(capsys.readouterr().out)
    return path


def test_presentation_with_holder_binding(world, capsys) -> None:
    credential = _sign(world, capsys, "dc+sd-jwt", bound=True)
    presentation = _present(world, capsys, credential, "n-1", "given_name,institution.name")
    bundle = str(_bundle(world, capsys))
    code, verdict = _check(capsys, "--bundle", bundle, "--nonce", "n-1", "--aud", AUD,
                           "--require-holder-binding", str(presentation))
    assert code == 0
    assert verdict["claims"]["institution"] == {"name": "Universiteit Leiden"}
    assert "family_name" not in verdict["claims"]
    for argv, expected in [
        (["--nonce", "n-2", "--aud", AUD], "kb_jwt_nonce_mismatch"),
        (["--nonce", "n-1", "--aud", "https://other.example"], "kb_jwt_aud_mismatch"),
        (["--nonce", "n-1", "--aud", AUD, "--at", "2099-01-01T00:00:00Z"], "kb_jwt_iat_invalid"),
    ]:
        code, verdict = _check(capsys, "--bundle", bundle, "--require-holder-binding", *argv,
                               str(presentation))
        assert (code, verdict["checks"][-1]["code"]) == (1, expected)
    code, verdict = _check(capsys, "--bundle", bundle, "--nonce", "n-1", "--aud", AUD,
                           "--require-holder-binding", str(credential))
    assert (code, verdict["checks"][-1]["code"]) == (1, "kb_jwt_missing")


def test_wallet_refuses_an_unknown_path(world, capsys) -> None:
    credential = _sign(world, capsys, "dc+sd-jwt", bound=True)
    code = wallet.main(["present", "--key", str(world["holder"]), "--disclose", "no_such_claim",
                        "--nonce", "n", "--aud", AUD, str(credential)])
    assert code == 1
    assert "disclosure_path_unknown" in capsys.readouterr().err


def test_anchor_only_trust_leaves_status_undetermined(world, capsys) -> None:
    """Without the bundle's status snapshot the status cannot be decided: exit 2."""
    credential = _sign(world, capsys, "dc+sd-jwt")
    code, verdict = _check(capsys, "--anchor", str(world["data"] / "keys" / "root.cert.pem"),
                           str(credential))
    assert (code, verdict["outcome"]) == (2, "undetermined")
    assert verdict["checks"][-1] == {"name": "status", "outcome": "undetermined",
                                     "code": "status_list_unavailable"}


def test_foreign_anchor_is_rejected(world, capsys, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert issuer_cli.main(["keys", "init", "--data-dir", str(other)]) == 0
    capsys.readouterr()
    credential = _sign(world, capsys, "dc+sd-jwt")
    code, verdict = _check(capsys, "--anchor", str(other / "keys" / "root.cert.pem"),
                           str(credential))
    assert (code, verdict["checks"][-1]["code"]) == (1, "x5c_untrusted")


def test_rotation_keeps_old_credentials_valid(world, capsys, tmp_path: Path) -> None:
    data = tmp_path / "rot"
    assert issuer_cli.main(["keys", "init", "--data-dir", str(data)]) == 0
    world_rot = {**world, "data": data, "root": tmp_path}
    capsys.readouterr()
    old = _sign(world_rot, capsys, "dc+sd-jwt")
    assert issuer_cli.main(["keys", "rotate", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    new = _sign(world_rot, capsys, "dc+sd-jwt", type_name="enrolment")
    bundle = _bundle(world_rot, capsys)
    assert len(json.loads(bundle.read_text())["issuer_metadata"]["jwks"]["keys"]) == 2
    for credential in (old, new):
        assert _check(capsys, "--bundle", str(bundle), str(credential))[0] == 0


def test_stdin_and_usage_errors(world, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    credential = _sign(world, capsys, "dc+sd-jwt").read_bytes()
    bundle = str(_bundle(world, capsys))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(credential)))
    assert _check(capsys, "--bundle", bundle, "-")[0] == 0
    with pytest.raises(SystemExit) as usage:
        check.main(["check", "--json"])  # no trust source: the verifier trusts nothing
    assert usage.value.code == 64
    assert check.main(["check", "--bundle", bundle, "--require-holder-binding", "x"]) == 64
    assert check.main(["check", "--bundle", str(world["root"] / "missing.json"), "x"]) == 64


def test_sign_refuses_bad_claims(world, capsys, tmp_path: Path) -> None:
    claims = json.loads((EXAMPLES / "diploma.json").read_text())
    claims["eqf_level"] = "six"
    bad = tmp_path / "claims.json"
    bad.write_text(json.dumps(claims))
    code, out = _issuer(capsys, "credential", "sign", "--data-dir", str(world["data"]),
                        "--claims", str(bad), "--type", "diploma", "--format", "dc+sd-jwt")
    assert (code, out) == (1, "")
    err = _issuer.last_err  # type: ignore[attr-defined]
    assert "claims_schema_invalid" in err and "six" not in err
    code, _ = _issuer(capsys, "credential", "sign", "--data-dir", str(tmp_path / "none"),
                      "--claims", str(EXAMPLES / "diploma.json"), "--type", "diploma",
                      "--format", "dc+sd-jwt")
    assert code == 1 and "key_store_missing" in _issuer.last_err  # type: ignore[attr-defined]


def test_demo_runs_end_to_end(tmp_path: Path, capsys) -> None:
    from datetime import UTC, datetime

    assert run_demo(tmp_path, datetime.now(UTC)) == 0
    out = capsys.readouterr().out
    assert "credential_revoked" in out and "disclosure_unreferenced" in out
    assert "Demo complete." in out
