"""results.xlsx, read back with openpyxl (XlsxWriter wrote it): IDs are text cells."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pyrage
import pytest
from factories import sealed, step_series
from test_bundle import mixed_series

from results_online.build.bundle.centre import CSV_COLUMNS, results_csv, results_xlsx
from results_online.build.bundle.spreadsheet import sheet_name
from results_online.model import Series, Statement

TEXT_IDS = ("centre_number", "candidate_number", "candidate_id", "statement_id")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Series, tuple[Statement, ...]]:
    key = str(pyrage.x25519.Identity.generate().to_public())
    series = mixed_series({"GB001": (key,), "GB002": (key,)})
    return series, sealed(series, tmp_path_factory.mktemp("xlsx") / "keys")


def read_book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_one_sheet_per_test_with_the_csv_header(made: tuple[Series, tuple[Statement, ...]]
                                                ) -> None:
    series, statements = made
    book = read_book(results_xlsx(series, statements))
    assert book.sheetnames == ["STEP Mathematics", "B2 First"]
    for ws in book.worksheets:
        assert [c.value for c in ws[1]] == list(CSV_COLUMNS)
        assert ws.freeze_panes == "A2"


def test_every_csv_row_is_in_the_workbook_with_identifiers_as_text(
        made: tuple[Series, tuple[Statement, ...]]) -> None:
    series, statements = made
    rows = list(csv.DictReader(io.StringIO(results_csv(series, statements).decode("utf-8-sig"))))
    book = read_book(results_xlsx(series, statements))
    got = []
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        for line in ws.iter_rows(min_row=2):
            cells = dict(zip(header, line, strict=True))
            for name in TEXT_IDS:
                assert cells[name].data_type == "s", (name, cells[name].value)
            assert cells["test_name"].value == ws.title
            got.append(cells)
    assert len(got) == len(rows)
    assert any(c["candidate_number"].value.startswith("0") for c in got)  # "0001" kept
    by_key = {(c["statement_id"].value, c["component_code"].value): c for c in got}
    for row in rows:
        cells = by_key[row["statement_id"], row["component_code"]]
        for name in CSV_COLUMNS:
            value = cells[name].value
            if isinstance(value, datetime):
                assert cells[name].is_date
                value = value.date().isoformat()
            assert ("" if value is None else str(value)) == row[name], name
        for name in ("mark", "scale_score"):
            if row[name]:
                assert cells[name].data_type == "n"


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    series = step_series(per_centre=1, n_centres=1, names=['=HYPERLINK("x")'], with_codes=False)
    book = read_book(results_xlsx(series, sealed(series, tmp_path / "keys")))
    cell = book.worksheets[0]["I2"]
    assert CSV_COLUMNS[8] == "candidate_name"
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x")'


def test_the_workbook_is_deterministic(made: tuple[Series, tuple[Statement, ...]]) -> None:
    series, statements = made
    assert results_xlsx(series, statements) == results_xlsx(series, statements)


def test_sheet_names_follow_excels_rules() -> None:
    taken: set[str] = set()
    assert sheet_name("Maths: Paper [1]/2", taken) == "Maths- Paper -1--2"
    long = "A" * 40
    assert sheet_name(long, taken) == "A" * 31
    assert sheet_name(long, taken) == "A" * 27 + " (2)"
    assert sheet_name("maths- paper -1--2", taken) == "maths- paper -1--2 (2)"
