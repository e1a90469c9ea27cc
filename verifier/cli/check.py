"""``duo-verifier check``: verify one credential or presentation, offline, and print the verdict.

Exit status: 0 valid, 1 invalid, 2 undetermined, 64 usage error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from verifier import strict_json
from verifier.cli import EXIT_USAGE, ArgumentParser, read_input
from verifier.errors import DuoError
from verifier.policy import Policy
from verifier.trust import TrustStore
from verifier.trust_bundle import open_bundle_jwt
from verifier.verdict import Verdict
from verifier.verify import MAX_INPUT_BYTES, verify

EXIT_CODES = {"valid": 0, "invalid": 1, "undetermined": 2}


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="duo-verifier", description="Check a DUO credential offline")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="verify a credential or presentation")
    check.add_argument("file", nargs="?", default="-", help="credential file, or - for stdin")
    trust = check.add_mutually_exclusive_group(required=True)
    trust.add_argument("--bundle", help="trust bundle JSON (duo-issuer bundle export)")
    trust.add_argument("--anchor", action="append", help="trusted root certificate (PEM)")
    trust.add_argument("--issuer-jwk", help="pinned issuer public JWK or jwt-vc-issuer metadata")
    check.add_argument("--nonce", help="the nonce the KB-JWT must carry")
    check.add_argument("--aud", help="the audience the KB-JWT must carry")
    check.add_argument("--require-holder-binding", action="store_true")
    check.add_argument("--at", help="verification time, ISO 8601 (default: now)")
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    from verifier.cli import serve, verifier_keys  # the service commands: serve, keys init

    serve.register(commands)
    verifier_keys.register(commands)
    return parser


def _trust(args: object, now: datetime) -> TrustStore:
    bundle, anchors, jwk = (getattr(args, n) for n in ("bundle", "anchor", "issuer_jwk"))
    if bundle:
        data = Path(bundle).read_bytes()
        if data.lstrip().startswith(b"{"):
            return TrustStore.from_bundle(strict_json.loads(data, max_depth=64))
        signed = open_bundle_jwt(data.decode("ascii", errors="replace"), now=now)
        return TrustStore.from_bundle(signed)
    if anchors:
        return TrustStore.from_anchors([Path(p).read_text(encoding="ascii") for p in anchors])
    return TrustStore.from_pinned_jwk(strict_json.loads(Path(jwk).read_bytes()))


def _time(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print_text(verdict: Verdict) -> None:
    print(f"{verdict.outcome.upper()} ({verdict.format})")
    for check in verdict.checks:
        suffix = f" [{check.code}]" if check.code else ""
        print(f"  {check.name:<16} {check.outcome}{suffix}")
    if verdict.claims:
        print(json.dumps(dict(verdict.claims), indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "check":
        return int(args.run(args))
    if args.require_holder_binding and (args.nonce is None or args.aud is None):
        print("duo-verifier: --require-holder-binding needs --nonce and --aud", file=sys.stderr)
        return EXIT_USAGE
    try:
        now = _time(args.at)
        trust = _trust(args, now)
        text = read_input(args.file, MAX_INPUT_BYTES)
    except (OSError, ValueError, DuoError) as error:
        code = getattr(error, "code", type(error).__name__)
        print(f"duo-verifier: cannot read input or trust source ({code})", file=sys.stderr)
        return EXIT_USAGE
    policy = Policy(
        require_holder_binding=args.require_holder_binding, nonce=args.nonce, audience=args.aud
    )
    verdict = verify(text, trust=trust, policy=policy, now=now)
    try:
        if args.json:
            print(json.dumps(verdict.as_json(), ensure_ascii=False))
        else:
            _print_text(verdict)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: the verdict still sets the exit status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_CODES[verdict.outcome]


if __name__ == "__main__":
    sys.exit(main())
