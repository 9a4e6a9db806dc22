"""Read one CSV of a series folder as text, the way Excel writes it.

UTF-8 with or without a byte-order mark, ``,`` or ``;`` (or tab) between
fields, quoted fields. Every value stays text, so IDs keep their leading zeros.
Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from results_online.errors import Problem

DELIMITERS = ",;\t"
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass(frozen=True)
class Row:
    """One data row: its spreadsheet row number and its values by column name."""

    number: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


def read_table(path: Path, required: tuple[str, ...], optional: tuple[str, ...],
               problems: list[Problem]) -> list[Row] | None:
    """The rows of a CSV file, or None if it is unusable; every problem goes into ``problems``.

    Unknown columns are reported and their values ignored, so the rows are still checked.
    """
    name = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(name, None, None, "file is missing from the series folder"))
        return None
    except OSError as exc:
        problems.append(Problem(name, None, None, f"cannot be read ({exc.strerror})"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(name, row, None,
                                "is not UTF-8 text: save it as \"CSV UTF-8\" in Excel"))
        return None
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)))
    if not records or not any(cell.strip() for cell in records[0]):
        problems.append(Problem(name, 1, None, "has no header row"))
        return None
    header = [_column_name(h) for h in records[0]]
    if not _check_header(name, header, required, optional, problems):
        return None
    rows = []
    for index, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines, e.g. at the end of an Excel export
        if len(record) != len(header):
            problems.append(Problem(name, index, None,
                                    f"has {len(record)} fields but the header has {len(header)}"))
            continue
        values = {h: v.strip() for h, v in zip(header, record, strict=True)}
        for column, value in values.items():
            if (char := control_character(value)) is not None:
                problems.append(Problem(name, index, column, f"contains the control character "
                                        f"U+{ord(char):04X}: remove it (only tab is allowed)"))
        rows.append(Row(index, values))
    return rows


_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def control_character(text: str) -> str | None:
    """The first C0 or C1 control character (or DEL) in ``text``, tab excepted; or None."""
    found = _CONTROL.search(text)
    return found.group() if found else None


def sniff_delimiter(text: str) -> str:
    """The field delimiter, judged from the header line (``,`` when unsure)."""
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _column_name(heading: str) -> str:
    # "Candidate ID" typed by hand in Excel means candidate_id.
    return "_".join(heading.strip().lower().split())


def _check_header(name: str, header: list[str], required: tuple[str, ...],
                  optional: tuple[str, ...], problems: list[Problem]) -> bool:
    """Report unknown, missing and repeated columns; False if a required one is unusable."""
    ok = True
    known = set(required) | set(optional)
    for column in header:
        if column not in known:
            problems.append(Problem(name, 1, column or "(empty)", "unknown column; the columns "
                                    "are " + ", ".join((*required, *optional))))
    for column in required:
        if column not in header:
            problems.append(Problem(name, 1, column, "required column is missing"))
            ok = False
    for column in {h for h in header if header.count(h) > 1}:
        problems.append(Problem(name, 1, column, "column appears more than once"))
        ok = False
    return ok


def valid_email(text: str) -> bool:
    """Whether ``text`` looks like one plain e-mail address (local@domain.tld)."""
    return bool(_EMAIL.match(text))
