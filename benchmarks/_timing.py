"""The time spent in functions, summed by label, by wrapping them where their callers look them up.

Used by build_scale.py (wall time of a build's stages) and bundle_cost.py (CPU of a
bundle's pieces): the clock is the caller's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def timed_calls(targets: Iterable[tuple[str, Any, str]],
                clock: Callable[[], float]) -> Iterator[dict[str, float]]:
    """Within it, each call of ``owner.name`` adds its ``clock`` seconds to the dict's ``label``.

    ``targets`` are (label, owner, name), wrapped in their order as they come.
    """
    spent: dict[str, float] = defaultdict(float)
    undo = [_wrap(owner, name, label, spent, clock) for label, owner, name in targets]
    try:
        yield spent
    finally:
        for u in reversed(undo):
            u()


def _wrap(owner: Any, name: str, label: str, spent: dict[str, float],
          clock: Callable[[], float]) -> Callable[[], None]:
    """Wrap ``owner.name`` to add each call's ``clock`` seconds to ``spent[label]``; the undo."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += clock() - t0

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)
