"""The signed token: a compact binary statement of results (layout in SPEC.md).

Pure functions: ``encode`` builds the signed body, ``sign_token`` signs it,
``verify_token`` checks the signature against a keyset and decodes, and
``to_digits``/``from_digits`` carry the token as decimal digits in the QR.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from results_online import crypto
from results_online.errors import InvalidToken
from results_online.ids import STATEMENT_ID_SIZE
from results_online.keyset import Keyset

VERSION = 1
MAX_NAME_BYTES = 48
EPOCH = date(2000, 1, 1)
# A result's value byte: a mark or scale score 0..250, or one of these.
STATUS_CODES = {"X": 251, "Z": 252, "Pending": 253, "Withheld": 254}
NO_MARK = 255
_STATUS_NAMES = {v: k for k, v in STATUS_CODES.items()}
_HEADER = struct.Struct(">B8s10sBHH")
# Series months as carried: year * 12 + month - 1, for 2000-01 .. 5000-12.
FIRST_SERIES, LAST_SERIES = 2000 * 12, 5000 * 12 + 11
QR_PATH = "/q"
# The verify host as series.toml may give it: http(s), an ASCII host (IDNs in xn-- form),
# an optional port; no user, path, query or fragment.
HOST_URL = r"https?://[A-Za-z0-9.:\[\]-]+"
# The QR text exactly as qr_text writes it: that host, the path /q, '#', the digits.
_QR_TEXT = re.compile(HOST_URL + r"/q#([0-9]+)", re.ASCII)
# Digits per trailing chunk of k bytes (k = 1..7): ceil(8k·log10 2).
_CHUNK_DIGITS = (0, 3, 5, 8, 10, 13, 15, 17)


@dataclass(frozen=True)
class TokenResult:
    """One result line: a paper or skill, or the overall result (empty code)."""

    code: str
    value: int | None  # mark or scale score
    status: str | None  # None, "X", "Z", "Pending", "Withheld"
    grade: str = ""
    cefr: str = ""  # overall result only


@dataclass(frozen=True)
class TokenData:
    """Everything a token carries besides its signature."""

    key_id: bytes
    statement_id: bytes
    revision: int
    issue_date: date
    series_year: int
    series_month: int
    test: str
    candidate_number: str
    name: str
    results: tuple[TokenResult, ...]


def encode(data: TokenData) -> bytes:
    """The canonical unsigned body of a token."""
    if len(data.key_id) != 8 or len(data.statement_id) != STATEMENT_ID_SIZE:
        raise ValueError("key id is 8 bytes and statement id 10 bytes")
    if not 1 <= data.series_month <= 12:
        raise ValueError("series months are 1..12")
    days = (data.issue_date - EPOCH).days
    series = data.series_year * 12 + data.series_month - 1
    if not 0 <= days <= 0xFFFF:
        raise ValueError("issue dates run from 2000-01-01 to 2179-06-06")
    name = truncate_name(data.name)
    _check_fields(data.revision, series, name, data.results)
    out = bytearray(
        _HEADER.pack(VERSION, data.key_id, data.statement_id, data.revision, days, series)
    )
    _str8(out, data.test)
    _str8(out, data.candidate_number)
    _str8(out, name)
    out.append(len(data.results))
    for r in data.results:
        _str8(out, r.code)
        out.append(_value_byte(r))
        _str8(out, r.grade)
        if r.code == "":
            _str8(out, r.cefr)
    return bytes(out)


def sign_token(private_key: Ed25519PrivateKey, data: TokenData, *, before: bytes = b"") -> bytes:
    """Encode and sign: the token is body ‖ Ed25519 signature.

    ``before``, a token signed earlier, is returned when its body is this one: Ed25519
    signs deterministically and the body names the key, so signing again gives the same
    bytes (a rebuild keeps 10,000s of statements; this spares half their sealing).
    """
    if crypto.key_id(private_key.public_key()) != data.key_id:
        raise ValueError("the token's key id is not the signing key's")
    body = encode(data)
    if before and before[:-crypto.SIGNATURE_SIZE] == body:
        return before
    return crypto.sign(private_key, body)


def verify_token(keyset: Keyset, token: bytes) -> TokenData:
    """Return the token's data if its signature holds under a valid key; else raise InvalidToken."""
    data = decode_unverified(token)
    crypto.verify(keyset.find(data.key_id, data.issue_date), token)
    return data


def decode_unverified(token: bytes) -> TokenData:
    """Parse a token without checking its signature; raise InvalidToken if malformed."""
    try:
        return _decode(token[: -crypto.SIGNATURE_SIZE], len(token))
    except (struct.error, IndexError, UnicodeDecodeError, ValueError):
        raise InvalidToken from None


