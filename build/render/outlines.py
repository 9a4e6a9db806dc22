"""Short labels drawn as glyph outlines (vector paths), for the scale chart in PDFs.

The chart is a tagged Figure whose alternative text says everything it shows, so its
labels need not be text: drawn as the outlines of Noto Sans glyphs they cost a few
microseconds each, where laying them out as text cost WeasyPrint about a millisecond
a label (chart.py). Glyphs are placed by their advance widths (no kerning, no
shaping): the labels are short English words and numbers. Outlines are read once per
process and kept per glyph.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from results_online.build.render.fonts import locate
from results_online.errors import BuildError

FAMILY = "Noto Sans"


class _PdfPen(BasePen):  # type: ignore[misc]
    """Collects a glyph's outline as PDF path operators, in font units."""

    def __init__(self, glyphset: Any) -> None:
        super().__init__(glyphset)
        self.ops: list[str] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{pt[0]:g} {pt[1]:g} m")

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{pt[0]:g} {pt[1]:g} l")

    def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float],
                    p3: tuple[float, float]) -> None:
        self.ops.append(f"{p1[0]:g} {p1[1]:g} {p2[0]:g} {p2[1]:g} {p3[0]:g} {p3[1]:g} c")

    def _closePath(self) -> None:
        self.ops.append("h")


class Outlines:
    """One face's glyph outlines and advance widths."""

    def __init__(self, path: Path, index: int = 0) -> None:
        self.font = TTFont(path, fontNumber=index, lazy=True)
        self.cmap = self.font.getBestCmap()
        self.glyphs = self.font.getGlyphSet()
        self.advances = self.font["hmtx"].metrics
        self.upem = self.font["head"].unitsPerEm
        self._paths: dict[str, bytes] = {}

    def width(self, text: str, size: float) -> float:
        """The text's advance width at this font size."""
        units: int = sum(self.advances[self._name(c)][0] for c in text)
        return float(units * size / self.upem)

    def draw(self, text: str, size: float, x: float, y: float, anchor: str = "start") -> bytes:
        """PDF operators filling the text with its baseline at (x, y), y pointing down."""
        if anchor != "start":
            x -= self.width(text, size) / (2 if anchor == "middle" else 1)
        scale = size / self.upem
        out = []
        for c in text:
            name = self._name(c)
            path = self._path(name)
            if path:
                out.append(b"q %.4f 0 0 %.4f %.2f %.2f cm %s f Q"
                           % (scale, -scale, x, y, path))
            x += self.advances[name][0] * scale
        return b"\n".join(out)

    def _name(self, char: str) -> str:
        name: str = self.cmap.get(ord(char), ".notdef")
        return name

    def _path(self, name: str) -> bytes:
        if name not in self._paths:
            pen = _PdfPen(self.glyphs)
            self.glyphs[name].draw(pen)
            self._paths[name] = " ".join(pen.ops).encode()
        return self._paths[name]


@cache
def outlines(bold: bool = False) -> Outlines:
    """This process's Noto Sans outlines (regular or bold)."""
    found = locate(FAMILY, "Bold" if bold else "Regular")
    if found is None:
        raise BuildError(f"the font {FAMILY} is not installed",
                         hint="install fonts-noto-core (scripts/bootstrap.sh)")
    return Outlines(*found)
