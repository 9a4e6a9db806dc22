"""Known-answer vector for the derivations of SPEC.md: statement id, content key, secure link.

    python tests/id_vectors.py          rewrite tests/vectors/ids.json
    python tests/id_vectors.py --check  exit 1 if the stored file no longer matches

Computed here from the documented HMAC input, byte for byte (not through ids.py), so
the test that compares it with ids.py checks the code against the text of SPEC.md.
The statement secret is test data, published on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "vectors" / "ids.json"
SECRET = hashlib.sha256(b"results-online test vector statement secret").digest()
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SITE_URL = "https://results.example.org"
CASES = [("2026-06", "GB123-0042", "STEP", 1), ("2026-06", "GB123-0042", "STEP", 2),
         ("2027-03", "ΕΛ-7", "KET", 1)]


def hmac_input(purpose: str, *parts: str) -> bytes:
    """The HMAC message: the purpose in UTF-8, then each part as u32 length ‖ UTF-8 bytes."""
    out = purpose.encode()
    for part in parts:
        data = part.encode()
        out += len(data).to_bytes(4, "big") + data
    return out


def crockford(raw: bytes) -> str:
    """80 bits as 16 base32 digits, most significant bit first, in Crockford's alphabet."""
    value = int.from_bytes(raw, "big")
    return "".join(CROCKFORD[(value >> (75 - 5 * i)) & 31] for i in range(16))


def case(series: str, candidate: str, test: str, revision: int) -> dict[str, Any]:
    """One statement's id, content key and link, with the HMAC inputs that make them."""
    id_message = hmac_input("statement-id", series, candidate, test, str(revision))
    sid = hmac.new(SECRET, id_message, hashlib.sha256).digest()[:10]
    text = crockford(sid)
    key_message = hmac_input("content-key", text)
    key = hmac.new(SECRET, key_message, hashlib.sha256).digest()
    link_key = base64.urlsafe_b64encode(key).rstrip(b"=").decode()
    return {
        "series_code": series, "candidate_id": candidate, "test": test, "revision": revision,
        "statement_id_hmac_input_hex": id_message.hex(),
        "statement_id_hex": sid.hex(), "statement_id": text,
        "content_key_hmac_input_hex": key_message.hex(),
        "content_key_hex": key.hex(), "link_key": link_key,
        "link": f"{SITE_URL}/statement#{text}.{link_key}",
    }


def make() -> dict[str, Any]:
    """The whole vector file."""
    return {
        "description": "Statement ids and content keys: HMAC-SHA256 keyed with the statement "
                       "secret (SPEC.md, 'Statement ids, content keys and the secure link').",
        "statement_secret_hex": SECRET.hex(),
        "site_url": SITE_URL,
        "cases": [case(*c) for c in CASES],
    }


if __name__ == "__main__":
    text = json.dumps(make(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        same = OUT.read_text(encoding="utf-8") == text
        print("ids.json holds" if same else "mismatch")
        sys.exit(0 if same else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
