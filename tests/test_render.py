"""The render stage: one-page A4 PDFs with every name in real glyphs, web pages, fragments."""

from __future__ import annotations

import base64
import gc
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from xml.etree.ElementTree import Element, fromstring

import cssselect2
import pikepdf
import pydyf
import pypdf
import pypdfium2 as pdfium
import pytest
import tinyhtml5
from factories import NAMES, NOW, cambridge_series, make_keys, step_series
from fontTools.ttLib.tables import _h_e_a_d
from pdfcheck import drawn_glyphs, embedded_font_names, pdf_text, shows_name
from PIL import Image, ImageChops
from weasyprint import HTML, css
from weasyprint.formatting_structure import boxes

from results_online.build.render import (
    chart,
    weasy,
    weasy_document,
    weasy_layout,
    weasy_speed,
    weasy_styles,
)
from results_online.build.render import statements as statements_module
from results_online.build.render.statements import (
    RenderedStatement,
    make_batches,
    render_statements,
    renderer,
)
from results_online.build.verification.seal import seal_series
from results_online.errors import BuildError
from results_online.model import Statement, Status
from results_online.progress import Advance, no_progress

A4 = (595.28, 841.89)  # points


@pytest.fixture(scope="module")
def statements(tmp_path_factory: pytest.TempPathFactory) -> tuple[Statement, ...]:
    keys = make_keys(tmp_path_factory.mktemp("keys"))
    half = len(NAMES) // 2
    step = step_series(per_centre=4, n_centres=2, names=NAMES[:half])
    fce = cambridge_series(per_centre=4, n_centres=2, names=NAMES[half:])
    return seal_series(step, keys) + seal_series(fce, keys)


@pytest.fixture(scope="module")
def rendered(statements: tuple[Statement, ...],
             tmp_path_factory: pytest.TempPathFactory) -> tuple[RenderedStatement, ...]:
    out = tmp_path_factory.mktemp("out")
    return render_statements(statements, out, workers=2, batch_size=3, progress=no_progress,
                             now=NOW)


def test_every_statement_has_its_files_where_documented(
        rendered: tuple[RenderedStatement, ...], statements: tuple[Statement, ...]) -> None:
    assert [r.statement for r in rendered] == list(statements)
    for r in rendered:
        s = r.statement
        stem = f"{s.entry.candidate.number}-{s.entry.test.code}"
        assert r.pdf.name == f"{stem}.pdf" and r.pdf.parent.name == s.centre.number
        assert r.html == r.pdf.with_suffix(".html")
        assert r.fragment is not None and "<script" not in r.fragment
        assert r.pdf.read_bytes().startswith(b"%PDF-")
    # The fragment goes only into the ciphertext: each statement leaves two files.
    folders = {r.pdf.parent for r in rendered}
    assert sorted(p.name for f in folders for p in f.iterdir()) == sorted(
        n for r in rendered for n in (r.pdf.name, r.html.name))


def test_each_pdf_is_one_a4_page(rendered: tuple[RenderedStatement, ...]) -> None:
    for r in rendered:
        reader = pypdf.PdfReader(r.pdf)
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)


def test_pdf_text_has_the_name_and_every_result(rendered: tuple[RenderedStatement, ...]) -> None:
    for r in rendered:
        assert shows_name(pdf_text(r.pdf), r.statement.entry.candidate.name)
        text = pdf_text(r.pdf, layout=True)
        e = r.statement.entry
        for needle in (e.candidate.number, r.statement.centre.number, r.statement.display_id,
                       e.test.name, r.statement.series.name, "Statement of Results",
                       r.statement.series.verify_url):
            assert needle in text
        for c in e.components:
            if c.status is not Status.OK:
                assert _code_words(c.status) in text
            elif c.grade is not None:
                assert f"{c.component.code} {c.component.title} {c.grade} ({c.mark} marks)" in text
            else:
                assert f"{c.component.title} {c.mark}" in text
        o = e.overall
        if o is not None and o.status is Status.OK:
            assert f"Overall score {o.score}" in text
            assert (f"CEFR level {o.cefr}" if o.cefr else "CEFR level Not reported") in text
            grade = o.grade if o.grade and o.grade.startswith("Level") else f"Grade {o.grade}"
            assert (grade if o.grade else "No grade") in text
        elif o is not None:
            assert _code_words(o.status) in text
        assert ("This is not a certificate" in text) == e.test.not_a_certificate


