"""Stage: per-centre bundles, a zip of results.csv, the PDFs and an offline overview, in age.

One centre at a time: its zip is built in memory, encrypted to every X25519
recipient the centre listed in centres.csv, and written to
``out_dir/<centre>/<series>.zip.age``. The zip itself is deterministic (fixed
entry order, timestamps from the centres' release time), so the same build
input gives the same plaintext; age adds its own randomness.

The build cannot open a bundle (it has only the centres' public keys), so each
centre's joined statements.pdf is kept beside it, unsealed, in ``private/joined/``:
an amend makes the new one from it, reading only the changed statements
(``rejoin.py``).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyrage
from weasyprint.document import DocumentMetadata

from results_online.build.bundle.explanation import explanation_pdf
from results_online.build.bundle.overview import overview_html, statement_pdf_name
from results_online.build.bundle.pdfjoin import Joined
from results_online.build.bundle.rejoin import Joins, read_kept, rejoin, write_kept
from results_online.build.bundle.spreadsheet import Kind, Sheet, workbook
from results_online.build.render.sealpdf import SEAL_REASON, seal_pdf
from results_online.build.render.statements import RenderedStatement
from results_online.build.render.weasy import metadata
from results_online.dates import board_day, board_time
from results_online.errors import BuildError
from results_online.keys.seal import Seal
from results_online.model import Centre, Series, Statement
from results_online.names import bundle_path
from results_online.wording import component_result, overall_grade

log = logging.getLogger("results_online.build.bundle.centre")
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "centre_number", "centre_name", "series", "series_name", "test_code", "test_name",
    "candidate_number", "candidate_id", "candidate_name", "row_type", "component_code",
    "component_title", "result_status", "mark", "max_mark", "scale_score", "grade",
    "cefr_level", "result", "statement_id", "statement_revision", "issue_date",
    "release_date",
)
# results.xlsx stores these as numbers and dates; every other column is text.
_XLSX_KINDS = {"mark": Kind.NUMBER, "max_mark": Kind.NUMBER, "scale_score": Kind.NUMBER,
               "statement_revision": Kind.NUMBER, "issue_date": Kind.DATE,
               "release_date": Kind.DATE}


@dataclass(frozen=True)
class Bundle:
    """One centre's encrypted bundle and how many candidates it holds."""

    centre: str
    path: Path
    candidates: int


def build_bundles(series: Series, rendered: Sequence[RenderedStatement], out_dir: Path, *,
                  now: datetime, seal: Seal | None = None) -> tuple[Bundle, ...]:
    """Write out_dir/<centre>/<series>.zip.age for every centre with statements."""
    by_centre: dict[str, list[RenderedStatement]] = {}
    for r in rendered:
        by_centre.setdefault(r.statement.centre.number, []).append(r)
    explanation = sealed_explanation(series, now=now, seal=seal) if by_centre else b""
    return tuple(build_bundle(series, series.centre(number), by_centre[number], explanation,
                              out_dir, now=now, seal=seal) for number in sorted(by_centre))


def sealed_explanation(series: Series, *, now: datetime, seal: Seal | None) -> bytes:
    """The explanation of results PDF every bundle carries, sealed when there is a seal."""
    explanation = explanation_pdf(series, now=now)
    return seal_pdf(explanation, seal, SEAL_REASON) if seal is not None else explanation


def build_bundle(series: Series, centre: Centre, rendered: Sequence[RenderedStatement],
                 explanation: bytes, out_dir: Path, *, now: datetime,
                 seal: Seal | None = None, joins: Joins | None = None) -> Bundle:
    """Write one centre's out_dir/<centre>/<series>.zip.age from its rendered statements.

    With ``joins`` its statements.pdf is kept for the next amend, and made from the
    previous build's where that build kept one.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    items = sorted(rendered, key=lambda r: statement_order(r.statement))
    code = series.info.code
    kept = None
    if joins is not None and joins.previous is not None:
        kept = read_kept(joins.previous, centre.number, code)
    data, joined = _zip(series, centre, items, explanation, kept=kept, now=now, seal=seal)
    if joins is not None:
        write_kept(joins.into, centre.number, code, joined)
    path = bundle_file(out_dir, centre.number, code)
    _write_atomic(path, encrypt_to(data, centre))
    people = {r.statement.entry.candidate.candidate_id for r in items}
    log.info("bundle: centre %s, %d statements, %d bytes", centre.number, len(items),
             path.stat().st_size)
    return Bundle(centre.number, path, len(people))


def bundle_file(out_dir: Path, centre: str, series_code: str) -> Path:
    """Where a centre's bundle lies under ``out_dir`` (laid out as the site's c/ folder)."""
    return out_dir / bundle_path(centre, series_code).removeprefix("c/")


def statement_order(s: Statement) -> tuple[int, int, str, str]:
    """Sort key: candidate number (numerically when it is all digits), then test code."""
    number = s.entry.candidate.number
    return (0 if number.isdigit() else 1, int(number) if number.isdigit() else 0, number,
            s.entry.test.code)


def centre_zip(series: Series, centre: Centre, items: Sequence[RenderedStatement],
               explanation: bytes, *, now: datetime, seal: Seal | None = None) -> bytes:
    """The centre's zip: results.csv and .xlsx, the PDFs, the explanation and index.html."""
    return _zip(series, centre, items, explanation, kept=None, now=now, seal=seal)[0]


