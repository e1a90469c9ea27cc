"""The issuer's IETF Token Status List registry, file-backed for development.

draft-ietf-oauth-status-list §6.2 (the status claim), §7 (status values) and §12.5/§13 privacy:
every credential gets a fresh index drawn at random from a large list (131,072 entries, herd
privacy), never allocated twice (TSL-7). The list is published as a signed ``statuslist+jwt``
(§5.1) whose ``sub`` is the list URI. Issue 3 moves this into the database; this file store
serialises writers with an exclusive ``flock`` and replaces the file atomically, so a crash never
leaves a half-written registry.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from keys.pki import status_list_base
from keys.store import KeyStore
from verifier import token_status_list
from verifier.token_status_list import StatusReference

LIST_SIZE = 131_072
BITS = 2  # 0 VALID, 1 INVALID (revoked), 2 SUSPENDED (§7.1)
TOKEN_LIFETIME = timedelta(days=7)  # how long a published snapshot may be relied on
TOKEN_TTL = timedelta(hours=12)  # how soon a verifier should fetch a fresh one (§5.1 ttl)


class StatusRegistryError(Exception):
    """A registry problem with a stable ``code``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class FileStatusRegistry:
    """One status list per issuer in ``DATA_DIR/status/list-1.json``."""

    def __init__(self, data_dir: Path, issuer: str) -> None:
        self.path = Path(data_dir) / "status" / "list-1.json"
        self.uri = f"{status_list_base(issuer)}/1"

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self._read()
            yield state
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"uri": self.uri, "statuses": {}}
        state: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return state

    def allocate(self) -> StatusReference:
        """A fresh random index, marked VALID; raises ``status_list_full`` when none is left."""
        with self._locked() as state:
            used = state["statuses"]
            if len(used) >= LIST_SIZE:
                raise StatusRegistryError("status_list_full")
            while True:
                idx = secrets.randbelow(LIST_SIZE)
                if str(idx) not in used:
                    break
            used[str(idx)] = 0
        return StatusReference(idx, self.uri)

    def set_status(self, idx: int, value: int) -> None:
        """Revoke (1), suspend (2) or reinstate (0) an allocated index."""
        if value not in (0, 1, 2):
            raise StatusRegistryError("status_value_invalid")
        with self._locked() as state:
            if str(idx) not in state["statuses"]:
                raise StatusRegistryError("status_index_unallocated")
            state["statuses"][str(idx)] = value

    def statuses(self) -> list[int]:
        values = [0] * LIST_SIZE
        for idx, value in self._read()["statuses"].items():
            values[int(idx)] = value
        return values

    def token(self, keys: KeyStore, *, now: datetime) -> str:
        """The signed ``statuslist+jwt`` snapshot of the list as it is now."""
        key = keys.signing_key("status_list")
        iat = int(now.timestamp())
        return token_status_list.build_status_list_token(
            self.statuses(),
            BITS,
            uri=self.uri,
            iat=iat,
            exp=iat + int(TOKEN_LIFETIME.total_seconds()),
            ttl=int(TOKEN_TTL.total_seconds()),
            signer=key.sign,
            alg=key.record.alg,
            x5c=list(key.record.x5c),
        )
