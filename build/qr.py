"""Stage: the QR code of a statement, as inline SVG for the print and web templates.

The QR text is ``https://<verify host>/q#<token digits>`` (results_online.token.qr_text).
It is encoded as two segments, the URL prefix up to and including ``#`` in byte
mode and the digits in numeric mode (3.33 bits per digit), error correction M,
version 10 at most, with the 4-module quiet zone the standard asks for.

Library: segno, not qrcode. Both encode explicit mixed segments; measured on a
typical 150-byte token (29-byte prefix + 362 digits, version 10-M) segno took
about 10 ms per code including its SVG and qrcode 12-18 ms, almost all of it
in choosing the mask. segno also gives a path-based SVG with a viewBox directly.
"""

from __future__ import annotations

import io
from typing import Any

import segno

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
    try:
        code = segno.make(
            segments, error=ERROR_LEVEL, boost_error=False, micro=False,
        )
    except segno.DataOverflowError:
        raise ValueError("the QR text does not fit any QR version") from None
    if not isinstance(code.version, int) or code.version > MAX_VERSION:
        raise ValueError(f"the QR text needs version {code.version}; at most {MAX_VERSION}")
    return code


def qr_svg(text: str) -> str:
    """The QR code for ``text`` as an inline SVG element (a single path; size it in CSS)."""
    out = io.BytesIO()
    make_qr(text).save(
        out, kind="svg", xmldecl=False, svgns=True, nl=False, omitsize=True,
        border=QUIET_ZONE, svgclass="qr", lineclass="qr-modules",
        title="QR code to verify this statement",
    )
    return out.getvalue().decode("utf-8")
