"""The `results` command: parse arguments, call the library, print errors and hints.

One module per command group (build and amend here; keys, verify, release, centres,
orgs beside it). This package is the only code that prints ``error: …`` / ``hint: …``,
and ``main`` the only place that turns a library error into an exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from results_online import config as cfg
from results_online.commands import centres, keys, orgs, release, verify
from results_online.commands.common import EXIT_ERROR, default_keys
from results_online.errors import ResultsError
from results_online.progress import Advance


@contextmanager
def _tqdm_progress(stage: str, total: int) -> Iterator[Advance]:
    from tqdm import tqdm

    with tqdm(total=total, desc=stage, unit="stmt", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        def advance(n: int) -> None:
            bar.update(n)

        yield advance


def cmd_build(args: argparse.Namespace) -> int:
    """results build SERIES --keys DIR --out OUT"""
    from results_online.build.pipeline import build

    config = cfg.build_config(
        args.series, args.keys, args.out, now=args.now, workers=args.workers,
        batch_size=args.batch_size, show_progress=True, scheduler=args.scheduler,
    )
    report = build(config, progress=_tqdm_progress)
    print(f"built {report.statements} statements for {report.centres} centres"
          f" into {report.out_dir}")
    print(report.guessing)
    return 0


def cmd_amend(args: argparse.Namespace) -> int:
    """results amend SERIES --keys DIR --out OUT: re-render only the changed statements"""
    from results_online.build.pipeline import build

    config = cfg.build_config(
        args.series, args.keys, args.out, now=args.now, workers=args.workers,
        batch_size=args.batch_size, show_progress=True, scheduler=args.scheduler,
    )
    report = build(config, progress=_tqdm_progress, amend=True)
    print(f"amended {report.out_dir}: {report.rendered} new statement(s) rendered, "
          f"{report.retired} superseded or withdrawn in all, {report.statements} current")
    print(report.guessing)
    return 0


def _render_arguments(p: argparse.ArgumentParser, *, series: str, out: str, now: str) -> None:
    """The arguments `build` and `amend` share: what to render, where, and on what."""
    p.add_argument("series", help=series)
    p.add_argument("--keys", default=default_keys(), help="the key store folder")
    p.add_argument("--out", required=True, help=out)
    p.add_argument("--now", help=now)
    p.add_argument("--workers", type=int, help="processes for rendering (default: cores)")
    p.add_argument("--batch-size", type=int, default=cfg.BATCH_SIZE,
                   help="statements per render batch")
    p.add_argument("--scheduler", help="render on Dask distributed: tcp://HOST:8786, or "
                   "'local' for a LocalCluster of --workers processes")


def parser() -> argparse.ArgumentParser:
    """The argument parser of the `results` command."""
    p = argparse.ArgumentParser(prog="results", description="Publish exam results.")
    p.add_argument("-v", "--verbose", action="store_true", help="log each stage")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build a series into signed statements")
    _render_arguments(b, series="the series folder (series.toml and CSVs)",
                      out="output folder, replaced atomically",
                      now="pretend it is this ISO 8601 time (release planning)")
    b.set_defaults(func=cmd_build)

    m = sub.add_parser("amend", help="after results enquiries: new statements for changed "
                                     "results only, the old ones marked superseded")
    _render_arguments(m, series="the series folder, with the changed results",
                      out="the output folder of the previous build",
                      now="pretend it is this ISO 8601 time (the amendment date)")
    m.set_defaults(func=cmd_amend)

    for group in (keys, verify, release, centres, orgs):
        group.add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `results` command; return its exit code."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
