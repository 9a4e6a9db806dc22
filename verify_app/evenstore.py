"""The in-memory limiter storage, with a refused failure costing what a counted one costs.

The moving window of ``limits`` writes an entry for a failure it counts and nothing for
one it refuses (a locked ID's), so a check of a locked ID answered faster than one of an
unlocked ID. Here a refused entry is made and inserted too, into a list that is then
emptied, so both do the same writes; only the kept entry differs. It reads and counts
several windows at once as the Redis storage does (windows.py), so the limiter calls
either the same way.
"""

from __future__ import annotations

from limits.aio.storage import MemoryStorage, memory

from results_online.verify_app.windows import Read, Window


class EvenMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose ``acquire_entry`` makes the same writes, admitted or refused."""

    def __init__(self) -> None:
        """An empty store."""
        super().__init__()
        self._refused: list[memory.Entry] = []

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Take ``amount`` entries of the window if it has room; the same writes if not."""
        admitted = await super().acquire_entry(key, limit, expiry, amount)
        if not admitted:
            self._refused[:0] = [memory.Entry(expiry)] * amount
            self._refused.clear()
        return admitted

    async def moving_windows(self, *reads: Read) -> list[Window]:
        """``get_moving_window`` of each (key, limit, expiry)."""
        return [await self.get_moving_window(*read) for read in reads]

    async def acquire_entries(self, *entries: Read) -> list[bool]:
        """``acquire_entry`` of one entry for each (key, limit, expiry)."""
        return [await self.acquire_entry(*entry) for entry in entries]
