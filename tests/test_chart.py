"""The Cambridge English Scale chart: on the PDF and the web page, described, drawn to scale."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from factories import NOW, cambridge_series, make_keys, step_series

from results_online.build.grading.rules import EXAMS, SCALE_LEVELS, SCALE_TOP
from results_online.build.render.chart import BAR, LEFT, RIGHT, WIDTH, chart_layout
from results_online.build.render.statements import RenderedStatement, render_statements
from results_online.build.verification.seal import seal_series
from results_online.model import Status
from results_online.progress import no_progress

SCALE = 4  # render pages at 4 pixels per point


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[RenderedStatement, ...]:
    keys = make_keys(tmp_path_factory.mktemp("keys"))
    statements = (seal_series(cambridge_series(per_centre=3, n_centres=1), keys)
                  + seal_series(step_series(per_centre=2, n_centres=1), keys))
    return render_statements(statements, tmp_path_factory.mktemp("out"), workers=1,
                             batch_size=10, progress=no_progress, now=NOW)


def english(rendered: tuple[RenderedStatement, ...]) -> list[RenderedStatement]:
    return [r for r in rendered if r.statement.entry.overall is not None
            and any(c.status is Status.OK for c in r.statement.entry.components)]


def figures(path: Path) -> list[tuple[str, list[float]]]:
    """(alternative text, bounding box in points from the bottom left) of each Figure."""
    out = []
    with pikepdf.open(path) as pdf:
        stack = [pdf.Root.StructTreeRoot.K[0]]
        while stack:
            e = stack.pop()
            if e.S == "/Figure":
                out.append((str(e.Alt), [float(v) for v in e.A.BBox]))
            kids = e.get("/K")
            for k in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(k, pikepdf.Dictionary) and "/S" in k:
                    stack.append(k)
    return out


def test_each_cambridge_english_pdf_has_a_described_chart_and_step_none(
        rendered: tuple[RenderedStatement, ...]) -> None:
    for r in rendered:
        e = r.statement.entry
        charts = [alt for alt, _ in figures(r.pdf) if "Cambridge English Scale" in alt]
        if e.test.code == "STEP":
            assert charts == []
            continue
        exam = EXAMS[e.test.code]
        if not any(c.status is Status.OK for c in e.components):
            assert charts == []  # absent from everything: nothing to draw
            continue
        (alt,) = charts
        for c in e.components:
            if c.status is Status.OK:
                assert f"{c.component.title} {c.mark}" in alt
        if e.overall is not None and e.overall.status is Status.OK:
            assert f"Overall score {e.overall.score}" in alt
        assert f"from {exam.low} to {exam.high}" in alt


def test_the_bars_end_at_the_scores(rendered: tuple[RenderedStatement, ...]) -> None:
    r = english(rendered)[0]
    e = r.statement.entry
    layout = chart_layout(e)
    assert layout is not None
    ((_, box),) = [(a, b) for a, b in figures(r.pdf) if "Cambridge English Scale" in a]
    page = pdfium.PdfDocument(r.pdf)[0]
    x1, _, x2, top = box
    y1 = page.get_height() - top  # from the top, as the image's rows count
    unit = (x2 - x1) / WIDTH
    assert unit * layout.height == pytest.approx(box[3] - box[1], rel=0.02)
    image = page.render(scale=SCALE).to_pil().convert("RGB")
    dark = tuple(int(BAR[i:i + 2], 16) for i in (1, 3, 5))
    bars = [s for s in layout.shapes if s.color == BAR]
    scores = [c.mark for c in e.components if c.status is Status.OK]
    assert len(bars) == len(scores)
    for bar, score in zip(bars, scores, strict=True):
        assert score is not None
        end = LEFT + (RIGHT - LEFT) * (score - 80) / (SCALE_TOP - 80)
        y = (y1 + (bar.y + bar.h / 2) * unit) * SCALE
        inside = image.getpixel((int((x1 + (end - 3) * unit) * SCALE), int(y)))
        outside = image.getpixel((int((x1 + (end + 1.5) * unit) * SCALE), int(y)))
        assert max(abs(a - b) for a, b in zip(inside, dark, strict=True)) < 40, score
        assert min(outside) > 150, score  # the band's light shade, not the bar


def test_the_layout_covers_the_scale_the_bands_and_the_test_range() -> None:
    series = cambridge_series(per_centre=1, n_centres=1, with_codes=False)
    e = series.entries[0]
    layout = chart_layout(e)
    assert layout is not None
    bands = sorted((s for s in layout.shapes if s.color not in (BAR, "#111111")),
                   key=lambda s: s.x)
    assert len(bands) == len(SCALE_LEVELS)
    assert bands[0].x == LEFT and bands[-1].x + bands[-1].w == pytest.approx(RIGHT)
    for a, b in itertools.pairwise(bands):
        assert a.x + a.w == pytest.approx(b.x)  # contiguous, no gaps
    levels = {t.text for t in layout.labels}
    assert {level for _, level in SCALE_LEVELS} <= levels
    exam = EXAMS[e.test.code]
    (bracket,) = [s for s in layout.shapes if s.stroke]
    per_point = (RIGHT - LEFT) / (SCALE_TOP - 80)
    assert bracket.x == pytest.approx(LEFT + per_point * (exam.low - 80))
    assert bracket.w == pytest.approx(per_point * (exam.high - exam.low))
    assert f"{exam.name} reports {exam.low}\u2013{exam.high}" in levels


def test_the_web_page_and_fragment_carry_the_chart_as_accessible_svg(
        rendered: tuple[RenderedStatement, ...]) -> None:
    for r in rendered:
        for page in (r.html.read_text(encoding="utf-8"), r.fragment or ""):
            charts = re.findall(r'<svg [^>]*class="scale-chart"[^>]*>.*?</svg>', page, re.S)
            has = r in english(rendered)
            assert len(charts) == (1 if has else 0), r.html
            if has:
                (svg,) = charts
                assert 'role="img"' in svg and "<title>" in svg and "aria-label=" in svg
                assert svg.count("<rect") >= len(SCALE_LEVELS) + 1
                for c in r.statement.entry.components:
                    if c.status is Status.OK:
                        assert f">{c.component.title}</text>" in svg
                assert "<figcaption>" in page
