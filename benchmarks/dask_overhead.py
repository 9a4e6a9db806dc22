"""What Dask itself costs the render workers: Dask's default settings against dask-worker.yaml.

    .venv/bin/python benchmarks/dask_overhead.py [--n 400] [--rounds 2] [--batch-size 50]

Renders the same N statements (the scaled STEP series of build_scale.py) on a
two-worker LocalCluster started with Dask's defaults and on one started with the
render workers' settings (``build/render/dask-worker.yaml``), alternating (default,
settings, settings, default, ...), each cluster new. Prints, per statement, the
render stage's wall time, the workers' CPU and this process's CPU (client, fonts,
scheduler and nannies), then the ratio settings / default; and the round trip of an
empty task on each, the scheduler's cost per task. Only rendering is timed: no
sealing, encryption or bundles, which are the same on both.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from build_scale import NOW, write_series
from distributed import Client, LocalCluster

from results_online.build.inputs.load import load_series
from results_online.build.render import cluster as dask_path
from results_online.build.render.statements import render_statements
from results_online.build.verification.seal import seal_series
from results_online.keys.store import init_keys, load_keys
from results_online.model import Statement
from results_online.progress import Advance

EMPTY_TASKS = 500


@contextmanager
def _no_progress(stage: str, total: int) -> Iterator[Advance]:
    yield lambda n: None


def _noop(i: int) -> int:
    return i


def statements(root: Path, n: int) -> tuple[Statement, ...]:
    """The scaled series of ``n`` candidates, sealed as a build seals it."""
    write_series(root / "series", n)
    init_keys(root / "keys", datetime.fromisoformat(NOW).date())
    return seal_series(load_series(root / "series"), load_keys(root / "keys"))


def one_round(batch: tuple[Statement, ...], out: Path, settings: bool,
              batch_size: int) -> dict[str, float]:
    """Start a two-worker LocalCluster, render ``batch`` on it; seconds of wall and CPU."""
    setup: Any = dask_path.applying_worker_settings() if settings else nullcontext()
    t0 = time.perf_counter()
    with setup, LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                             host="127.0.0.1", dashboard_address=None,
                             preload=[dask_path.PRELOAD]) as cluster, Client(cluster) as client:
        started = time.perf_counter() - t0
        before = client.run(time.process_time)
        t0, own0 = time.perf_counter(), time.process_time()
        render_statements(batch, out, workers=2, batch_size=batch_size, progress=_no_progress,
                          now=datetime.fromisoformat(NOW), scheduler=cluster.scheduler_address)
        wall, own = time.perf_counter() - t0, time.process_time() - own0
        after = client.run(time.process_time)
        t0 = time.perf_counter()
        client.gather(client.map(_noop, range(EMPTY_TASKS), pure=False))
        task = (time.perf_counter() - t0) / EMPTY_TASKS
    return {"start": started, "wall": wall, "own": own, "task": task,
            "workers": sum(after[w] - before[w] for w in after)}


def main() -> None:
    """Alternate the two settings and print each round and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=400, help="statements per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each setting")
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()
    print(f"cores: {psutil.cpu_count()}, load average {psutil.getloadavg()[0]:.1f}")
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="results-dask-overhead-") as tmp:
        batch = statements(Path(tmp), args.n)
        for k in range(args.rounds):
            for settings in ((False, True) if k % 2 == 0 else (True, False)):
                r = one_round(batch, Path(tmp) / f"out-{k}-{settings}", settings,
                              args.batch_size)
                runs[settings].append(r)
                print(f"  {'dask-worker.yaml' if settings else 'Dask defaults':16s} "
                      f"cluster start {r['start']:5.1f} s; per statement: wall "
                      f"{1000 * r['wall'] / args.n:6.1f} ms, workers' CPU "
                      f"{1000 * r['workers'] / args.n:6.1f} ms, this process "
                      f"{1000 * r['own'] / args.n:5.1f} ms; empty task "
                      f"{1000 * r['task']:.2f} ms; load average "
                      f"{psutil.getloadavg()[0]:.1f}", flush=True)

    def total(settings: bool, key: str) -> float:
        return sum(r[key] for r in runs[settings])

    print(f"{args.n} statements, {args.rounds} round(s) each: dask-worker.yaml / Dask defaults: "
          f"wall {total(True, 'wall') / total(False, 'wall'):.2f}x, workers' CPU "
          f"{total(True, 'workers') / total(False, 'workers'):.2f}x, this process's CPU "
          f"{total(True, 'own') / total(False, 'own'):.2f}x")


if __name__ == "__main__":
    main()
