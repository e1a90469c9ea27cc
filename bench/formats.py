"""Issuing and verifying one SD-JWT VC diploma, next to the floor this machine sets (DESIGN §8).

The floor is what the cryptography alone costs, measured in the same run with `cryptography` and
hashlib directly: an ES256 signature (ECDSA P-256 with SHA-256 over the JWS signing input,
including the DER -> R||S conversion a JWS needs), an ES256 verification (including R||S -> DER)
and SHA-256 of a 100-byte Disclosure. Issuing floor = 1 sign + N digests (N = Disclosures +
decoys); verifying floor = 2 verifications (issuer JWT, KB-JWT) + one digest per Disclosure + the
``sd_hash`` digest; with a status list add 1 verification (the list token) + its inflate.
ratio = our rate / floor rate (<= 1). Run: ``.venv/bin/python bench/formats.py`` (one core,
~25 s). Each rate is the median of ~0.05 s batches, ~2 s per measurement after a warm-up, with
the batches of all measurements interleaved. The last line is one JSON object for scripts.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from issuer.credentials.signing import TOP_LEVEL_DECOYS, sign_sd_jwt_vc
from issuer.db import create_schema, make_engine
from issuer.db import status as status_db
from issuer.status_lists import Lifetimes
from issuer.trust_bundle import database_bundle
from keys.file_store import FileKeyStore, init_store
from schemas import loader
from verifier import jose, sd_jwt
from verifier.cli.wallet import make_presentation
from verifier.policy import Policy
from verifier.token_status_list import StatusReference
from verifier.trust import TrustStore
from verifier.verify import verify

ISSUER = "https://duo.example"
VERIFIER_HOST = "verifier.example"
NONCE = "bench-nonce-0123456789"
AUDIENCE = "x509_san_dns:verifier.example"
DISCLOSURES = 15
#: 11 leaves plus ``institution`` (itself a Disclosure holding 3 nested ones) = 15 Disclosures.
#: The schema wants qualification_name and programme_code too (17+), so it is not validated here.
CLAIMS = (
    "given_name", "family_name", "birthdate", "diploma_type", "award_date", "issuing_country",
    "record_id", "nlqf_level", "eqf_level", "degree_title", "judicium", "institution",
)  # fmt: skip
SECONDS = 2.0
LIFETIMES = Lifetimes(ttl=timedelta(hours=12), lifetime=timedelta(days=7))
BATCH_SECONDS = 0.05


def pin_one_core() -> str:
    """Run on the first CPU this process may use; returns a description."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to cpu {cpu}"


def _batch_size(fn: Callable[[], object]) -> int:
    """Warm ``fn`` up for 0.2 s and return how many calls take about BATCH_SECONDS."""
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.2:
        fn()
        calls += 1
    return max(1, int(calls / (time.perf_counter() - start) * BATCH_SECONDS))


