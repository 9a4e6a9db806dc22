"""``build()``: chain the stages, from a series folder to the output folder, atomically.

    load (checked, spooled) → seal (centre by centre, into the spool)
         → render (each batch encrypted, each centre bundled and its candidates'
           messages written as it completes)
         → manifest, index, site → release plan, outbox

Each stage is a plain function in its own module; the output is written into a
staging folder that replaces the previous output only when every stage succeeded.
The series streams through the stages: loading and sealing write it to a spool in
the staging folder (``build/inputs/spool.py``), and every later stage reads it back
one centre at a time, so memory does not grow with the series.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from results_online.build.amend import (
    Carried,
    Plan,
    Previous,
    carried_files,
    carry_bundles,
    carry_rendered,
    link_carried,
    plan_into,
    read_previous,
)
from results_online.build.bundle.rejoin import Joins, carry_kept
from results_online.build.inputs.load import scan_series
from results_online.build.inputs.spool import Spool
from results_online.build.manifest import ManifestItem, item_for, write_manifest
from results_online.build.output import JsonText, staged_output
from results_online.build.release.outbox import Outbox
from results_online.build.release.plan import release_streamed
from results_online.build.render.fonts import statement_texts
from results_online.build.render.statements import RenderedStatement, render_stream
from results_online.build.site.pages import write_site
from results_online.build.stream import AfterRender, start_forkserver
from results_online.build.verification.index import (
    update_index,
    write_index,
    write_status_list,
)
from results_online.config import BuildConfig
from results_online.errors import BuildError, InvalidToken
from results_online.index import GUESS_TARGET, SecretBudget
from results_online.keys.seal import load_seal
from results_online.keys.store import KeyStore, load_keys
from results_online.model import Statement
from results_online.names import blob_path, statement_files, status_list_path
from results_online.progress import Progress, no_progress

log = logging.getLogger("results_online.build")
SPOOL = ".spool.sqlite"  # in the staging folder; removed before the swap
STATEMENTS = Path("private", "statements")  # the rendered statements, in the output


@dataclass(frozen=True)
class BuildReport:
    """What a build made, for the CLI to summarise."""

    out_dir: Path
    statements: int
    centres: int
    rendered: int = 0  # statements rendered (all, or only the new ones when amending)
    retired: int = 0  # statements superseded or withdrawn so far
    guessing: str = ""  # the secret-number bound (``guess_bound``), for the CLI to print


def build(config: BuildConfig, progress: Progress = no_progress, *,
          amend: bool = False) -> BuildReport:
    """Build one series into ``config.out_dir``; on any error the old output stays.

    Over a previous build, changed results get new statements and the old ones are
    superseded; ``amend`` renders only the new statements and carries the rest over.
    """
    with (_collector_spared(), staged_output(config.out_dir) as out,
          _linker(config.workers) as linker):
        spool = Spool(out / SPOOL)
        try:
            report = _build(config, progress, out, spool, linker, amend=amend)
        finally:
            spool.close()
            (out / SPOOL).unlink(missing_ok=True)
    log.info("done: %d statements for %d centres", report.statements, report.centres)
    return report


def _build(config: BuildConfig, progress: Progress, out: Path, spool: Spool, linker: Executor,
           *, amend: bool) -> BuildReport:
    if config.workers > 1 and config.scheduler is None:
        start_forkserver()
    log.info("stage: load %s", config.series_dir)
    series = scan_series(config.series_dir, spool)
    keys = load_keys(config.keys_dir, config.passphrase)
    seal = load_seal(config.keys_dir, config.passphrase)
    check_signing_key(keys, series.info.issue_date)
    previous = read_previous(config.out_dir, series.info.code, spool)
    if amend and previous is None:
        raise BuildError(f"{config.out_dir} holds no previous build of {series.info.code}",
                         hint="run `results build` first; `results amend` updates its output")
    carrying = previous if amend else None
    links = None if carrying is None else _Links(linker, carrying, out)
    log.info("stage: seal")
    plan = plan_into(spool, series, keys, previous, config.now.date(),
                     carry=None if links is None else links.hand)
    private = out / "private"
    log.info("stage: render, encrypt and bundle")
    # Bundles are staged privately, laid out as the site's c/<centre>/<series>.zip.age;
    # the release plan decides when they go public.
    outbox = Outbox(series, keys.statement_secret, private, previous=config.out_dir / "private")
    # An amend's bundles are most of what it does: made in processes, even one, so they run
    # on the other core while this one carries the unchanged centres (not under its GIL).
    processes = config.workers if carrying is not None and plan.affected else 1
    with AfterRender(
            series, out, statement_secret=keys.statement_secret, now=config.now,
            centres=plan.affected if carrying else None, seal=seal, outbox=outbox,
            explanation=plan.explanation, messages=spool.put_messages,
            processes=processes, unchanged=linker,
            joins=Joins(out, None if carrying is None else carrying.root)) as after:
        feed = _Feed(spool, plan, links, out, batch_size=config.batch_size, after=after)
        render_stream(feed.batches(), feed.texts(), out / STATEMENTS,
                      total=feed.to_render, workers=config.workers, progress=progress,
                      now=config.now, seal=seal, on_batch=after.batch,
                      scheduler=config.scheduler)
        # Also carries the centres without a new statement (an amend): see manifest_items.
        write_manifest(out, feed.manifest_items())
        log.info("stage: index")
        index = private / "verify.sqlite"
        if not (carrying is not None and update_index(
                carrying.root / "private" / "verify.sqlite", index,
                feed.to_do(), keys.pepper,
                retired=plan.retired, facts=plan.facts)):
            write_index(spool.statements(), keys.pepper, index, superseded=plan.retired)
        guessing = guess_bound(plan.facts.budget(), plan.facts.shortest)
        write_status_list(out / "site" / status_list_path(series.info.code), plan.retired)
        log.info("stage: site pages")
        write_site(series, keys.keyset, out / "site")
        # The outbox needs the candidates' messages, not the bundles: written while they end.
        log.info("stage: outbox")
        after.messages()
        outbox.finish(spool.statements(), spool.messages(), spool.centres())
        bundles = [b.path for b in after.bundles()]
        feed.linked()  # before the release plan moves the blobs it planned
    if carrying is not None:
        carried = carry_bundles(series, plan.affected, carrying, out)
        carry_kept(carrying.root, out, [b.parent.name for b in carried], series.info.code)
        bundles += carried
    # Last: it plans every file the stages above put in site/, plus the bundles.
    log.info("stage: release plan")
    release_streamed(series.info, out, sorted(bundles), config.now,
                     (blob_path(sid) for sid in spool.statement_ids()))
    return BuildReport(config.out_dir, plan.count, len(series.centres), feed.to_render,
                       len(plan.retired), guessing)


class _Links:
    """An amend's unchanged files, handed to the linker a centre at a time, awaited by centre."""

    def __init__(self, linker: Executor, previous: Previous, out: Path) -> None:
        self.previous, self._linker = previous, linker
        self._old, self._dest = os.fspath(previous.root), os.fspath(out)
        self._done: dict[str, Future[None]] = {}

    def hand(self, centre: str, carried: list[Carried]) -> None:
        """Link the files of ``centre``'s carried statements on the linker."""
        self._done[centre] = self._linker.submit(link_carried, carried, self._old, self._dest)

    def wait(self, centre: str) -> None:
        """Wait until ``centre``'s files are linked (re-raises the linker's error)."""
        self._done[centre].result()

    def wait_all(self) -> None:
        """Wait until every file handed over is linked (re-raises the linker's error)."""
        for done in self._done.values():
            done.result()
        self._done.clear()


