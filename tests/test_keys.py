"""The development key store, its PKI, rotation and the ``duo-issuer keys`` commands."""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.util
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from keys import pki
from keys.file_store import FileKeyStore, KeyStoreError, init_store
from keys.store import PURPOSES, KeyStore
from verifier import jose, x509_trust
from verifier.errors import InvalidCredential

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
ISSUER = "https://issuer.duo.test"
VERIFIER_HOST = "verifier.duo.test"


def _load_cli() -> ModuleType:
    """``issuer.cli.keys``, loaded by path while issuer/cli/__init__.py cannot import yet."""
    try:
        return importlib.import_module("issuer.cli.keys")
    except ImportError:
        path = Path(__file__).resolve().parents[1] / "issuer" / "cli" / "keys.py"
        spec = importlib.util.spec_from_file_location("duo_issuer_cli_keys", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


keys_cli = _load_cli()


@pytest.fixture
def store(tmp_path: Path) -> FileKeyStore:
    return init_store(tmp_path, issuer=ISSUER, verifier_host=VERIFIER_HOST, now=NOW)


def _anchors(store: FileKeyStore) -> list[x509.Certificate]:
    return x509_trust.load_anchors_pem(store.anchors_pem())


def _leaf(store: FileKeyStore, purpose: str = "issuer") -> x509.Certificate:
    return x509_trust.parse_certificate(store.history(purpose)[-1].x5c[0])  # type: ignore[arg-type]


def _sign(store: FileKeyStore, payload: dict[str, object]) -> str:
    key = store.signing_key("issuer")
    header = {"alg": key.record.alg, "kid": key.record.kid, "x5c": list(key.record.x5c)}
    return jose.sign_compact(header, payload, key.sign)


def test_store_satisfies_the_key_store_protocol(store: FileKeyStore) -> None:
    typed: KeyStore = store
    assert typed.signing_key("issuer").record.alg == "ES256"


def test_init_writes_private_keys_0600_in_a_0700_directory(tmp_path: Path) -> None:
    """Modes come from os.open, not from the umask: even umask 0 leaves keys owner-only."""
    previous = os.umask(0)
    try:
        store = init_store(tmp_path, issuer=ISSUER, verifier_host=VERIFIER_HOST, now=NOW)
    finally:
        os.umask(previous)
    key_files = sorted(store.directory.glob("*.key.pem"))
    assert len(key_files) == 1 + len(PURPOSES)
    for path in key_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.read_text().startswith("-----BEGIN " + "PRIVATE KEY-----")  # PKCS#8 PEM
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert not list(tmp_path.glob(".keys-*"))


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_leaf_chains_to_the_root(store: FileKeyStore, purpose: str) -> None:
    """SPECS §8 item 62: the store's x5c validates to its root, which x5c never contains."""
    record = store.history(purpose)[-1]  # type: ignore[arg-type]
    assert len(record.x5c) == 1
    leaf = x509_trust.validate_chain(record.x5c, _anchors(store), now=NOW)
    assert jose.jwk_thumbprint(jose.public_jwk(leaf.public_key())) == record.kid
    assert record.public_jwk["kid"] == record.kid
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    root = _anchors(store)[0]
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    assert leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc > timedelta(days=3 * 365)


def test_leaf_names_follow_their_purpose(store: FileKeyStore) -> None:
    """SD-JWT VC §3.5: the issuer leaf names the issuer; the status-list leaf names only the
    status path, so neither key can stand in for the other (purpose separation)."""
    x509_trust.check_issuer_name(_leaf(store), ISSUER)
    x509_trust.check_status_list_signer(
        _leaf(store, "status_list"), f"{ISSUER}/status/1", iss=ISSUER
    )
    with pytest.raises(InvalidCredential) as as_issuer:
        x509_trust.check_issuer_name(_leaf(store, "status_list"), ISSUER)
    assert as_issuer.value.code == "x5c_issuer_mismatch"
    with pytest.raises(InvalidCredential) as as_status:
        x509_trust.check_status_list_signer(_leaf(store), f"{ISSUER}/status/1", iss=ISSUER)
    assert as_status.value.code == "x5c_status_list_mismatch"
    issuer_san = _leaf(store).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert issuer_san.value.get_values_for_type(x509.DNSName) == ["issuer.duo.test"]
    request_san = _leaf(store, "verifier_request").extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert request_san.value.get_values_for_type(x509.DNSName) == [VERIFIER_HOST]
    assert request_san.value.get_values_for_type(x509.UniformResourceIdentifier) == []
    assert store.issuer == ISSUER and store.verifier_host == VERIFIER_HOST


def test_root_is_a_ca_for_leaves_only(store: FileKeyStore) -> None:
    root = _anchors(store)[0]
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert root.not_valid_after_utc - root.not_valid_before_utc >= timedelta(days=20 * 365)
    assert root.not_valid_before_utc == NOW.replace(hour=0, minute=0, second=0, microsecond=0)


def test_init_is_idempotent(tmp_path: Path, store: FileKeyStore) -> None:
    before = {p.name: p.read_bytes() for p in store.directory.iterdir()}
    again = init_store(tmp_path, issuer="https://other.test", verifier_host="x.test", now=NOW)
    assert {p.name: p.read_bytes() for p in again.directory.iterdir()} == before
    assert again.issuer == ISSUER
    assert [r.kid for r in again.history("issuer")] == [r.kid for r in store.history("issuer")]


@pytest.mark.parametrize(
    ("issuer", "host", "code"),
    [
        ("http://issuer.duo.test", VERIFIER_HOST, "issuer_invalid"),
        ("https://issuer.duo.test/?q=1", VERIFIER_HOST, "issuer_invalid"),
        ("https://user@issuer.duo.test", VERIFIER_HOST, "issuer_invalid"),
        ("https://192.0.2.1", VERIFIER_HOST, "issuer_invalid"),
        (ISSUER, "Verifier.duo.test", "verifier_host_invalid"),
        (ISSUER, "bad_host", "verifier_host_invalid"),
    ],
)
def test_init_refuses_bad_names(tmp_path: Path, issuer: str, host: str, code: str) -> None:
    with pytest.raises(KeyStoreError) as caught:
        init_store(tmp_path, issuer=issuer, verifier_host=host, now=NOW)
    assert caught.value.code == code
    assert not (tmp_path / "keys").exists()


def test_open_reports_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(KeyError) as caught:
        FileKeyStore.open(tmp_path)
    assert isinstance(caught.value, KeyStoreError) and caught.value.code == "key_store_missing"


def test_open_reports_an_incomplete_store(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    with pytest.raises(KeyStoreError) as caught:
        FileKeyStore.open(tmp_path)
    assert caught.value.code == "key_store_incomplete"
    with pytest.raises(KeyStoreError) as caught:
        init_store(tmp_path, issuer=ISSUER, verifier_host=VERIFIER_HOST, now=NOW)
    assert caught.value.code == "key_store_incomplete"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda m: "not json",
        lambda m: json.dumps({**m, "format": 99}),
        lambda m: json.dumps({**m, "keys": [{**m["keys"][0], "key_file": "../escape.pem"}]}),
        lambda m: json.dumps({**m, "keys": [{**m["keys"][0], "purpose": "payments"}]}),
        lambda m: json.dumps({**m, "keys": [{**m["keys"][0], "kid": m["keys"][1]["kid"]}]}),
    ],
)
def test_open_reports_a_corrupt_manifest(store: FileKeyStore, mutate: object) -> None:
    path = store.directory / "manifest.json"
    path.write_text(mutate(json.loads(path.read_text())))  # type: ignore[operator]
    with pytest.raises(KeyStoreError) as caught:
        FileKeyStore.open(store.directory.parent)
    assert caught.value.code == "key_store_corrupt"


