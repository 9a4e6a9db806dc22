"""Read the private verification index: match an ID with a proof, answer a status.

Every check does the same work whatever its outcome, so its time tells nothing:
the ID's keyed hash and the proof's, one query that returns the candidate's rows,
or for an unknown ID the rows of a decoy candidate with the usual number of
statements, a constant-time compare against every row returned, and every row's
display decoded. Only then is the outcome picked. Whether the ID is locked is the
caller's business and is decided without looking at any of this.

Two proofs: the secret number (low entropy; the caller limits it per ID) and the
share code (100 bits; limited per address only).
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from results_online import crypto
from results_online.errors import ConfigError
from results_online.ids import id_from_text, id_to_text, parse_share_code
from results_online.index import (
    FORMAT,
    SecretBudget,
    StatementStatus,
    candidate_hash,
    pepper_check,
    secret_budget,
    secret_hash,
    share_hash,
)

MAX_FIELD = 64  # longer candidate IDs, secret numbers or share codes cannot match

# The candidate's current rows, or the decoy's when the ID is unknown: one statement, the
# same plan (two index lookups) either way.
_ROWS = ("SELECT candidate_hash, {column}, status, display FROM statements "
         "WHERE candidate_hash = coalesce((SELECT candidate_hash FROM statements "
         "WHERE candidate_hash = ? LIMIT 1), ?) AND status != ? ORDER BY test, revision")


class Proof(enum.Enum):
    """What the verifier gave with the candidate ID."""

    SECRET_NUMBER = "secret_hash"  # noqa: S105 - the column name, not a secret
    SHARE_CODE = "share_hash"


@dataclass(frozen=True)
class Check:
    """The outcome of one check; ``key`` is the ID's keyed hash for the limiter."""

    key: bytes
    statements: tuple[dict[str, object], ...]  # empty when nothing matched

    @property
    def matched(self) -> bool:
        """Whether the ID and proof matched at least one statement."""
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
        """Open the index; raise ConfigError if missing, corrupt, old or of another pepper."""
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
            raise ConfigError(f"{path} has index format {meta.get('format')!r}, this app "
                              f"reads {FORMAT!r} (share codes came with format 2)",
                              hint="rebuild the series with this version to write a new index")
        if len(pepper) != 32 or not crypto.equal(
                meta.get("pepper_check", "").encode(), pepper_check(pepper).encode()):
            raise ConfigError(f"the pepper does not belong to the index {path}",
                              hint="give the key store the series was built with")
        self._pepper = pepper
        # The board the index speaks for (older indexes have none: the pages say less).
        self.about = {k: str(meta.get(k, "")) for k in ("board", "contact", "site_url")}
        # The series' public catalogue (test and paper titles) the QR page reads.
        self.catalogue = (str(meta.get("catalogue_path", "")), str(meta.get("catalogue", "")))
        self.shortest_secret = int(meta.get("shortest_secret", "4"))
        self.budget = SecretBudget(int(meta.get("budget_failures", "0")) or
                                   secret_budget(self.shortest_secret).failures,
                                   int(meta.get("budget_days", "1")))
        self._decoy = self._pick_decoy()

    def _pick_decoy(self) -> bytes:
        """A real candidate with the most common number of current statements."""
        counts = self._con.execute(
            "SELECT candidate_hash, count(*) FROM statements WHERE status != ? "
            "GROUP BY candidate_hash", (StatementStatus.SUPERSEDED.value,)).fetchall()
        if not counts:
            return crypto.keyed_hash(self._pepper, "decoy")
        usual = Counter(n for _, n in counts).most_common(1)[0][0]
        return bytes(next(key for key, n in counts if n == usual))

    def key(self, candidate_id: str) -> bytes:
        """The ID's keyed hash: what the limiter counts (never the ID)."""
        return candidate_hash(self._pepper, candidate_id[:MAX_FIELD])

    def check(self, candidate_id: str, secret: str) -> Check:
        """Match an ID and secret number; the same work for every outcome."""
        candidate_id, secret = candidate_id[:MAX_FIELD], secret[:MAX_FIELD]
        given = secret_hash(self._pepper, candidate_id, secret)
        return self._match(candidate_id, Proof.SECRET_NUMBER, given)

    def check_share(self, candidate_id: str, code: str) -> Check:
        """Match an ID and share code; the same work for every outcome, also a malformed code."""
        candidate_id = candidate_id[:MAX_FIELD]
        canonical = parse_share_code(code[:MAX_FIELD])
        given = share_hash(self._pepper, candidate_id, canonical or code[:MAX_FIELD])
        found = self._match(candidate_id, Proof.SHARE_CODE, given)
        return found if canonical is not None else Check(found.key, ())

    def _match(self, candidate_id: str, proof: Proof, given: bytes) -> Check:
        key = candidate_hash(self._pepper, candidate_id)
        rows = self._con.execute(_ROWS.format(column=proof.value),
                                 (key, self._decoy, StatementStatus.SUPERSEDED.value)
                                 ).fetchall()
        # Every row is compared and decoded, whether it is the candidate's or the decoy's.
        known = [crypto.equal(bytes(owner), key) for owner, _, _, _ in rows]
        equal = [crypto.equal(bytes(stored), given) for _, stored, _, _ in rows]
        shown = [json.loads(display) | {"status": status} for _, _, status, display in rows]
        return Check(key, tuple(s for s, k, e in zip(shown, known, equal, strict=True)
                                if k and e))

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
