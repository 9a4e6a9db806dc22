"""Failure limits per candidate ID and per client address, on the `limits` library.

Only failures count: a check first ``test``s its limits and, when it fails,
``hit``s them. Secret-number failures count per ID (the budget the build sized,
``results_online.index.SecretBudget``) and per address; share-code failures count
per address only, in a budget of their own, so no one can lock a share code.
Addresses are normalised first: an IPv4-mapped IPv6 address is its IPv4 address,
and IPv6 clients count per network prefix (/64 by default: one subscriber's block).
Storage is in memory by default, or Redis so replicas share it.
The ID's limiter key is its keyed hash, never the ID. Within one process the
checks of one ID under way are counted against its remaining failures
(``reserve``), so concurrent guesses cannot all slip past the limit together;
across N replicas at most N-1 extra guesses can.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from limits import RateLimitItemPerDay, WindowStats
from redis.asyncio import BlockingConnectionPool
from starlette.types import Scope

from results_online.config import IPV6_PREFIX
from results_online.verify_app.evenstore import EvenMemoryStorage
from results_online.verify_app.windows import BatchedRedisStorage, Limit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


REDIS_CONNECTIONS = 64  # per process
REDIS_WAIT = 5.0  # seconds a command waits for a free connection before failing (503)
_RACES = 20  # a check re-reads at most this often while failures of its ID keep landing


@dataclass
class _Flight:
    """The checks of one ID under way in this process, and how many failures they counted."""

    pending: int = 0
    epoch: int = 0  # failures counted by checks of this ID that landed
    waiting: int = 0  # checks in ``_reserve_slowly`` (reading, or in the queue)
    queue: deque[asyncio.Future[None]] = field(default_factory=deque)  # waiting for a landing


class Throttle:
    """Failure counters for candidate IDs and client addresses."""

    def __init__(self, per_id: int, per_address: int, redis_url: str | None = None,
                 namespace: str = "results-online", *, id_window_days: int = 1) -> None:
        """Count failures in memory, or in Redis at ``redis_url``.

        ``per_id`` failures per ``id_window_days`` days per ID; ``per_address`` a day for
        each of the two paths (secret number, share code) per address.
        """
        storage: EvenMemoryStorage | BatchedRedisStorage
        if redis_url:
            # A pool that waits for a free connection under load instead of failing.
            pool = BlockingConnectionPool.from_url(redis_url, max_connections=REDIS_CONNECTIONS,
                                                   timeout=REDIS_WAIT)
            storage = BatchedRedisStorage("async+" + redis_url, implementation="redispy",
                                          wrap_exceptions=True, key_prefix=namespace,
                                          connection_pool=pool)
        else:
            storage = EvenMemoryStorage()  # a locked ID's failure: the same writes
        self.storage = storage
        self._per_id = Limit.of(RateLimitItemPerDay(per_id, id_window_days, namespace="id"))
        self._per_address = Limit.of(RateLimitItemPerDay(per_address, namespace="addr"))
        self._share_per_address = Limit.of(RateLimitItemPerDay(per_address, namespace="share"))
        self._locks: weakref.WeakValueDictionary[bytes, asyncio.Lock] = (
            weakref.WeakValueDictionary())
        self._flights: dict[bytes, _Flight] = {}  # checks of an ID under way in this process

    def lock(self, key: bytes) -> asyncio.Lock:
        """The in-process lock that serialises checks of one ID."""
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def allowed(self, key: bytes, address: str) -> bool:
        """Whether neither the ID nor the address has used up its failures."""
        by_id, by_address = await self._read(key, address)
        return by_id.remaining > 0 and by_address

    async def failed(self, key: bytes, address: str) -> None:
        """Count one failure against the ID and the address."""
        await self.storage.acquire_entries(self._per_id.read(key.hex()),
                                           self._per_address.read(address))

    async def reserve(self, key: bytes, address: str) -> bool:
        """Whether a check of this ID may count as a guess. Every call takes a place among
        the ID's checks under way, which ``settle`` gives back, allowed or not, so that
        allowed and refused checks do the same work.

        A check takes its place first (no await between reading and writing the count,
        so that is atomic on the event loop), then reads the ID's remaining failures: it
        may guess if the places taken fit in them and no failure of the ID landed while
        it read. Else (more checks of one ID at once than it has failures left, or checks
        racing failures) it queues, first come first served: each check that lands (or
        that is let in with room to spare) lets the first in the queue read again, so the
        queue's reads share round trips and no more checks guess than the ID has failures
        left. A check is refused only when the ID or the address has no
        failures left (or after ``_RACES`` reads spoilt by failures landing meanwhile),
        never for waiting: so checks of one ID that succeed never lock it.
        """
        flight = self._flights.setdefault(key, _Flight())
        if flight.waiting:  # others are queued already: behind them, in turn
            return await self._reserve_slowly(key, address, queue_first=True)
        flight.pending += 1
        epoch = flight.epoch
        try:
            by_id, by_address = await self._read(key, address)
        except BaseException:
            self._give_back(key, flight, failed=False)
            raise
        if not by_address or by_id.remaining <= 0:
            return False
        if flight.epoch == epoch and flight.pending <= by_id.remaining:
            return True
        self._give_back(key, flight, failed=False)
        return await self._reserve_slowly(key, address)

    async def _reserve_slowly(self, key: bytes, address: str, *, queue_first: bool = False
                              ) -> bool:
        flight = self._flights.setdefault(key, _Flight())
        flight.waiting += 1
        allowed = False
        try:
            if queue_first:
                await self._wait_turn(flight)
            races = 0
            while True:
                epoch = flight.epoch
                by_id, by_address = await self._read(key, address)
                if not by_address or by_id.remaining <= 0:
                    break
                if flight.epoch != epoch:  # a failure landed meanwhile: read it too
                    races += 1
                    if races >= _RACES:
                        break
                    continue
                if flight.pending < by_id.remaining:
                    allowed = True
                    if flight.pending + 1 < by_id.remaining:
                        _wake(flight)  # room for more: the next one reads too
                    break
                await self._wait_turn(flight, first=True)  # its failures are all in flight
        except BaseException:  # the storage failed, or the client left
            flight.waiting -= 1
            _wake(flight)  # the turn it may have had goes to the next
            if flight.pending <= 0 and not flight.waiting:
                self._flights.pop(key, None)
            raise
        flight.waiting -= 1
        flight.pending += 1
        return allowed

    @staticmethod
    async def _wait_turn(flight: _Flight, *, first: bool = False) -> None:
        """Wait in the ID's queue (at its head if ``first``: it had its turn and found no
        room) until a check of the ID lands (``_give_back``) or one ahead finds room."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if first:
            flight.queue.appendleft(turn)
        else:
            flight.queue.append(turn)
        try:
            await turn
        finally:
            if turn in flight.queue:  # cancelled before its turn came
                flight.queue.remove(turn)

    async def _read(self, key: bytes, address: str) -> tuple[WindowStats, bool]:
        """The ID's window and whether the address may still fail (as limits'
        ``MovingWindowRateLimiter.get_window_stats`` and ``.test`` compute them)."""
        ids, addresses = self._per_id, self._per_address
        (id_start, id_count), (_, address_count) = await self.storage.moving_windows(
            ids.read(key.hex()), addresses.read(address))
        return (WindowStats(id_start + ids.expiry, ids.amount - id_count),
                addresses.has_room(address_count))

    def _give_back(self, key: bytes, flight: _Flight, *, failed: bool) -> None:
        flight.pending -= 1
        flight.epoch += failed
        _wake(flight)
        if flight.pending <= 0 and not flight.waiting:
            self._flights.pop(key, None)

    async def settle(self, key: bytes, address: str, *, failed: bool) -> None:
        """End a check begun with ``reserve``: count it if it failed, give back its place."""
        flight = self._flights.get(key)
        try:
            if failed:
                await self.failed(key, address)
        finally:
            if flight is not None:
                self._give_back(key, flight, failed=failed)

    async def share_allowed(self, address: str) -> bool:
        """Whether the address has share-code failures left (no ID is consulted)."""
        limit = self._share_per_address
        ((_, count),) = await self.storage.moving_windows(limit.read(address))
        return limit.has_room(count)

    async def share_failed(self, address: str) -> None:
        """Count one share-code failure against the address."""
        await self.storage.acquire_entries(self._share_per_address.read(address))

    async def healthy(self) -> bool:
        """Whether the limiter storage answers."""
        return bool(await self.storage.check())


