"""The Explanation of Results: what each test's results mean, with the series' grade distribution.

The distribution counts every entry of the series (all centres), so a centre
can see how its candidates did against everyone who sat the test. It is
rendered once per series and the same PDF goes into every centre's bundle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from weasyprint import HTML

from results_online.build.grading.enquiry import APPEAL_RULE, enquiry_rule
from results_online.build.grading.rules import EXAMS
from results_online.build.render.chart import BAR, FONT
from results_online.build.render.weasy import archival_pdf, metadata
from results_online.model import ComponentResult, Entry, Family, Series, Status, Test
from results_online.web import environment, read_asset

NO_GRADE = "No certificate"  # an overall result below every certificate band
_GRID = 'stroke="#cccccc" stroke-width="0.8"'
_TICK = f'{FONT} font-size="9" fill="#555555" text-anchor="end"'
_VALUE = f'{FONT} font-size="11" fill="#111111" text-anchor="middle"'
_LABEL = f'{FONT} font-size="12" font-weight="bold" fill="#111111" text-anchor="middle"'
_CE_ORDER = ("A", "B", "C")
# OCR's STEP grade descriptors.
STEP_GRADE_WORDS = {"S": "Outstanding", "1": "Very good", "2": "Good", "3": "Satisfactory",
                    "U": "Unclassified"}


@dataclass(frozen=True)
class GradeCount:
    """How many graded entries got one grade, as a share and cumulatively (this grade or better)."""

    grade: str
    count: int
    percent: float
    cumulative: float


@dataclass(frozen=True)
class Distribution:
    """The grade distribution of one STEP paper or one Cambridge English test overall."""

    test: Test
    subject: str  # "9470 STEP Mathematics II" or "B2 First overall"
    grades: tuple[GradeCount, ...]
    graded: int  # entries with a result
    without_result: int  # absent, pending or withheld: not in the percentages


def grade_distributions(series: Series) -> tuple[Distribution, ...]:
    """Every test's grade distribution over all centres: per paper for STEP, overall otherwise."""
    out: list[Distribution] = []
    for test in series.tests:
        entries = [e for e in series.entries if e.test.code == test.code]
        if test.family is Family.STEP:
            for comp in test.components:
                # A STEP candidate may sit one paper only: count the entries of this paper.
                sat = [r for e in entries for r in e.components
                       if r.component.code == comp.code]
                out.append(_distribution(test, f"{comp.code} {comp.title}",
                                         [g for g, _ in comp.boundaries],
                                         [_paper_grade(r) for r in sat]))
        else:
            exam = EXAMS.get(test.code)
            order = ([b.grade or NO_GRADE for b in exam.bands] if exam is not None
                     else list(_CE_ORDER))
            out.append(_distribution(test, f"{test.name} overall", order,
                                     [_overall_grade(e) for e in entries]))
    return tuple(out)


def _paper_grade(r: ComponentResult) -> str | None:
    return r.grade if r.status is Status.OK and r.grade is not None else None


def _overall_grade(entry: Entry) -> str | None:
    o = entry.overall
    if o is None or o.status is not Status.OK:
        return None
    return o.grade or NO_GRADE


