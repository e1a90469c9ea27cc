"""Presentations verified per second: OpenID4VP 1.0 in-process and over HTTP (issue 4, item 7).

One presentation = a diploma SD-JWT VC (the ``diploma`` template's nine claims disclosed) with a
KB-JWT bound to the request's nonce and full client_id, checked as OpenID4VP 1.0 §8.6 says:

- in-process: ``verifier.oid4vp.presentation.evaluate`` of one ``vp_token`` (issuer signature
  and x5c chain, Disclosures, KB-JWT, the status list snapshot of the trust bundle, DCQL match),
  one thread, the floor measured beside it (two ES256 verifications with ``cryptography``
  directly: the issuer JWT and the KB-JWT);
- HTTP: ``duo-verifier serve --workers 2`` (gunicorn) on 127.0.0.1 with a bundle file and its
  own data directory (SQLite). CLIENTS threads each run whole transactions: ``POST
  /api/presentations`` (the diploma template, direct_post.jwt, x509_hash), the reference holder
  (verifier.holder.oid4vp_client: GET the request object, check its signature, present, encrypt,
  POST to the response_uri), ``GET /api/presentations/<id>`` with the result token, which must
  say valid. The clients share the two cores with the server, so their work (a JAR
  verification, a KB-JWT signature, the JWE) counts against ``http_per_s``.

Bounded: about IN_PROCESS_SECONDS + HTTP_SECONDS of measurement after setup (~15 s in all).
Run: ``.venv/bin/python bench/verification.py``. The last line is one JSON object with exactly
``inproc_per_s``, ``http_per_s`` and ``http_p99_ms``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.credentials.signing import sign_sd_jwt_vc
from issuer.db import create_schema, make_engine
from issuer.db import status as status_db
from issuer.status_lists import Lifetimes
from issuer.trust_bundle import database_bundle
from keys.file_store import init_store
from schemas import loader
from verifier.holder.oid4vp_client import Oid4vpClient
from verifier.holder.proofs import HolderKey
from verifier.holder.responses import Issued
from verifier.holder.store import Wallet
from verifier.oid4vp.dcql import template
from verifier.oid4vp.presentation import evaluate
from verifier.sd_jwt_selection import present
from verifier.trust import TrustStore

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://duo.example"
NONCE = "bench-nonce-0123456789abcdef"
CLIENT_ID = "x509_hash:bench-verifier-client-id-0123456789"
LIFETIMES = Lifetimes(ttl=timedelta(hours=12), lifetime=timedelta(days=7))
IN_PROCESS_SECONDS = 3.0
HTTP_SECONDS = 6.0
WARMUP = 4  # transactions per client before timing
CLIENTS = 4
WORKERS = 2
START_TIMEOUT = 60.0


def now() -> datetime:
    return datetime.now(UTC)


def setup(directory: Path) -> tuple[TrustStore, dict[str, Any], str, Path]:
    """Keys, one status list, a bound diploma in a wallet, the bundle (as bundle.json too).

    Returns the trust store, the template's DCQL query, the credential and the wallet's
    directory.
    """
    moment = now()
    keys = init_store(
        directory / "issuer", issuer=ISSUER, verifier_host="verifier.example", now=moment
    )
    engine = make_engine(f"sqlite:///{directory / 'issuer.sqlite3'}")
    try:
        create_schema(engine)
        with engine.begin() as conn:
            allocation = status_db.allocate(conn, "tsl", now=moment, issuer=ISSUER)
            bundle = database_bundle(conn, keys, issuer=ISSUER, lifetimes=LIFETIMES, now=moment)
    finally:
        engine.dispose()
    bundle = json.loads(json.dumps(bundle))
    holder = HolderKey.generate()
    credential = sign_sd_jwt_vc(
        "diploma",
        loader.example_claims("diploma"),
        keys=keys,
        issuer=ISSUER,
        holder_jwk=holder.public_jwk,
        status=status_db.status_reference(allocation),
        now=moment,
    )
    wallet = Wallet.open(directory / "wallet")
    wallet.add(
        Issued(credential, "diploma_sd_jwt", "dc+sd-jwt", holder, None),
        issuer=ISSUER,
        received_at=moment,
    )
    wallet.save()
    query = template("diploma", issuer=ISSUER)
    (directory / "bundle.json").write_text(json.dumps(bundle))
    return TrustStore.from_bundle(bundle), query, credential, wallet.path.parent


def presentation(credential: str, key: HolderKey, query: dict[str, Any]) -> dict[str, list[str]]:
    """The vp_token of the in-process run: the template's claims and a KB-JWT."""
    from verifier import jose, kb_jwt

    paths = [tuple(claim["path"]) for claim in query["credentials"][0]["claims"]]
    shown = present(credential, paths)
    binding = kb_jwt.create_kb_jwt(
        shown,
        signer=jose.private_key_signer(key.private, "ES256"),
        alg="ES256",
        nonce=NONCE,
        aud=CLIENT_ID,
        iat=int(now().timestamp()),
    )
    return {"diploma": [shown + binding]}


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second: the median of batches of ~0.05 s over ``seconds``, after a warm-up."""
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.2:
        fn()
        calls += 1
    size = max(1, int(calls / (time.perf_counter() - start) * 0.05))
    samples, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(size):
            fn()
        samples.append(size / (time.perf_counter() - t0))
    return statistics.median(samples)


def in_process(trust: TrustStore, query: dict[str, Any], vp_token: dict[str, Any]) -> float:
    def once() -> None:
        result = evaluate(
            vp_token,
            dcql_query=query,
            trust=trust,
            nonce=NONCE,
            client_id=CLIENT_ID,
            now=now(),
            status_source=None,
        )
        if result.outcome != "valid":
            raise SystemExit(f"bench: the presentation does not verify: {result.checks}")

    once()
    return rate(once, IN_PROCESS_SECONDS)


def floor() -> float:
    """Two ES256 verifications per presentation (issuer JWT, KB-JWT), `cryptography` alone."""
    key = ec.generate_private_key(ec.SECP256R1())
    data = b"x" * 600
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    return rate(lambda: public.verify(signature, data, ec.ECDSA(hashes.SHA256())), 1.0) / 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(directory: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "verifier.cli.check",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(directory / "verifier-data"),
        "--bundle",
        str(directory / "bundle.json"),
        "--workers",
        str(WORKERS),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUO_")}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + START_TIMEOUT
    with requests.Session() as http:
        http.trust_env = False
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("bench: duo-verifier serve ended early")
            try:
                http.get(f"http://127.0.0.1:{port}/api/presentations/none", timeout=2)
                return process
            except requests.ConnectionError:
                time.sleep(0.1)
    process.kill()
    raise SystemExit("bench: duo-verifier serve did not start")


def transaction(http: requests.Session, base: str, client: Oid4vpClient) -> None:
    """Start, answer as the wallet, read the result: one verified presentation."""
    answer = http.post(f"{base}/api/presentations", json={"template": "diploma"}, timeout=30)
    if answer.status_code != 201:
        raise SystemExit(f"bench: start refused ({answer.status_code})")
    started = answer.json()
    client.respond(started["authorization_request"])
    found = http.get(
        f"{base}/api/presentations/{started['id']}",
        timeout=30,
        headers={"Authorization": f"Bearer {started['result_token']}"},
    ).json()
    if found.get("verdict", {}) is None or found["verdict"].get("outcome") != "valid":
        raise SystemExit(f"bench: the presentation was not valid: {found}")


def over_http(base: str, wallet_dir: Path) -> tuple[float, list[float]]:
    """Transactions per second over HTTP and each one's latency (seconds)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    window = [0.0, 0.0]  # start and end of the timed phase, set as the barrier opens

    def open_window() -> None:
        window[0] = time.perf_counter()
        window[1] = window[0] + HTTP_SECONDS

    lock, go = threading.Lock(), threading.Barrier(CLIENTS + 1, action=open_window)

    def client_loop() -> None:
        try:
            with requests.Session() as http:
                http.trust_env = False
                client = Oid4vpClient(http, clock=now, wallet=Wallet.open(wallet_dir))
                for _ in range(WARMUP):
                    transaction(http, base, client)
                go.wait()
                while time.perf_counter() < window[1]:
                    t0 = time.perf_counter()
                    transaction(http, base, client)
                    with lock:
                        latencies.append(time.perf_counter() - t0)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            go.abort()

    threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        go.wait()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"bench: a client failed: {errors[0]!r}")
    return len(latencies) / (time.perf_counter() - window[0]), latencies


def main() -> None:
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (shared machine)")
    with tempfile.TemporaryDirectory(prefix="duo-bench-verification-") as temporary:
        directory = Path(temporary)
        trust, query, credential, wallet_dir = setup(directory)
        wallet = Wallet.open(wallet_dir)
        holder = wallet.key(wallet.credentials[0].key or "")
        inproc = in_process(trust, query, presentation(credential, holder, query))
        floor_rate = floor()
        print(
            f"in-process evaluate: {inproc:8.1f} presentations/s "
            f"(floor {floor_rate:.1f}/s: 2 ES256 verifications; ratio {inproc / floor_rate:.2f})"
        )
        port = free_port()
        process = serve(directory, port)
        try:
            per_s, latencies = over_http(f"http://127.0.0.1:{port}", wallet_dir)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"over HTTP ({CLIENTS} clients, {WORKERS} gunicorn workers): {per_s:8.1f} "
        f"transactions/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(ordered)} timed)"
    )
    print(
        json.dumps(
            {
                "inproc_per_s": round(inproc, 1),
                "http_per_s": round(per_s, 1),
                "http_p99_ms": round(p99, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
