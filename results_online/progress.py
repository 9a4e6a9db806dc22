"""How the library reports progress without printing: the CLI passes a reporter in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Advance = Callable[[int], None]


class Progress(Protocol):
    """Opens a progress display for one stage; the yielded function advances it."""

    def __call__(self, stage: str, total: int) -> AbstractContextManager[Advance]: ...


@contextmanager
def no_progress(stage: str, total: int) -> Iterator[Advance]:
    """A Progress that shows nothing (library default, tests)."""
    yield lambda n: None
