"""Known-answer vectors for every rule a token reader enforces (SPEC.md, "Decoding rejects").

    python tests/reject_vectors.py          rewrite tests/vectors/reject-*.json
    python tests/reject_vectors.py --check  exit 1 if a stored vector no longer matches

Each vector is QR text a reader must refuse with ``InvalidToken``, and ``rejected_by`` says
which step refuses it: ``qr_text`` (reading the URL and its decimal digits into bytes),
``decode`` (the body, though it is correctly signed) or ``verify`` (keyset, dates, signature). The
bodies are written here byte by byte, not by ``token.encode``, which refuses to make them.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import token_vectors as tv

from results_online import crypto
from results_online import token as tk
from results_online.keyset import Keyset, PublicKey

KEY = tv.private_key(tv.seed("A"))
KID = crypto.key_id(KEY.public_key())
ERROR = "InvalidToken"

Entry = tuple[bytes, int, bytes, bytes | None]  # code, value byte, grade, cefr (overall only)


@dataclass(frozen=True)
class Body:
    """A token body field by field, free to break any rule."""

    version: int = 1
    revision: int = 1
    issued: date = date(2026, 8, 20)
    series: int = 2026 * 12 + 5
    test: bytes = b"STEP"
    number: bytes = b"0042"
    name: bytes = "Zoë Ångström".encode()
    entries: tuple[Entry, ...] = ((b"9470", 97, b"S", None), (b"9475", 71, b"1", None))
    count: int | None = None  # the count byte, when it should disagree with the entries
    tail: bytes = b""
    kid: bytes = KID

    def raw(self) -> bytes:
        """The body's bytes in the SPEC.md layout."""
        days = (self.issued - tk.EPOCH).days
        out = bytearray(struct.pack(">B8s10sBHH", self.version, self.kid,
                                    bytes.fromhex("0123456789abcdef0123"), self.revision, days,
                                    self.series))
        for text in (self.test, self.number, self.name):
            out += bytes([len(text)]) + text
        out.append(len(self.entries) if self.count is None else self.count)
        for code, value, grade, cefr in self.entries:
            out += bytes([len(code)]) + code + bytes([value, len(grade)]) + grade
            if cefr is not None:
                out += bytes([len(cefr)]) + cefr
        return bytes(out) + self.tail


def _signed(body: Body, key: Any = KEY) -> bytes:
    return crypto.sign(key, body.raw())


def _qr(token: bytes) -> str:
    return tk.qr_text(tv.VERIFY_URL, token)


def _flip_last(token: bytes) -> bytes:
    return token[:-1] + bytes([token[-1] ^ 1])


_OVERALL = (b"", 176, b"B", b"B2")
_SKILL = (b"R", 176, b"", None)
_GOOD = _qr(_signed(Body()))
_DIGITS = _GOOD.partition("#")[2]
_RETIRED = Keyset((PublicKey(KID, KEY.public_key(), tv.KEY_VALID_FROM, date(2026, 7, 1)),))

