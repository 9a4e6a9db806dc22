"""The OpenAPI 3.1 description of the verification app's JSON API."""

from __future__ import annotations

from typing import Any

from results_online.verify_app.lookup import MAX_FIELD
from results_online.verify_app.orgs.openapi import SECURITY_SCHEMES, org_paths


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": MAX_FIELD, "description": description}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _post(summary: str, operation: str, body: dict[str, Any],
          responses: dict[str, Any]) -> dict[str, Any]:
    """A POST operation taking a JSON body."""
    return {"post": {"summary": summary, "operationId": operation,
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": body}}},
                     "responses": responses}}


_ERROR = {"type": "object", "required": ["error", "message"],
          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
_RESULT = {"type": "object", "required": ["code", "title", "result"], "properties": {
    "code": {"type": "string"}, "title": {"type": "string"}, "result": {"type": "string"},
    "mark": {"type": ["integer", "null"]}, "grade": {"type": ["string", "null"]},
    "status": {"type": "string"}}}
_STATEMENT = {"type": "object", "required": [
    "statement_id", "revision", "name", "test", "series", "issue_date", "results", "status"],
    "properties": {
        "statement_id": {"type": "string"}, "display_id": {"type": "string"},
        "revision": {"type": "integer"}, "name": {"type": "string"},
        "candidate_number": {"type": "string"}, "centre": {"type": "string"},
        "centre_name": {"type": "string"}, "board": {"type": "string"},
        "series": {"type": "string"}, "series_code": {"type": "string"},
        "test": {"type": "string"}, "test_code": {"type": "string"},
        "issue_date": {"type": "string", "format": "date"},
        "results": {"type": "array", "items": _RESULT},
        "overall": {"type": ["object", "null"]},
        "status": {"enum": ["valid", "withdrawn"]}}}


def openapi() -> dict[str, Any]:
    """The OpenAPI document served at /openapi.json."""
    candidate = _text("the candidate's board-wide ID")
    share = _text("the statement's share code (preferred; never locked), e.g. "
                  "7K3M-Q9RT-4XBD-H2CN-PV8W; case, spaces and dashes ignored")
    verify_body = {"oneOf": [
        {"type": "object", "required": ["candidate_id", "share_code"],
         "not": {"required": ["secret_number"]},
         "properties": {"candidate_id": candidate, "share_code": share}},
        {"type": "object", "required": ["candidate_id", "secret_number"],
         "not": {"required": ["share_code"]},
         "properties": {"candidate_id": candidate,
                        "secret_number": _text("the candidate's secret number")}}]}
    verify_ok = {"type": "object", "required": ["match"], "properties": {
        "match": {"type": "boolean"},
        "statements": {"type": "array", "items": _STATEMENT},
        "message": {"type": "string"}}}
    status_body = {"type": "object", "required": ["statement_id"],
                   "properties": {"statement_id": _text("the statement id, dashes optional")}}
    status_ok = {"type": "object", "required": ["status"], "properties": {
        "statement_id": {"type": "string"},
        "status": {"enum": ["valid", "superseded", "withdrawn", "unknown"]},
        "date": {"type": ["string", "null"], "format": "date"},
        "centre": {"type": ["object", "null"], "description": "the centre printed on the "
                   "statement", "properties": {"number": {"type": "string"},
                                               "name": {"type": "string"}}}}}
    bad = {"400": _json(_ERROR, "the body is not a JSON object of at most 4096 bytes"),
           "422": _json(_ERROR, "a field is missing or malformed")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Results Online verification", "version": "1",
                 "description": "Check a Statement of Results by candidate ID and share "
                                "code (preferred) or secret number, or a statement's status "
                                "by its id. Every failed check gets the same answer. "
                                "Share-code failures are limited per client address only; "
                                "secret-number failures per candidate ID and per address."},
        "paths": {
            "/api/verify": _post(
                "Check a candidate ID with a share code or a secret number", "verify",
                verify_body,
                {"200": _json(verify_ok, "match: the results; otherwise the one uniform "
                                         "failure"),
                 **bad, "503": _json(_ERROR, "the failure limiter is unreachable")}),
            "/api/status": _post(
                "The status of a statement (for the QR check)", "status", status_body,
                {"200": _json(status_ok, "valid, superseded (date of the newer statement) "
                                         "or withdrawn (date)"),
                 "404": _json(status_ok, "no statement has this id"), **bad}),
            "/healthz": {"get": {
                "summary": "Liveness: the index and the limiter answer",
                "operationId": "health",
                "responses": {"200": _json({"type": "object"}, "healthy"),
                              "503": _json({"type": "object"}, "unhealthy")}}},
            **org_paths(_STATEMENT, _ERROR),
        },
        "components": {"securitySchemes": SECURITY_SCHEMES},
    }
