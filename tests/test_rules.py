"""Grading rules: STEP grades from the input's boundaries, Cambridge English overall results."""

from __future__ import annotations

import pytest

from results_online.build.grading import rules
from results_online.build.grading.rules import cambridge_components, overall_result, step_grade
from results_online.model import Component, ComponentResult, Family, Status
from results_online.model import Test as ExamTest


def cambridge(code: str) -> ExamTest:
    """A Cambridge English test as series.toml would make it."""
    return ExamTest(code, rules.EXAMS[code].name, Family.CAMBRIDGE_ENGLISH,
                cambridge_components(code), True, None, 14)


def results(test: ExamTest, values: list[int | Status]) -> list[ComponentResult]:
    """One result per skill, in the test's order: a score or a result code."""
    return [ComponentResult(c, v, None, None) if isinstance(v, Status)
            else ComponentResult(c, Status.OK, v, None)
            for c, v in zip(test.components, values, strict=True)]


def overall(code: str, values: list[int | Status]) -> tuple[Status, int | None, str | None,
                                                             str | None]:
    test = cambridge(code)
    o = overall_result(test, results(test, values))
    return o.status, o.score, o.grade, o.cefr


def test_skills_and_weights_per_exam() -> None:
    assert [(c.code, c.weight) for c in cambridge_components("KET")] == [
        ("RW", 2), ("L", 1), ("S", 1)]
    assert [c.code for c in cambridge_components("PET")] == ["R", "W", "L", "S"]
    for code in ("FCE", "CAE", "CPE"):
        assert [c.code for c in cambridge_components(code)] == ["R", "U", "W", "L", "S"]
    fce = cambridge_components("FCE")
    assert {(c.min_mark, c.max_mark) for c in fce} == {(122, 190)}
    assert all(c.code.isascii() and len(c.code) <= 2 for c in fce)


def test_overall_rounds_half_up() -> None:
    # B1 Preliminary: (160 + 161 + 160 + 161) / 4 = 160.5, which rounds up to grade A.
    assert overall("PET", [160, 161, 160, 161]) == (Status.OK, 161, "A", "B2")
    # 160.25 rounds down.
    assert overall("PET", [160, 160, 160, 161])[1] == 160
    # 152.75 rounds up into grade B (153).
    assert overall("PET", [152, 153, 153, 153])[1:3] == (153, "B")
    # 152.25 stays in grade C.
    assert overall("PET", [152, 152, 152, 153])[1:3] == (152, "C")


def test_a2_key_counts_reading_and_writing_twice() -> None:
    # Weighted: (2·150 + 100 + 100) / 4 = 125, grade C at A2; unweighted it would be 117.
    assert overall("KET", [150, 100, 100]) == (Status.OK, 125, "C", "A2")
    # (2·140 + 141 + 141) / 4 = 140.5 → 141.
    assert overall("KET", [140, 141, 141])[1] == 141
    assert rules.weighted_score([(150, 2), (100, 1), (100, 1)]) == 125


@pytest.mark.parametrize(("score", "grade", "cefr"), [
    (190, "A", "C1"), (180, "A", "C1"), (179, "B", "B2"), (173, "B", "B2"),
    (172, "C", "B2"), (160, "C", "B2"), (159, "Level B1", "B1"), (140, "Level B1", "B1"),
    (139, None, None), (122, None, None),
])
def test_b2_first_band_edges(score: int, grade: str | None, cefr: str | None) -> None:
    assert overall("FCE", [score] * 5) == (Status.OK, score, grade, cefr)


