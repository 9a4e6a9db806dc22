"""Known-answer vectors for the signed token (SPEC.md): build them, write them, check them.

    python tests/token_vectors.py          rewrite tests/vectors/*.json from the cases below
    python tests/token_vectors.py --check  exit 1 if a stored vector no longer matches

Ed25519 is deterministic, so a fixed seed and fixed TokenData give a fixed token.
The seeds are test data, published on purpose; never use them for anything real.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from results_online import crypto
from results_online import token as tk
from results_online.ids import id_to_text
from results_online.keyset import Keyset, PublicKey

VECTOR_DIR = Path(__file__).parent / "vectors"
VERIFY_URL = "https://verify.example.org"
KEY_VALID_FROM = date(2026, 1, 1)


def seed(label: str) -> bytes:
    """A fixed 32-byte Ed25519 seed derived from a label."""
    return hashlib.sha256(f"results-online test vector key: {label}".encode()).digest()


def private_key(seed_bytes: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key with this seed."""
    return Ed25519PrivateKey.from_private_bytes(seed_bytes)


def keyset_for(key: Ed25519PrivateKey) -> Keyset:
    """A keyset holding only this key, valid from KEY_VALID_FROM on."""
    pub = key.public_key()
    return Keyset((PublicKey(crypto.key_id(pub), pub, KEY_VALID_FROM, None),))


def _r(code: str, value: int | None, status: str | None = None, grade: str = "",
       cefr: str = "") -> dict[str, Any]:
    return {"code": code, "value": value, "status": status, "grade": grade, "cefr": cefr}


# name -> (key label, fields of TokenData except key_id, as JSON)
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "step-basic": ("A", {
        "statement_id": "0123456789abcdef0123", "revision": 1, "issue_date": "2026-08-20",
        "series_year": 2026, "series_month": 6, "test": "STEP", "candidate_number": "0042",
        "name": "Zoë Ångström-Łukasiewicz",
        "results": [_r("9470", 97, grade="S"), _r("9475", 71, grade="1")],
    }),
    "step-codes-revised": ("A", {
        "statement_id": "f0e1d2c3b4a596870011", "revision": 2, "issue_date": "2026-09-15",
        "series_year": 2026, "series_month": 6, "test": "STEP", "candidate_number": "0007",
        "name": "فاطمة الزهراء",
        "results": [_r("9470", None, "X"), _r("9475", None, "Withheld")],
    }),
    "cambridge-fce": ("A", {
        "statement_id": "a1b2c3d4e5f60718293a", "revision": 1, "issue_date": "2026-08-20",
        "series_year": 2026, "series_month": 6, "test": "FCE", "candidate_number": "1203",
        "name": "Νικόλαος Παπαδόπουλος",
        "results": [_r("R", 176), _r("U", 181), _r("W", 169), _r("L", 178), _r("S", 176),
                    _r("", 176, grade="B", cefr="B2")],
    }),
    "cambridge-ket-long-name-pending": ("B", {
        "statement_id": "00000000000000000001", "revision": 1, "issue_date": "2027-03-01",
        "series_year": 2027, "series_month": 3, "test": "KET", "candidate_number": "0001",
        "name": "Siobhán Ó Súilleabháin-Nguyễn Thị Minh Khai de la Cruz",
        "results": [_r("RW", 140), _r("L", None, "Pending"), _r("S", None, "Z"),
                    _r("", None, "Pending")],
    }),
    # The edges of each range: revision 255, the last series, an issue date on the key's
    # first day, a name of exactly 48 bytes that starts with U+FEFF (part of the name: a
    # reader must not drop it as a byte order mark), a mark of 0 and a grade with no mark.
    "edge-limits": ("A", {
        "statement_id": "ffffffffffffffffffff", "revision": 255, "issue_date": "2026-01-01",
        "series_year": 5000, "series_month": 12, "test": "STEP", "candidate_number": "",
        "name": "\ufeff" + "Edge" * 11 + "x",
        "results": [_r("9470", 0, grade="U"), _r("9475", None, grade="S")],
    }),
}


def token_data(key: Ed25519PrivateKey, fields: dict[str, Any]) -> tk.TokenData:
    """TokenData from a vector's JSON fields, for the given signing key."""
    return tk.TokenData(
        key_id=crypto.key_id(key.public_key()),
        statement_id=bytes.fromhex(fields["statement_id"]),
        revision=fields["revision"],
        issue_date=date.fromisoformat(fields["issue_date"]),
        series_year=fields["series_year"],
        series_month=fields["series_month"],
        test=fields["test"],
        candidate_number=fields["candidate_number"],
        name=fields["name"],
        results=tuple(tk.TokenResult(**r) for r in fields["results"]),
    )


def make_vector(name: str) -> dict[str, Any]:
    """The full vector for one case: key, input fields, and every expected output."""
    label, fields = CASES[name]
    s = seed(label)
    key = private_key(s)
    signed = tk.sign_token(key, token_data(key, fields))
    return {
        "description": f"{name}: {fields['test']} statement signed with test key {label}",
        "private_key_seed_hex": s.hex(),
        "public_key_hex": crypto.raw_public_key(key.public_key()).hex(),
        "key_id_hex": crypto.key_id(key.public_key()).hex(),
        "keyset": json.loads(keyset_for(key).to_json()),
        "token_data": fields,
        "statement_id_text": id_to_text(bytes.fromhex(fields["statement_id"])),
        "name_in_token": tk.truncate_name(fields["name"]),
        "body_hex": signed[: -crypto.SIGNATURE_SIZE].hex(),
        "token_hex": signed.hex(),
        "token_bytes": len(signed),
        "digits": tk.to_digits(signed),
        "qr_text": tk.qr_text(VERIFY_URL, signed),
    }


def stored(name: str) -> dict[str, Any]:
    """The vector as stored in tests/vectors/<name>.json."""
    data: dict[str, Any] = json.loads((VECTOR_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def write_all() -> None:
    """Rewrite every vector file."""
    VECTOR_DIR.mkdir(exist_ok=True)
    for name in CASES:
        text = json.dumps(make_vector(name), indent=2, ensure_ascii=False) + "\n"
        (VECTOR_DIR / f"{name}.json").write_text(text, encoding="utf-8")


def check_all() -> list[str]:
    """Names of the stored vectors that no longer match what the code makes."""
    return [name for name in CASES if stored(name) != make_vector(name)]


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        bad = check_all()
        print("mismatch: " + ", ".join(bad) if bad else f"{len(CASES)} vectors hold")
        sys.exit(1 if bad else 0)
    write_all()
    print(f"wrote {len(CASES)} vectors to {VECTOR_DIR}")
