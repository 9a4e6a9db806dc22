"""The verification index format: what the build writes and the verification app reads.

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

Format 2 adds each statement's share code, stored like the secret: HMAC-SHA256
under the pepper, bound to the candidate ID. The meta table records the shortest
secret number of the series and the per-ID failure budget the build sized for it
(``secret_budget``), which the app applies unless told otherwise.
"""

from __future__ import annotations

import enum
import math
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from results_online import crypto


class StatementStatus(enum.StrEnum):
    """Where a statement stands: valid, superseded by a newer one, or withdrawn."""

    VALID = "valid"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


FORMAT = "2"  # 2: share codes, the secret budget in meta

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE statements (
  statement_id TEXT PRIMARY KEY,
  candidate_hash BLOB NOT NULL,
  secret_hash BLOB NOT NULL,
  share_hash BLOB NOT NULL,
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
    share_hash: bytes
    test: str
    revision: int
    issue_date: date
    status: StatementStatus
    status_date: date | None  # when it was superseded or withdrawn
    superseded_by: str | None
    display: str  # JSON: what the app shows on a match


# What people type around an ID or secret that is not part of it: spaces (also
# non-breaking ones pasted from a PDF), dashes of any kind, dots.
_TYPED_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212.]+")


def canonical_candidate_id(text: str) -> str:
    """A candidate ID as stored: no spaces or dashes, upper case ("s2647 1000" -> "S26471000")."""
    return _TYPED_NOISE.sub("", text).upper()


def canonical_secret(text: str) -> str:
    """A secret number as stored: no spaces or dashes ("5881 2" -> "58812")."""
    return _TYPED_NOISE.sub("", text).upper()


def candidate_hash(pepper: bytes, candidate_id: str) -> bytes:
    """The index key of a candidate ID, however it was typed."""
    return crypto.keyed_hash(pepper, "candidate-id", canonical_candidate_id(candidate_id))


def secret_hash(pepper: bytes, candidate_id: str, secret: str) -> bytes:
    """The stored form of a secret number, bound to its candidate ID."""
    return crypto.keyed_hash(pepper, "secret-number", canonical_candidate_id(candidate_id),
                             canonical_secret(secret))


def share_hash(pepper: bytes, candidate_id: str, code: str) -> bytes:
    """The stored form of a share code (canonical grouped form), bound to its candidate ID."""
    return crypto.keyed_hash(pepper, "share-code", canonical_candidate_id(candidate_id), code)


def pepper_check(pepper: bytes) -> str:
    """A value that tells the app it holds the pepper the index was built with."""
    return crypto.keyed_hash(pepper, "pepper-check").hex()


def row_values(r: IndexRow) -> tuple[object, ...]:
    """An index row as the statements table stores it, column by column."""
    return (r.statement_id, r.candidate_hash, r.secret_hash, r.share_hash, r.test, r.revision,
            r.issue_date.isoformat(), r.status.value,
            r.status_date.isoformat() if r.status_date else None, r.superseded_by, r.display)


def read_rows(path: Path) -> tuple[IndexRow, ...]:
    """Every row of an existing index (for `results amend`).

    An index of format 1 had no share codes: its rows come back with an empty share
    hash, which no share code matches (their secret numbers still do).
    """
    with IndexReader(path) as index:
        return tuple(index.rows())


class IndexReader:
    """An existing index, read a row or a query at a time (a rebuild over a large series)."""

    def __init__(self, path: Path) -> None:
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        columns = {r[1] for r in self._con.execute("PRAGMA table_info(statements)")}
        if "statement_id" not in columns:
            self._con.close()
            raise ValueError(f"{path} holds no statements table")
        self._share = "share_hash" if "share_hash" in columns else "X''"

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._con.close()

    def rows(self) -> Iterator[IndexRow]:
        """Every row, by statement id."""
        cur = self._con.execute(f"SELECT statement_id, candidate_hash, secret_hash, {self._share}, "  # noqa: S608 - a column name or X''
                                "test, revision, issue_date, status, status_date, superseded_by, "
                                "display FROM statements ORDER BY statement_id")
        for r in cur:
            yield IndexRow(r[0], r[1], r[2], r[3], r[4], r[5], date.fromisoformat(r[6]),
                           StatementStatus(r[7]), date.fromisoformat(r[8]) if r[8] else None,
                           r[9], r[10])

    def last_revision(self, candidate: bytes, test: str) -> int:
        """The highest revision a candidate's statement in a test has had (0: none)."""
        found = self._con.execute("SELECT MAX(revision) FROM statements WHERE candidate_hash = ? "
                                  "AND test = ?", (candidate, test)).fetchone()
        return int(found[0]) if found and found[0] is not None else 0


GUESS_TARGET = 0.01  # the most a guesser may win per ID per year on the secret-number path
BURST_PER_DAY = 10  # the budget never allows more than this many failures a day
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class SecretBudget:
    """Failed secret-number checks allowed per candidate ID: ``failures`` per ``days``."""

    failures: int
    days: int

    def per_year(self) -> int:
        """The most failures any 365 days can hold under a moving window of this budget."""
        return self.failures * math.ceil(DAYS_PER_YEAR / self.days)

    def chance(self, shortest_secret: int) -> float:
        """A guesser's chance per ID per year against a secret of ``shortest_secret`` digits."""
        return min(1.0, self.per_year() / float(10 ** shortest_secret))

    def describe(self) -> str:
        """The budget in words, e.g. "3 failures per 12 days"."""
        unit = "day" if self.days == 1 else f"{self.days} days"
        return f"{self.failures} failure{'s' if self.failures != 1 else ''} per {unit}"


def secret_budget(shortest_secret: int, per_day: int = BURST_PER_DAY) -> SecretBudget:
    """The largest budget (at most ``per_day`` a day) keeping the yearly chance under 1%.

    With ``n`` guesses a year against ``10**d`` equally likely secrets, the chance is
    ``n / 10**d``; the budget allows fewer than ``GUESS_TARGET * 10**d`` a year. Where
    even one failure a year is too many (fewer than 101 possible secrets), one a year.
    """
    space = 10 ** shortest_secret
    yearly = math.ceil(GUESS_TARGET * space) - 1  # strictly under the target
    if yearly >= DAYS_PER_YEAR:
        return SecretBudget(max(1, min(per_day, yearly // DAYS_PER_YEAR)), 1)
    failures = max(1, min(per_day, yearly // 30 or 1))
    days = next((d for d in range(1, DAYS_PER_YEAR + 1)
                 if failures * math.ceil(DAYS_PER_YEAR / d) <= yearly), DAYS_PER_YEAR)
    return SecretBudget(failures, days)
