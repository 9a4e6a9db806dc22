"""The signed token: known-answer vectors, round trips, tampering and fuzzing (SPEC.md)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from datetime import date

import pytest
import token_vectors as tv
from hypothesis import given, settings
from hypothesis import strategies as st

from results_online import crypto
from results_online import token as tk
from results_online.errors import InvalidToken
from results_online.keyset import Keyset

VECTORS = sorted(tv.CASES)


def _signed(name: str = "step-basic") -> tuple[bytes, Keyset]:
    v = tv.stored(name)
    return bytes.fromhex(v["token_hex"]), Keyset.from_json(json.dumps(v["keyset"]))


@pytest.mark.parametrize("name", VECTORS)
def test_vector_matches_what_the_code_makes(name: str) -> None:
    assert tv.stored(name) == tv.make_vector(name)


@pytest.mark.parametrize("name", VECTORS)
def test_vector_token_verifies_and_decodes_to_its_fields(name: str) -> None:
    v = tv.stored(name)
    keyset = Keyset.from_json(json.dumps(v["keyset"]))
    signed = tk.from_digits(v["digits"])
    assert signed.hex() == v["token_hex"]
    data = tk.verify_token(keyset, signed)
    fields = v["token_data"]
    assert data.key_id.hex() == v["key_id_hex"]
    assert data.statement_id.hex() == fields["statement_id"]
    assert data.issue_date == date.fromisoformat(fields["issue_date"])
    assert (data.series_year, data.series_month) == (fields["series_year"],
                                                     fields["series_month"])
    assert (data.test, data.candidate_number) == (fields["test"], fields["candidate_number"])
    assert data.name == v["name_in_token"]
    assert [r.__dict__ for r in data.results] == fields["results"]
    assert v["qr_text"] == f"{tv.VERIFY_URL}/q#{v['digits']}"


def test_vectors_cover_step_and_cambridge_english() -> None:
    tests = {tv.stored(n)["token_data"]["test"] for n in VECTORS}
    assert "STEP" in tests and tests & {"KET", "PET", "FCE", "CAE", "CPE"}


def test_body_layout_is_the_documented_header() -> None:
    v = tv.stored("step-basic")
    body = bytes.fromhex(v["body_hex"])
    assert body[0] == tk.VERSION
    assert body[1:9].hex() == v["key_id_hex"]
    assert body[9:19].hex() == v["token_data"]["statement_id"]
    assert body[19] == 1
    assert int.from_bytes(body[20:22], "big") == (date(2026, 8, 20) - tk.EPOCH).days
    assert int.from_bytes(body[22:24], "big") == 2026 * 12 + 6 - 1
    assert body[24] == 4 and body[25:29] == b"STEP"


def test_round_trip_through_digits() -> None:
    signed, keyset = _signed("cambridge-fce")
    assert tk.from_digits(tk.to_digits(signed)) == signed
    assert tk.verify_token(keyset, signed) == tk.decode_unverified(signed)


@pytest.mark.parametrize("name", VECTORS)
def test_every_flipped_bit_fails(name: str) -> None:
    signed, keyset = _signed(name)
    for i in range(len(signed) * 8):
        bad = bytearray(signed)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(InvalidToken):
            tk.verify_token(keyset, bytes(bad))


def test_changed_digit_fails() -> None:
    v = tv.stored("step-basic")
    digits = v["digits"]
    keyset = Keyset.from_json(json.dumps(v["keyset"]))
    for i in range(0, len(digits), 7):
        changed = digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1:]
        with pytest.raises(InvalidToken):
            tk.verify_token(keyset, tk.from_digits(changed))


def test_key_not_in_keyset_fails() -> None:
    signed, _ = _signed("step-basic")
    other = Keyset.from_json(json.dumps(tv.stored("cambridge-ket-long-name-pending")["keyset"]))
    with pytest.raises(InvalidToken):
        tk.verify_token(other, signed)


def test_forged_key_id_fails() -> None:
    """Re-signed with another key but claiming the trusted key's id: the signature fails."""
    v = tv.stored("step-basic")
    keyset = Keyset.from_json(json.dumps(v["keyset"]))
    intruder = tv.private_key(tv.seed("intruder"))
    body = bytes.fromhex(v["body_hex"])
    with pytest.raises(InvalidToken):
        tk.verify_token(keyset, crypto.sign(intruder, body))


def test_token_dated_before_key_validity_fails() -> None:
    key = tv.private_key(tv.seed("A"))
    data = tv.token_data(key, tv.CASES["step-basic"][1])
    early = tk.sign_token(key, replace(data, issue_date=date(2025, 12, 31)))
    with pytest.raises(InvalidToken):
        tk.verify_token(tv.keyset_for(key), early)


