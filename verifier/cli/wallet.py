"""``duo-wallet``: the reference holder's command line (key generation, presentation).

``keygen`` writes a P-256 private JWK (mode 0600) for holder binding; ``present`` selects
Disclosures (RFC 9901 §7.2 via verifier.sd_jwt_selection) and appends a KB-JWT (§4.3) for the
given nonce and audience, printing the bare compact SD-JWT+KB.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from verifier import jose, kb_jwt, strict_json
from verifier.cli import EXIT_USAGE, ArgumentParser, read_input
from verifier.errors import DuoError
from verifier.sd_jwt import MAX_SD_JWT_BYTES
from verifier.sd_jwt_selection import present

ALG = "ES256"


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="duo-wallet", description="Reference holder for DUO credentials")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="make a holder key (private JWK, mode 0600)")
    keygen.add_argument("--out", required=True, help="file to write the private JWK to")
    show = commands.add_parser("present", help="disclose claims and add a key binding JWT")
    show.add_argument("file", nargs="?", default="-", help="the SD-JWT VC, or - for stdin")
    show.add_argument("--key", required=True, help="the holder's private JWK file")
    show.add_argument("--disclose", default="", help="comma-separated claim paths, e.g. a,b.c")
    show.add_argument("--nonce", required=True, help="the verifier's nonce")
    show.add_argument("--aud", required=True, help="the verifier's client identifier")
    return parser


def keygen(out: Path) -> dict[str, Any]:
    """Write a new private JWK to ``out`` (never world-readable) and return its public JWK."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = jose.public_jwk(key)
    number = key.private_numbers().private_value.to_bytes(32, "big")
    private = {**public, "d": jose.b64url_encode(number), "alg": ALG}
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(private, handle)
    return public


def _private_key(path: str) -> Any:
    jwk = strict_json.loads_object(Path(path).read_bytes())
    d = int.from_bytes(jose.b64url_decode(jwk["d"]), "big")
    public = jose.public_key_from_jwk({k: v for k, v in jwk.items() if k != "d"})
    return ec.EllipticCurvePrivateNumbers(d, public.public_numbers()).private_key()


def make_presentation(
    credential: str, *, key: Any, paths: Sequence[str], nonce: str, aud: str, iat: int
) -> str:
    """The SD-JWT+KB disclosing ``paths`` only, bound to ``nonce`` and ``aud``."""
    selected = present(credential, list(paths))
    binding = kb_jwt.create_kb_jwt(
        selected, signer=jose.private_key_signer(key, ALG), alg=ALG, nonce=nonce, aud=aud, iat=iat
    )
    return selected + binding


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "keygen":
            print(json.dumps(keygen(Path(args.out))))
            return 0
        key = _private_key(args.key)
        credential = read_input(args.file, MAX_SD_JWT_BYTES)
        paths = [p for p in args.disclose.split(",") if p]
        print(
            make_presentation(
                credential,
                key=key,
                paths=paths,
                nonce=args.nonce,
                aud=args.aud,
                iat=int(time.time()),
            )
        )
    except DuoError as error:
        print(f"duo-wallet: error ({error.code})", file=sys.stderr)
        return 1
    except (OSError, KeyError, ValueError) as error:
        print(f"duo-wallet: error: {type(error).__name__}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
