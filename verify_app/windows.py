"""The limiter's moving windows: keys built once per limit, and the Redis storage that sends
the window reads and failures of concurrent checks in one round trip.

Every check reads two moving windows (its ID's and its address's) before it may guess,
and a failed one adds an entry to both. redis-py spent more CPU on each command (a
pooled connection taken and given back, the arguments encoded one by one, a timeout
per reply, a parse) than the rest of the check. Here every read and every failure
that arrives while one round trip is under way waits for it to end; then all of them
go as one script call (limits' moving-window search, or its acquire, for each key),
packed here, on one connection this storage keeps, under one timeout: a busy server
makes a few large round trips, and an idle one answers a lone check at once. The
script is called by its SHA-1 (EVALSHA) and loaded only when Redis does not know it
(first use, or after a restart). A connection found cut (a Redis restart, a
``CLIENT KILL``, an idle timeout) is opened again and the call sent once more, so it
costs no check an answer; a failure Redis had counted before the cut may then count
twice, which errs towards the limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any, cast

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

MAX_KEYS = 1000  # per round trip
ROUND_TRIP = 5.0  # seconds a round trip may take (send and reply) before it fails (503)
Read = tuple[str, int, int]  # key, limit, expiry in seconds
Window = tuple[float, int]  # start of the window, entries in it
_READ, _ACQUIRE = b"0", b"1"

# ARGV[1] is now; then (op, limit, expiry) per key: op 0 is limits' moving_window.lua
# (answers the oldest entry in the window or "", and the entries), op 1 its
# acquire_moving_window.lua for one entry (answers "" and 1 if counted, 0 if full). A
# full window gets three writes that leave it as it was, so a locked ID's refused
# failure costs Redis what a counted one does (the check's time tells nothing).
# The answer is flat: two values per key.
WINDOWS_LUA = """
local now = tonumber(ARGV[1])
local out = {}
for k = 1, #KEYS do
    local op, limit = ARGV[3 * k - 1], tonumber(ARGV[3 * k])
    local expiry = tonumber(ARGV[3 * k + 1])
    out[2 * k - 1], out[2 * k] = '', 0
    if op == '1' then
        local entry = redis.call('lindex', KEYS[k], limit - 1)
        if not (entry and tonumber(entry) >= now - expiry) then
            redis.call('lpush', KEYS[k], ARGV[1])
            redis.call('ltrim', KEYS[k], 0, limit - 1)
            redis.call('expire', KEYS[k], expiry)
            out[2 * k] = 1
        else
            redis.call('lset', KEYS[k], limit - 1, entry)
            redis.call('ltrim', KEYS[k], 0, limit - 1)
            redis.call('expire', KEYS[k], expiry)
        end
    else
        local target = now - expiry
        local low, high, found = 0, limit - 1, nil
        while low <= high do
            local mid = math.floor((low + high) / 2)
            local val = tonumber(redis.call('lindex', KEYS[k], mid))
            if val and val >= target then
                found = mid
                low = mid + 1
            else
                high = mid - 1
            end
        end
        if found then
            out[2 * k - 1] = tostring(tonumber(redis.call('lindex', KEYS[k], found)))
            out[2 * k] = found + 1
        end
    end
end
return out
"""
WINDOWS_SHA = hashlib.sha1(WINDOWS_LUA.encode()).hexdigest().encode()  # noqa: S324 - Redis's id
_Op = tuple[bytes, bytes, bytes, bytes]  # prefixed key, op, limit, expiry
_Reply = tuple[bytes, int]


@dataclass(frozen=True)
class Limit:
    """One limit, with the fixed parts of its storage keys built once.

    A key is what ``RateLimitItem.key_for`` builds (so counters carry over), without
    rebuilding the limit's part of it on every check.
    """

    amount: int
    expiry: int  # seconds
    prefix: str
    suffix: str

    @classmethod
    def of(cls, item: RateLimitItem) -> Limit:
        """The limit of a ``limits`` item."""
        return cls(item.amount, item.get_expiry(), f"{item.namespace}/",
                   f"/{item.amount}/{item.multiples}/{item.GRANULARITY.name}")

    def read(self, identifier: str) -> Read:
        """(storage key, limit, expiry) of the identifier's window."""
        return self.prefix + identifier + self.suffix, self.amount, self.expiry

    def has_room(self, entries: int) -> bool:
        """Whether a window holding ``entries`` may take one more (limits' ``test``)."""
        return entries <= self.amount - 1