def test_result_codes_appear_in_words(rendered: tuple[RenderedStatement, ...]) -> None:
    seen = {c.status for r in rendered for c in r.statement.entry.components}
    assert {Status.ABSENT, Status.PENDING, Status.WITHHELD} <= seen
    for r in rendered:
        text = pdf_text(r.pdf, layout=True)
        for c in r.statement.entry.components:
            if c.status is not Status.OK:
                assert f"{c.component.title} {_code_words(c.status)}" in text.replace(
                    f"{c.component.code} ", "")


def test_every_name_is_drawn_with_real_glyphs(rendered: tuple[RenderedStatement, ...]) -> None:
    names = {r.statement.entry.candidate.name for r in rendered}
    assert names == set(NAMES)  # every script of the factory names is exercised
    for r in rendered:
        glyphs = drawn_glyphs(r.pdf)
        bad = [g for g in glyphs if not g.real]
        assert glyphs and not bad, f"missing glyphs (tofu) for {bad}"
        drawn = "".join(g.text for g in glyphs)
        name = unicodedata.normalize("NFC", r.statement.entry.candidate.name)
        missing = {c for c in name if not c.isspace() and c not in drawn}
        assert not missing, f"{name!r}: no glyph drawn for {missing}"
        fonts = embedded_font_names(r.pdf)
        assert len(fonts) == len({g.font for g in glyphs})  # every font used is embedded


def test_the_glyph_check_catches_a_character_no_font_has(
        statements: tuple[Statement, ...], tmp_path: Path) -> None:
    s = _with_name(statements[0], "Ada \U000F0001 Lovelace")  # private use: no font has it
    (r,) = render_statements([s], tmp_path, workers=1, batch_size=5, progress=no_progress, now=NOW)
    assert [g.text for g in drawn_glyphs(r.pdf) if not g.real] == ["\U000F0001"]


def test_right_to_left_names_run_right_to_left(rendered: tuple[RenderedStatement, ...]) -> None:
    rtl = [r for r in rendered if unicodedata.bidirectional(r.statement.entry.candidate.name[0])
           in ("R", "AL")]
    assert rtl
    for r in rtl:
        first, *_, last = r.statement.entry.candidate.name.split()
        textpage = pdfium.PdfDocument(r.pdf)[0].get_textpage()
        assert _left_edge(textpage, first) > _left_edge(textpage, last)


def test_batch_pages_match_the_naive_one_document_per_statement(
        rendered: tuple[RenderedStatement, ...], tmp_path: Path) -> None:
    for r in rendered[::4]:
        naive = tmp_path / "naive.pdf"
        HTML(string=renderer().print_html([r.statement], embed_css=True)).write_pdf(naive)
        assert pdf_text(naive) == _text(r.pdf)
        assert len(pypdf.PdfReader(naive).pages) == 1


def test_fragment_is_the_body_only_without_scripts_or_inline_styles(
        rendered: tuple[RenderedStatement, ...]) -> None:
    for r in rendered:
        assert r.fragment is not None
        tags = _tags(r.fragment)
        names = {t for t, _ in tags}
        assert names.isdisjoint({"html", "head", "body", "script", "style", "link", "meta"})
        assert all(k != "style" and not k.startswith("on") for _, attrs in tags for k in attrs)
        assert "article" in names and "svg" in names


def test_web_page_is_accessible_and_its_csp_allows_only_its_own_style(
        rendered: tuple[RenderedStatement, ...]) -> None:
    for r in rendered[:3]:
        page = r.html.read_text(encoding="utf-8")
        assert '<html lang="en">' in page and "<script" not in page
        assert '<bdi dir="auto">' in page and 'scope="col"' in page
        assert f'<a href="{r.pdf.name}" download>' in page
        style = re.search(r"<style>(.*?)</style>", page, re.S)
        assert style is not None
        digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
        csp = re.search(r'Content-Security-Policy" content="([^"]*)"', page)
        assert csp is not None
        policy = html.unescape(csp.group(1))
        assert f"style-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy


