"""Stage: write the private verification index (SQLite) the verification app reads.

Threat model. The index lives in ``private/`` and is copied only to the
verification app's host; it is never published. Even so, the two things an
attacker would need to pass a check, the candidate ID and the secret number,
are stored only as HMAC-SHA256 under the pepper, which stays in the key store
and never enters the database: a stolen index alone cannot be searched for an
ID, and the low-entropy secret numbers cannot be brute-forced offline without
the pepper. The secret's HMAC also covers the candidate ID, so equal secrets of
two candidates do not produce equal hashes. What the app shows on a match (name,
test, series, each result, issue date, status) is stored in clear: it is what a
successful check reveals anyway, and whoever holds the index already holds
the results. A pepper check value lets the app refuse to start with the wrong
pepper instead of silently answering "no match" to everyone.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from results_online import crypto
from results_online.model import Entry, Statement, Status
from results_online.wording import component_result, overall_grade

FORMAT = "1"
VALID, SUPERSEDED, WITHDRAWN = "valid", "superseded", "withdrawn"
STATUSES = (VALID, SUPERSEDED, WITHDRAWN)

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE statements (
  statement_id TEXT PRIMARY KEY,
  candidate_hash BLOB NOT NULL,
  secret_hash BLOB NOT NULL,
  test TEXT NOT NULL,
  revision INTEGER NOT NULL,
  issue_date TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('valid', 'superseded', 'withdrawn')),
  status_date TEXT,
  superseded_by TEXT,
  display TEXT NOT NULL
);
CREATE INDEX statements_candidate ON statements (candidate_hash);
"""


@dataclass(frozen=True)
class IndexRow:
    """One statement as the index stores it."""

    statement_id: str
    candidate_hash: bytes
    secret_hash: bytes
    test: str
    revision: int
    issue_date: date
    status: str  # valid, superseded or withdrawn
    status_date: date | None  # when it was superseded or withdrawn
    superseded_by: str | None
    display: str  # JSON: what the app shows on a match


def candidate_hash(pepper: bytes, candidate_id: str) -> bytes:
    """The index key of a candidate ID."""
    return crypto.keyed_hash(pepper, "candidate-id", candidate_id.strip())


def secret_hash(pepper: bytes, candidate_id: str, secret: str) -> bytes:
    """The stored form of a secret number, bound to its candidate ID."""
    return crypto.keyed_hash(pepper, "secret-number", candidate_id.strip(), secret.strip())


def pepper_check(pepper: bytes) -> str:
    """A value that tells the app it holds the pepper the index was built with."""
    return crypto.keyed_hash(pepper, "pepper-check").hex()


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
    return IndexRow(
        statement_id=s.statement_id, candidate_hash=candidate_hash(pepper, c.candidate_id),
        secret_hash=secret_hash(pepper, c.candidate_id, c.secret), test=s.entry.test.code,
        revision=s.entry.revision, issue_date=s.issue_date, status=VALID, status_date=None,
        superseded_by=None, display=json.dumps(display(s), ensure_ascii=False),
    )


def write_index(statements: Sequence[Statement], pepper: bytes, path: Path, *,
                superseded: Sequence[IndexRow] = ()) -> None:
    """Write a new index at ``path``: the statements as valid, plus retired rows as given."""
    rows = [row_for(s, pepper) for s in statements]
    ids = {r.statement_id for r in rows}
    for old in superseded:
        if old.status not in (SUPERSEDED, WITHDRAWN):
            raise ValueError(f"a retired row must be superseded or withdrawn, not {old.status}")
        if old.statement_id in ids:
            raise ValueError("a statement cannot be both current and retired")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.executescript(SCHEMA)
            con.executemany("INSERT INTO meta VALUES (?, ?)",
                            [("format", FORMAT), ("pepper_check", pepper_check(pepper))])
            con.executemany(
                "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_values(r) for r in (*rows, *superseded)])
    finally:
        con.close()
    tmp.chmod(0o600)
    tmp.replace(path)


def read_rows(path: Path) -> tuple[IndexRow, ...]:
    """Every row of an existing index (for `results amend`)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = con.execute("SELECT statement_id, candidate_hash, secret_hash, test, revision, "
                          "issue_date, status, status_date, superseded_by, display "
                          "FROM statements ORDER BY statement_id")
        return tuple(IndexRow(
            r[0], r[1], r[2], r[3], r[4], date.fromisoformat(r[5]), r[6],
            date.fromisoformat(r[7]) if r[7] else None, r[8], r[9]) for r in cur)
    finally:
        con.close()


def _values(r: IndexRow) -> tuple[object, ...]:
    return (r.statement_id, r.candidate_hash, r.secret_hash, r.test, r.revision,
            r.issue_date.isoformat(), r.status,
            r.status_date.isoformat() if r.status_date else None, r.superseded_by, r.display)


def status_list(rows: Sequence[IndexRow]) -> dict[str, object]:
    """The public status list: ids and dates of retired statements, nothing identifying."""
    retired = sorted((r for r in rows if r.status != VALID), key=lambda r: r.statement_id)
    return {"format": 1,
            "note": "statements not listed here are valid if their signature is",
            "statements": {r.statement_id: {
                "status": r.status,
                "date": r.status_date.isoformat() if r.status_date else None}
                for r in retired}}


def write_status_list(path: Path, rows: Sequence[IndexRow]) -> None:
    """Write the public status list (site/status/<series>.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(status_list(rows), indent=1) + "\n", encoding="utf-8")
