"""Where a statement's render CPU goes: per-phase ms for batches rendered in one process.

    .venv/bin/python benchmarks/render_phases.py [--n 100] [--batch-size 50] [--seal]

Builds a synthetic series (half STEP, half B2 First, names from many scripts), makes
the reduced CJK fonts as a build does, warms one renderer up, then renders the
statements in batches as a pool worker does, timing each phase by wrapping the
WeasyPrint, pydyf and project functions that do it (CPU time, each phase without the
phases inside it). The phases add up to the total; on a shared machine read them as
shares of the total rather than as absolute times.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import pydyf
import weasyprint
import weasyprint.document as wdocument
import weasyprint.layout.page as wpage
import weasyprint.pdf as wpdf
from factories import NOW, make_keys, synthetic_series

from results_online.build.render import statements as render_module
from results_online.build.render.fonts import reduce_fonts, statement_texts
from results_online.build.verification.seal import seal_series
from results_online.keys.seal import init_seal_cert, load_seal

_spent: dict[str, float] = {}
_inner: list[float] = []


def _timed(owner: Any, name: str, phase: str) -> None:
    """Replace owner.name by a wrapper that adds its own CPU time (less nested phases) to phase."""
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        _inner.append(0.0)
        try:
            return original(*args, **kwargs)
        finally:
            took = time.process_time() - start
            _spent[phase] = _spent.get(phase, 0.0) + took - _inner.pop()
            if _inner:
                _inner[-1] += took

    setattr(owner, name, wrapper)


PHASES = (
    (render_module, "_item", "QR code and chart layout"),
    (weasyprint.HTML, "__init__", "HTML parsing"),
    (wdocument, "get_all_computed_styles", "style cascade"),
    (wdocument, "build_formatting_structure", "box tree"),
    (wpage, "make_page", "layout"),
    (wdocument, "draw_page", "drawing (content streams)"),
    (wpdf, "build_fonts_dictionary", "font subsets"),
    (wpdf, "add_tags", "structure tree"),
    (pydyf.PDF, "write", "PDF serialising and compression"),
    (render_module, "archival_pdf", "PDF assembly (rest)"),
    (render_module, "seal_pdf", "PAdES seal"),
    (gc, "collect", "garbage collection"),
)


def main() -> None:
    """Render, time and print the phases."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="statements (default 100)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--seal", action="store_true", help="seal each PDF (PAdES)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="results-phases-") as tmp:
        root = Path(tmp)
        statements = list(seal_series(synthetic_series(args.n, per_centre=args.n),
                                      make_keys(root / "keys")))[: args.n]
        seal = None
        if args.seal:
            init_seal_cert(root / "seal", "Benchmark Board", NOW)
            seal = load_seal(root / "seal")
        (root / "fonts").mkdir()
        fonts = reduce_fonts((t for s in statements for t in statement_texts(s)), root / "fonts")
        renderer = render_module.renderer(fonts)
        renderer.render_batch(statements[:10], root / "warm", NOW, seal)
        for owner, name, phase in PHASES:
            _timed(owner, name, phase)
        start = time.process_time()
        for i in range(0, len(statements), args.batch_size):
            renderer.render_batch(statements[i : i + args.batch_size], root / "out", NOW, seal)
        total = time.process_time() - start
    n = len(statements)
    print(f"{n} statements, batches of {args.batch_size}, load average "
          f"{os.getloadavg()[0]:.1f}; CPU ms per statement:")
    for phase, spent in sorted(_spent.items(), key=lambda kv: -kv[1]):
        print(f"  {phase:34s} {spent / n * 1000:6.1f}")
    other = total - sum(_spent.values())
    print(f"  {'other (pages, files, templates)':34s} {other / n * 1000:6.1f}")
    print(f"  {'total':34s} {total / n * 1000:6.1f}")


if __name__ == "__main__":
    main()