def test_names_are_escaped_not_markup(statements: tuple[Statement, ...], tmp_path: Path) -> None:
    s = _with_name(statements[0], "<b>Robert</b> & 'Tables'")
    (r,) = render_statements([s], tmp_path, workers=1, batch_size=5, progress=no_progress, now=NOW)
    assert r.fragment is not None and "&lt;b&gt;Robert&lt;/b&gt; &amp;" in r.fragment
    assert "<b>Robert</b> & 'Tables'" in pdf_text(r.pdf)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_statement_that_spills_onto_a_second_page_is_a_build_error(
        statements: tuple[Statement, ...], tmp_path: Path, workers: int) -> None:
    long = _with_name(statements[1], " ".join(["Bartholomew"] * 900))
    with pytest.raises(BuildError, match="does not fit on one A4 page") as err:
        render_statements([statements[0], long, *statements[2:4]], tmp_path, workers=workers,
                          batch_size=2, progress=no_progress, now=NOW)
    assert long.display_id in str(err.value)
    assert "statement_print.css" in err.value.hint  # the hint survives the worker process


def test_a_statement_renders_to_the_same_bytes_on_another_day(
        statements: tuple[Statement, ...], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A PDF is the same bytes whenever it is rendered (amends and rejoins compare bytes)."""
    emoji = next(s for s in statements if "\N{GLOWING STAR}" in s.entry.candidate.name)
    made = []
    for day, when in enumerate((3_000_000_000, 3_100_000_000)):  # fontTools' clock: 2027, 2030
        monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda when=when: when)
        out = render_statements([emoji], tmp_path / str(day), workers=1, batch_size=1,
                                progress=no_progress, now=NOW)
        made.append(Path(out[0].pdf).read_bytes())
    assert made[0] == made[1]


def test_unsafe_file_names_are_refused(statements: tuple[Statement, ...], tmp_path: Path) -> None:
    s = statements[0]
    bad = replace(s, centre=replace(s.centre, number="../etc"))
    with pytest.raises(BuildError, match="file name"):
        render_statements([bad], tmp_path / "out", workers=1, batch_size=5,
                          progress=no_progress, now=NOW)
    assert not (tmp_path / "etc").exists()


def test_progress_advances_once_per_batch(statements: tuple[Statement, ...],
                                          tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []

    @contextmanager
    def record(stage: str, total: int) -> Iterator[Advance]:
        yield lambda n: calls.append((stage, total, n))

    few = statements[:5]  # all from centre GB001: batches of 2, 2, 1
    render_statements(few, tmp_path, workers=1, batch_size=2, progress=record, now=NOW)
    assert calls == [("render", 5, 2), ("render", 5, 2), ("render", 5, 1)]


def test_a_batch_gives_the_garbage_collector_back_its_settings(
        statements: tuple[Statement, ...], tmp_path: Path) -> None:
    before = gc.get_threshold()
    render_statements(statements[:2], tmp_path, workers=1, batch_size=2, progress=no_progress,
                      now=NOW)
    assert gc.isenabled() and gc.get_threshold() == before
    with pytest.raises(BuildError):  # and after a batch that failed
        render_statements([_with_name(statements[0], " ".join(["Bartholomew"] * 900))],
                          tmp_path / "long",
                          workers=1, batch_size=1, progress=no_progress, now=NOW)
    assert gc.isenabled() and gc.get_threshold() == before
    gc.disable()  # a caller that runs without the collector keeps it off
    try:
        render_statements(statements[:1], tmp_path / "off", workers=1, batch_size=1,
                          progress=no_progress, now=NOW)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_batches_keep_to_one_centre_and_cover_every_statement(
        statements: tuple[Statement, ...]) -> None:
    mixed = [s for pair in zip(statements[:6], statements[-6:], strict=True) for s in pair]
    batches = make_batches(mixed, 4)
    assert sorted(i for b in batches for i in b) == list(range(len(mixed)))
    for b in batches:
        assert 1 <= len(b) <= 4 and len({mixed[i].centre.number for i in b}) == 1
        assert b == sorted(b)  # a centre's order is kept


def test_misuse_is_a_value_error(statements: tuple[Statement, ...], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        render_statements(statements, tmp_path, workers=0, batch_size=5, progress=no_progress,
                          now=NOW)


def test_the_speed_ups_change_no_pixel_and_no_text(
        statements: tuple[Statement, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lines shaped once per batch, pseudo-element styles shared, print HTML parsed by
    # expat (weasy_document.py), a repeated page's styles copied (weasy_styles.py), PDF
    # objects serialised once, font subsets cut once, shared lines drawn once
    # (weasy_speed.py), box sizes resolved once, flow tests answered once, no empty
    # margin boxes, recurring lines laid out once (weasy_layout.py), print HTML without
    # ids or lang (_statement_body.html), the chart's frame a form XObject (chart.py).
    fast = renderer().render_batch(statements, tmp_path / "fast", NOW)
    monkeypatch.setattr(statements_module, "shared_line_breaks", nullcontext)
    monkeypatch.setattr(statements_module, "shared_pseudo_styles", nullcontext)
    monkeypatch.setattr(statements_module, "shared_page_styles", nullcontext)
    monkeypatch.setattr(weasy, "serialise_once", lambda pdf: None)
    monkeypatch.setattr(statements_module, "parsed_html", lambda markup: HTML(string=markup))
    monkeypatch.setattr(statements_module, "quicker_layout", nullcontext)
    monkeypatch.setattr(statements_module, "shared_font_subsets", nullcontext)
    monkeypatch.setattr(statements_module, "shared_text_drawing", nullcontext)
    monkeypatch.setattr(statements_module, "quicker_tokens", nullcontext)
    monkeypatch.setattr(boxes.Box, "is_in_normal_flow", weasy_layout.unshared_in_normal_flow)
    monkeypatch.setattr(renderer(), "print_only", False)
    monkeypatch.setattr(chart, "draw_form", lambda stream, ops, bbox: stream.stream.append(ops))
    plain = renderer().render_batch(statements, tmp_path / "plain", NOW)
    for s, (a, *_), (b, *_) in zip(statements, fast, plain, strict=True):
        difference = ImageChops.difference(_image(Path(a)), _image(Path(b))).convert("L")
        # pdfium rounds a few glyph edges drawn through a form one level of 255 apart
        # (poppler draws them the same to the pixel): the same to the eye, and only there.
        has_chart = chart.chart_layout(s.entry) is not None
        assert difference.getextrema()[1] <= (1 if has_chart else 0), s.entry.candidate.name
        assert _text(Path(a)) == _text(Path(b))


def test_a_chart_frame_is_one_form_the_same_on_every_page_of_a_test(
        statements: tuple[Statement, ...], tmp_path: Path) -> None:
    forms: dict[tuple[object, ...], set[bytes]] = {}
    for s, (pdf, *_) in zip(statements, renderer().render_batch(statements, tmp_path, NOW),
                            strict=True):
        with pikepdf.open(pdf) as doc:
            xobjects = doc.pages[0].Resources.get("/XObject", {})
            frames = [x.read_bytes() for x in xobjects.values() if x.Subtype == "/Form"]
        layout = chart.chart_layout(s.entry)
        if layout is None:
            assert frames == []
            continue
        (frame,) = frames
        key = tuple(item for item in (*layout.shapes, *layout.labels) if not item.own)
        forms.setdefault(key, set()).add(frame)
    assert forms and all(len(made) == 1 for made in forms.values())
    assert sum(1 for s in statements if chart.chart_layout(s.entry)) > len(forms)  # shared


def test_a_batch_computes_a_style_once_not_once_a_page(
        statements: tuple[Statement, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    original = css.ComputedStyle.__init__

    def counted(self: css.ComputedStyle, *args: object) -> None:
        made[-1] += 1
        original(self, *args)

    monkeypatch.setattr(css.ComputedStyle, "__init__", counted)
    for copies in (1, 4):
        made.append(0)
        renderer().render_batch(statements[:3] * copies, tmp_path / str(copies), NOW)
    # A page that repeats another shares all its styles; only the last page (the last
    # sheet has a style of its own) adds any: 180. With the QR and chart slots' ids of
    # their own, 34 a page (306); with ids and lang in print about 300 a page, with
    # pseudo-element styles unshared about 360.
    assert made[1] - made[0] < 200, made


def test_a_line_every_page_shares_is_made_ready_to_draw_once(
        statements: tuple[Statement, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    original = weasy_document._unshared_reactivate

    def counted(layout: object, style: object) -> None:
        made[-1] += 1
        original(layout, style)

    monkeypatch.setattr(weasy_document, "_unshared_reactivate", counted)
    for copies in (1, 4):
        made.append(0)
        renderer().render_batch(statements[:3] * copies, tmp_path / str(copies), NOW)
    # Four copies of three pages draw each line four times, and make it ready once.
    assert made[1] == made[0], made


def _assert_same_pdfs_without(batch: Sequence[Statement], tmp_path: Path,
                              switch_off: Callable[[], None]) -> None:
    """The batch's PDFs are the same bytes with a speed-up as once ``switch_off`` ran."""
    sped_up = renderer().render_batch(batch, tmp_path / "sped-up", NOW)
    switch_off()
    plain = renderer().render_batch(batch, tmp_path / "plain", NOW)
    for (a, *_), (b, *_) in zip(sped_up, plain, strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()


def test_a_line_every_page_shares_is_drawn_once_to_the_same_bytes(
        statements: tuple[Statement, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    original = weasy_speed.unshared_first_line

    def counted(*args: object) -> object:
        made[-1] += 1
        return original(*args)

    monkeypatch.setattr(weasy_speed, "unshared_first_line", counted)
    for copies in (1, 4):
        made.append(0)
        renderer().render_batch(statements[:3] * copies, tmp_path / str(copies), NOW)
    # Only the lines of one page (names, numbers, its QR code's text) are drawn again.
    assert made[1] < 2 * made[0], made
    # A shared line with a glyph no font has (drawn with an id of its font's own).
    missing = _with_name(statements[0], "Ada \U000F0001 Lovelace")
    batch = [*statements, missing, missing]
    _assert_same_pdfs_without(batch, tmp_path, lambda: monkeypatch.setattr(
        statements_module, "shared_text_drawing", nullcontext))


def test_quicker_tokens_turn_every_operand_into_pydyf_s_bytes(
        statements: tuple[Statement, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = [b"Tj", "FlateDecode", 0, -7, 10**20, True, 1.0, 0.25, -3.5e-7,
              pydyf.Dictionary({"A": 1}), pydyf.Array([1, "B"]), pydyf.String("(x)"), None]
    assert [weasy_speed._to_bytes(v) for v in values] == [pydyf._to_bytes(v) for v in values]
    _assert_same_pdfs_without(statements, tmp_path, lambda: monkeypatch.setattr(
        statements_module, "quicker_tokens", nullcontext))


def test_a_page_with_the_markup_of_an_earlier_one_copies_its_styles_to_the_same_bytes(
        statements: tuple[Statement, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matched: list[int] = []
    original = cssselect2.Matcher.match

    def counted(self: cssselect2.Matcher, element: object) -> object:
        matched[-1] += 1
        return original(self, element)

    monkeypatch.setattr(cssselect2.Matcher, "match", counted)
    for copies in (1, 4):
        matched.append(0)
        renderer().render_batch(statements[:3] * copies, tmp_path / str(copies), NOW)
    # The copies' elements are not matched again; the last page is (the last sheet's rule).
    assert matched[1] < 2 * matched[0], matched
    monkeypatch.setattr(cssselect2.Matcher, "match", original)
    batch = [s for s in statements for _ in range(2)]  # each script and shape twice
    _assert_same_pdfs_without(batch, tmp_path, lambda: monkeypatch.setattr(
        statements_module, "shared_page_styles", nullcontext))


def test_only_pages_of_the_same_markup_and_place_copy_styles() -> None:
    page = '<div class="sheet"><p class="a" title="t">x</p><p></p></div>'
    others = ('<div class="sheet"><p class="b" title="t">x</p><p></p></div>',  # a class
              '<div class="sheet"><p class="a" title="u">x</p><p></p></div>',  # a value
              '<div class="sheet"><p class="a" title="t">x</p><p>y</p></div>',  # not empty
              '<div class="sheet"><p class="a" title="t">x</p></div>')  # a child fewer
    body = page + "".join(others) + page + page + page
    root = fromstring(f"<html><head></head><body>{body}</body></html>")
    sheets = list(root[1])
    # Only the seventh page repeats a page (the sixth): the first is first, the last last.
    assert [(sheets.index(c), sheets.index(f)) for c, f in weasy_styles._copies(root)] == [
        (6, 5)]


def test_the_print_sheet_tells_pages_apart_only_by_first_and_last() -> None:
    # weasy_styles.py copies a page's styles to a page of the same markup: a selector
    # that counts siblings or looks at a sibling's markup would tell them apart.
    sheets = (Path(statements_module.__file__).parents[2] / "templates").glob("statement_*.css")
    text = "".join(re.sub(r"/\*.*?\*/|\{[^}]*\}", " ", p.read_text()) for p in sheets)
    assert text.strip() and not re.search(r":nth-|-of-type|:only-|:has\(|:empty|[+~]", text)


def test_the_print_html_parses_by_expat_to_the_tree_tinyhtml5_makes(
        statements: tuple[Statement, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    items = [statements_module._item(s) for s in statements]
    for slots in (True, False):  # the batch's QR slots, and the QR as SVG rectangles
        markup = renderer()._print_html(items, embed_css=False, slots=slots)
        html5 = _tree(HTML(string=markup).etree_element)
        with monkeypatch.context() as m:
            m.setattr(tinyhtml5, "parse", None)  # expat, not a fallback to tinyhtml5
            assert _tree(weasy_document.parsed_html(markup).etree_element) == html5


def _tree(element: Element) -> tuple[object, ...]:
    return (element.tag, sorted(element.attrib.items()), element.text, element.tail,
            [_tree(child) for child in element])


def test_a_shared_line_is_only_shared_in_the_same_style(tmp_path: Path) -> None:
    styles = ("", "font-weight: 700", "font-style: italic", "font-size: 14pt",
              "letter-spacing: 0.1em", "word-spacing: 1em", "font-variant: small-caps",
              "font-family: DejaVu Serif", "direction: rtl", "white-space: nowrap")
    text = "Result 1 (88 marks) ffi " * 3
    page = "".join(f'<p style="width: 40mm; {style}">{text}</p>' for style in styles)
    paths = tmp_path / "shared.pdf", tmp_path / "apart.pdf"
    with weasy_document.shared_line_breaks():
        HTML(string=page).write_pdf(paths[0])
    HTML(string=page).write_pdf(paths[1])
    assert ImageChops.difference(*(_image(p) for p in paths)).getbbox() is None


def test_box_sizes_are_only_shared_for_the_same_style_and_containing_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Boxes of one style in containers of different widths (floats and flex items
    # shrink to their text), and table cells of one style with different collapsed
    # borders (their columns'), which border-box sizing reads.
    sheet = ("<style>@page { @top-center { content: 'head' } } .fit { float: left; clear: left }"
             ".row { display: flex }"
             ".a { width: 50%; padding: 5%; border: 1px solid }"
             ".b { box-sizing: border-box; width: 80%; border: 3px solid; padding: 2mm }"
             ".c { margin: 0 10%; height: 20% }"
             "table { border-collapse: collapse; width: 80% } col.thick { border: 7px solid }"
             "td { border: 1px solid; box-sizing: border-box; width: 20%; padding: 1% }</style>")
    cols = '<colgroup><col class="thick"><col><col></colgroup>'
    table = f"<table>{cols}{'<tr>' + '<td>cell</td>' * 3 + '</tr>'}</table>"
    texts = ("x", "a much longer text than the first", "mid text")
    fits = "".join(f'<div class="fit"><p class="a">{t}</p><p class="b">{t}</p>'
                   f'<p class="c">{t}</p></div>' for t in texts)
    flex = '<div class="row">' + "".join(f'<p class="a">{t}</p>' for t in texts) + "</div>"
    page = sheet + table + flex + fits
    paths = tmp_path / "shared.pdf", tmp_path / "apart.pdf"
    with weasy_layout.quicker_layout():
        HTML(string=page).write_pdf(paths[0])
    monkeypatch.setattr(boxes.Box, "is_in_normal_flow", weasy_layout.unshared_in_normal_flow)
    HTML(string=page).write_pdf(paths[1])
    assert ImageChops.difference(*(_image(p) for p in paths)).getbbox() is None


def test_a_block_of_text_every_page_has_is_laid_out_once_to_the_same_bytes(
        statements: tuple[Statement, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    original = weasy_layout.unshared_line_boxes

    def counted(*args: object) -> Iterator[object]:
        made[-1] += 1
        yield from original(*args)

    monkeypatch.setattr(weasy_layout, "unshared_line_boxes", counted)
    for copies in (1, 4):
        made.append(0)
        renderer().render_batch(statements[:3] * copies, tmp_path / str(copies), NOW)
    # Only the lines of one page's own (names, numbers, the share code) are laid out again.
    assert made[1] < 2 * made[0], made
    _assert_same_pdfs_without(statements, tmp_path, lambda: monkeypatch.setattr(
        weasy_layout, "_line_boxes", original))


def test_lines_are_only_copied_for_the_same_texts_styles_and_place(tmp_path: Path) -> None:
    # The same paragraph in other widths, places, styles and directions; beside, below
    # and above a float; with a first line or letter of its own, a span, an inline block.
    sheet = ("<style>p { margin: 2mm 0 } .w { width: 50mm } .m { margin-left: 20mm }"
             ".i { text-indent: 10% } .r { direction: rtl } .f::first-line { font-weight: 700 }"
             ".l::first-letter { font-size: 20pt } .fl { float: left; width: 30mm; height: 25mm;"
             " background: #888 } b { color: #c00 } .ib { display: inline-block; width: 8mm;"
             " height: 4mm; background: #00c }</style>")
    text = "Candidate name and the results on this statement of results, again and again"
    variants = ("", ' class="w"', ' class="m"', ' class="i"', ' class="r"', ' class="f"',
                ' class="l"')
    paragraphs = "".join(f"<p{v}>{text}</p>" for v in variants) + "".join(
        f"<div{v}><p>{text}</p></div>" for v in variants[1:3])  # the same p, narrower, moved
    spans = f"<p>{text} <b>bold</b></p><p>{text} <i>bold</i></p>"
    block = f'<p>{text}<span class="ib"></span></p>'
    # Cells of one style: beside each other (moved across), in columns of other widths.
    cells = (f'<table style="width: 100%; table-layout: fixed"><tr><td>{text}</td>'
             f'<td>{text}</td></tr></table><table><tr><td>x</td><td>{text} {text}</td></tr>'
             f'<tr><td>{text}</td><td>{text}</td></tr></table>'
             f'<table><tr><td>{text}</td><td>x</td></tr></table>')
    # Beside a float from the block's start, twice, then one line further down.
    clear, fl = '<div style="clear: both"></div>', '<div class="fl"></div>'
    long = " ".join([text] * 4)  # taller than the float: its last lines run full width
    floated = (clear + fl + f"<p>{long}</p>") * 2 + clear + fl + f"<p>x</p><p>{long}</p>"
    page = (sheet + paragraphs * 2 + spans * 2 + block * 2 + cells + floated + fl
            + paragraphs + '<div style="clear: both"></div>' + paragraphs)
    paths = tmp_path / "copied.pdf", tmp_path / "apart.pdf"
    with weasy_layout.quicker_layout():
        HTML(string=page).write_pdf(paths[0])
    HTML(string=page).write_pdf(paths[1])
    copied, apart = (pdfium.PdfDocument(p) for p in paths)
    assert len(copied) == len(apart) > 1
    for a, b in zip(copied, apart, strict=True):
        assert ImageChops.difference(a.render().to_pil(), b.render().to_pil()).getbbox() is None
    assert _text(paths[0]) == _text(paths[1])


def test_copied_lines_belong_to_their_own_page_elements() -> None:
    section = "<section><h2>Results</h2><p>The same words <b>on</b> every page</p></section>"
    page = "<style>section { break-after: page }</style>" + section * 3
    with weasy_layout.quicker_layout():
        document = HTML(string=page).render()
    sections = document._html.etree_element.iter("section")
    for rendered, own in zip(document.pages, sections, strict=True):
        mine = set(map(id, own.iter()))
        texts = [box for box in rendered._page_box.descendants()
                 if isinstance(box, boxes.TextBox)]
        assert len(texts) == 4 and all(id(box.element) in mine for box in texts)


def _text(pdf: str | Path) -> str:
    """The PDF's text, less the line end pypdf puts after a form the page draws (the chart's)."""
    return pdf_text(Path(pdf)).rstrip("\n")


def _image(pdf: Path) -> Image.Image:
    return pdfium.PdfDocument(pdf)[0].render(scale=2).to_pil().convert("RGB")


def _code_words(status: Status) -> str:
    return {Status.ABSENT_FROM_PART: "Absent from", Status.ABSENT: "Absent",
            Status.PENDING: "Result pending", Status.WITHHELD: "Result withheld"}[status]


def _with_name(s: Statement, name: str) -> Statement:
    entry = replace(s.entry, candidate=replace(s.entry.candidate, name=name))
    return replace(s, entry=entry)


def _left_edge(textpage: pdfium.PdfTextPage, word: str) -> float:
    """Leftmost x of a word as drawn (pdfium finds it in its own, visual, text order)."""
    text = textpage.get_text_range()
    for candidate in (word, word[::-1]):
        i = text.find(candidate)
        if i >= 0:
            return min(textpage.get_charbox(k)[0] for k in range(i, i + len(candidate)))
    raise AssertionError(f"{word!r} not found on the page")


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    tags: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, dict(attrs)))

    Collect().feed(html)
    return tags
