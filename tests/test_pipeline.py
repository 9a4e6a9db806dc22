"""`build()` end to end: a failed build loses nothing; keys must cover the issue date."""

from __future__ import annotations

import gc
import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest
import release_support as rs

from results_online.build import pipeline
from results_online.build.pipeline import build
from results_online.commands import main as cli
from results_online.config import build_config
from results_online.errors import BuildError, InputError
from results_online.keys.store import init_keys

NOW = rs.AFTER_BOTH.isoformat()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the SHA-256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def built(tmp_path: Path) -> rs.SmallBuild:
    return rs.small_build(tmp_path, now=NOW)


def test_bad_input_leaves_the_previous_output_as_it_was(built: rs.SmallBuild) -> None:
    series = built.out.parent / "series"
    before = snapshot(built.out)
    results = series / "results.csv"
    lines = results.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",STEP,", ",NOPE,", 1)
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError):
        build(build_config(str(series), str(built.keys), str(built.out), now=NOW, workers=1))
    assert snapshot(built.out) == before
    assert [p.name for p in built.out.parent.iterdir() if p.name.startswith(".out")] == []


def test_a_failure_in_a_late_stage_leaves_the_previous_output_as_it_was(
        built: rs.SmallBuild, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(built.out)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pipeline, "write_site", broken)
    with pytest.raises(OSError, match="disk full"):
        build(build_config(str(built.out.parent / "series"), str(built.keys), str(built.out),
                           now=NOW, workers=1))
    assert snapshot(built.out) == before
    assert [p.name for p in built.out.parent.iterdir() if p.name.startswith(".out")] == []


def test_a_signing_key_dated_after_the_issue_date_is_refused(tmp_path: Path) -> None:
    series = tmp_path / "series"
    shutil.copytree(rs.EXAMPLE, series)
    init_keys(tmp_path / "keys", date(2026, 9, 1))  # the example's issue date: 2026-08-13
    with pytest.raises(BuildError, match="not valid on the series' issue date 2026-08-13") as e:
        build(build_config(str(series), str(tmp_path / "keys"), str(tmp_path / "out"),
                           now=NOW, workers=1))
    assert "--valid-from" in e.value.hint
    assert not (tmp_path / "out").exists()


def test_keys_init_valid_from_dates_the_first_key(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys"
    assert cli.main(["keys", "init", "--keys", str(keys), "--valid-from", "2026-01-01"]) == 0
    assert '"valid_from": "2026-01-01"' in (keys / "keyset.json").read_text(encoding="utf-8")
    assert cli.main(["keys", "init", "--keys", str(tmp_path / "k2"),
                     "--valid-from", "1 Jan"]) == 1
    err = capsys.readouterr().err
    assert "error: --valid-from '1 Jan' is not a date" in err and "hint: " in err


def test_the_collector_passes_over_what_was_there_before_and_only_while_building(
        built: rs.SmallBuild, monkeypatch: pytest.MonkeyPatch) -> None:
    if gc.get_freeze_count():  # an earlier test's verification index froze its rows
        gc.unfreeze()
    held: list[object] = []  # a container the collector tracks, made before the build
    seen: list[tuple[int, bool]] = []
    write_site = pipeline.write_site

    def watched(*args: object, **kwargs: object) -> None:
        collected = any(o is held for o in gc.get_objects())
        seen.append((gc.get_freeze_count(), collected))
        write_site(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "write_site", watched)
    args = (str(built.out.parent / "series"), str(built.keys), str(built.out))
    build(build_config(*args, now=NOW, workers=1))
    assert seen[0][0] > 0 and not seen[0][1]  # frozen while building
    assert gc.get_freeze_count() == 0 and any(o is held for o in gc.get_objects())
    gc.freeze()  # a caller that froze its own objects keeps them frozen, as it left them
    try:
        frozen = gc.get_freeze_count()
        build(build_config(*args, now=NOW, workers=1))
        # No more frozen (frozen objects freed while building leave the count).
        assert seen[1][0] <= frozen and gc.get_freeze_count() <= frozen
        assert not any(o is held for o in gc.get_objects())  # still frozen: not unfrozen
    finally:
        gc.unfreeze()
