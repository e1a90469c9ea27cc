"""Races between processes: one pre-authorized code and one c_nonce, each used at the same moment.

Issue 3 deliverable 6, SPECS §8 item 2 (a code redeemed twice is ``invalid_grant``), item 41 and
item 56 (a c_nonce is used once), DESIGN §4 (single-use values are consumed by one conditional
UPDATE whose row count decides). On SQLite and PostgreSQL, two separate processes (the ``spawn``
start method: nothing is inherited, each opens its own engine on the database's URL) are released
together by a ``multiprocessing.Barrier`` for each of several rounds; exactly one must win each
round, and the other must get the spec's refusal, never a server error.

Rounds of the code race alternate between a plain start (released together) and lock-step: a
``before_cursor_execute`` hook in each worker also waits at a second barrier just before the
single-use UPDATE, so both processes have read the offer as open before either writes. That is
the interleaving a read-then-write check would lose; only the conditional UPDATE can decide it.
The hook only delays a statement; it changes nothing. The HTTP race runs two processes against
one live issuer's ``/token``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import requests
import sqlalchemy
from issuer_support import Database, start_issuer, stop_issuer

from issuer.db import create_schema, make_engine
from issuer.db import nonces as nonce_store
from issuer.db import offers as offer_store
from issuer.db.registry import Person, Record, insert_persons, insert_records
from issuer.db.tables import access_tokens, nonces, offers
from issuer.oid4vci.metadata import PRE_AUTHORIZED_GRANT
from schemas import loader
from verifier.errors import ProtocolError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROUNDS = 6  # even: half plain, half lock-step
WAIT = 30.0  # seconds a worker waits at a barrier before the round counts as broken
GRANT = offer_store.Grant("p1", ("r1",), ("diploma_sd_jwt",))
CONTEXT = multiprocessing.get_context("spawn")

Outcome = tuple[str, Any]  # ("won", detail) | ("refused", code) | ("failed", exception name)


# --- what each worker process runs (module level: the spawn start method imports it) -----------


def _lockstep_hook(barrier: Barrier, armed: list[bool]) -> Callable[..., None]:
    """Before the offer's single-use UPDATE, wait for the other process (lock-step rounds)."""

    def hook(*args: Any) -> None:
        statement = str(args[2]).lstrip().upper()
        if armed[0] and statement.startswith("UPDATE OFFERS"):
            barrier.wait(WAIT)

    return hook


def redeem_worker(url: str, codes: Sequence[str], start: Barrier, step: Barrier, out: Pipe) -> None:
    """Redeem each code in its own transaction; odd rounds in lock-step (module docstring)."""
    engine = make_engine(url)
    armed = [False]
    sqlalchemy.event.listen(engine, "before_cursor_execute", _lockstep_hook(step, armed))
    outcomes: list[Outcome] = []
    try:
        with engine.connect() as conn:  # open the pooled connection before the first round
            conn.execute(sqlalchemy.text("SELECT 1"))
        for round_, code in enumerate(codes):
            armed[0] = round_ % 2 == 1
            start.wait(WAIT)
            try:
                with engine.begin() as conn:
                    grant = offer_store.redeem_pre_authorized_code(
                        conn, code, None, now=NOW + timedelta(minutes=1), max_failures=5
                    )
                outcomes.append(("won", grant))
            except ProtocolError as error:
                outcomes.append(("refused", error.code))
            except Exception as error:  # reported to the test, which fails on it
                outcomes.append(("failed", type(error).__name__))
    finally:
        engine.dispose()
        out.send(outcomes)
        out.close()


def nonce_worker(
    url: str, values: Sequence[str], start: Barrier, _step: Barrier, out: Pipe
) -> None:
    """Consume each c_nonce in its own transaction."""
    engine = make_engine(url)
    outcomes: list[Outcome] = []
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        for value in values:
            start.wait(WAIT)
            try:
                with engine.begin() as conn:
                    won = nonce_store.consume_nonce(
                        conn, "c_nonce", value, now=NOW + timedelta(minutes=1)
                    )
                outcomes.append(("won", None) if won else ("refused", "used"))
            except Exception as error:
                outcomes.append(("failed", type(error).__name__))
    finally:
        engine.dispose()
        out.send(outcomes)
        out.close()


def token_worker(
    issuer: str, codes: Sequence[str], start: Barrier, _step: Barrier, out: Pipe
) -> None:
    """POST /token with each code over a kept-alive connection."""
    outcomes: list[Outcome] = []
    try:
        with requests.Session() as http:
            http.trust_env = False
            http.get(f"{issuer}/.well-known/openid-credential-issuer", timeout=WAIT)
            for code in codes:
                start.wait(WAIT)
                form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
                try:
                    reply = http.post(f"{issuer}/token", data=form, timeout=WAIT)
                    body = reply.json()
                    outcome: Outcome = (
                        ("won", body.get("token_type"))
                        if reply.status_code == 200
                        else ("refused", (reply.status_code, body.get("error")))
                    )
                except Exception as error:
                    outcome = ("failed", type(error).__name__)
                outcomes.append(outcome)
    finally:
        out.send(outcomes)
        out.close()


# --- the test process --------------------------------------------------------------------------


