"""The stages that follow rendering, fed batch by batch while the other batches render.

Each rendered batch is encrypted into ``site/s/`` as soon as it arrives (in this
process: AES-GCM is quick), and a centre's bundle is made as soon as the last of
its statements is in, on a background thread, together with the outbox messages
of its candidates, so these no longer wait for the whole series and then run one
after another on one core. Only the last centre's work is left after the last batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from types import TracebackType

from results_online.build.bundle.centre import Bundle, build_bundle, sealed_explanation
from results_online.build.release.outbox import Outbox
from results_online.build.render.statements import RenderedStatement
from results_online.build.site.encrypt import encrypt_statements
from results_online.keys.seal import Seal
from results_online.model import Series, Statement

log = logging.getLogger("results_online.build.stream")


class AfterRender:
    """Encrypts batches as they come and bundles each centre once all its statements are in.

    ``carried`` are statements whose files are already in the output (an amend);
    ``centres`` limits which centres get a new bundle (None: every centre); ``outbox``
    gets each completed centre's statements in ``order`` (the series' order).
    """

    def __init__(self, series: Series, to_render: Sequence[Statement], out: Path, *,
                 statement_secret: bytes, now: datetime,
                 carried: Sequence[RenderedStatement] = (),
                 centres: frozenset[str] | None = None, seal: Seal | None = None,
                 outbox: Outbox | None = None, order: Sequence[Statement] = ()) -> None:
        self._series, self._out, self._secret, self._now = series, out, statement_secret, now
        self._waiting = Counter(s.centre.number for s in to_render)
        self._items: dict[str, list[RenderedStatement]] = {}
        for r in carried:
            self._items.setdefault(r.statement.centre.number, []).append(r)
        self._centres = centres
        self._seal = seal
        self._outbox = outbox
        self._order = {st.statement_id: i for i, st in enumerate(order)}
        self._side: list[Future[None]] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundles")
        self._explanation: Future[bytes] | None = None
        self._bundles: list[Future[Bundle]] = []

    def __enter__(self) -> AfterRender:
        # Centres with nothing to render (an amend that only withdrew) are ready now.
        for number in sorted(self._items):
            if not self._waiting[number]:
                self._bundle(number)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=kind is not None)

    def batch(self, made: Sequence[RenderedStatement]) -> None:
        """Take one rendered batch: encrypt it, and start the bundles it completes."""
        encrypt_statements(made, self._secret, self._out / "site")
        for r in made:
            number = r.statement.centre.number
            self._items.setdefault(number, []).append(r)
            self._waiting[number] -= 1
            if not self._waiting[number]:
                self._bundle(number)

    def bundles(self) -> tuple[Bundle, ...]:
        """Every bundle made, by centre number, once all are written (re-raises a failure)."""
        bundles = tuple(sorted((f.result() for f in self._bundles), key=lambda b: b.centre))
        for side in self._side:  # the outbox messages written beside them
            side.result()
        return bundles

    def _bundle(self, number: str) -> None:
        if self._outbox is not None:
            mine = sorted((r.statement for r in self._items[number]),
                          key=lambda st: self._order.get(st.statement_id, 0))
            self._side.append(self._pool.submit(self._outbox.candidates, mine))
        if self._centres is not None and number not in self._centres:
            return
        if self._explanation is None:
            self._explanation = self._pool.submit(sealed_explanation, self._series,
                                                  now=self._now, seal=self._seal)
        self._bundles.append(self._pool.submit(self._make, number, self._explanation))

    def _make(self, number: str, explanation: Future[bytes]) -> Bundle:
        return build_bundle(self._series, self._series.centre(number), self._items[number],
                            explanation.result(), self._out / "private" / "c", now=self._now,
                            seal=self._seal)
