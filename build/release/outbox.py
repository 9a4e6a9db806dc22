"""Stage: the outbox, links.csv and one e-mail per candidate and per centre (private).

A candidate's secure link is ``<site>/statement#<statement id>.<key>``, the key
being base64url (no padding) of ``ids.content_key(statement secret, id)``: it
exists only in the link, links.csv and the candidate's message. The messages
say nothing about results; the link opens them. Nothing here logs a link.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, select_autoescape

from results_online.build.grading.enquiry import enquiry_deadline_of, series_closed_days
from results_online.build.output import Carrier, write_json_list
from results_online.build.release.compose import compose
from results_online.build.release.history import OutboxHistory, write_sent
from results_online.ids import secure_link
from results_online.model import Centre, Series, Statement
from results_online.names import bundle_path, safe_name
from results_online.web import environment

OUTBOX_DIR = "outbox"
OUTBOX_INDEX = "outbox.json"
LINKS_FILE = "links.csv"
SENT_FILE = "sent.json"  # written by build/send.py
HISTORY_FILE = ".outbox-history.sqlite"  # during a build only (history.py)
LINK_COLUMNS = ("candidate_id", "name", "email", "test", "statement_id", "link")


@dataclass(frozen=True)
class Link:
    """One statement's secure link, as listed in links.csv."""

    candidate_id: str = field(repr=False)
    name: str = field(repr=False)
    email: str = field(repr=False)
    test: str
    statement_id: str
    link: str = field(repr=False)  # holds the content key


@dataclass(frozen=True)
class OutboxItem:
    """One message in the outbox and the time from which it may be sent."""

    file: str  # name inside outbox/
    kind: str  # "candidate" or "centre"
    send_after: datetime
    inputs: str = ""  # digest of what the message is made from: unchanged, it is carried over


def open_page_url(site_url: str, centre: str) -> str:
    """The page where a centre's exams officer opens its bundle in the browser."""
    return f"{site_url.rstrip('/')}/centres/open/?centre={safe_name(centre)}"


def bundle_url(site_url: str, centre: str, series_code: str) -> str:
    """Where a centre's encrypted bundle is published."""
    return f"{site_url.rstrip('/')}/{bundle_path(centre, series_code)}"


def candidate_links(statements: Sequence[Statement], statement_secret: bytes) -> list[Link]:
    """One link per statement, in the order given."""
    return [
        Link(s.entry.candidate.candidate_id, s.entry.candidate.name, s.entry.candidate.email,
             s.entry.test.code, s.statement_id,
             secure_link(s.series.site_url, s.statement_id, statement_secret))
        for s in statements
    ]


def write_outbox(series: Series, statements: Sequence[Statement], statement_secret: bytes,
                 private_dir: Path, previous: Path | None = None) -> tuple[OutboxItem, ...]:
    """Write links.csv, outbox/*.eml and outbox/outbox.json; return the outbox items.

    ``previous`` is the private folder of the build being replaced: its record of sent
    messages is kept for the messages that are still the same, so none goes twice.
    """
    outbox = Outbox(series, statement_secret, private_dir, previous)
    items = outbox.candidates(statements)
    return (*items, *outbox.finish(statements, items,
                                   sorted({s.centre.number for s in statements})))


class Outbox:
    """Writes the outbox in parts: candidates' messages as their centre is done, then the rest.

    ``candidates`` may run on a thread beside rendering, one centre at a time;
    ``finish`` runs once after it and writes what lists the whole series, reading the
    statements and the candidates' items as streams.
    """

    def __init__(self, series: Series, statement_secret: bytes, private_dir: Path,
                 previous: Path | None = None) -> None:
        self.series, self.secret, self.private, self.previous = (
            series, statement_secret, private_dir, previous)
        self.dir = private_dir / OUTBOX_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        old = previous / OUTBOX_DIR if previous is not None else None
        self.history = OutboxHistory(
            private_dir / HISTORY_FILE,
            old / OUTBOX_INDEX if old is not None and (old / OUTBOX_INDEX).is_file() else None,
            old / SENT_FILE if old is not None and (old / SENT_FILE).is_file() else None)
        self.mail = _Mail(_email_environment(), self.dir, old, self.history)
        closed = series_closed_days(series.info)
        self.deadlines = {t.code: enquiry_deadline_of(series.info, t, closed)
                          for t in series.tests}

    def candidates(self, statements: Sequence[Statement]) -> list[OutboxItem]:
        """Write one message per candidate of these statements (all of each one's tests).

        Returns their items, in the order the candidates first appear.
        """
        info = self.series.info
        by_candidate: dict[str, list[Link]] = {}
        for link in candidate_links(statements, self.secret):
            by_candidate.setdefault(link.candidate_id, []).append(link)
        tests = {t.code: t.name for t in self.series.tests}
        codes = {s.statement_id: s.share_code for s in statements}
        names = {cid: f"candidate-{group[0].statement_id}.eml"
                 for cid, group in by_candidate.items()}
        known = self.history.digests(list(names.values()))
        items = []
        for cid, group in by_candidate.items():
            first, name = group[0], names[cid]
            context = {"info": info, "name": first.name, "tests": tests,
                       "candidate_id": first.candidate_id,
                       "links": [(tests.get(g.test, g.test), g.link, codes[g.statement_id])
                                 for g in group],
                       "enquiries": [(tests.get(g.test, g.test), self.deadlines[g.test])
                                     for g in group if g.test in self.deadlines]}
            inputs = self.mail.put(name, "email_candidate", context, info.site_url,
                                   to=(first.name, first.email),
                                   subject=f"{info.board}: your {info.name} results",
                                   msgid=f"candidate.{first.statement_id}.{info.code}",
                                   previous=known.get(name))
            items.append(OutboxItem(name, "candidate", info.candidates_release, inputs))
        return items

    def finish(self, statements: Iterable[Statement], candidates: Iterable[OutboxItem],
               centres: Iterable[str]) -> tuple[OutboxItem, ...]:
        """links.csv, the centres' messages, the sent record and outbox.json, in series order.

        ``candidates`` are the candidates' items (from ``candidates``) in series order;
        ``centres`` the numbers of the centres with statements. Returns the centres' items.
        """
        self.private.mkdir(parents=True, exist_ok=True)
        write_links(self.private / LINKS_FILE, statements, self.secret)
        mine = tuple(_centre_message(self.mail, self.series, self.series.centre(number))
                     for number in centres)
        files: list[str] = []

        def listed(items: Iterable[OutboxItem]) -> Iterator[dict[str, str]]:
            for item in items:
                files.append(item.file)
                if len(files) >= 1000:  # noted for the sent record a thousand at a time
                    self.history.note(files)
                    files.clear()
                yield {"file": item.file, "kind": item.kind,
                       "send_after": item.send_after.isoformat(), "inputs": item.inputs}

        index = self.dir / OUTBOX_INDEX
        write_json_list(index, "messages", listed(chain(candidates, mine)))
        index.chmod(0o600)
        self.history.note(files)
        write_sent(self.dir / SENT_FILE, self.history.kept())
        self.history.close()
        return mine


