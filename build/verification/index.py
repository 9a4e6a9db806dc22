"""Stage: write the private verification index (SQLite) the verification app reads.

The threat model and the format are in ``results_online/index.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from results_online.build.site.catalogue import catalogue_json, catalogue_path
from results_online.index import (
    FORMAT,
    SCHEMA,
    IndexRow,
    SecretBudget,
    StatementStatus,
    candidate_hash,
    pepper_check,
    row_values,
    secret_budget,
    secret_hash,
    share_hash,
)
from results_online.model import Entry, SeriesInfo, Statement, Status, Test
from results_online.wording import component_result, overall_grade


def results_hash(entry: Entry) -> str:
    """A digest of what a statement says about an entry, to spot entries an enquiry changed."""
    c = entry.candidate
    doc = {
        "candidate": [c.candidate_id, c.centre, c.number, c.name],
        "test": entry.test.code,
        "results": [[r.component.code, r.status.value, r.mark, r.grade] for r in entry.components],
        "overall": None if entry.overall is None else [
            entry.overall.status.value, entry.overall.score, entry.overall.grade,
            entry.overall.cefr],
    }
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False).encode()).hexdigest()


def display(s: Statement) -> dict[str, object]:
    """What the verification app shows for a statement on a match."""
    e = s.entry
    overall: dict[str, object] | None = None
    if e.overall is not None:
        o = e.overall
        overall = {"result": overall_grade(o), "score": o.score if o.status is Status.OK else None,
                   "grade": o.grade, "cefr": o.cefr, "status": o.status.value}
    return {
        "statement_id": s.statement_id, "display_id": s.display_id, "revision": e.revision,
        "name": e.candidate.name, "candidate_number": e.candidate.number,
        "centre": s.centre.number, "centre_name": s.centre.name,
        "board": s.series.board, "series": s.series.name, "series_code": s.series.code,
        "test": e.test.name, "test_code": e.test.code, "issue_date": s.issue_date.isoformat(),
        "results": [{"code": r.component.code, "title": r.component.title,
                     "result": component_result(r), "mark": r.mark, "grade": r.grade,
                     "status": r.status.value} for r in e.components],
        "overall": overall,
    }


def row_for(s: Statement, pepper: bytes) -> IndexRow:
    """The index row of a current (valid) statement."""
    c = s.entry.candidate
    if not s.share_code:
        raise ValueError("a statement needs its share code to be indexed")
    return IndexRow(
        statement_id=s.statement_id, candidate_hash=candidate_hash(pepper, c.candidate_id),
        secret_hash=secret_hash(pepper, c.candidate_id, c.secret),
        share_hash=share_hash(pepper, c.candidate_id, s.share_code), test=s.entry.test.code,
        revision=s.entry.revision, issue_date=s.issue_date, status=StatementStatus.VALID,
        status_date=None, superseded_by=None,
        display=json.dumps(display(s), ensure_ascii=False),
    )


def shortest_secret(statements: Iterable[Statement]) -> int:
    """The digits of the series' shortest secret number (what bounds a guesser)."""
    return min((len(s.entry.candidate.secret) for s in statements), default=0)


def budget_for(statements: Iterable[Statement]) -> SecretBudget:
    """The per-ID failure budget the index records for these statements' secrets."""
    return secret_budget(shortest_secret(statements) or 4)


