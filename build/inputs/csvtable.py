"""Read one CSV of a series folder as text, the way Excel writes it.

UTF-8 with or without a byte-order mark, ``,`` or ``;`` (or tab) between
fields, quoted fields. Every value stays text, so IDs keep their leading zeros.
Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

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
    rows = iter_table(path, required, optional, problems)
    return None if rows is None else list(rows)


def iter_table(path: Path, required: tuple[str, ...], optional: tuple[str, ...],
               problems: list[Problem]) -> Iterator[Row] | None:
    """``read_table`` one row at a time: None at once if the file is unusable, else its rows.

    Memory stays that of one row whatever the file's size; a row's problems go into
    ``problems`` as it is read.
    """
    name = path.name
    try:
        bad_row = _undecodable_row(path)
    except FileNotFoundError:
        problems.append(Problem(name, None, None, "file is missing from the series folder"))
        return None
    except OSError as exc:
        problems.append(Problem(name, None, None, f"cannot be read ({exc.strerror})"))
        return None
    if bad_row is not None:
        problems.append(Problem(name, bad_row, None,
                                "is not UTF-8 text: save it as \"CSV UTF-8\" in Excel"))
        return None
    file = path.open(encoding="utf-8-sig", newline="")
    records = csv.reader(file, delimiter=sniff_delimiter(_first_line(file)))
    first = next(records, None)
    if first is None or not any(cell.strip() for cell in first):
        file.close()
        problems.append(Problem(name, 1, None, "has no header row"))
        return None
    header = [_column_name(h) for h in first]
    if not _check_header(name, header, required, optional, problems):
        file.close()
        return None
    return _rows(file, records, name, header, problems)


def _rows(file: TextIO, records: Iterator[list[str]], name: str, header: list[str],
          problems: list[Problem]) -> Iterator[Row]:
    with file:
        for index, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue  # blank lines, e.g. at the end of an Excel export
            if len(record) != len(header):
                problems.append(Problem(name, index, None, f"has {len(record)} fields but "
                                        f"the header has {len(header)}"))
                continue
            values = {h: v.strip() for h, v in zip(header, record, strict=True)}
            for column, value in values.items():
                if (char := control_character(value)) is not None:
                    problems.append(Problem(name, index, column, "contains the control "
                                            f"character U+{ord(char):04X}: remove it (only "
                                            "tab is allowed)"))
            yield Row(index, values)


_CHUNK = 1 << 20


def _undecodable_row(path: Path) -> int | None:
    """The row of the first byte that is not UTF-8, or None if the whole file decodes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                break
        else:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                pass
            else:
                return None
    raw = path.read_bytes()  # only for a file that is not UTF-8: where, exactly
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return raw[: exc.start].count(b"\n") + 1
    return None


def _first_line(file: TextIO) -> str:
    """The text up to the first newline (what the delimiter is judged from); rewinds."""
    parts = []
    while chunk := file.read(_CHUNK):
        parts.append(chunk.split("\n", 1)[0])
        if "\n" in chunk:
            break
    file.seek(0)
    return "".join(parts)


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
    """Whether ``text`` looks like one plain ASCII e-mail address (local@domain.tld).

    ASCII: the outbox writes messages any server takes, not SMTPUTF8 ones.
    """
    return text.isascii() and bool(_EMAIL.match(text))
