"""Outbox messages as bytes: what a mail reader reads back, in every script (RFC 2047, 2045)."""

from __future__ import annotations

import email
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from factories import NAMES

from results_online.build.release.compose import MAX_LINE, compose

LONG = ["محمد بن عبد الله الهاشمي القرشي المكي المدني " * 2, "山田太郎" * 12,
        "👩🏽‍🔬 Ana-María Ñúñez de la Peña y Fernández-Villaverde Montenegro",
        'O\'Brien, Seán "Jr"', "Plain Name", " ".join(["Alexandra"] * 9)]


def _message(name: str, *, text: str = "", html: str = "") -> bytes:
    return compose(sender=("Board of Exams", "noreply@results.example.org"),
                   to=(name, "candidate@example.org"), subject=f"Results for {name}",
                   msgid="<candidate.ABC.2026-06@results.example.org>",
                   text=text or f"Dear {name},\n\nyour results are ready.\n",
                   html=html or f"<p>Dear {name},</p>\n<p>your results are ready.</p>\n")


def _parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _body(msg: EmailMessage, subtype: str) -> EmailMessage:
    part = msg.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    return part


@pytest.mark.parametrize("name", [*NAMES, *LONG])
def test_names_and_subjects_in_any_script_read_back_exactly(name: str) -> None:
    data = _message(name)
    msg = _parse(data)
    if name.isascii():
        assert msg["To"].addresses[0].display_name == name
    else:  # read as RFC 2047 says: the default policy's parser puts a space between the
        # encoded words of a long name in an address, where the RFC joins them
        raw = email.message_from_bytes(data, policy=policy.compat32)["To"]
        assert str(make_header(decode_header(raw))) == f"{name} <candidate@example.org>"
    assert msg["To"].addresses[0].addr_spec == "candidate@example.org"
    assert msg["From"].addresses[0].display_name == "Board of Exams"
    assert msg["Subject"] == f"Results for {name}"
    assert msg["Message-ID"] == "<candidate.ABC.2026-06@results.example.org>"
    assert msg.get_content_type() == "multipart/alternative"
    assert _body(msg, "plain").get_content() == f"Dear {name},\n\nyour results are ready.\n"
    assert name in _body(msg, "html").get_content()
    header = data.split(b"\n\n", 1)[0]
    assert max(len(line) for line in header.split(b"\n")) <= MAX_LINE
    assert max(header) < 0x80, "headers are 7-bit: non-ASCII goes as encoded words"
    assert not msg.defects and not any(p.defects for p in msg.walk())


@pytest.mark.parametrize(("text", "encoding"), [
    ("Short ASCII lines.\nAnother.\n", "7bit"),
    ("Zoë Ångström\nshort lines\n", "8bit"),
    ("https://results.example.org/statement#" + "A" * 80 + "\n", "quoted-printable"),
    ("山田太郎" * 40 + "\n", "base64"),
])
def test_a_body_goes_as_it_is_only_when_its_lines_are_short(text: str, encoding: str) -> None:
    msg = _parse(_message("Zoë", text=text))
    part = _body(msg, "plain")
    assert part["Content-Transfer-Encoding"] == encoding
    assert part.get_content() == text
    assert part.get_content_charset() == "utf-8"


def test_the_same_inputs_make_the_same_bytes_and_a_boundary_no_body_holds() -> None:
    first, again = _message("Zoë"), _message("Zoë")
    other = _message("Zoë", text="Something else.\n")
    assert first == again
    boundary = _parse(first).get_boundary()
    assert boundary is not None and boundary.startswith("=_")
    assert boundary != _parse(other).get_boundary()
    assert first.count(f"--{boundary}".encode()) == 3  # two parts and the close
