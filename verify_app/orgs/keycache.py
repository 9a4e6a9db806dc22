"""Checked API keys, kept for a few seconds per process so a busy caller skips the database.

Only keys of active organisations are kept, by their SHA-256 digest (never the key), each
for ``seconds`` from when the database vouched for it. A key revoked through this process
(rotate, revoke) is dropped at once; one revoked elsewhere (another replica, `results
orgs revoke`) stops working here within ``seconds``. Unknown keys are never kept, so
guessing fills no memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from results_online.verify_app.orgs.store import Caller

MAX_KEYS = 10_000  # live keys of every organisation fit many times over


class KeyCache:
    """Digest -> Caller, each entry for ``seconds`` (0: nothing is kept)."""

    def __init__(self, seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        """Keep entries for ``seconds`` by the clock ``now``."""
        self.seconds = seconds
        self.now = now
        self._keys: dict[bytes, tuple[float, Caller]] = {}

    def get(self, key_digest: bytes) -> Caller | None:
        """The caller the database vouched for less than ``seconds`` ago, or None."""
        entry = self._keys.get(key_digest)
        if entry is None:
            return None
        if self.now() >= entry[0]:
            del self._keys[key_digest]
            return None
        return entry[1]

    def put(self, key_digest: bytes, caller: Caller, asked_at: float) -> None:
        """Keep the caller the database answered for this digest when asked at ``asked_at``
        (by ``now``): the time counts from the question, not the answer."""
        if self.seconds <= 0:
            return
        if len(self._keys) >= MAX_KEYS:
            now = self.now()
            self._keys = {d: e for d, e in self._keys.items() if e[0] > now}
            if len(self._keys) >= MAX_KEYS:
                self._keys.clear()
        self._keys[key_digest] = (asked_at + self.seconds, caller)

    def forget(self, key_digest: bytes) -> None:
        """Drop a key revoked through this process."""
        self._keys.pop(key_digest, None)
