"""Mail as mail servers expect: Date when sent, Message-ID on the sender's domain,
8-bit only with 8BITMIME, DKIM that a verifier accepts; over a real SMTP server."""

from __future__ import annotations

import csv
import email
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import dkim
import pytest
import release_support as rs
from localhost import smtp_server

from results_online.build.release.outbox import read_outbox
from results_online.build.release.wire import DkimKey, prepare
from results_online.commands.main import main
from results_online.keys.store import dkim_dns_record, init_dkim_key, load_dkim_key

SELECTOR = "results2026"


@dataclass
class Arrival:
    """One message as the server received it."""

    raw: bytes
    received: datetime
    mail_options: list[str]


@dataclass
class Inbox:
    arrivals: list[Arrival] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrivals.append(Arrival(bytes(envelope.original_content or envelope.content),
                                     datetime.now(UTC), list(envelope.mail_options)))
        return "250 OK"


@dataclass
class Plain7bitInbox(Inbox):
    """A server that does not offer 8BITMIME."""

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [r for r in responses if "8BITMIME" not in r.upper()]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> rs.SmallBuild:
    small = rs.small_build(tmp_path_factory.mktemp("mail"))
    init_dkim_key(small.keys)
    return small


@pytest.fixture
def out(built: rs.SmallBuild, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(built.out, copy)
    return copy


@pytest.fixture
def smtp() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    with smtp_server(inbox) as address:
        yield address, inbox


def _dns(record: str) -> Any:
    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name.rstrip(b".") == f"{SELECTOR}._domainkey.127.0.0.1".encode()
        return record.encode()
    return lookup


def _links(out: Path) -> dict[str, str]:
    with (out / "private" / "links.csv").open(encoding="utf-8-sig", newline="") as f:
        return {r["email"]: r["link"] for r in csv.DictReader(f)}


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _notify(out: Path, server: str, keys: Path, *extra: str) -> int:
    return main(["notify", str(out), "--smtp", server, "--now", rs.AFTER_BOTH.isoformat(),
                 "--keys", str(keys), "--dkim-selector", SELECTOR, *extra])


def _check_links(msg: EmailMessage, links: dict[str, str]) -> None:
    link = links[msg["To"].addresses[0].addr_spec]
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert link in text.get_content()
    assert f'href="{link}"' in html.get_content()


def test_sent_and_stored_mails_are_dated_signed_and_keep_the_link(
        out: Path, built: rs.SmallBuild, smtp: tuple[str, Inbox]) -> None:
    server, inbox = smtp
    # Date has whole seconds: the sending began no earlier than this.
    started = datetime.now(UTC).replace(microsecond=0)
    assert _notify(out, server, built.keys) == 0
    record = dkim_dns_record(built.keys)
    links = _links(out)
    assert len(inbox.arrivals) == 6
    outbox = out / "private" / "outbox"
    stored = {_parse((outbox / i.file).read_bytes())["Message-ID"]: (outbox / i.file).read_bytes()
              for i in read_outbox(out / "private")}
    for arrival in inbox.arrivals:
        msg = _parse(arrival.raw)
        date = parsedate_to_datetime(msg["Date"])
        # The moment of sending: between the start of `results notify` and the arrival
        # (no fixed bound on the delay between them, which a loaded machine stretches).
        assert started <= date <= arrival.received
        assert date.year != 2026 or date.month != 8  # not the --now release check time
        assert msg["Message-ID"].endswith("@127.0.0.1>")  # the From address's domain
        assert msg["Message-ID"].count("@") == 1
        assert dkim.verify(arrival.raw, dnsfunc=_dns(record))
        assert msg["DKIM-Signature"] is not None
        assert f"s={SELECTOR}" in msg["DKIM-Signature"].replace(" ", "")
        # The stored copy is byte for byte what went out, Date and signature included.
        assert stored[msg["Message-ID"]] == arrival.raw
        if "/statement#" in arrival.raw.decode("utf-8", "replace") or \
                msg["To"].addresses[0].addr_spec in links:
            _check_links(msg, links)


def test_8bit_bodies_go_with_8bitmime_only(out: Path, built: rs.SmallBuild,
                                           smtp: tuple[str, Inbox]) -> None:
    server, inbox = smtp
    assert _notify(out, server, built.keys) == 0
    eight = [a for a in inbox.arrivals if b"Content-Transfer-Encoding: 8bit" in a.raw]
    assert eight, "the example has non-ASCII names, so some bodies are 8-bit"
    for a in inbox.arrivals:
        is_8bit = b"Content-Transfer-Encoding: 8bit" in a.raw
        assert ("BODY=8BITMIME" in a.mail_options) == is_8bit


def test_without_8bitmime_bodies_are_quoted_printable_and_still_verify(
        out: Path, built: rs.SmallBuild) -> None:
    inbox = Plain7bitInbox()
    with smtp_server(inbox) as server:
        assert _notify(out, server, built.keys) == 0
    record = dkim_dns_record(built.keys)
    links = _links(out)
    assert len(inbox.arrivals) == 6
    for a in inbox.arrivals:
        assert max(a.raw) < 0x80, "every byte is 7-bit"
        assert "BODY=8BITMIME" not in a.mail_options
        assert dkim.verify(a.raw, dnsfunc=_dns(record))
        msg = _parse(a.raw)
        if msg["To"].addresses[0].addr_spec in links:
            _check_links(msg, links)


def test_a_changed_body_fails_dkim(built: rs.SmallBuild) -> None:
    outbox = built.out / "private" / "outbox"
    item = next(i for i in read_outbox(built.out / "private") if i.kind == "candidate")
    msg = _parse((outbox / item.file).read_bytes())
    wire = prepare(msg, sent_at=datetime.now(UTC), eight_bit_ok=True,
                   dkim_key=DkimKey(SELECTOR, load_dkim_key(built.keys)))
    record = dkim_dns_record(built.keys)
    assert dkim.verify(wire.data, dnsfunc=_dns(record))
    tampered = wire.data.replace(b"/statement#", b"/statement?#", 1)
    assert tampered != wire.data
    assert not dkim.verify(tampered, dnsfunc=_dns(record))


def test_the_clock_is_injectable(out: Path, smtp: tuple[str, Inbox]) -> None:
    from results_online.build.release.send import SmtpServer, send_outbox

    server, inbox = smtp
    host, _, port = server.partition(":")
    fixed = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    send_outbox(out / "private", SmtpServer(host, int(port)), rs.AFTER_BOTH, clock=lambda: fixed)
    assert {parsedate_to_datetime(_parse(a.raw)["Date"]) for a in inbox.arrivals} == {fixed}


def test_a_selector_without_a_dkim_key_is_a_clear_error(
        out: Path, tmp_path: Path, smtp: tuple[str, Inbox],
        capsys: pytest.CaptureFixture[str]) -> None:
    server, inbox = smtp
    empty = tmp_path / "nokeys"
    empty.mkdir()
    assert _notify(out, server, empty) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no DKIM key") and "hint: " in err
    assert inbox.arrivals == []


def test_the_candidate_mail_states_the_enquiry_deadline_and_the_id(built: rs.SmallBuild) -> None:
    from results_online.build.grading.enquiry import enquiry_deadline_of
    from results_online.build.inputs.load import load_series

    series = load_series(built.out.parent / "series")
    deadline = enquiry_deadline_of(series.info, series.tests[0])
    words = f"{deadline:%A} {deadline.day} {deadline:%B} {deadline.year}"
    outbox = built.out / "private" / "outbox"
    ids = {c["email"]: c["candidate_id"] for c in built.candidates}
    items = [i for i in read_outbox(built.out / "private") if i.kind == "candidate"]
    assert items
    for item in items:
        msg = _parse((outbox / item.file).read_bytes())
        for subtype in ("plain", "html"):
            part = msg.get_body(preferencelist=(subtype,))
            assert part is not None
            text = part.get_content()
            assert words in text and "through your centre" in text
            assert ids[msg["To"].addresses[0].addr_spec] in text
