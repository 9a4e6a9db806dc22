"""The only cryptography in Results Online: sign, verify, seal, open, and keyed hashes.

No algorithm options, on purpose: Ed25519 signatures, AES-256-GCM with a 96-bit
random nonce, HMAC-SHA256. Failures raise ``InvalidToken`` and say nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from results_online.errors import InvalidToken

Random = Callable[[int], bytes]

SIGNATURE_SIZE = 64
KEY_ID_SIZE = 8
CONTENT_KEY_SIZE = 32
NONCE_SIZE = 12


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> bytes:
    """A key's id: the first 8 bytes of SHA-256 over its raw public key."""
    return hashlib.sha256(raw_public_key(public_key)).digest()[:KEY_ID_SIZE]


def sign(private_key: Ed25519PrivateKey, body: bytes) -> bytes:
    """Return ``body`` followed by its Ed25519 signature."""
    return body + private_key.sign(body)


def verify(public_key: Ed25519PublicKey, signed: bytes) -> bytes:
    """Return the body of ``signed`` if its trailing signature holds; raise InvalidToken."""
    if len(signed) <= SIGNATURE_SIZE:
        raise InvalidToken
    body, signature = signed[:-SIGNATURE_SIZE], signed[-SIGNATURE_SIZE:]
    try:
        public_key.verify(signature, body)
    except InvalidSignature:
        raise InvalidToken from None
    return body


def seal(key: bytes, associated: bytes, plaintext: bytes, random: Random = os.urandom) -> bytes:
    """Encrypt with AES-256-GCM; the result is nonce ‖ ciphertext ‖ tag."""
    if len(key) != CONTENT_KEY_SIZE:
        raise ValueError("content keys are 32 bytes")
    nonce = random(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def open_sealed(key: bytes, associated: bytes, blob: bytes) -> bytes:
    """Decrypt what ``seal`` made under the same key and associated data; raise InvalidToken."""
    if len(key) != CONTENT_KEY_SIZE or len(blob) < NONCE_SIZE + 16:
        raise InvalidToken
    try:
        return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], associated)
    except InvalidTag:
        raise InvalidToken from None


def keyed_hash(secret: bytes, purpose: str, *parts: str) -> bytes:
    """HMAC-SHA256 over a purpose label and parts, unambiguously joined."""
    if len(secret) < 32:
        raise ValueError("secrets are at least 32 bytes")
    mac = hmac.new(secret, purpose.encode(), hashlib.sha256)
    for part in parts:
        data = part.encode()
        mac.update(len(data).to_bytes(4, "big") + data)
    return mac.digest()


def equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in constant time."""
    return hmac.compare_digest(a, b)
