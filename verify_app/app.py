"""The verification app: ``create_app(config)`` builds it; nothing is global.

Routes: ``GET /`` form, ``POST /verify`` (HTML) and ``POST /api/verify`` (JSON)
with candidate ID + secret number, ``POST /api/status`` with a statement id,
``GET /q`` the QR verify page, the public keyset, ``/healthz``, ``/openapi.json``.
The status check is a POST too, although a statement id is not secret: then no
identifier a verifier handles ever lands in a URL, an access log or a cache.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from jinja2 import Environment
from limits.errors import StorageError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from results_online.config import AppConfig
from results_online.errors import ConfigError, KeyStoreError
from results_online.keyset import load_keyset
from results_online.verify_app.lookup import MAX_FIELD, VerificationIndex
from results_online.verify_app.openapi import openapi
from results_online.verify_app.throttle import Network, Throttle, client_address, trusted_networks
from results_online.wording import environment, read_asset

log = logging.getLogger("results_online.verify_app")

FAILURE = ("No result matches this candidate ID and secret number. Check both and try again; "
           "after repeated failures, checks for an ID are paused for a day.")
STATUS_WORDS = {"valid": "Valid", "superseded": "Superseded by a newer statement",
                "withdrawn": "Withdrawn by the awarding body"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_RAW_HEADERS = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in SECURITY_HEADERS.items()]
# Static files of results_online.templates served from the app's origin.
ASSETS = {"verify_app.css": "text/css", "verify.js": "text/javascript",
          "verify_status.js": "text/javascript",
          "verify.css": "text/css", "site.css": "text/css"}
VERIFY_PAGE = "verify.html"
MAX_BODY = 4096  # bytes of a JSON request


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Appended raw (no handler sets these names): cheaper than MutableHeaders.
                message["headers"] = [*message.get("headers", ()), *_RAW_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


def create_app(config: AppConfig) -> Starlette:
    """The verification app for one index; raise ConfigError if it cannot start."""
    pepper = _read_pepper(config)
    try:
        keyset_json = load_keyset(config.keyset_path).to_json()
    except KeyStoreError as exc:
        raise ConfigError(str(exc), hint="give --keyset the key store folder or "
                                         "its keyset.json") from None
    index = VerificationIndex(config.index_path, pepper)
    throttle = Throttle(config.failures_per_id, config.failures_per_address, config.redis_url)
    verifier = Verifier(index, throttle, trusted_networks(config.trusted_proxies))
    env = environment()
    pages = _Pages(env)

    async def form(request: Request) -> Response:
        return pages.render(200)

    async def verify_form(request: Request) -> Response:
        data = await request.form()
        fields = _two_fields(data.get("candidate_id"), data.get("secret_number"))
        if fields is None:
            return pages.render(400, failed=True,
                                failure="Enter both the candidate ID and the secret number.")
        found = await verifier.attempt(request.scope, *fields)
        return pages.render(200, statements=found, failed=not found, failure=FAILURE)

    async def verify_api(request: Request) -> Response:
        body = await _json_object(request)
        if body is None:
            return _bad_request()
        fields = _two_fields(body.get("candidate_id"), body.get("secret_number"))
        if fields is None:
            return _unprocessable("candidate_id and secret_number are required strings "
                                  f"of 1 to {MAX_FIELD} characters")
        found = await verifier.attempt(request.scope, *fields)
        if not found:
            return JSONResponse({"match": False, "message": FAILURE})
        return JSONResponse({"match": True, "statements": list(found)})

    async def status_api(request: Request) -> Response:
        body = await _json_object(request)
        if body is None:
            return _bad_request()
        sid = body.get("statement_id")
        if not isinstance(sid, str) or not 1 <= len(sid) <= MAX_FIELD:
            return _unprocessable("statement_id is a required string, e.g. ABCD-EFGH-JKMN-PQRS")
        answer = index.status(sid)
        if answer is None:
            return JSONResponse({"status": "unknown"}, status_code=404)
        return JSONResponse({"statement_id": answer.statement_id, "status": answer.status,
                             "date": answer.date})

    async def healthz(request: Request) -> Response:
        ok = index.status("0000000000000000") is None and await _safe_health(throttle)
        return JSONResponse({"status": "ok" if ok else "unavailable"},
                            status_code=200 if ok else 503)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi())

    async def keyset(request: Request) -> Response:
        return Response(keyset_json, media_type="application/json")

    async def qr_page(request: Request) -> Response:
        return pages.static(VERIFY_PAGE, "text/html; charset=utf-8")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return PlainTextResponse("Not Found", status_code=404)
        return pages.static(name, ASSETS[name])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        index.close()

    routes = [
        Route("/", form, methods=["GET"]),
        Route("/verify", verify_form, methods=["POST"]),
        Route("/api/verify", verify_api, methods=["POST"]),
        Route("/api/status", status_api, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/.well-known/results-keys.json", keyset, methods=["GET"]),
        Route("/q", qr_page, methods=["GET"]),
        Route("/{name:str}", asset, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Exception: _server_error,
                                        StorageError: _unavailable})
    app.add_middleware(SecurityHeaders)
    return app


class _Pages:
    """The HTML pages and static assets, read once."""

    def __init__(self, env: Environment) -> None:
        self.template = env.get_template("verify_app.html")
        self.cache: dict[str, bytes | None] = {}

    def render(self, status: int, **context: Any) -> Response:
        values: dict[str, Any] = {"statements": (), "failed": False, "failure": FAILURE,
                                  "status_words": STATUS_WORDS}
        html = self.template.render(values | context)
        return HTMLResponse(html, status_code=status)

    def static(self, name: str, media_type: str) -> Response:
        if name not in self.cache:
            try:
                self.cache[name] = read_asset(name).encode()
            except (FileNotFoundError, OSError):
                self.cache[name] = None
        body = self.cache[name]
        if body is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(body, media_type=media_type)


def _read_pepper(config: AppConfig) -> bytes:
    try:
        pepper = config.pepper_path.read_bytes()
    except OSError:
        raise ConfigError(f"cannot read the pepper file {config.pepper_path}") from None
    if len(pepper) != 32:
        raise ConfigError(f"the pepper file {config.pepper_path} is damaged (not 32 bytes)")
    return pepper


def _two_fields(a: object, b: object) -> tuple[str, str] | None:
    if not all(isinstance(v, str) and 1 <= len(v) <= MAX_FIELD for v in (a, b)):
        return None
    return str(a), str(b)


async def _json_object(request: Request) -> Mapping[str, object] | None:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:  # the API's bodies are tiny; refuse to buffer more
            return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _safe_health(throttle: Throttle) -> bool:
    try:
        return await throttle.healthy()
    except Exception:  # the storage's own errors vary by backend
        return False


def _bad_request() -> Response:
    return JSONResponse({"error": "bad_request", "message": "send a JSON object"},
                        status_code=400)


def _unprocessable(message: str) -> Response:
    return JSONResponse({"error": "invalid", "message": message}, status_code=422)


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.error("limiter storage failed: %s", type(exc).__name__)
    return JSONResponse({"error": "unavailable", "message": "try again in a minute"},
                        status_code=503)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return PlainTextResponse("Internal Server Error", status_code=500, headers=SECURITY_HEADERS)


def from_environment() -> Starlette:
    """The app configured from RESULTS_* variables: `uvicorn --factory` on this."""
    from results_online.config import app_config_from_env

    return create_app(app_config_from_env())
