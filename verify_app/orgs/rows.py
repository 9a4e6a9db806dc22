"""The rows of a bulk check: read from a JSON list or CSV, written back as CSV.

A row that cannot be a check (missing field, too long, not text, not encodable)
becomes ``None`` and is answered as invalid; it never fails the whole request.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from results_online.verify_app.lookup import MAX_FIELD

MAX_ROWS = 1000
MAX_BATCH_BYTES = 256 * 1024  # 1,000 rows of two 64-character fields fit easily
HEADER = ("candidate_id", "secret_number")
Pair = tuple[str, str]


class BadBatch(ValueError):
    """The body as a whole cannot be read as rows; the message says why, with no row data."""


def pair(candidate_id: object, secret: object) -> Pair | None:
    """A well-formed (candidate ID, secret number), or None."""
    values = []
    for given in (candidate_id, secret):
        if not isinstance(given, str):
            return None
        v = given.strip()
        if not 1 <= len(v) <= MAX_FIELD or "\x00" in v:
            return None
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from JSON's \ud800
            return None
        values.append(v)
    return values[0], values[1]


def json_object(raw: bytes | None) -> Mapping[str, object] | None:
    """A JSON object, or None for anything else (not JSON, too deep, a list, too long)."""
    if raw is None:
        return None
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def from_json(raw: bytes) -> list[Pair | None]:
    """Rows from a JSON list of {candidate_id, secret_number} objects."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadBatch("the body is not JSON") from None
    if isinstance(body, Mapping) and "checks" in body:
        body = body["checks"]
    if not isinstance(body, list):
        raise BadBatch("send a JSON list of {candidate_id, secret_number} objects")
    _count(len(body))
    return [pair(item.get("candidate_id"), item.get("secret_number"))
            if isinstance(item, Mapping) else None for item in body]


def from_csv(raw: bytes) -> list[Pair | None]:
    """Rows from CSV text ``candidate_id,secret_number`` (header optional, UTF-8)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadBatch("the CSV is not UTF-8 text") from None
    try:
        lines = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error:
        raise BadBatch("the CSV cannot be read") from None
    if lines and tuple(c.strip().lower() for c in lines[0][:2]) == HEADER:
        lines = lines[1:]
    _count(len(lines))
    return [pair(r[0], r[1]) if len(r) == 2 else None for r in lines]


def _count(n: int) -> None:
    if n == 0:
        raise BadBatch("no rows to check")
    if n > MAX_ROWS:
        raise BadBatch(f"at most {MAX_ROWS} rows per request; split the list")


@dataclass(frozen=True)
class Answer:
    """One row's answer: its statements when matched, else the uniform failure."""

    row: int
    outcome: str  # match, no_match (also over budget: the caller cannot tell), invalid
    statements: tuple[dict[str, object], ...] = ()


OUT_COLUMNS = ("row", "candidate_id", "outcome", "statement_id", "name", "candidate_number",
               "test", "series", "issue_date", "status", "results", "overall")


def results_csv(answers: Sequence[Answer], rows: Sequence[Pair | None]) -> str:
    """The answers as CSV, one line per matched statement or per failed row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(OUT_COLUMNS)
    for a, given in zip(answers, rows, strict=True):
        cid = _safe(given[0]) if given else ""
        if not a.statements:
            w.writerow([a.row, cid, a.outcome, *[""] * (len(OUT_COLUMNS) - 3)])
        for s in a.statements:
            w.writerow([a.row, cid, a.outcome, s.get("display_id", s.get("statement_id")),
                        _safe(s.get("name")), s.get("candidate_number"), _safe(s.get("test")),
                        _safe(s.get("series")), s.get("issue_date"), s.get("status"),
                        _results(s.get("results")), _overall(s.get("overall"))])
    return out.getvalue()


def _results(results: object) -> str:
    if not isinstance(results, Iterable):
        return ""
    return "; ".join(f"{r.get('code') or r.get('title')}: {r.get('result')}"
                     for r in results if isinstance(r, Mapping))


def _overall(overall: object) -> str:
    if not isinstance(overall, Mapping):
        return ""
    cefr = f", CEFR {overall['cefr']}" if overall.get("cefr") else ""
    return f"{overall.get('result')}{cefr}"


def _safe(value: object) -> str:
    """Text for a spreadsheet cell: a leading = + - @ would run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
