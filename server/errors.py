"""Every error is an RFC 9457 problem document (``application/problem+json``), never an HTML page."""

from __future__ import annotations

import logging

from flask import Response, json, request
from flask_smorest import Api
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from schemas.problem import ProblemSchema
from sync.errors import RateLimited, SyncError

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://jangkau.dev/problems/"


def problem(
    status: int,
    title: str,
    detail: str = "",
    *,
    code: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
) -> Response:
    body = {
        "type": PROBLEM_BASE + (code or str(status)),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
    }
    if code:
        body["code"] = code
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _snake(name: str) -> str:
    return "_".join(name.lower().replace("-", " ").split())


def flatten_messages(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs' nested ``{"json": {"field": [...]}}`` into ``{"field": [...]}`` (dotted paths)."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key)
            if not prefix and name in ("json", "query", "form", "headers", "files", "view_args"):
                name = ""
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}[{index}]"))
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


class ProblemApi(Api):
    """flask-smorest's Api whose documented error hook answers problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = flatten_messages(data["messages"]) if "messages" in data else None
        status = error.code or 500
        if status == 422 and errors:
            detail = "invalid input: " + ", ".join(sorted(errors))
        else:
            detail = error.description or ""
        # Framework errors get a stable code too: "invalid_request" for schema validation, else the HTTP
        # reason in snake case ("not_found", "method_not_allowed", "request_entity_too_large").
        code = data.get("code") or ("invalid_request" if status == 422 else _snake(error.name))
        return problem(status, error.name, detail, code=code, errors=errors)


def register_error_handlers(app) -> None:
    @app.errorhandler(SyncError)
    def _sync_error(error: SyncError):
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
        return problem(error.status, error.title, error.detail, code=error.code, errors=error.errors, headers=headers)

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError):
        log.warning("integrity error: %s", type(error.orig).__name__)
        return problem(409, "Conflict", "the request conflicts with stored data; retry", code="conflict")

    @app.errorhandler(OperationalError)
    def _operational(error: OperationalError):
        log.error("database unavailable: %s", type(error.orig).__name__)
        return problem(
            503,
            "Service Unavailable",
            "the database is busy or unreachable; retry later",
            code="unavailable",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(RecursionError)
    def _too_deep(error: RecursionError):
        return problem(
            400,
            "Bad Request",
            "the body is nested too deeply",
            code="malformed_body",
            errors={"body": ["nested too deeply"]},
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "an unexpected error occurred", code="internal")
