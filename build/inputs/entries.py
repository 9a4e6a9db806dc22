"""Read results.csv into entries: one per candidate per test, checked against the rules.

A STEP entry holds the papers the candidate has rows for. A Cambridge English
entry needs a row for every skill; its overall result is computed by
``rules.overall_result``, and an ``overall`` row, when given, must agree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from results_online.build.grading import rules
from results_online.build.inputs.csvtable import Row
from results_online.errors import Problem
from results_online.model import (
    Candidate,
    Component,
    ComponentResult,
    Entry,
    Family,
    OverallResult,
    Status,
    Test,
)

FILE = "results.csv"
CODES = {s.value.casefold(): s for s in Status if s is not Status.OK}
_Bad = Callable[[str, str], None]


@dataclass
class _Group:
    """The rows of one candidate's entry in one test, as they are read."""

    first_row: int
    results: dict[str, ComponentResult] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)  # components with a row, valid or not
    overall: tuple[Row, Status, int | None] | None = None


@dataclass(frozen=True)
class Known:
    """What the other files declare, for cross-checking results.csv (None: file unusable)."""

    tests: tuple[Test, ...]  # the valid tests
    candidates: Mapping[str, tuple[Candidate, int]]  # valid candidates, with their row number
    test_codes: Collection[str] | None  # every test code series.toml names
    candidate_ids: Collection[str] | None  # every candidate_id candidates.csv lists
    centre_numbers: Collection[str] | None  # every centre_number centres.csv lists


def read_entries(rows: list[Row], known: Known, problems: list[Problem]) -> tuple[Entry, ...]:
    """Entries from results.csv rows, in candidates.csv order then series.toml test order."""
    by_code = {t.code: t for t in known.tests}
    groups: dict[tuple[str, str], _Group] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        cid, code, comp = row["candidate_id"], row["test"], row["component"]
        _check_who(row, known, problems)
        test = by_code.get(code)
        if test is None:
            if known.test_codes is not None and code not in known.test_codes:
                problems.append(Problem(FILE, row.number, "test", "unknown test; series.toml "
                                        "lists " + (", ".join(sorted(known.test_codes)))))
            continue
        key = (cid, code, comp.casefold())
        if key in seen:
            problems.append(Problem(FILE, row.number, "component", "a second result for the same "
                                    f"candidate, test and component (first in row {seen[key]})"))
            continue
        seen[key] = row.number
        group = groups.setdefault((cid, code), _Group(row.number))
        _read_row(row, test, group, problems)
    entries = []
    entered = {row["candidate_id"] for row in rows}
    for cid, (candidate, cand_row) in known.candidates.items():
        if cid not in entered:
            problems.append(Problem("candidates.csv", cand_row, "candidate_id",
                                    "this candidate has no results in results.csv"))
        for test in known.tests:
            found = groups.get((cid, test.code))
            entry = _entry(candidate, test, found, problems) if found else None
            if entry:
                entries.append(entry)
    return tuple(entries)


def _check_who(row: Row, known: Known, problems: list[Problem]) -> None:
    cid, centre = row["candidate_id"], row["centre_number"]
    if known.candidate_ids is not None and cid not in known.candidate_ids:
        problems.append(Problem(FILE, row.number, "candidate_id",
                                "no candidate with this candidate_id in candidates.csv"))
    if not centre:
        return  # the optional centre_number column is empty or absent
    if known.centre_numbers is not None and centre not in known.centre_numbers:
        problems.append(Problem(FILE, row.number, "centre_number",
                                "no centre with this centre_number in centres.csv"))
    elif cid in known.candidates and known.candidates[cid][0].centre != centre:
        problems.append(Problem(FILE, row.number, "centre_number", "is not the candidate's "
                                f"centre in candidates.csv (row {known.candidates[cid][1]})"))


def _read_row(row: Row, test: Test, group: _Group, problems: list[Problem]) -> None:
    def bad(column: str, message: str) -> None:
        problems.append(Problem(FILE, row.number, column, message))

    name = row["component"]
    if test.family is Family.CAMBRIDGE_ENGLISH and name.casefold() == rules.OVERALL:
        low, high = test.components[0].min_mark, test.components[0].max_mark
        status, mark = _mark(row["mark"], low, high, bad)
        if status is not None:
            group.overall = (row, status, mark)
        return
    component = next((c for c in test.components if c.code.casefold() == name.casefold()), None)
    if component is None:
        extra = f", {rules.OVERALL}" if test.family is Family.CAMBRIDGE_ENGLISH else ""
        bad("component", f"not a component of {test.code}; use one of "
            + ", ".join(c.code for c in test.components) + extra)
        return
    group.named.add(component.code)
    status, mark = _mark(row["mark"], component.min_mark, component.max_mark, bad)
    if status is None:
        return
    grade = _check_component(row, test, component, (status, mark), bad)
    group.results[component.code] = ComponentResult(component, status, mark, grade)


