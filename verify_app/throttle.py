"""Failure limits per candidate ID and per client address, on the `limits` library.

Only failures count: a check first ``test``s both limits and, when it fails,
``hit``s them. Storage is in memory by default, or Redis so replicas share it.
The ID's limiter key is its keyed hash, never the ID. Within one process the
test-compare-hit sequence for one ID is serialised, so concurrent guesses
cannot all slip past the limit together; across N replicas at most N-1 extra
guesses can.
"""

from __future__ import annotations

import asyncio
import ipaddress
import weakref
from collections.abc import Sequence

from limits import RateLimitItemPerDay
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Throttle:
    """Failure counters for candidate IDs and client addresses."""

    def __init__(self, per_id: int, per_address: int, redis_url: str | None = None,
                 namespace: str = "results-online") -> None:
        """Count failures in memory, or in Redis at ``redis_url``."""
        storage: Storage
        if redis_url:
            storage = RedisStorage("async+" + redis_url, implementation="redispy",
                                   wrap_exceptions=True, key_prefix=namespace)
        else:
            storage = MemoryStorage()
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_id = RateLimitItemPerDay(per_id, namespace="id")
        self._per_address = RateLimitItemPerDay(per_address, namespace="addr")
        self._locks: weakref.WeakValueDictionary[bytes, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def lock(self, key: bytes) -> asyncio.Lock:
        """The in-process lock that serialises checks of one ID."""
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def allowed(self, key: bytes, address: str) -> bool:
        """Whether neither the ID nor the address has used up its failures."""
        by_id = await self._limiter.test(self._per_id, key.hex())
        by_address = await self._limiter.test(self._per_address, address)
        return by_id and by_address

    async def failed(self, key: bytes, address: str) -> None:
        """Count one failure against the ID and the address."""
        await self._limiter.hit(self._per_id, key.hex())
        await self._limiter.hit(self._per_address, address)

    async def healthy(self) -> bool:
        """Whether the limiter storage answers."""
        return bool(await self.storage.check())


def trusted_networks(proxies: Sequence[str]) -> tuple[Network, ...]:
    """Parse the trusted proxy addresses or networks."""
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    """The client's address: the peer, or from X-Forwarded-For when the peer is a trusted proxy."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    forwarded = [v.decode("latin-1") for k, v in scope.get("headers", ())
                 if k == b"x-forwarded-for"]
    hops = [h.strip() for h in ",".join(forwarded).split(",") if h.strip()]
    # Walk from the nearest hop back: the first address not of our proxies is the client;
    # anything further left was written by the client and cannot be believed.
    for hop in reversed(hops):
        if not _valid(hop):
            break
        if not _within(hop, trusted):
            return hop
    return peer


def _valid(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(text: str, trusted: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in net for net in trusted)
