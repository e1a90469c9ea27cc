"""``duo-wallet``: the reference holder's command line (receive, list, show, keygen, present,
respond).

``receive`` redeems a credential offer with OpenID4VCI 1.0's pre-authorized code flow
(verifier.holder) and keeps the credentials in the wallet file of the data directory (mode 0600);
``list`` shows them and ``show`` prints one (and can write its holder key for ``present``).
``keygen`` writes a P-256 private JWK (mode 0600) for holder binding; ``present`` selects
Disclosures (RFC 9901 §7.2 via verifier.sd_jwt_selection) and appends a KB-JWT (§4.3) for the
given nonce and audience, printing the bare compact SD-JWT+KB. ``respond`` answers an OpenID4VP
1.0 request (``openid4vp://...``) with credentials from the wallet file (verifier.holder
.oid4vp_client): the claims its DCQL query asks for plus ``--disclose``, bound to the request.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from verifier import jose, kb_jwt, strict_json, x509_trust
from verifier.cli import EXIT_USAGE, ArgumentParser, read_input
from verifier.errors import DuoError
from verifier.holder.oid4vci_client import Oid4vciClient
from verifier.holder.oid4vp_client import Oid4vpClient, VerifierError
from verifier.holder.store import WALLET_FILE, Wallet
from verifier.holder.transport import IssuerError
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
    receive = commands.add_parser("receive", help="redeem a credential offer (pre-authorized)")
    receive.add_argument("offer", help="the offer URI (openid-credential-offer://...)")
    receive.add_argument("--pin", help="the transaction code (PIN) the offer asks for")
    listing = commands.add_parser("list", help="list the credentials in the wallet")
    stored = commands.add_parser("show", help="print one credential from the wallet")
    stored.add_argument("id", help="the credential's id (see list)")
    stored.add_argument("--key-out", help="also write its holder key (private JWK, mode 0600)")
    answer = commands.add_parser("respond", help="answer an OpenID4VP request (openid4vp://...)")
    answer.add_argument("request", help="the authorization request URI (openid4vp://...)")
    answer.add_argument("--disclose", default="", help="extra claim paths to disclose, e.g. a,b.c")
    answer.add_argument(
        "--verifier-anchor",
        action="append",
        default=[],
        help="PEM root certificate trusted for verifiers' request signatures (repeatable)",
    )
    for command in (receive, listing, stored, answer):
        command.add_argument(
            "--data-dir", help="directory of wallet.json (default: $DUO_DATA_DIR, else ./data)"
        )
    for command in (receive, listing, answer):
        command.add_argument("--json", action="store_true", help="print JSON")
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


def data_dir(chosen: str | None) -> Path:
    """``--data-dir``, else ``$DUO_DATA_DIR``, else ``./data``."""
    return Path(chosen or os.environ.get("DUO_DATA_DIR") or "data").resolve()


def receive(offer: str, *, pin: str | None, directory: Path) -> dict[str, Any]:
    """Redeem ``offer`` over HTTP, keep what arrives in the wallet, then notify the issuer."""
    with requests.Session() as http:
        http.trust_env = False  # loopback only: never through a proxy from the environment
        client = Oid4vciClient(http, clock=lambda: datetime.now(UTC))
        receipt = client.receive(offer, tx_code=pin)
        wallet = Wallet.open(directory)
        now = datetime.now(UTC)
        issuer = receipt.flow.issuer.issuer
        stored = [wallet.add(item, issuer=issuer, received_at=now) for item in receipt.issued]
        wallet.save()
        # OpenID4VCI 1.0 §11.1: credential_accepted once the credentials are stored. Best
        # effort (§11: the issuer cannot count on it); the credentials are kept either way.
        for notification in dict.fromkeys(i.notification_id for i in receipt.issued):
            try:
                if notification is not None:
                    client.notify(receipt.flow, notification, "credential_accepted")
            except DuoError as error:
                print(f"duo-wallet: warning: the issuer was not notified ({error.code})",
                      file=sys.stderr)  # fmt: skip
    pending = [
        {
            "configuration_id": p.configuration_id,
            "transaction_id": p.transaction_id,
            "interval": p.interval,
        }
        for p in receipt.pending
    ]
    return {"credentials": [c.summary() for c in stored], "pending": pending}


def respond(
    uri: str, *, disclose: Sequence[str], directory: Path, anchor_files: Sequence[str] = ()
) -> dict[str, Any]:
    """Answer the OpenID4VP request ``uri`` over HTTP with the wallet in ``directory``."""
    anchors = None
    if anchor_files:
        anchors = x509_trust.load_anchors_pem([Path(f).read_text("ascii") for f in anchor_files])
    wallet = Wallet.open(directory)
    with requests.Session() as http:
        http.trust_env = False  # loopback only: never through a proxy from the environment
        client = Oid4vpClient(
            http, clock=lambda: datetime.now(UTC), wallet=wallet, verifier_anchors=anchors
        )
        return client.respond(uri, disclose=disclose).as_json()


_WARNINGS = {
    "verifier_chain_not_checked": "the verifier's certificate chain was not checked "
    "(no --verifier-anchor); its signature and client_id were",
    "verifier_not_authenticated": "the request was not signed: the verifier is not authenticated",
}


def _print_response(result: dict[str, Any]) -> None:
    print(f"presented {len(result['shared'])} credential(s) to {result['client_id']}")
    for item in result["shared"]:
        shown = ", ".join(".".join(str(s) for s in path) for path in item["disclosed"]) or "-"
        print(f"  {item['query_id']}: credential {item['credential_id']}, disclosed {shown}")
    for warning in result["warnings"]:
        print(f"duo-wallet: warning: {_WARNINGS.get(warning, warning)}", file=sys.stderr)
    if result["redirect_uri"]:
        print(f"continue in the browser: {result['redirect_uri']}")


def _respond_command(args: Any) -> int:
    paths = [p for p in args.disclose.split(",") if p]
    result = respond(
        args.request,
        disclose=paths,
        directory=data_dir(args.data_dir),
        anchor_files=args.verifier_anchor,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_response(result)
    return 0


def _print_credentials(rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        key = f"key {row['key'][:12]}..." if row["key"] else "no holder key"
        print(
            f"{row['id']:>4}  {row['configuration_id']:<24} {row['format']:<12} {key}  "
            f"{row['received_at']}  {row['issuer']}"
        )


def _wallet_command(args: Any) -> int:
    directory = data_dir(args.data_dir)
    if args.command == "receive":
        result = receive(args.offer, pin=args.pin, directory=directory)
        if args.json:
            print(json.dumps(result, indent=2))
            return 0
        print(f"received {len(result['credentials'])} credential(s) into {directory / WALLET_FILE}")
        _print_credentials(result["credentials"])
        for item in result["pending"]:
            print(f"  deferred: {item['configuration_id']} (the issuer is not ready yet)")
        return 0
    wallet = Wallet.open(directory)
    if args.command == "list":
        rows = [c.summary() for c in wallet.credentials]
        if args.json:
            print(json.dumps({"credentials": rows}, indent=2))
        else:
            _print_credentials(rows)
        return 0
    stored = wallet.find(args.id)
    if args.key_out and stored.key is not None:
        private = wallet.key(stored.key).private_jwk()
        fd = os.open(args.key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({**private, "alg": ALG}, handle)
    print(stored.credential)
    return 0


def _error_line(error: DuoError) -> str:
    if isinstance(error, IssuerError) and re.fullmatch(r"[a-z_]{1,64}", error.error):
        return f"duo-wallet: the server refused ({error.error})"
    if isinstance(error, VerifierError) and re.fullmatch(r"[a-z_]{1,64}", error.error):
        return f"duo-wallet: the verifier refused ({error.error})"
    return f"duo-wallet: error ({error.code})"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in {"receive", "list", "show"}:
            return _wallet_command(args)
        if args.command == "respond":
            return _respond_command(args)
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
        print(_error_line(error), file=sys.stderr)
        return 1
    except (OSError, KeyError, ValueError) as error:
        print(f"duo-wallet: error: {type(error).__name__}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
