"""The offline Results Overview (index.html) inside a centre bundle.

One self-contained file: its CSS and JS are inline and allowed by a CSP meta
tag listing their SHA-256 hashes (nothing else may run or load), so it still
works when a user opens index.html straight from the zip without extracting
the PDFs beside it. Without JS everything is still there: the candidate list
is plain HTML and each candidate's results open through ``#anchor`` + CSS
``:target``; the script adds filter-as-you-type, live "days available", a
passed-deadline notice and an appeal-deadline calculator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup

from results_online.build.grading.enquiry import (
    APPEAL_RULE,
    APPEAL_WORKING_DAYS,
    enquiry_deadline_of,
    enquiry_open,
    enquiry_rule,
    results_release_day,
    series_closed_days,
)
from results_online.dates import board_day, board_time
from results_online.model import Centre, Series, Statement, Status, Test
from results_online.names import safe_name
from results_online.web import environment, offline_page_csp, read_asset
from results_online.wording import component_result, date_words_json, overall_grade


@dataclass(frozen=True)
class AvailableRow:
    """One line of the Available Results table, with its enquiry deadline."""

    test: Test
    released: date
    available_until: date
    days_available: int
    candidates: int
    enquiry_rule: str  # "5 working days"
    enquiry_deadline: date
    enquiry_open: bool  # at the time the overview was made; the page's script rechecks


@dataclass(frozen=True)
class CandidateRow:
    """One statement in the candidate list and its result view."""

    anchor: str  # "c-0001-STEP"
    statement: Statement
    pdf: str  # "statements/0001-STEP.pdf"
    results: tuple[tuple[str, str, str], ...]  # (code, title, result as printed)
    overall: str  # "" for STEP


@dataclass(frozen=True)
class ForthcomingRow:
    """A candidate's test with results still to come (pending)."""

    statement: Statement
    parts: tuple[str, ...]  # titles of the papers or skills pending ("Overall result" too)


def release_date(series: Series) -> date:
    """The day centres receive results, in the board's time zone."""
    return results_release_day(series.info)


def forthcoming_rows(statements: Sequence[Statement]) -> list[ForthcomingRow]:
    """The statements with a result pending: what the centre will still receive."""
    rows = []
    for s in statements:
        e = s.entry
        parts = [r.component.title for r in e.components if r.status is Status.PENDING]
        if e.overall is not None and e.overall.status is Status.PENDING:
            parts.append("Overall result")
        if parts:
            rows.append(ForthcomingRow(s, tuple(parts)))
    return rows


def available_rows(series: Series, statements: Sequence[Statement], *,
                   now: datetime) -> list[AvailableRow]:
    """Per test the centre has results in: dates, counts and the enquiry deadline."""
    released = release_date(series)
    until = series.info.available_until
    closed = series_closed_days(series.info)
    start = max(released, board_day(now, series.info.zone))
    rows = []
    for test in series.tests:
        people = {s.entry.candidate.candidate_id for s in statements
                  if s.entry.test.code == test.code}
        if not people:
            continue
        deadline = enquiry_deadline_of(series.info, test, closed)
        rows.append(AvailableRow(test, released, until, max((until - start).days, 0), len(people),
                                 enquiry_rule(test).describe(), deadline,
                                 enquiry_open(deadline, board_day(now, series.info.zone))))
    return rows


def candidate_rows(statements: Sequence[Statement], pdf_name: dict[str, str]) -> list[CandidateRow]:
    """The candidate list, in the order given, with each statement's results as printed."""
    rows = []
    for s in statements:
        e = s.entry
        results = tuple((r.component.code, r.component.title, component_result(r))
                        for r in e.components)
        overall = ""
        if e.overall is not None:
            o = e.overall
            score = f" (overall score {o.score})" if o.score is not None else ""
            cefr = f", CEFR level {o.cefr}" if o.cefr else ""
            overall = f"{overall_grade(o)}{cefr}{score}"
        rows.append(CandidateRow(f"c-{e.candidate.number}-{e.test.code}", s,
                                 pdf_name[s.statement_id], results, overall))
    return rows


def overview_html(series: Series, centre: Centre, statements: Sequence[Statement], *,
                  now: datetime) -> str:
    """The centre's Results Overview page for these statements (already in list order)."""
    closed = series_closed_days(series.info)
    # The text size control shares its one (classic) script with the site, inlined like the
    # rest; the overview's module is inlined with the call that starts it.
    css, textsize = read_asset("overview.css"), read_asset("textsize.js")
    js = read_asset("overview.js") + "\nstartOverview(document.body);\n"
    csp = offline_page_csp((textsize, js), css)
    shipped = {k: Markup(v) for k, v in  # noqa: S704 - our own shipped assets
               {"css": css, "textsize": textsize, "js": js}.items()}
    pdfs = {s.statement_id: statement_pdf_name(s) for s in statements}
    return environment().get_template("overview.html").render(
        info=series.info, centre=centre, tests=available_rows(series, statements, now=now),
        candidates=candidate_rows(statements, pdfs), appeal_rule=APPEAL_RULE,
        forthcoming=forthcoming_rows(statements),
        appeal_days=APPEAL_WORKING_DAYS, bank_holidays=" ".join(sorted(map(str, closed))),
        generated=board_time(now, series.info.zone), csp=csp,
        wording=date_words_json(), **shipped)


def statement_pdf_name(s: Statement) -> str:
    """The path of a candidate's PDF inside the zip: statements/<number>-<test>.pdf."""
    return f"statements/{safe_name(s.entry.candidate.number)}-{safe_name(s.entry.test.code)}.pdf"