@pytest.mark.parametrize(("code", "edges"), [
    ("KET", [(150, "A", "B1"), (140, "A", "B1"), (139, "B", "A2"), (133, "B", "A2"),
             (132, "C", "A2"), (120, "C", "A2"), (119, "Level A1", "A1"),
             (100, "Level A1", "A1"), (99, None, None), (82, None, None)]),
    ("PET", [(170, "A", "B2"), (160, "A", "B2"), (159, "B", "B1"), (153, "B", "B1"),
             (152, "C", "B1"), (140, "C", "B1"), (139, "Level A2", "A2"),
             (120, "Level A2", "A2"), (119, None, None), (102, None, None)]),
    ("CAE", [(210, "A", "C2"), (200, "A", "C2"), (199, "B", "C1"), (193, "B", "C1"),
             (192, "C", "C1"), (180, "C", "C1"), (179, "Level B2", "B2"),
             (160, "Level B2", "B2"), (159, None, None), (142, None, None)]),
    ("CPE", [(230, "A", "C2"), (220, "A", "C2"), (219, "B", "C2"), (213, "B", "C2"),
             (212, "C", "C2"), (200, "C", "C2"), (199, "Level C1", "C1"),
             (180, "Level C1", "C1"), (179, None, None), (162, None, None)]),
])
def test_published_ranges_of_every_exam(code: str,
                                        edges: list[tuple[int, str | None, str | None]]) -> None:
    n = len(cambridge_components(code))
    for score, grade, cefr in edges:
        assert overall(code, [score] * n) == (Status.OK, score, grade, cefr), score


def test_scores_outside_the_reported_range_are_refused() -> None:
    with pytest.raises(ValueError, match="122 to 190"):
        rules.band("FCE", 121)
    with pytest.raises(ValueError, match="122 to 190"):
        rules.band("FCE", 191)


def test_absent_from_part_gives_x_with_no_score() -> None:
    assert overall("FCE", [180, 180, Status.ABSENT_FROM_PART, 180, 180]) == (
        Status.ABSENT_FROM_PART, None, None, None)
    # Absent from some skills only is still X, not Z.
    assert overall("KET", [Status.ABSENT, 140, 140])[0] is Status.ABSENT_FROM_PART


def test_absent_from_everything_gives_z() -> None:
    assert overall("FCE", [Status.ABSENT] * 5) == (Status.ABSENT, None, None, None)


def test_pending_and_withheld_carry_to_the_overall_result() -> None:
    assert overall("CAE", [200, Status.PENDING, 200, 200, 200])[0] is Status.PENDING
    assert overall("CAE", [Status.WITHHELD] * 5)[0] is Status.WITHHELD
    assert overall("CAE", [Status.WITHHELD, 200, Status.ABSENT_FROM_PART, 200, 200])[0] \
        is Status.WITHHELD


def test_overall_needs_every_skill_once() -> None:
    test = cambridge("FCE")
    with pytest.raises(ValueError, match="one result for each skill"):
        overall_result(test, results(test, [180] * 5)[:4])


PAPER = Component("9470", "STEP Mathematics II", 120,
                  boundaries=(("S", 93), ("1", 69), ("2", 56), ("3", 43), ("U", 0)))


@pytest.mark.parametrize(("mark", "grade"), [
    (120, "S"), (93, "S"), (92, "1"), (69, "1"), (68, "2"), (56, "2"), (55, "3"), (43, "3"),
    (42, "U"), (0, "U"),
])
def test_step_grade_follows_the_boundaries(mark: int, grade: str) -> None:
    assert step_grade(PAPER, mark) == grade


def test_step_grade_uses_the_given_boundaries_not_fixed_ones() -> None:
    harder = Component("9470", "STEP Mathematics II", 120,
                       boundaries=(("S", 100), ("1", 80), ("2", 60), ("3", 50), ("U", 0)))
    assert step_grade(PAPER, 95) == "S"
    assert step_grade(harder, 95) == "1"


def test_step_boundary_tables_are_checked() -> None:
    assert rules.check_step_boundaries(PAPER.boundaries, 120) == []
    assert rules.check_step_boundaries((("S", 93), ("1", 69), ("2", 70), ("3", 43), ("U", 0)),
                                       120)
    assert rules.check_step_boundaries((("S", 93), ("1", 69), ("3", 43), ("U", 0)), 120)
    assert rules.check_step_boundaries((("S", 93), ("1", 69), ("2", 56), ("3", 43), ("U", 5)),
                                       120)
    assert rules.check_step_boundaries((("S", 130), ("1", 69), ("2", 56), ("3", 43), ("U", 0)),
                                       120)
