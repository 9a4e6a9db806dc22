"""A series spooled to SQLite, so no stage holds the whole series in memory.

Loading checks rows against each other (duplicate IDs, results of unknown
candidates, every skill of an entry, which may be rows apart anywhere in
results.csv): those checks look here instead of in dictionaries of every row, and
the valid entries are written here as they are made. Sealing reads them back one
centre at a time and writes each centre's statements here; rendering, bundles,
the index, manifest and outbox read those back, again one centre at a time.

The file lies in the build's staging folder (private: it holds secret numbers) and
is removed before the output is swapped in. Values are written as ``packing.py``
makes them: flat rows that name the series' settings, tests, components and centres,
so a spooled statement is a few hundred bytes and the ones read back share those objects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from results_online.build.inputs.packing import Packer
from results_online.model import Candidate, Centre, Entry, SeriesInfo, Statement, Test

_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA temp_store = FILE;
CREATE TABLE listed (cid TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE ids (key TEXT PRIMARY KEY, row INTEGER, cid TEXT) WITHOUT ROWID;
CREATE TABLE numbers (centre TEXT, number TEXT, row INTEGER,
                      PRIMARY KEY (centre, number)) WITHOUT ROWID;
CREATE TABLE candidates (seq INTEGER PRIMARY KEY, cid TEXT UNIQUE, centre TEXT,
                         row INTEGER, data BLOB);
CREATE TABLE entered (cid TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE seen (cid TEXT, test TEXT, component TEXT, row INTEGER,
                   PRIMARY KEY (cid, test, component)) WITHOUT ROWID;
CREATE TABLE parts (cid TEXT, row INTEGER, test TEXT, data BLOB, PRIMARY KEY (cid, row));
CREATE TABLE entries (seq INTEGER PRIMARY KEY, centre TEXT, number TEXT, test TEXT,
                      data BLOB);
CREATE INDEX entries_by_centre ON entries (centre, number, test);
CREATE TABLE statements (centre TEXT PRIMARY KEY, count INTEGER, data BLOB) WITHOUT ROWID;
CREATE TABLE statement_ids (statement_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE previous (cid TEXT, test TEXT, statement_id TEXT UNIQUE, centre TEXT,
                       data BLOB, kept INTEGER NOT NULL DEFAULT 0,
                       PRIMARY KEY (cid, test)) WITHOUT ROWID;
CREATE INDEX previous_by_centre ON previous (centre);
CREATE TABLE messages (centre TEXT PRIMARY KEY, data BLOB) WITHOUT ROWID;
"""


_QUEUED = 500  # rows queued for one INSERT before they are written
# The INSERTs a read during loading needs written first: only they are (``_flush(only=)``).
_LISTED = "INSERT OR IGNORE INTO listed VALUES (?)"
_CANDIDATE = "INSERT INTO candidates (cid, centre, row, data) VALUES (?, ?, ?, ?)"


@dataclass
class CandidateParts:
    """A valid candidate with what results.csv gave it (``Spool.candidates_with_parts``)."""

    candidate: Candidate
    row: int  # in candidates.csv
    entered: bool  # results.csv names its candidate_id
    parts: list[tuple[str, int, Any]] = field(default_factory=list)  # (test, row, part)