# name -> (rule, rejected_by, QR text, keyset or None for the test key valid from 2026-01-01)
Case = tuple[str, str, Callable[[], str], Keyset | None]
CASES: dict[str, Case] = {
    "reject-path-not-q": ("the path before # is exactly /q", "qr_text",
                          lambda: _GOOD.replace("/q#", "/verify#"), None),
    "reject-path-trailing-slash": ("the path before # is exactly /q", "qr_text",
                                   lambda: _GOOD.replace("/q#", "/q/#"), None),
    "reject-query": ("no query before #", "qr_text", lambda: _GOOD.replace("/q#", "/q?x=1#"),
                     None),
    "reject-scheme": ("http or https only", "qr_text",
                      lambda: _GOOD.replace("https://", "ftp://"), None),
    "reject-no-digits": ("digits after #", "qr_text", lambda: _GOOD.partition("#")[0] + "#",
                         None),
    "reject-digits-not-ascii": ("ASCII digits only", "qr_text",
                                lambda: _GOOD[:-3] + "\uff11\uff12\uff13", None),
    "reject-digits-tail-length": ("a final chunk has 3, 5, 8, 10, 13 or 15 digits", "qr_text",
                                  lambda: _GOOD + "1", None),
    "reject-digits-chunk-too-large": ("a chunk's value fits its byte count", "qr_text",
                                      lambda: _GOOD.partition("#")[0] + "#" + "9" * 17
                                      + _DIGITS[17:], None),
    "reject-short": ("more than 64 bytes", "decode", lambda: _qr(bytes(64)), None),
    "reject-version-2": ("version byte 1", "decode", lambda: _qr(_signed(Body(version=2))),
                         None),
    "reject-revision-0": ("revision 1..255", "decode",
                          lambda: _qr(_signed(Body(revision=0))), None),
    "reject-series-1999": ("series 2000-01 .. 5000-12", "decode",
                           lambda: _qr(_signed(Body(series=1999 * 12 + 11))), None),
    "reject-series-5001": ("series 2000-01 .. 5000-12", "decode",
                           lambda: _qr(_signed(Body(series=5001 * 12))), None),
    "reject-name-60-bytes": ("a name of at most 48 bytes", "decode",
                             lambda: _qr(_signed(Body(name=("王" * 20).encode()))), None),
    "reject-bad-utf8": ("strict UTF-8", "decode",
                        lambda: _qr(_signed(Body(name=b"Zo\xc3("))), None),
    "reject-utf8-surrogate": ("strict UTF-8 (no encoded surrogates)", "decode",
                              lambda: _qr(_signed(Body(name=b"Zo\xed\xa0\x80"))), None),
    "reject-zero-entries": ("1..255 results", "decode",
                            lambda: _qr(_signed(Body(entries=()))), None),
    "reject-status-with-grade": ("a status code has no grade", "decode",
                                 lambda: _qr(_signed(Body(entries=((b"9470", 251, b"S", None),)))),
                                 None),
    "reject-status-with-cefr": ("a status code has no CEFR level", "decode",
                                lambda: _qr(_signed(Body(test=b"FCE", entries=(
                                    _SKILL, (b"", 253, b"", b"B2"))))), None),
    "reject-overall-not-last": ("only the last result may be the overall result", "decode",
                                lambda: _qr(_signed(Body(test=b"FCE",
                                                         entries=(_OVERALL, _SKILL)))), None),
    "reject-two-overall": ("only the last result may be the overall result", "decode",
                           lambda: _qr(_signed(Body(test=b"FCE",
                                                    entries=(_SKILL, _OVERALL, _OVERALL)))),
                           None),
    "reject-string-past-body": ("a string ends inside the body", "decode",
                                lambda: _qr(_signed(Body(count=3))), None),
    "reject-trailing-bytes": ("nothing after the last result", "decode",
                              lambda: _qr(_signed(Body(tail=b"\x00"))), None),
    "reject-unknown-key": ("the key id is in the keyset", "verify",
                           lambda: _qr(_signed(Body(kid=crypto.key_id(
                               tv.private_key(tv.seed("C")).public_key())),
                               tv.private_key(tv.seed("C")))), None),
    "reject-forged-key-id": ("the signature holds under the named key", "verify",
                             lambda: _qr(_signed(Body(), tv.private_key(tv.seed("C")))), None),
    "reject-bad-signature": ("the signature holds", "verify",
                             lambda: _qr(_flip_last(_signed(Body()))), None),
    "reject-before-valid-from": ("valid_from <= issue date", "verify",
                                 lambda: _qr(_signed(Body(issued=date(2025, 12, 31)))), None),
    "reject-after-valid-until": ("issue date <= valid_until", "verify",
                                 lambda: _qr(_signed(Body(issued=date(2026, 7, 2)))), _RETIRED),
}


EDGES = (0, 1, 2, 48, 49, 250, 251, 254, 255)


def near_bodies(seed: int = 20261201, per_body: int = 800) -> list[bytes]:
    """Bodies near the vectors' valid ones and near each decode-stage reject vector's.

    Every byte set to each edge value, then random changes, cuts and insertions: for
    checking that two decoders, or a decoder and the encoder, agree on all of them.
    """
    rng = random.Random(seed)
    bodies = [bytes.fromhex(tv.stored(n)["body_hex"]) for n in sorted(tv.CASES)]
    bodies += [Body(test=b"FCE", entries=(_SKILL, (b"", 150, b"", b"B1"))).raw()]
    for name in sorted(CASES):
        v = stored(name)
        if v["rejected_by"] == "decode":
            bodies.append(tk.from_qr_text(v["qr_text"])[:-64])
    out = [b[:i] + bytes([e]) + b[i + 1:] for b in bodies for i in range(len(b)) for e in EDGES]
    for body in bodies:
        out.append(body)
        out += [_mutant(body, rng) for _ in range(per_body)]
    return out


def _mutant(body: bytes, rng: random.Random) -> bytes:
    b = bytearray(body)
    for _ in range(rng.randint(1, 3)):
        if not b:
            break
        i = rng.randrange(len(b))
        kind = rng.random()
        if kind < 0.5:
            b[i] = rng.choice(EDGES) if rng.random() < 0.5 else rng.randrange(256)
        elif kind < 0.7:
            del b[i]
        elif kind < 0.9:
            b.insert(i, rng.randrange(256))
        else:
            b[i:] = b[i:i + rng.randrange(4)]
    return bytes(b)


def make_vector(name: str) -> dict[str, Any]:
    """One reject vector: the rule, the step that refuses, the keyset and the QR text."""
    rule, step, make, keyset = CASES[name]
    return {
        "description": f"{name}: a reader refuses this QR text ({rule})",
        "expect": "reject",
        "rule": rule,
        "rejected_by": step,
        "expected_error": ERROR,
        "keyset": json.loads((keyset or tv.keyset_for(KEY)).to_json()),
        "qr_text": make(),
    }


def stored(name: str) -> dict[str, Any]:
    """The vector as stored in tests/vectors/<name>.json."""
    data: dict[str, Any] = json.loads((tv.VECTOR_DIR / f"{name}.json").read_text("utf-8"))
    return data


def write_all() -> None:
    """Rewrite every reject vector file."""
    for name in CASES:
        text = json.dumps(make_vector(name), indent=2, ensure_ascii=False) + "\n"
        (tv.VECTOR_DIR / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        bad = [n for n in CASES if stored(n) != make_vector(n)]
        print("mismatch: " + ", ".join(bad) if bad else f"{len(CASES)} reject vectors hold")
        sys.exit(1 if bad else 0)
    write_all()
    print(f"wrote {len(CASES)} reject vectors to {tv.VECTOR_DIR}")
