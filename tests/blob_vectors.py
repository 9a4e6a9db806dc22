"""Secure links and statement blobs a viewer must refuse (SPEC.md, "Statement ciphertext").

    python tests/blob_vectors.py          rewrite tests/vectors/statement-blob-rejects.json
    python tests/blob_vectors.py --check  exit 1 if the stored file no longer matches

Built on tests/vectors/statement-blob.json (its key, id, nonce, fragment and PDF); the good
blob here is that container without its padding, which readers do not need (a blob of
the build is 64 KiB). ``rejected_by`` is
``link`` (the part after # is not an id and a key) or ``blob`` (it does not open, or what
it opens is not a statement container).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VECTORS = Path(__file__).parent / "vectors"
GOOD = json.loads((VECTORS / "statement-blob.json").read_text(encoding="utf-8"))
OUT = VECTORS / "statement-blob-rejects.json"
KEY, NONCE = bytes.fromhex(GOOD["key_hex"]), bytes.fromhex(GOOD["nonce_hex"])
ID = GOOD["statement_id"]
LINK = f"{ID}.{GOOD['link_key']}"


def _sealed(plaintext: bytes, sid: str = ID) -> str:
    return (NONCE + AESGCM(KEY).encrypt(NONCE, plaintext, sid.encode())).hex()


def _container(html: bytes, pdf: bytes) -> bytes:
    return len(html).to_bytes(4, "big") + html + len(pdf).to_bytes(4, "big") + pdf


BLOB = _sealed(_container(GOOD["fragment_html"].encode(), bytes.fromhex(GOOD["pdf_hex"])))


def _changed(hex_blob: str, index: int) -> str:
    raw = bytearray(bytes.fromhex(hex_blob))
    raw[index] ^= 0x01
    return raw.hex()


def cases() -> list[dict[str, Any]]:
    """Every refused (fragment, blob) pair, with the rule it breaks."""
    key = GOOD["link_key"]
    other = "0000000000000000"
    link_cases = [
        ("no dot between id and key", ID + key),
        ("id of 15 characters", f"{ID[:-1]}.{key}"),
        ("id with a letter outside Crockford base32 (I)", f"I{ID[1:]}.{key}"),
        ("key of 42 characters", f"{ID}.{key[:-1]}"),
        ("key of 44 characters", f"{ID}.{key}A"),
        ("key in base64 with + (not base64url)", f"{ID}.+{key[1:]}"),
        ("key whose last character has unused bits set", f"{ID}.{key[:-1]}9"),
        ("a broken %-escape", f"{ID}.{key[:-3]}%E0%A4%A"),
        ("empty fragment after the dot", f"{ID}."),
    ]
    blob_cases = [
        ("one changed key character", f"{ID}.{key[:-2]}{'A' if key[-2] != 'A' else 'B'}{key[-1]}",
         BLOB),
        ("the blob of another id (the id is the associated data)", f"{other}.{key}", BLOB),
        ("one changed ciphertext byte", LINK, _changed(BLOB, 20)),
        ("one changed tag byte", LINK, _changed(BLOB, len(BLOB) // 2 - 1)),
        ("a blob shorter than nonce and tag (27 bytes)", LINK, BLOB[:54]),
        ("a length prefix past the plaintext", LINK, _sealed(b"\xff\xff\xff\xff<p>")),
        ("a plaintext shorter than its length prefix", LINK, _sealed(b"\x00\x00")),
        ("a PDF length past the plaintext", LINK,
         _sealed(b"\x00\x00\x00\x03<p>\xff\xff\xff\xff%PDF")),
        ("a fragment that is not UTF-8", LINK, _sealed(_container(b"\xc3(", b"%PDF"))),
    ]
    out = [{"rule": rule, "rejected_by": "link", "fragment": fragment, "blob_hex": BLOB}
           for rule, fragment in link_cases]
    out += [{"rule": rule, "rejected_by": "blob", "fragment": fragment, "blob_hex": blob}
            for rule, fragment, blob in blob_cases]
    return out


def make() -> dict[str, Any]:
    """The whole vector file."""
    return {
        "description": "Secure-link fragments (<id>.<key>) and blobs a viewer refuses; each "
                       "shows the damaged-link message. Key, id and nonce: statement-blob.json.",
        "expect": "reject",
        "expected_error": "DamagedLink",
        "cases": cases(),
    }


if __name__ == "__main__":
    text = json.dumps(make(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        same = OUT.read_text(encoding="utf-8") == text
        print("statement-blob-rejects.json holds" if same else "mismatch")
        sys.exit(0 if same else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
