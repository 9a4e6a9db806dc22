"""Send the outbox over SMTP, each message only once and only after its release time.

What was sent is recorded in ``outbox/sent.json`` after every message, so a
re-run (or a run after a failure half-way) sends only what is left. Nothing
logged or raised here names a recipient or holds a link.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from results_online.build.release.outbox import (
    OUTBOX_DIR,
    OUTBOX_INDEX,
    SENT_FILE,
    OutboxItem,
    read_outbox,
)
from results_online.build.release.wire import DkimKey, prepare
from results_online.errors import MailError

log = logging.getLogger("results_online.notify")


@dataclass(frozen=True)
class SmtpServer:
    """The mail server the outbox goes through (plain SMTP to a relay)."""

    host: str
    port: int
    sender: str | None = None  # replaces the From of every message when set
    timeout: float = 30
    dkim: DkimKey | None = None  # signs every message when set


def utc_now() -> datetime:
    """The real clock: the Date a message carries is when it was handed to the server."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class SendReport:
    """What one run of `results notify` did."""

    sent: int  # sent now
    already: int  # sent by an earlier run
    waiting: int  # not yet released
    next_release: datetime | None  # when the first waiting message may go


def send_outbox(private_dir: Path, server: SmtpServer, now: datetime,
                clock: Callable[[], datetime] = utc_now) -> SendReport:
    """Send every released, unsent message; raise MailError if none is released yet.

    ``now`` decides what is released; ``clock`` gives each message its Date as it goes.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    outbox = private_dir / OUTBOX_DIR
    try:
        items = read_outbox(private_dir)
    except FileNotFoundError:
        raise MailError(f"no outbox in {private_dir}",
                           hint="give the OUT folder of a `results build`") from None
    except (ValueError, KeyError, TypeError):
        raise MailError(f"the outbox index in {outbox} is damaged",
                           hint="run `results build` again") from None
    with _locked(outbox):
        sent = _read_sent(outbox)
        due = [i for i in items if i.send_after <= now and i.file not in sent]
        waiting = [i for i in items if i.send_after > now]
        first = min((i.send_after for i in waiting), default=None)
        if first is not None and not any(i.send_after <= now for i in items):
            raise MailError(
                f"nothing may be sent before {first.isoformat()}: the results are not "
                "released yet", hint="run `results notify` again after the release time")
        if due:
            _send(outbox, due, sent, server, clock)
    already = sum(1 for i in items if i.send_after <= now) - len(due)
    return SendReport(len(due), already, len(waiting), first)


def _send(outbox: Path, due: list[OutboxItem], sent: dict[str, str], server: SmtpServer,
          clock: Callable[[], datetime]) -> None:
    refused = 0
    try:
        with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
            smtp.ehlo_or_helo_if_needed()
            eight_bit_ok = smtp.has_extn("8bitmime")
            for item in due:
                msg = _load(outbox / item.file)
                if server.sender:
                    del msg["From"]
                    msg["From"] = server.sender
                at = clock()
                wire = prepare(msg, sent_at=at, eight_bit_ok=eight_bit_ok,
                               dkim_key=server.dkim)
                try:
                    smtp.sendmail(wire.sender, list(wire.recipients), wire.data,
                                  mail_options=list(wire.mail_options))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused):
                    # One bad address must not hold back everyone else's message.
                    refused += 1
                    log.warning("the mail server refused one %s message", item.kind)
                    continue
                # The stored copy becomes what was sent: same Date, same signature.
                _replace(outbox / item.file, wire.data)
                sent[item.file] = at.isoformat()
                _write_sent(outbox, sent)
                log.info("sent one %s message", item.kind)
    except (OSError, smtplib.SMTPException) as exc:
        done = sum(1 for i in due if i.file in sent)
        raise MailError(
            f"sending stopped after {done} of {len(due)} message(s): "
            f"{type(exc).__name__} from the mail server {server.host}:{server.port}",
            hint="check --smtp; run `results notify` again to send the rest") from None
    if refused:
        raise MailError(
            f"the mail server refused {refused} of {len(due)} message(s); the others were sent",
            hint=f"see which in {outbox / OUTBOX_INDEX} (not in {SENT_FILE}); fix the "
                 "addresses, rebuild, and run `results notify` again")


def _load(path: Path) -> EmailMessage:
    try:
        data = path.read_bytes()
    except OSError:
        raise MailError(f"{path.name} is listed in the outbox but missing",
                           hint="run `results build` again") from None
    msg = message_from_bytes(data, policy=policy.default)
    if not isinstance(msg, EmailMessage):
        raise MailError(f"{path.name} in the outbox is not an e-mail message")
    return msg


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _read_sent(outbox: Path) -> dict[str, str]:
    try:
        doc = json.loads((outbox / SENT_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        raise MailError(f"{outbox / SENT_FILE} is damaged",
                           hint="restore it: it records which messages were sent") from None
    return {str(k): str(v) for k, v in doc.get("sent", {}).items()}


def _write_sent(outbox: Path, sent: dict[str, str]) -> None:
    tmp = outbox / (SENT_FILE + ".tmp")
    tmp.write_text(json.dumps({"sent": sent}, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    os.replace(tmp, outbox / SENT_FILE)


@contextmanager
def _locked(outbox: Path) -> Iterator[None]:
    # Two notify runs at once must not both send the same message.
    with open(outbox / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MailError("another `results notify` is sending this outbox") from None
        yield
