"""The organisations' JSON API, version 1, under /api/v1 (Authorization: Bearer <key>).

``POST /api/v1/verify`` one check; ``POST /api/v1/verify/batch`` up to 1,000 (a JSON
list, or CSV as text/csv or a multipart ``file``); ``POST /api/v1/keys/rotate`` and
``/revoke``; ``GET /api/v1/audit`` the caller's audit log as CSV. Every database
call runs in the threadpool, but the checks' audit writes to PostgreSQL, which are
async (``pgaudit``).
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from results_online.config import AppConfig
from results_online.crypto import Random
from results_online.verify_app.lookup import MAX_FIELD, VerificationIndex
from results_online.verify_app.orgs import pages
from results_online.verify_app.orgs.accounts import Registrar
from results_online.verify_app.orgs.audit import write_audit_csv
from results_online.verify_app.orgs.budget import OrgBudget
from results_online.verify_app.orgs.checks import MATCH, OrgVerifier
from results_online.verify_app.orgs.http import (
    api_unavailable,
    csv_download,
    error,
    guarded,
    read_body,
    read_form,
)
from results_online.verify_app.orgs.keys import bearer, new_key
from results_online.verify_app.orgs.mail import Mailer
from results_online.verify_app.orgs.pgaudit import AsyncAudit
from results_online.verify_app.orgs.rows import (
    MAX_BATCH_BYTES,
    Answer,
    BadBatch,
    Pair,
    from_csv,
    from_json,
    json_object,
    pair,
    results_csv,
)
from results_online.verify_app.orgs.store import Caller, OrgStore, is_postgresql
from results_online.verify_app.orgs.tables import ACTIVE
from results_online.verify_app.throttle import trusted_networks

FAILURE = "No result matches this candidate ID and secret number."
INVALID_ROW = f"candidate_id and secret_number must be strings of 1 to {MAX_FIELD} characters"
MAX_SINGLE_BYTES = 4096


@dataclass
class Orgs:
    """Everything the organisation routes share; ``close`` at shutdown."""

    store: OrgStore
    verifier: OrgVerifier
    registrar: Registrar
    routes: list[BaseRoute]

    def close(self) -> None:
        """Close the database connections."""
        self.verifier.close()
        self.store.close()

    async def healthy(self) -> bool:
        """Whether the organisations database answers a query (in the threadpool)."""
        try:
            await run_in_threadpool(self.store.ping)
        except Exception:  # the drivers' errors vary; any of them means "not now"
            return False
        return True


def mount(config: AppConfig, index: VerificationIndex, *,
          clock: Callable[[], datetime] = lambda: datetime.now(UTC),
          random: Random = os.urandom) -> Orgs:
    """Open the organisations database and make the routes (the app adds them)."""
    store = OrgStore(config.org_database)
    budget = OrgBudget(config.org_failures_per_id, config.org_failures_per_org,
                       config.redis_url)
    writer = AsyncAudit(config.org_database) if is_postgresql(config.org_database) else None
    verifier = OrgVerifier(index, store, budget, clock, random,
                           key_cache_seconds=config.org_key_cache_seconds, audit_writer=writer)
    mailer = None
    if config.smtp is not None:
        host = urlsplit(config.public_url or "").hostname or "localhost"
        mailer = Mailer(*config.smtp, config.mail_from or f"noreply@{host}")
    registrar = Registrar(store, mailer, approval=config.org_approval,
                          public_url=config.public_url, clock=clock, random=random)
    api = _Api(store, verifier, clock, random)
    routes: list[BaseRoute] = [
        Route("/api/v1/verify", guarded(api.verify, api_unavailable), methods=["POST"]),
        Route("/api/v1/verify/batch", guarded(api.batch, api_unavailable), methods=["POST"]),
        Route("/api/v1/keys/rotate", guarded(api.rotate, api_unavailable), methods=["POST"]),
        Route("/api/v1/keys/revoke", guarded(api.revoke, api_unavailable), methods=["POST"]),
        Route("/api/v1/audit", guarded(api.audit, api_unavailable), methods=["GET"]),
        *pages.routes(registrar, verifier, api.caller, trusted_networks(config.trusted_proxies)),
    ]
    return Orgs(store, verifier, registrar, routes)


class _Api:
    """The handlers; each authenticates first."""

    def __init__(self, store: OrgStore, verifier: OrgVerifier,
                 clock: Callable[[], datetime], random: Random) -> None:
        self.store = store
        self.verifier = verifier
        self.clock = clock
        self.random = random

    async def caller(self, key_text: str | None) -> Caller | Response:
        """The active organisation holding this key, or the 401/403 answer."""
        return self.admit(await self.verifier.authorise(key_text))

    @staticmethod
    def admit(caller: Caller | None) -> Caller | Response:
        """The caller if it may use the API, else the 401/403 answer."""
        if caller is None:
            return error(401, "unauthorised", "send a live API key as Authorization: Bearer",
                         {"WWW-Authenticate": 'Bearer realm="results-online"'})
        if caller.status != ACTIVE:
            return error(403, "not_active", f"the organisation is {caller.status}, not active")
        return caller

    async def verify(self, request: Request) -> Response:
        body = json_object(await read_body(request, MAX_SINGLE_BYTES))
        who = await self.caller(bearer(request.headers.get("authorization")))
        if not isinstance(who, Caller):
            return who
        if body is None:
            return error(400, "bad_request", "send a JSON object of at most 4096 bytes")
        row = pair(body.get("candidate_id"), body.get("secret_number"))
        if row is None:
            return error(422, "invalid", INVALID_ROW)
        answers = await self.verifier.check(who, [row])
        return JSONResponse(answer_json(answers[0]))

    async def batch(self, request: Request) -> Response:
        who = await self.caller(bearer(request.headers.get("authorization")))
        if not isinstance(who, Caller):
            return who
        rows = await batch_rows(request)
        if isinstance(rows, Response):
            return rows
        answers = await self.verifier.check(who, rows)
        if "text/csv" in request.headers.get("accept", ""):
            return csv_download(results_csv(answers, rows), "results")
        return JSONResponse({"results": [answer_json(a) for a in answers]})

    async def rotate(self, request: Request) -> Response:
        key_text = bearer(request.headers.get("authorization"))
        who = await self.caller(key_text)
        if not isinstance(who, Caller):
            return who
        key = new_key(self.random)
        await run_in_threadpool(self.store.rotate, who.org_id, who.key_id, key, self.clock())
        self.verifier.forget(key_text)
        return JSONResponse({"api_key": key.text, "key_id": key.key_id,
                             "revoked": who.key_id})

    async def revoke(self, request: Request) -> Response:
        key_text = bearer(request.headers.get("authorization"))
        who = await self.caller(key_text)
        if not isinstance(who, Caller):
            return who
        await run_in_threadpool(self.store.revoke_key, who.key_id, self.clock(), who.org_id)
        self.verifier.forget(key_text)
        return JSONResponse({"revoked": who.key_id})

    async def audit(self, request: Request) -> Response:
        who = await self.caller(bearer(request.headers.get("authorization")))
        if not isinstance(who, Caller):
            return who

        def export() -> Iterator[str]:  # streamed: Starlette iterates it in the threadpool
            out = io.StringIO()
            entries = self.store.audit_log(who.org_id)
            write_audit_csv(itertools.islice(entries, 0), out)  # the header line
            while chunk := list(itertools.islice(entries, 1000)):
                yield out.getvalue()
                out.seek(0)
                out.truncate()
                write_audit_csv(chunk, out, header=False)
            yield out.getvalue()

        return StreamingResponse(export(), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition":
                                          'attachment; filename="audit.csv"'})


def answer_json(a: Answer) -> dict[str, object]:
    """One row's answer as JSON: the statements, or the one uniform failure."""
    if a.outcome == MATCH:
        return {"row": a.row, "match": True, "statements": list(a.statements)}
    if a.outcome == "invalid":
        return {"row": a.row, "match": False, "error": "invalid", "message": INVALID_ROW}
    return {"row": a.row, "match": False, "message": FAILURE}


async def batch_rows(request: Request) -> list[Pair | None] | Response:
    """The rows of a batch request (JSON list, text/csv, or a multipart ``file``)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await read_form(request, files=1, fields=4, part_size=MAX_BATCH_BYTES)
        if form is None:
            return error(400, "bad_request", "send one multipart field: file")
        upload = form.get("file")
        raw = await upload.read() if isinstance(upload, UploadFile) else None
    else:
        raw = await read_body(request, MAX_BATCH_BYTES)
    if raw is None:
        return error(413, "too_large", f"at most {MAX_BATCH_BYTES} bytes and 1000 rows")
    try:
        return from_csv(raw) if kind in ("text/csv", "multipart/form-data") else from_json(raw)
    except BadBatch as exc:
        return error(400, "bad_request", str(exc))
