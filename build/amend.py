"""Stage: carry statement history across rebuilds (revisions, supersession, withdrawal).

A rebuild over a previous output compares every entry with the previous
manifest by a hash of its results. An unchanged entry keeps its revision and
issue date, so it seals to the same statement id and the same token; a changed
one (a results enquiry) gets the next revision, hence a new statement id, and
today's issue date, and the old statement is marked superseded on that date.
An entry that disappeared is withdrawn. Statements retired earlier stay
retired. `results amend` renders only the new statements, hard-links the files
of the others and the bundles of unaffected centres from the previous output.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from results_online.build.bundle.centre import bundle_file
from results_online.build.inputs.spool import Spool
from results_online.build.manifest import (
    MANIFEST,
    ManifestItem,
    has_history,
    iter_manifest_lines,
    parse_item,
)
from results_online.build.output import Carrier, JsonText, carry
from results_online.build.release.plan import SITE_DIR, STAGED_DIR, Kind
from results_online.build.render.statements import RenderedStatement
from results_online.build.verification.index import IndexFacts, results_hash
from results_online.build.verification.seal import Sealer
from results_online.errors import BuildError
from results_online.index import IndexReader, IndexRow, StatementStatus, candidate_hash
from results_online.keys.store import KeyStore
from results_online.model import Entry, Series, Statement
from results_online.names import blob_path

_Key = tuple[str, str]  # (candidate ID, test code)
# What carrying one statement needs: its display id, statement id, PDF and page paths.
Carried = tuple[str, str, str, str]


@dataclass(frozen=True)
class Previous:
    """What the previous build of this series left in the output folder.

    Its manifest items are in the spool and its index is read a query at a time, so a
    rebuild holds neither in memory.
    """

    root: Path
    spool: Spool
    index: Path  # its private/verify.sqlite

    def item(self, candidate_id: str, test: str) -> ManifestItem | None:
        """The previous statement of a candidate's entry in a test."""
        found = self.spool.previous_item(candidate_id, test)
        return None if found is None else parse_item(found)

    def in_centre(self, centre: str) -> dict[_Key, ManifestItem]:
        """The previous items of a centre, by candidate ID and test."""
        return {k: parse_item(line) for k, line in self.spool.previous_in_centre(centre).items()}

    def with_ids(self, statement_ids: Sequence[str]) -> dict[str, ManifestItem]:
        """The previous items of those of these statement ids that had one."""
        return {k: parse_item(line)
                for k, (line, _) in self.spool.previous_with(statement_ids).items()}

    def lines_with(self, statement_ids: Sequence[str]) -> dict[str, ManifestItem | JsonText]:
        """``with_ids``, but the items that sealing kept as they were as their manifest line."""
        return {k: JsonText(line) if kept else parse_item(line)
                for k, (line, kept) in self.spool.previous_with(statement_ids).items()}

    def rows(self) -> Iterator[IndexRow]:
        """Every row of the previous index, by statement id."""
        with IndexReader(self.index) as reader:
            yield from reader.rows()


@dataclass(frozen=True)
class Plan:
    """What sealing the series into the spool found: the statements it retires and more."""

    count: int  # statements in the spool
    new: frozenset[str] | None  # statement ids the previous output lacks (None: no previous)
    retired: tuple[IndexRow, ...]  # superseded or withdrawn rows for the index
    facts: IndexFacts  # what the index says about the series
    affected: frozenset[str]  # centres whose bundle changes (every centre without previous)
    explanation: Series  # the series with its entries for the grade distributions
    carried: frozenset[str] = frozenset()  # centres handed to ``carry`` as they were sealed


def read_previous(out_dir: Path, series_code: str, spool: Spool) -> Previous | None:
    """The previous build of this series in ``out_dir`` (its items into ``spool``), or None."""
    index = out_dir / "private" / "verify.sqlite"
    if not (out_dir / MANIFEST).is_file() or not index.is_file():
        return None
    try:
        if not has_history(out_dir):
            return None  # a build from before history was kept
        IndexReader(index).close()  # readable, with its statements
        for i, line in iter_manifest_lines(out_dir):
            if i.series != series_code:
                return None  # another series
            spool.put_previous(i.candidate_id, i.test, i.statement_id, i.centre, line)
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error) as exc:
        raise BuildError(f"the previous output in {out_dir} is damaged: {type(exc).__name__}",
                         hint="restore it, or build into a new --out folder") from None
    return Previous(out_dir, spool, index)


