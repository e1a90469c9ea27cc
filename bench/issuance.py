"""The OpenID4VCI 1.0 pre-authorized flow, end to end: in-process and over HTTP (issue 3, item 7).

One issuance = what a wallet does after scanning an offer (§3.5): ``POST /token`` with the
pre-authorized code (§6.1), ``POST /nonce`` (§7), a fresh P-256 holder key and its ``jwt`` key
proof (App. F.1), ``POST /credential`` for ``diploma_sd_jwt`` (§8.2), answered 200 with one
SD-JWT VC (signed, status index allocated, issuance record committed). Bearer tokens (no DPoP),
no encryption: the issuer's defaults.

- in-process: ``issuer.app.create_app`` through Flask's test client, one thread, SQLite in a
  temporary data directory;
- HTTP: ``duo-issuer serve --workers 2`` (gunicorn, sync workers) on 127.0.0.1 with its own
  temporary data directory (SQLite), and CLIENTS client threads, each with its own
  ``requests.Session``, all in this process.

Both registries are seeded (issuer.registry.seed) and all offers are created before timing.
Phases of PHASE_SECONDS alternate between the two modes until each has had SECONDS, so load from
a neighbour on a shared machine hits both alike. ``inproc_per_s`` and ``http_per_s`` are
issuances per wall-clock second of their phases; ``http_p50_ms``/``http_p99_ms`` are latencies of
one whole issuance (three requests) as one client sees it; ``http_inproc_ratio`` = http / inproc.
The floor line is the server's cryptography alone (one ES256 proof verification and one ES256
signature per issuance, with ``cryptography`` directly). Run: ``.venv/bin/python
bench/issuance.py`` (~30 s, loopback only, everything stopped at the end). The last line is one
JSON object for scripts.
"""

from __future__ import annotations

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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.app import create_app
from issuer.config import Settings
from issuer.db import create_schema, make_engine
from issuer.db.offers import create_offer
from issuer.db.registry import records_of
from issuer.oid4vci.metadata import PRE_AUTHORIZED_GRANT
from issuer.registry.seed import seed_registry
from keys.file_store import init_store
from verifier.holder.proofs import HolderKey, key_proof

ROOT = Path(__file__).resolve().parents[1]
CONFIGURATION = "diploma_sd_jwt"
VERIFIER_HOST = "verifier.duo.test"
PERSONS = 40
SECONDS = 10.0  # per mode
PHASE_SECONDS = 2.0
WARMUP = 10  # issuances per mode before timing
CLIENTS = 4
WORKERS = 2
#: Offers made per mode: more than either mode can use in SECONDS on this machine.
OFFERS = 6000
START_TIMEOUT = 60.0


class Refused(RuntimeError):
    """A step of the flow did not answer 200: the bench stops."""


Post = Callable[..., tuple[int, dict[str, Any]]]  # (path, form=, body=, token=) -> status, JSON


@dataclass
class Tally:
    """Issuances done and their latencies (seconds), per mode."""

    done: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, latency: float, steps: Mapping[str, float]) -> None:
        with self.lock:
            self.done += 1
            self.latencies.append(latency)
            for name, value in steps.items():
                self.steps.setdefault(name, []).append(value)


