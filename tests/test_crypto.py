"""Sign/verify, seal/open and keyed hashes in results_online.crypto."""

from __future__ import annotations

import os

import pytest
import token_vectors as tv
from hypothesis import given, settings
from hypothesis import strategies as st

from results_online import crypto
from results_online.errors import InvalidToken
from results_online.ids import content_key, statement_id_bytes

KEY = bytes(range(32))


def test_sign_then_verify_returns_the_body() -> None:
    key = tv.private_key(tv.seed("A"))
    signed = crypto.sign(key, b"body")
    assert len(signed) == 4 + crypto.SIGNATURE_SIZE
    assert crypto.verify(key.public_key(), signed) == b"body"


def test_verify_rejects_short_and_foreign_signatures() -> None:
    key = tv.private_key(tv.seed("A"))
    other = tv.private_key(tv.seed("B"))
    with pytest.raises(InvalidToken):
        crypto.verify(key.public_key(), b"\x00" * crypto.SIGNATURE_SIZE)
    with pytest.raises(InvalidToken):
        crypto.verify(key.public_key(), crypto.sign(other, b"body"))


def test_key_id_is_sha256_prefix_of_the_raw_public_key() -> None:
    import hashlib

    pub = tv.private_key(tv.seed("A")).public_key()
    assert crypto.key_id(pub) == hashlib.sha256(crypto.raw_public_key(pub)).digest()[:8]


def test_seal_open_round_trip_with_fresh_nonces() -> None:
    a = crypto.seal(KEY, b"STATEMENT0000001", b"results")
    b = crypto.seal(KEY, b"STATEMENT0000001", b"results")
    assert a != b  # a new random nonce each time
    assert len(a) == crypto.NONCE_SIZE + len(b"results") + 16
    assert crypto.open_sealed(KEY, b"STATEMENT0000001", a) == b"results"


def test_seal_uses_the_injected_random_for_its_nonce() -> None:
    blob = crypto.seal(KEY, b"id", b"x", random=lambda n: b"\x07" * n)
    assert blob[: crypto.NONCE_SIZE] == b"\x07" * crypto.NONCE_SIZE


def test_blob_moved_to_another_statement_id_fails() -> None:
    blob = crypto.seal(KEY, b"AAAAAAAAAAAAAAAA", b"results of A")
    with pytest.raises(InvalidToken):
        crypto.open_sealed(KEY, b"BBBBBBBBBBBBBBBB", blob)


def test_statement_content_keys_differ_per_id_so_a_moved_blob_fails_twice_over() -> None:
    secret = os.urandom(32)
    blob = crypto.seal(content_key(secret, "AAAAAAAAAAAAAAAA"), b"AAAAAAAAAAAAAAAA", b"r")
    with pytest.raises(InvalidToken):
        crypto.open_sealed(content_key(secret, "BBBBBBBBBBBBBBBB"), b"BBBBBBBBBBBBBBBB", blob)
    assert content_key(secret, "AAAAAAAAAAAAAAAA") == content_key(secret, "AAAAAAAAAAAAAAAA")
    assert len(content_key(secret, "AAAAAAAAAAAAAAAA")) == crypto.CONTENT_KEY_SIZE


def test_statement_ids_are_keyed() -> None:
    from factories import step_series

    entry = step_series(per_centre=1, n_centres=1).entries[0]
    a, b = os.urandom(32), os.urandom(32)
    assert statement_id_bytes(a, "2026-06", entry) == statement_id_bytes(a, "2026-06", entry)
    assert statement_id_bytes(a, "2026-06", entry) != statement_id_bytes(b, "2026-06", entry)


def test_wrong_key_and_damaged_blob_fail() -> None:
    blob = crypto.seal(KEY, b"id", b"payload")
    with pytest.raises(InvalidToken):
        crypto.open_sealed(bytes(32), b"id", blob)
    with pytest.raises(InvalidToken):
        crypto.open_sealed(KEY, b"id", blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(InvalidToken):
        crypto.open_sealed(KEY[:16], b"id", blob)


def test_seal_refuses_short_keys() -> None:
    with pytest.raises(ValueError):
        crypto.seal(KEY[:16], b"id", b"x")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_fuzz_open_only_raises_invalid_token(blob: bytes) -> None:
    with pytest.raises(InvalidToken):
        crypto.open_sealed(KEY, b"id", blob)


def test_keyed_hash_is_unambiguous_and_needs_a_long_secret() -> None:
    secret = os.urandom(32)
    assert crypto.keyed_hash(secret, "p", "ab", "c") != crypto.keyed_hash(secret, "p", "a", "bc")
    assert crypto.keyed_hash(secret, "p", "x") != crypto.keyed_hash(secret, "q", "x")
    with pytest.raises(ValueError):
        crypto.keyed_hash(b"short", "p", "x")


def test_equal() -> None:
    assert crypto.equal(b"abc", b"abc")
    assert not crypto.equal(b"abc", b"abd")
