"""The demo behind ``make demo``: issue a diploma, present it from a wallet, verify it, offline.

Every step prints what happens. It uses the development key store in ``./data`` (or
``$DUO_DATA_DIR``), made on first run; each run issues new credentials with fresh status indices.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from issuer.credentials.signing import sign_sd_jwt_vc, sign_vcdm
from issuer.status_lists import FileStatusRegistry
from issuer.trust_bundle import export_bundle
from keys.file_store import init_store
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


def run(data_dir: Path, now: datetime) -> int:
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
    registry = FileStatusRegistry(data_dir, keys.issuer)
    status = registry.allocate()
    credential = sign_sd_jwt_vc(
        "diploma",
        claims,
        keys=keys,
        issuer=keys.issuer,
        holder_jwk=jose.public_jwk(holder),
        status=status,
        now=now,
    )
    print(
        f"   {len(credential)} characters, {credential.count('~') - 1} disclosures "
        f"(every claim selectively disclosable), status index {status.idx}"
    )

    _step(4, "DUO publishes the trust bundle; the employer downloads it once")
    bundle = export_bundle(keys, registry, now=now)
    (data_dir / "bundle.json").write_text(json.dumps(bundle, indent=2), encoding="utf-8")
    trust = TrustStore.from_bundle(bundle)
    issuer_keys = len(bundle["issuer_metadata"]["jwks"]["keys"])
    print(
        f"   {data_dir / 'bundle.json'}: {len(bundle['anchors'])} root, {issuer_keys} issuer "
        f"key(s), {len(bundle['type_metadata'])} types, {len(bundle['status_lists'])} status list"
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
    registry.set_status(status.idx, 1)
    trust = TrustStore.from_bundle(export_bundle(keys, registry, now=now))
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


def main() -> int:
    data_dir = Path(os.environ.get("DUO_DATA_DIR") or "data").resolve()
    return run(data_dir, datetime.now(UTC))


if __name__ == "__main__":
    sys.exit(main())
