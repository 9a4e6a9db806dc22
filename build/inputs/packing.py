"""How the spool turns a series' objects into bytes and back (``Packer``).

Candidates, entries and statements, and the component results of results.csv's
rows, are flat rows: tuples of strings, numbers and dates that name the series'
tests, components and centres by code, which C pickle writes and reads with no
Python hook. Pickled as they were, nested frozen dataclasses, they were a quarter
of an amend's time in the parent (23 us to write an entry, 14 to read it, more as
the collector ran for every few hundred objects made). Anything else, or an
object not made of the series' own shared objects, is pickled as it is, those
shared objects by reference (``reducer_override``), so what is read back shares them.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from results_online.model import (
    Candidate,
    Centre,
    ComponentResult,
    Entry,
    OverallResult,
    SeriesInfo,
    Statement,
    Status,
    Test,
)

Row = tuple[Any, ...]
# The first byte of what ``Packer.dumps`` writes: which row follows, or a pickle.
_PICKLED, _CANDIDATE, _ENTRY, _STATEMENTS, _PART = b"P", b"C", b"E", b"S", b"R"
_STATUS = {s.value: s for s in Status}
# The fields each row holds, in order: a model change must change its row too.
_FIELDS = {
    Candidate: ("candidate_id", "centre", "number", "name", "email", "secret"),
    ComponentResult: ("component", "status", "mark", "grade"),
    OverallResult: ("status", "score", "grade", "cefr"),
    Entry: ("candidate", "test", "components", "overall", "revision"),
    Statement: ("statement_id", "entry", "centre", "series", "token", "issue_date", "key_id",
                "enquiry_deadline", "share_code"),
}
for _cls, _names in _FIELDS.items():
    if tuple(f.name for f in fields(_cls)) != _names:
        raise TypeError(f"{_cls.__name__} has new fields: give build/inputs/packing.py its row")


def candidate_row(c: Candidate) -> Row:
    """A candidate's fields, in order."""
    return (c.candidate_id, c.centre, c.number, c.name, c.email, c.secret)


