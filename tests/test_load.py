"""LOAD stage: the bundled examples load, and every validation rule reports file, row, column."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from factories import EXAMPLES
from pyrage import x25519

from results_online.build.grading.rules import step_grade
from results_online.build.inputs.load import load_series
from results_online.errors import InputError, Problem
from results_online.model import Family, Status

Rows = list[list[str]]


# --- helpers ---------------------------------------------------------------------------------

def copy(tmp_path: Path, name: str = "step-2026-06") -> Path:
    """A private copy of a bundled example to spoil."""
    return Path(shutil.copytree(EXAMPLES / name, tmp_path / name))


def read(path: Path) -> Rows:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def write(path: Path, rows: Rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def edit(path: Path, change: Callable[[Rows], object]) -> None:
    rows = read(path)
    change(rows)
    write(path, rows)


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` is the spreadsheet row (the header is row 1)."""
    def change(rows: Rows) -> None:
        rows[row - 1][rows[0].index(column)] = value
    edit(path, change)


def row_of(path: Path, **match: str) -> int:
    """The spreadsheet row number of the first row matching every column=value."""
    rows = read(path)
    for i, r in enumerate(rows[1:], start=2):
        if all(r[rows[0].index(k)] == v for k, v in match.items()):
            return i
    raise LookupError(match)


def cell(path: Path, row: int, column: str) -> str:
    rows = read(path)
    return rows[row - 1][rows[0].index(column)]


def problems_of(folder: Path) -> tuple[Problem, ...]:
    with pytest.raises(InputError) as info:
        load_series(folder)
    return info.value.problems


def assert_problem(folder: Path, file: str, row: int | None, column: str | None,
                   words: str = "") -> Problem:
    """Loading fails with a problem at exactly this place (and mentioning ``words``)."""
    found = problems_of(folder)
    for p in found:
        if (p.file, p.row, p.column) == (file, row, column) and words.lower() in p.message.lower():
            return p
    raise AssertionError(f"no problem at {file} row {row} column {column}: {found}")


# --- the examples ----------------------------------------------------------------------------

def test_step_example_loads() -> None:
    series = load_series(EXAMPLES / "step-2026-06")
    assert series.info.code == "2026-06" and series.info.name == "June 2026"
    assert series.info.centres_release.utcoffset() is not None
    assert [t.code for t in series.tests] == ["STEP"]
    test = series.tests[0]
    assert test.family is Family.STEP and test.not_a_certificate
    assert [(c.code, c.title) for c in test.components] == [
        ("9470", "STEP Mathematics II"), ("9475", "STEP Mathematics III")]
    assert len(series.centres) == 3 and len(series.candidates) >= 10
    statuses = {r.status for e in series.entries for r in e.components}
    assert {Status.ABSENT_FROM_PART, Status.ABSENT, Status.PENDING, Status.WITHHELD} <= statuses
    for e in series.entries:
        assert e.overall is None
        for r in e.components:
            expected = step_grade(r.component, r.mark) if r.mark is not None else None
            assert r.grade == expected


def test_cambridge_example_loads() -> None:
    series = load_series(EXAMPLES / "cambridge-2026-06")
    assert {"KET", "FCE", "CAE"} <= {t.code for t in series.tests}
    assert len(series.centres) == 3 and len(series.candidates) >= 15
    overall = [e.overall for e in series.entries]
    assert all(o is not None for o in overall)
    assert {o.status for o in overall if o} >= {Status.OK, Status.ABSENT_FROM_PART,
                                                 Status.ABSENT, Status.PENDING, Status.WITHHELD}
    key = next(e for e in series.entries if e.test.code == "KET")
    assert [c.component.code for c in key.components] == ["RW", "L", "S"]


def test_examples_hold_public_keys_only_and_real_ones() -> None:
    for name in ("step-2026-06", "cambridge-2026-06"):
        for centre in load_series(EXAMPLES / name).centres:
            assert centre.recipients
            for r in centre.recipients:
                x25519.Recipient.from_str(r)
        for path in (EXAMPLES / name).iterdir():
            assert "AGE-SECRET-KEY" not in path.read_text(encoding="utf-8").upper()


def test_ids_keep_leading_zeros() -> None:
    series = load_series(EXAMPLES / "step-2026-06")
    raw = read(EXAMPLES / "step-2026-06" / "candidates.csv")[1:]
    assert any(r[0].startswith("0") for r in raw) and any(r[1].startswith("0") for r in raw)
    assert [c.candidate_id for c in series.candidates] == [r[0] for r in raw]
    assert [c.centre for c in series.candidates] == [r[1] for r in raw]
    assert [c.number for c in series.candidates] == [r[2] for r in raw]
    assert "04123" in {c.number for c in series.centres}


