"""The verifier's HTTP fetcher (SPECS SDV-6, TSL-4): SSRF checks, bounds, redirects, cache.

Real servers on 127.0.0.1 (plain http, allowlisted; one https server with a test CA for the
pinned TLS name). Traffic never leaves loopback: sessions mount an adapter that fails the test on
any other destination, and refusals are asserted to happen before any connection at all.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from verifier.errors import VerificationIncomplete
from verifier.service.config import VerifierSettings
from verifier.service.fetcher import (
    Fetcher,
    FetchLimits,
    PinnedAdapter,
    Resolver,
    is_public_address,
    new_session,
    system_resolver,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TSL = "application/statuslist+jwt"
BODY = b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"
Route = Callable[["Handler"], None]


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, routes: Mapping[str, Route]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = dict(routes)
        self.hits: list[tuple[str, str | None, str | None]] = []  # path, Host, Accept
        self.stop = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [hit[0] for hit in self.hits]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeouts, refused certificates) is expected here."""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.served
        server.hits.append((self.path, self.headers.get("Host"), self.headers.get("Accept")))
        route = server.routes.get(self.path)
        if route is None:
            reply(self, 404, "text/plain", b"")
        else:
            route(self)

    @property
    def served(self) -> Server:
        assert isinstance(self.server, Server)
        return self.server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def reply(
    handler: BaseHTTPRequestHandler,
    status: int = 200,
    content_type: str = TSL,
    body: bytes = BODY,
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str) -> Route:
    def route(handler: Handler) -> None:
        reply(handler, 302, "text/plain", b"", {"Location": location})

    return route


def respond(
    status: int = 200, content_type: str = TSL, body: bytes = BODY, **headers: str
) -> Route:
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    return lambda handler: reply(handler, status, content_type, body, extra)


def streamed(handler: Handler) -> None:
    """5,000 bytes without a Content-Length (the body ends when the connection closes)."""
    handler.send_response(200)
    handler.send_header("Content-Type", TSL)
    handler.end_headers()
    for _ in range(5):
        handler.wfile.write(b"x" * 1000)


def slow_headers(handler: Handler) -> None:
    handler.served.stop.wait(3)
    reply(handler)


def slow_body(handler: Handler) -> None:
    """Headers at once, then one byte every 0.1 s: each read is quick, the whole is not."""
    handler.send_response(200)
    handler.send_header("Content-Type", TSL)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        if handler.served.stop.wait(0.1):
            return


def echo_host(handler: Handler) -> None:
    reply(handler, 200, "text/plain", (handler.headers.get("Host") or "").encode())


def chain(n: int) -> Route:
    return respond() if n == 0 else redirect(f"/chain/{n - 1}")


ROUTES: dict[str, Route] = {
    "/ok": respond(Cache_Control="public, max-age=60"),
    "/nocache": respond(content_type="application/json", body=b"{}"),
    "/no-store": respond(Cache_Control="no-store, max-age=60"),
    "/params": respond(content_type="Application/StatusList+JWT; charset=utf-8"),
    "/html": respond(content_type="text/html", body=b"<p>hi</p>"),
    "/missing": respond(404, body=b"a token the fetcher must not use"),
    "/broken": respond(500, body=b"a token the fetcher must not use"),
    "/big-declared": respond(body=b"x" * 5000),
    "/big-streamed": streamed,
    "/slow-headers": slow_headers,
    "/slow-body": slow_body,
    "/host": echo_host,
    "/loop-a": redirect("/loop-b"),
    "/loop-b": redirect("/loop-a"),
    "/self": redirect("/self#again"),
    "/to-private": redirect("http://10.0.0.1/status/1"),
    "/to-metadata": redirect("https://169.254.169.254/latest/meta-data"),
    "/no-location": respond(302, content_type="text/plain", body=b""),
    **{f"/chain/{n}": chain(n) for n in range(6)},
}


