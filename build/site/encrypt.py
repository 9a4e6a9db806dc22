"""Stage: encrypt each rendered statement into the public ciphertext ``s/<id>.bin``.

The blob is AES-256-GCM (``crypto.seal``): nonce ‖ ciphertext ‖ tag, with the
statement id (16 ASCII characters) as associated data, so a blob moved to
another id does not open. Its plaintext holds what the viewer page shows:

    len(fragment) ‖ the fragment (UTF-8) ‖ len(PDF) ‖ the PDF ‖ zero bytes

(lengths 4 bytes, big-endian). The zeros pad every blob to a whole number of
``BUCKET`` bytes, so the size of ``s/<id>.bin`` on the CDN says nothing about the
results inside (a typical statement is about 23 kB: every one is exactly 64 KiB).

The key is ``ids.content_key(statement_secret, id)``: 256 bits that exist only in
the secure link (never on the site); derived rather than stored, so a rebuild
keeps every link the candidates were sent. SPEC.md documents the layout.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from results_online import crypto
from results_online.build.render.statements import RenderedStatement
from results_online.crypto import Random
from results_online.errors import InvalidToken
from results_online.ids import content_key
from results_online.names import BLOB_FOLDER, blob_path

_LENGTH = struct.Struct(">I")
BUCKET = 65_536  # bytes: every blob's size is a multiple of this
_OVERHEAD = 12 + 16  # nonce and tag around the ciphertext


@dataclass(frozen=True)
class StatementContent:
    """What a statement's blob carries: the web fragment and the PDF."""

    fragment_html: str
    pdf: bytes


def pack(content: StatementContent) -> bytes:
    """The plaintext container of one statement, padded so its blob fills whole buckets."""
    html = content.fragment_html.encode("utf-8")
    body = _LENGTH.pack(len(html)) + html + _LENGTH.pack(len(content.pdf)) + content.pdf
    blob = -(-(len(body) + _OVERHEAD) // BUCKET) * BUCKET  # rounded up to a bucket
    return body + bytes(blob - _OVERHEAD - len(body))


def unpack(plaintext: bytes) -> StatementContent:
    """Split a container made by ``pack``; raise ValueError if it is malformed."""
    html_end = _LENGTH.size + _length_at(plaintext, 0)
    pdf_start = html_end + _LENGTH.size
    pdf_end = pdf_start + _length_at(plaintext, html_end)
    if pdf_end > len(plaintext) or any(plaintext[pdf_end:]):
        raise ValueError("the statement container is truncated or its padding is not zeros")
    return StatementContent(plaintext[_LENGTH.size:html_end].decode("utf-8"),
                            plaintext[pdf_start:pdf_end])


def _length_at(plaintext: bytes, offset: int) -> int:
    if offset + _LENGTH.size > len(plaintext):
        raise ValueError("the statement container is truncated")
    (size,) = _LENGTH.unpack_from(plaintext, offset)
    return int(size)


def encrypt_statement(key: bytes, statement_id: str, content: StatementContent,
                      random: Random = os.urandom) -> bytes:
    """One statement's blob, bound to its id."""
    return crypto.seal(key, statement_id.encode("ascii"), pack(content), random)


def decrypt_statement(key: bytes, statement_id: str, blob: bytes) -> StatementContent:
    """Open a blob as the viewer page does; raise InvalidToken on any mismatch."""
    plaintext = crypto.open_sealed(key, statement_id.encode("ascii"), blob)
    try:
        return unpack(plaintext)
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken from None


def encrypt_statements(rendered: Sequence[RenderedStatement], statement_secret: bytes,
                       site: Path, random: Random = os.urandom) -> tuple[Path, ...]:
    """Write ``site/s/<id>.bin`` for every rendered statement; return the paths."""
    (site / BLOB_FOLDER).mkdir(parents=True, exist_ok=True)
    out = []
    for r in rendered:
        sid = r.statement.statement_id
        if r.fragment is None:
            raise ValueError(f"statement {sid} was not rendered by this build")
        content = StatementContent(r.fragment, r.pdf.read_bytes())
        path = site / blob_path(sid)
        path.write_bytes(encrypt_statement(content_key(statement_secret, sid), sid, content,
                                           random))
        out.append(path)
    return tuple(out)