def test_signing_key_refuses_a_key_file_of_another_key(store: FileKeyStore) -> None:
    issuer_key = next(store.directory.glob("issuer-*.key.pem"))
    status_key = next(store.directory.glob("status_list-*.key.pem"))
    issuer_key.write_bytes(status_key.read_bytes())
    with pytest.raises(KeyStoreError) as caught:
        FileKeyStore.open(store.directory.parent).signing_key("issuer")
    assert caught.value.code == "key_store_corrupt"


def test_unknown_purpose_is_a_key_error(store: FileKeyStore) -> None:
    with pytest.raises(KeyError) as caught:
        store.signing_key("payments")  # type: ignore[arg-type]
    assert isinstance(caught.value, KeyStoreError) and caught.value.code == "key_purpose_unknown"


def test_signature_verifies_with_the_published_key(store: FileKeyStore) -> None:
    token = _sign(store, {"iss": ISSUER})
    jws = jose.parse_compact(token)
    record = store.history("issuer")[-1]
    jose.verify_signature(jws, record.public_jwk, algorithms=["ES256"])
    leaf = x509_trust.validate_chain(jws.header["x5c"], _anchors(store), now=NOW)
    jose.verify_signature(jws, x509_trust.leaf_public_key(leaf), algorithms=["ES256"])
    assert len(jws.signature) == 64  # R||S, RFC 7518 §3.4