@contextmanager
def serving(routes: Mapping[str, Route], tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    server = Server(routes)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serving(ROUTES) as running:
        yield running


class LoopbackOnly(PinnedAdapter):
    """Sends only to 127.0.0.1: anything else fails the test instead of leaving the machine."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        host = urlsplit(request.url or "").hostname
        if host != "127.0.0.1":
            pytest.fail(f"a request to {host} was attempted")
        return super().send(request, *args, **kwargs)


class NoTraffic(PinnedAdapter):
    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        pytest.fail("a connection was attempted")


class Recording(PinnedAdapter):
    """Records what would be sent and fails like an unreachable server."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str | None]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((request.url or "", request.headers.get("Host")))
        raise requests.ConnectionError("not sent")


@contextmanager
def session_with(adapter: PinnedAdapter) -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.trust_env = False
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        yield http


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with session_with(LoopbackOnly()) as session:
        yield session


def make(
    http: requests.Session,
    server: Server | None = None,
    *,
    clock: Clock | None = None,
    allow: Sequence[str] | None = None,
    resolve: Resolver = system_resolver,
    **limits: Any,
) -> Fetcher:
    hosts = allow if allow is not None else ([f"127.0.0.1:{server.port}"] if server else [])
    return Fetcher(
        allow_hosts=hosts,
        session=http,
        clock=clock or Clock(),
        limits=FetchLimits(**limits),
        resolve=resolve,
    )


def fails(code: str, call: Callable[[], Any]) -> None:
    with pytest.raises(VerificationIncomplete) as error:
        call()
    assert error.value.code == code


# -- success, media types, error answers ----------------------------------------------------------


def test_a_200_answer_is_returned_with_its_media_type(
    http: requests.Session, server: Server
) -> None:
    """TSL-4: GET the uri, a 2xx application/statuslist+jwt answer carries the raw JWS."""
    clock = Clock()
    fetched = make(http, server, clock=clock).get(server.url("/ok"), accept={TSL})
    assert (fetched.body, fetched.content_type, fetched.fetched_at) == (BODY, TSL, T0)
    assert server.hits[-1][2] == TSL  # the Accept header names what the caller accepts


def test_media_type_parameters_and_case_are_ignored(http: requests.Session, server: Server) -> None:
    fetched = make(http, server).get(server.url("/params"), accept={TSL})
    assert fetched.content_type == TSL


def test_another_media_type_is_refused(http: requests.Session, server: Server) -> None:
    """TSL-4: the answer must be application/statuslist+jwt when that is what was asked."""
    fails("fetch_content_type", lambda: make(http, server).get(server.url("/html"), accept={TSL}))


@pytest.mark.parametrize("path", ["/missing", "/broken"])
def test_error_answers_are_failures_and_their_body_is_never_used(
    http: requests.Session, server: Server, path: str
) -> None:
    """SDV-6: never the body of a 4xx/5xx, even with the right media type; nothing is cached."""
    fetcher = make(http, server)
    for _ in range(2):
        fails("fetch_failed", lambda: fetcher.get(server.url(path), accept={TSL}))
    assert server.paths()[-2:] == [path, path]


def test_unreachable_server_is_a_failure(http: requests.Session) -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"http://127.0.0.1:{port}/ok"
    fails("fetch_failed", lambda: make(http, allow=["127.0.0.1"]).get(url, accept={TSL}))


# -- size and time bounds -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/big-declared", "/big-streamed"])
def test_oversized_bodies_are_refused(http: requests.Session, server: Server, path: str) -> None:
    """SDV-6: bounded size, by Content-Length or cut while streaming."""
    fetcher = make(http, server, max_bytes=1000)
    fails("fetch_too_large", lambda: fetcher.get(server.url(path), accept={TSL}))
    assert len(make(http, server, max_bytes=5000).get(server.url(path), accept={TSL}).body) == 5000


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body"])
def test_slow_servers_time_out(http: requests.Session, server: Server, path: str) -> None:
    """SDV-6: bounded time, across the whole streamed body (one byte per 0.1 s never ends it)."""
    fetcher = make(http, server, total_timeout=0.5)
    started = time.monotonic()
    fails("fetch_timeout", lambda: fetcher.get(server.url(path), accept={TSL}))
    assert time.monotonic() - started < 1.5


# -- redirects ------------------------------------------------------------------------------------


def test_three_redirects_are_followed_and_a_fourth_is_refused(
    http: requests.Session, server: Server
) -> None:
    """SDV-6: bounded redirects (at most 3)."""
    fetcher = make(http, server)
    assert fetcher.get(server.url("/chain/3"), accept={TSL}).body == BODY
    fails("fetch_redirects", lambda: fetcher.get(server.url("/chain/4"), accept={TSL}))
    assert server.paths()[-4:] == [f"/chain/{n}" for n in (4, 3, 2, 1)]  # no fifth request


@pytest.mark.parametrize("path", ["/loop-a", "/self"])
def test_redirect_loops_are_refused(http: requests.Session, server: Server, path: str) -> None:
    fails("fetch_redirects", lambda: make(http, server).get(server.url(path), accept={TSL}))


def test_redirect_without_location_fails(http: requests.Session, server: Server) -> None:
    fails("fetch_failed", lambda: make(http, server).get(server.url("/no-location"), accept={TSL}))


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata"])
def test_redirect_to_a_private_address_is_refused_before_connecting(
    http: requests.Session, server: Server, path: str
) -> None:
    """SDV-6: every redirect target gets the SSRF check (LoopbackOnly fails on any other host)."""
    before = len(server.hits)
    fails("fetch_refused", lambda: make(http, server).get(server.url(path), accept={TSL}))
    assert server.paths()[before:] == [path]


# -- SSRF: scheme, host and address checks before any connection ----------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/status/1",
        "https://localhost/status/1",
        "https://10.0.0.1/status/1",
        "https://192.168.1.1/status/1",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/status/1",
        "https://224.0.0.1/status/1",
        "https://100.64.0.1/status/1",
        "https://240.0.0.1/status/1",
        "https://[::1]/status/1",
        "https://[fe80::1]/status/1",
        "https://[fc00::1]/status/1",
        "https://[ff02::1]/status/1",
        "https://[::ffff:10.0.0.1]/status/1",
        "https://[64:ff9b::a00:1]/status/1",
        "https://[2002:a00:1::]/status/1",
        "https://2130706433/status/1",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(url: str) -> None:
    """SDV-6: no private, loopback, link-local, multicast, reserved or unspecified targets."""
    with session_with(NoTraffic()) as http:
        fails("fetch_refused", lambda: make(http).get(url, accept={TSL}))


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/status/1",
        "ftp://93.184.216.34/status/1",
        "file:///etc/passwd",
        "data:application/statuslist+jwt,abc",
        "https://user:secret@93.184.216.34/status/1",
        "https:///status/1",
        "https://[::1/status/1",
        "https://93.184.216.34:99999/status/1",
        "https://st\u00e4tus.duo.test/status/1",
    ],
)
def test_other_schemes_plain_http_and_odd_urls_are_refused(url: str) -> None:
    """SDV-6: https only; plain http only for an allowlisted host."""
    with session_with(NoTraffic()) as http:
        fails("fetch_refused", lambda: make(http).get(url, accept={TSL}))