def rates(fns: dict[str, Callable[[], object]], seconds: float = SECONDS) -> dict[str, float]:
    """Operations per second of each function: the median batch rate.

    Batches of all functions are interleaved round-robin for ``seconds`` each in total, so a
    neighbour's load on a shared machine hits the floor and our code alike.
    """
    sizes = {name: _batch_size(fn) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    end = time.perf_counter() + seconds * len(fns)
    while time.perf_counter() < end:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(sizes[name]):
                fn()
            samples[name].append(sizes[name] / (time.perf_counter() - t0))
    return {name: statistics.median(values) for name, values in samples.items()}


@dataclass
class Setup:
    """Everything issued once, before timing."""

    keys: FileKeyStore
    status: StatusReference
    holder: ec.EllipticCurvePrivateKey
    holder_jwk: dict[str, Any]
    claims: dict[str, Any]
    now: datetime
    credential: str
    presentation: str
    presentation_nostatus: str
    trust: TrustStore
    policy: Policy


def diploma_claims() -> dict[str, Any]:
    example = loader.example_claims("diploma")
    return {name: example[name] for name in CLAIMS}


def issue(s: Setup, status: StatusReference | None = None) -> str:
    return sign_sd_jwt_vc(
        "diploma",
        s.claims,
        keys=s.keys,
        issuer=ISSUER,
        holder_jwk=s.holder_jwk,
        status=status,
        now=s.now,
    )


def present(s: Setup, credential: str) -> str:
    return make_presentation(
        credential, key=s.holder, paths=list(CLAIMS), nonce=NONCE, aud=AUDIENCE,
        iat=int(s.now.timestamp()),
    )  # fmt: skip


def build(data_dir: Path) -> Setup:
    now = datetime.now(UTC)
    keys = init_store(data_dir, issuer=ISSUER, verifier_host=VERIFIER_HOST, now=now)
    engine = make_engine(f"sqlite:///{data_dir / 'bench.sqlite3'}")
    try:
        create_schema(engine)
        with engine.begin() as conn:
            allocation = status_db.allocate(conn, "tsl", now=now, issuer=ISSUER)
            published = database_bundle(conn, keys, issuer=ISSUER, lifetimes=LIFETIMES, now=now)
    finally:
        engine.dispose()
    status = status_db.status_reference(allocation)
    bundle = json.loads(json.dumps(published))
    policy = Policy(require_holder_binding=True, nonce=NONCE, audience=AUDIENCE)
    holder = ec.generate_private_key(ec.SECP256R1())
    s = Setup(
        keys, status, holder, jose.public_jwk(holder), diploma_claims(), now,
        "", "", "", TrustStore.from_bundle(bundle), policy,
    )  # fmt: skip
    s.credential = issue(s, status)
    s.presentation = present(s, s.credential)
    s.presentation_nostatus = present(s, issue(s, None))
    return s


def check_setup(s: Setup) -> int:
    """The presentation verifies, with and without status; returns the Disclosure count."""
    for text, status_outcome in ((s.presentation, "passed"), (s.presentation_nostatus, "skipped")):
        verdict = verify(text, trust=s.trust, policy=s.policy, now=s.now)
        outcomes = {c.name: c.outcome for c in verdict.checks}
        if verdict.outcome != "valid" or outcomes.get("status") != status_outcome:
            raise SystemExit(f"bench setup does not verify: {verdict.as_json()['checks']}")
        if outcomes.get("holder_binding") != "passed":
            raise SystemExit("bench setup: holder binding was not checked")
    issued = sd_jwt.parse(s.credential, expect_kb=False).disclosures
    presented = sd_jwt.parse(s.presentation, expect_kb=True).disclosures
    if len(presented) != len(issued):
        raise SystemExit("bench setup: the presentation does not disclose every claim")
    if len(issued) != DISCLOSURES:
        raise SystemExit(f"bench setup: {len(issued)} Disclosures, not {DISCLOSURES}")
    return len(issued)


def floor_functions(s: Setup) -> dict[str, Callable[[], object]]:
    """The primitives, with `cryptography` and hashlib directly."""
    key = ec.generate_private_key(ec.SECP256R1())
    public, ecdsa = key.public_key(), ec.ECDSA(hashes.SHA256())
    signing_input = s.credential.split("~", 1)[0].rsplit(".", 1)[0].encode("ascii")
    der = key.sign(signing_input, ecdsa)
    r, sig_s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + sig_s.to_bytes(32, "big")

    def sign_jws() -> bytes:
        rr, ss = decode_dss_signature(key.sign(signing_input, ecdsa))
        return rr.to_bytes(32, "big") + ss.to_bytes(32, "big")

    def verify_jws() -> None:
        d = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(d, signing_input, ecdsa)

    disclosure = os.urandom(100)
    sd_hash_input = sd_jwt.parse(s.presentation, expect_kb=True).without_kb.encode("ascii")
    token = jose.parse_compact(s.trust.status_lists[s.status.uri])
    compressed = jose.b64url_decode(token.payload["status_list"]["lst"])
    return {
        "sign_der": lambda: key.sign(signing_input, ecdsa),
        "sign": sign_jws,
        "verify_der": lambda: public.verify(der, signing_input, ecdsa),
        "verify": verify_jws,
        "sha256_100": lambda: hashlib.sha256(disclosure).digest(),
        "sha256_sd_hash": lambda: hashlib.sha256(sd_hash_input).digest(),
        "inflate": lambda: zlib.decompress(compressed),
    }


def main() -> None:
    pinned = pin_one_core()
    with tempfile.TemporaryDirectory(prefix="duo-bench-") as tmp:
        s = build(Path(tmp))
        n = check_setup(s)
        ours: dict[str, Callable[[], object]] = {
            "issue": lambda: issue(s, s.status),
            "verify_kb": lambda: verify(s.presentation, trust=s.trust, policy=s.policy, now=s.now),
            "verify_kb_nostatus": lambda: verify(
                s.presentation_nostatus, trust=s.trust, policy=s.policy, now=s.now
            ),
        }
        measured = rates({**floor_functions(s), **ours})
    report(pinned, n, measured, {name: measured[name] for name in ours})


def summary(n: int, f: dict[str, float], ours: dict[str, float]) -> dict[str, Any]:
    """Floors (operations per second) from the primitives' times, and our ratios to them."""
    t = {name: 1.0 / value for name, value in f.items()}
    nostatus = 2 * t["verify"] + n * t["sha256_100"] + t["sha256_sd_hash"]
    floors = {
        "issue": 1.0 / (t["sign"] + (n + TOP_LEVEL_DECOYS) * t["sha256_100"]),
        "verify_kb": 1.0 / (nostatus + t["verify"] + t["inflate"]),
        "verify_kb_nostatus": 1.0 / nostatus,
    }
    return {
        "issue_per_s": round(ours["issue"], 1),
        "verify_kb_per_s": round(ours["verify_kb"], 1),
        "issue_floor_ratio": round(ours["issue"] / floors["issue"], 3),
        "verify_floor_ratio": round(ours["verify_kb"] / floors["verify_kb"], 3),
        "verify_kb_nostatus_per_s": round(ours["verify_kb_nostatus"], 1),
        "verify_nostatus_floor_ratio": round(
            ours["verify_kb_nostatus"] / floors["verify_kb_nostatus"], 3
        ),
        "disclosures": n,
        "floor_per_s": {name: round(value, 1) for name, value in floors.items()},
        "es256_sign_per_s": round(f["sign"], 1),
        "es256_verify_per_s": round(f["verify"], 1),
        "sha256_100b_per_s": round(f["sha256_100"], 1),
    }


def report(pinned: str, n: int, f: dict[str, float], ours: dict[str, float]) -> None:
    result = summary(n, f, ours)
    floors = result["floor_per_s"]
    print(f"duo-credentials bench/formats.py, one core ({pinned})")
    print("floor (cryptography/hashlib directly):")
    print(f"  ES256 sign   {f['sign']:9.0f}/s  incl. DER->R||S  ({f['sign_der']:.0f}/s DER only)")
    print(f"  ES256 verify {f['verify']:9.0f}/s  incl. R||S->DER  ({f['verify_der']:.0f}/s DER)")
    print(f"  SHA-256 of a 100-byte Disclosure {f['sha256_100']:9.0f}/s")
    print(f"  SHA-256 of the sd_hash input     {f['sha256_sd_hash']:9.0f}/s")
    print(f"  inflate of the status list       {f['inflate']:9.0f}/s")
    print(f"diploma: {n} Disclosures + {TOP_LEVEL_DECOYS} decoys, holder binding, status ref")
    rows = (
        ("issue", "1 sign + N digests"),
        ("verify_kb", "3 verify + N digests + sd_hash + inflate"),
        ("verify_kb_nostatus", "2 verify + N digests + sd_hash"),
    )
    for name, what in rows:
        rate, floor = ours[name], floors[name]
        print(f"  {name:19s} {rate:8.0f}/s {1e6 / rate:6.0f} us   floor {floor:8.0f}/s "
              f"{1e6 / floor:5.0f} us ({what})   ratio {rate / floor:.2f}")  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
