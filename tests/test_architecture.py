"""House rules that can be checked mechanically (shared/DESIGN.md §2 and §7)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("issuer", "verifier", "schemas", "keys")
#: Every class whose first argument is a stable code (the three families and the module errors).
ERROR_CLASSES = {
    "InvalidCredential",
    "VerificationIncomplete",
    "ProtocolError",
    "KeyStoreError",
    "SchemaError",
    "StatusRegistryError",
    "MappingError",
    "EncryptionKeyError",
    "RegistryError",
    "StatusError",
    "ConfigError",
    "VerifierConfigError",
}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def test_nothing_imports_issuer() -> None:
    for package in ("verifier", "schemas", "keys"):
        for path in _modules(package):
            assert "issuer" not in {_top(n) for n in _imports(path)}, path


def test_verifier_core_does_no_io_through_keys_or_apps() -> None:
    """The verifier core imports neither keys nor the issuer; service, cli and holder are edges."""
    for path in _modules("verifier"):
        relative = path.relative_to(ROOT / "verifier").parts
        if relative[0] in {"service", "cli", "holder"}:
            continue
        tops = {_top(n) for n in _imports(path)}
        assert not tops & {"issuer", "keys", "requests", "flask", "sqlalchemy"}, path


def test_schemas_is_the_bottom_layer() -> None:
    for path in _modules("schemas"):
        assert not {_top(n) for n in _imports(path)} & {"issuer", "verifier", "keys"}, path


def test_keys_uses_only_the_jose_wrapper_of_the_verifier() -> None:
    allowed = {"verifier.jose", "verifier.errors", "verifier.strict_json"}
    for path in _modules("keys"):
        for name in _imports(path):
            if _top(name) == "verifier":
                assert name in allowed, (path, name)


def test_only_jose_module_imports_jose_libraries() -> None:
    for package in PACKAGES:
        for path in _modules(package):
            if path == ROOT / "verifier" / "jose.py":
                continue
            tops = {_top(n) for n in _imports(path)}
            assert not tops & {"jwt", "jwcrypto"}, path


def test_no_banned_module_names() -> None:
    banned = {"utils", "misc", "helpers", "common"}
    for package in PACKAGES:
        for path in _modules(package):
            assert path.stem not in banned and not path.stem.endswith("2"), path


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _codes_in_call(node: ast.Call) -> list[str | None]:
    """Error-class calls' first argument, ``code=`` keywords, and verdict notes' third argument."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    found = [_literal(k.value) for k in node.keywords if k.arg == "code"]
    if name in ERROR_CLASSES and node.args:
        found.append(_literal(node.args[0]))
    if name == "note" and len(node.args) == 3:
        found.append(_literal(node.args[2]))
    return found


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for package in PACKAGES:
        for path in _modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    codes.update(c for c in _codes_in_call(node) if c)
    return codes


def test_every_error_code_is_documented() -> None:
    documented = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    missing = sorted(code for code in _raised_codes() if f"`{code}`" not in documented)
    assert not missing, f"codes missing from docs/errors.md: {missing}"


def test_error_codes_are_found() -> None:
    """The collector above must see the codes, or the documentation test proves nothing."""
    codes = _raised_codes()
    assert {"json_duplicate_key", "json_too_deep"} <= codes  # raise sites
    assert {"kb_jwt_signature_invalid", "key_store_missing", "status_not_referenced"} <= codes
