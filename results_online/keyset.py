"""The public keyset: the Ed25519 keys a verifier trusts, published as a JWK Set (SPEC.md)."""

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
        """This key as an RFC 8037 OKP JWK, its validity in members JOSE libraries ignore."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(crypto.raw_public_key(self.key)),
            "kid": self.kid.hex(),
            "alg": "EdDSA",
            "use": "sig",
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
                pub = Ed25519PublicKey.from_public_bytes(_raw_key(item))
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


def _raw_key(item: dict[str, str]) -> bytes:
    """The raw public key of a JWK, or of an entry in the keyset.json of older key stores."""
    if "public_key" in item:  # written before the keyset became a JWK Set; read, never written
        return _unb64(item["public_key"])
    if (item.get("kty"), item.get("crv"), item.get("alg", "EdDSA")) != ("OKP", "Ed25519", "EdDSA"):
        raise ValueError("keys are OKP Ed25519 JWKs with alg EdDSA")
    if item.get("use", "sig") != "sig" or "d" in item:
        raise ValueError("keys are public signature keys")
    return _unb64(item["x"])


def _unb64(text: str) -> bytes:
    """base64url without padding, strictly: 32 bytes in 43 characters."""
    raw = base64.urlsafe_b64decode(text + "=")
    if len(text) != 43 or b64url(raw) != text:
        raise ValueError("a public key is 32 bytes of base64url without padding")
    return raw


def load_keyset(path: Path) -> Keyset:
    """Load a public keyset from a key store folder or a keyset JSON file."""
    if path.is_dir():
        path = path / "keyset.json"
    try:
        return Keyset.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyStoreError(f"cannot read the keyset {path}: {exc.strerror}") from None
