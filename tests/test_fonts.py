"""Reduced CJK fonts: same page to the pixel, smaller PDFs, nothing of other candidates."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from factories import NOW, make_keys, step_series
from fontTools.ttLib import TTFont
from pdfcheck import embedded_programs, pdf_text, shows_name
from PIL import Image, ImageChops

from results_online.build.render import fonts as fonts_module
from results_online.build.render.fonts import (
    INSTALLED_FONTS,
    ReducedFont,
    SeriesFonts,
    reduce_fonts,
    statement_texts,
)
from results_online.build.render.statements import Renderer
from results_online.build.verification.seal import seal_series
from results_online.model import Statement

# "Full width" in fullwidth forms, with an ideographic space: wide, yet ASCII-like.
FULL_WIDTH = "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in "Full width")
CJK_NAMES = ("王小明", "山田 花子", "김민준, 이서연", "李 明 (Li Ming)", FULL_WIDTH)
OTHER = ("Zoë Ångström-Łukasiewicz", "فاطمة الزهراء")


@pytest.fixture(scope="module")
def statements(tmp_path_factory: pytest.TempPathFactory) -> list[Statement]:
    names = CJK_NAMES + OTHER
    series = step_series(per_centre=len(names), n_centres=1, names=names, with_codes=False)
    return list(seal_series(series, make_keys(tmp_path_factory.mktemp("keys"))))


@pytest.fixture(scope="module")
def fonts(statements: list[Statement], tmp_path_factory: pytest.TempPathFactory) -> SeriesFonts:
    texts = (t for s in statements for t in statement_texts(s))
    return reduce_fonts(texts, tmp_path_factory.mktemp("fonts"))


def test_copies_cover_the_series_cjk_characters_and_ascii(fonts: SeriesFonts) -> None:
    assert {(f.replaces, f.weight) for f in fonts.fonts} == {
        ("Noto Sans CJK SC", 400), ("Noto Sans CJK SC", 700)}
    used = {c for name in CJK_NAMES for c in name if ord(c) > 0x7F}
    for f in fonts.fonts:
        font = TTFont(f.path)
        cmap = {chr(u) for u in font.getBestCmap()}
        assert used <= cmap
        assert {chr(u) for u in range(0x20, 0x7F)} <= cmap
        assert font["maxp"].numGlyphs < 400  # the original has 65,535
        assert f.path.stat().st_size < 100_000


def test_copies_carry_no_glyph_identity_of_the_original(fonts: SeriesFonts) -> None:
    for f in fonts.fonts:
        font = TTFont(f.path)
        order = font.getGlyphOrder()
        assert order == [".notdef"] + [f"cid{i:05d}" for i in range(1, len(order))]
        top = font["CFF "].cff.topDictIndex[0]
        assert list(top.charset) == order


def test_latin_only_series_needs_no_copy(tmp_path: Path) -> None:
    assert reduce_fonts(["Zoë Ångström", "Siobhán Ó Súilleabháin", "2026"], tmp_path) \
        == INSTALLED_FONTS
    assert reduce_fonts(["Amira \N{GLOWING STAR} Haddad"], tmp_path) == INSTALLED_FONTS  # wide
    assert not list(tmp_path.iterdir())


def test_apply_names_the_copy_just_before_its_original(tmp_path: Path) -> None:
    font = ReducedFont("Noto Sans CJK SC", 700, tmp_path / "b.otf")
    css = SeriesFonts((font,)).apply('p { font-family: "Noto Sans", "Noto Sans CJK SC", x; }')
    assert '"Noto Sans", "Series Noto Sans CJK SC", "Noto Sans CJK SC", x' in css
    assert f'src: url("{font.path.as_uri()}")' in css and "font-weight: 700" in css
    with pytest.raises(ValueError, match="must name"):
        SeriesFonts((font,)).apply('p { font-family: "Noto Sans"; }')


def test_statement_texts_has_every_printed_string(statements: list[Statement]) -> None:
    s = statements[0]
    texts = set(statement_texts(s))
    assert {s.entry.candidate.name, s.centre.name, s.entry.test.name, s.series.name,
            s.series.board} <= texts
    assert {c.component.title for c in s.entry.components} <= texts


@pytest.fixture(scope="module")
def both(statements: list[Statement], fonts: SeriesFonts,
         tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Statement, Path, Path]]:
    plain = Renderer().render_batch(statements, tmp_path_factory.mktemp("installed"), NOW)
    reduced = Renderer(fonts).render_batch(statements, tmp_path_factory.mktemp("reduced"), NOW)
    return [(s, Path(a[0]), Path(b[0])) for s, a, b in zip(statements, plain, reduced, strict=True)]


def test_pages_are_the_same_to_the_pixel(both: list[tuple[Statement, Path, Path]]) -> None:
    for s, installed, reduced in both:
        diff = ImageChops.difference(_image(installed), _image(reduced))
        assert diff.getbbox() is None, s.entry.candidate.name


def test_cjk_statements_are_as_small_as_latin_ones_and_keep_their_text(
        both: list[tuple[Statement, Path, Path]]) -> None:
    latin = max(r.stat().st_size for s, _, r in both if s.entry.candidate.name in OTHER)
    for s, installed, reduced in both:
        name = s.entry.candidate.name
        assert shows_name(pdf_text(reduced), name)
        if name in CJK_NAMES:
            assert reduced.stat().st_size < latin * 1.3 < installed.stat().st_size


def test_a_pdf_has_only_its_own_cjk_glyphs(both: list[tuple[Statement, Path, Path]]) -> None:
    for s, _, reduced in both:
        own = set(s.entry.candidate.name)
        cjk = [f for name, f in embedded_programs(reduced).items() if "CJK" in name]
        assert bool(cjk) == (s.entry.candidate.name in CJK_NAMES)  # the check has fonts to read
        for font in cjk:
            assert {chr(u) for u in font.getBestCmap()} <= own
            cff = font["CFF "].cff
            strings = cff[cff.fontNames[0]].CharStrings
            outlined = [g for g in font.getGlyphOrder()[1:]
                        if strings[g].calcBounds(strings) is not None]
            assert len(outlined) <= len(own)


def test_a_character_missing_from_the_copy_comes_from_the_installed_font(
        statements: list[Statement], fonts: SeriesFonts, tmp_path: Path) -> None:
    s = statements[0]
    late = replace(s, entry=replace(s.entry, candidate=replace(s.entry.candidate, name="陈静怡")))
    ((installed, _, _),) = Renderer().render_batch([late], tmp_path / "a", NOW)
    ((reduced, _, _),) = Renderer(fonts).render_batch([late], tmp_path / "b", NOW)
    assert ImageChops.difference(_image(Path(installed)), _image(Path(reduced))).getbbox() is None
    assert shows_name(pdf_text(Path(reduced)), "陈静怡")


def _image(pdf: Path) -> Image.Image:
    return pdfium.PdfDocument(pdf)[0].render(scale=3).to_pil().convert("L")


def test_a_face_that_cannot_be_reduced_is_used_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    broken = tmp_path / "Broken-CJK.otf"
    broken.write_bytes(b"OTTO" + bytes(64))  # an OpenType header and nothing else
    monkeypatch.setattr(fonts_module, "locate", lambda family, style: (broken, 0))
    out = tmp_path / "out"
    out.mkdir()
    assert reduce_fonts(["王小明"], out) == INSTALLED_FONTS
    assert caplog.text.count("could not reduce Broken-CJK.otf") == 2  # regular and bold