def test_plain_http_to_an_allowed_host_on_another_port_is_refused(server: Server) -> None:
    with session_with(NoTraffic()) as http:
        fetcher = make(http, allow=[f"127.0.0.1:{server.port + 1}"])
        fails("fetch_refused", lambda: fetcher.get(server.url("/ok"), accept={TSL}))


def names(table: Mapping[str, Sequence[str]]) -> Resolver:
    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise OSError("unknown host")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "addresses", [["10.1.2.3"], ["93.184.216.34", "127.0.0.1"], ["fe80::1%eth0"]]
)
def test_a_name_resolving_to_a_private_address_is_refused(addresses: list[str]) -> None:
    """SDV-6: the check is on the resolved addresses, every one of them."""
    resolve = names({"status.duo.test": addresses})
    with session_with(NoTraffic()) as http:
        fetcher = make(http, resolve=resolve)
        fails("fetch_refused", lambda: fetcher.get("https://status.duo.test/1", accept={TSL}))


def test_an_unresolvable_name_fails() -> None:
    with session_with(NoTraffic()) as http:
        fetcher = make(http, resolve=names({}))
        fails("fetch_failed", lambda: fetcher.get("https://nowhere.duo.test/1", accept={TSL}))


def test_the_request_goes_to_the_checked_address_with_the_name_as_host() -> None:
    """No DNS rebinding: one resolution, then the checked address (Recording sends nothing)."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"] if len(calls) == 1 else ["127.0.0.1"]

    adapter = Recording()
    with session_with(adapter) as http:
        fetcher = make(http, resolve=resolve)
        fails("fetch_failed", lambda: fetcher.get("https://status.duo.test/s/1?x=1", accept={TSL}))
    assert calls == ["status.duo.test"]
    assert adapter.sent == [("https://93.184.216.34:443/s/1?x=1", "status.duo.test")]


def test_an_allowlisted_name_is_reached_at_its_resolved_address(
    http: requests.Session, server: Server
) -> None:
    resolve = names({"status.duo.test": ["127.0.0.1"]})
    fetcher = make(http, allow=["status.duo.test"], resolve=resolve)
    url = server.url("/host", host="status.duo.test")
    fetched = fetcher.get(url, accept={"text/plain"})
    assert fetched.body == f"status.duo.test:{server.port}".encode()


def test_public_address_classification() -> None:
    assert is_public_address("93.184.216.34") and is_public_address("2606:4700::1111")
    assert not any(map(is_public_address, ["127.0.0.1", "::", "not-an-ip", "198.18.0.1"]))


def test_a_malformed_allow_entry_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        Fetcher(allow_hosts=["http://host/path"])


# -- cache ----------------------------------------------------------------------------------------


def test_cache_control_max_age_is_respected(http: requests.Session, server: Server) -> None:
    clock = Clock()
    fetcher = make(http, server, clock=clock)
    hits = len(server.hits)
    for _ in range(2):
        assert fetcher.get(server.url("/ok"), accept={TSL}).fetched_at == T0
    assert len(server.hits) == hits + 1
    clock.now = T0 + timedelta(seconds=61)
    assert fetcher.get(server.url("/ok"), accept={TSL}).fetched_at == clock.now
    assert len(server.hits) == hits + 2


def count_hits(server: Server, fetch: Callable[[], Any], times: int = 2) -> int:
    hits = len(server.hits)
    for _ in range(times):
        fetch()
    return len(server.hits) - hits


def test_the_callers_max_age_takes_precedence(http: requests.Session, server: Server) -> None:
    """TSL-4: exp/ttl (the caller's max_age) take precedence over HTTP cache headers."""
    fetcher = make(http, server)
    json = {"application/json"}
    minute = timedelta(seconds=60)
    assert count_hits(server, lambda: fetcher.get(server.url("/ok"), accept={TSL})) == 1
    now = timedelta(0)
    assert (
        count_hits(server, lambda: fetcher.get(server.url("/ok"), accept={TSL}, max_age=now)) == 2
    )
    assert count_hits(server, lambda: fetcher.get(server.url("/nocache"), accept=json)) == 2
    assert count_hits(server, lambda: fetcher.get(server.url("/no-store"), accept={TSL})) == 2
    again = count_hits(
        server, lambda: fetcher.get(server.url("/nocache"), accept=json, max_age=minute)
    )
    assert again == 0  # the copy fetched above is younger than the caller's minute


def test_the_cache_is_bounded(http: requests.Session, server: Server) -> None:
    fetcher = make(http, server, cache_entries=2)
    urls = [server.url("/ok"), server.url("/params"), server.url("/chain/0")]
    for url in urls:
        fetcher.get(url, accept={TSL}, max_age=timedelta(0))
    hits = len(server.hits)
    fetcher.get(urls[2], accept={TSL}, max_age=timedelta(seconds=60))
    fetcher.get(urls[1], accept={TSL}, max_age=timedelta(seconds=60))
    assert len(server.hits) == hits
    fetcher.get(urls[0], accept={TSL}, max_age=timedelta(seconds=60))
    assert len(server.hits) == hits + 1


def test_from_settings_uses_the_allowed_hosts(tmp_path: Path, server: Server) -> None:
    settings = VerifierSettings(data_dir=tmp_path, allow_hosts=(f"127.0.0.1:{server.port}",))
    fetcher = Fetcher.from_settings(settings, clock=Clock())
    try:
        assert fetcher.get(server.url("/ok"), accept={TSL}, max_age=timedelta(0)).body == BODY
    finally:
        fetcher.close()


# -- https with a pinned address -------------------------------------------------------------------


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, Any], ca: bool
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer[0])
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(hours=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
        )
    return builder.sign(issuer[1], hashes.SHA256())


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA and a server certificate for status.duo.test (made at run time)."""
    directory = tmp_path_factory.mktemp("tls")
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fetcher test CA")])
    ca = _certificate("fetcher test CA", ca_key, (ca_name, ca_key), ca=True)
    leaf = _certificate("status.duo.test", leaf_key, (ca_name, ca_key), ca=False)
    pem = serialization.Encoding.PEM
    files = {
        "ca": directory / "ca.pem",
        "cert": directory / "cert.pem",
        "key": directory / "key.pem",
    }
    files["ca"].write_bytes(ca.public_bytes(pem))
    files["cert"].write_bytes(leaf.public_bytes(pem))
    files["key"].write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


def test_https_checks_the_name_while_connecting_to_the_pinned_address(
    tls_files: dict[str, Path], server: Server
) -> None:
    """The TLS server name and certificate check use the URL's name, not the pinned address."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    downgrade = redirect(server.url("/ok", host="status.duo.test"))
    routes = {"/ok": ROUTES["/ok"], "/downgrade": downgrade}
    resolve = names({"status.duo.test": ["127.0.0.1"], "other.duo.test": ["127.0.0.1"]})
    with serving(routes, tls=context) as secure, new_session() as http:
        http.verify = str(tls_files["ca"])
        fetcher = make(http, allow=["status.duo.test", "other.duo.test"], resolve=resolve)
        url = secure.url("/ok", host="status.duo.test", scheme="https")
        assert fetcher.get(url, accept={TSL}).body == BODY
        assert secure.hits[-1][1] == f"status.duo.test:{secure.port}"
        other = secure.url("/ok", host="other.duo.test", scheme="https")
        fails("fetch_failed", lambda: fetcher.get(other, accept={TSL}))
        downgrading = secure.url("/downgrade", host="status.duo.test", scheme="https")
        fails("fetch_refused", lambda: fetcher.get(downgrading, accept={TSL}))
