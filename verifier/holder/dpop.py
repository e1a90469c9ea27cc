"""DPoP as a client sends it: RFC 9449 §4 proofs on every request of a flow, §7.1 with an access
token (``Authorization: DPoP`` and ``ath``), and the server nonces of §8 (AS: 400
``use_dpop_nonce``) and §9 (resource server: 401 with a ``DPoP`` challenge naming
``use_dpop_nonce``): the newest ``DPoP-Nonce`` of each server is kept and put in the next proof,
and a request the server refused for want of a nonce is sent once more.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from verifier.errors import ProtocolError
from verifier.holder.proofs import HolderKey, dpop_proof
from verifier.holder.tokens import AccessToken
from verifier.holder.transport import HttpSession, Reply, send

Clock = Callable[[], datetime]


def asks_for_nonce(reply: Reply) -> bool:
    """Whether ``reply`` refuses a proof because it lacks the server's nonce (§8, §9)."""
    if reply.status == 401:
        return "use_dpop_nonce" in (reply.header("WWW-Authenticate") or "")
    if reply.status != 400:
        return False
    try:
        return reply.json_object().get("error") == "use_dpop_nonce"
    except ProtocolError:
        return False


class DpopSender:
    """Requests over ``http``; with a DPoP proof when given a key."""

    def __init__(self, http: HttpSession, clock: Clock) -> None:
        self.http, self.clock = http, clock
        self.nonces: dict[str, str] = {}  # origin -> the newest DPoP-Nonce it sent

    def _proof(
        self, key: HolderKey, method: str, url: str, origin: str, token: AccessToken | None
    ) -> str:
        bound = token.value if token is not None and token.sender_constrained else None
        return dpop_proof(
            key,
            method=method,
            url=url,
            iat=int(self.clock().timestamp()),
            jti=secrets.token_urlsafe(16),  # §11.1: unique per proof
            nonce=self.nonces.get(origin),
            access_token=bound,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        data: bytes | Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        dpop_key: HolderKey | None,
        token: AccessToken | None,
    ) -> Reply:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        base = dict(headers or {})
        if token is not None:
            base["Authorization"] = f"{token.token_type} {token.value}"  # RFC 6750 / §7.1
        for attempt in (1, 2):
            sent = dict(base)
            if dpop_key is not None:
                sent["DPoP"] = self._proof(dpop_key, method, url, origin, token)
            reply = send(self.http, method, url, data=data, headers=sent)
            nonce = reply.header("DPoP-Nonce")
            if nonce:
                self.nonces[origin] = nonce
            if attempt == 2 or dpop_key is None or not nonce or not asks_for_nonce(reply):
                return reply
        raise AssertionError("unreachable")  # pragma: no cover
