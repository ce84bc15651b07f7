"""Errors inside a page, shown as pages: a refused form goes back to where it came from with its
messages, a missing or out-of-scope record is a 404 page. Errors before a page view runs (the request
edge, CSRF) keep the app's problem+json answers (``server.errors``)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request

from sync.errors import Conflict, Forbidden, InvalidRequest, NotFound, SyncError

from ..errors import problem
from . import bp
from .guard import PAGE_FLAG
from .i18n import translate
from .urls import local_path

HANDLED = (InvalidRequest, Conflict, NotFound, Forbidden)
TITLES = {404: "error.not_found", 403: "error.forbidden", 409: "error.conflict"}


def _messages(error: SyncError) -> list[str]:
    if not error.errors:
        return [error.detail]
    return [f"{field}: {'; '.join(messages)}" for field, messages in error.errors.items()]


def _page_error(error: SyncError):
    if not getattr(g, PAGE_FLAG, False):
        return problem(error.status, error.title, error.detail, code=error.code, errors=error.errors)
    messages = _messages(error)
    if request.method == "POST" and error.status in (409, 422):
        target = local_path(request.form.get("back")) or local_path(request.path.rsplit("/", 1)[0]) or "/"
        flash(translate("error.refused") + " " + " · ".join(messages), "error")
        return redirect(target, code=303)
    title = translate(TITLES.get(error.status, "error.invalid"))
    return render_template("error.html", title=title, messages=messages, status=error.status), error.status


for _kind in HANDLED:
    bp.register_error_handler(_kind, _page_error)
