"""OpenID4VP 1.0 verifier transactions: one per authorization request, single use, expiring.

OpenID4VP 1.0 §5 (request object; nonce §5.2, state §5.3, client_id prefixes §5.9.3,
request_uri_method §5.10), §8.2/§8.3 (direct_post, and direct_post.jwt with a fresh ECDH-ES P-256
key per request: HAIP 1.0 §5), §13.3/§14.2 (the same-device response_code, a protected result
interface). Rows live in verifier.service.db. Secrets (result token, response code) are stored as
SHA-256 digests and compared in constant time; the response decryption key is dropped when the
transaction closes. A transaction accepts one response: the conditional UPDATE pending -> done |
failed decides between concurrent responses (shared/DESIGN.md §4). The wallet-less check of an
uploaded credential is ``verify_upload``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from verifier import jose
from verifier.errors import ProtocolError
from verifier.oid4vp import client_id as client_ids
from verifier.oid4vp import dcql, presentation
from verifier.oid4vp import request as request_objects
from verifier.policy import Policy
from verifier.service import same_device
from verifier.service.app import Services
from verifier.service.db import transactions as table
from verifier.verify import verify

RESPONSE_MODES = ("direct_post.jwt", "direct_post")
CLIENT_ID_PREFIXES = ("x509_hash", "x509_san_dns", "redirect_uri")
REQUEST_URI_METHODS = ("get", "post")
#: Random bytes: ids 144 bits; nonce, state, tokens and codes 256 bits (§5.2 [S] >= 128, §13.3).
ID_BYTES, SECRET_BYTES = 18, 32
_LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Za-z0-9]{1,8})?$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PENDING, DONE, FAILED, EXPIRED = "pending", "done", "failed", "expired"


@dataclass(frozen=True)
class Started:
    """A new transaction as the API returns it (docs/api.md). ``request_uri`` is None for the
    unsigned ``redirect_uri`` prefix, whose parameters travel by value."""

    id: str
    authorization_request: str
    request_uri: str | None
    qr_url: str
    same_device_url: str
    result_token: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TransactionView:
    """What pages and the API may show; ``state`` is pending | done | failed | expired."""

    id: str
    state: str
    verdict: dict[str, Any] | None
    error: str | None
    language: str | None
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None  # when the wallet's response arrived and was checked
    result_token_hash: str = field(default="", repr=False)


@dataclass(frozen=True)
class Transaction:
    """A pending transaction as the OpenID4VP endpoints need it (never shown to users)."""

    id: str
    nonce: str
    oauth_state: str
    client_id: str
    response_mode: str
    request_uri_method: str
    dcql_query: dict[str, Any]
    request_object: str | None
    encryption_jwk: dict[str, Any] | None = field(repr=False)
    redirect_uri: str | None = None  # the same-device target (verifier.service.same_device)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite keeps no offset: every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc(svc: Services) -> datetime:
    return svc.now().astimezone(UTC)


def _encryption_key() -> dict[str, Any]:
    """A fresh ECDH-ES P-256 key for one response (HAIP 1.0 §5; OpenID4VP §8.3: kid and alg)."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = jose.public_jwk(key)
    d = jose.b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))
    return {**public, "kid": jose.jwk_thumbprint(public), "alg": "ECDH-ES", "use": "enc", "d": d}


