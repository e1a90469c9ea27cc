"""House rules that can be checked mechanically (shared/DESIGN.md §2 and §7)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("issuer", "verifier", "schemas", "keys")
ERROR_CLASSES = {"InvalidCredential", "VerificationIncomplete", "ProtocolError"}


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
    """The verifier core imports neither keys nor the issuer; service and cli may use keys."""
    for path in _modules("verifier"):
        relative = path.relative_to(ROOT / "verifier").parts
        if relative[0] in {"service", "cli"}:
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


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for package in PACKAGES:
        for path in _modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ERROR_CLASSES
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    codes.add(node.args[0].value)
    return codes


def test_every_error_code_is_documented() -> None:
    documented = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    missing = sorted(code for code in _raised_codes() if f"`{code}`" not in documented)
    assert not missing, f"codes missing from docs/errors.md: {missing}"


def test_error_codes_are_found() -> None:
    """The collector above must see the codes, or the documentation test proves nothing."""
    assert {"json_duplicate_key", "json_too_deep"} <= _raised_codes()
