"""The staged output folder: a killed build leaves nothing behind for good, and the swap
never leaves a moment without OUT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import release_support as rs

from results_online.build.output import remove_stale_temp, staged_output, temp_prefix

POLLER = """
import os, sys, time
out, stop = sys.argv[1], float(sys.argv[2])
misses = checks = 0
while time.monotonic() < stop:
    checks += 1
    if not os.path.isdir(out):
        misses += 1
print(misses, checks)
"""


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def test_a_build_killed_with_sigkill_is_cleaned_up_by_the_next(tmp_path: Path) -> None:
    small = rs.small_build(tmp_path / "first")
    series, keys = small.out.parent / "series", small.keys
    out = tmp_path / "out"
    results = Path(sys.executable).with_name("results")
    command = [str(results), "build", str(series), "--keys", str(keys), "--out", str(out),
               "--now", rs.BEFORE_ANY, "--workers", "1", "--batch-size", "1"]
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    before = sorted(p.name for p in (out / "site").iterdir())
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill it once it has written plain statements
            staged = [p for p in out.parent.glob(f".{out.name}.new-*")
                      if any((p / "private" / "statements").rglob("*.pdf"))]
            if staged:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert any(n.startswith(f".{out.name}.new-") for n in _leftovers(out))  # what was left
    assert sorted(p.name for p in (out / "site").iterdir()) == before  # OUT untouched
    done = subprocess.run(command, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _leftovers(out) == []


def test_stale_old_folders_of_the_same_out_go_and_others_stay(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in (".out.new-abc", ".out.old-def", ".other.new-ghi", ".out.newish"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "statement.pdf").write_bytes(b"%PDF")
    with staged_output(out) as staging:
        (staging / "index.html").write_text("new")
    assert (out / "index.html").read_text() == "new"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert ".out.new-abc" not in names and ".out.old-def" not in names
    assert ".other.new-ghi" in names and ".out.newish" in names


def test_the_swap_has_no_instant_without_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output(out) as staging:
        (staging / "n").write_text("0")
    stop = time.monotonic() + 4
    poller = subprocess.Popen([sys.executable, "-c", POLLER, str(out), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    swaps = 0
    while time.monotonic() < stop - 0.5:
        with staged_output(out) as staging:
            (staging / "n").write_text(str(swaps))
        swaps += 1
    misses, checks = map(int, poller.communicate(timeout=30)[0].split())
    assert swaps > 50 and checks > 1000
    assert misses == 0, f"OUT was missing {misses} times in {checks} checks over {swaps} swaps"
    assert (out / "n").read_text() == str(swaps - 1)


def test_the_staging_of_a_build_still_running_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "step-2026-06"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".step-2026-06.new-{sleeper.pid}-x1"
        dead = tmp_path / ".step-2026-06.new-999999999-x2"
        live.mkdir()
        dead.mkdir()
        with staged_output(out) as staging:
            (staging / "a").write_text("a")
        assert live.is_dir() and not dead.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_temp_folders_a_killed_build_or_worker_left_are_cleared_by_the_next(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dead = [tmp_path / f"results-{kind}-{gone}-x1" for kind in ("fonts", "batch")]
    live = [tmp_path / f"results-{kind}-{os.getpid()}-x2" for kind in ("fonts", "batch")]
    for folder in (*dead, *live):
        folder.mkdir()
        (folder / "0001-STEP.pdf").write_bytes(b"%PDF")  # what a killed batch leaves
    other = tmp_path / "results-fonts-notmine"
    other.mkdir()
    assert sorted(remove_stale_temp(tmp_path)) == sorted(dead)
    assert [p.exists() for p in (*dead, *live, other)] == [False, False, True, True, True]
    # A build's or worker's folders are named for its process, so the next can tell.
    assert temp_prefix("batch") == f"results-batch-{os.getpid()}-"
