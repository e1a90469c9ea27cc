"""The service's trust source (issue 4 item 2; SPECS TSL-4, TSL-5): bundle and cached status lists.

Status-list tokens and bundles are made by the issuer's own code with DUO's development keys (the
session ``duo`` fixture of conftest); refreshes go through the real fetcher to a plain http
server on 127.0.0.1 (allowlisted), whose answers each test sets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import ISSUER, NOW, Duo, expect, expect_valid, make_store, policy

from issuer.trust_bundle import export_bundle, signed_bundle
from verifier import bitstring_status_list as bsl
from verifier import jose
from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.service.config import VerifierSettings
from verifier.service.fetcher import Fetcher
from verifier.service.trust_source import LIST_RETRY, TrustSource
from verifier.token_status_list import build_status_list_token
from verifier.trust import TrustStore
from verifier.vc_jose import sign_vc_jwt
from verifier.verify import verify

TSL = "application/statuslist+jwt"


@dataclass
class Answer:
    status: int = 200
    content_type: str = TSL
    body: str = ""
    delay: float = 0.0


@dataclass
class Site:
    """What the test server answers, by path, and which paths were asked for."""

    answers: dict[str, Answer] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        return self.hits.count(path)


class Handler(BaseHTTPRequestHandler):
    site: Site  # set on the subclass made per server

    def do_GET(self) -> None:
        self.site.hits.append(self.path)
        answer = self.site.answers.get(self.path, Answer(404, "text/plain", "not found"))
        if answer.delay:
            threading.Event().wait(answer.delay)
        body = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def running() -> Iterator[Site]:
    site = Site()
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    site.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def site(running: Site) -> Site:
    running.answers.clear()
    running.hits.clear()
    return running


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> Clock:
        self.now = NOW + timedelta(seconds=seconds)
        return self


def list_token(
    duo: Duo, uri: str, *, iat: float = 0, ttl: int = 60, lifetime: int = 3600, sub: str = ""
) -> str:
    """A Token Status List for ``uri`` issued ``iat`` seconds after NOW (16 entries, 1 bit)."""
    key = duo.keys.signing_key("status_list")
    issued = int(NOW.timestamp() + iat)
    return build_status_list_token(
        [0] * 16,
        1,
        uri=sub or uri,
        iat=issued,
        exp=issued + lifetime,
        ttl=ttl,
        signer=key.sign,
        alg=key.record.alg,
        x5c=list(key.record.x5c),
    )


def w3c_list(duo: Duo, uri: str, *, iat: float = 0, ttl_ms: int = 60_000) -> str:
    key = duo.keys.signing_key("status_list")
    issued = NOW + timedelta(seconds=iat)
    subject = bsl.status_list_credential_subject(
        list_url=uri, purpose="revocation", encoded_list=bsl.encode_bitstring([]), ttl_ms=ttl_ms
    )
    document = bsl.build_status_list_credential(
        list_url=uri, issuer=ISSUER, subject=subject, valid_from=issued
    )
    stamp = int(issued.timestamp())
    return sign_vc_jwt(
        document,
        signer=key.sign,
        alg=key.record.alg,
        x5c=list(key.record.x5c),
        kid=None,
        iat=stamp,
        exp=stamp + 3600,
    )


def online(
    duo: Duo,
    site: Site,
    tmp_path: Path,
    clock: Clock,
    lists: dict[str, str],
    http: requests.Session,
) -> TrustSource:
    """A source over a bundle file whose status lists are ``lists``, online to ``site``."""
    content = duo.bundle_copy()
    content["status_lists"] = lists
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(content))
    allow = (f"127.0.0.1:{site.port}",)
    settings = VerifierSettings(
        data_dir=tmp_path, bundle_path=path, bundle_url=site.url("/bundle"), allow_hosts=allow
    )
    fetcher = Fetcher(allow_hosts=allow, session=http, clock=clock)
    return TrustSource(settings, fetcher, clock)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def unavailable(source: TrustSource, uri: str) -> None:
    with pytest.raises(VerificationIncomplete) as error:
        source.status_source()(uri)
    assert error.value.code == "status_list_unavailable"


# -- offline: the bundle's snapshots ---------------------------------------------------------------


def test_snapshot_is_served_and_verification_uses_it(duo: Duo) -> None:
    """TSL-5: the cached list decides valid and revoked credentials."""
    source = TrustSource.offline(duo.trust, Clock())
    status = source.status_source()
    for name, outcome in (("valid", "valid"), ("revoked", "invalid")):
        verdict = verify(
            duo.issue(status=name),
            trust=source.store(),
            policy=policy(),
            now=NOW,
            status_source=status,
        )
        if outcome == "valid":
            expect_valid(verdict)
        else:
            expect(verdict, "invalid", "status", "credential_revoked")


def test_no_list_at_all_is_undetermined(duo: Duo) -> None:
    """Issue 4 item 2: with no list at all the outcome is undetermined."""
    source = TrustSource.offline(duo.with_status_list(None), Clock())
    unavailable(source, duo.registry.uri)
    verdict = verify(
        duo.issue(status="valid"),
        trust=source.store(),
        policy=policy(),
        now=NOW,
        status_source=source.status_source(),
    )
    expect(verdict, "undetermined", "status", "status_list_unavailable")


def test_cached_list_is_served_until_exp_then_unavailable(duo: Duo) -> None:
    """Past the list's ttl (12 h) but before its exp (7 days) offline: still served; after: not."""
    clock = Clock(NOW + timedelta(days=6))
    source = TrustSource.offline(duo.trust, clock)
    assert source.status_source()(duo.registry.uri).body == duo.status_token()
    clock.now = NOW + timedelta(days=7)
    unavailable(source, duo.registry.uri)


