"""The organisations' plain HTML pages: register, confirm, and bulk check by pasting a CSV.

Plain form POSTs, no script at all, so they work under the app's strict CSP. The API
key goes in the form body (never a URL); the bulk answer is a CSV download.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from results_online.errors import MailError
from results_online.verify_app.orgs.accounts import Registrar, valid_registration
from results_online.verify_app.orgs.checks import OrgVerifier
from results_online.verify_app.orgs.http import csv_download, guarded, read_form
from results_online.verify_app.orgs.rows import (
    MAX_BATCH_BYTES,
    MAX_ROWS,
    BadBatch,
    from_csv,
    results_csv,
)
from results_online.verify_app.orgs.store import Caller
from results_online.verify_app.throttle import Network, client_address
from results_online.web import environment

TEMPLATE = "orgs.html"
BAD_FORM = "The form could not be read. Use the form on this page."
UNAVAILABLE = "The service for organisations is unavailable just now. Try again in a minute."
CallerOf = Callable[[str | None], Awaitable[Caller | Response]]
_DEFAULTS: dict[str, Any] = {"problem": None, "open": False, "name": "", "email": "",
                             "org": None, "key": None, "key_id": None, "max_rows": MAX_ROWS}


def render(status: int, view: str, **context: Any) -> Response:
    """One of the organisations' pages."""
    html = environment().get_template(TEMPLATE).render(_DEFAULTS | context, view=view)
    return HTMLResponse(html, status_code=status)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def routes(registrar: Registrar, verifier: OrgVerifier, caller_of: CallerOf,
           trusted: tuple[Network, ...]) -> list[BaseRoute]:
    """The page routes under /orgs (``trusted``: proxies whose X-Forwarded-For is believed)."""

    async def home(request: Request) -> Response:
        return render(200, "home", open=registrar.open)

    async def register_form(request: Request) -> Response:
        return render(200 if registrar.open else 503, "register", open=registrar.open)

    async def register(request: Request) -> Response:
        if not registrar.open:
            return render(503, "register", open=False)
        form = await read_form(request, files=0, fields=4, part_size=4096)
        if form is None:
            return render(400, "register", open=True, problem=BAD_FORM)
        name, email = _text(form, "name"), _text(form, "email")
        problem = valid_registration(name, email)
        if problem:
            return render(400, "register", open=True, problem=problem, name=name, email=email)
        if not await verifier.budget.may_register(client_address(request.scope, trusted)):
            return render(429, "register", open=True, name=name, email=email,
                          problem="Too many registrations from your network today. "
                                  "Try again tomorrow.")
        try:
            await run_in_threadpool(registrar.register, name, email)
        except MailError:
            return render(503, "register", open=True, name=name, email=email,
                          problem="The confirmation e-mail could not be sent. "
                                  "Try again in a few minutes.")
        return render(200, "registered", email=email)

    async def confirm_form(request: Request) -> Response:
        return render(200, "confirm")

    async def confirm(request: Request) -> Response:
        form = await read_form(request, files=0, fields=2, part_size=1024)
        if form is None:
            return render(400, "confirm", problem=BAD_FORM)
        done = await run_in_threadpool(registrar.confirm, _text(form, "code")[:100])
        if done is None:
            return render(400, "confirm", problem="This code is not valid: it may be mistyped, "
                                                  "used already, or more than two days old.")
        org, key = done
        return render(200, "confirmed", org=org, key=key.text, key_id=key.key_id)

    async def bulk_form(request: Request) -> Response:
        return render(200, "bulk")

    async def bulk(request: Request) -> Response:
        form = await read_form(request, files=1, fields=4, part_size=MAX_BATCH_BYTES)
        if form is None:
            return render(400, "bulk", problem=f"{BAD_FORM} The CSV may be over "
                                               f"{MAX_BATCH_BYTES // 1024} KiB.")
        who = await caller_of(_text(form, "api_key").strip() or None)
        if not isinstance(who, Caller):
            return render(who.status_code, "bulk",
                          problem="This API key is not valid, revoked, or its organisation "
                                  "is not approved yet.")
        upload = form.get("file")
        raw = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            rows = from_csv(raw if raw.strip() else _text(form, "csv").encode())
        except BadBatch as exc:
            return render(400, "bulk", problem=f"The CSV could not be checked: {exc}.")
        answers = await verifier.check(who, rows)
        return csv_download(results_csv(answers, rows), "results")

    def down() -> Response:
        return render(503, "home", open=registrar.open, problem=UNAVAILABLE)

    return [
        Route("/orgs", home, methods=["GET"]),
        Route("/orgs/register", register_form, methods=["GET"]),
        Route("/orgs/register", guarded(register, down), methods=["POST"]),
        Route("/orgs/confirm", confirm_form, methods=["GET"]),
        Route("/orgs/confirm", guarded(confirm, down), methods=["POST"]),
        Route("/orgs/bulk", bulk_form, methods=["GET"]),
        Route("/orgs/bulk", guarded(bulk, down), methods=["POST"]),
    ]
