"""The verification app: ``create_app(config)`` assembles it; nothing is global.

Routes: ``GET /`` form, ``POST /verify`` (HTML) and ``POST /api/verify`` (JSON)
with candidate ID + secret number, ``POST /api/status`` with a statement id,
``GET /q`` the QR verify page, the public keyset, ``/wording.json``, ``/healthz``,
``/openapi.json``.
The status check is a POST too, although a statement id is not secret: then no
identifier a verifier handles ever lands in a URL, an access log or a cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits.errors import StorageError
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from results_online.config import AppConfig
from results_online.keyset import KEYSET_PATH
from results_online.verify_app import endpoints as ep
from results_online.verify_app.orgs.endpoints import mount as mount_orgs
from results_online.verify_app.state import open_state
from results_online.verify_app.throttle import Network, is_https, trusted_networks
from results_online.web import app_headers, hsts_header

# The busiest first: each request is matched against the routes in order.
HOT_ROUTES = [
    Route("/api/verify", ep.verify_api, methods=["POST"]),
    Route("/api/status", ep.status_api, methods=["POST"]),
]
ROUTES = [
    Route("/", ep.form, methods=["GET"]),
    Route("/verify", ep.verify_form, methods=["POST"]),
    Route("/healthz", ep.healthz, methods=["GET"]),
    Route("/openapi.json", ep.openapi_json, methods=["GET"]),
    Route(f"/{KEYSET_PATH}", ep.keyset, methods=["GET"]),
    Route("/q", ep.qr_page, methods=["GET"]),
    Route("/wording.json", ep.wording, methods=["GET"]),
    Route("/help", ep.help_page, methods=["GET"]),
    Route("/catalogue/{name:str}", ep.catalogue, methods=["GET"]),
    Route("/{name:str}", ep.asset, methods=["GET"]),
]


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response.

    Strict-Transport-Security only on requests that came over HTTPS: directly, or as a
    trusted proxy says in X-Forwarded-Proto. Never on plain-http localhost.
    """

    def __init__(self, app: ASGIApp, hsts_max_age: int = 0,
                 trusted: tuple[Network, ...] = ()) -> None:
        """Wrap ``app``."""
        self.app = app
        self.raw = _raw(app_headers())
        self.raw_https = self.raw + _raw(hsts_header(hsts_max_age))
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.raw_https if is_https(scope, self.trusted) else self.raw

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Appended raw (no handler sets these names): cheaper than MutableHeaders.
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(config: AppConfig) -> Starlette:
    """The verification app for one index; raise ConfigError if it cannot start."""
    state = open_state(config)
    orgs = mount_orgs(config, state.index)  # registered organisations: /api/v1/…, /orgs/…

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        orgs.close()
        state.close()

    # The organisations' routes before ROUTES, whose last one takes any /<name>.
    app = Starlette(routes=[*HOT_ROUTES, *orgs.routes, *ROUTES], lifespan=lifespan,
                    exception_handlers={Exception: ep.server_error,
                                        StorageError: ep.unavailable})
    app.state.results = state
    app.state.orgs = orgs
    app.add_middleware(SecurityHeaders, hsts_max_age=config.hsts_max_age,
                       trusted=trusted_networks(config.trusted_proxies))
    return app


def from_environment() -> Starlette:
    """The app configured from RESULTS_* variables: `uvicorn --factory` on this."""
    from results_online.config import app_config_from_env

    return create_app(app_config_from_env())
