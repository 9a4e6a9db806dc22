"""Self-registration: the confirmation e-mail, the confirmation, the first API key."""

from __future__ import annotations

import logging
import os
import re
import smtplib
from collections.abc import Callable
from datetime import datetime

from results_online.crypto import Random
from results_online.errors import MailError
from results_online.verify_app.orgs.keys import NewKey, code_digest, new_code, new_key
from results_online.verify_app.orgs.mail import Mailer, confirmation
from results_online.verify_app.orgs.store import Organisation, OrgStore

log = logging.getLogger("results_online.verify_app.orgs")

MAX_NAME = 200
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$")


def valid_registration(name: str, email: str) -> str | None:
    """What is wrong with a registration form, or None."""
    if not 1 <= len(name.strip()) <= MAX_NAME or any(ord(c) < 32 for c in name):
        return f"Enter the organisation's name (at most {MAX_NAME} characters)."
    if len(email) > MAX_EMAIL or not _EMAIL.match(email.strip()):
        return "Enter a work e-mail address, such as admissions@university.example."
    return None


class Registrar:
    """Takes registrations and confirmations (blocking: call from the threadpool)."""

    def __init__(self, store: OrgStore, mailer: Mailer | None, *, approval: bool,
                 public_url: str | None, clock: Callable[[], datetime],
                 random: Random = os.urandom) -> None:
        """Register into ``store``, mail through ``mailer`` (None: registration is closed)."""
        self.store = store
        self.mailer = mailer
        self.approval = approval
        self.public_url = public_url
        self.clock = clock
        self.random = random

    @property
    def open(self) -> bool:
        """Whether organisations can register themselves here."""
        return self.mailer is not None

    def register(self, name: str, email: str) -> None:
        """Record the registration and mail its code; an address already registered gets
        nothing, and the caller the same answer (so no one learns who is registered).
        Raise MailError if the relay refuses (the registration is then forgotten)."""
        if self.mailer is None:
            raise MailError("self-registration is closed", hint="start the app with --smtp")
        code, digest = new_code(self.random)
        if not self.store.register(name.strip(), email.strip(), digest, self.clock()):
            log.info("registration for an address already registered")
            return
        try:
            self.mailer.send(confirmation(email.strip(), name.strip(), code, self.public_url))
        except (OSError, smtplib.SMTPException) as exc:
            log.error("confirmation e-mail failed: %s", type(exc).__name__)
            self.store.drop_registration(digest)  # so that trying again later works
            raise MailError("the relay did not take the confirmation e-mail "
                            f"({type(exc).__name__})") from None
        log.info("registration recorded, confirmation sent")

    def confirm(self, code: str) -> tuple[Organisation, NewKey] | None:
        """Confirm with the e-mailed code: the organisation and its first key, shown once."""
        key = new_key(self.random)
        org = self.store.confirm(code_digest(code), key, self.clock(), self.approval)
        return None if org is None else (org, key)
