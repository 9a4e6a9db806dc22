"""The one place configuration is read and validated: CLI arguments plus environment.

Every problem is collected and reported in one ``ConfigError``; what comes out
is frozen and typed. No other module reads ``os.environ``. One module per
command family (``build``, ``app``, ``release``), plus ``parse`` for the values
they share; this package's names are theirs, re-exported.
"""

from results_online.config.app import (
    APP_ENV,
    APP_PORT,
    DATABASE_ENV,
    FAILURES_PER_ADDRESS,
    HSTS_MAX_AGE,
    IPV6_PREFIX,
    LOCALHOST,
    ORG_FAILURES_PER_ID,
    ORG_FAILURES_PER_ORG,
    ORG_KEY_CACHE_SECONDS,
    ORGS_DB_FILE,
    REDIS_URL_ENV,
    SITE_PORT,
    AppConfig,
    app_config,
    app_config_from_env,
    check_database,
    orgs_database,
    sqlite_beside,
)
from results_online.config.build import (
    BATCH_SIZE,
    PASSPHRASE_ENV,
    BuildConfig,
    build_config,
    passphrase_from,
)
from results_online.config.parse import parse_day, parse_now, parse_smtp
from results_online.config.release import (
    DKIM_SELECTOR,
    DKIM_SELECTOR_ENV,
    NotifyConfig,
    PublishConfig,
    notify_config,
    publish_config,
)

__all__ = [
    "APP_ENV", "APP_PORT", "BATCH_SIZE", "DATABASE_ENV", "DKIM_SELECTOR", "DKIM_SELECTOR_ENV",
    "FAILURES_PER_ADDRESS", "HSTS_MAX_AGE", "IPV6_PREFIX", "LOCALHOST", "ORGS_DB_FILE",
    "ORG_FAILURES_PER_ID", "ORG_FAILURES_PER_ORG", "ORG_KEY_CACHE_SECONDS", "PASSPHRASE_ENV",
    "REDIS_URL_ENV",
    "SITE_PORT", "AppConfig", "BuildConfig", "NotifyConfig", "PublishConfig", "app_config",
    "app_config_from_env", "build_config", "check_database", "notify_config", "orgs_database",
    "parse_day", "parse_now", "parse_smtp", "passphrase_from", "publish_config",
    "sqlite_beside",
]
