"""Read results.csv into entries: one per candidate per test, checked against the rules.

A STEP entry holds the papers the candidate has rows for. A Cambridge English
entry needs a row for every skill; its overall result is computed by
``rules.overall_result``, and an ``overall`` row, when given, must agree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from results_online.build.grading import rules
from results_online.build.inputs.csvtable import Row
from results_online.build.inputs.spool import Spool
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
    """The rows of one candidate's entry in one test, gathered from the spool."""

    first_row: int
    results: dict[str, ComponentResult] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)  # components with a row, valid or not
    overall: tuple[Row, Status, int | None] | None = None


# What one row gives its entry, as spooled: ("component", code, result or None for a row
# with a problem of its own), ("overall", (row, status, mark)), or ("none",).
_Part = tuple[str, ...] | tuple[str, str, ComponentResult | None] | tuple[str, object]


@dataclass(frozen=True)
class Known:
    """What the other files declare, for cross-checking results.csv (None: file unusable)."""

    tests: tuple[Test, ...]  # the valid tests
    spool: Spool  # the valid candidates, every listed candidate_id, and where rows go
    test_codes: Collection[str] | None  # every test code series.toml names
    candidates_listed: bool  # whether candidates.csv could be read (its IDs are in spool)
    centre_numbers: Collection[str] | None  # every centre_number centres.csv lists


def read_entries(rows: Iterable[Row], known: Known, problems: list[Problem]) -> None:
    """Check results.csv rows; add the entries to the spool, in candidates.csv then test order.

    One pass over the rows, each row's part of its entry spooled; then each valid
    candidate's entries are put together from its parts.
    """
    by_code = {t.code: t for t in known.tests}
    spool = known.spool
    for row in rows:
        cid, code, comp = row["candidate_id"], row["test"], row["component"]
        spool.enter(cid)
        _check_who(row, known, problems)
        test = by_code.get(code)
        if test is None:
            if known.test_codes is not None and code not in known.test_codes:
                problems.append(Problem(FILE, row.number, "test", "unknown test; series.toml "
                                        "lists " + (", ".join(sorted(known.test_codes)))))
            continue
        first = spool.first_result(cid, code, comp.casefold(), row.number)
        if first is not None:
            problems.append(Problem(FILE, row.number, "component", "a second result for the same "
                                    f"candidate, test and component (first in row {first})"))
            continue
        spool.add_part(cid, code, row.number, _read_row(row, test, problems))
    for listed in spool.candidates_with_parts():
        if not listed.entered:
            problems.append(Problem("candidates.csv", listed.row, "candidate_id",
                                    "this candidate has no results in results.csv"))
        groups = _groups(listed.parts)
        for test in known.tests:
            found = groups.get(test.code)
            entry = _entry(listed.candidate, test, found, problems) if found else None
            if entry:
                spool.add_entry(entry)


def _groups(parts: list[tuple[str, int, Any]]) -> dict[str, _Group]:
    """A candidate's groups by test code, from its spooled parts in row order."""
    groups: dict[str, _Group] = {}
    for code, row, part in parts:
        group = groups.setdefault(code, _Group(row))
        if part[0] == "component":
            group.named.add(part[1])
            if part[2] is not None:
                group.results[part[1]] = part[2]
        elif part[0] == "overall":
            group.overall = part[1]
    return groups


def _check_who(row: Row, known: Known, problems: list[Problem]) -> None:
    cid, centre = row["candidate_id"], row["centre_number"]
    if known.candidates_listed and not known.spool.is_listed(cid):
        problems.append(Problem(FILE, row.number, "candidate_id",
                                "no candidate with this candidate_id in candidates.csv"))
    if not centre:
        return  # the optional centre_number column is empty or absent
    if known.centre_numbers is not None and centre not in known.centre_numbers:
        problems.append(Problem(FILE, row.number, "centre_number",
                                "no centre with this centre_number in centres.csv"))
    elif (at := known.spool.candidate_at(cid)) is not None and at[0] != centre:
        problems.append(Problem(FILE, row.number, "centre_number", "is not the candidate's "
                                f"centre in candidates.csv (row {at[1]})"))


def _read_row(row: Row, test: Test, problems: list[Problem]) -> _Part:
    """What this row gives its entry; its problems go into ``problems``."""
    def bad(column: str, message: str) -> None:
        problems.append(Problem(FILE, row.number, column, message))

    name = row["component"]
    if test.family is Family.CAMBRIDGE_ENGLISH and name.casefold() == rules.OVERALL:
        low, high = test.components[0].min_mark, test.components[0].max_mark
        status, mark = _mark(row["mark"], low, high, bad)
        return ("overall", (row, status, mark)) if status is not None else ("none",)
    component = next((c for c in test.components if c.code.casefold() == name.casefold()), None)
    if component is None:
        extra = f", {rules.OVERALL}" if test.family is Family.CAMBRIDGE_ENGLISH else ""
        bad("component", f"not a component of {test.code}; use one of "
            + ", ".join(c.code for c in test.components) + extra)
        return ("none",)
    status, mark = _mark(row["mark"], component.min_mark, component.max_mark, bad)
    if status is None:
        return ("component", component.code, None)
    grade = _check_component(row, test, component, (status, mark), bad)
    return ("component", component.code, ComponentResult(component, status, mark, grade))


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

