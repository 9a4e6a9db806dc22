"""The public keyset: the Ed25519 keys a verifier trusts, as published at /.well-known/."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from results_online import crypto
from results_online.errors import InvalidToken, KeyStoreError
from results_online.ids import b64url

KEYSET_PATH = ".well-known/results-keys.json"


@dataclass(frozen=True)
class PublicKey:
    """One key in the public keyset, with the issue dates it may sign for."""

    kid: bytes
    key: Ed25519PublicKey
    valid_from: date
    valid_until: date | None  # None while it is the active key

    def to_json(self) -> dict[str, str | None]:
        """The keyset entry for this key."""
        return {
            "kid": self.kid.hex(),
            "alg": "Ed25519",
            "public_key": b64url(crypto.raw_public_key(self.key)),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


@dataclass(frozen=True)
class Keyset:
    """The public keys a verifier trusts."""

    keys: tuple[PublicKey, ...]

    def find(self, kid: bytes, issued: date) -> Ed25519PublicKey:
        """The key with this id, if it was valid on the issue date; else raise InvalidToken."""
        for k in self.keys:
            if crypto.equal(k.kid, kid):
                if issued < k.valid_from or (k.valid_until and issued > k.valid_until):
                    raise InvalidToken
                return k.key
        raise InvalidToken

    def to_json(self) -> str:
        """The keyset as the JSON document published at /.well-known/results-keys.json."""
        doc = {"keys": [k.to_json() for k in self.keys]}
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Keyset:
        """Parse a keyset document; raise KeyStoreError when it is malformed."""
        try:
            doc = json.loads(text)
            keys = []
            for item in doc["keys"]:
                raw = base64.urlsafe_b64decode(item["public_key"] + "==")
                pub = Ed25519PublicKey.from_public_bytes(raw)
                if crypto.key_id(pub).hex() != item["kid"]:
                    raise ValueError("key id does not match the public key")
                until = item.get("valid_until")
                keys.append(
                    PublicKey(
                        kid=bytes.fromhex(item["kid"]),
                        key=pub,
                        valid_from=date.fromisoformat(item["valid_from"]),
                        valid_until=date.fromisoformat(until) if until else None,
                    )
                )
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyStoreError(f"the keyset is not valid: {exc}") from None
        return cls(tuple(keys))


def load_keyset(path: Path) -> Keyset:
    """Load a public keyset from a key store folder or a keyset JSON file."""
    if path.is_dir():
        path = path / "keyset.json"
    try:
        return Keyset.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyStoreError(f"cannot read the keyset {path}: {exc.strerror}") from None
