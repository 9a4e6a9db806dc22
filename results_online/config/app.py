"""The verification app and `results orgs`: the index, the limits, the organisations."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from results_online.config.parse import parse_smtp
from results_online.errors import ConfigError

FAILURES_PER_ADDRESS = 100  # default: failed checks per client address per day (each proof)
IPV6_PREFIX = 64  # default: IPv6 clients share a budget per /64
HSTS_MAX_AGE = 31_536_000  # default: a year; sent only on requests that came over HTTPS
APP_PORT = 8001  # default port of the verification app
SITE_PORT = 8000  # default port of `results serve`
LOCALHOST = "127.0.0.1"
ORG_FAILURES_PER_ID = 10  # default: one organisation's failed checks per candidate ID per day
ORG_FAILURES_PER_ORG = 1000  # default: one organisation's failed checks per day
# default: seconds an app process keeps a checked API key before asking the database again;
# so a key or organisation revoked elsewhere stops working within this time (0: ask each time)
ORG_KEY_CACHE_SECONDS = 10


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
    org_key_cache_seconds: int = ORG_KEY_CACHE_SECONDS

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


def _check_org_settings(problems: list[str], index_path: Path, *, database_url: str | None,
                        smtp: str | None, public_url: str | None, per_id: int,
                        per_org: int, key_cache_seconds: int) -> tuple[str, int] | None:
    """Check the registered organisations' settings; the mail relay if one is given."""
    if database_url:
        check_database(database_url, index_path, problems)
    if public_url and not public_url.startswith(("https://", "http://")):
        problems.append(f"--public-url {public_url!r} is not an http(s) URL")
    if per_id < 1 or per_org < 1:
        problems.append("organisation failure limits must be at least 1")
    if key_cache_seconds < 0:
        problems.append("the API-key cache time must be 0 (off) or a number of seconds")
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
    org_key_cache_seconds: int = ORG_KEY_CACHE_SECONDS,
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
                                per_org=org_failures_per_org,
                                key_cache_seconds=org_key_cache_seconds)
    if problems:
        raise ConfigError("; ".join(problems), hint="see `results verify-app --help`")
    return AppConfig(index_path, keyset_path, pepper_path, redis_url or None,
                     tuple(trusted_proxies), failures_per_id, failures_per_address, host, port,
                     ipv6_prefix, hsts_max_age,
                     database_url or None, org_approval, relay, mail_from or None,
                     (public_url or "").rstrip("/") or None, org_failures_per_id,
                     org_failures_per_org, org_key_cache_seconds)


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
    "org_key_cache_seconds": "RESULTS_ORG_KEY_CACHE_SECONDS",
}


def app_config_from_env(environ: Mapping[str, str] | None = None) -> AppConfig:
    """Verification-app settings from RESULTS_* variables (for `uvicorn --factory`)."""
    env = os.environ if environ is None else environ
    problems = [f"set {APP_ENV[k]}" for k in ("index", "keyset") if not env.get(APP_ENV[k])]
    limits: dict[str, int | None] = {
        "failures_per_id": None, "failures_per_address": FAILURES_PER_ADDRESS,
        "ipv6_prefix": IPV6_PREFIX, "hsts_max_age": HSTS_MAX_AGE,
        "org_failures_per_id": ORG_FAILURES_PER_ID,
        "org_failures_per_org": ORG_FAILURES_PER_ORG,
        "org_key_cache_seconds": ORG_KEY_CACHE_SECONDS}
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
                      org_key_cache_seconds=limits["org_key_cache_seconds"] or 0,
                      database_url=env.get(DATABASE_ENV) or None,
                      org_approval=env.get(APP_ENV["org_approval"], "") == "board",
                      smtp=env.get(APP_ENV["smtp"]) or None,
                      mail_from=env.get(APP_ENV["mail_from"]) or None,
                      public_url=env.get(APP_ENV["public_url"]) or None)


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
