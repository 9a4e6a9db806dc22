"""The OpenAPI paths of the organisations' API, version 1 (merged into /openapi.json)."""

from __future__ import annotations

from typing import Any

from results_online.verify_app.lookup import MAX_FIELD
from results_online.verify_app.orgs.rows import MAX_BATCH_BYTES, MAX_ROWS

SECURITY_SCHEMES = {"apiKey": {
    "type": "http", "scheme": "bearer",
    "description": "An organisation's API key (ro1_…), shown once at registration or "
                   "rotation: `Authorization: Bearer <key>`."}}
_SECURED: list[dict[str, list[str]]] = [{"apiKey": []}]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _csv(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"text/csv": {"schema": {"type": "string"}}}}


def org_paths(statement: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    """The /api/v1 paths, given the app's statement and error schemas."""
    text = {"type": "string", "minLength": 1, "maxLength": MAX_FIELD}
    check = {"type": "object", "required": ["candidate_id", "secret_number"],
             "properties": {"candidate_id": text, "secret_number": text}}
    answer = {"type": "object", "required": ["row", "match"], "properties": {
        "row": {"type": "integer", "minimum": 1},
        "match": {"type": "boolean"},
        "statements": {"type": "array", "items": statement},
        "error": {"const": "invalid"},
        "message": {"type": "string"}}}
    auth = {"401": _json(error, "no live API key"),
            "403": _json(error, "the organisation is not (yet) active")}
    rows = {"type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": check}
    csv_body = {"type": "string", "description": "candidate_id,secret_number lines, "
                                                 "header optional, UTF-8"}
    return {
        "/api/v1/verify": {"post": {
            "summary": "An organisation checks one candidate ID and secret number",
            "operationId": "orgVerify", "security": _SECURED,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": check}}},
            "responses": {"200": _json(answer, "the statements, or the one uniform failure "
                                               "(also when a failure budget is used up)"),
                          "400": _json(error, "not a JSON object of at most 4096 bytes"),
                          "422": _json(error, "a field is missing or malformed"), **auth}}},
        "/api/v1/verify/batch": {"post": {
            "summary": f"Check up to {MAX_ROWS} candidates in one request",
            "operationId": "orgVerifyBatch", "security": _SECURED,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": rows},
                "text/csv": {"schema": csv_body},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"200": {"description": "one answer per row, in order (CSV when "
                                                 "the request accepts text/csv)",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "properties": {"results": {
                                          "type": "array", "items": answer}}}},
                                      "text/csv": {"schema": {"type": "string"}}}},
                          "400": _json(error, f"no rows, more than {MAX_ROWS}, or unreadable"),
                          "413": _json(error, f"more than {MAX_BATCH_BYTES} bytes"), **auth}}},
        "/api/v1/keys/rotate": {"post": {
            "summary": "A new API key (shown once); the key sent is revoked",
            "operationId": "orgRotateKey", "security": _SECURED,
            "responses": {"200": _json({"type": "object", "properties": {
                "api_key": {"type": "string"}, "key_id": {"type": "string"},
                "revoked": {"type": "string"}}}, "the new key"), **auth}}},
        "/api/v1/keys/revoke": {"post": {
            "summary": "Revoke the key sent", "operationId": "orgRevokeKey",
            "security": _SECURED,
            "responses": {"200": _json({"type": "object", "properties": {
                "revoked": {"type": "string"}}}, "revoked"), **auth}}},
        "/api/v1/audit": {"get": {
            "summary": "The organisation's audit log: time, key id, request id, row, "
                       "statement id, outcome (never a secret)",
            "operationId": "orgAudit", "security": _SECURED,
            "responses": {"200": _csv("the audit log, oldest first"), **auth}}},
    }
