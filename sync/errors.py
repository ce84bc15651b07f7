"""Errors the engine raises, each with a stable machine code the HTTP layer maps to a status."""

from __future__ import annotations


class SyncError(Exception):
    """Base class: ``code`` is stable for clients, ``status`` is the HTTP status the API answers."""

    code = "sync_error"
    status = 400
    title = "Sync error"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class InvalidRequest(SyncError):
    code = "invalid_request"
    status = 422
    title = "Invalid request"


class Conflict(SyncError):
    """Someone changed a record after the phone's last pull: the phone must pull and push again."""

    code = "conflict"
    status = 409
    title = "Conflict"


class TooLarge(SyncError):
    code = "too_large"
    status = 413
    title = "Payload too large"


class NotFound(SyncError):
    """Absent or outside the caller's scope: the two are indistinguishable on purpose."""

    code = "not_found"
    status = 404
    title = "Not found"


class Forbidden(SyncError):
    """The caller's role has no business here (object-level scope misses are ``NotFound`` instead)."""

    code = "forbidden"
    status = 403
    title = "Forbidden"


class AuthError(SyncError):
    code = "unauthorized"
    status = 401
    title = "Unauthorized"


class RateLimited(SyncError):
    code = "rate_limited"
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after
