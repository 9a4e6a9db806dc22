"""What the previous outbox holds, for a rebuild: its messages' input digests and sent record.

A rebuild carries over a message whose inputs are unchanged and keeps the record of
messages already sent (``sent.json``) for the messages that are still the same, so
none goes twice. A million candidates' digests and sends do not belong in memory:
they are read from the previous outbox item by item into a small SQLite file beside
the new outbox, looked up from the thread that writes the messages, and the file is
removed when the outbox is finished.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path

from results_online.build.output import iter_json_list, iter_json_pairs

_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE inputs (file TEXT PRIMARY KEY, digest TEXT) WITHOUT ROWID;
CREATE TABLE sent (file TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE current (file TEXT PRIMARY KEY) WITHOUT ROWID;
"""


class OutboxHistory:
    """The previous outbox's digests and sends (none if ``index`` and ``sent`` are None)."""

    def __init__(self, path: Path, index: Path | None, sent: Path | None) -> None:
        self.path = path
        path.unlink(missing_ok=True)
        con = sqlite3.connect(path)
        try:
            con.executescript(_SCHEMA)
            if index is not None:
                _fill(con, "inputs", ((m["file"], m["inputs"]) for m in
                                      iter_json_list(index, "messages") if m.get("inputs")))
            if sent is not None:
                _fill(con, "sent", ((str(f), json.dumps(v)) for f, v in
                                    iter_json_pairs(sent, "sent")))
            con.commit()
        finally:
            con.close()
        self._start()

    def __getstate__(self) -> dict[str, object]:
        # Another process (an amend's linker) opens the file anew: connections stay here.
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Path]) -> None:
        self.path = state["path"]
        self._start()

    def _start(self) -> None:
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def digests(self, names: Sequence[str]) -> dict[str, str]:
        """The input digests of those of these previous messages that had one, by name.

        A query per 500 names, not one a name: a lookup from the thread beside the
        render stage costs a round trip through the GIL as well as SQLite's own work.
        """
        found: dict[str, str] = {}
        con = self._con()
        for i in range(0, len(names), 500):
            part = names[i:i + 500]
            found.update((str(f), str(d)) for f, d in con.execute(
                "SELECT file, digest FROM inputs WHERE file IN "  # noqa: S608 - placeholders only
                f"({', '.join('?' * len(part))})", part))
        return found

    def note(self, files: Iterable[str]) -> None:
        """Note messages the new outbox lists."""
        con = self._con()
        con.executemany("INSERT OR IGNORE INTO current VALUES (?)", ((f,) for f in files))
        con.commit()

    def kept(self) -> Iterator[tuple[str, object]]:
        """The previous sends of the messages noted, by file name (as sorted in sent.json)."""
        for file, value in self._con().execute(
                "SELECT file, value FROM sent JOIN current USING (file) ORDER BY file"):
            yield str(file), json.loads(value)

    def close(self) -> None:
        """Close every connection and remove the file."""
        for con in self._all:
            con.close()
        self.path.unlink(missing_ok=True)

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            # One connection per thread; closed by ``close`` from the finishing thread.
            con = sqlite3.connect(self.path, check_same_thread=False)
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con


def _fill(con: sqlite3.Connection, table: str, rows: Iterable[tuple[str, str]]) -> None:
    """Insert the rows; a damaged previous file counts as none at all."""
    try:
        con.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", rows)  # noqa: S608 - our table names
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        con.execute(f"DELETE FROM {table}")  # noqa: S608


def write_sent(path: Path, sent: Iterable[tuple[str, object]]) -> bool:
    """Write ``{"sent": {...}}`` as ``json.dumps(..., indent=1, sort_keys=True)`` would,
    from pairs sorted by name, without a final newline; False, writing nothing, if none."""
    pairs = iter(sent)
    first = next(pairs, None)
    if first is None:
        return False
    path.unlink(missing_ok=True)  # a carried file may be a hard link into the previous output
    with path.open("w", encoding="utf-8") as f:
        f.write('{\n "sent": {')
        for i, (name, value) in enumerate(chain([first], pairs)):
            text = json.dumps(value, indent=1, sort_keys=True).replace("\n", "\n  ")
            f.write(("\n" if i == 0 else ",\n") + f"  {json.dumps(name)}: {text}")
        f.write("\n }\n}")
    path.chmod(0o600)
    return True
