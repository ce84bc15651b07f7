"""Form and query input for the pages: typed fields with every error collected, confirmation, results.

A bad value never reaches the engine as a surprise: ``Fields`` reads each input, records a translated
message per field, and ``check`` raises ``FormError`` (a 422 ``InvalidRequest``) naming all of them, which
``server.web.errors`` shows on the page. Every action asks first: ``confirmed`` is false until the
confirmation page (``confirm_page``) posts the same fields back with ``confirm=yes``; ``done`` then
flashes the result and redirects (303), so a reload never repeats the action.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from flask import flash, redirect, render_template, request

from sync.calendar import workdays
from sync.errors import InvalidRequest

from .i18n import translate
from .urls import local_path

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NOT_ECHOED = ("csrf_token", "confirm")
PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class FormError(InvalidRequest):
    """Input a page cannot use; ``errors`` maps each field to its (translated) messages."""


class Fields:
    """Typed reads of one form or query string; errors pile up until ``check``."""

    def __init__(self, source: Mapping[str, str]):
        self.source = source
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, key: str, **params: object) -> None:
        self.errors.setdefault(name, []).append(translate(key, **params))

    def _raw(self, name: str) -> str:
        return (self.source.get(name) or "").strip()

    def text(self, name: str, *, required: bool = False, max_len: int = 2000) -> str | None:
        value = self._raw(name)
        if not value:
            if required:
                self.fail(name, "error.required")
            return None
        if len(value) > max_len:
            self.fail(name, "error.too_long", max=max_len)
            return None
        if CONTROL.search(value):
            self.fail(name, "error.control_chars")
            return None
        return value

    def choice(self, name: str, choices: Iterable[str], default: str | None = None) -> str | None:
        value = self._raw(name)
        if not value:
            return default
        allowed = tuple(choices)
        if value not in allowed:
            self.fail(name, "error.choice", choices=", ".join(allowed))
            return default
        return value

    def identifier(self, name: str, *, required: bool = False) -> str | None:
        value = self._raw(name)
        if not value:
            if required:
                self.fail(name, "error.required")
            return None
        if not ID_PATTERN.match(value):
            self.fail(name, "error.identifier")
            return None
        return value

    def day(self, name: str) -> dt.date | None:
        value = self._raw(name)
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(name, "error.date")
            return None

    def local_time(self, name: str, tz: str, *, required: bool = False) -> int | None:
        """A ``datetime-local`` value (``YYYY-MM-DDTHH:MM``) read in ``tz``, as epoch milliseconds."""
        value = self._raw(name)
        if not value:
            if required:
                self.fail(name, "error.required")
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(name, "error.datetime")
            return None
        if moment.tzinfo is not None or not 2000 <= moment.year <= 2100:
            self.fail(name, "error.datetime")
            return None
        return workdays.to_ms(moment.replace(tzinfo=workdays.zone(tz)))

    def cursor(self) -> str | None:
        """The opaque page cursor (the engine checks it: ``sync.pagination.decode_cursor``)."""
        return self._raw("cursor") or None

    def limit(self) -> int:
        value = self._raw("limit")
        if not value:
            return PAGE_SIZE
        if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
            self.fail("limit", "error.limit", max=MAX_PAGE_SIZE)
            return PAGE_SIZE
        return int(value)

    def page_number(self, *, last: int = 10_000) -> int:
        """``page`` for tables computed whole (the leaderboard): 1 by default."""
        value = self._raw("page")
        if not value:
            return 1
        if not value.isdigit() or not 1 <= int(value) <= last:
            self.fail("page", "error.limit", max=last)
            return 1
        return int(value)

    def number(self, name: str, *, required: bool = False) -> float | None:
        value = self._raw(name).replace(",", ".")
        if not value:
            if required:
                self.fail(name, "error.required")
            return None
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if number != number or abs(number) == float("inf"):  # NaN or infinite
            self.fail(name, "error.not_a_number")
            return None
        return number

    def checkbox(self, name: str) -> bool:
        return self._raw(name) in ("1", "on", "yes", "true")

    def whole_number(self, name: str, *, low: int, high: int) -> int | None:
        value = self._raw(name)
        if not value:
            return None
        if not value.isdigit() or not low <= int(value) <= high:
            self.fail(name, "error.number", low=low, high=high)
            return None
        return int(value)

    def check(self) -> None:
        if self.errors:
            raise FormError("invalid input: " + ", ".join(sorted(self.errors)), errors=self.errors)


def query() -> Fields:
    return Fields(request.args)


def form() -> Fields:
    return Fields(request.form)


def back(default: str) -> str:
    """The page a form came from (its ``back`` field, a local path), else ``default``."""
    return local_path(request.form.get("back") or request.args.get("back")) or default


def confirmed() -> bool:
    return request.form.get("confirm") == "yes"


def confirm_page(question: str, details: list[tuple[str, str]], cancel: str, *, danger: bool = False):
    """Ask before acting: the same form again, every field kept, with ``confirm=yes`` added."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in NOT_ECHOED]
    return render_template(
        "confirm.html",
        question=question,
        details=details,
        fields=fields,
        action=request.path,
        cancel=local_path(cancel) or "/",
        danger=danger,
    )


def done(message_key: str, target: str, **params: object):
    """The action's visible result: a flash message on the page it redirects to (303, never re-posted)."""
    flash(translate(message_key, **params), "success")
    return redirect(local_path(target) or "/", code=303)
