"""The Redis limiter storage, with the window reads of concurrent checks in one round trip.

Every check reads two moving windows (its ID's and its address's) before it may guess.
One Redis command per read cost ~150 us of CPU in redis-py (a pooled connection taken
and given back, a send, a wait, a parse): more than the whole rest of the check. Here
a check's reads go in one script call (the library's moving-window search, run over
each of its keys), and the calls that arrive while one round trip is under way wait
for it to end and then go together in one pipeline: a busy server makes a few large
round trips instead of many small ones, and an idle one answers a lone check at once.
The script is called by its SHA-1 (EVALSHA) and loaded only when Redis does not know
it (first use, or after a restart), not asked about on every round trip as redis-py's
pipelined scripts are. Failures are still counted one by one (``acquire_entry``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from limits.aio.storage import RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

MAX_CALLS = 500  # per round trip
Read = tuple[str, int, int]  # key, limit, expiry in seconds
Window = tuple[float, int]  # start of the window, entries in it

# limits' moving_window.lua for each key: ARGV holds (now - expiry, limit) per key. The
# answer is flat, (oldest entry or "", entries) per key.
WINDOWS_LUA = """
local out = {}
for k = 1, #KEYS do
    local target = tonumber(ARGV[2 * k - 1])
    local low, high, found = 0, tonumber(ARGV[2 * k]) - 1, nil
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
    else
        out[2 * k - 1] = ''
        out[2 * k] = 0
    end
end
return out
"""


class BatchedRedisStorage(RedisStorage):
    """``limits``' RedisStorage whose ``get_moving_window`` reads are pipelined together.

    Without STORAGE_SCHEME of its own, so the library's URI registry is left as it is.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As RedisStorage."""
        super().__init__(*args, **kwargs)
        self._pending: list[tuple[tuple[Read, ...], asyncio.Future[list[Window]]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._windows = self._client().register_script(WINDOWS_LUA)  # its SHA-1, computed here

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> Window:
        """(start of the window, entries in it), as RedisStorage answers it."""
        (window,) = await self.moving_windows((key, limit, expiry))
        return window

    async def moving_windows(self, *reads: Read) -> list[Window]:
        """``get_moving_window`` of each (key, limit, expiry), in one script call that shares
        a round trip with the calls of concurrent checks (and no task of its own)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Window]] = loop.create_future()
        self._pending.append((reads, future))
        drainer = self._drainer
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[:MAX_CALLS]
            del self._pending[:MAX_CALLS]
            try:
                windows = await self._read([reads for reads, _ in batch])
            except Exception as exc:  # every call of the round trip fails alike
                if self.wrap_exceptions and isinstance(exc, self.base_exceptions):
                    exc = StorageError(exc)  # as the library's own methods raise it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): no call of the batch is left waiting
                for _, future in batch:
                    future.cancel()
                raise
            for (_, future), window in zip(batch, windows, strict=True):
                if not future.done():
                    future.set_result(window)

    def _client(self) -> Redis:
        # implementation="redispy", as Throttle makes it: redis-py's client under the bridge.
        return cast(Redis, cast(RedispyBridge, self.bridge).get_connection())

    async def _read(self, calls: list[tuple[Read, ...]]) -> list[list[Window]]:
        """The windows, read as RedisStorage reads each (same search, keys and arguments)."""
        now = time.time()
        client = self._client()
        try:
            replies = await self._execute(client, calls, now)
        except NoScriptError:  # Redis does not know it (yet, or since a restart)
            await client.script_load(WINDOWS_LUA)
            replies = await self._execute(client, calls, now)
        return [[(float(flat[i]) if flat[i] else now, int(flat[i + 1]))
                 for i in range(0, len(flat), 2)] for flat in replies]

    async def _execute(self, client: Redis, calls: list[tuple[Read, ...]], now: float
                       ) -> list[Any]:
        bridge = cast(RedispyBridge, self.bridge)
        async with client.pipeline(transaction=False) as pipe:
            for reads in calls:
                args: list[float] = []
                for _, limit, expiry in reads:
                    args += (now - expiry, limit)
                pipe.evalsha(self._windows.sha, len(reads),
                             *(bridge.prefixed_key(key) for key, _, _ in reads), *args)
            return await pipe.execute()