def statements_meta(series: Series, centre: Centre, now: datetime) -> DocumentMetadata:
    """The title, author, language and date of a centre's statements.pdf."""
    return metadata(
        title=f"Statements of Results: {series.info.name}, centre {centre.number} {centre.name}",
        author=series.info.board, lang="en", created=now)


def _zip(series: Series, centre: Centre, items: Sequence[RenderedStatement],
         explanation: bytes, *, kept: Joined | None, now: datetime,
         seal: Seal | None) -> tuple[bytes, Joined]:
    """``centre_zip``, its statements.pdf made from ``kept`` where it can, and that join."""
    stamp = board_time(series.info.centres_release, series.info.zone).timetuple()[:6]
    pdfs = [r.pdf.read_bytes() for r in items]
    joined = rejoin(kept, pdfs, statements_meta(series, centre, now))
    combined = joined.pdf
    if seal is not None:  # the statements' own seals do not survive the join: seal it anew
        combined = seal_pdf(combined, seal, SEAL_REASON)
    files: list[tuple[str, bytes]] = [
        ("index.html", overview_html(series, centre, [r.statement for r in items],
                                     now=now).encode("utf-8")),
        ("results.csv", results_csv(series, [r.statement for r in items])),
        ("results.xlsx", results_xlsx(series, [r.statement for r in items])),
        ("statements.pdf", combined),
        ("explanation-of-results.pdf", explanation),
    ]
    files += [(statement_pdf_name(r.statement), pdf) for r, pdf in zip(items, pdfs, strict=True)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            # A PDF's streams are compressed already: deflating one again saved 2.5% of
            # its bytes for a seventh of the bundle's CPU.
            info.compress_type = (zipfile.ZIP_STORED if name.endswith(".pdf")
                                  else zipfile.ZIP_DEFLATED)
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buffer.getvalue(), joined


def result_rows(series: Series, statements: Sequence[Statement]) -> Iterator[list[str]]:
    """The rows of results.csv and results.xlsx (CSV_COLUMNS, as text), statement by statement."""
    release = board_day(series.info.centres_release, series.info.zone).isoformat()
    for s in statements:
        e, c = s.entry, s.entry.candidate
        common = [s.centre.number, s.centre.name, s.series.code, s.series.name, e.test.code,
                  e.test.name, c.number, c.candidate_id, c.name]
        tail = [s.statement_id, str(e.revision), s.issue_date.isoformat(), release]
        english = e.overall is not None
        for r in e.components:
            mark = "" if r.mark is None else str(r.mark)
            yield [*common, "component", r.component.code, r.component.title, r.status.value,
                   "" if english else mark, str(r.component.max_mark), mark if english else "",
                   r.grade or "", "", component_result(r), *tail]
        if e.overall is not None:
            o = e.overall
            yield [*common, "overall", "OVERALL", "Overall result", o.status.value, "", "",
                   "" if o.score is None else str(o.score), o.grade or "", o.cefr or "",
                   overall_grade(o), *tail]


def results_csv(series: Series, statements: Sequence[Statement]) -> bytes:
    """The MIS import file: UTF-8 with BOM, one row per paper or skill, plus overall rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_cells(row) for row in result_rows(series, statements))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def results_xlsx(series: Series, statements: Sequence[Statement]) -> bytes:
    """The same rows as results.csv in a workbook, one sheet per test, IDs as text cells."""
    columns = tuple((c, _XLSX_KINDS.get(c, Kind.TEXT)) for c in CSV_COLUMNS)
    test_at = CSV_COLUMNS.index("test_code")
    sheets = []
    for test in series.tests:
        rows = tuple(tuple(r) for r in result_rows(series, statements)
                     if r[test_at] == test.code)
        if rows:
            sheets.append(Sheet(test.name, columns, rows))
    return workbook(sheets, created=board_time(series.info.centres_release, series.info.zone),
                    title=f"{series.info.name} results")


def _cells(row: list[str]) -> list[str]:
    """Neutralise text a spreadsheet would run as a formula (leading apostrophe)."""
    return ["'" + v if v.startswith(_FORMULA_START) else v for v in row]


def encrypt_to(data: bytes, centre: Centre) -> bytes:
    """``data`` encrypted in the age format to every recipient of the centre."""
    if not centre.recipients:
        raise BuildError(f"centre {centre.number} lists no age recipient for its bundle",
                         hint="add the centre's age1… public keys in centres.csv")
    try:
        recipients = [pyrage.x25519.Recipient.from_str(r) for r in centre.recipients]
    except Exception as exc:
        raise BuildError(f"centre {centre.number} has a recipient that is not an age "
                         "X25519 public key", hint="recipients look like age1…") from exc
    encrypted: bytes = pyrage.encrypt(data, recipients)
    return encrypted


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