@dataclass
class IndexFacts:
    """What the index says about the whole series, gathered as its statements stream past."""

    shortest: int = 0  # digits of the shortest secret number (0: no statement yet)
    info: SeriesInfo | None = None
    tests: dict[str, Test] = field(default_factory=dict)  # in order of first statement

    def add(self, s: Statement) -> Statement:
        """Take one statement into account; return it."""
        digits = len(s.entry.candidate.secret)
        self.shortest = digits if not self.shortest else min(self.shortest, digits)
        self.info = self.info or s.series
        self.tests.setdefault(s.entry.test.code, s.entry.test)
        return s

    def budget(self) -> SecretBudget:
        """The per-ID secret-number budget these statements call for."""
        return secret_budget(self.shortest or 4)

    def meta(self) -> list[tuple[str, str]]:
        """The meta rows: the budget and who the app speaks for."""
        budget = self.budget()
        rows = [("shortest_secret", str(self.shortest or 4)),
                ("budget_failures", str(budget.failures)), ("budget_days", str(budget.days))]
        info = self.info
        if info is None:
            return rows
        # Who the app speaks for: its pages show the board, its contact and the site.
        return [*rows, ("board", info.board), ("contact", info.contact),
                ("site_url", info.site_url),
                ("catalogue_path", catalogue_path(info.year, info.month)),
                ("catalogue", catalogue_json(info, self.tests.values()))]


def write_index(statements: Iterable[Statement], pepper: bytes, path: Path, *,
                superseded: Sequence[IndexRow] = ()) -> SecretBudget:
    """Write a new index at ``path``: the statements as valid, plus retired rows as given.

    The statements are read once, as a stream, so the series need not be in memory.
    Returns the per-ID secret-number budget it recorded (``results_online.index``).
    """
    for old in superseded:
        if old.status not in (StatementStatus.SUPERSEDED, StatementStatus.WITHDRAWN):
            raise ValueError(f"a retired row must be superseded or withdrawn, not {old.status}")
    facts = IndexFacts()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.executescript(SCHEMA)
            con.executemany(_INSERT, (row_values(row_for(facts.add(s), pepper))
                                      for s in statements))
            for old in superseded:
                if con.execute("SELECT 1 FROM statements WHERE statement_id = ?",
                               (old.statement_id,)).fetchone():
                    raise ValueError("a statement cannot be both current and retired")
            con.executemany(_INSERT, (row_values(r) for r in superseded))
            con.executemany("INSERT INTO meta VALUES (?, ?)",
                            [("format", FORMAT), ("pepper_check", pepper_check(pepper)),
                             *facts.meta()])
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    tmp.chmod(0o600)
    tmp.replace(path)
    return facts.budget()


_INSERT = "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def update_index(previous: Path, path: Path, new: Iterable[Statement], pepper: bytes, *,
                 retired: Sequence[IndexRow], facts: IndexFacts) -> bool:
    """Write ``path`` as ``previous`` plus the new statements, with the retired rows updated.

    ``facts`` are what the index says about the series, gathered over all its
    statements (as sealing gathers them). What ``write_index`` would write for the
    whole series, in time proportional to the change (an amend). False, writing
    nothing, if ``previous`` is of another format or pepper: then the whole index is
    written again.
    """
    if not _same_format(previous, pepper):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    shutil.copyfile(previous, tmp)  # a copy, not a link: it is changed below
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", facts.meta())
            con.executemany(
                "INSERT OR REPLACE INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [row_values(r) for r in (*(row_for(s, pepper) for s in new), *retired)])
    finally:
        con.close()
    tmp.chmod(0o600)
    tmp.replace(path)
    return True


def _same_format(index: Path, pepper: bytes) -> bool:
    try:
        con = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return meta.get("format") == FORMAT and meta.get("pepper_check") == pepper_check(pepper)


def status_list(rows: Sequence[IndexRow]) -> dict[str, object]:
    """The public status list: ids and dates of retired statements, nothing identifying."""
    retired = sorted((r for r in rows if r.status is not StatementStatus.VALID),
                     key=lambda r: r.statement_id)
    return {"format": 1,
            "note": "statements not listed here are valid if their signature is",
            "statements": {r.statement_id: {
                "status": r.status.value,
                "date": r.status_date.isoformat() if r.status_date else None}
                for r in retired}}


def write_status_list(path: Path, rows: Sequence[IndexRow]) -> None:
    """Write the public status list (site/status/<series>.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(status_list(rows), indent=1) + "\n", encoding="utf-8")
