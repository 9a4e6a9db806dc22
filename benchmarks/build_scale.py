"""Whole builds of synthetic series at growing sizes: time per stage, memory, output size, amends.

    .venv/bin/python benchmarks/build_scale.py [--sizes 500,2000] [--amend 2000]
        [--changes 1,100] [--dask 0 [--rounds 2] [--pades]] [--publish 0] [--workers 2]
        [--batch-size 50]

Each build runs in a fresh process, so its peak memory is its own. A series is the
STEP example scaled up: N candidates, 200 per centre, names from many scripts
(Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, CJK, emoji). Prints, per size:
wall time, statements/s, seconds per stage, peak RSS of the parent and of the whole
process tree (sampled every 0.2 s; shared pages counted once per process), and the
output size on disk (hard links counted once). ``--amend N`` builds N candidates,
then times `amend` after 1 and 100 changed results against that full build (10
changes at each affected centre: see ``change_results``);
``--dask N`` builds N on the process pool and on a two-worker LocalCluster,
``--rounds`` times each, alternating, and prints wall time and CPU of each (with
``--pades`` every PDF is sealed: the pool seals in its workers, Dask on the client);
``--publish N`` uploads N statement-sized blobs to the S3-compatible test server;
``--seal N`` loads and seals N candidates into the spool without rendering (the
stages that read the whole series), printing their time and peak memory.

The issue's sizes are 1,000, 10,000 and 50,000 candidates; the defaults are smaller
because on the shared 2-core machine 10,000 takes about seven minutes and 50,000 over
half an hour: pass ``--sizes 1000,10000,50000`` for them.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from _timing import timed_calls

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
EXAMPLE = ROOT / "examples" / "step-2026-06"
NOW = "2026-08-13T07:30:00+00:00"
AMEND_NOW = "2026-09-01T10:00:00+00:00"
PER_CENTRE = 200
# (module, function) pairs timed as stages; bundles run on a thread beside rendering
# (in an amend, in processes: "bundles*" is then the time each waited for its process).
# Nothing handed to a process is wrapped here: a process is handed a function by name.
STAGES = {
    "load": ("results_online.build.pipeline", "scan_series"),
    "seal": ("results_online.build.pipeline", "plan_into"),
    "carry": ("results_online.build.pipeline", "carry_rendered"),
    "render": ("results_online.build.pipeline", "render_stream"),
    "encrypt": ("results_online.build.stream", "encrypt_statements"),
    "explanation*": ("results_online.build.bundle.centre", "explanation_pdf"),
    "bundles*": ("results_online.build.stream.AfterRender", "_make"),
    "bundle wait": ("results_online.build.stream.AfterRender", "bundles"),
    "manifest": ("results_online.build.pipeline", "write_manifest"),
    "index": ("results_online.build.pipeline", "write_index"),
    "index update": ("results_online.build.pipeline", "update_index"),
    "site": ("results_online.build.pipeline", "write_site"),
    "release plan": ("results_online.build.pipeline", "release_streamed"),
    "outbox": ("results_online.build.release.outbox.Outbox", "finish"),
}


def write_series(folder: Path, n: int) -> None:
    """The STEP example scaled to ``n`` candidates in ``n / 200`` centres."""
    from factories import NAMES

    shutil.copytree(EXAMPLE, folder)
    with (EXAMPLE / "centres.csv").open(encoding="utf-8-sig") as f:
        recipients = next(csv.DictReader(f))["recipients"]
    centres = [[f"X{c:05d}", f"Centre {c} School", f"exams{c}@example.org", recipients]
               for c in range(-(-n // PER_CENTRE))]
    cands, results = [], []
    for i in range(n):
        cid = f"B{i:08d}"
        cands.append([cid, centres[i // PER_CENTRE][0], f"{i % PER_CENTRE + 1:04d}",
                      NAMES[i % len(NAMES)], f"candidate{i}@example.org",
                      f"{i * 7919 % 10**6:06d}"])
        results += [[cid, "STEP", "9470", str(40 + i * 37 % 81), "", ""],
                    [cid, "STEP", "9475", str(30 + i * 53 % 91), "", ""]]
    _csv(folder / "centres.csv", ["centre_number", "centre_name", "email", "recipients"], centres)
    _csv(folder / "candidates.csv", ["candidate_id", "centre_number", "candidate_number", "name",
                                     "email", "secret_number"], cands)
    _csv(folder / "results.csv", ["candidate_id", "test", "component", "mark", "grade", "cefr"],
         results)


PER_CENTRE_CHANGED = 10  # results an enquiry outcome batch changes at one centre


def change_results(folder: Path, count: int) -> None:
    """Results enquiries: ``count`` candidates get a higher mark, 10 at each affected centre.

    An outcome batch comes from the centres that asked for reviews, not from every
    centre: ``ceil(count / 10)`` centres spread over the series (1 change: one centre;
    100 in 10,000 candidates: 10 of the 50 centres), their first candidates.
    """
    path = folder / "results.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    papers = [r for r in rows[1:] if r[2] == "9470"]  # one row per candidate, in series order
    centres = -(-len(papers) // PER_CENTRE)
    hit = -(-count // PER_CENTRE_CHANGED)
    step = max(1, centres // hit)
    chosen = [papers[c * PER_CENTRE + k] for c in range(0, centres, step)[:hit]
              for k in range(PER_CENTRE_CHANGED) if c * PER_CENTRE + k < len(papers)]
    for row in chosen[:count]:
        mark = int(row[3])
        row[3] = str(mark + 7 if mark + 7 <= 120 else mark - 7)  # 120: the paper's maximum
    _csv(path, rows[0], rows[1:])


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


@contextmanager
def timed_stages() -> Iterator[dict[str, float]]:
    """Wrap each stage function so its seconds add up under its name."""
    stages = ((name, _stage_owner(module), attr) for name, (module, attr) in STAGES.items())
    with timed_calls(stages, time.perf_counter) as spent:
        yield spent


def _stage_owner(module: str) -> Any:
    """The module, or the class of ``module.Class``, that holds a stage function."""
    import importlib

    if module.rsplit(".", 1)[1][0].isupper():  # a class: module.Class
        path, cls = module.rsplit(".", 1)
        return getattr(importlib.import_module(path), cls)
    return importlib.import_module(module)


class TreeMemory:
    """Peak RSS of this process and of it with all its descendants, sampled on a thread.

    Also the CPU seconds of the descendants (``children_cpu``, each one's last sample):
    on a shared machine the CPU a build uses is steadier than its wall time.
    """

    def __init__(self) -> None:
        self.parent = self.tree = 0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            try:
                own = me.memory_info().rss
                children = me.children(recursive=True)
                total = own + sum(_rss(p) for p in children)
            except psutil.Error:
                continue
            self.parent, self.tree = max(self.parent, own), max(self.tree, total)
            for p in children:
                self._cpu[p.pid] = max(self._cpu.get(p.pid, 0.0), _cpu(p))

    @property
    def children_cpu(self) -> float:
        """CPU seconds (user and system) the descendants had used when last sampled."""
        return sum(self._cpu.values())


def _cpu(p: psutil.Process) -> float:
    try:
        times = p.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _rss(p: psutil.Process) -> int:
    try:
        return int(p.memory_info().rss)
    except psutil.Error:
        return 0


def disk_bytes(folder: Path) -> int:
    """Bytes the folder takes on disk, each hard-linked file once."""
    seen: set[int] = set()
    total = 0
    for p in folder.rglob("*"):
        st = p.lstat()
        if p.is_file() and st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_blocks * 512
    return total


def one_build(n: int, workers: int, batch_size: int, scheduler: str | None = None,
              pades: bool = False) -> dict[str, object]:
    """Build a series of ``n`` candidates in a temporary folder; return the figures.

    ``pades``: the keys have a seal certificate, so every PDF is sealed (PAdES).
    """
    from results_online.build.pipeline import build
    from results_online.config import build_config
    from results_online.keys.store import init_keys

    with tempfile.TemporaryDirectory(prefix="results-scale-") as tmp:
        root = Path(tmp)
        write_series(root / "series", n)
        init_keys(root / "keys", __import__("datetime").date(2026, 8, 1))
        if pades:
            from datetime import UTC, datetime

            from results_online.keys.seal import init_seal_cert

            init_seal_cert(root / "keys", "Benchmark Board", datetime(2026, 8, 1, tzinfo=UTC))
        config = build_config(str(root / "series"), str(root / "keys"), str(root / "out"),
                              now=NOW, workers=workers, batch_size=batch_size,
                              **({"scheduler": scheduler} if scheduler else {}))
        with TreeMemory() as memory, timed_stages() as stages:
            t0, cpu0 = time.perf_counter(), time.process_time()
            report = build(config)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return {"n": n, "statements": report.statements, "wall": wall, "stages": dict(stages),
                "parent_rss": memory.parent, "tree_rss": memory.tree,
                "parent_cpu": cpu, "children_cpu": memory.children_cpu,
                "disk": disk_bytes(root / "out")}


def amend_run(n: int, changes: list[int], workers: int, batch_size: int) -> dict[str, object]:
    """A full build of ``n``, then an amend after each number of changed results."""
    from results_online.build.pipeline import build
    from results_online.config import build_config
    from results_online.keys.store import init_keys

    with tempfile.TemporaryDirectory(prefix="results-amend-") as tmp:
        root = Path(tmp)
        write_series(root / "series", n)
        init_keys(root / "keys", __import__("datetime").date(2026, 8, 1))
        args = (str(root / "series"), str(root / "keys"), str(root / "out"))
        t0 = time.perf_counter()
        build(build_config(*args, now=NOW, workers=workers, batch_size=batch_size))
        full = time.perf_counter() - t0
        runs = []
        for count in changes:
            shutil.rmtree(root / "series")
            write_series(root / "series", n)
            change_results(root / "series", count)
            with timed_stages() as stages:
                t0 = time.perf_counter()
                report = build(build_config(*args, now=AMEND_NOW, workers=workers,
                                            batch_size=batch_size), amend=True)
                runs.append({"changed": count, "rendered": report.rendered,
                             "wall": time.perf_counter() - t0, "stages": dict(stages)})
        return {"n": n, "full": full, "runs": runs}


def seal_only(n: int) -> dict[str, object]:
    """Load and seal ``n`` candidates into a spool, no rendering: seconds and peak RSS."""
    from datetime import date

    from results_online.build.amend import plan_into
    from results_online.build.inputs.load import scan_series
    from results_online.build.inputs.spool import Spool
    from results_online.keys.store import init_keys, load_keys

    with tempfile.TemporaryDirectory(prefix="results-seal-") as tmp:
        root = Path(tmp)
        write_series(root / "series", n)
        init_keys(root / "keys", date(2026, 8, 1))
        before = psutil.Process().memory_info().rss
        spool = Spool(root / "spool.sqlite")
        with TreeMemory() as memory:  # sampled: the series was just written in this process
            t0 = time.perf_counter()
            series = scan_series(root / "series", spool)
            loaded = time.perf_counter() - t0
            plan = plan_into(spool, series, load_keys(root / "keys"), None, date(2026, 8, 13))
            sealed = time.perf_counter() - t0 - loaded
            read = sum(1 for _ in spool.statements())
        spool.close()
        return {"n": n, "statements": plan.count, "read": read, "load": loaded, "seal": sealed,
                "before": before, "peak": memory.parent,
                "spool": (root / "spool.sqlite").stat().st_size}


def _child(flag: str, *values: object) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, flag, *map(str, values)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{flag} {values} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mb(b: object) -> str:
    return f"{int(b) / 2**20:7.0f}"  # type: ignore[call-overload]


def print_scale(rows: list[dict[str, Any]]) -> None:
    """The growth table, one row per size, and the stages of each."""
    print("candidates  wall s  statements/s  parent MiB  tree MiB  output MiB  KiB/candidate")
    for r in rows:
        print(f"{r['n']:>10}  {r['wall']:6.0f}  {r['statements'] / r['wall']:12.1f}  "
              f"{_mb(r['parent_rss']):>10}  {_mb(r['tree_rss']):>8}  {_mb(r['disk']):>10}  "
              f"{r['disk'] / r['n'] / 1024:13.1f}")
    print("seconds per stage (* : busy time on the thread beside rendering):")
    names = [s for s in STAGES if any(s in r["stages"] for r in rows)]
    print("candidates  " + "  ".join(f"{s:>12}" for s in names))
    for r in rows:
        print(f"{r['n']:>10}  " + "  ".join(f"{r['stages'].get(s, 0):12.1f}" for s in names))


def dask_against_pool(n: int, rounds: int, workers: int, batch_size: int,
                      pades: bool = False) -> None:
    """Builds of ``n`` on the pool and on a LocalCluster, alternating (pool, Dask, Dask, pool...).

    The other work on a shared machine comes and goes, so one build of each is a
    poor ratio; alternating puts each path in the same stretches of load.
    """
    walls: dict[str, list[float]] = {"-": [], "local": []}
    cpus: dict[str, list[float]] = {"-": [], "local": []}
    for k in range(rounds):
        for scheduler in (("-", "local") if k % 2 == 0 else ("local", "-")):
            r = _child("--one", n, workers, batch_size, scheduler, int(pades))
            walls[scheduler].append(r["wall"])
            cpus[scheduler].append(r["parent_cpu"] + r["children_cpu"])
            print(f"  {'pool' if scheduler == '-' else 'Dask':4s} {r['wall']:7.1f} s, CPU "
                  f"{r['parent_cpu']:.0f} s parent + {r['children_cpu']:.0f} s workers, "
                  f"load average {psutil.getloadavg()[0]:.1f}", flush=True)
    pool, dask = sum(walls["-"]), sum(walls["local"])
    print(f"pool {pool:.1f} s, LocalCluster of {workers} workers {dask:.1f} s for {n} "
          f"candidates ({rounds} build(s) each): Dask takes {dask / pool:.2f}x the pool's time "
          f"(target within 1.10x); CPU {sum(cpus['local']) / sum(cpus['-']):.2f}x the pool's"
          + ("; every PDF sealed" if pades else ""))


def main() -> None:
    """Run the child named by a private flag, or the whole benchmark."""
    if len(sys.argv) > 1 and sys.argv[1] in ("--one", "--amend-one", "--dask-one", "--seal-one"):
        flag, *rest = sys.argv[1:]
        if flag == "--seal-one":
            print(json.dumps(seal_only(int(rest[0]))))
        elif flag == "--one":
            n, workers, batch, scheduler, *pades = rest
            print(json.dumps(one_build(int(n), int(workers), int(batch),
                                       None if scheduler == "-" else scheduler,
                                       pades=pades == ["1"])))
        else:
            n, changes, workers, batch = rest
            print(json.dumps(amend_run(int(n), [int(c) for c in changes.split(",")],
                                       int(workers), int(batch))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="500,2000", help="candidates per build, comma-separated")
    parser.add_argument("--amend", type=int, default=2000, help="series size for the amend "
                        "figures (0: skip; the issue's is 10000)")
    parser.add_argument("--changes", default="1,100")
    parser.add_argument("--dask", type=int, default=0, help="series size for pool vs LocalCluster")
    parser.add_argument("--rounds", type=int, default=2, help="builds of each for --dask")
    parser.add_argument("--pades", action="store_true", help="--dask builds seal every PDF "
                        "(a seal certificate in the keys; the client seals Dask's PDFs)")
    parser.add_argument("--publish", type=int, default=0, help="blobs to upload (issue: 10000)")
    parser.add_argument("--seal", default="", help="sizes to load and seal only, no rendering "
                        "(the stages that read the whole series), comma-separated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()
    print(f"cores: {psutil.cpu_count()}, load average {psutil.getloadavg()[0]:.1f} "
          "(shared machine: other work runs beside this)")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        print_scale([_child("--one", n, args.workers, args.batch_size, "-") for n in sizes])
    if args.amend:
        r = _child("--amend-one", args.amend, args.changes, args.workers, args.batch_size)
        print(f"amend in a series of {r['n']} (full build {r['full']:.1f} s):")
        for run in r["runs"]:
            stages = ", ".join(f"{k} {v:.1f}" for k, v in run["stages"].items() if v >= 0.05)
            print(f"  {run['changed']:>4} changed result(s): {run['wall']:6.1f} s, "
                  f"{r['full'] / run['wall']:5.1f}x faster than the full build (target 50x); "
                  f"{run['rendered']} rendered; {stages}")
    if args.dask:
        dask_against_pool(args.dask, args.rounds, args.workers, args.batch_size, args.pades)
    for n in [int(x) for x in args.seal.split(",") if x]:
        r = _child("--seal-one", n)
        print(f"load and seal only, {r['n']} candidates: load {r['load']:.0f} s, seal "
              f"{r['seal']:.0f} s, peak RSS {_mb(r['peak']).strip()} MiB (before loading "
              f"{_mb(r['before']).strip()}), spool {_mb(r['spool']).strip()} MiB on disk")
    if args.publish:
        from publish_bench import publish_rate

        print(publish_rate(args.publish))


if __name__ == "__main__":
    main()
