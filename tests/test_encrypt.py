"""Statement ciphertext: the secure link's key opens its blob, and nothing else does."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pypdf
import pytest
import release_support as rs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from factories import make_keys, step_series

from results_online.build.pipeline import build
from results_online.build.render.statements import RenderedStatement
from results_online.build.site.encrypt import (
    StatementContent,
    decrypt_statement,
    encrypt_statement,
    encrypt_statements,
    pack,
    unpack,
)
from results_online.build.verification.seal import seal_series
from results_online.config import build_config
from results_online.errors import InvalidToken
from results_online.ids import content_key
from results_online.keys.store import load_keys

VECTOR = json.loads((Path(__file__).parent / "vectors" / "statement-blob.json")
                    .read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> rs.SmallBuild:
    return rs.small_build(tmp_path_factory.mktemp("enc"), now=rs.AFTER_BOTH.isoformat())


def links(built: rs.SmallBuild) -> list[dict[str, str]]:
    with (built.out / "private" / "links.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def key_of(link: str) -> tuple[str, bytes]:
    """The statement id and key a secure link carries after '#'."""
    sid, _, key = link.split("#", 1)[1].partition(".")
    return sid, base64.urlsafe_b64decode(key + "=")


def test_the_vector_holds_and_opens_with_plain_aes_gcm() -> None:
    key = bytes.fromhex(VECTOR["key_hex"])
    nonce = bytes.fromhex(VECTOR["nonce_hex"])
    content = StatementContent(VECTOR["fragment_html"], bytes.fromhex(VECTOR["pdf_hex"]))
    blob = encrypt_statement(key, VECTOR["statement_id"], content, random=lambda n: nonce)
    assert len(blob) == VECTOR["blob_length"] and blob.hex() == VECTOR["blob_hex"]
    # Independently of our code: nonce ‖ ciphertext ‖ tag, the id as associated data.
    plain = AESGCM(key).decrypt(blob[:12], blob[12:], VECTOR["statement_id"].encode())
    size = int.from_bytes(plain[:4], "big")
    assert plain[4:4 + size].decode() == VECTOR["fragment_html"]
    pdf_size = int.from_bytes(plain[4 + size:8 + size], "big")
    assert plain[8 + size:8 + size + pdf_size] == content.pdf
    assert not any(plain[8 + size + pdf_size:])  # the padding is zeros
    assert base64.urlsafe_b64decode(VECTOR["link_key"] + "=") == key


def test_container_round_trip_and_truncation() -> None:
    content = StatementContent("<p>Ünïcode ✓</p>", b"%PDF-")
    assert unpack(pack(content)) == content
    with pytest.raises(ValueError, match="truncated"):
        unpack(pack(content)[:6])


def test_each_link_opens_its_own_statement(released: rs.SmallBuild) -> None:
    rows = links(released)
    assert len(rows) == len(released.candidates)
    for row in rows:
        sid, key = key_of(row["link"])
        assert sid == row["statement_id"]
        blob = (released.out / "site" / "s" / f"{sid}.bin").read_bytes()
        content = decrypt_statement(key, sid, blob)
        assert row["name"] in content.fragment_html
        reader = pypdf.PdfReader(io.BytesIO(content.pdf))
        assert len(reader.pages) == 1
        assert row["statement_id"][:4] in reader.pages[0].extract_text()


def test_a_blob_renamed_to_another_statement_id_does_not_open(released: rs.SmallBuild) -> None:
    (sid_a, key_a), (sid_b, _) = (key_of(r["link"]) for r in links(released)[:2])
    blob_a = (released.out / "site" / "s" / f"{sid_a}.bin").read_bytes()
    decrypt_statement(key_a, sid_a, blob_a)  # its own id opens it
    with pytest.raises(InvalidToken):
        decrypt_statement(key_a, sid_b, blob_a)  # served as s/<b>.bin, read as statement b


@pytest.mark.parametrize("damage", ["key bit", "ciphertext bit", "tag cut"])
def test_any_change_fails_with_one_detail_free_error(released: rs.SmallBuild,
                                                     damage: str) -> None:
    sid, key = key_of(links(released)[0]["link"])
    blob = (released.out / "site" / "s" / f"{sid}.bin").read_bytes()
    if damage == "key bit":
        key = bytes([key[0] ^ 1]) + key[1:]
    elif damage == "ciphertext bit":
        blob = blob[:40] + bytes([blob[40] ^ 0x80]) + blob[41:]
    else:
        blob = blob[:-1]
    with pytest.raises(InvalidToken) as err:
        decrypt_statement(key, sid, blob)
    assert str(err.value) == str(InvalidToken())  # the same words whatever went wrong


def test_a_rebuild_keeps_every_link_with_fresh_nonces(released: rs.SmallBuild,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(build_config(str(released.out.parent / "series"), str(released.keys), str(out),
                       now=rs.AFTER_BOTH.isoformat(), workers=1))
    first = {r["statement_id"]: r["link"] for r in links(released)}
    rebuilt = rs.SmallBuild(out, released.keys, {}, [])
    second = {r["statement_id"]: r["link"] for r in links(rebuilt)}
    assert first == second
    for link in first.values():
        sid, key = key_of(link)
        old, new = ((o / "site" / "s" / f"{sid}.bin").read_bytes() for o in (released.out, out))
        assert old[:12] != new[:12]
        assert decrypt_statement(key, sid, old) == decrypt_statement(key, sid, new)


def test_every_blob_is_padded_to_one_bucket_so_sizes_say_nothing(
        released: rs.SmallBuild) -> None:
    from results_online.build.site.encrypt import BUCKET

    sizes = {p.stat().st_size for p in (released.out / "site" / "s").glob("*.bin")}
    assert sizes == {BUCKET}  # the statements differ in content, not in size
    secret = load_keys(released.keys).statement_secret
    for row in links(released):
        sid, key = key_of(row["link"])
        blob = (released.out / "site" / "s" / f"{sid}.bin").read_bytes()
        content = decrypt_statement(key, sid, blob)
        assert content.pdf.startswith(b"%PDF") and content.pdf.rstrip().endswith(b"%%EOF")
        assert content_key(secret, sid) == key


def test_padding_grows_by_whole_buckets_and_hides_small_differences() -> None:
    from results_online.build.site.encrypt import BUCKET

    key, sid = bytes(32), "44KGWZG62P1AF6YP"
    small = [encrypt_statement(key, sid, StatementContent("<p>" + "x" * n + "</p>", b"%PDF-"))
             for n in (0, 1, 999)]
    assert {len(b) for b in small} == {BUCKET}
    big = encrypt_statement(key, sid, StatementContent("<p></p>", b"%PDF-" + bytes(BUCKET)))
    assert len(big) == 2 * BUCKET
    assert decrypt_statement(key, sid, big).pdf == b"%PDF-" + bytes(BUCKET)


def test_a_statement_not_rendered_by_this_build_is_not_encrypted(tmp_path: Path) -> None:
    keys = make_keys(tmp_path / "keys")
    s = seal_series(step_series(), keys)[0]
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    carried = RenderedStatement(s, pdf, tmp_path / "a.html")  # an amend's: no fragment
    with pytest.raises(ValueError, match="not rendered by this build"):
        encrypt_statements([carried], keys.statement_secret, tmp_path / "site")
    made = encrypt_statements([RenderedStatement(s, pdf, tmp_path / "a.html", "<p>x</p>")],
                              keys.statement_secret, tmp_path / "site")
    content = decrypt_statement(content_key(keys.statement_secret, s.statement_id),
                                s.statement_id, made[0].read_bytes())
    assert (content.fragment_html, content.pdf) == ("<p>x</p>", b"%PDF-1.7")
