"""Small HTTP helpers of the organisation routes: bounded bodies, CSV downloads, errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("results_online.verify_app.orgs")
Handler = Callable[[Request], Awaitable[Response]]


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None if it is longer than ``limit`` bytes."""
    raw = bytearray()
    try:
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                return None
    except ClientDisconnect:  # nobody is left to answer
        return None
    return bytes(raw)


async def read_form(request: Request, *, files: int, fields: int,
                    part_size: int) -> FormData | None:
    """The form (urlencoded or multipart) within these bounds, or None if it breaks one."""
    try:
        return await request.form(max_files=files, max_fields=fields, max_part_size=part_size)
    except (HTTPException, MultiPartException):  # Starlette's 400 for a malformed form
        return None


def csv_download(text: str, name: str) -> Response:
    """A CSV file the browser saves rather than shows."""
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def error(status: int, code: str, message: str,
          headers: dict[str, str] | None = None) -> Response:
    """The API's error body."""
    return JSONResponse({"error": code, "message": message}, status_code=status,
                        headers=headers)



def guarded(handler: Handler, unavailable: Callable[[], Response]) -> Handler:
    """``handler``, answering ``unavailable()`` (a 503) when the database fails."""
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except SQLAlchemyError as exc:  # never the message: it may quote the URL or values
            log.error("organisations database failed: %s", type(exc).__name__)
            return unavailable()

    return run


def api_unavailable() -> Response:
    """The API's answer while the organisations database is down."""
    return error(503, "unavailable", "try again in a minute")
