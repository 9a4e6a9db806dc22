"""The one place configuration is read and validated: CLI arguments plus environment.

Every problem is collected and reported in one ``ConfigError``; what comes out
is frozen and typed. No other module reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from results_online.errors import ConfigError

PASSPHRASE_ENV = "RESULTS_KEY_PASSPHRASE"  # noqa: S105 - a variable name
DKIM_SELECTOR_ENV = "RESULTS_DKIM_SELECTOR"
DKIM_SELECTOR = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


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


FAILURES_PER_ADDRESS = 100  # default: failed checks per client address per day (each proof)
IPV6_PREFIX = 64  # default: IPv6 clients share a budget per /64
HSTS_MAX_AGE = 31_536_000  # default: a year; sent only on requests that came over HTTPS
APP_PORT = 8001  # default port of the verification app
SITE_PORT = 8000  # default port of `results serve`
LOCALHOST = "127.0.0.1"
ORG_FAILURES_PER_ID = 10  # default: one organisation's failed checks per candidate ID per day
ORG_FAILURES_PER_ORG = 1000  # default: one organisation's failed checks per day


@dataclass(frozen=True)
class AppConfig:
    """What the verification app needs; checked here, opened by ``create_app``."""

    index_path: Path  # private/verify.sqlite from the build
    keyset_path: Path  # keyset JSON, served at /.well-known/results-keys.json
    pepper_path: Path = field(repr=False)  # 32-byte pepper file from the key store
    redis_url: str | None = field(default=None, repr=False)  # limiter state shared by replicas
    trusted_proxies: tuple[str, ...] = ()  # peers whose X-Forwarded-For is believed (IPs/CIDRs)
    failures_per_id: int | None = None  # a day; None: the budget the build sized (index meta)
    failures_per_address: int = FAILURES_PER_ADDRESS
    host: str = LOCALHOST
    port: int = APP_PORT
    ipv6_prefix: int = IPV6_PREFIX
    hsts_max_age: int = HSTS_MAX_AGE  # 0: never send Strict-Transport-Security
    database_url: str | None = field(default=None, repr=False)  # organisations; may hold a password
    org_approval: bool = False  # a self-registered organisation waits for the board's approval
    smtp: tuple[str, int] | None = None  # mail relay; None: no self-registration
    mail_from: str | None = None
    public_url: str | None = None  # the app's address in e-mails
    org_failures_per_id: int = ORG_FAILURES_PER_ID
    org_failures_per_org: int = ORG_FAILURES_PER_ORG

    @property
    def org_database(self) -> str:
        """The organisations database: ``database_url``, or orgs.sqlite beside the index."""
        return self.database_url or sqlite_beside(self.index_path)


ORGS_DB_FILE = "orgs.sqlite"
DATABASE_ENV = "RESULTS_DATABASE_URL"


def sqlite_beside(index_path: Path) -> str:
    """The default organisations database: a SQLite file in the index's folder."""
    return f"sqlite:///{index_path.resolve().parent / ORGS_DB_FILE}"


def check_database(url: str, index_path: Path | None, problems: list[str]) -> None:
    """Note a problem if ``url`` is neither SQLite nor PostgreSQL, or is the index itself."""
    if not url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        problems.append("--database takes sqlite:///FILE or postgresql://user@host:port/db")
    elif url.startswith("sqlite:///") and index_path is not None and \
            Path(url.removeprefix("sqlite:///")).resolve() == index_path.resolve():
        problems.append("--database must not be the verification index (it is read-only)")


def parse_smtp(text: str, problems: list[str]) -> tuple[str, int]:
    """HOST:PORT of a mail relay, noting a problem if it is not one."""
    host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        problems.append(f"--smtp {text!r} is not HOST:PORT, e.g. 127.0.0.1:25")
        return "", 0
    return host.strip("[]"), int(port_text)


def _check_org_settings(problems: list[str], index_path: Path, *, database_url: str | None,
                        smtp: str | None, public_url: str | None, per_id: int,
                        per_org: int) -> tuple[str, int] | None:
    """Check the registered organisations' settings; the mail relay if one is given."""
    if database_url:
        check_database(database_url, index_path, problems)
    if public_url and not public_url.startswith(("https://", "http://")):
        problems.append(f"--public-url {public_url!r} is not an http(s) URL")
    if per_id < 1 or per_org < 1:
        problems.append("organisation failure limits must be at least 1")
    return parse_smtp(smtp, problems) if smtp else None


