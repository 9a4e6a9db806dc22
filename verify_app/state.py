"""What the verification app holds while it runs: one explicit state, built from its config."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from jinja2 import Template
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import Scope

from results_online.config import AppConfig
from results_online.errors import ConfigError, KeyStoreError
from results_online.index import GUESS_TARGET, SecretBudget
from results_online.keyset import load_keyset
from results_online.verify_app.lookup import VerificationIndex
from results_online.verify_app.throttle import Network, Throttle, client_address, trusted_networks
from results_online.web import app_csp, environment, read_asset
from results_online.wording import STATUS_WORDS, wording_json

log = logging.getLogger("results_online.verify_app")

FAILURE = ("No result matches this candidate ID with this share code or secret number. Check "
           "both and try again. After repeated failures, secret-number checks for an ID are "
           "paused for a while; share codes are never paused, so ask the candidate for theirs.")
# Static files of results_online.templates served from the app's origin.
ASSETS = {"verify_app.css": "text/css", "verify.js": "text/javascript",
          "verify_status.js": "text/javascript", "token.js": "text/javascript",
          "wording.js": "text/javascript", "site.css": "text/css",
          "textsize.js": "text/javascript"}


class Verifier:
    """The ID + proof checks with their failure limits.

    The order is fixed and the same for every outcome: the limiter is asked first,
    with only the ID's keyed hash and the address (never the proof); then the index
    does its constant work (in memory: microseconds of CPU, no blocking call); only
    then are the two answers combined, and any failure is counted. A locked ID still
    costs the full check.
    """

    def __init__(self, index: VerificationIndex, throttle: Throttle,
                 trusted: tuple[Network, ...], ipv6_prefix: int) -> None:
        """Check against ``index``, counting failures in ``throttle``."""
        self.index = index
        self.throttle = throttle
        self.trusted = trusted
        self.ipv6_prefix = ipv6_prefix

    async def attempt(self, scope: Scope, candidate_id: str, secret: str
                      ) -> tuple[dict[str, object], ...]:
        """The matching statements, or () for any failure (unknown, wrong, or locked)."""
        address = client_address(scope, self.trusted, self.ipv6_prefix)
        key = self.index.key(candidate_id)  # one HMAC of a short ID: microseconds
        allowed = await self.throttle.reserve(key, address)
        matched = False
        try:
            check = self.index.check(candidate_id, secret, key)
            matched = check.matched and allowed  # both read, whatever ``allowed`` is
        finally:
            await self.throttle.settle(key, address, failed=not matched)
        if matched:
            log.info("verify: match")
            return check.statements
        log.info("verify: no match")
        return ()

    async def attempt_share(self, scope: Scope, candidate_id: str, code: str
                            ) -> tuple[dict[str, object], ...]:
        """The statement a share code opens, or (); failures count per address only."""
        address = client_address(scope, self.trusted, self.ipv6_prefix)
        allowed = await self.throttle.share_allowed(address)
        check = self.index.check_share(candidate_id, code)
        if check.matched and allowed:
            log.info("verify: share code match")
            return check.statements
        await self.throttle.share_failed(address)
        log.info("verify: no match")
        return ()


class Pages:
    """The HTML pages and static assets, rendered or read once."""

    def __init__(self, about: dict[str, str] | None = None) -> None:
        """Load the templates; ``about`` names the board, its contact and its site."""
        env = environment()
        self.about = {"board": "", "contact": "", "site_url": ""} | (about or {})
        self.template: Template = env.get_template("verify_app.html")
        self.help_page = env.get_template("verify_help.html").render(
            about=self.about, status_words=STATUS_WORDS).encode()
        self.qr_page = env.get_template("verify.html").render(
            csp=app_csp(header=False), about=self.about).encode()
        self.wording = wording_json().encode()
        self.cache: dict[str, bytes | None] = {}

    def render(self, status: int, **context: Any) -> Response:
        """The form page, with a result or a failure."""
        values: dict[str, Any] = {"statements": (), "failed": False, "failure": FAILURE,
                                  "status_words": STATUS_WORDS, "about": self.about,
                                  "candidate_id": ""}
        return HTMLResponse(self.template.render(values | context), status_code=status)

    def asset(self, name: str) -> Response:
        """A static asset the app serves, or 404."""
        if name not in ASSETS:
            return PlainTextResponse("Not Found", status_code=404)
        if name not in self.cache:
            try:
                self.cache[name] = read_asset(name).encode()
            except OSError:
                self.cache[name] = None
        body = self.cache[name]
        if body is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(body, media_type=ASSETS[name])


@dataclass(frozen=True)
class AppState:
    """Everything the endpoints use: the index, the limits, the pages and the keyset."""

    index: VerificationIndex
    throttle: Throttle
    verifier: Verifier
    pages: Pages
    keyset_json: str

    def close(self) -> None:
        """Release the index."""
        self.index.close()


def open_state(config: AppConfig) -> AppState:
    """Open what the app needs; raise ConfigError if it cannot start."""
    pepper = _read_pepper(config)
    try:
        keyset_json = load_keyset(config.keyset_path).to_json()
    except KeyStoreError as exc:
        raise ConfigError(str(exc), hint="give --keyset the key store folder or "
                                         "its keyset.json") from None
    index = VerificationIndex(config.index_path, pepper)
    budget = id_budget(config, index)
    throttle = Throttle(budget.failures, config.failures_per_address, config.redis_url,
                        id_window_days=budget.days)
    verifier = Verifier(index, throttle, trusted_networks(config.trusted_proxies),
                        config.ipv6_prefix)
    return AppState(index, throttle, verifier, Pages(index.about), keyset_json)


def id_budget(config: AppConfig, index: VerificationIndex) -> SecretBudget:
    """The per-ID secret-number budget: the index's, or ``failures_per_id`` a day if given."""
    if config.failures_per_id is None:
        budget = index.budget
    else:
        budget = SecretBudget(config.failures_per_id, 1)
    chance = budget.chance(index.shortest_secret)
    log.info("secret-number budget: %s per ID; %.2f%% a year against %d-digit secrets",
             budget.describe(), chance * 100, index.shortest_secret)
    if chance >= GUESS_TARGET:
        log.warning("the secret-number budget (%s per ID) gives a guesser %.1f%% a year "
                    "against the index's %d-digit secrets: above the 1%% target",
                    budget.describe(), chance * 100, index.shortest_secret)
    return budget


def _read_pepper(config: AppConfig) -> bytes:
    try:
        pepper = config.pepper_path.read_bytes()
    except OSError:
        raise ConfigError(f"cannot read the pepper file {config.pepper_path}") from None
    if len(pepper) != 32:
        raise ConfigError(f"the pepper file {config.pepper_path} is damaged (not 32 bytes)")
    return pepper