def public_part(jwk: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JWK without its private member ``d``."""
    return None if jwk is None else {k: v for k, v in jwk.items() if k != "d"}


def client_id_for(svc: Services, prefix: str, response_uri: str) -> str:
    """The full client_id (prefix included) of a request, OpenID4VP 1.0 §5.9.3."""
    if prefix == "redirect_uri":
        return client_ids.redirect_uri_client_id(response_uri)
    leaf = svc.keys.signing_key("verifier_request").record.x5c[0]
    if prefix == "x509_hash":
        return client_ids.x509_hash_client_id(leaf)
    try:  # §5.9.3: the response_uri host is the name, a dNSName SAN of the signing leaf
        client_id = client_ids.x509_san_dns_client_id(urlsplit(response_uri).hostname or "")
    except ValueError:
        raise ProtocolError("invalid_request", "the public URL host is no DNS name") from None
    client_ids.check_request_signer(client_id, [leaf])
    return client_id


def template_query(
    svc: Services, name: str, *, claims: list[str] | None = None, issuer: str | None = None
) -> dict[str, Any]:
    """The DCQL query of a credential-type template, for ``issuer`` or the one trusted issuer."""
    if issuer is None:
        issuers = list(svc.trust.store().issuer_jwks)
        if len(issuers) != 1:
            raise ProtocolError("invalid_request", "name the issuer: the trust store has not one")
        issuer = issuers[0]
    query = dcql.template(name, issuer=issuer, claims=claims)
    return query


def _check_options(response_mode: str, prefix: str, method: str, language: str | None) -> None:
    if response_mode not in RESPONSE_MODES:
        raise ProtocolError("invalid_request", "response_mode is not supported")
    if prefix not in CLIENT_ID_PREFIXES:
        raise ProtocolError("invalid_request", "client_id_prefix is not supported")
    if method not in REQUEST_URI_METHODS or (prefix == "redirect_uri" and method == "post"):
        raise ProtocolError("invalid_request", "request_uri_method is not supported here")
    if language is not None and not _LANGUAGE.match(language):
        raise ProtocolError("invalid_request", "language is not a language tag")


def start_presentation(
    svc: Services,
    *,
    dcql_query: dict[str, Any],
    response_mode: str = "direct_post.jwt",
    client_id_prefix: str = "x509_hash",
    request_uri_method: str = "get",
    language: str | None = None,
    redirect_uri: str | None = None,
    result_page: bool = True,
) -> Started:
    """Create a pending transaction and its authorization request (OpenID4VP 1.0 §5).

    After a same-device response the wallet sends the browser to ``redirect_uri`` (an
    integrator's URL), else to the pages' result page (``result_page``, the pages' own
    transactions), else to the neutral done page (verifier.service.same_device).
    """
    _check_options(response_mode, client_id_prefix, request_uri_method, language)
    if redirect_uri is not None:
        same_device.check_redirect_uri(redirect_uri)
    dcql.check_dcql(dcql_query)  # §6, VP-8
    base, now = svc.settings.public_url, _utc(svc)
    txn = Transaction(
        id=secrets.token_urlsafe(ID_BYTES),
        nonce=secrets.token_urlsafe(SECRET_BYTES),  # §5.2: fresh, URL-safe, >= 128 bits
        oauth_state=secrets.token_urlsafe(SECRET_BYTES),  # §5.3: >= 128 bits
        client_id="",
        response_mode=response_mode,
        request_uri_method=request_uri_method,
        dcql_query=dcql_query,
        request_object=None,
        encryption_jwk=_encryption_key() if response_mode == "direct_post.jwt" else None,
    )
    txn = replace(txn, client_id=client_id_for(svc, client_id_prefix, response_uri(svc, txn.id)))
    if redirect_uri is None and not result_page:
        redirect_uri = same_device.done_page(base, txn.id)
    txn = replace(txn, redirect_uri=redirect_uri)
    if client_id_prefix != "redirect_uri":  # §5.9.3: redirect_uri requests are never signed
        txn = replace(txn, request_object=sign(svc, request_claims(svc, txn, wallet_nonce=None)))
    token = secrets.token_urlsafe(SECRET_BYTES)
    _insert(svc, txn, result_token=token, language=language, now=now)
    authorization = authorization_request(svc, txn)
    request_uri = None if txn.request_object is None else request_uri_of(svc, txn.id)
    qr_url = f"{base}/api/presentations/{txn.id}/qr.svg"
    return Started(txn.id, authorization, request_uri, qr_url, authorization, token)


def request_uri_of(svc: Services, transaction_id: str) -> str:
    return f"{svc.settings.public_url}/oid4vp/request/{transaction_id}"


def authorization_request(svc: Services, txn: Transaction) -> str:
    """The ``openid4vp://`` request: by reference to the signed request object (HAIP §5), or by
    value for the ``redirect_uri`` prefix."""
    if txn.request_object is None:
        return request_objects.unsigned_request_uri(
            claims=request_claims(svc, txn, wallet_nonce=None)
        )
    return request_objects.authorization_request_uri(
        client_id=txn.client_id,
        request_uri=request_uri_of(svc, txn.id),
        request_uri_method=txn.request_uri_method,
    )


def _insert(
    svc: Services, txn: Transaction, *, result_token: str, language: str | None, now: datetime
) -> None:
    row = {f.name: getattr(txn, f.name) for f in fields(txn)}
    row.update(state=PENDING, result_token_hash=_digest(result_token), language=language)
    row.update(created_at=now, expires_at=now + svc.settings.transaction_lifetime)
    with svc.engine.begin() as conn:
        conn.execute(sa.insert(table).values(**row))


def response_uri(svc: Services, transaction_id: str) -> str:
    return f"{svc.settings.public_url}/oid4vp/response/{transaction_id}"


def request_claims(svc: Services, txn: Transaction, *, wallet_nonce: str | None) -> dict[str, Any]:
    """The request object's claims (§5; ``wallet_nonce`` echoed for request_uri_method post)."""
    return request_objects.request_object_claims(
        client_id=txn.client_id,
        response_uri=response_uri(svc, txn.id),
        response_mode=txn.response_mode,
        nonce=txn.nonce,
        state=txn.oauth_state,
        dcql_query=txn.dcql_query,
        encryption_jwk=public_part(txn.encryption_jwk),
        wallet_nonce=wallet_nonce,
        iat=int(svc.now().timestamp()),
    )


def sign(svc: Services, claims: dict[str, Any]) -> str:
    """The signed request object (JAR, typ oauth-authz-req+jwt) with the x5c leaf (HAIP §5)."""
    key = svc.keys.signing_key("verifier_request")
    return request_objects.sign_request_object(
        claims, signer=key.sign, alg=key.record.alg, x5c=list(key.record.x5c)
    )


def _expire(conn: sa.Connection, transaction_id: str, now: datetime) -> None:
    conn.execute(
        sa.update(table)
        .where(table.c.id == transaction_id, table.c.state == PENDING, table.c.expires_at <= now)
        .values(state=EXPIRED, encryption_jwk=sa.null())
    )


def _row(svc: Services, transaction_id: str) -> Any:
    """The row, expired first if its time is up; None for an unknown or malformed id."""
    if not isinstance(transaction_id, str) or not _ID.match(transaction_id):
        return None
    now, query = _utc(svc), sa.select(table).where(table.c.id == transaction_id)
    with svc.engine.begin() as conn:
        row = conn.execute(query).first()
        if row is not None and row.state == PENDING and _aware(row.expires_at) <= now:
            _expire(conn, transaction_id, now)
            row = conn.execute(query).first()
    return row


def load(svc: Services, transaction_id: str) -> TransactionView | None:
    """The transaction's public view, or None if there is none with that id."""
    row = _row(svc, transaction_id)
    if row is None:
        return None
    view = TransactionView(**{f.name: getattr(row, f.name) for f in fields(TransactionView)})
    responded = None if view.responded_at is None else _aware(view.responded_at)
    return replace(
        view,
        created_at=_aware(view.created_at),
        expires_at=_aware(view.expires_at),
        responded_at=responded,
    )


def open_transaction(svc: Services, transaction_id: str) -> Transaction:
    """The pending transaction; 404 if unknown, 400 if it is closed or expired."""
    row = _row(svc, transaction_id)
    if row is None:
        raise ProtocolError("not_found", "no such transaction", status=404)
    if row.state != PENDING:
        raise ProtocolError("invalid_request", "the transaction is no longer open")
    return Transaction(**{f.name: getattr(row, f.name) for f in fields(Transaction)})


def finish(
    svc: Services, txn: Transaction, *, verdict: dict[str, Any] | None, error: str | None
) -> str | None:
    """Close ``txn`` as done (a verdict) or failed (an error code): the fresh response_code
    (§13.3, >= 128 bits), or None if another response or the clock closed it first."""
    code = secrets.token_urlsafe(SECRET_BYTES)
    now = _utc(svc)
    with svc.engine.begin() as conn:
        won = conn.execute(
            sa.update(table)
            .where(table.c.id == txn.id, table.c.state == PENDING, table.c.expires_at > now)
            .values(
                state=DONE if error is None else FAILED,
                verdict=verdict,
                error=error,
                response_code_hash=_digest(code),
                responded_at=now,
                encryption_jwk=sa.null(),
            )
        )
        if won.rowcount != 1:
            _expire(conn, txn.id, now)
            return None
    return code


def redirect_target(svc: Services, txn: Transaction, code: str) -> str:
    """The ``redirect_uri`` the response_uri gives the wallet (§8.2, §13.3): with ``code``."""
    return same_device.target(svc.settings.public_url, txn.id, txn.redirect_uri, code)


def check_result_token(view: TransactionView, token: str | None) -> None:
    """401 without a token, 403 with a token that is not this transaction's (VP-16, §14.3.3)."""
    challenge = {"WWW-Authenticate": 'Bearer realm="duo-verifier"'}
    if not token:
        raise ProtocolError(
            "invalid_token", "a result token is required", status=401, headers=challenge
        )
    if not hmac.compare_digest(_digest(token), view.result_token_hash):
        raise ProtocolError(
            "invalid_token", "the result token is not this transaction's", status=403
        )


def redeem_response_code(svc: Services, transaction_id: str, code: str | None) -> bool:
    """True if ``code`` is the response_code issued for this closed transaction (VP-16,
    §14.2: without it the frontend shows no result). It may be presented again (a reload)."""
    if not code or len(code) > 128 or not _ID.match(transaction_id):
        return False
    with svc.engine.connect() as conn:
        stored = conn.execute(
            sa.select(table.c.response_code_hash).where(table.c.id == transaction_id)
        ).scalar()
    return isinstance(stored, str) and hmac.compare_digest(_digest(code), stored)


def verify_upload(
    svc: Services, credential: str, *, nonce: str | None = None, aud: str | None = None
) -> dict[str, Any]:
    """Check an uploaded credential or presentation without a wallet: the API verdict object.

    Holder binding is required only when both ``nonce`` and ``aud`` are given; otherwise it is
    reported as ``not_proven`` (anyone holding the file can show it).
    """
    if (nonce is None) != (aud is None):
        raise ProtocolError("invalid_request", "nonce and aud are given together or not at all")
    policy = Policy(require_holder_binding=nonce is not None, nonce=nonce, audience=aud)
    verdict = verify(
        credential,
        trust=svc.trust.store(),
        policy=policy,
        now=svc.now(),
        status_source=svc.trust.status_source(),
    )
    checks = [check.as_json() for check in verdict.checks]
    credentials = []
    if verdict.claims:  # none when invalid (verifier.verdict)
        credentials.append(credential_entry(verdict.format, dict(verdict.claims), verdict.outcome))
    return {"outcome": verdict.outcome, "checks": checks, "credentials": credentials}


#: Registered SD-JWT VC claims reported outside ``claims`` (iss, vct) or of no use to a reader,
#: as verifier.oid4vp.presentation reports a wallet's presentations.
NOT_REPORTED = frozenset({"iss", "vct", "vct#integrity", "cnf", "status", "_sd_alg"})


def credential_entry(fmt: str, claims: dict[str, Any], outcome: str) -> dict[str, Any]:
    """One ``credentials`` entry of the verdict object, without a DCQL query id."""
    issuer = claims.get("iss") if fmt == "dc+sd-jwt" else claims.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return {
        "query_id": None,
        "format": fmt,
        "vct": claims.get("vct"),
        "issuer": issuer if isinstance(issuer, str) else None,
        "claims": {k: v for k, v in claims.items() if k not in NOT_REPORTED},
        "outcome": outcome,
        "status_uris": presentation.status_uris(fmt, claims),
    }
