"""The demo behind ``make demo``: a live issuer with seeded data and a ready offer, and the
employer's verifier beside it (``duo-verifier serve`` on port 8090, trusting the issuer's bundle).

``python -m issuer.demo`` (README's first command) makes the development keys for
``http://127.0.0.1:8080`` and the embedded SQLite database in ``./data`` (or ``$DUO_DATA_DIR``;
``DATABASE_URL`` for PostgreSQL), seeds the synthetic registry (issuer.registry.seed), prints the
URLs (issuer metadata, trust bundle, status lists) and a ready offer with its PIN for a seeded
person's diploma, with the commands that receive, present and check it from another terminal; then
serves (issuer.cli.serve) until Ctrl-C.

``python -m issuer.demo --offline`` is issue 2's round trip without a server: issue a diploma,
present it from a wallet, verify it, revoke it; every step prints what happens. It keeps its own
key store and database in ``./data/offline`` (its issuer is ``https://issuer.duo.test``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.app import KeyStoreMismatch
from issuer.cli import serve
from issuer.config import ConfigError, Settings
from issuer.credentials.signing import sign_sd_jwt_vc, sign_vcdm
from issuer.db import create_schema, make_engine, status
from issuer.db.registry import records_of
from issuer.oid4vci.offers import CreatedOffer, OfferRequest, make_offer
from issuer.registry.seed import seed_registry
from issuer.status_lists import Lifetimes
from issuer.trust_bundle import database_bundle
from keys.file_store import FileKeyStore, init_store
from schemas import loader
from schemas.qualification_explanations import explain
from verifier import jose
from verifier.cli.wallet import make_presentation
from verifier.policy import Policy
from verifier.trust import TrustStore
from verifier.verdict import Verdict
from verifier.verify import verify

ISSUER = "https://issuer.duo.test"
EMPLOYER = "https://hr.employer.example"
DISCLOSED = (
    "given_name",
    "family_name",
    "diploma_type",
    "qualification_name",
    "award_date",
    "eqf_level",
    "institution.name",
)


def _step(number: int, title: str) -> None:
    print(f"\n== {number}. {title}")


def _show(verdict: Verdict) -> None:
    print(f"   verdict: {verdict.outcome.upper()}")
    for check in verdict.checks:
        print(f"     {check.name:<16} {check.outcome}{f' [{check.code}]' if check.code else ''}")


def _tamper(presentation: str) -> str:
    """Swap one disclosure for one the issuer never signed: same shape, another value."""
    parts = presentation.split("~")
    forged = ["c2FsdHNhbHRzYWx0c2FsdA", "family_name", "Someone Else"]
    parts[1] = jose.b64url_encode(json.dumps(forged).encode())
    return "~".join(parts)


def _bundle(engine: sa.Engine, keys: FileKeyStore, now: datetime) -> dict[str, Any]:
    settings = Settings(data_dir=Path("."))
    lifetimes = Lifetimes(ttl=settings.status_ttl, lifetime=settings.status_lifetime)
    with engine.connect() as conn:
        return database_bundle(conn, keys, issuer=keys.issuer, lifetimes=lifetimes, now=now)


def run(data_dir: Path, now: datetime) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(Settings(data_dir=data_dir).sqlalchemy_url)
    try:
        create_schema(engine)
        return _run(data_dir, engine, now)
    finally:
        engine.dispose()


def _run(data_dir: Path, engine: sa.Engine, now: datetime) -> int:
    _step(1, f"DUO's development keys (X.509 chain to a root CA) in {data_dir}")
    keys = init_store(data_dir, issuer=ISSUER, verifier_host="verifier.duo.test", now=now)
    issuer_key = keys.signing_key("issuer").record
    print(f"   issuer {keys.issuer}, signing key {issuer_key.kid} ({issuer_key.alg})")

    _step(2, "A wallet makes its holder key")
    holder = ec.generate_private_key(ec.SECP256R1())
    print(f"   holder key thumbprint {jose.jwk_thumbprint(jose.public_jwk(holder))}")

    _step(3, "DUO issues a diploma as SD-JWT VC, bound to the holder key, with a status index")
    claims = loader.example_claims("diploma")
    loader.validate_claims("diploma", claims)
    with engine.begin() as conn:
        allocation = status.allocate(conn, "tsl", now=now, issuer=keys.issuer)
    credential = sign_sd_jwt_vc(
        "diploma",
        claims,
        keys=keys,
        issuer=keys.issuer,
        holder_jwk=jose.public_jwk(holder),
        status=status.status_reference(allocation),
        now=now,
    )
    print(
        f"   {len(credential)} characters, {credential.count('~') - 1} disclosures "
        f"(every claim selectively disclosable), status index {allocation.idx}"
    )

    _step(4, "DUO publishes the trust bundle; the employer downloads it once")
    bundle = _bundle(engine, keys, now)
    (data_dir / "bundle.json").write_text(json.dumps(bundle, indent=2), encoding="utf-8")
    trust = TrustStore.from_bundle(bundle)
    issuer_keys = len(bundle["issuer_metadata"]["jwks"]["keys"])
    print(
        f"   {data_dir / 'bundle.json'}: {len(bundle['anchors'])} root, {issuer_keys} issuer "
        f"key(s), {len(bundle['type_metadata'])} types, "
        f"{len(bundle['status_lists'])} status list(s)"
    )

    _step(5, "The employer asks for a few claims; the wallet discloses only those, with a KB-JWT")
    nonce = secrets.token_urlsafe(16)
    presentation = make_presentation(
        credential,
        key=holder,
        paths=DISCLOSED,
        nonce=nonce,
        aud=EMPLOYER,
        iat=int(now.timestamp()),
    )
    print(f"   disclosed: {', '.join(DISCLOSED)}")

    _step(6, "The employer verifies offline: signature, trust chain, disclosures, binding, status")
    policy = Policy(require_holder_binding=True, nonce=nonce, audience=EMPLOYER)
    verdict = verify(presentation, trust=trust, policy=policy, now=now)
    _show(verdict)
    shown = {k: v for k, v in verdict.claims.items() if k in {p.split(".")[0] for p in DISCLOSED}}
    print("   claims: " + json.dumps(shown, ensure_ascii=False))
    meaning = explain(str(verdict.claims.get("diploma_type")), "de")
    print(f"   for a German reader: {meaning.name}. {meaning.levels_text}.")
    print(f"   {meaning.access}")

    _step(7, "A forged disclosure is rejected")
    _show(verify(_tamper(presentation), trust=trust, policy=policy, now=now))

    _step(8, "DUO revokes the credential; the next status-list snapshot says so")
    with engine.begin() as conn:
        status.set_value(conn, allocation.list_id, allocation.idx, status.REVOKED, now=now)
    trust = TrustStore.from_bundle(_bundle(engine, keys, now))
    revoked = verify(presentation, trust=trust, policy=policy, now=now)
    _show(revoked)

    _step(9, "The same diploma as a W3C VCDM 2.0 credential (European Learning Model, vc+jwt)")
    w3c = sign_vcdm(
        "vc+jwt", "diploma", claims, keys=keys, issuer=keys.issuer, holder_jwk=None, now=now
    )
    no_binding = Policy(require_holder_binding=False, nonce=None, audience=None)
    _show(verify(w3c, trust=trust, policy=no_binding, now=now))

    ok = verdict.outcome == "valid" and revoked.outcome == "invalid"
    print("\nDemo complete." if ok else "\nDemo FAILED: see the verdicts above.")
    return 0 if ok else 1


@dataclass(frozen=True)
class Demo:
    settings: Settings
    persons: int
    person_id: str
    record_id: str
    offer: CreatedOffer
    status_lists: tuple[str, ...]

    def banner(self, *, verifier_url: str) -> str:
        url, offer = self.settings.public_url, self.offer.summary()
        lists = ", ".join(self.status_lists) or f"{url}/status/... (made with the first credential)"
        aud, nonce = EMPLOYER, "demo-nonce-1"
        minutes = int(self.settings.offer_lifetime.total_seconds() // 60)
        return f"""
