"""Streaming and amend give the same output as a plain full build of the same series.

The plain reference is a one-process build (no pool, no overlap) of the same series
at the same time; after a results enquiry it is a full rebuild over the previous
output (so it supersedes the same statement). Ciphertext and mail are compared by
what they open to (tests/outputs.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from outputs import Series, change_mark, differences, example_series, files
from release_support import read_rows

from results_online.build.pipeline import build
from results_online.config import build_config
from results_online.errors import BuildError

NOW = "2026-08-13T07:30:00+00:00"  # both releases are due: bundles and blobs in site/
LATER = "2026-09-01T10:00:00+00:00"


def _build(series: Series, out: Path, *, now: str = NOW, workers: int = 1, batch_size: int = 50,
           amend: bool = False) -> None:
    build(build_config(str(series.folder), str(series.keys), str(out), now=now,
                       workers=workers, batch_size=batch_size), amend=amend)


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Series:
    return example_series(tmp_path_factory.mktemp("scale"))


@pytest.fixture(scope="module")
def plain(series: Series) -> Path:
    out = series.folder.parent / "plain"
    _build(series, out)
    return out


def test_streamed_build_on_the_pool_equals_the_plain_build(series: Series, plain: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "pooled"
    _build(series, out, workers=2, batch_size=2)  # many batches, bundles made while rendering
    assert differences(out, plain, series) == []
    assert any(n.startswith("site/c/") for n in files(out))


def test_a_live_bundle_is_stored_once(plain: Path) -> None:
    live = sorted((plain / "site" / "c").rglob("*.zip.age"))
    assert live
    for path in live:
        private = plain / "private" / path.relative_to(plain / "site")
        assert os.path.samefile(path, private)


def _amend_against_rebuild(series: Series, tmp_path: Path, changed: list[dict[str, str]], *,
                           workers: int) -> tuple[Path, list[str]]:
    """Build, change ``changed``'s marks, then amend a linked copy and rebuild another.

    Returns the first build and the names of the files the amend carried (the same
    inode as in the first build).
    """
    # The first build at the amend's time too: every PDF carries its build's time as its
    # creation date, so only then are carried and re-rendered PDFs the same bytes.
    first = tmp_path / "first"
    _build(series, first, now=LATER)
    folder = tmp_path / "changed"
    shutil.copytree(series.folder, folder)
    for row in changed:
        change_mark(folder, row["candidate_id"])
    enquired = Series(folder, series.keys, series.identities)

    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(first, rebuilt)
    _build(enquired, rebuilt, now=LATER)
    amended = tmp_path / "amended"
    shutil.copytree(first, amended, copy_function=os.link)  # keeps the first build intact
    before = {n: (amended / n).stat().st_ino for n in files(amended)}
    _build(enquired, amended, now=LATER, amend=True, workers=workers)

    centres = {row["centre_number"] for row in changed}
    # Bundles of other centres are the ones already sent: not made again (their
    # explanation of results keeps the first build's date and grade distribution).
    others = {n: first for n in files(first)
              if n.endswith(".zip.age") and not any(f"/{c}/" in n for c in centres)}
    assert differences(amended, rebuilt, enquired, instead=others) == []
    carried = [n for n in files(amended) if before.get(n) == (amended / n).stat().st_ino]
    assert not any(f"/{c}/" in n and n.endswith(".zip.age") for n in carried for c in centres)
    assert "private/verify.sqlite" not in carried
    return first, carried


def test_amend_equals_a_full_rebuild_and_carries_unchanged_files_by_link(
        series: Series, tmp_path: Path) -> None:
    changed = read_rows(series.folder / "candidates.csv")[0]
    first, carried = _amend_against_rebuild(series, tmp_path, [changed], workers=1)
    assert len([n for n in files(first) if n.endswith(".zip.age")
                and f"/{changed['centre_number']}/" not in n]) >= 2
    assert any(n.startswith("private/statements/") and n.endswith(".pdf") for n in carried)
    assert any(n.startswith("site/s/") for n in carried)
    assert any(n.endswith(".zip.age") for n in carried)


def test_an_amend_over_several_centres_equals_a_full_rebuild(series: Series,
                                                             tmp_path: Path) -> None:
    # Two centres' bundles to make: made in worker processes, side by side.
    rows = read_rows(series.folder / "candidates.csv")
    by_centre = {r["centre_number"]: r for r in reversed(rows)}
    changed = list(by_centre.values())[:2]
    assert len({r["centre_number"] for r in changed}) == 2
    _, carried = _amend_against_rebuild(series, tmp_path, changed, workers=2)
    assert any(n.endswith(".zip.age") for n in carried)  # the third centre's


def test_an_amend_that_cannot_carry_a_statement_fails_and_keeps_the_old_output(
        series: Series, tmp_path: Path) -> None:
    # The missing file is in a centre without a change: linked on the carrying thread.
    first = tmp_path / "first"
    _build(series, first, now=LATER)
    rows = read_rows(series.folder / "candidates.csv")
    changed = rows[0]
    other = next(r for r in rows if r["centre_number"] != changed["centre_number"])
    lost = next((first / "private" / "statements" / other["centre_number"]).rglob("*.pdf"))
    lost.unlink()
    folder = tmp_path / "changed"
    shutil.copytree(series.folder, folder)
    change_mark(folder, changed["candidate_id"])
    before = files(first)
    with pytest.raises(BuildError, match="lacks the files"):
        _build(Series(folder, series.keys, series.identities), first, now=LATER, amend=True,
               workers=2)
    assert files(first) == before
    assert not list(tmp_path.glob(".first.*"))  # no staging left beside it
