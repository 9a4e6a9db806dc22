"""Small HTTP helpers of the organisation routes: bounded bodies, CSV downloads, errors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None if it is longer than ``limit`` bytes."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            return None
    return bytes(raw)


def csv_download(text: str, name: str) -> Response:
    """A CSV file the browser saves rather than shows."""
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def error(status: int, code: str, message: str,
          headers: dict[str, str] | None = None) -> Response:
    """The API's error body."""
    return JSONResponse({"error": code, "message": message}, status_code=status,
                        headers=headers)

