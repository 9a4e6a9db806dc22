"""Read the private verification index: match an ID with a proof, answer a status.

The index is read once, at start, into memory (it is read-only while the app runs):
a check is then some 20 us of CPU with no blocking call, so the async
handlers make it on the event loop instead of paying a threadpool hop (measured:
~175 us of CPU per request under load, most of it threads fighting for the GIL).
Memory: ``benchmarks/index_memory.py`` measured 1,490 MiB resident for 1,000,000
candidates of one statement each (about 900 bytes of Python objects per statement
beyond its ~650-byte display), read in 18 s on a loaded 2-core machine; each worker
process holds its own copy.

Every check does the same work whatever its outcome, so its time tells nothing:
the ID's keyed hash and the proof's, one dictionary lookup that returns the
candidate's rows, or for an unknown ID the rows of a real candidate with the usual
number of statements that the ID's keyed hash picks (not one decoy that stays in the
CPU cache), a constant-time compare against every row returned, and every
row's display decoded. Only then is the outcome picked. Whether the ID is locked is
the caller's business and is decided without looking at any of this.

Two proofs: the secret number (low entropy; the caller limits it per ID) and the
share code (100 bits; limited per address only).
"""

from __future__ import annotations

import enum
import gc
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

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

_LOAD = ("SELECT statement_id, candidate_hash, secret_hash, share_hash, status, status_date, "
         "display, test, revision FROM statements")  # unsorted: SQLite sorted 4x slower


class Proof(enum.Enum):
    """What the verifier gave with the candidate ID."""

    SECRET_NUMBER = "secret_hash"  # noqa: S105 - the column name, not a secret
    SHARE_CODE = "share_hash"


class Row(NamedTuple):
    """One statement as the app holds it (a tuple: the smallest Python object for it)."""

    secret_hash: bytes
    share_hash: bytes
    status: str
    status_date: str | None
    display: bytes  # UTF-8 JSON: decoded on every check, kept compact in memory


@dataclass(frozen=True)
class Check:
    """The outcome of one check; ``key`` is the ID's keyed hash for the limiter."""

    key: bytes
    statements: tuple[dict[str, object], ...]  # empty when nothing matched
    # Every row decoded, matched or not: held as long as the check, whatever its outcome,
    # so that they are freed at the same point (a matched row freed later took longer).
    decoded: tuple[dict[str, object], ...] = ()

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


def _stored(row: Row, proof: Proof) -> bytes:
    return row.share_hash if proof is Proof.SHARE_CODE else row.secret_hash


def _order(entry: tuple[str, int, Row]) -> tuple[str, int]:
    return entry[0], entry[1]