== DUO issuer {url} (development only: plain http on loopback, synthetic data)
   data directory   {self.settings.data_dir}
   issuer metadata  {url}/.well-known/openid-credential-issuer
   trust bundle     {url}/.well-known/trust-bundle
   status lists     {lists}
   registry         {self.persons} synthetic persons; the offer is for {self.person_id}

== A ready offer: a diploma in every format, PIN {offer["tx_code"]}, valid {minutes} minutes
   {offer["offer_uri"]}
   QR code: {self.offer.credential_offer_uri}/qr.svg

== In another terminal:
   .venv/bin/duo-wallet receive '{offer["offer_uri"]}' --pin {offer["tx_code"]}
   .venv/bin/duo-wallet list
   .venv/bin/duo-wallet show 1 --key-out holder.jwk > diploma.txt
   .venv/bin/duo-wallet present --key holder.jwk --disclose given_name,family_name,diploma_type \\
       --nonce {nonce} --aud {aud} diploma.txt > presentation.txt
   .venv/bin/duo-issuer bundle export > bundle.json
   .venv/bin/duo-verifier check --bundle bundle.json --require-holder-binding \\
       --nonce {nonce} --aud {aud} presentation.txt
   .venv/bin/duo-issuer revoke --record {self.record_id}   (then export and check again)
   a new offer: .venv/bin/duo-issuer offer create --person {self.person_id} --type diploma --tx-code