class _Feed:
    """The spooled statements as render batches, centre by centre, each centre announced."""

    def __init__(self, spool: Spool, plan: Plan, links: _Links | None, out: Path, *,
                 batch_size: int, after: AfterRender) -> None:
        if batch_size < 1:
            raise ValueError("workers and batch_size must be at least 1")
        self.spool, self.plan, self.out = spool, plan, out
        self.batch_size, self.after = batch_size, after
        # An amend: where it links what it carries and the ids of the statements it renders.
        self._amend = None if links is None or plan.new is None else (links, plan.new)
        # Counted from the plan, not by reading every statement back from the spool.
        self.to_render = plan.count if self._amend is None else len(self._amend[1])

    def fresh(self, s: Statement) -> bool:
        """Whether ``s`` is rendered by this build (not carried over by an amend)."""
        return self._amend is None or s.statement_id in self._amend[1]

    def texts(self) -> Iterator[str]:
        """The printable texts of the statements to render (for the reduced CJK faces)."""
        for s in self.to_do():
            yield from statement_texts(s)

    def to_do(self) -> Iterator[Statement]:
        """The statements this build renders, read from only the centres that have them."""
        if self._amend is None:
            yield from self.spool.statements()
            return
        for group in self.spool.statements_in(self.plan.affected):
            yield from (s for s in group if self.fresh(s))

    def batches(self) -> Iterator[list[Statement]]:
        """Each centre's statements to render, in slices of ``batch_size``.

        An amend reads only the centres with new statements here, so the first batch
        starts without waiting for the rest of the series; their files are linked
        first, as their bundles read them. The other centres follow in ``manifest_items``.
        """
        groups = (self.spool.statements_by_centre() if self._amend is None
                  else self.spool.statements_in(self.plan.affected))
        for group in groups:
            todo = [s for s in group if self.fresh(s)]
            carried: tuple[RenderedStatement, ...] = ()
            number = group[0].centre.number
            if self._amend is not None:
                if number in self.plan.carried:  # handed to the linker as it was sealed
                    self._amend[0].wait(number)  # its bundle reads the files
                carried = carry_rendered(group, self._amend[1], self._amend[0].previous, self.out,
                                         link=number not in self.plan.carried)
            self.after.centre(number, group, carried)
            for i in range(0, len(todo), self.batch_size):
                yield todo[i:i + self.batch_size]

    def linked(self) -> None:
        """Wait until every file handed to the linker is linked (re-raises its error)."""
        if self._amend is not None:
            self._amend[0].wait_all()

    def manifest_items(self) -> Iterator[ManifestItem | JsonText]:
        """Every statement's manifest item (where its files lie), in series order.

        A carried statement's item is its line in the previous manifest when nothing
        in it changed. In the same pass an amend carries the centres without a new
        statement: the ``linker`` links their files (40,000 links in a large series)
        and makes their candidates' messages, while the bundles are made.
        """
        for group in self.spool.statements_by_centre():
            lines: dict[str, ManifestItem | JsonText] = {}
            if self._amend is not None:
                links, new = self._amend
                carried = [s.statement_id for s in group if not self.fresh(s)]
                lines = links.previous.lines_with(carried)
                number = group[0].centre.number
                if number not in self.plan.affected and number not in self.plan.carried:
                    links.hand(number, carried_files(group, new,
                                                     links.previous.with_ids(carried)))
                if number not in self.plan.affected:
                    self.after.unchanged(group)
            for s in group:
                found = lines.get(s.statement_id)
                if isinstance(found, JsonText):
                    yield found  # its previous line: the statement kept its id and token
                elif found is not None:
                    yield item_for(s, found.pdf, found.html)
                elif not self.fresh(s):
                    raise KeyError(s.statement_id)
                else:
                    pdf, html = statement_files(STATEMENTS, s.centre.number,
                                                s.entry.candidate.number, s.entry.test.code)
                    yield item_for(s, os.fspath(pdf), os.fspath(html))


