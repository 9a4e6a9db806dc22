"""Stage: the QR code of a statement, as inline SVG for web pages and vector paths in PDFs.

The QR text is ``https://<verify host>/q#<token digits>`` (results_online.token.qr_text).
It is encoded as two segments, the URL prefix up to and including ``#`` in byte
mode and the digits in numeric mode (3.33 bits per digit), error correction M,
version 10 at most, with the 4-module quiet zone the standard asks for.

Library: segno, not qrcode. Both encode explicit mixed segments; measured on a
typical 150-byte token (29-byte prefix + 362 digits, version 10-M) segno took
about 10 ms per code including its SVG and qrcode 12-18 ms, almost all of it
in choosing the mask. The symbol is made once, with mask 0, by qrencode.py (0.13 ms,
where segno took 1.6; segno still gives the function patterns, once a version); the
mask is chosen by qrmask.py (the same ISO penalty rules, in whole-symbol bit
arithmetic, 0.15 ms) and applied there too, since the symbol with mask k is the
mask-0 symbol XOR a fixed delta. Letting segno make it again with mask k cost
1.5 ms more, and its SVG writer 0.7 ms where ``svg_of`` takes 0.2.

In PDFs the batch renderer draws the modules straight into the page as one filled
vector path (``draw_qr``): WeasyPrint's SVG path parser needs about 30 ms for the
roughly 2,000 commands of a version-10 symbol, longer than the rest of the page's
drawing; the rectangles cost about 0.4 ms and scan the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import segno

from results_online.build.render.qrencode import fitting_version, mask_zero_symbol
from results_online.build.render.qrmask import Packed, best_mask, pack, unpack
from results_online.build.render.weasy import PathSink, append_operators

MAX_VERSION = 10
QUIET_ZONE = 4
ERROR_LEVEL = "M"
SVG_TITLE = "QR code to verify this statement"
_DARK_RUN = re.compile(b"\x01+")


def qr_segments(text: str) -> tuple[str, str]:
    """Split QR text into its byte-mode prefix (through '#') and its numeric digits."""
    prefix, sep, digits = text.partition("#")
    if not sep or not digits or not (digits.isascii() and digits.isdigit()):
        raise ValueError("QR text must be a URL ending in '#' followed by decimal digits")
    if not prefix.startswith(("https://", "http://")) or not prefix.isascii():
        # ASCII only: the byte segment carries no ECI, so its bytes read the same as
        # ISO 8859-1 (the standard's default) and as UTF-8 (what phones assume).
        raise ValueError("QR text must start with an ASCII http(s) URL")
    return prefix + sep, digits


@dataclass(frozen=True)
class Symbol:
    """A QR symbol: its version, its mask, and its rows of modules (1 = dark), no quiet zone."""

    version: int
    mask: int
    matrix: tuple[bytes, ...]


def make_qr(text: str) -> Symbol:
    """Encode QR text as byte + numeric segments at level M; ValueError past version 10."""
    prefix, digits = qr_segments(text)
    version = fitting_version(prefix.encode(), digits, MAX_VERSION)
    if version is None:
        # segno takes a list of (content, mode) segments; its annotations admit one value.
        segments: Any = [(prefix, segno.consts.MODE_BYTE), (digits, segno.consts.MODE_NUMERIC)]
        needed = _make(segments, mask=0).version  # or ValueError: past every version
        raise ValueError(f"the QR text needs version {needed}; at most {MAX_VERSION}")
    symbol0 = pack(mask_zero_symbol(prefix.encode(), digits, version))
    deltas = mask_deltas(version)
    mask = best_mask(symbol0, deltas)
    return Symbol(version, mask, unpack(symbol0 ^ deltas[mask]))


def _make(segments: Any, *, mask: int, version: int | None = None) -> segno.QRCode:
    try:
        return segno.make(segments, error=ERROR_LEVEL, version=version, mask=mask,
                          boost_error=False, micro=False)
    except segno.DataOverflowError:
        raise ValueError("the QR text does not fit any QR version") from None


@cache
def mask_deltas(version: int) -> tuple[Packed, ...]:
    """For each mask k, symbol(k) XOR symbol(0) at this version and level M, for any message."""
    symbols = [pack(_make("0", mask=k, version=version).matrix) for k in range(8)]
    return tuple(s ^ symbols[0] for s in symbols)


def dark_runs(code: Symbol) -> list[tuple[int, int, int]]:
    """The dark modules as horizontal runs: (row, first column, length), quiet zone excluded."""
    return [(y, run.start(), run.end() - run.start())
            for y, row in enumerate(code.matrix) for run in _DARK_RUN.finditer(row)]


def draw_qr(content: PathSink, code: Symbol, x: float, y: float, size: float) -> None:
    """Draw the code, quiet zone included, into the square (x, y, size), y pointing down.

    Changes the stream's transform: call it inside a saved graphics state.
    """
    unit = size / (len(code.matrix) + 2 * QUIET_ZONE)
    # One module = one unit, so every rectangle is whole numbers, written as one block
    # of "x y w h re" operators: 0.3 ms where ~800 pydyf rectangle() calls took 0.8.
    content.transform(a=unit, d=unit, e=x + QUIET_ZONE * unit, f=y + QUIET_ZONE * unit)
    content.set_color_rgb(0, 0, 0)
    append_operators(content, b"\n".join([b"%d %d %d 1 re" % (col, row, length)
                                           for row, col, length in dark_runs(code)]))
    content.fill()  # one path: no hairline seams between the abutting rows


def qr_svg(text: str) -> str:
    """The QR code for ``text`` as an inline SVG element (a single path; size it in CSS)."""
    return svg_of(make_qr(text))


def svg_of(code: Symbol) -> str:
    """A made QR code as an inline SVG element with a 4-module quiet zone."""
    # One stroked path, a horizontal line through the middle of each run of dark
    # modules (the form segno writes too): a run is "M x y+.5 h length".
    size = len(code.matrix) + 2 * QUIET_ZONE
    path = "".join(f"M{col + QUIET_ZONE} {row + QUIET_ZONE}.5h{length}"
                   for row, col, length in dark_runs(code))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" class="qr">'
            f"<title>{SVG_TITLE}</title>"
            f'<path class="qr-modules" stroke="#000" d="{path}"/></svg>')
