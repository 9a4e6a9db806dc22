"""Group commit: concurrent requests share one database round trip, never blocking the loop.

Each request submits its item and waits for its own result; whatever queues up while
one call runs goes into the next call, so at most one call per batcher is in flight
and a busy server makes a few large calls instead of many small ones. Nothing is
acknowledged before its call has returned (an audit entry is committed before the
check that made it is answered).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

Item = TypeVar("Item")
Result = TypeVar("Result")


Call = Callable[[list[Item]], Awaitable[Sequence[Result]]]


def threaded(call: Callable[[list[Item]], Sequence[Result]]) -> Call[Item, Result]:
    """A blocking ``call`` made awaitable: it runs in Starlette's threadpool."""
    async def run(items: list[Item]) -> Sequence[Result]:
        return await run_in_threadpool(call, items)

    return run


class Batcher(Generic[Item, Result]):
    """Awaits ``call`` over the items submitted meanwhile."""

    def __init__(self, call: Call[Item, Result], max_items: int = 1000) -> None:
        """``call`` maps a list of items to one result each, in order."""
        self.call = call
        self.max_items = max_items
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """The result for ``item``; raises what ``call`` raised for its batch."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        drainer = self._drainer
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[:self.max_items]
            del self._pending[:self.max_items]
            try:
                results = await self.call([item for item, _ in batch])
            except Exception as exc:  # every waiter of the batch gets the same error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
