"""Create, rotate, load and export the key store kept outside git.

A key store is a folder (mode 0700) holding:
  signing/<kid>.pem    Ed25519 private keys, PKCS#8, 0600; encrypted when a passphrase is given
  keyset.json          the public keyset, the shape served at /.well-known/results-keys.json
  active               the hex key id that signs new statements
  pepper               32 random bytes keying the HMACs in the verification index, 0600
  statement-secret     32 random bytes deriving statement ids and content keys, 0600
  dkim.pem             optional RSA-2048 key signing the outgoing mail (DKIM), 0600
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from results_online import crypto
from results_online.errors import KeyStoreError
from results_online.keyset import Keyset, PublicKey, load_keyset

SECRET_SIZE = 32
DKIM_FILE = "dkim.pem"
DKIM_BITS = 2048  # what RFC 8301 asks signers to use at least


@dataclass(frozen=True)
class KeyStore:
    """Everything the build needs from the key store."""

    signing_key: Ed25519PrivateKey
    signing_kid: bytes
    keyset: Keyset
    pepper: bytes
    statement_secret: bytes


def init_keys(folder: Path, today: date, passphrase: bytes | None = None) -> bytes:
    """Create a new key store in an empty or missing folder; return the new key id."""
    if (folder / "keyset.json").exists():
        raise KeyStoreError(f"{folder} already holds a key store", hint="use `results keys rotate`")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / "signing").mkdir(exist_ok=True, mode=0o700)
    # mkdir's mode is masked by the umask and ignored for an existing folder.
    os.chmod(folder, 0o700)
    os.chmod(folder / "signing", 0o700)
    _write_secret(folder / "pepper", os.urandom(SECRET_SIZE))
    _write_secret(folder / "statement-secret", os.urandom(SECRET_SIZE))
    return _add_signing_key(folder, Keyset(()), today, passphrase)


def rotate_keys(folder: Path, today: date, passphrase: bytes | None = None) -> bytes:
    """Retire the active signing key as of today and make a new one active; return its id."""
    # Opening the active key first keeps one passphrase for the whole store.
    load_keys(folder, passphrase)
    keyset = _read_keyset(folder)
    active = _read_active(folder)
    retired = tuple(
        PublicKey(k.kid, k.key, k.valid_from, today) if k.kid == active and not k.valid_until else k
        for k in keyset.keys
    )
    return _add_signing_key(folder, Keyset(retired), today, passphrase)


def load_keys(folder: Path, passphrase: bytes | None = None) -> KeyStore:
    """Load the active signing key, keyset and secrets; raise KeyStoreError if unusable."""
    keyset = _read_keyset(folder)
    kid = _read_active(folder)
    path = folder / "signing" / f"{kid.hex()}.pem"
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    except FileNotFoundError:
        raise KeyStoreError(f"the signing key file {path} is missing") from None
    except (TypeError, ValueError):
        raise KeyStoreError(
            f"cannot open {path}: wrong or missing passphrase",
            hint="set RESULTS_KEY_PASSPHRASE to the passphrase the key store was made with",
        ) from None
    if not isinstance(key, Ed25519PrivateKey) or crypto.key_id(key.public_key()) != kid:
        raise KeyStoreError(f"{path} does not hold the active Ed25519 key")
    return KeyStore(key, kid, keyset, _read_secret(folder / "pepper"),
                    _read_secret(folder / "statement-secret"))


def init_dkim_key(folder: Path) -> str:
    """Create the store's DKIM key (once); return the DNS TXT record that publishes it."""
    _read_keyset(folder)
    path = folder / DKIM_FILE
    if path.exists():
        raise KeyStoreError(f"{path} already exists", hint="`results keys dkim --show` "
                            "prints its DNS record")
    key = rsa.generate_private_key(public_exponent=65537, key_size=DKIM_BITS)
    _write_secret(path, key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return dkim_dns_record(folder)


def load_dkim_key(folder: Path) -> bytes:
    """The PEM of the store's DKIM private key; KeyStoreError if there is none."""
    try:
        pem = (folder / DKIM_FILE).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
    except FileNotFoundError:
        raise KeyStoreError(f"no DKIM key in {folder}",
                            hint="make one with `results keys dkim --keys DIR`") from None
    except (TypeError, ValueError):
        raise KeyStoreError(f"{folder / DKIM_FILE} is damaged") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyStoreError(f"{folder / DKIM_FILE} does not hold an RSA key")
    return pem


def dkim_dns_record(folder: Path) -> str:
    """The TXT record for <selector>._domainkey.<domain>: "v=DKIM1; k=rsa; p=..."."""
    key = serialization.load_pem_private_key(load_dkim_key(folder), password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


def _add_signing_key(folder: Path, keyset: Keyset, today: date, passphrase: bytes | None) -> bytes:
    key = Ed25519PrivateKey.generate()
    kid = crypto.key_id(key.public_key())
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            encryption)
    _write_secret(folder / "signing" / f"{kid.hex()}.pem", pem)
    new = Keyset((*keyset.keys, PublicKey(kid, key.public_key(), today, None)))
    _atomic_write(folder / "keyset.json", new.to_json().encode(), 0o644)
    _atomic_write(folder / "active", kid.hex().encode() + b"\n", 0o644)
    return kid


def _read_keyset(folder: Path) -> Keyset:
    if not (folder / "keyset.json").exists():
        raise KeyStoreError(f"no key store in {folder}")
    return load_keyset(folder / "keyset.json")


def _read_active(folder: Path) -> bytes:
    try:
        return bytes.fromhex((folder / "active").read_text().strip())
    except (OSError, ValueError):
        raise KeyStoreError(f"{folder / 'active'} is missing or damaged") from None


def _read_secret(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError:
        raise KeyStoreError(f"the secret file {path} is missing or unreadable") from None
    if len(data) != SECRET_SIZE:
        raise KeyStoreError(f"the secret file {path} is damaged")
    return data


def _write_secret(path: Path, data: bytes) -> None:
    _atomic_write(path, data, 0o600)


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)

