"""The `results` command's own output: verify-token, exit codes, error and hint lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import sealed, step_series

from results_online.commands.main import main, parser


def test_verify_token_reads_a_statements_qr_and_refuses_a_changed_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = sealed(step_series(per_centre=1, n_centres=1), tmp_path / "keys")[0]
    assert main(["verify-token", s.qr_text, "--keyset", str(tmp_path / "keys")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("VALID statement") and s.entry.candidate.name in out

    base, digits = s.qr_text.split("#", 1)
    changed = f"{base}#{digits[:-3]}{(int(digits[-3]) + 1) % 10}{digits[-2:]}"
    assert main(["verify-token", changed, "--keyset", str(tmp_path / "keys")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: NOT VALID") and "hint: " in err


def test_a_library_error_is_one_error_line_and_a_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "export", "--keys", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and "Traceback" not in "\n".join(err)


def test_every_command_group_is_reachable() -> None:
    commands = parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"build", "amend", "keys", "verify-token", "verify-app", "notify", "publish",
            "serve", "centres", "orgs"} <= set(commands)