def race(worker: Callable[..., None], target: str, values: Sequence[str]) -> list[list[Outcome]]:
    """Run ``worker`` in two spawned processes over ``values``; the outcomes per round."""
    start, step = CONTEXT.Barrier(2), CONTEXT.Barrier(2)
    pipes = [CONTEXT.Pipe(duplex=False) for _ in range(2)]
    processes = [
        CONTEXT.Process(target=worker, args=(target, list(values), start, step, sender))
        for _, sender in pipes
    ]
    for process in processes:
        process.start()
    results: list[list[Outcome]] = []
    try:
        for (receiver, sender), _ in zip(pipes, processes, strict=True):
            sender.close()  # the child holds its own copy
            if not receiver.poll(WAIT * (len(values) + 2)):
                raise AssertionError("a race worker did not report")
            results.append(receiver.recv())
    finally:
        for process in processes:
            process.join(WAIT)
            if process.is_alive():
                process.terminate()
                process.join()
            process.close()
        for receiver, _ in pipes:
            receiver.close()
    assert all(len(r) == len(values) for r in results), results
    return [list(pair) for pair in zip(*results, strict=True)]


def one_winner(rounds: list[list[Outcome]], refusal: Any) -> list[Any]:
    """Each round: exactly one ``won`` and one ``refused`` with ``refusal``; the winners."""
    winners = []
    for pair in rounds:
        won = [detail for kind, detail in pair if kind == "won"]
        refused = [detail for kind, detail in pair if kind == "refused"]
        assert (len(won), refused) == (1, [refusal]), pair
        winners.append(won[0])
    return winners


def seed(engine: sqlalchemy.engine.Engine, now: datetime) -> None:
    """Person p1 with one final diploma r1 (the registry's own insert functions)."""
    create_schema(engine)
    with engine.begin() as conn:
        insert_persons(conn, [Person("p1", "Ana", "Silva", "1990-01-02")], now=now)
        insert_records(
            conn, [Record("r1", "p1", "diploma", loader.example_record("diploma"), True)], now=now
        )


def new_codes(engine: sqlalchemy.engine.Engine, count: int, now: datetime) -> list[str]:
    with engine.begin() as conn:
        return [
            offer_store.create_offer(
                conn, person_id="p1", record_ids=["r1"], configuration_ids=["diploma_sd_jwt"],
                tx_code=None, created_by="test", now=now, lifetime=timedelta(minutes=10),
            )[1]
            for _ in range(count)
        ]  # fmt: skip


def test_two_processes_redeem_one_code(
    engine: sqlalchemy.engine.Engine, database: Database
) -> None:
    """SPECS §8 item 2, VCI-23 (single use), DESIGN §4: two processes redeem one pre-authorized
    code at once, ROUNDS times (half in lock-step after both read it open): each round exactly
    one gets the grant and the other ``invalid_grant``; every offer ends redeemed once."""
    seed(engine, NOW)
    codes = new_codes(engine, ROUNDS, NOW)
    winners = one_winner(race(redeem_worker, database.url, codes), "invalid_grant")
    assert winners == [GRANT] * ROUNDS
    with engine.connect() as conn:
        states = conn.execute(sqlalchemy.select(offers.c.state, offers.c.redeemed_at)).all()
    assert len(states) == ROUNDS and {s.state for s in states} == {"redeemed"}
    assert all(s.redeemed_at is not None for s in states)


def test_two_processes_consume_one_c_nonce(
    engine: sqlalchemy.engine.Engine, database: Database
) -> None:
    """SPECS §8 items 41 and 56, VCI-29, DESIGN §4: two processes consume one c_nonce at once,
    ROUNDS times: each round exactly one ``consume_nonce`` is True; every nonce ends used."""
    create_schema(engine)
    with engine.begin() as conn:
        values = [
            nonce_store.new_nonce(conn, "c_nonce", now=NOW, lifetime=timedelta(minutes=5))
            for _ in range(ROUNDS)
        ]
    one_winner(race(nonce_worker, database.url, values), "used")
    with engine.connect() as conn:
        used = conn.execute(sqlalchemy.select(nonces.c.used_at)).scalars().all()
    assert len(used) == ROUNDS and all(u is not None for u in used)


def test_two_processes_post_one_code_to_token(tmp_path: Path, database: Database) -> None:
    """SPECS §8 item 2 over real HTTP: two processes POST the same pre-authorized code to one
    live issuer's /token at once, ROUNDS times: exactly one 200 Bearer token and one 400
    ``invalid_grant`` each round, and one access token stored per code (the loser wrote none)."""
    live = start_issuer(tmp_path / "data", database)
    try:
        engine = live.app.extensions["duo"].engine
        now = datetime.now(UTC)
        seed(engine, now)
        codes = new_codes(engine, ROUNDS, now)
        winners = one_winner(race(token_worker, live.url, codes), (400, "invalid_grant"))
        assert winners == ["Bearer"] * ROUNDS
        with engine.connect() as conn:
            stored = conn.execute(
                sqlalchemy.select(sqlalchemy.func.count()).select_from(access_tokens)
            ).scalar_one()
        assert stored == ROUNDS
    finally:
        stop_issuer(live)