def test_status_age_is_counted_from_iat(duo: Duo) -> None:
    clock = Clock(NOW + timedelta(hours=2))
    source = TrustSource.offline(duo.trust, clock)
    assert source.status_age(duo.registry.uri) == timedelta(hours=2)
    assert source.status_age("https://issuer.duo.test/status/999") is None


def test_offline_source_never_refreshes_the_bundle(duo: Duo) -> None:
    source = TrustSource.offline(duo.trust, Clock())
    assert source.refresh_bundle(NOW) is False
    assert source.bundle_error == "trust_bundle_offline"
    assert source.store() is duo.trust


# -- online: ttl refresh, failures, exp ------------------------------------------------------------


def test_within_ttl_the_cached_list_is_served_without_fetching(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    uri = site.url("/status/1")
    first = list_token(duo, uri)
    source = online(duo, site, tmp_path, Clock().at(59), {uri: first}, http)
    got = source.status_source()(uri)
    assert (got.body, got.content_type) == (first, None)
    assert site.hits == []


def test_after_ttl_the_list_is_refreshed(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    """TSL-5 [S] ttl refresh: fetched as application/statuslist+jwt (TSL-4) and then cached."""
    uri = site.url("/status/1")
    second = list_token(duo, uri, iat=100)
    site.answers["/status/1"] = Answer(body=second)
    clock = Clock().at(120)
    source = online(duo, site, tmp_path, clock, {uri: list_token(duo, uri)}, http)
    got = source.status_source()(uri)
    assert (got.body, got.content_type) == (second, TSL)
    assert source.status_age(uri) == timedelta(seconds=20)
    clock.at(170)  # the new copy's ttl counts from its fetch at 120 s
    source.status_source()(uri)
    assert site.count("/status/1") == 1


def test_failing_refresh_keeps_the_cached_list_until_exp(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    """Issue 4 item 2: while a refresh fails the cached list is used until its exp."""
    uri = site.url("/status/1")
    first = list_token(duo, uri, lifetime=600)
    site.answers["/status/1"] = Answer(503, TSL, list_token(duo, uri, iat=100))  # never used
    clock = Clock().at(120)
    source = online(duo, site, tmp_path, clock, {uri: first}, http)
    assert source.status_source()(uri).body == first
    clock.at(120 + LIST_RETRY.total_seconds() - 1)
    assert source.status_source()(uri).body == first
    assert site.count("/status/1") == 1  # no new attempt before the retry time
    clock.at(600)
    unavailable(source, uri)
    assert site.count("/status/1") == 2


@pytest.mark.parametrize("kind", ["older", "other_sub", "expired", "wrong_type", "not_a_jwt"])
def test_an_unusable_refresh_keeps_the_cached_list(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session, kind: str
) -> None:
    uri = site.url("/status/1")
    first = list_token(duo, uri, iat=10)
    answers = {
        "older": Answer(body=list_token(duo, uri)),
        "other_sub": Answer(body=list_token(duo, uri, iat=100, sub=site.url("/status/2"))),
        "expired": Answer(body=list_token(duo, uri, iat=100, lifetime=10)),
        "wrong_type": Answer(content_type="application/json", body=list_token(duo, uri, iat=100)),
        "not_a_jwt": Answer(body="not a token"),
    }
    site.answers["/status/1"] = answers[kind]
    source = online(duo, site, tmp_path, Clock().at(200), {uri: first}, http)
    assert source.status_source()(uri).body == first
    assert site.count("/status/1") == 1


def test_a_list_missing_from_the_bundle_is_fetched(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    uri = site.url("/status/2")
    token = list_token(duo, uri)
    source = online(duo, site, tmp_path, Clock(), {}, http)
    assert source.status_age(uri) is None
    unavailable(source, uri)  # 404 now; retried after LIST_RETRY, not at once
    site.answers["/status/2"] = Answer(body=token)
    unavailable(source, uri)
    assert site.count("/status/2") == 1
    source = online(duo, site, tmp_path, Clock(), {}, http)
    assert source.status_source()(uri).body == token


def test_w3c_lists_use_their_ttl_in_milliseconds(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    """BSL-2: ttl in ms; the list credential is fetched as application/vc+jwt."""
    uri = site.url("/status/w3c/1")
    second = w3c_list(duo, uri, iat=100)
    site.answers["/status/w3c/1"] = Answer(content_type="application/vc+jwt", body=second)
    clock = Clock().at(59)
    source = online(duo, site, tmp_path, clock, {uri: w3c_list(duo, uri)}, http)
    source.status_source()(uri)
    assert site.hits == []
    clock.at(120)
    got = source.status_source()(uri)
    assert (got.body, got.content_type) == (second, "application/vc+jwt")


@pytest.mark.parametrize("cached", [True, False])
def test_one_thread_refreshes_while_the_others_wait_or_serve_the_cache(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session, cached: bool
) -> None:
    uri = site.url("/status/1")
    first, second = list_token(duo, uri), list_token(duo, uri, iat=100)
    site.answers["/status/1"] = Answer(body=second, delay=0.3)
    source = online(duo, site, tmp_path, Clock().at(120), {uri: first} if cached else {}, http)
    status = source.status_source()
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(status(uri).body)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert site.count("/status/1") == 1
    assert len(results) == 6 and set(results) <= {first, second} and second in results
    assert cached or set(results) == {second}


# -- the trust bundle -----------------------------------------------------------------------------


def publish(site: Site, token: str, content_type: str = "application/jwt") -> None:
    site.answers["/bundle"] = Answer(content_type=content_type, body=token)


def test_a_refreshed_bundle_with_the_same_anchors_is_adopted(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    uri = site.url("/status/1")
    newer = export_bundle(
        duo.keys, {uri: list_token(duo, uri, iat=3000)}, now=NOW + timedelta(hours=1)
    )
    publish(site, signed_bundle(newer, duo.keys))
    clock = Clock().at(3600)
    source = online(duo, site, tmp_path, clock, {uri: list_token(duo, uri)}, http)
    assert source.refresh_bundle(clock.now) is True
    assert source.bundle_error is None
    assert source.store().status_lists == newer["status_lists"]
    assert source.status_source()(uri).body == newer["status_lists"][uri]


def test_a_bundle_with_another_root_is_refused(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    """A refresh can never introduce a new root: the old bundle stays."""
    other = make_store(tmp_path / "other")
    publish(site, signed_bundle(export_bundle(other, {}, now=NOW + timedelta(hours=1)), other))
    source = online(duo, site, tmp_path, Clock(), {}, http)
    before = source.store()  # fetched and refused here already
    assert source.bundle_error == "trust_bundle_anchors_changed"
    assert source.refresh_bundle(NOW) is False
    assert source.store() is before
    assert source.store().anchors == duo.trust.anchors


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("tampered", "trust_bundle_signature_invalid"),
        ("json", "fetch_content_type"),
        ("older", "trust_bundle_rollback"),
        ("missing", "fetch_failed"),
    ],
)
def test_bad_bundle_refreshes_are_refused(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session, change: str, code: str
) -> None:
    token = signed_bundle(duo.bundle, duo.keys)
    if change == "tampered":
        head, body, sig = token.split(".")
        payload = json.loads(jose.b64url_decode(body))
        payload["status_lists"] = {}
        token = f"{head}.{jose.b64url_encode(json.dumps(payload).encode())}.{sig}"
    if change == "older":
        token = signed_bundle(export_bundle(duo.keys, {}, now=NOW - timedelta(days=1)), duo.keys)
    if change != "missing":
        publish(site, token, "application/json" if change == "json" else "application/jwt")
    source = online(duo, site, tmp_path, Clock(), dict(duo.bundle["status_lists"]), http)
    before = source.store()
    assert source.refresh_bundle(NOW) is False
    assert source.bundle_error == code
    assert source.store() is before


def test_store_refreshes_hourly_and_retries_after_a_failure(
    duo: Duo, site: Site, tmp_path: Path, http: requests.Session
) -> None:
    clock = Clock()
    source = online(duo, site, tmp_path, clock, {}, http)
    source.store()
    assert (site.count("/bundle"), source.bundle_error) == (1, "fetch_failed")
    clock.at(299)
    source.store()
    assert site.count("/bundle") == 1
    publish(site, signed_bundle(duo.bundle, duo.keys))
    clock.at(300)
    source.store()
    assert (site.count("/bundle"), source.bundle_error) == (2, None)
    clock.at(300 + 3599)
    source.store()
    assert site.count("/bundle") == 2
    clock.at(300 + 3600)
    source.store()
    assert site.count("/bundle") == 3


def test_the_bundle_file_may_be_the_signed_form(duo: Duo, tmp_path: Path) -> None:
    path = tmp_path / "bundle.jwt"
    path.write_text(signed_bundle(duo.bundle, duo.keys))
    settings = VerifierSettings(data_dir=tmp_path, bundle_path=path)
    source = TrustSource(settings, None, Clock())
    assert source.store().anchors == duo.trust.anchors
    assert source.status_source()(duo.registry.uri).body == duo.status_token()
    path.write_text(signed_bundle(duo.bundle, duo.keys)[:-4] + "AAAA")
    with pytest.raises(InvalidCredential) as error:
        TrustSource(settings, None, Clock())
    assert error.value.code == "trust_bundle_signature_invalid"


def test_without_a_bundle_nothing_is_trusted(tmp_path: Path) -> None:
    source = TrustSource(VerifierSettings(data_dir=tmp_path), None, Clock())
    assert source.store() == TrustStore()
    unavailable(source, "https://issuer.duo.test/status/1")


def test_an_offline_source_has_only_the_snapshots_of_its_store(duo: Duo) -> None:
    store = replace(duo.trust, status_lists={})
    assert TrustSource.offline(store, Clock()).status_age(duo.registry.uri) is None
