"""Stage: encrypt each rendered statement into the public ciphertext ``s/<id>.bin``.

The blob is AES-256-GCM (``crypto.seal``): nonce ‖ ciphertext ‖ tag, with the
statement id (16 ASCII characters) as associated data, so a blob moved to
another id does not open. Its plaintext holds what the viewer page shows:

    4-byte big-endian length of the HTML fragment ‖ the fragment (UTF-8) ‖ the PDF

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


@dataclass(frozen=True)
class StatementContent:
    """What a statement's blob carries: the web fragment and the PDF."""

    fragment_html: str
    pdf: bytes


def pack(content: StatementContent) -> bytes:
    """The plaintext container of one statement."""
    html = content.fragment_html.encode("utf-8")
    return _LENGTH.pack(len(html)) + html + content.pdf


def unpack(plaintext: bytes) -> StatementContent:
    """Split a container made by ``pack``; raise ValueError if it is malformed."""
    if len(plaintext) < _LENGTH.size:
        raise ValueError("the statement container is truncated")
    (size,) = _LENGTH.unpack_from(plaintext)
    end = _LENGTH.size + size
    if end > len(plaintext):
        raise ValueError("the statement container is truncated")
    return StatementContent(plaintext[_LENGTH.size:end].decode("utf-8"), plaintext[end:])


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
        content = StatementContent(r.fragment.read_text(encoding="utf-8"), r.pdf.read_bytes())
        path = site / blob_path(sid)
        path.write_bytes(encrypt_statement(content_key(statement_secret, sid), sid, content,
                                           random))
        out.append(path)
    return tuple(out)