def app_config(
    index: str,
    keyset: str,
    *,
    pepper: str | None = None,
    redis_url: str | None = None,
    trusted_proxies: tuple[str, ...] = (),
    failures_per_id: int | None = None,
    failures_per_address: int = FAILURES_PER_ADDRESS,
    host: str = LOCALHOST,
    port: int = APP_PORT,
    database_url: str | None = None,
    org_approval: bool = False,
    smtp: str | None = None,
    mail_from: str | None = None,
    public_url: str | None = None,
    org_failures_per_id: int = ORG_FAILURES_PER_ID,
    org_failures_per_org: int = ORG_FAILURES_PER_ORG,
    ipv6_prefix: int = IPV6_PREFIX,
    hsts_max_age: int = HSTS_MAX_AGE,
) -> AppConfig:
    """Validate verification-app settings, reporting every problem at once."""
    import ipaddress

    problems: list[str] = []
    index_path = Path(index)
    if not index_path.is_file():
        problems.append(f"--index {index_path} does not exist (build a series first: it is "
                        "OUT/private/verify.sqlite)")
    keyset_path = Path(keyset)
    key_dir = keyset_path if keyset_path.is_dir() else keyset_path.parent
    if keyset_path.is_dir():
        keyset_path = keyset_path / "keyset.json"
    if not keyset_path.is_file():
        problems.append(f"--keyset {keyset_path} does not exist")
    pepper_path = Path(pepper) if pepper else key_dir / "pepper"
    if not pepper_path.is_file():
        problems.append(f"the pepper file {pepper_path} does not exist (give --pepper, or "
                        "--keyset as the key store folder)")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append("--redis takes a URL such as redis://127.0.0.1:6379/0")
    for proxy in trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"--trusted-proxy {proxy!r} is not an IP address or network")
    if (failures_per_id is not None and failures_per_id < 1) or failures_per_address < 1:
        problems.append("failure limits must be at least 1")
    if not 16 <= ipv6_prefix <= 128:
        problems.append(f"--ipv6-prefix {ipv6_prefix} is not a prefix length of 16 to 128")
    if hsts_max_age < 0:
        problems.append("--hsts-max-age must be 0 (off) or a number of seconds")
    if not 0 < port < 65536:
        problems.append(f"--port {port} is not a TCP port")
    relay = _check_org_settings(problems, index_path, database_url=database_url, smtp=smtp,
                                public_url=public_url, per_id=org_failures_per_id,
                                per_org=org_failures_per_org)
    if problems:
        raise ConfigError("; ".join(problems), hint="see `results verify-app --help`")
    return AppConfig(index_path, keyset_path, pepper_path, redis_url or None,
                     tuple(trusted_proxies), failures_per_id, failures_per_address, host, port,
                     ipv6_prefix, hsts_max_age,
                     database_url or None, org_approval, relay, mail_from or None,
                     (public_url or "").rstrip("/") or None, org_failures_per_id,
                     org_failures_per_org)


REDIS_URL_ENV = "RESULTS_REDIS_URL"
APP_ENV = {
    "index": "RESULTS_VERIFY_INDEX",  # OUT/private/verify.sqlite
    "keyset": "RESULTS_VERIFY_KEYSET",  # key store folder or keyset.json
    "pepper": "RESULTS_VERIFY_PEPPER",  # optional pepper file
    "trusted_proxies": "RESULTS_TRUSTED_PROXIES",  # comma-separated IPs or CIDRs
    "failures_per_id": "RESULTS_FAILURES_PER_ID",
    "failures_per_address": "RESULTS_FAILURES_PER_ADDRESS",
    "org_approval": "RESULTS_ORG_APPROVAL",  # "board": self-registrations wait for approval
    "smtp": "RESULTS_SMTP",  # HOST:PORT of the relay for confirmation e-mails
    "mail_from": "RESULTS_MAIL_FROM",
    "public_url": "RESULTS_PUBLIC_URL",
    "org_failures_per_id": "RESULTS_ORG_FAILURES_PER_ID",
    "org_failures_per_org": "RESULTS_ORG_FAILURES_PER_ORG",
    "ipv6_prefix": "RESULTS_IPV6_PREFIX",
    "hsts_max_age": "RESULTS_HSTS_MAX_AGE",
}


def app_config_from_env(environ: Mapping[str, str] | None = None) -> AppConfig:
    """Verification-app settings from RESULTS_* variables (for `uvicorn --factory`)."""
    env = os.environ if environ is None else environ
    problems = [f"set {APP_ENV[k]}" for k in ("index", "keyset") if not env.get(APP_ENV[k])]
    limits: dict[str, int | None] = {
        "failures_per_id": None, "failures_per_address": FAILURES_PER_ADDRESS,
        "ipv6_prefix": IPV6_PREFIX, "hsts_max_age": HSTS_MAX_AGE,
        "org_failures_per_id": ORG_FAILURES_PER_ID,
        "org_failures_per_org": ORG_FAILURES_PER_ORG}
    for name in limits:
        text = env.get(APP_ENV[name], "")
        if text and not (text.isascii() and text.isdigit()):
            problems.append(f"{APP_ENV[name]} must be a whole number")
        elif text:
            limits[name] = int(text)
    if problems:
        raise ConfigError("; ".join(problems), hint="see README: running the verification app")
    proxies = tuple(p.strip() for p in env.get(APP_ENV["trusted_proxies"], "").split(",")
                    if p.strip())
    return app_config(env[APP_ENV["index"]], env[APP_ENV["keyset"]],
                      pepper=env.get(APP_ENV["pepper"]) or None,
                      redis_url=env.get(REDIS_URL_ENV) or None, trusted_proxies=proxies,
                      failures_per_id=limits["failures_per_id"],
                      failures_per_address=limits["failures_per_address"] or 0,
                      ipv6_prefix=limits["ipv6_prefix"] or 0,
                      hsts_max_age=limits["hsts_max_age"] or 0,
                      org_failures_per_id=limits["org_failures_per_id"] or 0,
                      org_failures_per_org=limits["org_failures_per_org"] or 0,
                      database_url=env.get(DATABASE_ENV) or None,
                      org_approval=env.get(APP_ENV["org_approval"], "") == "board",
                      smtp=env.get(APP_ENV["smtp"]) or None,
                      mail_from=env.get(APP_ENV["mail_from"]) or None,
                      public_url=env.get(APP_ENV["public_url"]) or None)


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


def orgs_database(database: str | None, index: str | None,
                  environ: Mapping[str, str] | None = None) -> str:
    """The organisations database `results orgs` works on: --database, RESULTS_DATABASE_URL,
    or the SQLite file beside --index."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    url = database or env.get(DATABASE_ENV) or ""
    index_path = Path(index) if index else None
    if not url and index_path is None:
        problems.append(f"give --database URL, --index FILE or set {DATABASE_ENV}")
    elif not url and index_path is not None:
        url = sqlite_beside(index_path)
    if url:
        check_database(url, index_path, problems)
    if problems:
        raise ConfigError("; ".join(problems), hint="see `results orgs --help`")
    return url
