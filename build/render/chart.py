"""The Cambridge English Scale chart of a statement: inline SVG on the web, vector shapes in PDFs.

Each skill's score and the overall score as a bar on the scale (80-230), over the
CEFR levels' bands, with the range this test reports marked under it, as the
board's printed statements show it. The numbers are in the results table too; the
chart's ``<title>`` says them in words (the PDF's alternative text, the page's
accessible name).

One layout (``chart_layout``, in chart units, y down) is drawn two ways. The web
page gets it as inline SVG. In the PDF, WeasyPrint's SVG renderer cost about 30 ms a
chart (mostly its ``<text>``) and the labels as positioned HTML text about 20 ms, so
the batch renderer paints it straight into the figure's (empty) inline SVG slot:
rectangles, and the labels as glyph outlines (outlines.py), in well under a
millisecond. The slot is a tagged Figure whose alternative text is the description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pydyf
from markupsafe import Markup, escape

from results_online.build.grading.rules import EXAMS, SCALE_LEVELS, SCALE_TOP
from results_online.build.render.outlines import outlines
from results_online.build.render.weasy import append_operators, draw_form
from results_online.model import Entry, Family, Status

# Presentation attributes, not CSS classes: WeasyPrint styles inline SVG from its attributes.
FONT = 'font-family="Noto Sans, DejaVu Sans, sans-serif"'
BAR = "#1b3a6b"
WIDTH, LEFT, RIGHT, TOP, ROW = 480, 96, 466, 20, 17
_SHADE = ("#eef1f6", "#ffffff")


@dataclass(frozen=True)
class Shape:
    """A filled rectangle, or (stroke) an open bracket along its bottom edge."""

    x: float
    y: float
    w: float
    h: float
    color: str
    stroke: bool = False
    own: bool = False  # the candidate's (a bar), not the test's frame


@dataclass(frozen=True)
class Label:
    """A line of text; y is its baseline, anchor start, middle or end."""

    x: float
    y: float
    text: str
    size: float
    anchor: str = "start"
    bold: bool = False
    color: str = "#111111"
    own: bool = False  # the candidate's (a score), not the test's frame


@dataclass(frozen=True)
class ChartLayout:
    """What the chart draws, in chart units (WIDTH across), and what it says."""

    height: float
    shapes: tuple[Shape, ...]
    labels: tuple[Label, ...]
    description: str


def chart_layout(entry: Entry) -> ChartLayout | None:
    """The entry's scale chart, or None (not Cambridge English, or no score to show)."""
    exam = EXAMS.get(entry.test.code)
    if entry.test.family is not Family.CAMBRIDGE_ENGLISH or exam is None:
        return None
    rows = [(r.component.title, r.mark) for r in entry.components
            if r.status is Status.OK and r.mark is not None]
    o = entry.overall
    overall_row = -1
    if o is not None and o.status is Status.OK and o.score is not None:
        overall_row = len(rows)
        rows.append(("Overall score", o.score))
    if not rows:
        return None
    low, bottom = SCALE_LEVELS[-1][0], TOP + ROW * len(rows) + 3

    def x(score: float) -> float:
        return LEFT + (RIGHT - LEFT) * (score - low) / (SCALE_TOP - low)

    shapes: list[Shape] = []
    labels: list[Label] = []
    tops = [SCALE_TOP] + [start for start, _ in SCALE_LEVELS[:-1]]
    for i, ((start, level), stop) in enumerate(zip(SCALE_LEVELS, tops, strict=True)):
        x0, x1 = x(start), x(stop)
        shapes.append(Shape(x0, TOP - 4, x1 - x0, bottom - TOP + 4, _SHADE[i % 2]))
        labels += [Label((x0 + x1) / 2, TOP - 7, level, 10, "middle", color="#333333"),
                   Label(x0, bottom + 12, str(start), 9, "middle", color="#555555")]
    labels.append(Label(x(SCALE_TOP), bottom + 12, str(SCALE_TOP), 9, "middle", color="#555555"))
    for i, (title, score) in enumerate(rows):
        row, bold = TOP + ROW * i, i == overall_row
        end = x(max(low, min(score, SCALE_TOP)))
        shapes.append(Shape(LEFT, row + 2, end - LEFT, 12, "#111111" if bold else BAR, own=True))
        labels += [Label(LEFT - 5, row + 11.5, title, 11, "end", bold),
                   Label(end + 3, row + 11.5, str(score), 10.5, bold=bold, own=True)]
    bracket = bottom + 21
    shapes.append(Shape(x(exam.low), bracket - 4, x(exam.high) - x(exam.low), 4, "#111111",
                        True))
    labels.append(Label((x(exam.low) + x(exam.high)) / 2, bracket + 11,
                        f"{exam.name} reports {exam.low}\u2013{exam.high}", 10, "middle"))
    said = ", ".join(f"{title} {score}" for title, score in rows)
    return ChartLayout(bottom + 38, tuple(shapes), tuple(labels),
                       f"{entry.test.name} results on the Cambridge English Scale: {said}. "
                       f"This test reports scores from {exam.low} to {exam.high}.")


