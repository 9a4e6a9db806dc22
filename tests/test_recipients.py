"""`results centres add-recipient`: an officer's public key goes into centres.csv, validated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyrage
import pytest
from factories import EXAMPLES

from results_online.build.inputs.load import load_series
from results_online.build.inputs.recipients import add_recipient
from results_online.commands.main import main
from results_online.errors import InputError

EXAMPLE = EXAMPLES / "step-2026-06"


@pytest.fixture
def series(tmp_path: Path) -> Path:
    folder = tmp_path / "series"
    shutil.copytree(EXAMPLE, folder)
    return folder


def new_recipient() -> str:
    return str(pyrage.x25519.Identity.generate().to_public())


def test_a_recipient_is_added_beside_the_centres_others(series: Path) -> None:
    before = load_series(series).centre("04123").recipients
    key = new_recipient()
    assert add_recipient(series, "04123", key)
    loaded = load_series(series)
    assert loaded.centre("04123").recipients == (*before, key)
    others = [c for c in loaded.centres if c.number != "04123"]
    assert others == [c for c in load_series(EXAMPLE).centres if c.number != "04123"]
    assert not add_recipient(series, "04123", key)  # already there: unchanged
    assert load_series(series).centre("04123").recipients == (*before, key)


def test_the_file_keeps_its_delimiter_bom_and_line_ends(series: Path) -> None:
    path = series / "centres.csv"
    text = path.read_text("utf-8").replace(",", ";").replace("\n", "\r\n")
    path.write_bytes(("\ufeff" + text).encode("utf-8"))
    key = new_recipient()
    add_recipient(series, "00871", key)
    after = path.read_bytes().decode("utf-8")
    assert after.startswith("\ufeff") and "\r\n" in after and after.count(";") == text.count(";")
    assert key in load_series(series).centre("00871").recipients


@pytest.mark.parametrize(("key", "words"), [
    ("AGE-SECRET-KEY-1" + "Q" * 58, "private age identity"),
    ("age1notakey", "not an age X25519 public key"),
    ("ssh-ed25519 AAAA", "not an age X25519 public key"),
])
def test_keys_that_are_not_x25519_recipients_are_refused(series: Path, key: str,
                                                         words: str) -> None:
    before = (series / "centres.csv").read_bytes()
    with pytest.raises(InputError, match=words):
        add_recipient(series, "04123", key)
    assert (series / "centres.csv").read_bytes() == before


def test_an_unknown_centre_is_refused(series: Path) -> None:
    with pytest.raises(InputError, match="no centre 99999"):
        add_recipient(series, "99999", new_recipient())


def test_the_command_says_what_it_did(series: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = new_recipient()
    assert main(["centres", "add-recipient", "GB599", key, "--series", str(series)]) == 0
    assert "added the recipient to centre GB599" in capsys.readouterr().out
    assert main(["centres", "add-recipient", "GB599", "age1bad", "--series", str(series)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "hint: check the centre number" in err
