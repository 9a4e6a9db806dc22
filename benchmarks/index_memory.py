"""Memory benchmark: what the verification app holds for an index of N candidates.

The app reads its index into memory at start (verify_app/lookup.py). This writes an
index of N candidates (default 1,000,000, one current statement each, as the STEP
example has) whose rows are real rows of the example, sealed with a fresh key store,
copied under fresh random hashes and statement ids; then loads it as the app does
and prints the process's resident memory before and after, the load time, and the
time of one check. The SQLite file is written to a temporary folder and removed.

    .venv/bin/python benchmarks/index_memory.py [--candidates 1000000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))


def grow(path: Path, candidates: int) -> None:
    """Copy the index's rows under fresh hashes and ids until it holds ``candidates``."""
    con = sqlite3.connect(path)
    model = con.execute("SELECT test, revision, issue_date, status, display "
                        "FROM statements").fetchall()
    con.execute("DELETE FROM statements")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    def rows() -> object:
        for n in range(candidates):
            test, revision, issued, status, display = model[n % len(model)]
            sid = "".join(alphabet[b % 32] for b in os.urandom(16))
            yield (sid, os.urandom(32), os.urandom(32), os.urandom(32), test, revision,
                   issued, status, None, None, display)

    con.executemany("INSERT INTO statements VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows())
    con.commit()
    con.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", type=int, default=1_000_000)
    args = p.parse_args()
    from verify_timing import prepare

    from results_online.keys.store import load_keys
    from results_online.verify_app.lookup import VerificationIndex

    with tempfile.TemporaryDirectory() as tmp:
        env, _ = prepare(Path(tmp), 200)
        index = Path(env["RESULTS_VERIFY_INDEX"])
        t0 = time.perf_counter()
        grow(index, args.candidates)
        print(f"index of {args.candidates:,} candidates written in "
              f"{time.perf_counter() - t0:.0f} s: {index.stat().st_size / 2**20:,.0f} MiB on disk")
        pepper = load_keys(Path(env["RESULTS_VERIFY_KEYSET"])).pepper
        me = psutil.Process()
        before = me.memory_info().rss
        t0 = time.perf_counter()
        loaded = VerificationIndex(index, pepper)
        seconds = time.perf_counter() - t0
        held = me.memory_info().rss - before
        print(f"loaded in {seconds:.1f} s; resident memory grew by {held / 2**20:,.0f} MiB "
              f"({held / args.candidates:,.0f} bytes per candidate)")
        t0 = time.perf_counter()
        for n in range(1000):
            loaded.check(f"Q{n:07d}", "000000")
        print(f"one check (unknown ID, in memory): {(time.perf_counter() - t0) * 1000:.0f} us")


if __name__ == "__main__":
    main()