def chart_svg(chart: ChartLayout, *, slot: str | None = None, text: bool = True,
              shapes: bool = True) -> Markup:
    """The chart as one inline SVG element: whole for the web page and the viewer fragment.

    For print: ``slot`` is its element id, and the batch renderer paints shapes and
    labels into it (``paint_chart``); the one-document-per-statement print path gets
    the shapes only.
    """
    label = escape(chart.description)
    # In print the PDF's Figure takes its alternative text from <title>; an attribute
    # saying the candidate's scores would give each page markup of its own
    # (weasy_styles.py shares the styles of pages with the same markup).
    named = f' id="{escape(slot)}"' if slot else f' aria-label="{label}"'
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="scale-chart"{named} viewBox="0 0 '
             f'{WIDTH} {chart.height:g}" width="{WIDTH}" height="{chart.height:g}" role="img">'
             f'<title>{label}</title>']
    for s in chart.shapes if shapes else ():
        if s.stroke:
            parts.append(f'<path d="M{s.x:.1f} {s.y:.1f}v{s.h:g}h{s.w:.1f}v{-s.h:g}" '
                         f'fill="none" stroke="{s.color}" stroke-width="1"/>')
        else:
            parts.append(f'<rect x="{s.x:.1f}" y="{s.y:.1f}" width="{s.w:.1f}" '
                         f'height="{s.h:g}" fill="{s.color}"/>')
    for t in chart.labels if text else ():
        weight = ' font-weight="bold"' if t.bold else ""
        parts.append(f'<text x="{t.x:.1f}" y="{t.y:g}" {FONT} font-size="{t.size:g}"{weight} '
                     f'fill="{t.color}" text-anchor="{t.anchor}">{escape(t.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text value above is escaped


def print_markup(chart: ChartLayout, slot: str, *, painted: bool) -> Markup:
    """The print statement's chart: its SVG slot, with the shapes (no labels) unless painted."""
    return chart_svg(chart, slot=slot, text=False, shapes=not painted)


def paint_chart(chart: ChartLayout) -> Any:
    """A slot painter (render/weasy.py): the chart's shapes and labels as PDF paths."""
    # The frame (bands, levels, scale, skill titles, the test's range) is the same on
    # every page of a test: drawn as a form XObject made and deflated once a process,
    # where its glyph outlines were most of a chart page's content stream.
    frame = (tuple(s for s in chart.shapes if not s.own),
             tuple(t for t in chart.labels if not t.own), chart.height)

    def paint(stream: Any, x: float, y: float, width: float, height: float) -> None:
        unit = width / WIDTH
        stream.transform(a=unit, d=unit, e=x, f=y)
        # Nothing of the candidate's overlaps the frame, so drawing the frame first
        # leaves every pixel as it was; bands stay under the bars.
        draw_form(stream, _frame_operators(*frame), (-WIDTH, -chart.height,
                                                     2 * WIDTH, 2 * chart.height))
        _paint(stream, [s for s in chart.shapes if s.own], [t for t in chart.labels if t.own])
    return paint


@lru_cache(maxsize=64)
def _frame_operators(shapes: tuple[Shape, ...], labels: tuple[Label, ...],
                     height: float) -> bytes:
    """The frame's operators, as they would stand in the page (height: part of the key)."""
    recorder = pydyf.Stream()
    _paint(recorder, shapes, labels)
    return b"\n".join(recorder.stream)


def _paint(stream: Any, shapes: Sequence[Shape], labels: Sequence[Label]) -> None:
    for colour, group in _by_colour(shapes):
        stream.set_color_rgb(*_rgb(colour), stroke=group[0].stroke)
        for s in group:
            if s.stroke:
                stream.move_to(s.x, s.y)
                stream.line_to(s.x, s.y + s.h)
                stream.line_to(s.x + s.w, s.y + s.h)
                stream.line_to(s.x + s.w, s.y)
            else:
                stream.rectangle(s.x, s.y, s.w, s.h)
        if group[0].stroke:
            stream.set_line_width(1)
            stream.stroke()
        else:
            stream.fill()
    for t in labels:
        stream.set_color_rgb(*_rgb(t.color))
        append_operators(stream, outlines(t.bold).draw(t.text, t.size, t.x, t.y, t.anchor))


def _by_colour(shapes: Sequence[Shape]) -> list[tuple[str, list[Shape]]]:
    """Shapes grouped by colour and kind, in first-drawn order (bands before bars)."""
    groups: dict[tuple[str, bool], list[Shape]] = {}
    for s in shapes:
        groups.setdefault((s.color, s.stroke), []).append(s)
    return [(colour, group) for (colour, _), group in groups.items()]


def _rgb(colour: str) -> tuple[float, float, float]:
    return (int(colour[1:3], 16) / 255, int(colour[3:5], 16) / 255, int(colour[5:7], 16) / 255)
