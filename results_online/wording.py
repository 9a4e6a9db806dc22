"""How results read: the words of result codes, grades, statuses and dates (Jinja filters)."""

from __future__ import annotations

import json
from datetime import date, datetime

from results_online.index import StatementStatus
from results_online.model import ComponentResult, Entry, OverallResult, Status

_COMPONENT_WORDS = {
    Status.ABSENT_FROM_PART: "Absent from this part (X)",
    Status.ABSENT: "Absent (Z)",
    Status.PENDING: "Result pending",
    Status.WITHHELD: "Result withheld",
}
_OVERALL_WORDS = {
    Status.ABSENT_FROM_PART: "Absent from part of the test (X): no overall result",
    Status.ABSENT: "Absent from the test (Z)",
    Status.PENDING: "Result pending",
    Status.WITHHELD: "Result withheld",
}

# A statement's status as a verifier reads it (the app's page; the browser pages' catalogue).
STATUS_WORDS = {
    StatementStatus.VALID: "Valid",
    StatementStatus.SUPERSEDED: "Superseded by a newer statement",
    StatementStatus.WITHDRAWN: "Withdrawn by the awarding body",
}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WORDS = {"grade": "Grade", "no_grade": "No grade", "mark": "mark", "marks": "marks",
          "cefr": "CEFR", "overall": "Overall"}


def wording_catalogue() -> dict[str, object]:
    """The words the browser pages use (``/wording.json``), from the tables the statements use."""
    return {
        "months": list(MONTHS),
        "weekdays": list(WEEKDAYS),
        "component_status": {s.value: w for s, w in _COMPONENT_WORDS.items()},
        "overall_status": {s.value: w for s, w in _OVERALL_WORDS.items()},
        "statement_status": {s.value: w for s, w in STATUS_WORDS.items()},
        "words": dict(_WORDS),
    }


def wording_json() -> str:
    """The catalogue as the JSON file the build writes and the app serves."""
    return json.dumps(wording_catalogue(), indent=2, ensure_ascii=False) + "\n"


def date_words_json() -> str:
    """Month and weekday names alone, for a page that can fetch nothing (the offline overview)."""
    return json.dumps({"months": list(MONTHS), "weekdays": list(WEEKDAYS)}, ensure_ascii=False)


def status_words(status: Status, overall: bool = False) -> str:
    """A result code in words, for a component or for the overall result."""
    if status is Status.OK:
        raise ValueError("status_words is for result codes, not for OK")
    return (_OVERALL_WORDS if overall else _COMPONENT_WORDS)[status]


def component_result(r: ComponentResult) -> str:
    """A paper's grade and marks ("1 (89 marks)"), a skill's scale score, or the code in words."""
    if r.status is not Status.OK:
        return status_words(r.status)
    if r.grade is not None:
        if r.mark is None:
            return r.grade
        return f"{r.grade} ({r.mark} {_WORDS['mark' if r.mark == 1 else 'marks']})"
    return "" if r.mark is None else str(r.mark)


def overall_grade(o: OverallResult) -> str:
    """The overall result line: "Grade A", "Level B1" (below the test's level) or "No grade"."""
    if o.status is not Status.OK:
        return status_words(o.status, overall=True)
    if not o.grade:
        return _WORDS["no_grade"]
    return o.grade if o.grade.startswith("Level") else f"{_WORDS['grade']} {o.grade}"


def certificate_text(o: OverallResult) -> str:
    """What the certificate says: "Level C1", "Level B1", or that none is awarded."""
    if o.status is not Status.OK or not o.grade or not o.cefr:
        return "No certificate awarded"
    return o.grade if o.grade.startswith("Level") else f"Level {o.cefr}"


def step_overall(e: Entry) -> str:
    """STEP has no overall grade: say so and summarise the paper grades."""
    parts = [f"{r.component.code} {component_result(r)}" for r in e.components]
    return "Graded by paper, with no overall grade: " + "; ".join(parts) + "."


def long_date(d: date) -> str:
    """A date as printed on the statement: 20 August 2026."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def weekday_date(d: date) -> str:
    """A deadline as the pages write it: Monday 7 September 2026."""
    return f"{WEEKDAYS[d.weekday()]} {long_date(d)}"


def long_datetime(t: datetime) -> str:
    """A release time with its UTC offset: 13 August 2026 at 08:00 (UTC+01:00)."""
    offset = t.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("", "+0000") else "UTC"
    return f"{long_date(t.date())} at {t:%H:%M} ({zone})"


FILTERS = {
    "component_result": component_result, "status_words": status_words,
    "overall_grade": overall_grade, "certificate_text": certificate_text,
    "step_overall": step_overall, "long_date": long_date, "weekday_date": weekday_date,
    "long_datetime": long_datetime,
}