class BatchedRedisStorage(RedisStorage):
    """``limits``' RedisStorage whose moving-window reads and acquires go together.

    Without STORAGE_SCHEME of its own, so the library's URI registry is left as it is.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As RedisStorage."""
        super().__init__(*args, **kwargs)
        self._pending: list[tuple[tuple[_Op, ...], asyncio.Future[list[_Reply]]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._connection: AbstractConnection | None = None
        self._connection_loop: asyncio.AbstractEventLoop | None = None

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> Window:
        """(start of the window, entries in it), as RedisStorage answers it."""
        (window,) = await self.moving_windows((key, limit, expiry))
        return window

    async def moving_windows(self, *reads: Read) -> list[Window]:
        """``get_moving_window`` of each (key, limit, expiry), sharing a round trip."""
        now = time.time()
        replies = await self._submit(tuple(self._op(key, _READ, limit, expiry)
                                           for key, limit, expiry in reads))
        return [(float(oldest) if oldest else now, count) for oldest, count in replies]

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """As RedisStorage: count ``amount`` entries if the window has room for them."""
        if amount != 1:
            return await super().acquire_entry(key, limit, expiry, amount)
        (counted,) = await self.acquire_entries((key, limit, expiry))
        return counted

    async def acquire_entries(self, *entries: Read) -> list[bool]:
        """``acquire_entry`` of one entry for each (key, limit, expiry), sharing a round trip."""
        replies = await self._submit(tuple(self._op(key, _ACQUIRE, limit, expiry)
                                           for key, limit, expiry in entries))
        return [bool(count) for _, count in replies]

    def _op(self, key: str, op: bytes, limit: int, expiry: int) -> _Op:
        prefixed = cast(RedispyBridge, self.bridge).prefixed_key(key)
        return prefixed.encode(), op, b"%d" % limit, b"%d" % expiry

    async def _submit(self, ops: tuple[_Op, ...]) -> list[_Reply]:
        """The replies to ``ops``, from a round trip shared with concurrent calls (and no task
        of their own)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[_Reply]] = loop.create_future()
        self._pending.append((ops, future))
        drainer = self._drainer
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch: list[tuple[tuple[_Op, ...], asyncio.Future[list[_Reply]]]] = []
            keys = 0
            while self._pending and (not batch or keys + len(self._pending[0][0]) <= MAX_KEYS):
                batch.append(self._pending.pop(0))
                keys += len(batch[-1][0])
            try:
                replies = await self._round_trip([op for ops, _ in batch for op in ops])
            except Exception as exc:  # every call of the round trip fails alike
                failed = (self.base_exceptions, TimeoutError)
                if self.wrap_exceptions and isinstance(exc, failed):
                    exc = StorageError(exc)  # as the library's own methods raise it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): no call of the batch is left waiting
                for _, future in batch:
                    future.cancel()
                raise
            for ops, future in batch:
                mine, replies = replies[:len(ops)], replies[len(ops):]
                if not future.done():
                    future.set_result(mine)

    async def _round_trip(self, ops: list[_Op]) -> list[_Reply]:
        """One script call over ``ops``; sent again, once, on a new connection if it was cut."""
        now = repr(time.time()).encode()
        args = [b"EVALSHA", WINDOWS_SHA, b"%d" % len(ops), *(op[0] for op in ops), now]
        for _, op, limit, expiry in ops:
            args += (op, limit, expiry)
        command = _pack(args)
        try:
            flat = await self._call(command)
        except RedisConnectionError:  # cut while idle, or Redis restarted: once more
            await self._drop_connection()
            flat = await self._call(command)
        return [(flat[i], int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def _call(self, command: bytes) -> list[Any]:
        connection = self._connection_here()
        try:
            async with asyncio.timeout(ROUND_TRIP):
                try:
                    return cast(list[Any], await self._send(connection, command))
                except NoScriptError:  # Redis does not know it (yet, or since a restart)
                    await self._send(connection, _pack([b"SCRIPT", b"LOAD",
                                                        WINDOWS_LUA.encode()]))
                    return cast(list[Any], await self._send(connection, command))
        except BaseException:  # a reply may be left unread: the connection is no longer usable
            await self._drop_connection()
            raise

    @staticmethod
    async def _send(connection: AbstractConnection, command: bytes) -> Any:
        await connection.send_packed_command(command, check_health=False)
        return await connection.read_response(timeout=math.inf)  # the round trip's timeout

    def _connection_here(self) -> AbstractConnection:
        """This storage's own connection, for the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        if self._connection is None or self._connection_loop is not loop:
            client = cast(Redis, cast(RedispyBridge, self.bridge).get_connection())
            pool = client.connection_pool  # its settings (address, password, TLS), not its use
            self._connection = pool.connection_class(**pool.connection_kwargs)
            self._connection_loop = loop
        return self._connection

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.disconnect(nowait=True)


def _pack(args: list[bytes]) -> bytes:
    """One command in Redis's protocol (RESP): an array of bulk strings."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
