"""Grading rules: STEP grades from per-paper boundaries, Cambridge English overall results.

STEP boundaries come from series.toml (they change every year); the Cambridge
English Scale ranges below are the published, fixed ones for each exam.

Overall Cambridge English score: the weighted mean of the skill scores,
rounded half up to a whole number (179.5 → 180). A2 Key counts Reading and
Writing twice, every other skill once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from results_online.model import Component, ComponentResult, Family, OverallResult, Status, Test

STEP_GRADES = ("S", "1", "2", "3", "U")
STEP_MAX_MARK = 120
OVERALL = "overall"  # the component name of an overall row in results.csv


@dataclass(frozen=True)
class Band:
    """Overall scores from ``low`` up earn ``grade`` at ``cefr`` (both None: no certificate)."""

    low: int
    grade: str | None
    cefr: str | None


@dataclass(frozen=True)
class Exam:
    """A Cambridge English exam: its skills, reported scale range and grade bands."""

    code: str
    name: str
    skills: tuple[tuple[str, str, int], ...]  # (code, title, weight)
    low: int  # lowest score reported
    high: int  # highest score reported
    bands: tuple[Band, ...]  # best first


_RUWLS = (("R", "Reading", 1), ("U", "Use of English", 1), ("W", "Writing", 1),
          ("L", "Listening", 1), ("S", "Speaking", 1))


def _bands(lows: tuple[int, int, int, int, int],
           levels: tuple[str, str, str, str]) -> tuple[Band, ...]:
    a, b, c, below, no_cert = lows
    at_a, at_b, at_c, level_below = levels
    return (Band(a, "A", at_a), Band(b, "B", at_b), Band(c, "C", at_c),
            Band(below, f"Level {level_below}", level_below), Band(no_cert, None, None))


# The Cambridge English Scale and where each CEFR level starts on it (best first);
# each exam reports a part of it (Exam.low to Exam.high).
SCALE_TOP = 230
SCALE_LEVELS: tuple[tuple[int, str], ...] = (
    (200, "C2"), (180, "C1"), (160, "B2"), (140, "B1"), (120, "A2"), (100, "A1"),
    (80, "Below A1"))

# Published Cambridge English Scale score ranges for each exam.
EXAMS: dict[str, Exam] = {e.code: e for e in (
    Exam("KET", "A2 Key", (("RW", "Reading and Writing", 2), ("L", "Listening", 1),
                           ("S", "Speaking", 1)), 82, 150,
         _bands((140, 133, 120, 100, 82), ("B1", "A2", "A2", "A1"))),
    Exam("PET", "B1 Preliminary", (("R", "Reading", 1), ("W", "Writing", 1),
                                   ("L", "Listening", 1), ("S", "Speaking", 1)), 102, 170,
         _bands((160, 153, 140, 120, 102), ("B2", "B1", "B1", "A2"))),
    Exam("FCE", "B2 First", _RUWLS, 122, 190,
         _bands((180, 173, 160, 140, 122), ("C1", "B2", "B2", "B1"))),
    Exam("CAE", "C1 Advanced", _RUWLS, 142, 210,
         _bands((200, 193, 180, 160, 142), ("C2", "C1", "C1", "B2"))),
    Exam("CPE", "C2 Proficiency", _RUWLS, 162, 230,
         _bands((220, 213, 200, 180, 162), ("C2", "C2", "C2", "C1"))),
)}


def exam(code: str) -> Exam:
    """The Cambridge English exam with this test code (KET, PET, FCE, CAE, CPE)."""
    try:
        return EXAMS[code]
    except KeyError:
        raise ValueError(f"not a Cambridge English exam code: {code!r}") from None


def cambridge_components(code: str) -> tuple[Component, ...]:
    """The skills of a Cambridge English exam, each on the exam's reported scale range."""
    e = exam(code)
    return tuple(Component(c, title, e.high, min_mark=e.low, weight=w)
                 for c, title, w in e.skills)


