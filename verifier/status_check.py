"""Applying a credential's status reference, after the credential itself has been verified.

IETF Token Status List (draft-ietf-oauth-status-list) §8.3 for SD-JWT VC, and W3C Bitstring
Status List v1.0 §3.2 for VCDM 2.0 credentials. The list comes from a ``StatusSource`` the caller
injects (trust-bundle snapshots, a cache, or an HTTP fetcher in the service): the core does no I/O.

Outcomes: revoked (1) and, unless the policy accepts it, suspended (2) are a definite no, and so is
an index beyond the list (TSL §8.3 step 6 MUST). A list that cannot be had, or that is itself not
acceptable (bad signature, wrong ``typ``, ``sub`` not the URI, expired, wrong media type) leaves the
status *undetermined*: the list is rejected, but that proves nothing about the credential.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from verifier import bitstring_status_list as bsl
from verifier import token_status_list as tsl
from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.policy import Policy
from verifier.trust import TrustStore
from verifier.vc_jose import verify_vc_jwt


@dataclass(frozen=True)
class FetchedList:
    """A status list as obtained: the body and the HTTP media type (None for a snapshot)."""

    body: str
    content_type: str | None


#: Returns the list at a URI or raises VerificationIncomplete("status_list_unavailable").
StatusSource = Callable[[str], FetchedList]


def snapshot_source(snapshots: Mapping[str, str]) -> StatusSource:
    """A source serving the status-list snapshots of a trust bundle."""

    def fetch(uri: str) -> FetchedList:
        if uri not in snapshots:
            raise VerificationIncomplete("status_list_unavailable", "status list not available")
        return FetchedList(snapshots[uri], None)

    return fetch


def _list_not_acceptable(error: InvalidCredential) -> VerificationIncomplete:
    return VerificationIncomplete(error.code, "the status list itself was rejected")


def check_token_status(
    claims: Mapping[str, Any],
    *,
    iss: str,
    trust: TrustStore,
    source: StatusSource,
    policy: Policy,
    now: datetime,
) -> None:
    """TSL §8.3 for a verified SD-JWT VC whose ``status`` claim references a Token Status List."""
    reference = tsl.check_status_reference(claims)
    fetched = source(reference.uri)
    try:
        status_list = tsl.verify_status_list_token(
            fetched.body,
            uri=reference.uri,
            resolve_key=lambda header, _: trust.status_list_key(
                header, iss, uri=reference.uri, now=now
            ),
            now=now,
            algorithms=policy.algorithms,
            content_type=fetched.content_type,
        )
    except InvalidCredential as error:
        raise _list_not_acceptable(error) from None
    _judge(status_list.get(reference.idx), policy)


def _judge(value: int, policy: Policy) -> None:
    """TSL §7.1 status types."""
    if value == 1:
        raise InvalidCredential("credential_revoked", "the issuer has revoked this credential")
    if value == 2 and not policy.accept_suspended:
        raise InvalidCredential("credential_suspended", "the issuer has suspended this credential")
    if value not in (0, 2):
        raise VerificationIncomplete("status_unrecognized", "status value has no agreed meaning")


def check_bitstring_status(
    credential: Mapping[str, Any],
    *,
    trust: TrustStore,
    source: StatusSource,
    policy: Policy,
    now: datetime,
) -> None:
    """BSL §3.2 for each ``BitstringStatusListEntry`` of a verified VCDM 2.0 credential."""
    entries = credential.get("credentialStatus", [])
    for raw in entries if isinstance(entries, list) else [entries]:
        if isinstance(raw, dict) and raw.get("type") != bsl.ENTRY_TYPE:
            continue  # VC-JOSE-COSE §5.4: unknown status types are ignored
        entry = bsl.check_status_entry(raw)
        _judge_bitstring(_entry_status(entry, trust, source, policy, now), policy)


def _entry_status(
    entry: bsl.BitstringStatusEntry,
    trust: TrustStore,
    source: StatusSource,
    policy: Policy,
    now: datetime,
) -> bsl.BitstringStatus:
    """Fetch, verify and read one entry's list; a list that fails leaves the status undetermined,
    while an index outside the list is a definite no (RANGE_ERROR)."""
    url = entry.list_credential
    try:
        fetched = source(url)
    except VerificationIncomplete:
        raise bsl.retrieval_failed() from None
    try:
        document = verify_vc_jwt(
            fetched.body,
            resolve_key=lambda head, iss: trust.status_list_key(head, iss, uri=url, now=now),
            now=now,
            algorithms=policy.algorithms,
        ).credential
        bitstring = bsl.check_status_list_credential(document, purpose=entry.purpose, list_url=url)
        return bsl.read_status(entry, bitstring)
    except InvalidCredential as error:
        if error.code == "RANGE_ERROR":
            raise
        raise _list_not_acceptable(error) from None


def _judge_bitstring(status: bsl.BitstringStatus, policy: Policy) -> None:
    if status.valid or status.purpose in {"refresh", "message"}:
        return
    if status.purpose == "revocation":
        raise InvalidCredential("credential_revoked", "the issuer has revoked this credential")
    if not policy.accept_suspended:
        raise InvalidCredential("credential_suspended", "the issuer has suspended this credential")