MAX_MARK_DIGITS = 6  # longer is no mark of any test


def _mark(text: str, low: int, high: int, bad: _Bad) -> tuple[Status | None, int | None]:
    if text.casefold() in CODES:
        return CODES[text.casefold()], None
    if len(text) > MAX_MARK_DIGITS:  # checked first: int() of thousands of digits fails
        bad("mark", f"is too long: a mark has at most {MAX_MARK_DIGITS} digits")
        return None, None
    if not (text.isascii() and text.isdigit()):
        bad("mark", f"must be a whole number from {low} to {high}, or X, Z, Pending, Withheld")
        return None, None
    if not low <= int(text) <= high:
        bad("mark", f"{text} is out of range: must be from {low} to {high}")
        return None, None
    return Status.OK, int(text)


def _check_component(row: Row, test: Test, component: Component,
                     result: tuple[Status, int | None], bad: _Bad) -> str | None:
    """The component's grade (STEP), after checking the grade and cefr columns agree."""
    status, mark = result
    grade, cefr = row["grade"], row["cefr"]
    if test.family is Family.STEP:
        if cefr:
            bad("cefr", "STEP papers have no CEFR level: leave it empty")
        if mark is None:
            if grade and grade.casefold() != status.value.casefold():
                bad("grade", f"a {status.value} result has no grade: leave it empty")
            return None
        expected = rules.step_grade(component, mark)
        if grade and grade.casefold() != expected.casefold():
            bad("grade", f"grade {grade} disagrees with mark {mark}, which is grade {expected} "
                f"under this year's {component.code} boundaries")
        return expected
    if grade:
        bad("grade", "Cambridge English skills have no grade: put it on the overall row")
    if cefr and mark is not None:
        expected_cefr = rules.skill_cefr(test.code, mark)
        if cefr.casefold() != (expected_cefr or "").casefold():
            bad("cefr", f"CEFR {cefr} disagrees with score {mark}, which shows "
                + (f"{expected_cefr}" if expected_cefr else "no CEFR level"))
    return None


def _entry(candidate: Candidate, test: Test, group: _Group,
           problems: list[Problem]) -> Entry | None:
    results = tuple(group.results[c.code] for c in test.components if c.code in group.results)
    if test.family is Family.STEP:
        return Entry(candidate, test, results, None) if results else None
    missing = [c for c in test.components if c.code not in group.results]
    for c in missing:
        if c.code in group.named:
            continue  # its row is there but has a problem of its own
        problems.append(Problem(FILE, group.first_row, "component", f"no {c.code} ({c.title}) "
                                f"result for this candidate's {test.code} entry: every skill "
                                "needs a row"))
    if missing:
        return None
    overall = rules.overall_result(test, results)
    if group.overall is not None and not _agrees(group.overall, overall, problems):
        return None
    return Entry(candidate, test, results, overall)


def _agrees(given: tuple[Row, Status, int | None], computed: OverallResult,
            problems: list[Problem]) -> bool:
    row, status, score = given
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(Problem(FILE, row.number, column, message))

    what = (f"{computed.score}" if computed.status is Status.OK else computed.status.value)
    if status is not computed.status or score != computed.score:
        bad("mark", f"overall {row['mark']} disagrees with the skill results, which give {what} "
            "(weighted mean of the skill scores, halves rounded up)")
    elif computed.status is not Status.OK and (row["grade"] or row["cefr"]):
        bad("grade" if row["grade"] else "cefr", f"a {what} result has no grade or CEFR level")
    else:
        if row["grade"] and row["grade"].casefold() != (computed.grade or "").casefold():
            bad("grade", f"grade {row['grade']} disagrees with overall score {what}, which "
                f"gives {computed.grade or 'no grade'}")
        if row["cefr"] and row["cefr"].casefold() != (computed.cefr or "").casefold():
            bad("cefr", f"CEFR {row['cefr']} disagrees with overall score {what}, which "
                f"gives {computed.cefr or 'no CEFR level'}")
    return len(problems) == before