def write_links(path: Path, statements: Iterable[Statement], statement_secret: bytes) -> None:
    """Write links.csv one statement at a time, privately: UTF-8 with BOM so
    spreadsheets keep the names and leading zeros as text."""
    path.unlink(missing_ok=True)  # a carried file may be a hard link into the previous output
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("\ufeff")
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(LINK_COLUMNS)
        for s in statements:
            link = candidate_links([s], statement_secret)[0]
            writer.writerow([link.candidate_id, link.name, link.email, link.test,
                             link.statement_id, link.link])
    path.chmod(0o600)


def read_outbox(private_dir: Path) -> tuple[OutboxItem, ...]:
    """The outbox items written by ``write_outbox``; ValueError if the index is damaged."""
    doc = json.loads((private_dir / OUTBOX_DIR / OUTBOX_INDEX).read_text(encoding="utf-8"))
    return tuple(OutboxItem(m["file"], m["kind"], datetime.fromisoformat(m["send_after"]),
                            m.get("inputs", "")) for m in doc["messages"])


def _centre_message(mail: _Mail, series: Series, centre: Centre) -> OutboxItem:
    info = series.info
    context = {"info": info, "centre": centre,
               "url": bundle_url(info.site_url, centre.number, info.code),
               "open_url": open_page_url(info.site_url, centre.number),
               "file": f"{safe_name(info.code)}.zip.age"}
    name = f"centre-{safe_name(centre.number)}.eml"
    inputs = mail.put(name, "email_centre", context, info.site_url,
                      to=(centre.name, centre.email),
                      subject=f"{info.board}: {info.name} results for centre {centre.number}",
                      msgid=f"centre.{safe_name(centre.number)}.{info.code}",
                      previous=mail.history.digests([name]).get(name))
    return OutboxItem(name, "centre", info.centres_release, inputs)


class _Mail:
    """Writes outbox messages, carrying over (hard-linking) those whose inputs are unchanged."""

    def __init__(self, env: Environment, outbox: Path, old: Path | None,
                 history: OutboxHistory) -> None:
        self.env, self.outbox, self.old, self.history = env, outbox, old, history
        self.carrier = Carrier()

    def __getstate__(self) -> dict[str, object]:
        # Sent to another process with its Outbox (an amend's linker): it makes its own.
        return {k: v for k, v in self.__dict__.items() if k != "env"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.env = _email_environment()

    def put(self, name: str, template: str, context: dict[str, object], site_url: str, *,
            to: tuple[str, str], subject: str, msgid: str, previous: str | None) -> str:
        """Write (or carry) one message to (display name, address); return its inputs' digest.

        ``previous`` is the digest the previous outbox noted for ``name``.
        """
        inputs = hashlib.sha256(repr((template, sorted(context.items()), site_url, to,
                                      subject, msgid)).encode()).hexdigest()
        if self.old is None or previous != inputs or not self.carrier.carry(
                os.path.join(self.old, name), os.path.join(self.outbox, name)):
            _write_private(self.outbox / name, _message(
                self.env, template, context, site_url, to=to, subject=subject, msgid=msgid))
        return inputs


def _message(env: Environment, template: str, context: dict[str, object], site_url: str, *,
             to: tuple[str, str], subject: str, msgid: str) -> bytes:
    host = urlsplit(site_url).hostname or "localhost"
    # Deterministic Message-ID, so a rebuilt outbox names the same messages.
    return compose(sender=(str(getattr(context["info"], "board", "")), f"noreply@{host}"),
                   to=to, subject=subject, msgid=f"<{msgid}@{host}>",
                   text=env.get_template(f"{template}.txt").render(context),
                   html=env.get_template(f"{template}.html").render(context))


def _email_environment() -> Environment:
    # The shared environment escapes everything; plain-text mail must not be escaped.
    return environment().overlay(
        autoescape=select_autoescape(enabled_extensions=("html",), default=False))


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)  # a carried file may be a hard link into the previous output
    path.write_bytes(data)
    path.chmod(0o600)
