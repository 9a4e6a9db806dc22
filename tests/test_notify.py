"""links.csv, the outbox of real e-mails, and `results notify` against a real SMTP server."""

from __future__ import annotations

import base64
import csv
import email
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import release_support as rs
from factories import make_keys, step_series
from localhost import free_port, smtp_server

from results_online.build.release.outbox import read_outbox, write_outbox
from results_online.build.verification.seal import seal_series
from results_online.commands.main import main
from results_online.ids import content_key, secure_link
from results_online.keys.store import load_keys


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@dataclass
class PickyInbox(Inbox):
    """An inbox whose server refuses one recipient address."""

    refuse: str = ""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address == self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    with smtp_server(inbox) as server:
        yield server, inbox


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> rs.SmallBuild:
    return rs.small_build(tmp_path_factory.mktemp("notify"))


@pytest.fixture
def out(built: rs.SmallBuild, tmp_path: Path) -> Path:
    """A fresh copy of the built OUT folder, so each test has an unsent outbox."""
    copy = tmp_path / "out"
    shutil.copytree(built.out, copy)
    return copy


def _links(out: Path) -> list[dict[str, str]]:
    with (out / "private" / "links.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    return str(part.get_content())


def _notify(out: Path, server: str, now: str) -> int:
    return main(["notify", str(out), "--smtp", server, "--now", now])


def test_links_csv_has_one_working_link_per_statement(built: rs.SmallBuild) -> None:
    rows = _links(built.out)
    manifest = json.loads((built.out / "private" / "manifest.json").read_text())["statements"]
    assert {r["statement_id"] for r in rows} == {m["statement_id"] for m in manifest}
    assert list(rows[0]) == ["candidate_id", "name", "email", "test", "statement_id", "link"]
    secret = load_keys(built.keys).statement_secret
    by_id = {c["candidate_id"]: c for c in built.candidates}
    for r in rows:
        cand = by_id[r["candidate_id"]]  # leading zeros kept
        assert (r["name"], r["email"]) == (cand["name"], cand["email"])
        prefix, _, key = r["link"].partition("#")
        assert prefix == "http://127.0.0.1:8000/statement"
        sid, _, encoded = key.partition(".")
        assert sid == r["statement_id"] and "=" not in encoded
        assert base64.urlsafe_b64decode(encoded + "=") == content_key(secret, sid)
    assert (built.out / "private" / "links.csv").stat().st_mode & 0o077 == 0


def test_candidate_messages_are_multipart_with_the_link_and_no_result(
        built: rs.SmallBuild) -> None:
    outbox = built.out / "private" / "outbox"
    links = {r["email"]: r["link"] for r in _links(built.out)}
    items = [i for i in read_outbox(built.out / "private") if i.kind == "candidate"]
    assert len(items) == len(built.candidates)
    for item in items:
        msg = email.message_from_bytes((outbox / item.file).read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        assert msg.get_content_type() == "multipart/alternative"
        to = msg["To"].addresses[0]
        link = links[to.addr_spec]
        text, html = _body(msg, "plain"), _body(msg, "html")
        assert link in text and f'href="{link}"' in html
        assert to.display_name in text and "June 2026" in msg["Subject"]
        assert "&lt;" not in text and "&#39;" not in text  # plain text is not HTML-escaped
        assert " marks" not in text and "Grade" not in text


def test_centre_messages_point_at_the_open_page_and_the_bundle(built: rs.SmallBuild) -> None:
    outbox = built.out / "private" / "outbox"
    items = [i for i in read_outbox(built.out / "private") if i.kind == "centre"]
    assert len(items) == len(built.centres)
    for item in items:
        msg = email.message_from_bytes((outbox / item.file).read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        addr = msg["To"].addresses[0].addr_spec
        centre = next(c for c, mail in built.centres.items() if mail == addr)
        url = f"http://127.0.0.1:8000/c/{centre}/{rs.SERIES_CODE}.zip.age"
        assert url in _body(msg, "plain") and f'href="{url}"' in _body(msg, "html")
        assert "age -d" in _body(msg, "plain")
        page = f"http://127.0.0.1:8000/centres/open/?centre={centre}"
        assert page in _body(msg, "plain") and f'href="{page}"' in _body(msg, "html")
        assert "#" not in _body(msg, "plain").split(url)[0][-200:]  # no candidate link


def test_nothing_is_sent_before_the_centres_release(out: Path, smtp: tuple[str, Inbox],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    server, inbox = smtp
    assert _notify(out, server, rs.JUST_BEFORE_CENTRES.isoformat()) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: nothing may be sent before") and "\nhint: " in err
    assert "Traceback" not in err
    assert inbox.messages == []
    assert not (out / "private" / "outbox" / "sent.json").exists()


def test_release_times_gate_each_kind_and_nothing_is_sent_twice(
        out: Path, smtp: tuple[str, Inbox], capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    server, inbox = smtp
    caplog.set_level(logging.DEBUG)
    links = {r["email"]: r["link"] for r in _links(out)}

    assert _notify(out, server, rs.JUST_BEFORE_CANDIDATES.isoformat()) == 0
    printed = capsys.readouterr().out
    assert "sent 2 message(s)" in printed and "4 message(s) wait" in printed
    assert sorted(r[0] for r in inbox.recipients) == sorted(rs_centre_mails(out))
    assert all("/statement#" not in _body(m, "plain") for m in inbox.messages)

    assert _notify(out, server, rs.AFTER_BOTH.isoformat()) == 0
    assert "sent 4 message(s); 2 sent before" in capsys.readouterr().out
    arrived = inbox.messages[2:]
    assert {m["To"].addresses[0].addr_spec for m in arrived} == set(links)
    for m in arrived:
        assert links[m["To"].addresses[0].addr_spec] in _body(m, "plain")
        assert m["Date"] is not None and m["Message-ID"]

    assert _notify(out, server, rs.AFTER_BOTH.isoformat()) == 0
    assert "sent 0 message(s); 6 sent before" in capsys.readouterr().out
    assert len(inbox.messages) == 6

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("results_online")]
    assert ours  # sending is logged...
    logged = "\n".join(ours) + printed  # ...but never a link or a key
    for link in links.values():
        assert link not in logged and link.split(".")[-1] not in logged


def rs_centre_mails(out: Path) -> list[str]:
    """The centres' addresses, read back from their outbox messages."""
    outbox = out / "private" / "outbox"
    mails = []
    for item in read_outbox(out / "private"):
        if item.kind == "centre":
            msg = email.message_from_bytes((outbox / item.file).read_bytes(),
                                           policy=policy.default)
            mails.append(msg["To"].addresses[0].addr_spec)
    return mails


def test_sender_replaces_the_from_address(out: Path, smtp: tuple[str, Inbox]) -> None:
    server, inbox = smtp
    assert main(["notify", str(out), "--smtp", server, "--now", rs.BETWEEN.isoformat(),
                 "--sender", "Exam Results <results@board.example>"]) == 0
    assert inbox.messages
    assert {m["From"].addresses[0].addr_spec for m in inbox.messages} == {"results@board.example"}


def test_a_refused_address_holds_back_no_one_else(out: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    centre_mail = rs_centre_mails(out)[0]
    inbox = PickyInbox(refuse=centre_mail)
    with smtp_server(inbox) as server:
        assert _notify(out, server, rs.AFTER_BOTH.isoformat()) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: the mail server refused 1 of 6") and "hint: " in err
        assert centre_mail not in err
        assert len(inbox.messages) == 5
        inbox.refuse = ""  # the address is fixed: the re-run sends only that message
        assert _notify(out, server, rs.AFTER_BOTH.isoformat()) == 0
        assert "sent 1 message(s); 5 sent before" in capsys.readouterr().out
        assert inbox.recipients[-1] == [centre_mail]


def test_unreachable_server_is_a_clear_error(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _notify(out, f"127.0.0.1:{free_port()}", rs.AFTER_BOTH.isoformat()) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: sending stopped after 0 of 6") and "hint: " in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["--smtp", "nohost"], ["--smtp", "h:99999"],
                                  ["--smtp", "h:25", "--now", "2026-08-13T09:00"]])
def test_bad_notify_arguments(out: Path, args: list[str],
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", str(out), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "hint: " in err


def test_a_rebuild_keeps_the_record_of_what_was_sent(tmp_path: Path) -> None:
    series = step_series(per_centre=2, n_centres=1)
    keys = make_keys(tmp_path / "keys")
    statements = seal_series(series, keys)
    first = write_outbox(series, statements, keys.statement_secret, tmp_path / "one")
    sent = {first[0].file: "2026-08-20T08:00:00+00:00", "gone.eml": "x"}
    (tmp_path / "one" / "outbox" / "sent.json").write_text(json.dumps({"sent": sent}))
    write_outbox(series, statements, keys.statement_secret, tmp_path / "two",
                 previous=tmp_path / "one")
    kept = json.loads((tmp_path / "two" / "outbox" / "sent.json").read_text())["sent"]
    assert kept == {first[0].file: "2026-08-20T08:00:00+00:00"}


def test_one_message_per_candidate_with_every_test_link(tmp_path: Path) -> None:
    series = step_series(per_centre=1, n_centres=1)
    keys = make_keys(tmp_path / "keys")
    statements = seal_series(series, keys)
    items = write_outbox(series, statements, keys.statement_secret, tmp_path)
    assert [i.kind for i in items].count("candidate") == len({s.entry.candidate.candidate_id
                                                               for s in statements})
    outbox = tmp_path / "outbox"
    for item in (i for i in items if i.kind == "candidate"):
        msg = email.message_from_bytes((outbox / item.file).read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        addr = msg["To"].addresses[0].addr_spec
        mine = [s for s in statements if s.entry.candidate.email == addr]
        assert len(mine) == len(series.tests)
        for s in mine:
            link = secure_link(series.info.site_url, s.statement_id, keys.statement_secret)
            assert link.startswith(f"{series.info.site_url}/statement#{s.statement_id}.")
            assert link in _body(msg, "plain")
