"""The CPU of one centre's bundle, piece by piece: made afresh, and in an amend that changed some.

    .venv/bin/python benchmarks/bundle_cost.py [--changed 10] [--rounds 5]

Builds benchmarks/build_scale.py's synthetic series with two centres (200 candidates
each), then makes the first centre's bundle as a full build does, and
as an amend does after ``--changed`` of its statements changed (their PDFs swapped for
the other centre's, so the join has new pages to read), from the statements.pdf the
first one kept. Prints the median CPU seconds of each over ``--rounds`` and of the
pieces inside, and checks that the amended statements.pdf is what a fresh join gives.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
NOW = datetime.fromisoformat("2026-08-13T07:30:00+00:00")
# What is timed inside a bundle: (module, function) by the name printed.
PIECES = {"statements.pdf": ("centre", "rejoin"), "of it qpdf's write": ("pdfjoin", "Pdf.save"),
          "shared streams": ("pdfjoin", "_share_streams"), "statements read": ("pdfjoin",
                                                                                "Joiner.add"),
          "results.xlsx": ("centre", "results_xlsx"), "overview": ("centre", "overview_html"),
          "age": ("centre", "encrypt_to")}


def main() -> None:
    """Build the series, then time the bundles."""
    from _timing import timed_calls
    from build_scale import PER_CENTRE, write_series

    from results_online.build.amend import plan_into
    from results_online.build.bundle import centre, pdfjoin
    from results_online.build.bundle.rejoin import Joins, kept_path
    from results_online.build.inputs.load import scan_series
    from results_online.build.inputs.spool import Spool
    from results_online.build.pipeline import STATEMENTS, build
    from results_online.build.render.statements import RenderedStatement
    from results_online.config import build_config
    from results_online.keys.store import init_keys, load_keys
    from results_online.names import statement_files

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="results-bundle-") as tmp:
        root = Path(tmp)
        write_series(root / "series", 2 * PER_CENTRE)
        init_keys(root / "keys", NOW.date())
        out = root / "out"
        build(build_config(str(root / "series"), str(root / "keys"), str(out),
                           now=NOW.isoformat(), workers=2))
        spool = Spool(root / "spool.sqlite")
        series = scan_series(root / "series", spool)
        plan = plan_into(spool, series, load_keys(root / "keys"), None, NOW.date())
        first, other = (sorted((RenderedStatement(s, *statement_files(
            out / STATEMENTS, s.centre.number, s.entry.candidate.number, s.entry.test.code))
            for s in group), key=lambda r: centre.statement_order(r.statement))
            for group in spool.statements_by_centre())
        changed = [replace(r, pdf=o.pdf) if i < args.changed else r
                   for i, (r, o) in enumerate(zip(first, other, strict=True))]
        explanation = centre.sealed_explanation(plan.explanation, now=NOW, seal=None)
        number = first[0].statement.centre.number
        kept = Joins(root / "kept")
        centre.build_bundle(series, series.centre(number), first, explanation, root / "c",
                            now=NOW, joins=kept)
        runs = {"made afresh": (first, Joins(root / "fresh")),
                f"amended, {args.changed} changed": (changed, Joins(root / "new", kept.into))}
        modules = {"centre": centre, "pdfjoin": pdfjoin}
        pieces_at = [(label, *_owner(modules[m], name)) for label, (m, name) in PIECES.items()]
        for title, (items, joins) in runs.items():
            totals = []
            with timed_calls(pieces_at, time.process_time) as spent:
                for _ in range(args.rounds):
                    t0 = time.process_time()
                    centre.build_bundle(series, series.centre(number), items, explanation,
                                        root / "c", now=NOW, joins=joins)
                    totals.append(time.process_time() - t0)
            pieces = ", ".join(f"{k} {spent[k] / args.rounds:.3f}" for k in PIECES)
            print(f"bundle of {len(items)} statements, {title}: {statistics.median(totals):.3f} s "
                  f"CPU (median of {args.rounds}); {pieces}")
        fresh = pdfjoin.join_parts([r.pdf.read_bytes() for r in changed],
                                   centre.statements_meta(series, series.centre(number), NOW))
        same = kept_path(root / "new", number, series.info.code).read_bytes() == fresh.pdf
        print(f"amended statements.pdf is the fresh join's bytes: {same}")


def _owner(module: Any, dotted: str) -> tuple[Any, str]:
    """The object holding ``dotted`` ("f" or "Class.f") in ``module``, and the name."""
    if "." in dotted:
        cls, name = dotted.split(".")
        return getattr(module, cls), name
    return module, dotted


if __name__ == "__main__":
    main()