def _distribution(test: Test, subject: str, order: Sequence[str],
                  grades: Sequence[str | None]) -> Distribution:
    counts = Counter(g for g in grades if g is not None)
    # Grades the order does not name ("Level B1", "No grade") follow it, best CEFR first.
    extra = sorted((g for g in counts if g not in order),
                   key=lambda g: (g == NO_GRADE, [-ord(ch) for ch in g]))
    graded = sum(counts.values())
    rows: list[GradeCount] = []
    running = 0
    for g in [*order, *extra]:
        running += counts[g]
        rows.append(GradeCount(g, counts[g], _percent(counts[g], graded),
                               _percent(running, graded)))
    return Distribution(test, subject, tuple(rows), graded, len(grades) - graded)


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def bar_chart_svg(d: Distribution, *, width: int = 480, height: int = 170) -> Markup:
    """A vertical bar chart of a distribution's percentages as inline SVG, labelled for print."""
    n = max(len(d.grades), 1)
    left, bottom, top = 36, 34, 18
    plot_h = height - bottom - top
    slot = (width - left - 8) / n
    bar = min(slot * 0.6, 60)
    peak = max([g.percent for g in d.grades] + [1.0])
    scale = 100.0 if peak > 50 else 50.0 if peak > 25 else 25.0
    label = f"{escape(d.subject)}: percentage of candidates at each grade"
    # The title is the chart's alternative text in the tagged PDF, aria-label on the web.
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} '
             f'{height}" width="{width}" height="{height}" role="img" aria-label="{label}">'
             f"<title>{label}</title>"]
    for tick in (0.0, scale / 2, scale):
        y = top + plot_h * (1 - tick / scale)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" '
                     f'{_GRID}/><text x="{left - 4}" y="{y + 3:.1f}" {_TICK}>'
                     f'{tick:g}%</text>')
    for i, g in enumerate(d.grades):
        x = left + slot * i + (slot - bar) / 2
        h = plot_h * g.percent / scale
        y = top + plot_h - h
        cx = x + bar / 2
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                     f'fill="{BAR}"/><text x="{cx:.1f}" y="{y - 4:.1f}" {_VALUE}>'
                     f'{g.percent:g}%</text><text x="{cx:.1f}" y="{height - bottom + 16}" '
                     f'{_LABEL}>{escape(g.grade)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every data value above is escaped


@dataclass(frozen=True)
class ScoreRange:
    """A Cambridge English overall score range and what it earns."""

    low: int
    high: int
    grade: str  # "Grade A", "Level B1 certificate", "No certificate"
    cefr: str  # "C1", or "" when none is reported


def score_ranges(test: Test) -> tuple[ScoreRange, ...]:
    """The published overall score ranges of a Cambridge English test, best first (or none)."""
    exam = EXAMS.get(test.code)
    if test.family is not Family.CAMBRIDGE_ENGLISH or exam is None:
        return ()
    out: list[ScoreRange] = []
    high = exam.high
    for band in exam.bands:
        if band.grade is None:
            grade = "No certificate"
        elif band.grade.startswith("Level"):
            grade = f"{band.grade} certificate"
        else:
            grade = f"Grade {band.grade}"
        out.append(ScoreRange(band.low, high, grade, band.cefr or ""))
        high = band.low - 1
    return tuple(out)


def explanation_context(series: Series, *, distributions: bool) -> dict[str, object]:
    """What ``_explanation_body.html`` needs; the grade distributions only if asked."""
    dists = grade_distributions(series) if distributions else ()
    tests = [{
        "test": t,
        "rule": enquiry_rule(t).describe(),
        "ranges": score_ranges(t),
        "doubled": [c.title for c in t.components if c.weight > 1],
        "distributions": [(d, bar_chart_svg(d)) for d in dists if d.test.code == t.code],
    } for t in series.tests]
    return {"info": series.info, "tests": tests, "step_words": STEP_GRADE_WORDS,
            "appeal_rule": APPEAL_RULE}


def explanation_html(series: Series, *, now: datetime) -> str:
    """The Explanation of Results as print HTML (CSS inline), for WeasyPrint."""
    return environment().get_template("explanation.html").render(
        explanation_context(series, distributions=True),
        entries=len(series.entries), prepared=now.date(),
        css=Markup(read_asset("explanation.css")))  # noqa: S704 - our own stylesheet


def explanation_pdf(series: Series, *, now: datetime) -> bytes:
    """The Explanation of Results PDF for the whole series (the same for every centre)."""
    document = HTML(string=explanation_html(series, now=now)).render()
    pdf = archival_pdf(document, metadata(
        title=f"Explanation of Results: {series.info.name}", author=series.info.board,
        lang="en", created=now))
    if not isinstance(pdf, bytes):
        raise TypeError("WeasyPrint returned no PDF bytes")
    return pdf
