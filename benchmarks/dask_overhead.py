"""What Dask itself costs the render workers: Dask's default settings against dask-worker.yaml.

    .venv/bin/python benchmarks/dask_overhead.py [--n 400] [--rounds 2] [--batch-size 50]
        [--drop distributed.worker.profile.enabled ...]

Renders the same N statements (the scaled STEP series of build_scale.py) on a
two-worker LocalCluster started with Dask's defaults and on one started with the
render workers' settings (``build/render/dask-worker.yaml``), alternating (default,
settings, settings, default, ...), each cluster new. ``--drop KEY`` adds a cluster
with the file's settings but that one (Dask's default for it), to tell each
setting's share. Prints, per statement, the render stage's wall time, the workers'
CPU and this process's CPU (client, fonts, scheduler and nannies), then the ratios
to Dask's defaults; and the round trip of an empty task on each, the scheduler's
cost per task. Only rendering is timed: no sealing, encryption or bundles, which
are the same on both.
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


def one_round(batch: tuple[Statement, ...], out: Path, settings: dict[str, Any] | None,
              batch_size: int) -> dict[str, float]:
    """Start a two-worker LocalCluster, render ``batch`` on it; seconds of wall and CPU."""
    setup: Any = (nullcontext() if settings is None
                  else dask_path.applying_worker_settings(settings))
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


def arms(drop: list[str]) -> dict[str, dict[str, Any] | None]:
    """Dask's defaults, the file, and the file without each key of ``drop``."""
    settings = dask_path.worker_settings()
    unknown = [k for k in drop if k not in settings]
    if unknown:
        raise SystemExit(f"not in dask-worker.yaml: {', '.join(unknown)}")
    made: dict[str, dict[str, Any] | None] = {"Dask defaults": None, "dask-worker.yaml": settings}
    for key in drop:
        made[f"without {key}"] = {k: v for k, v in settings.items() if k != key}
    return made


def main() -> None:
    """Alternate the settings and print each round and the ratios to Dask's defaults."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=400, help="statements per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each setting")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--drop", action="append", default=[], metavar="KEY",
                        help="also run the file without this dotted key (repeatable)")
    args = parser.parse_args()
    print(f"cores: {psutil.cpu_count()}, load average {psutil.getloadavg()[0]:.1f}")
    named = arms(args.drop)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in named}
    with tempfile.TemporaryDirectory(prefix="results-dask-overhead-") as tmp:
        batch = statements(Path(tmp), args.n)
        for k in range(args.rounds):
            for i, name in enumerate(list(named)[::1 if k % 2 == 0 else -1]):
                r = one_round(batch, Path(tmp) / f"out-{k}-{i}", named[name], args.batch_size)
                runs[name].append(r)
                print(f"  {name}: cluster start {r['start']:4.1f} s; per statement: wall "
                      f"{1000 * r['wall'] / args.n:5.1f} ms, workers' CPU "
                      f"{1000 * r['workers'] / args.n:5.1f} ms, this process "
                      f"{1000 * r['own'] / args.n:4.1f} ms; empty task "
                      f"{1000 * r['task']:.2f} ms; load average "
                      f"{psutil.getloadavg()[0]:.1f}", flush=True)

    def total(name: str, key: str) -> float:
        return sum(r[key] for r in runs[name])

    print(f"{args.n} statements, {args.rounds} round(s) each, against Dask's defaults:")
    for name in list(named)[1:]:
        print(f"  {name}: wall {total(name, 'wall') / total('Dask defaults', 'wall'):.2f}x, "
              f"workers' CPU "
              f"{total(name, 'workers') / total('Dask defaults', 'workers'):.2f}x, "
              f"this process's CPU {total(name, 'own') / total('Dask defaults', 'own'):.2f}x")


if __name__ == "__main__":
    main()
