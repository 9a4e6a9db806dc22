"""Values typed on a command line: a time, a day, a mail relay; problems go in one list."""

from __future__ import annotations

from datetime import UTC, date, datetime

from results_online.errors import ConfigError


def parse_now(text: str | None, problems: list[str]) -> datetime:
    """An ISO 8601 time (default: now, UTC); naive times are rejected."""
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"--now {text!r} is not an ISO 8601 time")
        return datetime.now(UTC)
    if value.tzinfo is None:
        problems.append(f"--now {text!r} needs a UTC offset, e.g. {text}+00:00")
    return value


def parse_day(text: str, option: str) -> date:
    """A YYYY-MM-DD date given on the command line; raise ConfigError if it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date",
                          hint="write it as YYYY-MM-DD, e.g. 2026-01-01") from None


def parse_smtp(text: str, problems: list[str]) -> tuple[str, int]:
    """HOST:PORT of a mail relay, noting a problem if it is not one."""
    host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        problems.append(f"--smtp {text!r} is not HOST:PORT, e.g. 127.0.0.1:25")
        return "", 0
    return host.strip("[]"), int(port_text)