== The employer's verifier {verifier_url} (trusts {self.settings.data_dir}/bundle.json)
   open {verifier_url} in a browser, ask for a diploma, then answer the QR code's request:
   .venv/bin/duo-wallet respond '<the openid4vp:// link under the QR code>'
   or paste a credential at {verifier_url}/check

Serving until Ctrl-C.
"""


def _pick(conn: sa.Connection, person_ids: tuple[str, ...]) -> tuple[str, str]:
    """A seeded person with exactly one final diploma record: (person id, record id)."""
    for person_id in person_ids:
        found = [r for r in records_of(conn, person_id) if r.type == "diploma" and r.final]
        if len(found) == 1:
            return person_id, found[0].id
    raise RuntimeError("the seeded registry has no person with one final diploma")


def prepare_demo(settings: Settings, *, persons: int, seed: int, now: datetime) -> Demo:
    """Keys, tables, the seeded registry and a fresh offer with a PIN for every diploma format."""
    serve.prepare(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.begin() as conn:
            report = seed_registry(conn, persons=persons, seed=seed, now=now)
            person_id, record_id = _pick(conn, report.person_ids)
            request = OfferRequest(person_id, "diploma", record_id, None, with_tx_code=True)
            offer = make_offer(
                conn, request, issuer=settings.public_url, created_by="demo", now=now,
                lifetime=settings.offer_lifetime,
            )  # fmt: skip
            lists = tuple(found.uri for found in status.lists_of(conn, settings.public_url))
    finally:
        engine.dispose()
    return Demo(settings, len(report.person_ids), person_id, record_id, offer, lists)


VERIFIER_PORT = 8090


def _start_verifier(settings: Settings, host: str) -> subprocess.Popen[bytes]:
    """The employer's verifier (``duo-verifier serve``) beside the issuer, trusting the bundle the
    issuer exports now; it may fetch fresh status lists and bundles from the issuer (loopback)."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        bundle = _bundle(engine, FileKeyStore.open(settings.data_dir), datetime.now(UTC))
    finally:
        engine.dispose()
    bundle_path = settings.data_dir / "bundle.json"
    bundle_path.write_text(json.dumps(bundle, indent=2), encoding="utf-8")
    issuer_host = settings.public_url.split("://", 1)[1]
    env = {
        **os.environ,
        "DUO_VERIFIER_BUNDLE_URL": f"{settings.public_url}/.well-known/trust-bundle",
    }
    command = [
        sys.executable, "-m", "verifier.cli.check", "serve", "--host", host,
        "--port", str(VERIFIER_PORT), "--bundle", str(bundle_path),
        "--data-dir", str(settings.data_dir), "--allow-host", issuer_host, "--workers", "1",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env)  # noqa: S603  (our own module, fixed arguments)


def serve_demo(args: argparse.Namespace) -> int:
    try:
        url = serve.public_url(args.host, args.port, None)
        settings = Settings.from_env(data_dir=str(args.data_dir)).with_public_url(url)
        demo = prepare_demo(settings, persons=args.persons, seed=args.seed, now=datetime.now(UTC))
    except ConfigError as error:
        print(f"demo: error: {error.detail} ({error.code})", file=sys.stderr)
        return 1
    except KeyStoreMismatch:
        print(
            f"demo: error: {args.data_dir} holds keys for another issuer (an older demo?); "
            "remove it or set DUO_DATA_DIR to another directory",
            file=sys.stderr,
        )
        return 1
    verifier = _start_verifier(settings, args.host)
    print(demo.banner(verifier_url=f"http://{args.host}:{VERIFIER_PORT}"), flush=True)
    try:
        serve.serve(settings, host=args.host, port=args.port, workers=1)
    finally:
        verifier.terminate()
        verifier.wait(timeout=10)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m issuer.demo", description=__doc__)
    parser.add_argument("--offline", action="store_true", help="issue 2's round trip, no server")
    parser.add_argument("--host", default=serve.DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=serve.DEFAULT_PORT)
    parser.add_argument("--persons", type=int, default=20, help="synthetic persons to seed")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic registry")
    args = parser.parse_args(argv)
    args.data_dir = Path(os.environ.get("DUO_DATA_DIR") or "data").resolve()
    if args.offline:
        return run(args.data_dir / "offline", datetime.now(UTC))
    return serve_demo(args)


if __name__ == "__main__":
    sys.exit(main())
