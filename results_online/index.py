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
"""

from __future__ import annotations

import enum
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from results_online import crypto


class StatementStatus(enum.StrEnum):
    """Where a statement stands: valid, superseded by a newer one, or withdrawn."""

    VALID = "valid"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


FORMAT = "1"

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


def pepper_check(pepper: bytes) -> str:
    """A value that tells the app it holds the pepper the index was built with."""
    return crypto.keyed_hash(pepper, "pepper-check").hex()


def row_values(r: IndexRow) -> tuple[object, ...]:
    """An index row as the statements table stores it, column by column."""
    return (r.statement_id, r.candidate_hash, r.secret_hash, r.test, r.revision,
            r.issue_date.isoformat(), r.status.value,
            r.status_date.isoformat() if r.status_date else None, r.superseded_by, r.display)


def read_rows(path: Path) -> tuple[IndexRow, ...]:
    """Every row of an existing index (for `results amend`)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = con.execute("SELECT statement_id, candidate_hash, secret_hash, test, revision, "
                          "issue_date, status, status_date, superseded_by, display "
                          "FROM statements ORDER BY statement_id")
        return tuple(IndexRow(
            r[0], r[1], r[2], r[3], r[4], date.fromisoformat(r[5]), StatementStatus(r[6]),
            date.fromisoformat(r[7]) if r[7] else None, r[8], r[9]) for r in cur)
    finally:
        con.close()
