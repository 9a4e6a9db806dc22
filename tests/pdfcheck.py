"""Read back what a rendered statement PDF shows: its text and the glyphs it draws."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pypdf
from fontTools.ttLib import TTFont
from pypdf.generic import ArrayObject, ContentStream

_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>")
_BFRANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


def pdf_text(path: Path, *, layout: bool = False) -> str:
    """The PDF's text; in layout mode lines as seen on the page, runs of spaces made one.

    Plain mode keeps right-to-left words in reading order; layout mode shows them
    visually (reversed) but keeps a label and its value on one line.
    """
    reader = pypdf.PdfReader(path)
    if not layout:
        return "\n".join(p.extract_text() for p in reader.pages)
    pages = (p.extract_text(extraction_mode="layout") for p in reader.pages)
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip()
                     for page in pages for line in page.splitlines())


def skeleton(text: str) -> str:
    """Text without combining marks and viramas: Indic shaping makes PDF text lossy there."""
    return "".join(c for c in unicodedata.normalize("NFC", text)
                   if unicodedata.category(c) not in ("Mn", "Mc"))


def shows_name(text: str, name: str) -> bool:
    """Whether extracted text shows the name (exactly; for Indic scripts, its letters in order)."""
    if name in text:
        return True
    has_indic = any("DEVANAGARI" in unicodedata.name(c, "") for c in name)
    return has_indic and skeleton(name) in skeleton(text)


@dataclass(frozen=True)
class Glyph:
    """One glyph drawn on a page."""

    font: str  # the page's font resource name
    gid: int
    text: str  # what the font's ToUnicode map says it shows
    real: bool  # an actual glyph of the embedded font: not .notdef, not out of range, not blank


def drawn_glyphs(path: Path) -> list[Glyph]:
    """Every glyph the PDF draws, checked against the embedded font program."""
    reader = pypdf.PdfReader(path)
    out: list[Glyph] = []
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        maps = {str(k): _to_unicode(v.get_object()) for k, v in fonts.items()}
        programs = {str(k): _font_program(v.get_object()) for k, v in fonts.items()}
        # WeasyPrint draws colour-bitmap glyphs (emoji) as images named /i<font><gid>…
        images = [str(k) for k, v in page["/Resources"].get("/XObject", {}).items()
                  if v.get_object().get("/Subtype") == "/Image"]
        font = ""
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                font = str(operands[0])
            elif op in (b"Tj", b"TJ"):
                items = operands[0] if isinstance(operands[0], ArrayObject) else operands
                for item in items:
                    raw = getattr(item, "original_bytes", None)
                    if raw is None:
                        continue  # a kerning number
                    for i in range(0, len(raw), 2):
                        gid = int.from_bytes(raw[i : i + 2], "big")
                        text = maps[font].get(gid, "")
                        real = _is_real(programs[font], gid, text) or any(
                            i.startswith(f"/i{font[1:]}{gid}") for i in images)
                        out.append(Glyph(font, gid, text, real))
    return out


def embedded_font_names(path: Path) -> set[str]:
    """BaseFont names of the fonts embedded (with font files) in the PDF."""
    names = set()
    for page in pypdf.PdfReader(path).pages:
        for f in page["/Resources"]["/Font"].values():
            desc = f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            if "/FontFile2" in desc or "/FontFile3" in desc or "/FontFile" in desc:
                names.add(str(f.get_object()["/BaseFont"]))
    return names


def embedded_programs(path: Path) -> dict[str, TTFont]:
    """The embedded TrueType/OpenType font programs of the PDF, by BaseFont name."""
    out = {}
    for page in pypdf.PdfReader(path).pages:
        for f in page["/Resources"]["/Font"].values():
            program = _font_program(f.get_object())
            if program is not None:
                out[str(f.get_object()["/BaseFont"])] = program
    return out


def _font_program(font: pypdf.generic.DictionaryObject) -> TTFont | None:
    desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    for key in ("/FontFile2", "/FontFile3"):  # TrueType, or OpenType with CFF outlines (CJK)
        if key in desc:
            return TTFont(io.BytesIO(desc[key].get_object().get_data()))
    return None


def _is_real(program: TTFont | None, gid: int, text: str) -> bool:
    if program is None or not 0 < gid < program["maxp"].numGlyphs:
        return False
    name = program.getGlyphOrder()[gid]
    if text.isspace():
        return True  # spaces are blank by design
    if "glyf" in program:
        return bool(program["glyf"][name].numberOfContours)  # composites -1, blank 0
    if "CFF " in program:
        cff = program["CFF "].cff
        charstrings = cff[cff.fontNames[0]].CharStrings
        return charstrings[name].calcBounds(charstrings) is not None
    return "CBDT" in program or "sbix" in program  # colour bitmap glyphs


def _to_unicode(font: pypdf.generic.DictionaryObject) -> dict[int, str]:
    if "/ToUnicode" not in font:
        return {}
    data = font["/ToUnicode"].get_object().get_data()
    out = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in _BFCHAR.findall(block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be") if dst else ""
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in _BFRANGE.findall(block):
            first = int(dst, 16)
            for k, gid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[gid] = chr(first + k)
    return out