def test_sign_refuses_a_foreign_key_id() -> None:
    key = tv.private_key(tv.seed("A"))
    data = tv.token_data(key, tv.CASES["step-basic"][1])
    with pytest.raises(ValueError, match="key id"):
        tk.sign_token(tv.private_key(tv.seed("B")), data)


def test_a_token_signed_before_is_kept_only_for_the_same_body() -> None:
    key = tv.private_key(tv.seed("A"))
    data = tv.token_data(key, tv.CASES["step-basic"][1])
    signed = tk.sign_token(key, data)
    assert tk.sign_token(key, data, before=signed) is signed
    assert tk.sign_token(key, data) == signed  # what signing again would give
    revised = replace(data, revision=data.revision + 1)
    fresh = tk.sign_token(key, revised, before=signed)
    assert fresh != signed and tk.verify_token(tv.keyset_for(key), fresh) == revised


def test_name_truncation_rule() -> None:
    assert tk.truncate_name("Anna") == "Anna"
    exact = "é" * 24  # 48 bytes: kept whole
    assert tk.truncate_name(exact) == exact
    cut = tk.truncate_name("王" * 20)  # 60 bytes
    assert cut == "王" * 15 + "…" and len(cut.encode()) == 48
    spaced = tk.truncate_name("A" * 44 + " " + "B" * 10)
    assert spaced == "A" * 44 + "…"


@pytest.mark.parametrize("result", [
    tk.TokenResult("9470", 251, None, "S"),
    tk.TokenResult("9470", 50, "X"),
    tk.TokenResult("9470", None, "Absent"),
])
def test_encode_rejects_unrepresentable_results(result: tk.TokenResult) -> None:
    key = tv.private_key(tv.seed("A"))
    data = tv.token_data(key, tv.CASES["step-basic"][1])
    with pytest.raises(ValueError):
        tk.encode(replace(data, results=(result,)))


def test_encode_rejects_dates_outside_the_layout() -> None:
    key = tv.private_key(tv.seed("A"))
    data = tv.token_data(key, tv.CASES["step-basic"][1])
    with pytest.raises(ValueError):
        tk.encode(replace(data, issue_date=date(1999, 12, 31)))
    with pytest.raises(ValueError):
        tk.encode(replace(data, revision=0))


def test_to_digits_chunk_widths() -> None:
    assert tk.to_digits(b"\xff") == "255"
    assert tk.to_digits(b"\x00" * 7) == "0" * 17
    assert tk.to_digits(b"\xff" * 8) == str(256**7 - 1) + "255"
    assert len(tk.to_digits(bytes(167))) == 23 * 17 + 15


@pytest.mark.parametrize("digits", ["", "12", "256", "99999", "12a45", "\uff11\uff12\uff13",
                                    "0" * 18, "9" * 17])
def test_from_digits_rejects_what_to_digits_cannot_make(digits: str) -> None:
    if digits == "":
        with pytest.raises(InvalidToken):
            tk.decode_unverified(tk.from_digits(digits))
        return
    with pytest.raises(InvalidToken):
        tk.from_digits(digits)


@pytest.mark.parametrize("cut", [0, 1, 24, 30, 64, 100])
def test_truncated_token_fails(cut: int) -> None:
    signed, keyset = _signed("cambridge-fce")
    with pytest.raises(InvalidToken):
        tk.verify_token(keyset, signed[:cut])
    with pytest.raises(InvalidToken):
        tk.verify_token(keyset, signed + b"\x00")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_verify_only_raises_invalid_token(blob: bytes) -> None:
    _, keyset = _signed("step-basic")
    with pytest.raises(InvalidToken):
        tk.verify_token(keyset, blob)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_fuzz_decode_never_raises_anything_else(blob: bytes) -> None:
    signed, _ = _signed("step-basic")
    body_with_noise = bytes.fromhex(tv.stored("step-basic")["body_hex"])[:24] + blob
    for candidate in (blob, body_with_noise, signed[: len(blob)] + blob):
        with contextlib.suppress(InvalidToken):
            tk.decode_unverified(candidate)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_from_digits_never_raises_anything_else(text: str) -> None:
    try:
        out = tk.from_digits(text)
    except InvalidToken:
        return
    assert tk.to_digits(out) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", max_size=400))
def test_fuzz_digit_strings_round_trip_or_fail_cleanly(text: str) -> None:
    try:
        out = tk.from_digits(text)
    except InvalidToken:
        return
    assert tk.to_digits(out) == text
