"""`results notify` and `publish`: the output folder, the mail relay, the bucket."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from results_online.config.parse import parse_now, parse_smtp
from results_online.errors import ConfigError

DKIM_SELECTOR_ENV = "RESULTS_DKIM_SELECTOR"
DKIM_SELECTOR = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


@dataclass(frozen=True)
class NotifyConfig:
    """What one `results notify` needs."""

    out_dir: Path
    smtp_host: str
    smtp_port: int
    now: datetime
    sender: str | None = None
    dkim_selector: str | None = None  # sign with the key store's DKIM key under this selector
    keys: Path | None = None


def notify_config(out_dir: str, smtp: str, *, now: str | None = None,
                  sender: str | None = None, dkim_selector: str | None = None,
                  keys: str | None = None,
                  environ: Mapping[str, str] | None = None) -> NotifyConfig:
    """Validate notify settings, reporting every problem at once."""
    problems: list[str] = []
    env = os.environ if environ is None else environ
    selector = dkim_selector or env.get(DKIM_SELECTOR_ENV) or None
    if selector and not DKIM_SELECTOR.fullmatch(selector):
        problems.append(f"the DKIM selector {selector!r} is not a DNS label (letters, digits, "
                        "'-', dots between labels)")
    if selector and not keys:
        problems.append("a DKIM selector needs --keys, the key store holding dkim.pem")
    out = Path(out_dir)
    if not (out / "private" / "outbox").is_dir():
        problems.append(f"{out} holds no outbox (give the --out folder of `results build`)")
    host, port = parse_smtp(smtp, problems)
    when = parse_now(now, problems)
    if problems:
        raise ConfigError("; ".join(problems), hint="see `results notify --help`")
    return NotifyConfig(out, host, port, when, sender or None, selector,
                        Path(keys) if keys else None)


@dataclass(frozen=True)
class PublishConfig:
    """What one `results publish` needs."""

    out_dir: Path
    bucket: str
    prefix: str  # no leading or trailing '/'
    endpoint: str | None
    now: datetime


def publish_config(out_dir: str, to: str, *, endpoint: str | None = None,
                   now: str | None = None) -> PublishConfig:
    """Validate publish settings, reporting every problem at once."""
    problems: list[str] = []
    out = Path(out_dir)
    if not (out / "private" / "release-plan.json").is_file():
        problems.append(f"{out} holds no release plan (give the --out folder of "
                        "`results build`)")
    bucket, _, prefix = to.removeprefix("s3://").partition("/")
    if not to.startswith("s3://") or not bucket:
        problems.append(f"--to {to!r} is not s3://bucket/prefix")
    if endpoint and not endpoint.startswith(("https://", "http://")):
        problems.append(f"--endpoint {endpoint!r} is not an http(s) URL")
    when = parse_now(now, problems)
    if problems:
        raise ConfigError("; ".join(problems), hint="see `results publish --help`")
    return PublishConfig(out, bucket, prefix.strip("/"), endpoint or None, when)