class VerificationIndex:
    """The read-only index and the pepper it was built with."""

    def __init__(self, path: Path, pepper: bytes) -> None:
        """Open the index; raise ConfigError if missing, corrupt, old or of another pepper."""
        if not path.is_file():
            raise ConfigError(f"the verification index {path} does not exist",
                              hint="run `results build` and use OUT/private/verify.sqlite")
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                self._read(path, con, pepper)
            finally:
                con.close()
        except sqlite3.Error:
            raise ConfigError(f"{path} is not a verification index (corrupt or wrong file)",
                              hint="rebuild the series to write a new index") from None
        self._decoys = self._pick_decoys()

    def _read(self, path: Path, con: sqlite3.Connection, pepper: bytes) -> None:
        """Check the meta table, then hold every row in memory."""
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
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
        self._by_statement: dict[str, Row] = {}  # every row, superseded too
        current: dict[bytes, list[tuple[str, int, Row]]] = {}
        statuses = {s.value: s.value for s in StatementStatus}  # one str object per status
        collecting = gc.isenabled()
        gc.disable()  # a million new tuples would set off ever longer collections
        try:
            for sid, owner, secret, share, status, status_date, display, test, revision in (
                    con.execute(_LOAD)):
                row = Row(bytes(secret), bytes(share), statuses[status], status_date,
                          display.encode())
                self._by_statement[sid] = row
                if status != StatementStatus.SUPERSEDED:
                    current.setdefault(bytes(owner), []).append((test, revision, row))
            # The candidate's current rows, by test and revision.
            self._by_candidate: dict[bytes, tuple[Row, ...]] = {
                key: tuple(row for *_, row in sorted(rows, key=_order))
                for key, rows in current.items()}
        finally:
            if collecting:
                gc.enable()
        gc.freeze()  # held for good: later collections need not walk them again

    def _pick_decoys(self) -> tuple[tuple[Row, ...], ...]:
        """The rows of every candidate with the most common number of current statements."""
        if not self._by_candidate:
            return ((),)
        usual = Counter(map(len, self._by_candidate.values())).most_common(1)[0][0]
        return tuple(rows for rows in self._by_candidate.values() if len(rows) == usual)

    def rows(self, key: bytes) -> tuple[tuple[Row, ...], bool]:
        """The candidate's current rows and True, or a decoy's and False: one lookup."""
        # One fixed decoy stays in the CPU cache, where a known ID's rows are not: an
        # unknown ID reads the rows of a real candidate its keyed hash picks, as cold as a
        # known ID's and the same ones each time. Both paths pick it.
        decoy = self._decoys[int.from_bytes(key[:8]) % len(self._decoys)]
        rows = self._by_candidate.get(key)
        return (decoy, False) if rows is None else (rows, True)

    def key(self, candidate_id: str) -> bytes:
        """The ID's keyed hash: what the limiter counts (never the ID)."""
        return candidate_hash(self._pepper, candidate_id[:MAX_FIELD])

    def check(self, candidate_id: str, secret: str, key: bytes | None = None) -> Check:
        """Match an ID and secret number; the same work for every outcome. ``key``: the
        ID's ``key`` if the caller has it already (one keyed hash fewer)."""
        candidate_id, secret = candidate_id[:MAX_FIELD], secret[:MAX_FIELD]
        given = secret_hash(self._pepper, candidate_id, secret)
        return self._match(candidate_id, Proof.SECRET_NUMBER, given, key)

    def check_share(self, candidate_id: str, code: str, key: bytes | None = None) -> Check:
        """Match an ID and share code; the same work for every outcome, also a malformed code."""
        candidate_id = candidate_id[:MAX_FIELD]
        canonical = parse_share_code(code[:MAX_FIELD])
        given = share_hash(self._pepper, candidate_id, canonical or code[:MAX_FIELD])
        found = self._match(candidate_id, Proof.SHARE_CODE, given, key)
        return found if canonical is not None else replace(found, statements=())

    def _match(self, candidate_id: str, proof: Proof, given: bytes, key: bytes | None
               ) -> Check:
        key = candidate_hash(self._pepper, candidate_id) if key is None else key
        rows, known = self.rows(key)
        # Every row is compared and decoded, whether it is the candidate's or the decoy's.
        equal = [crypto.equal(_stored(row, proof), given) for row in rows]
        shown = tuple(json.loads(row.display) | {"status": row.status} for row in rows)
        return Check(key, tuple(s for s, e in zip(shown, equal, strict=True) if known and e),
                     shown)

    def status(self, statement_id: str) -> StatusAnswer | None:
        """The status of a statement id (dashes and case ignored), or None if unknown."""
        try:
            sid = id_to_text(id_from_text(statement_id))
        except ValueError:
            return None
        row = self._by_statement.get(sid)
        if row is None:
            return None
        shown = json.loads(row.display)
        centre = ({"number": str(shown["centre"]), "name": str(shown.get("centre_name", ""))}
                  if "centre" in shown else None)
        return StatusAnswer(sid, row.status, row.status_date, centre)

    def close(self) -> None:
        """Forget the rows (the database was closed once they were read)."""
        self._by_candidate, self._by_statement, self._decoys = {}, {}, ((),)