def plan_into(spool: Spool, series: Series, keys: KeyStore, previous: Previous | None,
              today: date, *, carry: Callable[[str, list[Carried]], None] | None = None) -> Plan:
    """Seal the spooled entries centre by centre into the spool, keeping unchanged statements.

    Only a few figures per series are kept here, and over a previous build the
    statements that changed (what they replace, their ids and centres). ``carry`` (an
    amend) is given each centre whose every statement is new or its previous one, with
    the files of the latter, as soon as it is sealed: they are linked while the rest
    of the series seals.
    """
    sealer = Sealer(series, keys)
    replaced: dict[_Key, str] = {}
    new_by_key: dict[_Key, str] = {}
    new: set[str] = set()
    changed: set[str] = set()  # centres with a new statement
    facts, shapes = IndexFacts(), _Shapes()
    count = 0
    carried: set[str] = set()
    with IndexReader(previous.index) if previous is not None else nullcontext() as history:
        for centre, entries in spool.entries_by_centre():
            statements, same, fresh, kept = [], [], 0, []
            # One query a centre, not one an entry (a candidate who moved centre: below).
            items = previous.in_centre(centre) if previous is not None else {}
            for entry in entries:
                if previous is None or history is None:
                    s = sealer.seal(entry)
                else:
                    key = (entry.candidate.candidate_id, entry.test.code)
                    item = items[key] if key in items else previous.item(*key)
                    s = _revised(sealer, entry, item, history, replaced, today=today)
                    if key in replaced:
                        new_by_key[key] = s.statement_id
                    # An unchanged entry keeps its item's id; any other may still match one.
                    if (item is None or item.statement_id != s.statement_id) \
                            and spool.previous_of(s.statement_id) is None:
                        new.add(s.statement_id)
                        changed.add(centre)
                        fresh += 1
                    elif key in items and item is not None and item.statement_id == s.statement_id:
                        same.append(carried_of(s, item))
                        if s.token == item.token:  # so its manifest line stands as it is
                            kept.append(s.statement_id)
                statements.append(facts.add(s))
                shapes.add(s.entry)
            spool.put_statements(centre, statements)
            spool.keep_previous(kept)
            count += len(statements)
            # Each statement new or its previous one here: the others' files can go now.
            if carry is not None and same and len(same) + fresh == len(statements):
                carry(centre, same)
                carried.add(centre)
    explanation = replace(series, entries=shapes.entries)
    if previous is None:
        return Plan(count, None, (), facts, frozenset(spool.centres()), explanation)
    superseded = {old_id: new_by_key[key] for key, old_id in replaced.items()}
    affected = frozenset(changed | spool.previous_gone())
    return Plan(count, frozenset(new), _retired(previous, superseded, today), facts, affected,
                explanation, frozenset(carried))


def _revised(sealer: Sealer, entry: Entry, item: ManifestItem | None, history: IndexReader,
             replaced: dict[_Key, str], *, today: date) -> Statement:
    """The statement of ``entry`` over a previous build (``item``): same, or the next revision."""
    key = (entry.candidate.candidate_id, entry.test.code)
    if item is not None and item.results_hash == results_hash(entry):
        return sealer.seal(replace(entry, revision=item.revision), item.issue_date, item.token)
    # Only a changed or new entry asks the index for its history (a keyed hash and a query).
    last = max(history.last_revision(candidate_hash(sealer.keys.pepper, key[0]), key[1]),
               item.revision if item is not None else 0)
    if last:
        revision, issued = last + 1, today
        if item is not None:
            replaced[key] = item.statement_id
    else:
        revision, issued = 1, sealer.series.info.issue_date
    if revision > 255:
        raise BuildError(f"{entry.test.code} for candidate number "
                         f"{entry.candidate.number} has been revised too often")
    return sealer.seal(replace(entry, revision=revision), issued)


class _Shapes:
    """The series' entries for its grade distributions: one shared entry per distinct result.

    The explanation of results counts grades over every entry; entries with the same
    results count the same, so a million entries cost a million references, not objects.
    """

    def __init__(self) -> None:
        self._seen: dict[object, Entry] = {}
        self._all: list[Entry] = []

    def add(self, entry: Entry) -> None:
        o = entry.overall
        key = (entry.test.code, tuple((r.component.code, r.status, r.grade)
                                      for r in entry.components),
               None if o is None else (o.status, o.grade))
        self._all.append(self._seen.setdefault(key, entry))

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._all)