def test_excel_export_with_bom_semicolons_and_quotes_loads(tmp_path: Path) -> None:
    plain = copy(tmp_path, "cambridge-2026-06")
    tricky = 'Lycée "Marie Curie"; Lyon, France'
    set_cell(plain / "centres.csv", 2, "centre_name", tricky)
    excel = Path(shutil.copytree(plain, tmp_path / "excel"))
    for name in ("centres.csv", "candidates.csv", "results.csv"):
        rows = read(excel / name)
        with (excel / name).open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
                [*rows, []])
        assert (excel / name).read_bytes().startswith(b'\xef\xbb\xbf"')
    series = load_series(excel)
    assert series == load_series(plain)
    assert series.centres[0].name == tricky


def test_headings_typed_by_hand_are_understood(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "results.csv", lambda rows: rows.__setitem__(
        0, ["Candidate ID", " Test", "COMPONENT", "Mark ", "Grade", "CEFR"]))
    assert load_series(folder) == load_series(EXAMPLES / "step-2026-06")


def test_decomposed_accents_become_composed(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 2, "name", "Zoe\u0308 Ashworth")
    assert load_series(folder).candidates[0].name == "Zo\u00eb Ashworth"


def test_enquiry_rule_defaults_by_family(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    toml = folder / "series.toml"
    toml.write_text(toml.read_text().replace("enquiry_calendar_days = 14", "")
                    .replace("issue_date = 2026-08-05\n", ""))
    series = load_series(folder)
    assert {(t.enquiry_working_days, t.enquiry_calendar_days) for t in series.tests} == {
        (None, 14)}
    assert series.info.issue_date == series.info.candidates_release.date()
    step = copy(tmp_path)
    toml = step / "series.toml"
    toml.write_text(toml.read_text().replace("enquiry_working_days = 5", ""))
    assert load_series(step).tests[0].enquiry_working_days == 5


# --- centres.csv -----------------------------------------------------------------------------

def test_missing_column(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "centres.csv", lambda rows: [r.pop(2) for r in rows])
    assert_problem(folder, "centres.csv", 1, "email", "missing")


def test_unknown_column(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "candidates.csv",
         lambda rows: [r.append("colour" if i == 0 else "blue") for i, r in enumerate(rows)])
    assert_problem(folder, "candidates.csv", 1, "colour", "unknown column")


def test_repeated_column(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "centres.csv", lambda rows: [r.append(r[2]) for r in rows])
    assert_problem(folder, "centres.csv", 1, "email", "more than once")


def test_row_with_too_few_fields(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "centres.csv", lambda rows: rows[2].pop())
    assert_problem(folder, "centres.csv", 3, None, "fields")


def test_duplicate_centre(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    first = cell(folder / "centres.csv", 2, "centre_number")
    set_cell(folder / "centres.csv", 4, "centre_number", first)
    assert_problem(folder, "centres.csv", 4, "centre_number", "row 2")


def test_centre_number_with_a_space(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "centres.csv", 3, "centre_number", "04 123")
    assert_problem(folder, "centres.csv", 3, "centre_number")


def test_bad_centre_email(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "centres.csv", 3, "email", "exams at school")
    assert_problem(folder, "centres.csv", 3, "email", "e-mail")


def test_centre_without_recipient(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "centres.csv", 2, "recipients", "")
    assert_problem(folder, "centres.csv", 2, "recipients", "at least one")


def test_centre_with_a_broken_recipient(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    good = str(x25519.Identity.generate().to_public())
    broken = good[:-1] + ("x" if good[-1] != "x" else "y")  # one checksum character off
    set_cell(folder / "centres.csv", 3, "recipients", f"{good} {broken}")
    assert_problem(folder, "centres.csv", 3, "recipients", "key 2")


def test_private_identity_in_recipients_is_refused_and_not_repeated(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    identity = str(x25519.Identity.generate())
    set_cell(folder / "centres.csv", 2, "recipients", identity)
    assert_problem(folder, "centres.csv", 2, "recipients", "private")
    assert identity.upper() not in str(problems_of(folder)).upper()


# --- candidates.csv --------------------------------------------------------------------------

def test_duplicate_candidate_id(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    first = cell(folder / "candidates.csv", 2, "candidate_id")
    set_cell(folder / "candidates.csv", 5, "candidate_id", first)
    p = assert_problem(folder, "candidates.csv", 5, "candidate_id", "duplicate")
    assert "row 2" in p.message and first not in str(p)


def test_candidate_ids_that_differ_only_in_case_or_dashes_are_one_id(tmp_path: Path) -> None:
    # A verifier may type "s2647-1000" for S26471000: two such IDs would share one index key.
    folder = copy(tmp_path)
    first = cell(folder / "candidates.csv", 2, "candidate_id")
    typed = f"{first[:3].lower()}-{first[3:]}"
    set_cell(folder / "candidates.csv", 5, "candidate_id", typed)
    p = assert_problem(folder, "candidates.csv", 5, "candidate_id", "duplicate")
    assert "row 2" in p.message and "case, spaces and dashes" in p.message


def test_duplicate_candidate_number_at_a_centre(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    path = folder / "candidates.csv"
    set_cell(path, 3, "candidate_number", cell(path, 2, "candidate_number"))
    assert_problem(folder, "candidates.csv", 3, "candidate_number", "duplicate")


def test_candidate_at_unknown_centre(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 4, "centre_number", "4123")  # lost its leading zero
    assert_problem(folder, "candidates.csv", 4, "centre_number", "centres.csv")


@pytest.mark.parametrize(("secret", "words"), [
    ("907", "4 to 12 digits"), ("12a45", "digits"), ("", "digits"),
    ("\uff11\uff12\uff13\uff14\uff15", "digits"),  # full-width digits
])
def test_bad_secret_number_is_reported_without_its_value(tmp_path: Path, secret: str,
                                                         words: str) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 6, "secret_number", secret)
    assert_problem(folder, "candidates.csv", 6, "secret_number", words)
    if secret:
        assert secret not in str(problems_of(folder))


@pytest.mark.parametrize("address", ["jos\u00e9@example.org", "exams@\u00e9cole.example"])
def test_a_non_ascii_email_is_refused_where_it_stands(tmp_path: Path, address: str) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 5, "email", address)
    assert_problem(folder, "candidates.csv", 5, "email", "xn--")


def test_bad_candidate_email(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 7, "email", "someone@")
    assert_problem(folder, "candidates.csv", 7, "email")


def test_candidate_without_name(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "candidates.csv", 3, "name", "  ")
    assert_problem(folder, "candidates.csv", 3, "name", "empty")


def test_candidate_without_results(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    cid = cell(folder / "candidates.csv", 3, "candidate_id")
    edit(folder / "results.csv", lambda rows: rows.__setitem__(
        slice(None), [r for r in rows if r[0] != cid]))
    assert_problem(folder, "candidates.csv", 3, "candidate_id", "no results")


# --- results.csv -----------------------------------------------------------------------------

def test_result_for_unknown_candidate(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    cid = cell(folder / "results.csv", 4, "candidate_id")
    set_cell(folder / "results.csv", 4, "candidate_id", cid.lstrip("0S"))
    p = assert_problem(folder, "results.csv", 4, "candidate_id", "candidates.csv")
    assert cid.lstrip("0S") not in str(p)


def test_result_for_unknown_centre(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    path = folder / "results.csv"
    edit(path, lambda rows: [r.append("centre_number" if i == 0 else "")
                             for i, r in enumerate(rows)])
    set_cell(path, 3, "centre_number", "GB000")
    cands = folder / "candidates.csv"
    theirs = cell(cands, row_of(cands, centre_number="04123"), "candidate_id")
    set_cell(path, row_of(path, candidate_id=theirs), "centre_number", "GB599")
    assert_problem(folder, "results.csv", 3, "centre_number", "centres.csv")
    assert_problem(folder, "results.csv", row_of(path, candidate_id=theirs), "centre_number",
                   "not the candidate's centre")


def test_result_for_unknown_test(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "results.csv", 5, "test", "STEP2")
    assert_problem(folder, "results.csv", 5, "test", "unknown test")


def test_result_for_unknown_component(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "results.csv", 2, "component", "9465")
    assert_problem(folder, "results.csv", 2, "component", "9470, 9475")


def test_second_result_for_the_same_component(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "results.csv", lambda rows: rows.append(list(rows[1])))
    n = len(read(folder / "results.csv"))
    assert_problem(folder, "results.csv", n, "component", "row 2")


@pytest.mark.parametrize(("mark", "words"), [("121", "0 to 120"), ("-1", "whole number"),
                                             ("85.5", "whole number"), ("absent", "X, Z")])
def test_step_mark_out_of_range(tmp_path: Path, mark: str, words: str) -> None:
    folder = copy(tmp_path)
    set_cell(folder / "results.csv", 3, "mark", mark)
    set_cell(folder / "results.csv", 3, "grade", "")
    assert_problem(folder, "results.csv", 3, "mark", words)


@pytest.mark.parametrize("score", ["121", "191"])
def test_cambridge_score_out_of_range(tmp_path: Path, score: str) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    row = row_of(path, test="FCE", component="U")
    set_cell(path, row, "mark", score)
    assert_problem(folder, "results.csv", row, "mark", "122 to 190")


def test_step_grade_disagreeing_with_mark(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    path = folder / "results.csv"
    row = row_of(path, component="9470", grade="1")
    set_cell(path, row, "grade", "S")
    assert_problem(folder, "results.csv", row, "grade", "boundaries")


def test_step_grade_on_an_absent_paper(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    path = folder / "results.csv"
    row = row_of(path, mark="X")
    set_cell(path, row, "grade", "U")
    assert_problem(folder, "results.csv", row, "grade")


def test_missing_skill_result(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    cid = cell(path, row_of(path, test="FCE"), "candidate_id")
    first = row_of(path, candidate_id=cid)
    edit(path, lambda rows: rows.__setitem__(slice(None), [
        r for r in rows if not (r[0] == cid and r[2] == "L")]))
    p = assert_problem(folder, "results.csv", first, "component", "L (Listening)")
    assert cid not in str(p)


def test_overall_score_disagreeing_with_skills(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    row = row_of(path, test="FCE", component="overall", grade="A")
    set_cell(path, row, "mark", str(int(cell(path, row, "mark")) + 1))
    assert_problem(folder, "results.csv", row, "mark", "disagrees")


def test_overall_grade_and_cefr_disagreeing_with_score(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    row = row_of(path, test="FCE", component="overall", grade="A")
    set_cell(path, row, "grade", "B")
    set_cell(path, row, "cefr", "B2")
    assert_problem(folder, "results.csv", row, "grade", "disagrees")
    assert_problem(folder, "results.csv", row, "cefr", "disagrees")


def test_overall_code_disagreeing_with_skills(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    row = row_of(path, component="overall", grade="A")
    set_cell(path, row, "mark", "X")
    set_cell(path, row, "grade", "")
    set_cell(path, row, "cefr", "")
    assert_problem(folder, "results.csv", row, "mark", "disagrees")
    row = row_of(path, component="overall", mark="X")
    set_cell(path, row, "mark", "Z")
    assert_problem(folder, "results.csv", row, "mark", "disagrees")


def test_grade_on_a_skill_row(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    row = row_of(path, test="KET", component="RW")
    set_cell(path, row, "grade", "A")
    assert_problem(folder, "results.csv", row, "grade", "overall row")


def test_skill_cefr_is_checked_when_given(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    row = row_of(path, test="FCE", component="R", mark="187")
    set_cell(path, row, "cefr", "C1")
    load_series(folder)
    set_cell(path, row, "cefr", "B2")
    assert_problem(folder, "results.csv", row, "cefr", "C1")


def test_results_file_not_utf8(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    path = folder / "candidates.csv"
    path.write_bytes(path.read_text(encoding="utf-8").replace("Zoë", "Zoë").encode("cp1252",
                                                                                  "replace"))
    assert_problem(folder, "candidates.csv", 2, None, "UTF-8")


def test_missing_file(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    (folder / "results.csv").unlink()
    assert_problem(folder, "results.csv", None, None, "missing")


# --- series.toml -----------------------------------------------------------------------------

def spoil_toml(folder: Path, old: str, new: str) -> None:
    path = folder / "series.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "column", "words"), [
    ("centres_release = 2026-08-12T08:00:00+01:00", "centres_release = 2026-08-12T08:00:00",
     "centres_release", "UTC offset"),
    ("candidates_release = 2026-08-13T08:00:00+01:00", 'candidates_release = "13/08/2026 08:00"',
     "candidates_release", "date and time"),
    ("available_until = 2027-06-01", 'available_until = "1 June 2027"', "available_until",
     "date"),
    ("available_until = 2027-06-01", "available_until = 2026-08-01", "available_until", "after"),
    ('board = "OCR"', "", "board", "missing"),
    ("month = 6", "month = 13", "month", "1 to 12"),
    ('code = "2026-06"', 'code = "June 2026"', "code", "letters"),
    ('verify_url = "http://127.0.0.1:8001"', 'verify_url = "127.0.0.1:8001"', "verify_url",
     "http"),
    ('site_url = "http://127.0.0.1:8000"', 'site_url = "https://cdn.example.org/results"',
     "site_url", "no path"),
    ('verify_url = "http://127.0.0.1:8001"', 'verify_url = "https://prüfung.example.org"',
     "verify_url", "xn--"),
    ('verify_url = "http://127.0.0.1:8001"', 'verify_url = "https://user@verify.example.org"',
     "verify_url", "whole host"),
    ("not_a_certificate = true", 'not_a_certificate = "yes"', "tests[1].not_a_certificate",
     "true or false"),
    ('family = "step"', 'family = "maths"', "tests[1].family", "cambridge_english"),
    ("enquiry_working_days = 5", "enquiry_working_days = 5\nenquiry_calendar_days = 14",
     "tests[1].enquiry_calendar_days", "not both"),
    ("S = 93, 1 = 69, 2 = 56", "S = 93, 1 = 69, 2 = 70", "tests[1].papers[1].boundaries",
     "higher"),
    ("S = 88, 1 = 65, 2 = 52, 3 = 40, U = 0", "S = 88, 1 = 65, 2 = 52, 3 = 40",
     "tests[1].papers[2].boundaries", "exactly"),
    ('max_mark = 120\n  # The', 'max_mark = "120"\n  # The', "tests[1].papers[1].max_mark",
     "highest mark"),
])
def test_bad_series_toml(tmp_path: Path, old: str, new: str, column: str, words: str) -> None:
    folder = copy(tmp_path)
    spoil_toml(folder, old, new)
    key, parts = column.rsplit(".", 1)[-1], [p for p in new.splitlines() if p.strip()]
    lines = (folder / "series.toml").read_text(encoding="utf-8").splitlines()
    row = next((i for i, line in enumerate(lines, start=1)  # the line the bad key is on
                if line.strip().startswith(key) and any(p in line for p in parts)), None)
    assert_problem(folder, "series.toml", row, column, words)


def test_unknown_cambridge_exam(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    spoil_toml(folder, 'code = "CAE"', 'code = "IELTS"')
    row = (folder / "series.toml").read_text().splitlines().index('code = "IELTS"') + 1
    assert_problem(folder, "series.toml", row, "tests[3].code", "KET, PET, FCE, CAE, CPE")


def test_series_toml_that_is_not_toml(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    spoil_toml(folder, "month = 6", "month = ")
    row = (folder / "series.toml").read_text().splitlines().index("month = ") + 1
    assert_problem(folder, "series.toml", row, None, "TOML")


# --- all at once, and nothing secret ---------------------------------------------------------

def test_every_problem_is_reported_in_one_error(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    spoil_toml(folder, "month = 6", "month = 0")
    set_cell(folder / "centres.csv", 2, "email", "nobody")
    set_cell(folder / "candidates.csv", 3, "secret_number", "12")
    set_cell(folder / "candidates.csv", 4, "email", "x@")
    set_cell(folder / "results.csv", 2, "mark", "130")
    set_cell(folder / "results.csv", 5, "test", "STEP9")
    places = {(p.file, p.row, p.column) for p in problems_of(folder)}
    assert places >= {("series.toml", 9, "month"), ("centres.csv", 2, "email"),
                      ("candidates.csv", 3, "secret_number"), ("candidates.csv", 4, "email"),
                      ("results.csv", 2, "mark"), ("results.csv", 5, "test")}


def test_errors_never_show_secret_numbers_or_candidate_ids(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    path = folder / "candidates.csv"
    rows = read(path)
    secrets = [r[rows[0].index("secret_number")] for r in rows[1:]]
    ids = [r[0] for r in rows[1:]]
    for row in range(2, len(rows) + 1):  # spoil every row in every column but the secret
        for column in ("centre_number", "candidate_number", "email"):
            set_cell(path, row, column, "?")
    set_cell(path, 2, "secret_number", "4821x9")
    set_cell(path, 3, "secret_number", "90714052173306")
    set_cell(folder / "results.csv", 2, "mark", "999")
    edit(folder / "results.csv", lambda r: r.append([ids[0] + "7", "STEP", "9470", "50", "", ""]))
    text = str(problems_of(folder)) + str(InputError(list(problems_of(folder))))
    assert len(problems_of(folder)) > 3 * len(ids)
    for value in [*secrets[2:], "4821x9", "90714052173306", *ids, ids[0] + "7"]:
        assert value not in text


def test_a_bad_skill_row_is_not_also_reported_missing(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    path = folder / "results.csv"
    row = row_of(path, test="CAE", component="W")
    set_cell(path, row, "mark", "high")
    found = problems_of(folder)
    assert [(p.file, p.row, p.column) for p in found] == [("results.csv", row, "mark")]


def test_cambridge_test_name_defaults_to_the_exam_name(tmp_path: Path) -> None:
    folder = copy(tmp_path, "cambridge-2026-06")
    spoil_toml(folder, 'name = "A2 Key"\n', "")
    assert load_series(folder).tests[0].name == "A2 Key"
