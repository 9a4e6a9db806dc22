"""The verification app's endpoints: one function per route, over ``request.app.state``."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from results_online.verify_app.lookup import MAX_FIELD
from results_online.verify_app.openapi import openapi
from results_online.verify_app.orgs.endpoints import Orgs
from results_online.verify_app.state import FAILURE, AppState
from results_online.web import app_headers

log = logging.getLogger("results_online.verify_app")

MAX_BODY = 4096  # bytes of a JSON request


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.results
    return state


async def form(request: Request) -> Response:
    """GET /: the ID + secret form."""
    return _state(request).pages.render(200)


async def verify_form(request: Request) -> Response:
    """POST /verify: the form's HTML result."""
    state = _state(request)
    try:
        data = await request.form()
    except (ValueError, UnicodeError):  # a body no browser sends
        data = None
    blank = {"", None}
    values = {} if data is None else {
        k: v for k in (*PROOFS, "candidate_id") if (v := data.get(k)) not in blank}
    typed = values.get("candidate_id")
    # The ID is given back in the form after a failure; the secret never is.
    kept = str(typed) if _text(typed) else ""
    fields = _fields(values)
    if fields is None:
        return state.pages.render(400, failed=True, candidate_id=kept,
                                  failure="Enter the candidate ID and either the share code "
                                  "or the secret number.")
    found = await _attempt(request, *fields)
    return state.pages.render(200, statements=found, failed=not found, failure=FAILURE,
                              candidate_id="" if found else kept)


async def verify_api(request: Request) -> Response:
    """POST /api/verify: the JSON check, with a share code or a secret number."""
    body = await _json_object(request)
    if body is None:
        return _bad_request()
    fields = _fields(body)
    if fields is None:
        return _unprocessable("candidate_id and exactly one of share_code (preferred) or "
                              f"secret_number are required: strings of 1 to {MAX_FIELD} "
                              "characters")
    found = await _attempt(request, *fields)
    if not found:
        return JSONResponse({"match": False, "message": FAILURE})
    return JSONResponse({"match": True, "statements": list(found)})


async def _attempt(request: Request, candidate_id: str, proof: str, value: str
                   ) -> tuple[dict[str, object], ...]:
    verifier = _state(request).verifier
    if proof == "share_code":
        return await verifier.attempt_share(request.scope, candidate_id, value)
    return await verifier.attempt(request.scope, candidate_id, value)


async def status_api(request: Request) -> Response:
    """POST /api/status: valid, superseded or withdrawn, by statement id."""
    body = await _json_object(request)
    if body is None:
        return _bad_request()
    sid = body.get("statement_id")
    if not _text(sid):
        return _unprocessable("statement_id is a required string, e.g. ABCD-EFGH-JKMN-PQRS")
    state = _state(request)
    answer = state.index.status(str(sid))
    if answer is None:
        return JSONResponse({"status": "unknown"}, status_code=404)
    return JSONResponse({"statement_id": answer.statement_id, "status": answer.status,
                         "date": answer.date, "centre": answer.centre})


async def healthz(request: Request) -> Response:
    """GET /healthz: the index answers, and the limiter storage and the organisations
    database answer."""
    state = _state(request)
    orgs: Orgs = request.app.state.orgs
    ok = (state.index.status("0000000000000000") is None and await _safe_health(state)
          and await orgs.healthy())
    return JSONResponse({"status": "ok" if ok else "unavailable"},
                        status_code=200 if ok else 503)


async def openapi_json(request: Request) -> Response:
    """GET /openapi.json."""
    return JSONResponse(openapi())


async def keyset(request: Request) -> Response:
    """GET /.well-known/results-keys.json: the public keyset."""
    return Response(_state(request).keyset_json, media_type="application/json")


async def catalogue(request: Request) -> Response:
    """GET /catalogue/<YYYY-MM>.json: the series' tests and papers, as the site publishes it."""
    path, text = _state(request).index.catalogue
    if not text or request.url.path != "/" + path:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return Response(text, media_type="application/json")


async def help_page(request: Request) -> Response:
    """GET /help: what each check proves and how to read a result."""
    return Response(_state(request).pages.help_page, media_type="text/html; charset=utf-8")


async def qr_page(request: Request) -> Response:
    """GET /q: the QR verify page, from the app's own origin."""
    return Response(_state(request).pages.qr_page, media_type="text/html; charset=utf-8")


async def wording(request: Request) -> Response:
    """GET /wording.json: the words the browser pages use (results_online.wording)."""
    return Response(_state(request).pages.wording, media_type="application/json")


async def asset(request: Request) -> Response:
    """GET /<asset>: the CSS and JS the pages load."""
    return _state(request).pages.asset(request.path_params["name"])


async def unavailable(request: Request, exc: Exception) -> Response:
    """The limiter's storage failed: answer 503, never a guess."""
    log.error("limiter storage failed: %s", type(exc).__name__)
    return JSONResponse({"error": "unavailable", "message": "try again in a minute"},
                        status_code=503)


async def server_error(request: Request, exc: Exception) -> Response:
    """Any other failure: a bare 500 that says nothing."""
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return PlainTextResponse("Internal Server Error", status_code=500, headers=app_headers())


PROOFS = ("share_code", "secret_number")


def _fields(body: Mapping[str, object]) -> tuple[str, str, str] | None:
    """(candidate ID, which proof, its value) if the body holds one ID and exactly one proof."""
    given = [p for p in PROOFS if p in body]
    if len(given) != 1:
        return None
    candidate_id, value = body.get("candidate_id"), body[given[0]]
    if not (_text(candidate_id) and _text(value)):
        return None
    return str(candidate_id), given[0], str(value)


def _text(value: object) -> bool:
    """A string of 1 to MAX_FIELD characters that UTF-8 can carry (no lone surrogates)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_FIELD:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def _json_object(request: Request) -> Mapping[str, object] | None:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:  # the API's bodies are tiny; refuse to buffer more
            return None
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # also bad UTF-8, huge numbers, deep nesting
        return None
    return body if isinstance(body, dict) else None


async def _safe_health(state: AppState) -> bool:
    try:
        return await state.throttle.healthy()
    except Exception:  # the storage's own errors vary by backend
        return False


def _bad_request() -> Response:
    return JSONResponse({"error": "bad_request", "message": "send a JSON object"},
                        status_code=400)


def _unprocessable(message: str) -> Response:
    return JSONResponse({"error": "invalid", "message": message}, status_code=422)
