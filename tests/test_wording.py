"""How results read on a statement: the wording the templates print."""

from __future__ import annotations

import json
from datetime import date

import pytest
from factories import fce_test, step_test

from results_online.model import ComponentResult, OverallResult, Status
from results_online.web import environment
from results_online.wording import (
    certificate_text,
    component_result,
    date_words_json,
    long_date,
    overall_grade,
    status_words,
    weekday_date,
    wording_catalogue,
    wording_json,
)


def test_a_step_paper_reads_grade_then_marks() -> None:
    paper = step_test().components[0]
    assert component_result(ComponentResult(paper, Status.OK, 89, "1")) == "1 (89 marks)"
    assert component_result(ComponentResult(paper, Status.OK, 1, "U")) == "U (1 mark)"


def test_a_skill_reads_its_scale_score() -> None:
    skill = fce_test().components[0]
    assert component_result(ComponentResult(skill, Status.OK, 176, None)) == "176"


@pytest.mark.parametrize(("status", "words"), [
    (Status.ABSENT_FROM_PART, "Absent from this part (X)"), (Status.ABSENT, "Absent (Z)"),
    (Status.PENDING, "Result pending"), (Status.WITHHELD, "Result withheld")])
def test_result_codes_are_words(status: Status, words: str) -> None:
    paper = step_test().components[0]
    assert component_result(ComponentResult(paper, status, None, None)) == words
    assert status_words(status, overall=True) != ""


def test_ok_is_not_a_result_code() -> None:
    with pytest.raises(ValueError, match="result codes"):
        status_words(Status.OK)


def test_overall_grade_and_certificate() -> None:
    a = OverallResult(Status.OK, 182, "A", "C1")
    below = OverallResult(Status.OK, 150, "Level B1", "B1")
    none = OverallResult(Status.OK, 130, None, None)
    assert (overall_grade(a), certificate_text(a)) == ("Grade A", "Level C1")
    assert (overall_grade(below), certificate_text(below)) == ("Level B1", "Level B1")
    assert (overall_grade(none), certificate_text(none)) == ("No grade", "No certificate awarded")
    absent = OverallResult(Status.ABSENT, None, None, None)
    assert certificate_text(absent) == "No certificate awarded"
    assert "Absent" in overall_grade(absent)


def test_dates_read_in_full() -> None:
    assert long_date(date(2026, 8, 5)) == "5 August 2026"
    assert weekday_date(date(2026, 9, 7)) == "Monday 7 September 2026"
    assert weekday_date(date(2026, 9, 13)) == "Sunday 13 September 2026"


def test_a_page_that_fetches_nothing_gets_the_same_date_words() -> None:
    words = json.loads(date_words_json())
    assert words["months"] == wording_catalogue()["months"]
    assert words["weekdays"] == wording_catalogue()["weekdays"]
    for day in range(7, 14):  # 7 September 2026 is a Monday
        assert weekday_date(date(2026, 9, day)).split()[0] == words["weekdays"][day - 7]


def test_the_environment_escapes_markup() -> None:
    env = environment()
    assert env.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"


def test_the_browser_wording_catalogue_holds_the_statements_own_words() -> None:
    words = wording_catalogue()
    assert json.loads(wording_json()) == words
    months = words["months"]
    assert isinstance(months, list) and len(months) == 12
    for month in range(1, 13):
        assert long_date(date(2026, month, 20)) == f"20 {months[month - 1]} 2026"
    component, overall = words["component_status"], words["overall_status"]
    assert isinstance(component, dict) and isinstance(overall, dict)
    for status in Status:
        if status is not Status.OK:
            assert component[status.value] == status_words(status)
            assert overall[status.value] == status_words(status, overall=True)
    assert {"valid", "superseded", "withdrawn"} == set(words["statement_status"])  # type: ignore[arg-type]
    fixed = words["words"]
    assert isinstance(fixed, dict)
    assert overall_grade(OverallResult(Status.OK, 150, None, None)) == fixed["no_grade"]
    assert overall_grade(OverallResult(Status.OK, 176, "B", "B2")) == f"{fixed['grade']} B"