def _wake(flight: _Flight) -> None:
    """Let the first check in the ID's queue read again."""
    while flight.queue:
        turn = flight.queue.popleft()
        if not turn.done():
            turn.set_result(None)
            return


def trusted_networks(proxies: Sequence[str]) -> tuple[Network, ...]:
    """Parse the trusted proxy addresses or networks."""
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def client_address(scope: Scope, trusted: Sequence[Network], ipv6_prefix: int = IPV6_PREFIX
                   ) -> str:
    """The client's limiter address: the peer, or from X-Forwarded-For behind a trusted proxy.

    Normalised (``normalise``), so one client cannot spread over many budgets.
    """
    return normalise(_client(scope, trusted), ipv6_prefix)


@functools.lru_cache(maxsize=4096)  # parsing costs more than the rest of the limiter's work
def normalise(text: str, ipv6_prefix: int = IPV6_PREFIX) -> str:
    """IPv4 as itself (also when IPv4-mapped), IPv6 as its network of ``ipv6_prefix`` bits."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text  # "unknown", or a test transport's name: counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


def _client(scope: Scope, trusted: Sequence[Network]) -> str:
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


def is_https(scope: Scope, trusted: Sequence[Network]) -> bool:
    """Whether the request came over HTTPS: its scheme, or a trusted proxy's X-Forwarded-Proto."""
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    if not trusted or not client or not _within(client[0], trusted):
        return False
    proto = [v.decode("latin-1") for k, v in scope.get("headers", ())
             if k == b"x-forwarded-proto"]
    return bool(proto) and proto[-1].split(",")[-1].strip().lower() == "https"


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
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a mapped proxy address is the proxy
    return any(address in net for net in trusted)
