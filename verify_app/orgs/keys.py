"""API keys and confirmation codes: random, shown once, stored only as SHA-256.

A plain SHA-256 is enough here, and a slow password hash would buy nothing: the
keys are 256 random bits (codes 130), so no dictionary or brute force over the
stored hash can find one, and a fast hash lets every request find its key with
one indexed lookup instead of paying a deliberate ~100 ms per call.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field

from results_online.crypto import Random

KEY_PREFIX = "ro1"  # format version of the key text; lets scanners recognise a leaked key
KEY_ID_BYTES = 5  # 8 base32 characters: the public handle shown in lists and the audit log
KEY_SECRET_BYTES = 32
CODE_BYTES = 16  # the confirmation code sent by e-mail
MAX_KEY_TEXT = 100


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=").lower()


@dataclass(frozen=True)
class NewKey:
    """A freshly made API key: ``text`` is given to the organisation once, never stored."""

    key_id: str
    text: str = field(repr=False)
    digest: bytes = field(repr=False)


def new_key(random: Random = os.urandom) -> NewKey:
    """A new API key ``ro1_<key id>_<secret>``."""
    key_id = _b32(random(KEY_ID_BYTES))
    secret = base64.urlsafe_b64encode(random(KEY_SECRET_BYTES)).decode().rstrip("=")
    text = f"{KEY_PREFIX}_{key_id}_{secret}"
    return NewKey(key_id, text, digest(text))


def digest(text: str) -> bytes:
    """The stored form of a key or code: SHA-256 of its text."""
    return hashlib.sha256(text.strip().encode("utf-8", "replace")).digest()


def new_code(random: Random = os.urandom) -> tuple[str, bytes]:
    """A confirmation code (groups of 4 base32 characters) and its digest."""
    raw = _b32(random(CODE_BYTES)).upper()
    text = "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))
    return text, code_digest(text)


def code_digest(text: str) -> bytes:
    """The digest of a confirmation code as typed: dashes, spaces and case ignored."""
    return digest("".join(c for c in text.upper() if c.isalnum()))


def bearer(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > MAX_KEY_TEXT:
        return None
    return value
