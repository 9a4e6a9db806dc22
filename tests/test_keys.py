"""The key store (keys/store.py) and the `results keys` / `results verify-token` commands."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import token_vectors as tv

from results_online import token as tk
from results_online.commands.main import main
from results_online.config import PASSPHRASE_ENV
from results_online.errors import InvalidToken, KeyStoreError
from results_online.keys.store import init_keys, load_keys, rotate_keys
from results_online.keyset import Keyset, load_keyset

DAY1 = date(2026, 1, 10)
DAY2 = date(2026, 7, 1)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _token(folder: Path, issued: date, passphrase: bytes | None = None) -> bytes:
    ks = load_keys(folder, passphrase)
    data = tv.token_data(ks.signing_key, tv.CASES["step-basic"][1])
    return tk.sign_token(ks.signing_key, replace(data, issue_date=issued))


def test_init_writes_private_files_0600_in_a_0700_folder(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o755)  # an existing, too-open folder is tightened
    kid = init_keys(folder, DAY1)
    assert _mode(folder) == 0o700
    assert _mode(folder / "signing") == 0o700
    pem = folder / "signing" / f"{kid.hex()}.pem"
    for private in (pem, folder / "pepper", folder / "statement-secret"):
        assert _mode(private) == 0o600, private
    assert pem.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    doc = json.loads((folder / "keyset.json").read_text())
    assert doc["keys"] == [{"kty": "OKP", "crv": "Ed25519", "x": doc["keys"][0]["x"],
                            "kid": kid.hex(), "alg": "EdDSA", "use": "sig",
                            "valid_from": "2026-01-10", "valid_until": None}]
    ks = load_keys(folder)
    assert ks.signing_kid == kid and len(ks.pepper) == 32 and len(ks.statement_secret) == 32
    assert ks.pepper != ks.statement_secret


def test_init_refuses_an_existing_store(tmp_path: Path) -> None:
    init_keys(tmp_path / "k", DAY1)
    with pytest.raises(KeyStoreError, match="already"):
        init_keys(tmp_path / "k", DAY1)


def test_rotation_keeps_old_tokens_valid_inside_their_validity(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    old_kid = init_keys(folder, DAY1)
    old_token = _token(folder, date(2026, 3, 1))
    late_old = _token(folder, date(2026, 8, 1))  # dated after the old key is retired
    on_the_day = _token(folder, DAY2)
    new_kid = rotate_keys(folder, DAY2)
    assert new_kid != old_kid
    keyset = load_keyset(folder)
    assert [k.kid for k in keyset.keys] == [old_kid, new_kid]
    assert keyset.keys[0].valid_until == DAY2 and keyset.keys[1].valid_until is None
    assert tk.verify_token(keyset, old_token).key_id == old_kid
    assert tk.verify_token(keyset, on_the_day).key_id == old_kid
    with pytest.raises(InvalidToken):
        tk.verify_token(keyset, late_old)
    ks = load_keys(folder)
    assert ks.signing_kid == new_kid
    new_token = _token(folder, date(2026, 8, 1))
    assert tk.verify_token(keyset, new_token).key_id == new_kid
    # The old key id still names the old key: a new-key token cannot borrow it.
    assert tk.decode_unverified(new_token).key_id == new_kid


def test_a_store_from_another_board_does_not_verify(tmp_path: Path) -> None:
    init_keys(tmp_path / "ours", DAY1)
    init_keys(tmp_path / "theirs", DAY1)
    foreign = _token(tmp_path / "theirs", DAY2)
    with pytest.raises(InvalidToken):
        tk.verify_token(load_keyset(tmp_path / "ours"), foreign)


def test_passphrase_encrypts_the_pem(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    kid = init_keys(folder, DAY1, passphrase=b"correct horse")
    pem = (folder / "signing" / f"{kid.hex()}.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_keys(folder, b"correct horse").signing_kid == kid
    for wrong in (b"wrong", None):
        with pytest.raises(KeyStoreError, match="passphrase"):
            load_keys(folder, wrong)
    with pytest.raises(KeyStoreError):
        rotate_keys(folder, DAY2, b"wrong")
    assert len(load_keyset(folder).keys) == 1  # a refused rotation changes nothing


def test_damaged_store_gives_key_store_errors(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    init_keys(folder, DAY1)
    (folder / "pepper").write_bytes(b"short")
    with pytest.raises(KeyStoreError, match="damaged"):
        load_keys(folder)
    (folder / "keyset.json").write_text('{"keys": [{"kid": "00"}]}')
    with pytest.raises(KeyStoreError, match="not valid"):
        load_keyset(folder)
    with pytest.raises(KeyStoreError, match="no key store"):
        load_keys(tmp_path / "missing")


def test_keyset_rejects_a_kid_that_does_not_match_its_key(tmp_path: Path) -> None:
    doc = tv.stored("step-basic")["keyset"]
    doc["keys"][0]["kid"] = "00" * 8
    with pytest.raises(KeyStoreError):
        Keyset.from_json(json.dumps(doc))


# The CLI edge: `results keys …` and `results verify-token` through main().

def test_cli_keys_init_rotate_export(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    folder = tmp_path / "keys"
    assert main(["keys", "init", "--keys", str(folder)]) == 0
    out = capsys.readouterr().out
    first = load_keyset(folder).keys[0].kid.hex()
    assert first in out
    assert main(["keys", "rotate", "--keys", str(folder)]) == 0
    assert "active" in capsys.readouterr().out
    assert main(["keys", "export", "--keys", str(folder)]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["keys"][0]["kid"] == first and len(exported["keys"]) == 2
    assert exported["keys"][0]["valid_until"] is not None
    assert "PRIVATE" not in json.dumps(exported)


def test_cli_init_twice_prints_error_and_hint(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "keys"
    assert main(["keys", "init", "--keys", str(folder)]) == 0
    capsys.readouterr()
    assert main(["keys", "init", "--keys", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "\nhint: " in err and "rotate" in err
    assert "Traceback" not in err


def test_cli_passphrase_from_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "keys"
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret passphrase")
    assert main(["keys", "init", "--keys", str(folder)]) == 0
    pem = next((folder / "signing").glob("*.pem")).read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_keys(folder, b"s3cret passphrase")
    monkeypatch.setenv(PASSPHRASE_ENV, "not it")
    capsys.readouterr()
    assert main(["keys", "rotate", "--keys", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "passphrase" in err and "hint: " in err
    assert "s3cret" not in err and "not it" not in err and "Traceback" not in err


@pytest.mark.parametrize("name", sorted(tv.CASES))
def test_cli_verify_token_accepts_qr_text_and_digits(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v = tv.stored(name)
    keyset = tmp_path / "keyset.json"
    keyset.write_text(json.dumps(v["keyset"]))
    for text in (v["qr_text"], v["digits"]):
        assert main(["verify-token", text, "--keyset", str(keyset)]) == 0
        out = capsys.readouterr().out
        assert out.startswith("VALID") and v["key_id_hex"] in out
        assert v["name_in_token"] in out and v["token_data"]["candidate_number"] in out


def test_cli_verify_token_rejects_a_changed_digit(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    v = tv.stored("cambridge-fce")
    keyset = tmp_path / "keyset.json"
    keyset.write_text(json.dumps(v["keyset"]))
    digits = v["digits"]
    changed = digits[:40] + str((int(digits[40]) + 1) % 10) + digits[41:]
    for text in (changed, "12345", "not a token", v["digits"][:-3]):
        assert main(["verify-token", text, "--keyset", str(keyset)]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("error: NOT VALID") and "\nhint: " in captured.err
        assert "Traceback" not in captured.err


def test_cli_verify_token_with_the_wrong_keyset(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps(tv.stored("cambridge-ket-long-name-pending")["keyset"]))
    assert main(["verify-token", tv.stored("step-basic")["qr_text"],
                 "--keyset", str(other)]) == 1
    assert capsys.readouterr().err.startswith("error: NOT VALID")
    assert main(["verify-token", "123", "--keyset", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read the keyset") and "hint: " in err


@pytest.mark.parametrize("path", ["/q/", "/verify", "/Q", "/q?x=1"])
def test_cli_verify_token_refuses_qr_text_on_another_path(
        path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v = tv.stored("step-basic")
    keyset = tmp_path / "keyset.json"
    keyset.write_text(json.dumps(v["keyset"]))
    assert main(["verify-token", v["qr_text"].replace("/q#", f"{path}#"),
                 "--keyset", str(keyset)]) == 1
    assert capsys.readouterr().err.startswith("error: NOT VALID")
