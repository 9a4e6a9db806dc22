"""Read the private verification index: match an ID and secret number, answer a status.

Every check does the same work whether the ID is known or not: both keyed hashes,
one indexed query, and a constant-time compare against a stored hash or, for an
unknown ID, against a dummy one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from results_online import crypto
from results_online.errors import ConfigError
from results_online.ids import id_from_text, id_to_text
from results_online.index import FORMAT, StatementStatus, candidate_hash, pepper_check, secret_hash

MAX_FIELD = 64  # longer candidate IDs or secret numbers cannot match


@dataclass(frozen=True)
class Check:
    """The outcome of one ID + secret check; ``key`` is the ID's keyed hash for the limiter."""

    key: bytes
    statements: tuple[dict[str, object], ...]  # empty when nothing matched

    @property
    def matched(self) -> bool:
        """Whether the ID and secret matched at least one statement."""
        return bool(self.statements)


@dataclass(frozen=True)
class StatusAnswer:
    """A statement's status, as the QR check shows it."""

    statement_id: str
    status: str  # valid, superseded, withdrawn
    date: str | None  # when it was superseded (the newer statement's date) or withdrawn
    centre: dict[str, str] | None = None  # {"number", "name"}: printed on the statement anyway


class VerificationIndex:
    """The read-only index and the pepper it was built with."""

    def __init__(self, path: Path, pepper: bytes) -> None:
        """Open the index; raise ConfigError if it is missing, corrupt or for another pepper."""
        if not path.is_file():
            raise ConfigError(f"the verification index {path} does not exist",
                              hint="run `results build` and use OUT/private/verify.sqlite")
        try:
            self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                        check_same_thread=False)
            meta = dict(self._con.execute("SELECT key, value FROM meta").fetchall())
            self._con.execute("SELECT count(*) FROM statements").fetchone()
        except sqlite3.Error:
            raise ConfigError(f"{path} is not a verification index (corrupt or wrong file)",
                              hint="rebuild the series to write a new index") from None
        if meta.get("format") != FORMAT:
            raise ConfigError(f"{path} has index format {meta.get('format')!r}, "
                              f"this app reads {FORMAT!r}", hint="rebuild the series")
        if len(pepper) != 32 or not crypto.equal(
                meta.get("pepper_check", "").encode(), pepper_check(pepper).encode()):
            raise ConfigError(f"the pepper does not belong to the index {path}",
                              hint="give the key store the series was built with")
        self._pepper = pepper
        # The board the index speaks for (older indexes have none: the pages say less).
        self.about = {k: str(meta.get(k, "")) for k in ("board", "contact", "site_url")}
        # The series' public catalogue (test and paper titles) the QR page reads.
        self.catalogue = (str(meta.get("catalogue_path", "")), str(meta.get("catalogue", "")))
        self._dummy = crypto.keyed_hash(pepper, "dummy-secret")

    def check(self, candidate_id: str, secret: str) -> Check:
        """Match an ID and secret number; the work is the same for a known and unknown ID."""
        candidate_id, secret = candidate_id[:MAX_FIELD], secret[:MAX_FIELD]
        key = candidate_hash(self._pepper, candidate_id)
        given = secret_hash(self._pepper, candidate_id, secret)
        rows = self._con.execute(
            "SELECT secret_hash, status, display FROM statements WHERE candidate_hash = ? "
            "AND status != ? ORDER BY test, revision",
            (key, StatementStatus.SUPERSEDED.value)).fetchall()
        # Exactly one constant-time compare, against the candidate's hash or the dummy.
        expected = rows[0][0] if rows else self._dummy
        matched = crypto.equal(expected, given) and bool(rows)
        shown = tuple(json.loads(display) | {"status": status}
                      for stored, status, display in rows if matched and stored == expected)
        return Check(key, shown)

    def status(self, statement_id: str) -> StatusAnswer | None:
        """The status of a statement id (dashes and case ignored), or None if unknown."""
        try:
            sid = id_to_text(id_from_text(statement_id))
        except ValueError:
            return None
        row = self._con.execute(
            "SELECT status, status_date, display FROM statements WHERE statement_id = ?",
            (sid,)).fetchone()
        if row is None:
            return None
        shown = json.loads(row[2])
        centre = ({"number": str(shown["centre"]), "name": str(shown.get("centre_name", ""))}
                  if "centre" in shown else None)
        return StatusAnswer(sid, row[0], row[1], centre)

    def close(self) -> None:
        """Close the database."""
        self._con.close()
