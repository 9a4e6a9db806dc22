"""`results build` and `amend`: the series, the keys, the output and how to render."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from results_online.config.parse import parse_now
from results_online.errors import ConfigError

PASSPHRASE_ENV = "RESULTS_KEY_PASSPHRASE"  # noqa: S105 - a variable name
BATCH_SIZE = 50  # default: statements per render batch


@dataclass(frozen=True)
class BuildConfig:
    """What one `results build` needs."""

    series_dir: Path
    keys_dir: Path
    out_dir: Path
    now: datetime  # aware; decides what the release plan already allows
    workers: int = 2
    batch_size: int = BATCH_SIZE
    show_progress: bool = False
    passphrase: bytes | None = field(default=None, repr=False)
    scheduler: str | None = None  # Dask: "local" (a LocalCluster) or "tcp://host:8786"


def passphrase_from(environ: Mapping[str, str]) -> bytes | None:
    """The key-store passphrase from the environment, if set."""
    value = environ.get(PASSPHRASE_ENV, "")
    return value.encode() if value else None


def build_config(
    series_dir: str,
    keys_dir: str,
    out_dir: str,
    *,
    now: str | None = None,
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    show_progress: bool = False,
    environ: Mapping[str, str] | None = None,
    scheduler: str | None = None,
) -> BuildConfig:
    """Validate build settings, reporting every problem at once."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    series = Path(series_dir)
    if not (series / "series.toml").is_file():
        problems.append(f"{series} is not a series folder (no series.toml)")
    keys = Path(keys_dir)
    if not (keys / "keyset.json").is_file():
        problems.append(f"{keys} holds no key store (run `results keys init --keys {keys}`)")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        problems.append(f"--out {out} exists and is not a folder")
    if out.resolve() in (series.resolve(), keys.resolve()):
        problems.append("--out must not be the series or key folder")
    n_workers = workers if workers is not None else max(1, os.cpu_count() or 1)
    if n_workers < 1:
        problems.append("--workers must be at least 1")
    if batch_size < 1:
        problems.append("--batch-size must be at least 1")
    when = parse_now(now, problems)
    if scheduler is not None and scheduler != "local" and not scheduler.startswith(
            ("tcp://", "tls://")):
        problems.append(f"--scheduler {scheduler!r} is neither 'local' nor a Dask scheduler "
                        "address (tcp://HOST:8786)")
    if problems:
        raise ConfigError("; ".join(problems), hint="see `results build --help`")
    return BuildConfig(series, keys, out, when, n_workers, batch_size, show_progress,
                       passphrase_from(env), scheduler)
