"""Render helper: small copies of the large CJK font, holding only what a series uses.

Why: WeasyPrint subsets each font once per PDF and keeps glyph IDs, so a name in
the 65,000-glyph Noto Sans CJK made every such statement cost 15-25 ms more to
write and 60-110 KB instead of 14 KB (measured; the glyph IDs of a Korean name
are near the end of the font). A reduced copy with only the characters of this
series' statements has a few hundred glyphs, so those PDFs cost what a Latin one
does. It is a cache, not a fallback change: the copy stands in the font stack
just before the family it was cut from, so every character it lacks still comes
from the installed font and what Pango picks is the same font's same glyph.

Privacy: a statement's PDF keeps the glyph IDs below its own highest one, so the
copy's glyphs are renumbered (CID = glyph ID) and carry nothing from the original
font that names another candidate's characters. What remains is a count: how
many of the series' CJK glyphs sort before this candidate's.

Copies are made per build into a temporary folder and never published.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import subprocess
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb
from fontTools.ttLib import TTFont

log = logging.getLogger("results_online.build.render.fonts")

# Families of the statement's font stack (statement_base.css) worth a reduced copy,
# with the weights the statement uses.
REDUCED_FAMILIES = ("Noto Sans CJK SC",)
WEIGHTS = {400: "Regular", 700: "Bold"}
_PREFIX = "Series "
# Pango draws the spaces, digits and punctuation inside or beside a CJK run with
# the CJK face, and the template's own text is ASCII: the copy always has them.
_ASCII = set(range(0x20, 0x7F))


@dataclass(frozen=True)
class ReducedFont:
    """One reduced copy: which family and weight it stands in for, and its file."""

    replaces: str
    weight: int
    path: Path

    @property
    def family(self) -> str:
        """The @font-face family name of the copy."""
        return _PREFIX + self.replaces


@dataclass(frozen=True)
class SeriesFonts:
    """The reduced copies made for one build (none: use the installed fonts only)."""

    fonts: tuple[ReducedFont, ...] = ()

    def apply(self, css: str) -> str:
        """The CSS with an @font-face per copy and each copy named before its original."""
        faces = "".join(
            f'@font-face {{ font-family: "{f.family}"; src: url("{f.path.as_uri()}"); '
            f"font-weight: {f.weight}; font-style: normal; }}\n" for f in self.fonts)
        for family in dict.fromkeys(f.replaces for f in self.fonts):
            named = f'"{family}",'
            if css.count(named) != 1:
                raise ValueError(f"the statement font stack must name {family!r} once")
            css = css.replace(named, f'"{_PREFIX}{family}", {named}')
        return faces + css


INSTALLED_FONTS = SeriesFonts()


def reduce_fonts(texts: Iterable[str], folder: Path) -> SeriesFonts:
    """Write reduced copies of the CJK faces covering these texts' characters into folder."""
    used = {ord(c) for text in texts for c in text}
    if not any(_is_wide(u) for u in used):
        return INSTALLED_FONTS  # the fonts before the CJK faces draw all the text
    made: list[ReducedFont] = []
    for family in REDUCED_FAMILIES:
        for weight, style in WEIGHTS.items():
            found = locate(family, style)
            if found is None:
                log.warning("font %s %s is not installed; statements use the fallback",
                            family, style)
                continue
            path = folder / f"{family.replace(' ', '')}-{style}.otf"
            try:
                wrote = _write_reduced(*found, used, path)
            except Exception as exc:  # the copy only saves time: go without it
                log.warning("could not reduce %s (%s): %s; statements use it whole",
                            found[0].name, style, type(exc).__name__)
                continue
            if wrote:
                made.append(ReducedFont(family, weight, path))
    if made:
        log.info("reduced %d CJK font face(s) to this series' characters", len(made))
    return SeriesFonts(tuple(made))


def statement_texts(value: object) -> Iterator[str]:
    """Every string in a (nested) dataclass value: a statement's printable text."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from statement_texts(getattr(value, field.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from statement_texts(item)


def locate(family: str, style: str) -> tuple[Path, int] | None:
    """The installed file and face index of family in style, by fontconfig."""
    try:
        out = subprocess.run(
            ["fc-match", "--format=%{file}|%{index}|%{family}", f"{family}:style={style}"],
            capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    file, _, rest = out.partition("|")
    index, _, families = rest.partition("|")
    if family not in families.split(",") or not index.isdigit():
        return None  # fontconfig substituted another family
    return Path(file), int(index)


def _write_reduced(source: Path, index: int, used: set[int], path: Path) -> bool:
    """Subset the face to the used characters it has, renumber, save; False if no need."""
    face = hb.Face(hb.Blob.from_file_path(os.fspath(source)), index)
    if not face.glyph_count:  # HarfBuzz reads what is not a font as an empty face
        raise ValueError(f"{source.name} holds no glyphs")
    available = face.unicodes  # HarfBuzz collects the set anew on every access
    covered = {u for u in used | _ASCII if u in available}
    if not any(_is_wide(u) for u in covered):
        return False  # the series' wide characters (emoji, say) are not in this face
    # In HarfBuzz: fontTools took half a second a face to read and cut the 65,000 glyphs
    # of the CJK face (an amend's 100 statements waited a second for it); this, 5 ms.
    wanted = hb.SubsetInput()
    for u in sorted(covered):
        wanted.unicode_set.add(u)
    wanted.flags = hb.SubsetFlags.NOTDEF_OUTLINE | hb.SubsetFlags.DESUBROUTINIZE
    path.write_bytes(_renumbered(hb.subset(face, wanted).blob.data))
    return True


def _is_wide(codepoint: int) -> bool:
    """East Asian wide or full-width: ideographs, kana, hangul, CJK punctuation (and emoji)."""
    return unicodedata.east_asian_width(chr(codepoint)) in ("W", "F")


def _renumbered(data: bytes) -> bytes:
    """The font with glyph i named cid i: no CID of the original font survives."""
    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    old = font.getGlyphOrder()  # decompiles 'CFF ' only: other tables read the new names
    new = [".notdef"] + [f"cid{i:05d}" for i in range(1, len(old))]
    font.setGlyphOrder(new)
    top = font["CFF "].cff.topDictIndex[0]
    if not hasattr(top, "ROS"):
        raise ValueError("expected a CID-keyed CFF font")
    strings = top.CharStrings.charStrings
    top.CharStrings.charStrings = {n: strings[o] for n, o in zip(new, old, strict=True)}
    top.charset = new
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
