"""Stage: the QR code of a statement, as inline SVG for web pages and vector paths in PDFs.

The QR text is ``https://<verify host>/q#<token digits>`` (results_online.token.qr_text).
It is encoded as two segments, the URL prefix up to and including ``#`` in byte
mode and the digits in numeric mode (3.33 bits per digit), error correction M,
version 10 at most, with the 4-module quiet zone the standard asks for.

Library: segno, not qrcode. Both encode explicit mixed segments; measured on a
typical 150-byte token (29-byte prefix + 362 digits, version 10-M) segno took
about 10 ms per code including its SVG and qrcode 12-18 ms, almost all of it
in choosing the mask. segno also gives a path-based SVG with a viewBox directly.
The mask is chosen by qrmask.py (the same ISO penalty rules, in whole-symbol bit
arithmetic) and segno makes the symbol with it: about 4 ms per code in all.

In PDFs the batch renderer draws the modules straight into the page as one filled
vector path (``draw_qr``): WeasyPrint's SVG path parser needs about 30 ms for the
roughly 2,000 commands of a version-10 symbol, longer than the rest of the page's
drawing; the rectangles cost about 1 ms and scan the same.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any, Protocol

import segno
from results_online.build.qrmask import Packed, best_mask, pack

MAX_VERSION = 10
QUIET_ZONE = 4
ERROR_LEVEL = "M"


def qr_segments(text: str) -> tuple[str, str]:
    """Split QR text into its byte-mode prefix (through '#') and its numeric digits."""
    prefix, sep, digits = text.partition("#")
    if not sep or not digits or not (digits.isascii() and digits.isdigit()):
        raise ValueError("QR text must be a URL ending in '#' followed by decimal digits")
    if not prefix.startswith(("https://", "http://")):
        raise ValueError("QR text must start with an http(s) URL")
    return prefix + sep, digits


def make_qr(text: str) -> segno.QRCode:
    """Encode QR text as byte + numeric segments at level M; ValueError past version 10."""
    prefix, digits = qr_segments(text)
    # segno takes a list of (content, mode) segments; its annotations only admit one value.
    segments: Any = [(prefix, segno.consts.MODE_BYTE), (digits, segno.consts.MODE_NUMERIC)]
    # Made with mask 0, then remade with the mask qrmask picks: both makes take about
    # 4 ms, segno choosing the mask itself about 10 (qrmask.py says why).
    probe = _make(segments, mask=0)
    if not isinstance(probe.version, int) or probe.version > MAX_VERSION:
        raise ValueError(f"the QR text needs version {probe.version}; at most {MAX_VERSION}")
    mask = best_mask(pack(probe.matrix), mask_deltas(probe.version))
    return probe if mask == 0 else _make(segments, mask=mask, version=probe.version)


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


class PathSink(Protocol):
    """The part of a PDF content stream (pydyf.Stream) that draw_qr uses."""

    def transform(self, *, a: float, d: float, e: float, f: float) -> None: ...
    def rectangle(self, x: float, y: float, width: float, height: float) -> None: ...
    def set_color_rgb(self, r: float, g: float, b: float, stroke: bool = False) -> None: ...
    def fill(self, even_odd: bool = False) -> None: ...


def dark_runs(code: segno.QRCode) -> list[tuple[int, int, int]]:
    """The dark modules as horizontal runs: (row, first column, length), quiet zone excluded."""
    runs = []
    for y, row in enumerate(code.matrix):
        x, width = 0, len(row)
        while x < width:
            if row[x] & 1:
                start = x
                while x < width and row[x] & 1:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return runs


def draw_qr(stream: PathSink, code: segno.QRCode, x: float, y: float, size: float) -> None:
    """Draw the code, quiet zone included, into the square (x, y, size), y pointing down.

    Changes the stream's transform: call it inside a saved graphics state.
    """
    unit = size / (len(code.matrix) + 2 * QUIET_ZONE)
    # One module = one unit, so every rectangle is whole numbers: far less to format
    # than ~700 rectangles of float coordinates.
    stream.transform(a=unit, d=unit, e=x + QUIET_ZONE * unit, f=y + QUIET_ZONE * unit)
    stream.set_color_rgb(0, 0, 0)
    for row, col, length in dark_runs(code):
        stream.rectangle(col, row, length, 1)
    stream.fill()  # one path: no hairline seams between the abutting rows


def qr_svg(text: str) -> str:
    """The QR code for ``text`` as an inline SVG element (a single path; size it in CSS)."""
    return svg_of(make_qr(text))


def svg_of(code: segno.QRCode) -> str:
    """A made QR code as an inline SVG element with a 4-module quiet zone."""
    out = io.BytesIO()
    code.save(
        out, kind="svg", xmldecl=False, svgns=True, nl=False, omitsize=True,
        border=QUIET_ZONE, svgclass="qr", lineclass="qr-modules",
        title="QR code to verify this statement",
    )
    return out.getvalue().decode("utf-8")