def issue_one(post: Post, code: str, issuer: str) -> dict[str, float]:
    """The wallet's side of one pre-authorized issuance; the seconds each step took."""
    marks = [time.perf_counter()]
    status, token = post("/token", form={"grant_type": PRE_AUTHORIZED_GRANT,
                                         "pre-authorized_code": code})  # fmt: skip
    marks.append(time.perf_counter())
    if status != 200:
        raise Refused(f"/token answered {status} {token.get('error')}")
    status, nonce = post("/nonce")
    marks.append(time.perf_counter())
    if status != 200:
        raise Refused(f"/nonce answered {status} {nonce.get('error')}")
    key = HolderKey.generate()
    proof = key_proof(key, audience=issuer, nonce=nonce["c_nonce"], iat=int(time.time()),
                      client_id=None)  # fmt: skip
    marks.append(time.perf_counter())
    body = {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": [proof]}}
    status, answer = post("/credential", body=body, token=token["access_token"])
    marks.append(time.perf_counter())
    if status != 200 or len(answer.get("credentials", [])) != 1:
        raise Refused(f"/credential answered {status} {answer.get('error')}")
    names = ("token", "nonce", "proof", "credential")
    return {name: marks[i + 1] - marks[i] for i, name in enumerate(names)}


# --- data --------------------------------------------------------------------------------------


def prepare(data_dir: Path, issuer: str, offers: int) -> tuple[Settings, list[str]]:
    """Key store, schema, seeded registry and ``offers`` open offers; their codes."""
    now = datetime.now(UTC)
    settings = Settings(data_dir=data_dir, public_url=issuer)
    init_store(data_dir, issuer=issuer, verifier_host=VERIFIER_HOST, now=now)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            report = seed_registry(conn, persons=PERSONS, seed=7, now=now)
            targets = [
                (person, record.id)
                for person in report.person_ids
                for record in records_of(conn, person)
                if record.type == "diploma" and record.final
            ]
            codes = [
                create_offer(
                    conn, person_id=targets[i % len(targets)][0],
                    record_ids=[targets[i % len(targets)][1]], configuration_ids=[CONFIGURATION],
                    tx_code=None, created_by="bench", now=now, lifetime=settings.offer_lifetime,
                )[1]
                for i in range(offers)
            ]  # fmt: skip
    finally:
        engine.dispose()
    return settings, codes


# --- in-process --------------------------------------------------------------------------------


def inproc_poster(settings: Settings) -> Post:
    client = create_app(settings).test_client()

    def post(
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.post(path, data=form, json=body, headers=headers)
        return response.status_code, response.get_json(silent=True) or {}

    return post


def run_inproc(post: Post, codes: Iterator[str], issuer: str, seconds: float, tally: Tally) -> bool:
    """Issue for ``seconds`` in this thread; False once the offers ran out."""
    start = time.perf_counter()
    end, left = start + seconds, True
    while left and time.perf_counter() < end:
        code = next(codes, None)
        if code is None:
            left = False
            break
        t0 = time.perf_counter()
        steps = issue_one(post, code, issuer)
        tally.add(time.perf_counter() - t0, steps)
    tally.seconds += time.perf_counter() - start
    return left


# --- HTTP against gunicorn ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_poster(session: requests.Session, base: str) -> Post:
    def post(
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = session.post(base + path, data=form, json=body, headers=headers, timeout=30)
        return response.status_code, response.json()

    return post


@contextmanager
def gunicorn(data_dir: Path, port: int) -> Iterator[str]:
    """``duo-issuer serve --workers WORKERS`` on 127.0.0.1:port until the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUO_") and k != "DATABASE_URL"}
    command = [
        sys.executable, "-c", "import sys; from issuer.cli import main; sys.exit(main())",
        "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(WORKERS),
    ]  # fmt: skip
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, base)
        yield base
    finally:
        stop(process)
        log.close()


def wait_until_up(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with requests.Session() as probe:
        probe.trust_env = False
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("bench: duo-issuer serve exited; see serve.log")
            try:
                if probe.get(f"{base}/.well-known/openid-credential-issuer", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
    raise SystemExit("bench: duo-issuer serve did not answer in time")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to gunicorn's master (it stops its workers); the whole session if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the session started for it above
            process.wait()


def run_http(base: str, codes: Iterator[str], seconds: float, tally: Tally) -> bool:
    """CLIENTS threads, each with its own session, issuing until ``seconds`` have passed;
    False once the offers ran out."""
    lock, errors, out = threading.Lock(), [], []
    start = time.perf_counter()
    end = start + seconds

    def client() -> None:
        with requests.Session() as session:
            session.trust_env = False
            post = http_poster(session, base)
            while time.perf_counter() < end:
                with lock:
                    code = next(codes, None)
                if code is None:
                    out.append(True)
                    return
                t0 = time.perf_counter()
                try:
                    steps = issue_one(post, code, base)
                except (Refused, requests.RequestException, ValueError) as error:
                    errors.append(error)
                    return
                tally.add(time.perf_counter() - t0, steps)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds += time.perf_counter() - start
    if errors:
        raise SystemExit(f"bench: an HTTP issuance failed: {errors[0]}")
    return not out


# --- floor and report --------------------------------------------------------------------------


def crypto_floor(seconds: float = 1.0) -> float:
    """Issuances per second if the server did nothing but one ES256 verify and one ES256 sign."""
    key = ec.generate_private_key(ec.SECP256R1())
    public, ecdsa, data = key.public_key(), ec.ECDSA(hashes.SHA256()), b"x" * 600
    signature = key.sign(data, ecdsa)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        public.verify(signature, data, ecdsa)
        key.sign(data, ecdsa)
        count += 1
    return count / (time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(values: list[float], q: float) -> str:
    return f"{1000 * percentile(values, q):6.1f}"


def report(inproc: Tally, http: Tally, floor: float, load: float) -> None:
    inproc_rate, http_rate = inproc.done / inproc.seconds, http.done / http.seconds
    print(f"duo-credentials bench/issuance.py: pre-authorized flow, {CONFIGURATION}, "
          f"{os.cpu_count()} cpus, load average before {load:.2f}")  # fmt: skip
    print(f"floor (server crypto: 1 ES256 verify + 1 sign, one core) {floor:8.0f}/s")
    print(
        f"  in-process (Flask test client, 1 thread)   {inproc_rate:8.1f}/s  "
        f"{inproc.done} in {inproc.seconds:.1f} s   floor ratio {inproc_rate / floor:.2f}"
    )
    print(f"  HTTP (gunicorn {WORKERS} workers, {CLIENTS} clients)     {http_rate:8.1f}/s  "
          f"{http.done} in {http.seconds:.1f} s")  # fmt: skip
    for name, tally in (("in-process", inproc), ("HTTP", http)):
        print(
            f"  {name:10s} issuance p50 {ms(tally.latencies, 0.5)} ms  "
            f"p99 {ms(tally.latencies, 0.99)} ms   steps p50 (ms): "
            + "  ".join(
                f"{step} {1000 * statistics.median(v):.1f}" for step, v in tally.steps.items()
            )
        )
    result = {
        "inproc_per_s": round(inproc_rate, 1),
        "http_per_s": round(http_rate, 1),
        "http_p50_ms": round(1000 * percentile(http.latencies, 0.5), 1),
        "http_p99_ms": round(1000 * percentile(http.latencies, 0.99), 1),
        "http_inproc_ratio": round(http_rate / inproc_rate, 3),
    }
    print(json.dumps(result))


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")  # a shared machine
    floor = crypto_floor()
    with tempfile.TemporaryDirectory(prefix="duo-bench-issuance-") as tmp:
        inproc_issuer = "http://127.0.0.1:8080"  # never served: the test client needs no socket
        settings, inproc_codes = prepare(Path(tmp) / "inproc", inproc_issuer, OFFERS + WARMUP)
        port = free_port()
        http_dir = Path(tmp) / "http"
        _, http_codes = prepare(http_dir, f"http://127.0.0.1:{port}", OFFERS + WARMUP)
        post = inproc_poster(settings)
        inproc_left, http_left = iter(inproc_codes), iter(http_codes)
        with gunicorn(http_dir, port) as base:
            for _ in range(WARMUP):  # caches, pooled connections, first requests to workers
                issue_one(post, next(inproc_left), inproc_issuer)
            run_http(base, iter([next(http_left) for _ in range(WARMUP)]), 3600, Tally())
            inproc, http = Tally(), Tally()
            more_inproc = more_http = True  # False once a mode used up its offers
            while (more_inproc and inproc.seconds < SECONDS) or (
                more_http and http.seconds < SECONDS
            ):
                if more_inproc and inproc.seconds < SECONDS:
                    phase = min(PHASE_SECONDS, SECONDS - inproc.seconds)
                    more_inproc = run_inproc(post, inproc_left, inproc_issuer, phase, inproc)
                if more_http and http.seconds < SECONDS:
                    phase = min(PHASE_SECONDS, SECONDS - http.seconds)
                    more_http = run_http(base, http_left, phase, http)
        report(inproc, http, floor, load)


if __name__ == "__main__":
    main()