@dataclass(frozen=True)
class Link:
    """One file of a carried statement: linked from the first of ``sources`` that exists."""

    display_id: str
    sources: tuple[str, ...]
    dest: str
    required: bool


def carry_rendered(statements: Sequence[Statement], new: frozenset[str], previous: Previous,
                   out: Path, *, link: bool = True) -> tuple[RenderedStatement, ...]:
    """The files of every statement not in ``new``, carried (hard-linked) from ``previous``.

    Its page, PDF and ciphertext are the same bytes: the statement id and token did
    not change, so nothing in them did. ``link`` False: they are linked
    already (the centre was handed to ``plan_into``'s ``carry``).
    """
    rendered = []
    items = previous.with_ids([s.statement_id for s in statements if s.statement_id not in new])
    carried = carried_files(statements, new, items)
    for s in statements:
        if s.statement_id not in new:
            item = items[s.statement_id]
            rendered.append(RenderedStatement(s, out / item.pdf, out / item.html))
    if link:
        link_carried(carried, os.fspath(previous.root), os.fspath(out))
    return tuple(rendered)


def carried_files(statements: Sequence[Statement], new: frozenset[str],
                  items: Mapping[str, ManifestItem]) -> list[Carried]:
    """What carries the statements not in ``new`` (``items`` by id): KeyError if one has none.

    Only strings, so ``link_carried`` may run in another process at little cost.
    """
    return [carried_of(s, items[s.statement_id]) for s in statements
            if s.statement_id not in new]


def carried_of(s: Statement, item: ManifestItem) -> Carried:
    """What carrying ``s`` needs, from its previous manifest item (the same files)."""
    return s.display_id, s.statement_id, item.pdf, item.html


def link_carried(carried: Sequence[Carried], old: str, dest: str) -> None:
    """Link the carried statements' files from the output ``old`` into ``dest``.

    BuildError if a statement's PDF or ciphertext is missing.
    """
    link_all([link for c in carried for link in _links(c, old, dest)])


def _links(carried: Carried, old: str, dest: str) -> list[Link]:
    display_id, statement_id, pdf, html = carried
    blob = blob_path(statement_id)
    blobs = (os.path.join(old, SITE_DIR, blob),
             os.path.join(old, STAGED_DIR, Kind.CANDIDATE.value, blob))
    return [Link(display_id, (os.path.join(old, pdf),), os.path.join(dest, pdf), True),
            Link(display_id, blobs, os.path.join(dest, SITE_DIR, blob), True),
            Link(display_id, (os.path.join(old, html),), os.path.join(dest, html), False)]


def link_all(links: Sequence[Link]) -> None:
    """Make the links; BuildError if a statement's PDF or ciphertext is missing."""
    carrier = Carrier()
    for link in links:
        if not any(carrier.carry(source, link.dest) for source in link.sources) \
                and link.required:
            raise BuildError(f"the previous output lacks the files of {link.display_id}, so "
                             "they cannot be carried over",
                             hint="run `results build` to render every statement again")


def carry_bundles(series: Series, rebuilt: frozenset[str], previous: Previous,
                  out: Path) -> list[Path]:
    """Hard-link the previous bundles of the centres not rebuilt; return their new paths."""
    carried = []
    for number in sorted(set(previous.spool.previous_centres()) - rebuilt):
        old = bundle_file(previous.root / "private" / "c", number, series.info.code)
        if not old.is_file():
            raise BuildError(f"the previous output lacks the bundle of centre {number}",
                             hint="run `results build` to make every bundle again")
        new = bundle_file(out / "private" / "c", number, series.info.code)
        carry(old, new)
        carried.append(new)
    return carried


def _retired(previous: Previous, superseded: dict[str, str],
             today: date) -> tuple[IndexRow, ...]:
    out = []
    for row in previous.rows():
        if previous.spool.is_current(row.statement_id):
            continue
        if row.status is not StatementStatus.VALID:
            out.append(row)
        elif row.statement_id in superseded:
            out.append(replace(row, status=StatementStatus.SUPERSEDED, status_date=today,
                               superseded_by=superseded[row.statement_id]))
        else:
            out.append(replace(row, status=StatementStatus.WITHDRAWN, status_date=today))
    return tuple(out)
