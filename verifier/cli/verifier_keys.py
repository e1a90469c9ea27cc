"""``duo-verifier keys init``: the verifier's own request-signing key and certificate.

The verifier is its own party (OpenID4VP 1.0 §5.9.3, HAIP 1.0 §5): it signs request objects with
the ``verifier_request`` key of a development key store (keys.file_store, docs/keys.md) in
``<data-dir>/verifier/keys``, whose leaf certificate carries the verifier's DNS name as a
dNSName SAN (``x509_san_dns``) and whose hash is the ``x509_hash`` client_id. The store's other
keys are unused by the verifier. An existing store is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

from keys import pki
from keys.file_store import FileKeyStore, KeyStoreError, init_store
from verifier.cli import ArgumentParser
from verifier.oid4vp.client_id import x509_hash_client_id
from verifier.service.config import DEFAULT_PUBLIC_URL, VerifierConfigError, VerifierSettings

PROG = "duo-verifier keys"
#: The DNS name used when the public URL's host is an IP address (a dNSName cannot hold one).
FALLBACK_DNS_NAME = "localhost"


def register(commands: argparse._SubParsersAction[ArgumentParser]) -> None:
    """Add the ``keys`` group with its ``init`` command."""
    parser = commands.add_parser("keys", help="the verifier's request-signing key")
    group = parser.add_subparsers(dest="keys_command", required=True)
    init = group.add_parser("init", help="create the verifier's key and certificate")
    init.add_argument("--data-dir", default=None, help="data directory (default: $DUO_DATA_DIR)")
    init.add_argument("--dns-name", default=None, help="dNSName (default: the public URL host)")
    init.add_argument("--public-url", default=None, help="the verifier's public URL")
    init.add_argument("--json", action="store_true", help="print JSON")
    init.set_defaults(run=run_init)


def default_dns_name(public_url: str) -> str:
    """The public URL's host if it is a DNS name, else ``localhost``."""
    host = (urlsplit(public_url).hostname or "").lower()
    return host if pki.is_dns_name(host) else FALLBACK_DNS_NAME


def ensure_keys(settings: VerifierSettings, *, dns_name: str | None, now: datetime) -> FileKeyStore:
    """The verifier's key store in ``settings.data_dir``, made if missing.

    The store also needs an issuer identifier: the public URL when it is https, else
    ``https://<dns name>`` (a placeholder; the verifier issues nothing).
    """
    if FileKeyStore.exists(settings.data_dir):
        return FileKeyStore.open(settings.data_dir)
    host = dns_name or default_dns_name(settings.public_url)
    if not pki.is_dns_name(host):
        raise KeyStoreError("verifier_host_invalid", "the dNSName must be a lower-case DNS name")
    public = settings.public_url
    identity = public if urlsplit(public).scheme == "https" else f"https://{host}"
    return init_store(settings.data_dir, issuer=identity, verifier_host=host, now=now)


def describe(store: FileKeyStore) -> dict[str, str]:
    """What an operator needs to know about the request-signing key."""
    record = store.signing_key("verifier_request").record
    return {
        "key_dir": str(store.directory),
        "kid": record.kid,
        "certificate": str(store.cert_path("verifier_request")),
        "dns_name": store.verifier_host,
        "client_id": x509_hash_client_id(record.x5c[0]),
    }


def run_init(args: argparse.Namespace) -> int:
    try:
        settings = VerifierSettings.from_env(
            data_dir=args.data_dir,
            public_url=args.public_url
            or os.environ.get("DUO_VERIFIER_PUBLIC_URL")
            or DEFAULT_PUBLIC_URL,
        )
        existed = FileKeyStore.exists(settings.data_dir)
        store = ensure_keys(settings, dns_name=args.dns_name, now=datetime.now(UTC))
        facts = describe(store)
    except (VerifierConfigError, KeyStoreError) as error:
        print(f"{PROG}: error: {error.detail} ({error.code})", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{PROG}: error: cannot use the key store: {error.strerror}", file=sys.stderr)
        return 1
    if existed and args.dns_name and args.dns_name != store.verifier_host:
        print(f"{PROG}: note: the existing store keeps its dNSName", file=sys.stderr)
    if args.json:
        print(json.dumps({**facts, "created": not existed}, indent=2))
    else:
        print(("kept" if existed else "created") + f" the verifier key in {facts['key_dir']}")
        for name in ("kid", "certificate", "dns_name", "client_id"):
            print(f"  {name:<12} {facts[name]}")
    return 0
