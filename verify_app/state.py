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
from results_online.keyset import load_keyset
from results_online.verify_app.lookup import VerificationIndex
from results_online.verify_app.throttle import Network, Throttle, client_address, trusted_networks
from results_online.web import app_csp, environment, read_asset
from results_online.wording import STATUS_WORDS, wording_json

log = logging.getLogger("results_online.verify_app")

FAILURE = ("No result matches this candidate ID and secret number. Check both and try again; "
           "after repeated failures, checks for an ID are paused for a day.")
# Static files of results_online.templates served from the app's origin.
ASSETS = {"verify_app.css": "text/css", "verify.js": "text/javascript",
          "verify_status.js": "text/javascript", "token.js": "text/javascript",
          "wording.js": "text/javascript", "site.css": "text/css",
          "textsize.js": "text/javascript"}


class Verifier:
    """The ID + secret check with its failure limits."""

    def __init__(self, index: VerificationIndex, throttle: Throttle,
                 trusted: tuple[Network, ...]) -> None:
        """Check against ``index``, counting failures in ``throttle``."""
        self.index = index
        self.throttle = throttle
        self.trusted = trusted

    async def attempt(self, scope: Scope, candidate_id: str, secret: str
                      ) -> tuple[dict[str, object], ...]:
        """The matching statements, or () for any failure (unknown, wrong, or locked)."""
        address = client_address(scope, self.trusted)
        check = self.index.check(candidate_id, secret)
        async with self.throttle.lock(check.key):
            allowed = await self.throttle.allowed(check.key, address)
            if check.matched and allowed:
                log.info("verify: match")
                return check.statements
            await self.throttle.failed(check.key, address)
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
    throttle = Throttle(config.failures_per_id, config.failures_per_address, config.redis_url)
    verifier = Verifier(index, throttle, trusted_networks(config.trusted_proxies))
    return AppState(index, throttle, verifier, Pages(index.about), keyset_json)


def _read_pepper(config: AppConfig) -> bytes:
    try:
        pepper = config.pepper_path.read_bytes()
    except OSError:
        raise ConfigError(f"cannot read the pepper file {config.pepper_path}") from None
    if len(pepper) != 32:
        raise ConfigError(f"the pepper file {config.pepper_path} is damaged (not 32 bytes)")
    return pepper
