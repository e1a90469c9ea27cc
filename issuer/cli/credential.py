"""``duo-issuer credential sign``: sign one credential with the development keys and print it.

The claims file holds the type's claims as its JSON Schema defines them (schemas/examples/). The
same code path as the issuer service: issuer.credentials.signing. Each credential gets a fresh
random status index from the data directory's database (issuer.db.status): an SD-JWT VC in a Token
Status List, a W3C format in a Bitstring Status List (a ``BitstringStatusListEntry``). It is a
direct signing tool: it records no issued credential (there is no registry record behind it), so
``duo-issuer revoke`` does not know it; the list URI and index are printed on stderr. Exit status 1
with one line on stderr on any problem; the claims themselves are never printed in an error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from issuer.cli.credentials import database_failed, open_database
from issuer.cli.keys import data_dir
from issuer.config import ConfigError
from issuer.credentials.signing import FORMATS, sign_sd_jwt_vc, sign_vcdm
from issuer.db import status
from keys.file_store import FileKeyStore, KeyStoreError
from schemas import loader
from schemas.elm import MappingError
from verifier import jose, strict_json
from verifier.errors import DuoError

PROG = "duo-issuer credential"


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = groups.add_parser("credential", help="sign credentials with the development keys")
    commands = parser.add_subparsers(dest="credential_command", required=True)
    sign = commands.add_parser("sign", help="sign a claims file and print the credential")
    sign.add_argument("--claims", required=True, help="JSON claims file of the type")
    sign.add_argument("--type", required=True, choices=loader.CREDENTIAL_TYPES, dest="type_name")
    sign.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
    sign.add_argument("--holder-jwk", help="the holder's public JWK (binds the credential)")
    sign.add_argument("--data-dir", default=None, help="data directory (default: ./data)")
    sign.set_defaults(run=_sign)


class _Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


def _read_json(path: str, what: str) -> object:
    try:
        return strict_json.loads(Path(path).read_bytes())
    except OSError:
        raise _Refused("file_unreadable", f"cannot read the {what} file") from None
    except DuoError as error:
        raise _Refused(error.code, f"the {what} file is not valid JSON") from None


def _holder_jwk(path: str | None) -> dict[str, object] | None:
    if path is None:
        return None
    jwk = _read_json(path, "holder JWK")
    try:
        jose.public_key_from_jwk(jwk)
    except DuoError as error:
        raise _Refused(error.code, "the holder JWK is not a public key") from None
    assert isinstance(jwk, dict)
    return jwk


def _sign(args: argparse.Namespace) -> int:
    try:
        print(_signed(args))
    except _Refused as error:
        print(f"{PROG}: error: {error.detail} ({error.code})", file=sys.stderr)
        return 1
    except loader.SchemaError as error:
        where = f" at {error.pointer}" if error.pointer else ""
        print(f"{PROG}: error: {error.detail}{where} ({error.code})", file=sys.stderr)
        return 1
    except (KeyStoreError, status.StatusError, MappingError) as error:
        print(f"{PROG}: error: cannot sign ({error.code})", file=sys.stderr)
        return 1
    except (ConfigError, SQLAlchemyError, OSError) as error:
        return database_failed(PROG, error)
    return 0


def _signed(args: argparse.Namespace) -> str:
    claims = _read_json(args.claims, "claims")
    loader.validate_claims(args.type_name, claims)
    assert isinstance(claims, dict)
    holder = _holder_jwk(args.holder_jwk)
    directory = data_dir(args)
    keys = FileKeyStore.open(directory)
    now = datetime.now(UTC)
    kind: status.Kind = "tsl" if args.fmt == "dc+sd-jwt" else "bsl"
    allocation = _allocate(directory, kind, issuer=keys.issuer, now=now)
    print(f"status list {allocation.uri} index {allocation.idx}", file=sys.stderr)
    if kind == "bsl":
        return sign_vcdm(
            args.fmt,
            args.type_name,
            claims,
            keys=keys,
            issuer=keys.issuer,
            holder_jwk=holder,
            now=now,
            status=status.bitstring_entry(allocation),
        )
    return sign_sd_jwt_vc(
        args.type_name,
        claims,
        keys=keys,
        issuer=keys.issuer,
        holder_jwk=holder,
        status=status.status_reference(allocation),
        now=now,
    )


def _allocate(
    directory: Path, kind: status.Kind, *, issuer: str, now: datetime
) -> status.Allocation:
    engine = open_database(directory)
    try:
        with engine.begin() as conn:
            return status.allocate(conn, kind, now=now, issuer=issuer)
    finally:
        engine.dispose()