def test_rotation_keeps_history_and_old_signatures_verify(store: FileKeyStore) -> None:
    old_token = _sign(store, {"iss": ISSUER, "n": 1})
    old = store.history("issuer")[-1]
    later = NOW + timedelta(days=400)
    new = store.rotate("issuer", now=later)
    assert new.kid != old.kid and new.retired_at is None
    assert new.not_before == "2027-04-05T12:00:00Z"
    history = store.history("issuer")
    assert [r.kid for r in history] == [old.kid, new.kid]
    assert history[0].retired_at == "2027-04-05T12:00:00Z"
    assert store.signing_key("issuer").record == new
    assert len(store.history("status_list")) == 1
    # What the retired key signed keeps verifying with its history record, and not with the new key.
    jws = jose.parse_compact(old_token)
    jose.verify_signature(jws, history[0].public_jwk, algorithms=["ES256"])
    with pytest.raises(InvalidCredential) as caught:
        jose.verify_signature(jws, new.public_jwk, algorithms=["ES256"])
    assert caught.value.code == "signature_invalid"
    x509_trust.validate_chain(history[0].x5c, _anchors(store), now=later)
    reopened = FileKeyStore.open(store.directory.parent)
    assert reopened.history("issuer") == history
    assert (store.directory / f"issuer-{old.kid}.key.pem").exists()


def test_rotation_cannot_go_back_in_time(store: FileKeyStore) -> None:
    with pytest.raises(KeyStoreError) as caught:
        store.rotate("issuer", now=NOW - timedelta(days=1))
    assert caught.value.code == "rotation_time_invalid"


def test_rotation_after_the_root_expired_is_refused(store: FileKeyStore) -> None:
    with pytest.raises(KeyStoreError) as caught:
        store.rotate("status_list", now=NOW + timedelta(days=30 * 365))
    assert caught.value.code == "root_expired"
    assert len(FileKeyStore.open(store.directory.parent).history("status_list")) == 1


def test_leaf_never_outlives_the_root() -> None:
    root_key = pki.new_key()
    root = pki.build_root(root_key, now=NOW)
    late = root.not_valid_after_utc - timedelta(days=10)
    leaf = pki.build_leaf(
        "issuer",
        pki.new_key().public_key(),
        root_key=root_key,
        root_cert=root,
        issuer=ISSUER,
        verifier_host=VERIFIER_HOST,
        now=late,
    )
    assert leaf.not_valid_after_utc == root.not_valid_after_utc


# --- the CLI, through an argparse tree built the way issuer.cli.main builds it ---


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="duo-issuer")
    keys_cli.register(parser.add_subparsers(dest="group", required=True))
    args = parser.parse_args(["keys", *argv])
    return int(args.run(args))


def test_cli_init_json_names_existing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli("init", "--data-dir", str(tmp_path), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"data_dir", "root", *PURPOSES}
    assert out["data_dir"] == str(tmp_path.resolve())
    for purpose in ("root", *PURPOSES):
        assert Path(out[purpose]).is_file()
    anchors = x509_trust.load_anchors_pem([Path(out["root"]).read_text()])
    leaf = x509.load_pem_x509_certificate(Path(out["issuer"]).read_bytes())
    x5c = [base64.b64encode(leaf.public_bytes(Encoding.DER)).decode("ascii")]
    assert x509_trust.validate_chain(x5c, anchors, now=datetime.now(UTC)) == leaf


def test_cli_init_human_output_and_idempotence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUO_DATA_DIR", str(tmp_path))
    assert _cli("init", "--issuer", "https://diploma.example") == 0
    first = capsys.readouterr().out
    assert "created a new key store" in first and "https://diploma.example" in first
    assert _cli("init") == 0
    second = capsys.readouterr().out
    assert "kept the existing key store" in second and "https://diploma.example" in second
    kid = FileKeyStore.open(tmp_path).history("issuer")[-1].kid
    assert kid in first and kid in second


def test_cli_rotate_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli("init", "--data-dir", str(tmp_path)) == 0
    capsys.readouterr()
    assert _cli("rotate", "--data-dir", str(tmp_path), "--json") == 0
    rotated = json.loads(capsys.readouterr().out)
    assert rotated["purpose"] == "issuer" and rotated["old_kid"] != rotated["new_kid"]
    assert _cli("rotate", "--data-dir", str(tmp_path), "--purpose", "status_list") == 0
    assert "retired kid" in capsys.readouterr().out
    assert _cli("list", "--data-dir", str(tmp_path), "--json") == 0
    listed = json.loads(capsys.readouterr().out)["keys"]
    issuer_rows = [row for row in listed if row["purpose"] == "issuer"]
    assert [row["kid"] for row in issuer_rows] == [rotated["old_kid"], rotated["new_kid"]]
    assert issuer_rows[0]["retired_at"] and issuer_rows[1]["retired_at"] is None
    assert len(listed) == 5
    assert _cli("list", "--data-dir", str(tmp_path)) == 0
    text = capsys.readouterr().out
    assert rotated["old_kid"] in text and "current" in text and "retired" in text


@pytest.mark.parametrize(
    "argv",
    [
        ("rotate",),
        ("list", "--json"),
        ("init", "--issuer", "ftp://issuer.duo.test"),
    ],
)
def test_cli_errors_are_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    assert _cli(*argv, "--data-dir", str(tmp_path / "absent")) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("duo-issuer keys: error: ")
