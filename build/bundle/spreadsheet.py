"""An XLSX workbook of typed columns (XlsxWriter): text stays text, whatever it looks like.

A CSV cannot tell a spreadsheet that ``0042`` is text, so Excel and LibreOffice
drop the zeros when they open it; an XLSX cell carries its type. Every cell is
written with an explicit type (never XlsxWriter's guessing ``write()``), so a
text cell starting with ``=`` stays text and never runs as a formula. The file
is deterministic: the document's creation time is given, and XlsxWriter dates
its zip entries to a fixed day.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

import xlsxwriter

# Excel's sheet name rules: at most 31 characters, none of these.
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31


class Kind(Enum):
    """How a column's cells are stored."""

    TEXT = "text"
    NUMBER = "number"  # an integer, or empty
    DATE = "date"  # an ISO date, or empty


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name, its columns (name, kind) and rows of text values."""

    name: str
    columns: tuple[tuple[str, Kind], ...]
    rows: tuple[tuple[str, ...], ...]


def sheet_name(wanted: str, taken: set[str]) -> str:
    """``wanted`` made a valid sheet name, unique (case-insensitively) among ``taken``."""
    base = _SHEET_BAD.sub("-", wanted).strip("'")[:_SHEET_MAX] or "Sheet"
    name, n = base, 1
    while name.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[:_SHEET_MAX - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def workbook(sheets: Sequence[Sheet], *, created: datetime, title: str) -> bytes:
    """The XLSX file of ``sheets``: a bold frozen header with filters, typed cells."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": title, "created": created.replace(tzinfo=None)})
    header = book.add_format({"bold": True, "bottom": 1})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    taken: set[str] = set()
    for sheet in sheets:
        ws = book.add_worksheet(sheet_name(sheet.name, taken))
        widths = [len(name) for name, _ in sheet.columns]
        for col, (name, _) in enumerate(sheet.columns):
            ws.write_string(0, col, name, header)
        for r, row in enumerate(sheet.rows, start=1):
            for col, ((_, kind), value) in enumerate(zip(sheet.columns, row, strict=True)):
                widths[col] = max(widths[col], len(value))
                if value == "":
                    continue
                if kind is Kind.NUMBER:
                    ws.write_number(r, col, int(value))
                elif kind is Kind.DATE:
                    ws.write_datetime(r, col, datetime.combine(date.fromisoformat(value),
                                                               datetime.min.time()), day)
                else:
                    ws.write_string(r, col, value)
        for col, width in enumerate(widths):
            ws.set_column(col, col, min(width, 40) + 2)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(sheet.rows), 1), len(sheet.columns) - 1)
    book.close()
    return out.getvalue()