@contextmanager
def _collector_spared() -> Iterator[None]:
    """While it runs, the cyclic garbage collector passes over what the process held before."""
    # The imported libraries (WeasyPrint, pikepdf, jinja2, ...) are over 100,000 objects
    # that each full collection walked again: 7 of them in an amend of 10,000
    # candidates, 0.55 s of its 11. A caller that froze objects itself keeps its own way.
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _linker(workers: int) -> Executor:
    """Where an amend carries the unchanged centres (files and messages) while this goes on.

    A process when there is a second core: from a thread, each of the 50,000 link
    calls (and each message's digest) waits for this process's GIL again, so carrying
    costs the parent seconds.
    """
    if workers > 1:
        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    return ThreadPoolExecutor(1, thread_name_prefix="carry")


def guess_bound(budget: SecretBudget, digits: int) -> str:
    """The chance of guessing the series' shortest secret per ID per year, logged and returned.

    A warning when it is 1% or more: then only the share code is a sound proof.
    """
    chance = budget.chance(digits)
    line = (f"secret numbers: shortest {digits} digits; the app's per-ID budget of "
            f"{budget.describe()} allows at most {budget.per_year()} guesses a year, "
            f"a {chance:.2%} chance per ID per year")
    if chance >= GUESS_TARGET:
        log.warning("%s: above the 1%% target; use longer secret numbers", line)
        return line + " (WARNING: above 1%; use longer secret numbers)"
    log.info("%s", line)
    return line


def check_signing_key(keys: KeyStore, issued: date) -> None:
    """Refuse to sign statements the published keyset would not accept for their date."""
    try:
        keys.keyset.find(keys.signing_kid, issued)
    except InvalidToken:
        raise BuildError(
            f"the active signing key {keys.signing_kid.hex()} is not valid on the series' "
            f"issue date {issued.isoformat()}, so no verifier would accept its statements",
            hint="make the key store with `results keys init --valid-from DATE` (a date on or "
                 "before the issue date), or correct issue_date in series.toml") from None