class Packer:
    """Bytes for one series' objects and back; its settings, tests, components and centres
    are named, not copied."""

    def __init__(self, info: SeriesInfo | None = None, tests: Sequence[Test] = (),
                 centres: Sequence[Centre] = ()) -> None:
        self.info = info
        self.tests = {t.code: t for t in tests}
        self.components = {(t.code, c.code): c for t in tests for c in t.components}
        self.centres = {c.number: c for c in centres}
        objects: list[tuple[object, tuple[str, ...]]] = [(info, ("info",))] if info else []
        for t in tests:
            objects.append((t, ("test", t.code)))
            objects += [(c, ("component", t.code, str(i))) for i, c in enumerate(t.components)]
        objects += [(c, ("centre", c.number)) for c in centres]
        self._shared = {id(obj): (obj, key) for obj, key in objects}
        self._by_key = {key: obj for obj, key in objects}

    def dumps(self, value: object) -> bytes:
        """``value`` as bytes: a flat row where it has one, else pickled."""
        kind, row = self._row(value)
        if row is not None:
            return kind + pickle.dumps(row, pickle.HIGHEST_PROTOCOL)
        buffer = io.BytesIO()
        buffer.write(_PICKLED)
        _Pickler(buffer, self._shared).dump(value)
        return buffer.getvalue()

    def loads(self, data: bytes) -> Any:
        """A value written by ``dumps``."""
        kind, body = data[:1], memoryview(data)[1:]
        if kind == _PICKLED:
            return _Unpickler(io.BytesIO(body), self._by_key).load()
        row = pickle.loads(body)  # noqa: S301 - the build's own spool, written by this process
        if kind == _CANDIDATE:
            return Candidate(*row)
        if kind == _ENTRY:
            return self.entry_of(row)
        if kind == _STATEMENTS:
            return tuple(self.statement_of(r) for r in row)
        raise pickle.UnpicklingError(f"a spooled value of unknown kind {kind!r}")

    def part(self, test: str, part: object) -> bytes:
        """What one row of results.csv gives an entry of ``test``, as bytes."""
        # ("component", code, result): results.csv's most common part (build/inputs/entries.py).
        if type(part) is tuple and len(part) == 3 and type(part[2]) is ComponentResult:
            row = self.result(test, part[2])
            if row is not None:
                return _PART + pickle.dumps((part[0], part[1], row), pickle.HIGHEST_PROTOCOL)
        return self.dumps(part)

    def part_of(self, test: str, data: bytes) -> Any:
        """A part written by ``part``."""
        if data[:1] != _PART:
            return self.loads(data)
        kind, code, row = pickle.loads(memoryview(data)[1:])  # noqa: S301 - as in loads
        return kind, code, self.result_of(test, row)

    def _row(self, value: object) -> tuple[bytes, Row | None]:
        kind = type(value)
        if kind is Candidate:
            return _CANDIDATE, candidate_row(value)  # type: ignore[arg-type]
        if kind is Entry:
            return _ENTRY, self.entry(value)  # type: ignore[arg-type]
        if kind is tuple and value and all(type(s) is Statement for s in value):  # type: ignore[attr-defined]
            rows = [self.statement(s) for s in value]  # type: ignore[attr-defined]
            return _STATEMENTS, None if None in rows else tuple(rows)
        return _PICKLED, None

    def result(self, test: str, r: ComponentResult) -> Row | None:
        """A component result of ``test``'s, or None when its component is not the series'."""
        if self.components.get((test, r.component.code)) is not r.component:
            return None
        return (r.component.code, r.status.value, r.mark, r.grade)

    def result_of(self, test: str, row: Row) -> ComponentResult:
        """The component result of ``test`` that ``result`` gave ``row`` for."""
        code, status, mark, grade = row
        return ComponentResult(self.components[test, code], _STATUS[status], mark, grade)

    def entry(self, e: Entry) -> Row | None:
        """An entry, or None when its test or components are not the series' own."""
        code = e.test.code
        if self.tests.get(code) is not e.test:
            return None
        results = []
        for r in e.components:
            row = self.result(code, r)
            if row is None:
                return None
            results.append(row)
        o = e.overall
        overall = None if o is None else (o.status.value, o.score, o.grade, o.cefr)
        return (candidate_row(e.candidate), code, tuple(results), overall, e.revision)

    def entry_of(self, row: Row) -> Entry:
        """The entry ``entry`` gave ``row`` for."""
        candidate, code, results, overall, revision = row
        return Entry(Candidate(*candidate), self.tests[code],
                     tuple(self.result_of(code, r) for r in results),
                     None if overall is None else OverallResult(_STATUS[overall[0]], *overall[1:]),
                     revision)

    def statement(self, s: Statement) -> Row | None:
        """A statement, or None when its series, centre or entry are not the series' own."""
        if s.series is not self.info or self.centres.get(s.centre.number) is not s.centre:
            return None
        entry = self.entry(s.entry)
        if entry is None:
            return None
        return (s.statement_id, entry, s.centre.number, s.token, s.issue_date, s.key_id,
                s.enquiry_deadline, s.share_code)

    def statement_of(self, row: Row) -> Statement:
        """The statement ``statement`` gave ``row`` for."""
        sid, entry, centre, token, issued, key_id, deadline, share_code = row
        return Statement(sid, self.entry_of(entry), self.centres[centre], self.info,  # type: ignore[arg-type]
                         token, issued, key_id, deadline, share_code)


def _shared(key: tuple[str, ...]) -> object:
    """Stands for a series-wide object in a spooled pickle (``_Unpickler`` resolves it)."""
    raise pickle.UnpicklingError(f"{key} read without the spool that shares it")


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: dict[int, tuple[object, tuple[str, ...]]],
                 ) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    # Not ``persistent_id``: pickle asks that of every string and number too (2.6 million
    # calls for 10,000 candidates, a third of an amend's loading); this only of the rest.
    def reducer_override(self, obj: object) -> Any:
        found = self._shared.get(id(obj))
        if found is not None and found[0] is obj:
            return _shared, (found[1],)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, by_key: dict[tuple[str, ...], object]) -> None:
        super().__init__(file)
        self._by_key = by_key

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == _shared.__name__:
            return self._by_key.__getitem__
        return super().find_class(module, name)
