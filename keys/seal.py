"""The optional PDF seal in the key store: an ECDSA P-256 key and its X.509 certificate.

    seal/seal.key   the private key, PKCS#8 PEM, 0600 (encrypted with the store's passphrase)
    seal/seal.crt   its certificate, PEM: self-signed by ``init_seal_cert``, or one the
                    board had issued for the key and put here

ECDSA P-256 (not Ed25519): PDF readers validate ECDSA and RSA signatures today.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID

from results_online.errors import KeyStoreError

SEAL_YEARS = 10


@dataclass(frozen=True)
class Seal:
    """A loaded seal: the key (unencrypted PKCS#8 DER, for the workers) and certificate."""

    key_der: bytes = field(repr=False)
    cert_der: bytes


def init_seal_cert(folder: os.PathLike[str], name: str, now: datetime,
                   passphrase: bytes | None = None) -> x509.Certificate:
    """Make a new ECDSA P-256 key and a self-signed certificate for it in ``folder/seal``."""
    seal_dir = os.path.join(folder, "seal")
    if os.path.exists(os.path.join(seal_dir, "seal.key")):
        raise KeyStoreError(f"{seal_dir} already holds a seal key")
    os.makedirs(seal_dir, mode=0o700, exist_ok=True)
    os.chmod(seal_dir, 0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365 * SEAL_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase
        else serialization.NoEncryption())
    _write(os.path.join(seal_dir, "seal.key"), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption), 0o600)
    _write(os.path.join(seal_dir, "seal.crt"), cert.public_bytes(serialization.Encoding.PEM),
           0o644)
    return cert


def load_seal(folder: os.PathLike[str], passphrase: bytes | None = None) -> Seal | None:
    """The key store's seal, or None if it has none; KeyStoreError if it is unusable."""
    key_path = os.path.join(folder, "seal", "seal.key")
    cert_path = os.path.join(folder, "seal", "seal.crt")
    if not os.path.exists(key_path):
        return None
    try:
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=passphrase)
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
    except (TypeError, ValueError, OSError) as exc:
        raise KeyStoreError(f"cannot open the seal key or certificate in {folder}/seal",
                            hint="check RESULTS_KEY_PASSPHRASE and that seal.crt is PEM"
                            ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | RSAPrivateKey):
        raise KeyStoreError("the seal key must be ECDSA or RSA (PDF readers validate those)")
    if cert.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo) != \
            key.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo):
        raise KeyStoreError("seal.crt is not the certificate of seal.key")
    return Seal(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
                cert.public_bytes(serialization.Encoding.DER))


def _write(path: str, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)