def step_grade(component: Component, mark: int) -> str:
    """The grade a mark earns under the paper's boundaries (lowest mark for each grade)."""
    if not component.boundaries:
        raise ValueError(f"paper {component.code} has no grade boundaries")
    if not 0 <= mark <= component.max_mark:
        raise ValueError(f"mark {mark} is outside 0 to {component.max_mark}")
    for grade, low in component.boundaries:
        if mark >= low:
            return grade
    return component.boundaries[-1][0]


def check_step_boundaries(boundaries: Sequence[tuple[str, int]], max_mark: int) -> list[str]:
    """What is wrong with a STEP boundary table (empty when it is usable)."""
    grades = [g for g, _ in boundaries]
    if sorted(grades, key=_step_order) != list(STEP_GRADES) or len(grades) != len(STEP_GRADES):
        return [f"needs exactly the grades {', '.join(STEP_GRADES)}, best first"]
    marks = dict(boundaries)
    problems = []
    if marks["U"] != 0:
        problems.append("grade U must start at 0")
    lows = [marks[g] for g in STEP_GRADES]
    if any(hi <= lo for hi, lo in itertools.pairwise(lows)):
        problems.append("each grade needs a higher lowest mark than the grade below it")
    if lows[0] > max_mark:
        problems.append(f"grade S starts above the maximum mark {max_mark}")
    return problems


def _step_order(grade: str) -> int:
    return STEP_GRADES.index(grade) if grade in STEP_GRADES else len(STEP_GRADES)


def weighted_score(pairs: Sequence[tuple[int, int]]) -> int:
    """Weighted mean of (score, weight) pairs, rounded half up to an integer."""
    total = sum(w for _, w in pairs)
    if total <= 0:
        raise ValueError("need at least one score with a positive weight")
    return round_half_up(Fraction(sum(s * w for s, w in pairs), total))


def round_half_up(value: Fraction) -> int:
    """``value`` rounded to the nearest integer, halves up (179.5 → 180), exactly."""
    return math.floor(value + Fraction(1, 2))


def band(code: str, score: int) -> Band:
    """The grade band an overall score falls in for this exam."""
    e = exam(code)
    if not e.low <= score <= e.high:
        raise ValueError(f"{e.name} scores are reported from {e.low} to {e.high}")
    return next(b for b in e.bands if score >= b.low)


def skill_cefr(code: str, score: int) -> str | None:
    """The CEFR level a single skill score shows on the scale, within this exam's range."""
    b = band(code, score)
    return b.cefr if b.grade is not None else None


def overall_status(statuses: Sequence[Status]) -> Status:
    """The overall result code from the skills' codes: Z only if absent from everything."""
    if not statuses:
        raise ValueError("no skill results")
    if all(s is Status.ABSENT for s in statuses):
        return Status.ABSENT
    for code in (Status.PENDING, Status.WITHHELD):
        if code in statuses:
            return code
    if any(s is not Status.OK for s in statuses):
        return Status.ABSENT_FROM_PART
    return Status.OK


def overall_result(test: Test, components: Sequence[ComponentResult]) -> OverallResult:
    """A Cambridge English overall result (score, grade, CEFR) from every skill's result."""
    if test.family is not Family.CAMBRIDGE_ENGLISH:
        raise ValueError(f"{test.code} has no overall result")
    given = {r.component.code: r for r in components}
    wanted = [c.code for c in test.components]
    if sorted(given) != sorted(wanted) or len(given) != len(components):
        raise ValueError(f"need one result for each skill of {test.code}: {', '.join(wanted)}")
    status = overall_status([r.status for r in components])
    if status is not Status.OK:
        return OverallResult(status, None, None, None)
    pairs = []
    for r in components:
        if r.mark is None:
            raise ValueError(f"skill {r.component.code} has no score")
        pairs.append((r.mark, r.component.weight))
    score = weighted_score(pairs)
    b = band(test.code, score)
    return OverallResult(Status.OK, score, b.grade, b.cefr)
