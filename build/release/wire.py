"""A stored outbox message made ready for the wire: Date, Message-ID, transfer encoding, DKIM.

The outbox holds messages as the build wrote them (compose.py: UTF-8 bodies, 8-bit
where their lines are short, no Date). At the moment of sending each gets the real
time as its Date, a Message-ID on the domain of its From address, quoted-printable
bodies when the server does not offer 8BITMIME, and a DKIM signature (RFC 6376,
relaxed/relaxed, rsa-sha256 by dkimpy) over the exact bytes that go out. Those bytes
are also what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

import dkim

# Headers the signature covers: what a reader sees and what identifies the message.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                  b"content-type")


@dataclass(frozen=True)
class DkimKey:
    """A DKIM signing key and where its public half is published in DNS."""

    selector: str  # <selector>._domainkey.<domain> holds the public key
    private_pem: bytes  # PKCS#8 RSA private key


@dataclass(frozen=True)
class Wire:
    """One message as it goes out: envelope, bytes and SMTP MAIL options."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes  # CRLF line ends, exactly what is signed, sent and stored
    mail_options: tuple[str, ...]


def domain_of(address: str) -> str:
    """The domain of an address ("noreply@example.org" -> "example.org")."""
    return address.rpartition("@")[2].strip("[]<> ").lower()


def has_8bit(msg: EmailMessage) -> bool:
    """Whether any part of the message is sent 8-bit."""
    return any(str(p.get("Content-Transfer-Encoding", "")).lower() == "8bit"
               for p in msg.walk())


def to_quoted_printable(msg: EmailMessage) -> None:
    """Re-encode every 8-bit text part as quoted-printable (a server without 8BITMIME)."""
    for part in msg.walk():
        if part.is_multipart():
            continue
        if str(part.get("Content-Transfer-Encoding", "")).lower() != "8bit":
            continue
        text = part.get_content()
        part.set_content(text, subtype=part.get_content_subtype(), charset="utf-8",
                         cte="quoted-printable")


def prepare(msg: EmailMessage, *, sent_at: datetime, eight_bit_ok: bool,
            dkim_key: DkimKey | None) -> Wire:
    """Stamp, encode and sign ``msg`` (changed in place) for sending at ``sent_at``."""
    if sent_at.tzinfo is None:
        raise ValueError("sent_at must be an aware datetime")
    sender = msg["From"].addresses[0].addr_spec
    domain = domain_of(sender)
    del msg["Date"]
    msg["Date"] = format_datetime(sent_at)
    old_id = str(msg.get("Message-ID", "")).strip("<> ")
    local = old_id.partition("@")[0] or "message"
    del msg["Message-ID"]
    msg["Message-ID"] = f"<{local}@{domain}>"
    options: tuple[str, ...] = ()
    if has_8bit(msg):
        if eight_bit_ok:
            options = ("BODY=8BITMIME",)
        else:
            to_quoted_printable(msg)
    data = msg.as_bytes(policy=policy.SMTP)
    if dkim_key is not None:
        signature = dkim.sign(data, dkim_key.selector.encode(), domain.encode(),
                              dkim_key.private_pem, canonicalize=(b"relaxed", b"relaxed"),
                              include_headers=list(SIGNED_HEADERS))
        data = signature + data
    recipients = tuple(a.addr_spec for field in ("To", "Cc")
                       for header in msg.get_all(field, ()) for a in header.addresses)
    return Wire(sender, recipients, data, options)
