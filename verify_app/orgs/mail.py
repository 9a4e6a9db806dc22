"""The confirmation e-mail of a self-registration, sent over SMTP (blocking: threadpool)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

CONFIRM_PATH = "/orgs/confirm"


@dataclass(frozen=True)
class Mailer:
    """A plain SMTP relay and the From address of the app's messages."""

    host: str
    port: int
    sender: str
    timeout: float = 30

    def send(self, message: EmailMessage) -> None:
        """Send one message; raise OSError or smtplib.SMTPException if the relay fails."""
        message["From"] = self.sender
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


def confirmation(to: str, name: str, code: str, public_url: str | None) -> EmailMessage:
    """The message that carries a registration's confirmation code.

    The code is to be typed into the confirm page, never carried in a link: a code in
    a URL would reach browser history, proxies and access logs.
    """
    where = f"{public_url}{CONFIRM_PATH}" if public_url else \
        f"the verification service's page {CONFIRM_PATH}"
    msg = EmailMessage()
    msg["To"] = to
    msg["Subject"] = "Confirm your organisation's registration"
    msg.set_content(
        f"Someone registered {name} for bulk verification of exam results with this address.\n\n"
        f"To confirm, open {where} and enter this code within two days:\n\n"
        f"    {code}\n\n"
        "The page then shows your API key, once. If you did not register, ignore this message;\n"
        "nothing happens without the code.\n")
    return msg
