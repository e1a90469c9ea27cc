"""Status lists from the database: allocation (TSL-7), publication (TSL-2/TSL-4, BSL-2) and the
signed trust bundle, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from issuer_support import Database, LiveIssuer

from issuer import cli as issuer_cli
from issuer.db import create_schema, status
from issuer.db.tables import status_entries
from issuer.status_lists import Lifetimes, Publisher, sign_list
from verifier import bitstring_status_list as bsl
from verifier import jose, x509_trust
from verifier import token_status_list as tsl
from verifier.trust import TrustStore
from verifier.vc_jose import verify_vc_jwt

ISSUER = "https://issuer.duo.test"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALGS = ["ES256"]


@pytest.fixture
def schema(engine: sa.Engine) -> sa.Engine:
    create_schema(engine)
    return engine


def _allocate(engine: sa.Engine, kind: status.Kind, count: int) -> list[status.Allocation]:
    with engine.begin() as conn:
        return [status.allocate(conn, kind, now=NOW, issuer=ISSUER) for _ in range(count)]


def test_allocations_are_unique_random_and_valid(schema: sa.Engine) -> None:
    """TSL-7: random indices, never allocated twice, initialised VALID, one big list."""
    made = _allocate(schema, "tsl", 2000)
    indices = [a.idx for a in made]
    assert len(set(indices)) == len(indices)
    assert {(a.list_id, a.uri) for a in made} == {(1, f"{ISSUER}/status/1")}
    assert all(0 <= i < status.LIST_SIZE for i in indices)
    rising = sum(b > a for a, b in itertools.pairwise(indices))
    assert 800 < rising < 1200  # random order: about half the neighbours rise, not all
    assert max(indices) - min(indices) > status.LIST_SIZE * 0.9  # spread over the whole list
    with schema.connect() as conn:
        assert status.set_values(conn, 1) == {}
        assert status.get_value(conn, 1, indices[0]) == status.VALID


def test_concurrent_allocations_never_collide(schema: sa.Engine) -> None:
    """TSL-7 [M] no double allocation, with writers in parallel (the primary key decides), and
    one first list between them (list creation is serialised: no spare list with a small herd)."""
    found: list[status.Allocation] = []
    lock, start = threading.Lock(), threading.Barrier(4)

    def work() -> None:
        start.wait()  # all four race to make the first list
        for _ in range(25):
            with schema.begin() as conn:
                allocation = status.allocate(conn, "bsl", now=NOW, issuer=ISSUER)
            with lock:
                found.append(allocation)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({(a.list_id, a.idx) for a in found}) == len(found) == 100
    assert {a.uri for a in found} == {f"{ISSUER}/status/w3c/1"}


def _fill(engine: sa.Engine, list_id: int) -> None:
    """Allocate every index of a list at once (a recursive CTE works on both databases)."""
    fill = sa.text(
        "INSERT INTO status_entries (list_id, idx, value, updated_at) "
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
        "SELECT :list_id, i, 0, :now FROM n"
    )
    with engine.begin() as conn:
        conn.execute(fill, {"last": status.LIST_SIZE - 1, "list_id": list_id, "now": NOW})


def test_a_full_list_makes_a_new_one(schema: sa.Engine) -> None:
    """A new list when one is full; W3C and IETF lists are separate, under {issuer}/status."""
    first = _allocate(schema, "tsl", 1)[0]
    with schema.begin() as conn:  # then every index of the list, the first one included
        conn.execute(sa.delete(status_entries).where(status_entries.c.list_id == first.list_id))
    _fill(schema, first.list_id)
    following = _allocate(schema, "tsl", 3)
    assert {a.uri for a in following} == {f"{ISSUER}/status/2"}
    w3c = _allocate(schema, "bsl", 1)[0]
    assert w3c.uri == f"{ISSUER}/status/w3c/3"
    assert _allocate(schema, "tsl", 1)[0].list_id == 2  # the newest list of the kind is used
    with schema.connect() as conn:
        other = status.allocate(conn, "tsl", now=NOW, issuer="https://other.example")
        assert other.uri == "https://other.example/status/4"  # lists never cross issuers
        assert [r.id for r in status.lists_of(conn, ISSUER)] == [1, 2, 3]


def test_set_value_refusals(schema: sa.Engine) -> None:
    tsl_slot, bsl_slot = _allocate(schema, "tsl", 1)[0], _allocate(schema, "bsl", 1)[0]
    cases = [
        ("status_index_unallocated", tsl_slot.list_id, (tsl_slot.idx + 1) % status.LIST_SIZE, 1),
        ("status_value_invalid", tsl_slot.list_id, tsl_slot.idx, 3),
        ("status_value_invalid", bsl_slot.list_id, bsl_slot.idx, status.SUSPENDED),
        ("status_list_unknown", 99, 0, 1),
    ]
    with schema.begin() as conn:
        for code, list_id, idx, value in cases:
            with pytest.raises(status.StatusError) as refused:
                status.set_value(conn, list_id, idx, value, now=NOW)
            assert refused.value.code == code
        with pytest.raises(status.StatusError) as unknown:
            status.allocate(conn, "xyz", now=NOW, issuer=ISSUER)  # type: ignore[arg-type]
        assert unknown.value.code == "status_kind_unknown"
        assert status.set_value(conn, tsl_slot.list_id, tsl_slot.idx, 2, now=NOW)
        assert not status.set_value(
            conn, tsl_slot.list_id, tsl_slot.idx, 1, now=NOW, only_from=(0,)
        )
        assert status.get_list(conn, tsl_slot.list_id).version == 1  # type: ignore[union-attr]


def test_entries_reference_and_bitstring_entry() -> None:
    """TSL-3 reference and BSL-1 entry (statusListIndex a base-10 string)."""
    slot = status.Allocation(3, f"{ISSUER}/status/w3c/3", 4711)
    entry = status.bitstring_entry(slot)
    assert entry["statusPurpose"] == "revocation" and entry["statusListIndex"] == "4711"
    assert entry["statusListCredential"] == slot.uri and entry["type"] == "BitstringStatusListEntry"
    assert bsl.check_status_entry(entry).index == 4711
    assert status.status_reference(slot).claim() == {"status_list": {"idx": 4711, "uri": slot.uri}}


# --- publication over HTTP ---------------------------------------------------------------------


def _allocate_live(live: LiveIssuer, kind: status.Kind) -> status.Allocation:
    engine = live.app.extensions["duo"].engine
    with engine.begin() as conn:
        return status.allocate(conn, kind, now=datetime.now(UTC), issuer=live.url)


def _set(live: LiveIssuer, slot: status.Allocation, value: int) -> None:
    with live.app.extensions["duo"].engine.begin() as conn:
        status.set_value(conn, slot.list_id, slot.idx, value, now=datetime.now(UTC))


def _trust(live: LiveIssuer) -> TrustStore:
    return TrustStore.from_anchors(live.keys.anchors_pem())


def test_allocation_defaults_to_the_apps_issuer(live_issuer: LiveIssuer) -> None:
    """Inside a request the issuer identifier comes from the app (Services.issuer)."""
    with live_issuer.app.app_context():
        engine = live_issuer.app.extensions["duo"].engine
        with engine.begin() as conn:
            slot = status.allocate(conn, "tsl", now=datetime.now(UTC))
    assert slot.uri == f"{live_issuer.url}/status/{slot.list_id}"


def test_token_status_list_is_published(live_issuer: LiveIssuer) -> None:
    """TSL-2/TSL-4: statuslist+jwt, sub = uri, iat, exp, ttl, x5c of the status-list key."""
    slot = _allocate_live(live_issuer, "tsl")
    _set(live_issuer, slot, status.SUSPENDED)
    with requests.Session() as http:
        response = http.get(slot.uri, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/statuslist+jwt"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    ttl = int(live_issuer.settings.status_ttl.total_seconds())
    max_age = int(response.headers["Cache-Control"].split("max-age=")[1])
    assert 0 < max_age <= ttl
    trust, now = _trust(live_issuer), datetime.now(UTC)
    status_list = tsl.verify_status_list_token(
        response.text,
        uri=slot.uri,
        resolve_key=lambda header, _: trust.status_list_key(
            header, live_issuer.url, uri=slot.uri, now=now
        ),
        now=now,
        algorithms=ALGS,
        content_type=response.headers["Content-Type"],
    )
    assert status_list.get(slot.idx) == status.SUSPENDED and status_list.bits == 2
    assert status_list.size == status.LIST_SIZE and status_list.ttl == ttl
    lifetime = live_issuer.settings.status_lifetime.total_seconds()
    assert status_list.exp is not None and status_list.iat is not None
    assert status_list.exp - status_list.iat == lifetime
    header = jose.parse_compact(response.text).header
    assert header["typ"] == "statuslist+jwt" and "x5c" in header


def test_bitstring_status_list_is_published(live_issuer: LiveIssuer) -> None:
    """BSL-2: a BitstringStatusListCredential (vc+jwt), 131,072 entries, index 0 left-most."""
    slot = _allocate_live(live_issuer, "bsl")
    _set(live_issuer, slot, status.REVOKED)
    with requests.Session() as http:
        response = http.get(slot.uri, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vc+jwt"
    trust, now = _trust(live_issuer), datetime.now(UTC)
    document = verify_vc_jwt(
        response.text,
        resolve_key=lambda head, iss: trust.status_list_key(head, iss, uri=slot.uri, now=now),
        now=now,
        algorithms=ALGS,
    ).credential
    bitstring = bsl.check_status_list_credential(document, purpose="revocation", list_url=slot.uri)
    assert bitstring.length == status.LIST_SIZE and bitstring.get(slot.idx) == 1
    assert sum(bitstring.get(i) for i in range(0, status.LIST_SIZE, 997)) <= 1
    subject = document["credentialSubject"]
    assert subject["ttl"] == live_issuer.settings.status_ttl.total_seconds() * 1000
    assert "validUntil" in document and document["issuer"] == live_issuer.url
    with pytest.raises(Exception) as wrong_purpose:
        bsl.check_status_list_credential(document, purpose="suspension", list_url=slot.uri)
    assert getattr(wrong_purpose.value, "code", None) == "STATUS_VERIFICATION_ERROR"


def test_unknown_lists_and_historical_requests(live_issuer: LiveIssuer) -> None:
    """404 for unknown lists (also a TSL id on the W3C path); TSL-6 [S]: ?time= is 501."""
    tsl_slot, bsl_slot = _allocate_live(live_issuer, "tsl"), _allocate_live(live_issuer, "bsl")
    client = live_issuer.app.test_client()
    for path in (
        "/status/99",
        "/status/0",
        f"/status/w3c/{tsl_slot.list_id}",
        f"/status/{bsl_slot.list_id}",
        f"/status/{2**40}",
        "/status/x",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
    found = client.get(f"/status/{tsl_slot.list_id}").get_json(silent=True)
    assert found is None  # the list itself, not an error object
    assert client.get("/status/99").get_json()["error"] == "status_list_not_found"
    historical = client.get(f"/status/{tsl_slot.list_id}?time=1700000000")
    assert historical.status_code == 501
    assert historical.get_json()["error"] == "historical_status_unsupported"


def test_a_list_is_republished_on_change(live_issuer: LiveIssuer) -> None:
    """Issue 3: the signed list is cached and signed again as soon as a status changes."""
    slot = _allocate_live(live_issuer, "tsl")
    client = live_issuer.app.test_client()
    path = f"/status/{slot.list_id}"
    first, again = client.get(path).get_data(as_text=True), client.get(path).get_data(as_text=True)
    assert first == again  # unchanged list: the cached signature
    _set(live_issuer, slot, status.REVOKED)
    changed = client.get(path).get_data(as_text=True)
    assert changed != first
    payload = jose.parse_compact(changed).payload
    assert tsl.StatusList.decode(payload["status_list"]).get(slot.idx) == status.REVOKED


def test_publisher_signs_again_after_ttl_and_key_rotation(live_issuer: LiveIssuer) -> None:
    slot = _allocate_live(live_issuer, "tsl")
    engine, keys = live_issuer.app.extensions["duo"].engine, live_issuer.keys
    lifetimes = Lifetimes(ttl=timedelta(minutes=10), lifetime=timedelta(days=1))
    publisher, now = Publisher(), datetime.now(UTC)
    with engine.connect() as conn:
        row = status.get_list(conn, slot.list_id)
        assert row is not None

        def publish(at: datetime) -> str:
            assert row is not None
            return publisher.publish(
                conn, row, keys=keys, issuer=live_issuer.url, lifetimes=lifetimes, now=at
            ).body

        first = publish(now)
        assert publish(now + timedelta(minutes=9)) == first
        later = publish(now + timedelta(minutes=10))
        assert later != first
        keys.rotate("status_list", now=now)
        rotated = publish(now + timedelta(minutes=11))
        assert jose.parse_compact(rotated).header["x5c"] != jose.parse_compact(later).header["x5c"]
        fresh = sign_list(
            conn, row, keys=keys, issuer=live_issuer.url, lifetimes=lifetimes, now=now
        )
        assert fresh.max_age(now) == 600 and fresh.max_age(now + timedelta(hours=1)) == 0


# --- the trust bundle -----------------------------------------------------------------------------


def _bundle_jwt(live: LiveIssuer) -> tuple[jose.CompactJws, requests.Response]:
    with requests.Session() as http:
        response = http.get(f"{live.url}/.well-known/trust-bundle", timeout=5)
    assert response.status_code == 200
    return jose.parse_compact(response.text), response


def test_trust_bundle_jwt_is_signed_by_the_issuer_key(live_issuer: LiveIssuer) -> None:
    """Issue 3 deliverable 4: typ trust-bundle+jwt, x5c of the issuer key chaining to the root."""
    slots = [_allocate_live(live_issuer, kind) for kind in ("tsl", "bsl")]
    jws, response = _bundle_jwt(live_issuer)
    assert response.headers["Content-Type"] == "application/jwt"
    assert jws.header["typ"] == "trust-bundle+jwt"
    anchors = x509_trust.load_anchors_pem(live_issuer.keys.anchors_pem())
    leaf = x509_trust.validate_chain(jws.header["x5c"], anchors, now=datetime.now(UTC))
    x509_trust.check_issuer_name(leaf, live_issuer.url)
    jose.verify_signature(jws, x509_trust.leaf_public_key(leaf), algorithms=ALGS)
    bundle = jws.payload
    assert set(bundle["status_lists"]) == {slot.uri for slot in slots}
    trust = TrustStore.from_bundle(bundle)
    assert trust.status_lists == bundle["status_lists"]
    forged = jose.CompactJws(
        jws.header, jws.payload, jws.signing_input[:-2] + b"AA", jws.signature, jws.raw
    )
    with pytest.raises(Exception) as bad:
        jose.verify_signature(forged, x509_trust.leaf_public_key(leaf), algorithms=ALGS)
    assert getattr(bad.value, "code", None) == "signature_invalid"


def test_bundle_jwt_payload_is_what_bundle_export_prints(
    live_issuer: LiveIssuer,
    database: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The endpoint and ``duo-issuer bundle export`` read the same database and keys."""
    _allocate_live(live_issuer, "tsl")
    monkeypatch.setenv("DATABASE_URL", database.url)
    capsys.readouterr()
    assert issuer_cli.main(["bundle", "export", "--data-dir", str(tmp_path / "data")]) == 0
    exported = json.loads(capsys.readouterr().out)
    published = _bundle_jwt(live_issuer)[0].payload
    assert list(published) == list(exported)
    for name in ("bundle_version", "issuer", "anchors", "issuer_metadata", "key_history"):
        assert published[name] == exported[name], name
    assert published["type_metadata"] == exported["type_metadata"]
    assert set(published["status_lists"]) == set(exported["status_lists"]) != set()
