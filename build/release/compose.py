"""An outbox message's bytes: multipart/alternative, UTF-8, the same bytes for the same inputs.

Written with the email package's compat32 classes and C encoders (binascii) rather
than ``EmailMessage``: its header objects and pure-Python quoted-printable took
about 2 ms a message, most of what the parent spent on a candidate after its
statement was rendered. The choices are those ``EmailMessage.set_content`` makes:
a body whose lines all fit in 78 bytes goes as it is (7bit, or 8bit for non-ASCII,
re-encoded at sending for a server without 8BITMIME: ``wire.py``), a longer one as
quoted-printable or base64, whichever is shorter; a non-ASCII name or subject as
RFC 2047 encoded words, folded. The boundary is derived from the bodies, so a
rebuilt message is the same file, and it begins with ``=_``, which no
quoted-printable or base64 body contains.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr

MAX_LINE = 78  # bytes a body line may have to go unencoded (RFC 5322's limit)


def compose(*, sender: tuple[str, str], to: tuple[str, str], subject: str, msgid: str,
            text: str, html: str) -> bytes:
    """A message from ``sender`` to ``to`` (display name, address): ``text``, or ``html``."""
    digest = hashlib.sha256(repr((text, html)).encode()).hexdigest()
    msg = MIMEMultipart("alternative", boundary=f"=_{digest[:32]}")
    msg["From"] = _address("From", *sender)
    msg["To"] = _address("To", *to)
    msg["Subject"] = (subject if subject.isascii()
                      else Header(subject, "utf-8", MAX_LINE, header_name="Subject").encode())
    msg["Message-ID"] = msgid
    msg.attach(_text_part(text, "plain"))
    msg.attach(_text_part(html, "html"))
    return msg.as_bytes()


def _address(field: str, name: str, address: str) -> str:
    """A mailbox header: a name with specials quoted, a non-ASCII one as encoded words."""
    if name.isascii():
        return formataddr((name, address))
    # Folded into encoded words of at most 75 characters, the field's name counted.
    header = Header(name, "utf-8", MAX_LINE, header_name=field)
    header.append(f" <{address}>", "us-ascii")
    return header.encode()  # kept as it is: what the email package writes for the Header


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    data = text.encode()
    lines = data.splitlines()
    if max(map(len, lines), default=0) <= MAX_LINE:
        cte, body = "7bit" if data.isascii() else "8bit", b"\n".join(lines) + b"\n"
    else:
        quoted = binascii.b2a_qp(data, istext=True)
        encoded = base64.encodebytes(data)
        cte, body = (("quoted-printable", quoted) if len(quoted) <= len(encoded)
                     else ("base64", encoded))
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    del part["MIME-Version"]  # once, on the whole message
    part["Content-Transfer-Encoding"] = cte
    # 8-bit bytes as surrogates: how the email package keeps a body it must not re-encode.
    part.set_payload(body.decode("ascii", "surrogateescape"))
    return part
