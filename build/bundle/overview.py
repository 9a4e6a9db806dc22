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
    bank_holidays,
    enquiry_deadline,
    enquiry_rule,
)
from results_online.dates import board_day, board_time
from results_online.model import Centre, Series, Statement, Test
from results_online.names import safe_name
from results_online.web import environment, offline_page_csp, read_asset
from results_online.wording import component_result, overall_grade


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


@dataclass(frozen=True)
class CandidateRow:
    """One statement in the candidate list and its result view."""

    anchor: str  # "c-0001-STEP"
    statement: Statement
    pdf: str  # "statements/0001-STEP.pdf"
    results: tuple[tuple[str, str, str], ...]  # (code, title, result as printed)
    overall: str  # "" for STEP


def release_date(series: Series) -> date:
    """The day centres receive results, in the board's time zone."""
    return board_day(series.info.centres_release, series.info.zone)


def available_rows(series: Series, statements: Sequence[Statement], *,
                   now: datetime) -> list[AvailableRow]:
    """Per test the centre has results in: dates, counts and the enquiry deadline."""
    released = release_date(series)
    until = series.info.available_until
    closed = bank_holidays(range(released.year, until.year + 2))
    start = max(released, board_day(now, series.info.zone))
    rows = []
    for test in series.tests:
        people = {s.entry.candidate.candidate_id for s in statements
                  if s.entry.test.code == test.code}
        if not people:
            continue
        rule = enquiry_rule(test)
        rows.append(AvailableRow(test, released, until, max((until - start).days, 0), len(people),
                            rule.describe(), enquiry_deadline(rule, released, closed)))
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
    released = release_date(series)
    closed = bank_holidays(range(released.year, series.info.available_until.year + 2))
    css, js = read_asset("overview.css"), read_asset("overview.js")
    csp = offline_page_csp(js, css)
    pdfs = {s.statement_id: statement_pdf_name(s) for s in statements}
    return environment().get_template("overview.html").render(
        info=series.info, centre=centre, tests=available_rows(series, statements, now=now),
        candidates=candidate_rows(statements, pdfs), appeal_rule=APPEAL_RULE,
        appeal_days=APPEAL_WORKING_DAYS, bank_holidays=" ".join(sorted(map(str, closed))),
        generated=board_time(now, series.info.zone), csp=csp,
        css=Markup(css), js=Markup(js))  # noqa: S704 - our own shipped assets


def statement_pdf_name(s: Statement) -> str:
    """The path of a candidate's PDF inside the zip: statements/<number>-<test>.pdf."""
    return f"statements/{safe_name(s.entry.candidate.number)}-{safe_name(s.entry.test.code)}.pdf"
