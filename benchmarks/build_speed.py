"""How fast the render stage makes statements, against the naive one-document-per-statement way.

    .venv/bin/python benchmarks/build_speed.py [--n 2000] [--workers 2] [--batch-size 50]

Builds a synthetic series of N candidates (half STEP, half B2 First, names from many
scripts), signs it with a key store made in a temporary folder, renders it with
``render_statements`` (batched documents, process pool), then renders a sample the
naive way: one ``HTML(...).write_pdf()`` per statement, CSS parsed and fonts set up
each time. Prints statements per second, ms per statement per core, and the ratio.
Both wall-clock and CPU time are shown: on a shared machine CPU time is the steadier.

Then what the documents' features cost, per B2 First statement, in one worker
process (CPU time, best of three rounds of a batch): untagged PDFs without the chart
(as before issue 14), tagged PDF/A-3u + PDF/UA-1, plus the scale chart, plus the
PAdES seal.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# The synthetic series comes from the test factories, so the benchmark and the tests
# build the same kind of statements.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import NOW, make_keys, synthetic_series
from weasyprint import HTML

from results_online.build.render import statements as render_module
from results_online.build.render import weasy
from results_online.build.render.statements import render_statements, renderer
from results_online.build.verification.seal import seal_series
from results_online.keys.seal import init_seal_cert, load_seal
from results_online.model import Statement
from results_online.progress import no_progress

TARGET = 5  # issue 2: the whole build against a plain loop of write_pdf() on the same machine


def cpu_seconds(who: int) -> float:
    """User + system CPU time of this process or of its finished children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def pool_cpu_seconds() -> float:
    """CPU time of the finished pool workers: children of the forkserver, not of us (Linux)."""
    pid = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    cutime, cstime = int(fields[13]), int(fields[14])  # fields 16 and 17 of proc(5)
    return (cutime + cstime) / os.sysconf("SC_CLK_TCK")


def total_cpu() -> float:
    """CPU time of this process, its children and the pool workers so far."""
    return (cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN)
            + pool_cpu_seconds())


def render_naively(sample: list[Statement], out: Path) -> tuple[float, float]:
    """Wall and CPU seconds to render each statement as its own document (HTML, CSS, fonts)."""
    make_html = renderer().print_html  # templates only; the naive path sets up the rest
    out.mkdir()
    cpu0 = cpu_seconds(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for i, s in enumerate(sample):
        HTML(string=make_html([s], embed_css=True)).write_pdf(out / f"{i}.pdf")
    return time.perf_counter() - t0, cpu_seconds(resource.RUSAGE_SELF) - cpu0


def _untagged_pdf(document: object, meta: object, target: object = None) -> bytes | None:
    """What the renderer wrote before issue 14: no PDF/A variant, no tags (QR still drawn)."""
    for page in document.pages:  # type: ignore[attr-defined]
        weasy._hook_page(page)
    document.metadata = meta  # type: ignore[attr-defined]
    out: bytes | None = document.write_pdf(target)  # type: ignore[attr-defined]
    return out


def feature_costs(batch: list[Statement], keys_dir: Path, out: Path) -> dict[str, float]:
    """CPU ms per statement of one batch rendered with each feature added in turn."""
    init_seal_cert(keys_dir, "Benchmark Board", NOW)
    seal = load_seal(keys_dir)
    tagged, chart = render_module.archival_pdf, render_module.chart_layout
    steps = [("untagged, no chart", _untagged_pdf, lambda e: None, None),
             ("tagged PDF/A-3u + UA-1", tagged, lambda e: None, None),
             ("+ scale chart", tagged, chart, None),
             ("+ PAdES seal", tagged, chart, seal)]
    best: dict[str, float] = {}
    r = renderer()
    r.render_batch(batch, out / "warm", NOW, seal)  # fonts, outlines and the signer loaded
    for round_ in range(3):
        for name, write, layout, sealing in steps:
            render_module.archival_pdf, render_module.chart_layout = write, layout
            t0 = time.process_time()
            r.render_batch(batch, out / f"{round_}-{len(best)}", NOW, sealing)
            ms = (time.process_time() - t0) / len(batch) * 1000
            best[name] = min(best.get(name, ms), ms)
    render_module.archival_pdf, render_module.chart_layout = tagged, chart
    return best


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="candidates (default 2000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--sample", type=int, default=40, help="statements rendered naively")
    parser.add_argument("--features", type=int, default=40,
                        help="B2 First statements in the feature-cost batch (0: skip)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="results-bench-") as tmp:
        root = Path(tmp)
        series = synthetic_series(args.n)
        t0 = time.perf_counter()
        statements = seal_series(series, make_keys(root / "keys"))
        seal_s = time.perf_counter() - t0

        cpu0 = total_cpu()
        t0 = time.perf_counter()
        render_statements(statements, root / "fast", workers=args.workers,
                          batch_size=args.batch_size, progress=no_progress, now=NOW)
        fast_wall = time.perf_counter() - t0
        time.sleep(0.5)  # let the forkserver reap the workers, so their CPU time is counted
        fast_cpu = total_cpu() - cpu0

        sample = statements[:: max(1, len(statements) // args.sample)][: args.sample]
        # In a fresh process, as the pool's workers are: a process that has just
        # rendered thousands of pages carries a large heap that slows the naive way.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            naive_wall, naive_cpu = pool.submit(render_naively, sample, root / "naive").result()
        english = [s for s in statements if s.entry.test.code == "FCE"][: args.features]
        costs = {}
        if english:
            (root / "features").mkdir()
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                costs = pool.submit(feature_costs, english, root / "seal-keys",
                                    root / "features").result()

    n, k = len(statements), len(sample)
    fast_ms_core = fast_wall * args.workers / n * 1000
    naive_ms = naive_wall / k * 1000
    print(f"statements: {n} (sealed in {seal_s:.1f} s), workers: {args.workers}, "
          f"batch size: {args.batch_size}")
    print(f"fast:  {n / fast_wall:7.1f} statements/s   {fast_ms_core:6.1f} ms/statement/core"
          f"   CPU {fast_cpu / n * 1000:6.1f} ms/statement")
    print(f"naive: {k / naive_wall:7.1f} statements/s   {naive_ms:6.1f} ms/statement/core"
          f"   CPU {naive_cpu / k * 1000:6.1f} ms/statement   (sample of {k}, one process)")
    throughput = (n / fast_wall) / (k / naive_wall)
    print(f"ratio: {throughput:.1f}x the naive way in statements/s (target {TARGET}x: "
          f"{'met' if throughput >= TARGET else 'NOT met'}); "
          f"{naive_ms / fast_ms_core:.1f}x per core (wall), "
          f"{(naive_cpu / k) / (fast_cpu / n):.1f}x by CPU time")
    previous = None
    for name, ms in costs.items():
        added = "" if previous is None else f"   ({ms - previous:+.1f} ms)"
        print(f"features: {name:24s} CPU {ms:6.1f} ms/statement{added}")
        previous = ms


if __name__ == "__main__":
    main()