def truncate_name(name: str) -> str:
    """The name as the token carries it: at most 48 UTF-8 bytes, cut with an ellipsis."""
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    cut = name
    while len((cut + "…").encode()) > MAX_NAME_BYTES:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def to_digits(token: bytes) -> str:
    """Token bytes as decimal digits: each 7-byte chunk as 17 digits, a tail as fewer."""
    parts = []
    for i in range(0, len(token), 7):
        chunk = token[i : i + 7]
        parts.append(str(int.from_bytes(chunk, "big")).zfill(_CHUNK_DIGITS[len(chunk)]))
    return "".join(parts)


def from_digits(digits: str) -> bytes:
    """Inverse of ``to_digits``; raise InvalidToken on anything it could not have made."""
    if not digits.isascii() or not digits.isdigit():
        raise InvalidToken
    full, tail = divmod(len(digits), 17)
    if tail not in _CHUNK_DIGITS[:-1]:
        raise InvalidToken
    out = bytearray()
    sizes = [7] * full + ([_CHUNK_DIGITS.index(tail)] if tail else [])
    pos = 0
    for size in sizes:
        width = _CHUNK_DIGITS[size]
        value = int(digits[pos : pos + width])
        pos += width
        if value >= 256**size:
            raise InvalidToken
        out += value.to_bytes(size, "big")
    return bytes(out)


def qr_text(verify_url: str, token: bytes) -> str:
    """The text in the QR code: the verify page's URL with the token in the fragment."""
    return f"{verify_url.rstrip('/')}{QR_PATH}#{to_digits(token)}"


def from_qr_text(text: str) -> bytes:
    """The token in QR text ``http(s)://<host>/q#<digits>``; raise InvalidToken for any other."""
    match = _QR_TEXT.fullmatch(text)
    if match is None:
        raise InvalidToken
    return from_digits(match.group(1))


def _decode(body: bytes, total: int) -> TokenData:
    if total <= crypto.SIGNATURE_SIZE or body[0] != VERSION:
        raise ValueError("unknown version")
    _version, kid, sid, revision, days, series = _HEADER.unpack_from(body, 0)
    pos = _HEADER.size
    test, pos = _read_str8(body, pos)
    number, pos = _read_str8(body, pos)
    name, pos = _read_str8(body, pos)
    count = body[pos]
    pos += 1
    results = []
    for _ in range(count):
        code, pos = _read_str8(body, pos)
        value = body[pos]
        pos += 1
        grade, pos = _read_str8(body, pos)
        cefr = ""
        if code == "":
            cefr, pos = _read_str8(body, pos)
        status = _STATUS_NAMES.get(value)
        mark = value if value <= 250 else None
        results.append(TokenResult(code, mark, status, grade, cefr))
    if pos != len(body):
        raise ValueError("trailing bytes")
    _check_fields(revision, series, name, results)
    return TokenData(kid, sid, revision, EPOCH + timedelta(days=days), series // 12,
                     series % 12 + 1, test, number, name, tuple(results))


def _check_fields(revision: int, series: int, name: str, results: Sequence[TokenResult]) -> None:
    """The ranges of SPEC.md, enforced alike by the encoder and the decoder."""
    if not 1 <= revision <= 255:
        raise ValueError("revisions are 1..255")
    if not FIRST_SERIES <= series <= LAST_SERIES:
        raise ValueError("series run from 2000-01 to 5000-12")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise ValueError("the name is longer than the token carries")
    if not 1 <= len(results) <= 255:
        raise ValueError("a token carries 1..255 results")
    for i, r in enumerate(results):
        if r.code == "" and i != len(results) - 1:
            raise ValueError("only the last result may be the overall result")
        if r.code != "" and r.cefr:
            raise ValueError("only the overall result carries a CEFR level")
        if r.status is not None and (r.grade or r.cefr):
            raise ValueError("a result with a status code has no grade or CEFR level")


def _value_byte(r: TokenResult) -> int:
    if r.status is not None:
        # One byte holds a value or a status: a value beside a status would be lost.
        if r.status not in STATUS_CODES or r.value is not None:
            raise ValueError("a result has a known status code or a value, not both")
        return STATUS_CODES[r.status]
    if r.value is None:
        return NO_MARK
    if not 0 <= r.value <= 250:
        raise ValueError("marks and scores are 0..250")
    return r.value


def _str8(out: bytearray, text: str) -> None:
    data = text.encode()
    if len(data) > 255:
        raise ValueError("token strings are at most 255 bytes")
    out.append(len(data))
    out += data


def _read_str8(body: bytes, pos: int) -> tuple[str, int]:
    n = body[pos]
    end = pos + 1 + n
    if end > len(body):
        raise ValueError("truncated")
    return body[pos + 1 : end].decode(), end
