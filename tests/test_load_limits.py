"""LOAD stage, tried with hostile inputs: oversized numbers, unknown keys, control characters,
over-long names, releases out of order, and the board's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_load import assert_problem, copy, problems_of, row_of, set_cell

from results_online.build.inputs.load import MAX_NAME, load_series
from results_online.build.release.plan import withdrawal_time


def _toml(folder: Path, old: str, new: str) -> None:
    path = folder / "series.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_mark_of_5000_digits_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    results = folder / "results.csv"
    set_cell(results, 2, "mark", "9" * 5000)
    p = assert_problem(folder, "results.csv", 2, "mark", "too long")
    assert "9999999" not in p.message


@pytest.mark.parametrize("column", ["candidate_number", "secret_number"])
def test_other_numeric_fields_are_length_checked(tmp_path: Path, column: str) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 2, column, "1" * 5000)
    assert_problem(folder, "candidates.csv", 2, column)


def test_an_unknown_key_in_series_toml_says_did_you_mean(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    _toml(folder, "available_until = ", "availble_until = 2027-06-01\navailable_until = ")
    p = assert_problem(folder, "series.toml", 14, "availble_until", "unknown key")
    assert "did you mean available_until" in p.message


def test_unknown_keys_in_tests_and_papers_are_refused_too(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    _toml(folder, 'family = "step"', 'family = "step"\nfamliy = "step"')
    _toml(folder, "max_mark", "colour = 3\nmax_mark")
    found = problems_of(folder)
    assert any(p.column == "tests[1].famliy" and "did you mean family" in p.message
               for p in found), found
    assert any(p.column and p.column.endswith(".colour") and "unknown key" in p.message
               and "did you mean" not in p.message for p in found), found


def test_candidates_release_before_the_centres_release_is_refused(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    _toml(folder, "candidates_release = 2026-08-13T08:00:00+01:00",
          "candidates_release = 2026-08-11T08:00:00+01:00")
    assert_problem(folder, "series.toml", 13, "candidates_release", "centres_release")


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_control_characters_in_text_fields_are_refused(tmp_path: Path, char: str) -> None:
    folder = copy(tmp_path)
    candidates = folder / "candidates.csv"
    set_cell(candidates, 3, "name", "Ann" + char + "Smith")
    set_cell(folder / "centres.csv", 2, "centre_name", "King" + char + "sway")
    assert_problem(folder, "candidates.csv", 3, "name", "control character")
    assert_problem(folder, "centres.csv", 2, "centre_name", "control character")


def test_control_characters_in_series_toml_text_are_refused(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    _toml(folder, 'name = "June 2026"', 'name = "June\\u0000 2026"')
    assert_problem(folder, "series.toml", 6, "name", "control character")


def test_a_tab_in_a_text_field_is_allowed(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    row = row_of(folder / "candidates.csv", candidate_id="S26471000")
    set_cell(folder / "candidates.csv", row, "name", "Zoë\tAshworth")
    assert any(c.name == "Zoë\tAshworth" for c in load_series(folder).candidates)


def test_names_longer_than_the_documented_limit_are_refused(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 2, "name", "A" * (MAX_NAME + 1))
    set_cell(folder / "centres.csv", 2, "centre_name", "C" * (MAX_NAME + 1))
    assert_problem(folder, "candidates.csv", 2, "name", str(MAX_NAME))
    assert_problem(folder, "centres.csv", 2, "centre_name", str(MAX_NAME))
    docs = (Path(__file__).resolve().parent.parent / "docs" / "input.md").read_text()
    assert re.search(rf"\b{MAX_NAME}\b characters", docs)


def test_the_boards_time_zone_is_configurable(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    london = load_series(folder).info
    assert london.time_zone == "Europe/London"
    assert withdrawal_time(london) == datetime(2027, 6, 2, tzinfo=ZoneInfo("Europe/London"))
    _toml(folder, 'code = "2026-06"', 'code = "2026-06"\ntime_zone = "Asia/Singapore"')
    info = load_series(folder).info
    assert info.time_zone == "Asia/Singapore"
    moment = withdrawal_time(info)
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 8 * 3600
    assert moment.date() == date(2027, 6, 2) and (moment.hour, moment.minute) == (0, 0)


def test_an_unknown_time_zone_says_did_you_mean(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    _toml(folder, 'code = "2026-06"', 'code = "2026-06"\ntime_zone = "Europe/Londn"')
    p = assert_problem(folder, "series.toml", 8, "time_zone", "time zone")
    assert "Europe/London" in p.message
