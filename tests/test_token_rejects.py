"""Every rejection rule of SPEC.md (tests/vectors/reject-*.json) and the encoder's twin rules."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
import reject_vectors as rv
import token_vectors as tv

from results_online import token as tk
from results_online.errors import InvalidToken
from results_online.keyset import Keyset

REJECTS = sorted(rv.CASES)
STEPS = ("qr_text", "decode", "verify")


@pytest.mark.parametrize("name", REJECTS)
def test_reject_vector_matches_what_the_code_makes(name: str) -> None:
    assert rv.stored(name) == rv.make_vector(name)


@pytest.mark.parametrize("name", REJECTS)
def test_reject_vector_is_refused_at_its_step_and_no_earlier(name: str) -> None:
    v = rv.stored(name)
    assert v["expect"] == "reject" and v["expected_error"] == "InvalidToken"
    keyset = Keyset.from_json(json.dumps(v["keyset"]))
    step = STEPS.index(v["rejected_by"])
    with pytest.raises(InvalidToken):
        tk.verify_token(keyset, tk.from_qr_text(v["qr_text"]))
    if step == 0:
        with pytest.raises(InvalidToken):
            tk.from_qr_text(v["qr_text"])
        return
    token = tk.from_qr_text(v["qr_text"])
    if step == 1:
        with pytest.raises(InvalidToken):
            tk.decode_unverified(token)
    else:
        tk.decode_unverified(token)


def test_every_rule_of_the_spec_has_a_vector() -> None:
    rules = {rv.stored(n)["rule"] for n in REJECTS}
    for words in ("/q", "revision", "series", "48 bytes", "UTF-8", "1..255 results",
                  "no grade", "CEFR", "overall", "after the last", "keyset", "valid_from",
                  "valid_until", "signature", "64 bytes", "version", "digits"):
        assert any(words in r for r in rules), words


@pytest.mark.parametrize("name", sorted(tv.CASES))
def test_accept_vectors_read_from_their_qr_text(name: str) -> None:
    v = tv.stored(name)
    assert tk.from_qr_text(v["qr_text"]).hex() == v["token_hex"]


def test_the_decoder_accepts_the_edges_of_each_range() -> None:
    base = rv.Body(revision=255, series=5000 * 12 + 11, name=b"\xef\xbb\xbf" + b"a" * 45)
    data = tk.decode_unverified(rv._signed(base))
    assert (data.revision, data.series_year, data.series_month) == (255, 5000, 12)
    assert data.name == "\ufeff" + "a" * 45  # a leading BOM is part of the name, not dropped
    first = tk.decode_unverified(rv._signed(rv.Body(series=2000 * 12, issued=tk.EPOCH)))
    assert (first.series_year, first.series_month, first.issue_date) == (2000, 1, tk.EPOCH)


def _data() -> tk.TokenData:
    return tv.token_data(tv.private_key(tv.seed("A")), tv.CASES["step-basic"][1])


@pytest.mark.parametrize("change", [
    {"revision": 0}, {"revision": 256}, {"series_year": 1999}, {"series_year": 5001},
    {"series_month": 0}, {"series_month": 13}, {"results": ()},
    {"results": (tk.TokenResult("9470", None, "X", "S"),)},
    {"results": (tk.TokenResult("", None, "Pending", "", "B2"),)},
    {"results": (tk.TokenResult("R", 170, None, "", "B2"),)},
    {"results": (tk.TokenResult("", 176, None, "B", "B2"), tk.TokenResult("R", 176, None))},
    {"results": (tk.TokenResult("R", 1, None),) * 256},
    {"issue_date": date(1999, 12, 31)},
])
def test_the_encoder_refuses_what_the_decoder_refuses(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        tk.encode(replace(_data(), **change))  # type: ignore[arg-type]


def test_the_encoder_truncates_a_long_name_the_decoder_would_refuse() -> None:
    long = replace(_data(), name="王" * 20)
    assert tk.decode_unverified(tk.encode(long) + bytes(64)).name == "王" * 15 + "…"


@pytest.mark.parametrize("text", [
    "https://verify.example.org/q#123", "http://127.0.0.1:8000/q#00123",
])
def test_qr_text_shape_accepted(text: str) -> None:
    assert tk.from_qr_text(text) == tk.from_digits(text.partition("#")[2])


@pytest.mark.parametrize("text", [
    "https://verify.example.org/q/#123", "https://verify.example.org/Q#123",
    "https://verify.example.org/x/q#123", "https://user@verify.example.org/q#123",
    "https://verify.example.org/q#123 ", " https://verify.example.org/q#123",
    "https://verify.example.org/q#", "verify.example.org/q#123", "123",
])
def test_qr_text_of_another_shape_is_refused(text: str) -> None:
    with pytest.raises(InvalidToken):
        tk.from_qr_text(text)


def test_every_body_the_decoder_accepts_is_the_one_the_encoder_makes_of_it() -> None:
    """Decoder and encoder enforce the same rules: nothing decodes that encode would refuse."""
    accepted = 0
    for body in rv.near_bodies(per_body=300):
        try:
            data = tk.decode_unverified(body + bytes(64))
        except InvalidToken:
            continue
        accepted += 1
        assert tk.encode(data) == body
    assert accepted > 1000