class Spool:
    """The spool of one build: ``path`` a file, or ``":memory:"`` for a small load."""

    def __init__(self, path: Path | str) -> None:
        self._con = sqlite3.connect(path, isolation_level=None)
        self._con.executescript(_SCHEMA)
        self._con.execute("BEGIN")
        self._packer = Packer()
        # Rows written a few hundred to a statement (one each is most of loading's queries).
        self._pending: dict[str, list[tuple[object, ...]]] = {}

    def close(self) -> None:
        """Close the database (its file is removed with the staging folder)."""
        self._con.close()

    def _queue(self, sql: str, args: tuple[object, ...]) -> None:
        rows = self._pending.setdefault(sql, [])
        rows.append(args)
        if len(rows) >= _QUEUED:
            self._flush()

    def _flush(self, only: str | None = None) -> None:
        """Write the queued rows (before anything reads the tables they go to); ``only``
        those of that INSERT, so that the other queues stay long."""
        if only is not None:
            rows = self._pending.pop(only, None)
            if rows:
                self._con.executemany(only, rows)
            return
        for sql, queued in self._pending.items():
            self._con.executemany(sql, queued)
        self._pending.clear()

    def share(self, info: SeriesInfo | None, tests: Sequence[Test],
              centres: Sequence[Centre]) -> None:
        """Name these series-wide objects in what is spooled from now on, not copy them."""
        self._packer = Packer(info, tests, centres)

    def dumps(self, value: object) -> bytes:
        """``value`` as the spool keeps it (``Packer.dumps``)."""
        return self._packer.dumps(value)

    def loads(self, data: bytes) -> Any:
        """A value written by ``dumps``."""
        return self._packer.loads(data)

    # What loading checks across rows.

    def list_id(self, cid: str) -> None:
        """Note a candidate_id that candidates.csv lists (valid or not)."""
        self._queue(_LISTED, (cid,))

    def is_listed(self, cid: str) -> bool:
        """Whether candidates.csv lists this candidate_id."""
        self._flush(only=_LISTED)
        return self._one("SELECT 1 FROM listed WHERE cid = ?", (cid,)) is not None

    def first_id(self, key: str, cid: str, row: int) -> tuple[int, str] | None:
        """The row and candidate_id that first gave this ID key, or None (then ``row`` did)."""
        cursor = self._con.execute("INSERT OR IGNORE INTO ids VALUES (?, ?, ?)", (key, row, cid))
        if cursor.rowcount == 1:
            return None
        found = self._one("SELECT row, cid FROM ids WHERE key = ?", (key,))
        return None if found is None else (int(found[0]), str(found[1]))

    def first_number(self, centre: str, number: str, row: int) -> int | None:
        """The row that first gave this centre and candidate number, or None."""
        return self._first("numbers", ("centre", "number"), (centre, number), row)

    def first_result(self, cid: str, test: str, component: str, row: int) -> int | None:
        """The row of results.csv that first gave this candidate, test and component, or None."""
        return self._first("seen", ("cid", "test", "component"), (cid, test, component), row)

    def add_candidate(self, candidate: Candidate, row: int) -> None:
        """Keep a valid candidate and its row in candidates.csv."""
        self._queue(_CANDIDATE, (candidate.candidate_id, candidate.centre, row,
                                 self.dumps(candidate)))

    def candidate_at(self, cid: str) -> tuple[str, int] | None:
        """A valid candidate's centre and row in candidates.csv, or None."""
        self._flush(only=_CANDIDATE)  # not the results rows' parts: they are not read here
        found = self._one("SELECT centre, row FROM candidates WHERE cid = ?", (cid,))
        return None if found is None else (str(found[0]), int(found[1]))

    def candidates(self) -> Iterator[tuple[Candidate, int]]:
        """The valid candidates in candidates.csv order, each with its row."""
        self._flush()
        for data, row in self._rows("SELECT data, row FROM candidates ORDER BY seq"):
            yield self.loads(data), int(row)

    def enter(self, cid: str) -> None:
        """Note a candidate_id that results.csv names."""
        self._queue("INSERT OR IGNORE INTO entered VALUES (?)", (cid,))

    def add_part(self, cid: str, test: str, row: int, part: object) -> None:
        """Keep what one row of results.csv gives a candidate's entry in a test."""
        self._queue("INSERT INTO parts VALUES (?, ?, ?, ?)",
                    (cid, row, test, self._packer.part(test, part)))

    def candidates_with_parts(self) -> Iterator[CandidateParts]:
        """Each valid candidate in candidates.csv order with its row in that file, whether
        results.csv names it, and the (test, row, part) its rows there gave, in row order."""
        self._flush()
        seq, current = None, None
        for number, data, row, entered, test, at, part in self._rows(
                "SELECT c.seq, c.data, c.row, EXISTS (SELECT 1 FROM entered e WHERE e.cid = c.cid),"
                " p.test, p.row, p.data FROM candidates c LEFT JOIN parts p ON p.cid = c.cid"
                " ORDER BY c.seq, p.row"):
            if number != seq:
                if current is not None:
                    yield current
                seq, current = number, CandidateParts(self.loads(data), int(row), bool(entered))
            if part is not None and current is not None:
                current.parts.append((str(test), int(at), self._packer.part_of(test, part)))
        if current is not None:
            yield current

    def forget_checks(self) -> None:
        """Drop what only the cross-row checks needed (its pages are reused by later stages)."""
        self._flush()
        for table in ("listed", "ids", "numbers", "entered", "seen", "parts"):
            self._con.execute(f"DROP TABLE {table}")

    # The series, one centre at a time.

    def add_entry(self, entry: Entry) -> None:
        """Keep a valid entry (in the order they are made: the order ``load`` gives)."""
        c = entry.candidate
        self._queue("INSERT INTO entries (centre, number, test, data) VALUES (?, ?, ?, ?)",
                    (c.centre, c.number, entry.test.code, self.dumps(entry)))

    def entries(self) -> Iterator[Entry]:
        """Every entry in the order they were added."""
        self._flush()
        for (data,) in self._rows("SELECT data FROM entries ORDER BY seq"):
            yield self.loads(data)

    def entries_by_centre(self) -> Iterator[tuple[str, list[Entry]]]:
        """Each centre's entries, centres by number, entries by candidate number then test."""
        self._flush()
        centre, group = "", list[Entry]()
        for number, data in self._rows(
                "SELECT centre, data FROM entries ORDER BY centre, number, test"):
            if group and number != centre:
                yield centre, group
                group = []
            centre = number
            group.append(self.loads(data))
        if group:
            yield centre, group

    def put_statements(self, centre: str, statements: Sequence[Statement]) -> None:
        """Keep one centre's statements (in series order)."""
        self._con.execute("INSERT INTO statements VALUES (?, ?, ?)",
                          (centre, len(statements), self.dumps(tuple(statements))))
        self._con.executemany("INSERT INTO statement_ids VALUES (?)",
                              ((s.statement_id,) for s in statements))

    def statement_ids(self) -> Iterator[str]:
        """Every statement id, sorted."""
        for (sid,) in self._rows("SELECT statement_id FROM statement_ids ORDER BY statement_id"):
            yield str(sid)

    def statements_by_centre(self) -> Iterator[tuple[Statement, ...]]:
        """Each centre's statements, centres by number (the series' statement order)."""
        for (data,) in self._rows("SELECT data FROM statements ORDER BY centre"):
            yield self.loads(data)

    def statements_in(self, centres: Iterable[str]) -> Iterator[tuple[Statement, ...]]:
        """The statements of these centres only, centre by centre by number (an amend's few)."""
        for centre in sorted(centres):
            found = self._one("SELECT data FROM statements WHERE centre = ?", (centre,))
            if found is not None:
                yield self.loads(found[0])

    def statements(self) -> Iterator[Statement]:
        """Every statement in series order."""
        for group in self.statements_by_centre():
            yield from group

    def centres(self) -> list[str]:
        """The numbers of the centres with statements, in order."""
        return [str(c) for (c,) in self._rows("SELECT centre FROM statements ORDER BY centre")]

    def put_messages(self, centre: str, items: Sequence[object]) -> None:
        """Keep the outbox items of one centre's candidates."""
        self._con.execute("INSERT INTO messages VALUES (?, ?)",
                          (centre, self.dumps(tuple(items))))

    def messages(self) -> Iterator[Any]:
        """The outbox items kept, centres by number."""
        for (data,) in self._rows("SELECT data FROM messages ORDER BY centre"):
            yield from self.loads(data)

    def is_current(self, statement_id: str) -> bool:
        """Whether a statement of this build has this id."""
        return self._one("SELECT 1 FROM statement_ids WHERE statement_id = ?",
                         (statement_id,)) is not None

    # The previous build's manifest items (``build/amend.py``), as the manifest's lines.

    def put_previous(self, cid: str, test: str, statement_id: str, centre: str,
                     line: str) -> None:
        """Keep a previous build's item (a later one for the same candidate and test wins)."""
        self._queue("INSERT OR REPLACE INTO previous (cid, test, statement_id, centre, data) "
                    "VALUES (?, ?, ?, ?, ?)", (cid, test, statement_id, centre, line))

    def keep_previous(self, statement_ids: Iterable[str]) -> None:
        """Note statements of this build that are their previous item as it was (same line)."""
        self._flush()
        self._con.executemany("UPDATE previous SET kept = 1 WHERE statement_id = ?",
                              ((sid,) for sid in statement_ids))

    def previous_item(self, cid: str, test: str) -> str | None:
        """The previous item of a candidate's entry in a test, or None."""
        self._flush()
        found = self._one("SELECT data FROM previous WHERE cid = ? AND test = ?", (cid, test))
        return None if found is None else str(found[0])

    def previous_of(self, statement_id: str) -> str | None:
        """The previous item with this statement id, or None."""
        self._flush()
        found = self._one("SELECT data FROM previous WHERE statement_id = ?", (statement_id,))
        return None if found is None else str(found[0])

    def previous_in_centre(self, centre: str) -> dict[tuple[str, str], str]:
        """The previous items of a centre, by candidate ID and test (one query a centre)."""
        self._flush()
        return {(str(c), str(t)): str(d) for c, t, d in self._con.execute(
            "SELECT cid, test, data FROM previous WHERE centre = ?", (centre,))}

    def previous_with(self, statement_ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
        """The previous items with these statement ids, by id, each with whether it was kept
        (``keep_previous``); a query per 500 ids."""
        self._flush()
        found: dict[str, tuple[str, bool]] = {}
        for i in range(0, len(statement_ids), 500):
            part = statement_ids[i:i + 500]
            found.update((str(sid), (str(d), bool(kept))) for sid, d, kept in self._con.execute(
                "SELECT statement_id, data, kept FROM previous WHERE statement_id IN "  # noqa: S608
                f"({', '.join('?' * len(part))})", part))
        return found

    def previous_centres(self) -> list[str]:
        """The centres of the previous items."""
        self._flush()
        return [str(c) for (c,) in self._rows("SELECT DISTINCT centre FROM previous")]

    def previous_gone(self) -> set[str]:
        """The centres of the previous items whose statement this build does not have."""
        self._flush()
        return {str(c) for (c,) in self._rows(
            "SELECT DISTINCT centre FROM previous WHERE statement_id NOT IN "
            "(SELECT statement_id FROM statement_ids)")}

    def statement_count(self) -> int:
        """How many statements are spooled."""
        found = self._one("SELECT COALESCE(SUM(count), 0) FROM statements", ())
        return int(found[0]) if found else 0

    def _first(self, table: str, columns: tuple[str, ...], key: tuple[str, ...],
               row: int) -> int | None:
        cursor = self._con.execute(
            f"INSERT OR IGNORE INTO {table} VALUES ({', '.join('?' * (len(key) + 1))})",  # noqa: S608 - our table names
            (*key, row))
        if cursor.rowcount == 1:
            return None
        where = " AND ".join(f"{c} = ?" for c in columns)
        found = self._one(f"SELECT row FROM {table} WHERE {where}", key)  # noqa: S608
        return int(found[0]) if found else None

    def _one(self, sql: str, args: tuple[object, ...]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._con.execute(sql, args).fetchone()
        return row

    def _rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        # A cursor of its own, so the caller may write to the spool while reading.
        yield from self._con.cursor().execute(sql)

