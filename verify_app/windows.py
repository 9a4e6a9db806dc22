"""The Redis limiter storage, with the window reads of concurrent checks in one round trip.

Every check reads two moving windows (its ID's and its address's) before it may guess.
One Redis command per read cost ~150 us of CPU in redis-py (a pooled connection taken
and given back, a send, a wait, a parse): more than the whole rest of the check. Here
the reads that arrive while one round trip is under way wait for it to end and then
go together, as one pipeline of the library's own moving-window script: a busy server
makes a few large round trips instead of many small ones, and an idle one answers a
lone read at once. Failures are still counted one by one (``acquire_entry``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from limits.aio.storage import RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.errors import StorageError
from redis.asyncio import Redis

MAX_READS = 500  # per round trip


class BatchedRedisStorage(RedisStorage):
    """``limits``' RedisStorage whose ``get_moving_window`` reads are pipelined together.

    Without STORAGE_SCHEME of its own, so the library's URI registry is left as it is.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As RedisStorage."""
        super().__init__(*args, **kwargs)
        self._pending: list[tuple[str, int, int, asyncio.Future[tuple[float, int]]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(start of the window, entries in it), as RedisStorage answers it."""
        (window,) = await self.moving_windows((key, limit, expiry))
        return window

    async def moving_windows(self, *reads: tuple[str, int, int]) -> list[tuple[float, int]]:
        """``get_moving_window`` of each (key, limit, expiry), in the same round trip, with
        no task of its own (asyncio.gather would make one per read)."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[tuple[float, int]]] = []
        for key, limit, expiry in reads:
            futures.append(loop.create_future())
            self._pending.append((key, limit, expiry, futures[-1]))
        drainer = self._drainer
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        try:
            return [await future for future in futures]
        finally:  # the reads failed together: the first raises, the others are dealt with
            for future in futures:
                if future.done() and not future.cancelled():
                    future.exception()

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[:MAX_READS]
            del self._pending[:MAX_READS]
            try:
                windows = await self._read([(key, limit, expiry)
                                            for key, limit, expiry, _ in batch])
            except Exception as exc:  # every read of the round trip fails alike
                if self.wrap_exceptions and isinstance(exc, self.base_exceptions):
                    exc = StorageError(exc)  # as the library's own methods raise it
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): no read of the batch is left waiting
                for *_, future in batch:
                    future.cancel()
                raise
            for (*_, future), window in zip(batch, windows, strict=True):
                if not future.done():
                    future.set_result(window)

    async def _read(self, reads: list[tuple[str, int, int]]) -> list[tuple[float, int]]:
        """The windows, read as RedisStorage reads one (same script, keys and arguments)."""
        bridge = cast(RedispyBridge, self.bridge)  # implementation="redispy", as Throttle makes it
        script = bridge.lua_moving_window
        now = time.time()
        client = cast(Redis, bridge.get_connection())  # redis-py's, as the bridge makes it
        async with client.pipeline(transaction=False) as pipe:
            for key, limit, expiry in reads:
                # Queued, not sent: the pipeline sends them at once. (limits annotates the
                # sync Script; redis-py's AsyncScript takes a pipeline as its client.)
                await script(keys=[bridge.prefixed_key(key)], args=[now - expiry, limit],
                             client=pipe)  # type: ignore[arg-type]
            replies = await pipe.execute()
        return [(float(w[0]), int(w[1])) if w else (now, 0) for w in replies]
