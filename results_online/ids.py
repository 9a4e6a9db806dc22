"""Statement ids, content keys and secure links: derived from the key store's statement secret.

Derived, not stored, so that a rebuild keeps every id and every link already sent.
SPEC.md gives the derivations byte for byte.
"""

from __future__ import annotations

import base64

from results_online import crypto
from results_online.model import Entry

STATEMENT_ID_SIZE = 10  # bytes: 16 Crockford base32 characters
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = str.maketrans(_B32, _CROCKFORD)
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, _B32)


def statement_id_bytes(secret: bytes, series_code: str, entry: Entry) -> bytes:
    """The 10-byte statement id: keyed, so stable across rebuilds and unguessable."""
    digest = crypto.keyed_hash(secret, "statement-id", series_code,
                               entry.candidate.candidate_id, entry.test.code, str(entry.revision))
    return digest[:STATEMENT_ID_SIZE]


def id_to_text(raw: bytes) -> str:
    """A statement id as 16 Crockford base32 characters."""
    return base64.b32encode(raw).decode().translate(_TO_CROCKFORD)


def id_from_text(text: str) -> bytes:
    """Parse a statement id (dashes and case ignored); raise ValueError if malformed."""
    clean = text.replace("-", "").upper()
    if len(clean) != 16 or any(ch not in _CROCKFORD for ch in clean):
        raise ValueError("a statement id is 16 base32 characters")
    return base64.b32decode(clean.translate(_FROM_CROCKFORD))


def content_key(secret: bytes, statement_id: str) -> bytes:
    """The AES-256 key of one statement's ciphertext, derived so rebuilds keep links valid."""
    return crypto.keyed_hash(secret, "content-key", statement_id)


def b64url(data: bytes) -> str:
    """base64url without padding, as keys appear in links and keysets."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secure_link(site_url: str, statement_id: str, secret: bytes) -> str:
    """The secure link that opens one statement: the key is in the fragment only."""
    key = b64url(content_key(secret, statement_id))
    return f"{site_url.rstrip('/')}/statement#{statement_id}.{key}"


SHARE_CODE_SIZE = 13  # bytes drawn; 20 Crockford characters carry 100 bits of them
SHARE_CODE_CHARS = 20
SHARE_CODE_GROUP = 4  # shown as five groups of four: 7K3M-Q9RT-...


def share_code(secret: bytes, statement_id: str) -> str:
    """A statement's share code (100 bits, grouped), derived so rebuilds keep it."""
    digest = crypto.keyed_hash(secret, "share-code", statement_id)[:SHARE_CODE_SIZE]
    text = base64.b32encode(digest).decode().translate(_TO_CROCKFORD)[:SHARE_CODE_CHARS]
    return "-".join(text[i:i + SHARE_CODE_GROUP]
                    for i in range(0, SHARE_CODE_CHARS, SHARE_CODE_GROUP))


def parse_share_code(text: str) -> str | None:
    """The canonical grouped form of a typed share code, or None if it cannot be one.

    Case, spaces and dashes are ignored, and the letters Crockford base32 reads as
    digits (O as 0, I and L as 1) are taken as those digits.
    """
    clean = "".join(text.split()).replace("-", "").upper()
    clean = clean.translate(str.maketrans("OIL", "011"))
    if len(clean) != SHARE_CODE_CHARS or any(ch not in _CROCKFORD for ch in clean):
        return None
    return "-".join(clean[i:i + SHARE_CODE_GROUP]
                    for i in range(0, SHARE_CODE_CHARS, SHARE_CODE_GROUP))
