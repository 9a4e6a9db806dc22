"""The stages that follow rendering, fed batch by batch while the other batches render.

Each rendered batch is encrypted into ``site/s/`` as soon as it arrives (in this
process: AES-GCM is quick), and a centre's bundle is made as soon as the last of
its statements is in, on a background thread, together with the outbox messages
of its candidates, so these no longer wait for the whole series and then run one
after another on one core. Only the last centre's work is left after the last batch.

In a full build the bundles hide behind rendering, so one thread makes them. In an
amend they are most of the work left (few statements to render, whole centres to
bundle), so they are made in ``processes`` worker processes, beside the render pool
and the parent's carrying of the other centres, rather than under the parent's GIL.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from multiprocessing import forkserver
from pathlib import Path
from types import TracebackType

from results_online.build.bundle import centre as bundle_centre
from results_online.build.bundle.centre import Bundle, build_bundle, sealed_explanation
from results_online.build.bundle.rejoin import Joins
from results_online.build.release.outbox import Outbox, OutboxItem
from results_online.build.render import statements as render_statements
from results_online.build.render.statements import RenderedStatement
from results_online.build.site.encrypt import encrypt_statements
from results_online.keys.seal import Seal
from results_online.model import Series, Statement

log = logging.getLogger("results_online.build.stream")


def start_forkserver() -> None:
    """Start the forkserver the render and bundle processes fork from, importing their code.

    Called as a build starts: the server imports WeasyPrint and pikepdf (a second
    or two) on the other core while this process loads and seals the series.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([render_statements.__name__, bundle_centre.__name__])
    forkserver.ensure_running()


class AfterRender:
    """Encrypts batches as they come and bundles each centre once all its statements are in.

    Each centre is announced (``centre``) before its batches: its statements in series
    order and those whose files are already in the output (``carried``, an amend).
    ``centres`` limits which centres get a new bundle (None: every centre); ``outbox``
    gets each completed centre's statements. A centre's statements are let go once its
    bundle and messages are written, so only the centres being rendered are held.
    ``processes`` above 1 makes the bundles (and the explanation of results) in that
    many worker processes; ``unchanged`` is where the messages of the centres announced
    ``unchanged`` are made (default: the thread beside rendering); ``joins`` where each
    bundle's statements.pdf is kept, and made again from (``build/bundle/rejoin.py``).
    """

    def __init__(self, series: Series, out: Path, *, statement_secret: bytes, now: datetime,
                 centres: frozenset[str] | None = None, seal: Seal | None = None,
                 outbox: Outbox | None = None, explanation: Series | None = None,
                 messages: Callable[[str, list[OutboxItem]], None] | None = None,
                 processes: int = 1, unchanged: Executor | None = None,
                 joins: Joins | None = None) -> None:
        self._series, self._out, self._secret, self._now = series, out, statement_secret, now
        self._waiting: dict[str, int] = {}
        self._items: dict[str, list[RenderedStatement]] = {}
        self._order: dict[str, Sequence[Statement]] = {}
        self._centres = centres
        self._seal = seal
        self._outbox = outbox
        self._for_explanation = explanation or series
        self._side: dict[str, Future[list[OutboxItem]]] = {}
        self._messages = messages  # given each centre's candidates' items, in this thread
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundles")
        self._unchanged = unchanged or self._pool
        self._processes = processes
        self._procs: ProcessPoolExecutor | None = None  # started with the first bundle
        self._waiters: ThreadPoolExecutor | None = None  # one per process, each awaits one
        self._explanation: Future[bytes] | None = None
        self._bundles: list[Future[Bundle]] = []
        self._joins = joins

    def __enter__(self) -> AfterRender:
        if self._processes > 1:  # their pool starts, and the explanation renders, meanwhile
            self._explanation = self._makers()[0].submit(
                sealed_explanation, self._for_explanation, now=self._now, seal=self._seal)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for pool in (self._waiters, self._procs, self._pool):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=kind is not None)

    def centre(self, number: str, statements: Sequence[Statement],
               carried: Sequence[RenderedStatement] = ()) -> None:
        """Announce a centre: all its statements, and those already rendered."""
        self._order[number] = statements
        self._items[number] = list(carried)
        self._waiting[number] = len(statements) - len(carried)
        if not self._waiting[number]:  # nothing to render (an amend that only withdrew)
            self._bundle(number)

    def unchanged(self, statements: Sequence[Statement]) -> None:
        """A centre with nothing to render and no new bundle: only its candidates' messages."""
        if self._outbox is not None:
            self._side[statements[0].centre.number] = self._unchanged.submit(
                self._outbox.candidates, statements)
        self._collect(wait=False)

    def batch(self, made: Sequence[RenderedStatement]) -> None:
        """Take one rendered batch: encrypt it, and start the bundles it completes."""
        encrypt_statements(made, self._secret, self._out / "site")
        for r in made:
            number = r.statement.centre.number
            # Its fragment is in the ciphertext now: the bundle needs only the files.
            self._items[number].append(replace(r, fragment=None))
            self._waiting[number] -= 1
            if not self._waiting[number]:
                self._bundle(number)
        self._collect(wait=False)

    def messages(self) -> None:
        """Wait until every announced centre's candidates' messages are written and handed on."""
        self._collect(wait=True)

    def bundles(self) -> tuple[Bundle, ...]:
        """Every bundle made, by centre number, once all are written (re-raises a failure)."""
        bundles = tuple(sorted((f.result() for f in self._bundles), key=lambda b: b.centre))
        self._collect(wait=True)  # the outbox messages written beside them
        return bundles

    def _collect(self, *, wait: bool) -> None:
        for number, side in list(self._side.items()):
            if wait or side.done():
                items = side.result()
                del self._side[number]
                if self._messages is not None:
                    self._messages(number, items)

    def _bundle(self, number: str) -> None:
        items, order = self._items.pop(number), self._order.pop(number)
        del self._waiting[number]
        if self._outbox is not None:
            self._side[number] = self._pool.submit(self._outbox.candidates, order)
        if self._centres is not None and number not in self._centres:
            return
        makers, waiters = self._makers()
        if self._explanation is None:
            self._explanation = makers.submit(sealed_explanation, self._for_explanation,
                                              now=self._now, seal=self._seal)
        self._bundles.append(waiters.submit(self._make, makers, number, items,
                                            self._explanation))

    def _makers(self) -> tuple[Executor, ThreadPoolExecutor]:
        """Where bundles are made, and the threads that hand them there and wait."""
        if self._processes <= 1:
            return self._pool, self._pool
        if self._procs is None or self._waiters is None:
            # forkserver, as the render pool: no copy of this process's threads and locks.
            self._procs = ProcessPoolExecutor(self._processes,
                                              mp_context=multiprocessing.get_context("forkserver"))
            self._waiters = ThreadPoolExecutor(self._processes, thread_name_prefix="bundles")
        return self._procs, self._waiters

    def _make(self, makers: Executor, number: str, items: Sequence[RenderedStatement],
              explanation: Future[bytes]) -> Bundle:
        args = (self._series, self._series.centre(number), items, explanation.result(),
                self._out / "private" / "c")
        if makers is self._pool:  # this thread is the pool's
            return build_bundle(*args, now=self._now, seal=self._seal, joins=self._joins)
        bundle: Bundle = makers.submit(build_bundle, *args, now=self._now, seal=self._seal,
                                       joins=self._joins).result()
        return bundle
