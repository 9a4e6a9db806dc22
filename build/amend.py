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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from results_online.build.bundle.centre import bundle_file
from results_online.build.manifest import MANIFEST, ManifestItem, read_manifest
from results_online.build.output import Carrier, carry
from results_online.build.release.plan import SITE_DIR, STAGED_DIR, Kind
from results_online.build.render.statements import RenderedStatement
from results_online.build.verification.index import results_hash
from results_online.build.verification.seal import seal_series
from results_online.errors import BuildError
from results_online.index import IndexRow, StatementStatus, candidate_hash, read_rows
from results_online.keys.store import KeyStore
from results_online.model import Entry, Series, Statement
from results_online.names import blob_path

_Key = tuple[str, str]  # (candidate ID, test code)


@dataclass(frozen=True)
class Previous:
    """What the previous build of this series left in the output folder."""

    root: Path
    items: dict[_Key, ManifestItem]  # current manifest items
    rows: tuple[IndexRow, ...]


@dataclass(frozen=True)
class Plan:
    """The statements of this build and the statements it retires."""

    statements: tuple[Statement, ...]
    new: frozenset[str]  # statement ids the previous output does not have
    retired: tuple[IndexRow, ...]  # superseded or withdrawn rows for the index


def read_previous(out_dir: Path, series_code: str) -> Previous | None:
    """The previous build of this series in ``out_dir``, or None if there is none."""
    index = out_dir / "private" / "verify.sqlite"
    if not (out_dir / MANIFEST).is_file() or not index.is_file():
        return None
    try:
        items = read_manifest(out_dir)
        rows = read_rows(index)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"the previous output in {out_dir} is damaged: {type(exc).__name__}",
                         hint="restore it, or build into a new --out folder") from None
    if items is None or any(i.series != series_code for i in items):
        return None  # another series, or a build from before history was kept
    return Previous(out_dir, {(i.candidate_id, i.test): i for i in items}, rows)


def plan_statements(series: Series, keys: KeyStore, previous: Previous | None,
                    today: date) -> Plan:
    """Seal the series, keeping unchanged statements and revising changed ones."""
    if previous is None:
        statements = seal_series(series, keys)
        return Plan(statements, frozenset(s.statement_id for s in statements), ())
    history = _revisions(previous.rows)
    by_date: dict[date, list[Entry]] = {}
    replaced: dict[_Key, str] = {}
    for entry in series.entries:
        key = (entry.candidate.candidate_id, entry.test.code)
        item = previous.items.get(key)
        last = max(history.get((candidate_hash(keys.pepper, key[0]), key[1]), 0),
                   item.revision if item is not None else 0)
        if item is not None and item.results_hash == results_hash(entry):
            revision, issued = item.revision, item.issue_date
        elif last:
            revision, issued = last + 1, today
            if item is not None:
                replaced[key] = item.statement_id
        else:
            revision, issued = 1, series.info.issue_date
        if revision > 255:
            raise BuildError(f"{entry.test.code} for candidate number "
                             f"{entry.candidate.number} has been revised too often")
        by_date.setdefault(issued, []).append(replace(entry, revision=revision))
    ordered = sorted(
        (s for issued, entries in by_date.items()
         for s in seal_series(replace(series, info=replace(series.info, issue_date=issued),
                                      entries=tuple(entries)), keys)),
        key=lambda s: (s.centre.number, s.entry.candidate.number, s.entry.test.code))
    return Plan(tuple(ordered), _new_ids(ordered, previous),
                _retired(ordered, previous, replaced, today))


def carry_rendered(statements: Sequence[Statement], new: frozenset[str], previous: Previous,
                   out: Path) -> tuple[RenderedStatement, ...]:
    """The files of every statement not in ``new``, carried (hard-linked) from ``previous``.

    Its page, fragment, PDF and ciphertext are the same bytes: the statement id and
    token did not change, so nothing in them did.
    """
    items = {i.statement_id: i for i in previous.items.values()}
    old, dest = os.fspath(previous.root), os.fspath(out)
    blobs = [os.path.join(old, SITE_DIR), os.path.join(old, STAGED_DIR, Kind.CANDIDATE.value)]
    carrier = Carrier()
    result = []
    for s in statements:
        if s.statement_id in new:
            continue
        item = items[s.statement_id]
        fragment = item.fragment
        blob = blob_path(s.statement_id)
        if not (carrier.carry(os.path.join(old, item.pdf), os.path.join(dest, item.pdf))
                and any(carrier.carry(os.path.join(place, blob),
                                      os.path.join(dest, SITE_DIR, blob)) for place in blobs)):
            raise BuildError(f"the previous output lacks the files of {s.display_id}, so they "
                             "cannot be carried over",
                             hint="run `results build` to render every statement again")
        for rel in (item.html, fragment):
            carrier.carry(os.path.join(old, rel), os.path.join(dest, rel))
        result.append(RenderedStatement(s, out / item.pdf, out / item.html, out / fragment))
    return tuple(result)


def affected_centres(statements: Sequence[Statement], new: frozenset[str],
                     previous: Previous) -> frozenset[str]:
    """Centres whose bundle changes: a new statement, or one gone since the previous build."""
    current = {s.statement_id for s in statements}
    return frozenset({s.centre.number for s in statements if s.statement_id in new} | {
        i.centre for i in previous.items.values() if i.statement_id not in current})


def carry_bundles(series: Series, rebuilt: frozenset[str], previous: Previous,
                  out: Path) -> list[Path]:
    """Hard-link the previous bundles of the centres not rebuilt; return their new paths."""
    carried = []
    for number in sorted({i.centre for i in previous.items.values()} - rebuilt):
        old = bundle_file(previous.root / "private" / "c", number, series.info.code)
        if not old.is_file():
            raise BuildError(f"the previous output lacks the bundle of centre {number}",
                             hint="run `results build` to make every bundle again")
        new = bundle_file(out / "private" / "c", number, series.info.code)
        carry(old, new)
        carried.append(new)
    return carried


def _revisions(rows: Sequence[IndexRow]) -> dict[tuple[bytes, str], int]:
    """The highest revision each (candidate, test) has had."""
    out: dict[tuple[bytes, str], int] = {}
    for r in rows:
        key = (r.candidate_hash, r.test)
        out[key] = max(out.get(key, 0), r.revision)
    return out


def _new_ids(statements: Sequence[Statement], previous: Previous) -> frozenset[str]:
    old = {i.statement_id for i in previous.items.values()}
    return frozenset(s.statement_id for s in statements if s.statement_id not in old)


def _retired(statements: Sequence[Statement], previous: Previous, replaced: dict[_Key, str],
             today: date) -> tuple[IndexRow, ...]:
    current = {s.statement_id for s in statements}
    new_by_key = {(s.entry.candidate.candidate_id, s.entry.test.code): s.statement_id
                  for s in statements}
    superseded = {old: new_by_key[key] for key, old in replaced.items()}
    out = []
    for row in previous.rows:
        if row.statement_id in current:
            continue
        if row.status is not StatementStatus.VALID:
            out.append(row)
        elif row.statement_id in superseded:
            out.append(replace(row, status=StatementStatus.SUPERSEDED, status_date=today,
                               superseded_by=superseded[row.statement_id]))
        else:
            out.append(replace(row, status=StatementStatus.WITHDRAWN, status_date=today))
    return tuple(out)
