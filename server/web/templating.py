"""What every template may use: ``t`` (the catalogue), the user, the navigation, URLs of the current page
with changed arguments, and filters that show times, numbers and percentages the reader's way."""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, request, url_for

from sync.calendar import workdays
from sync.follow_ups.rules import branch_zone

from ..extensions import db
from . import bp
from .guard import web_principal
from .i18n import LANGUAGES, current_language, translate
from .session_auth import csrf_token

# The shared navigation: (endpoint, message key, admins only). An entry shows once its endpoint exists.
NAVIGATION = (
    ("web.dashboard", "nav.dashboard", False),
    ("web.duplicates", "nav.duplicates", False),
    ("web.flags", "nav.flags", False),
    ("web.follow_ups", "nav.follow_ups", False),
    ("web.reminders", "nav.reminders", False),
    ("web.agents", "nav.agents", False),
    ("web.leaderboard", "nav.leaderboard", False),
    ("web.map_page", "nav.map", False),
    ("web.admin_home", "nav.admin", True),
)
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def viewer_zone() -> str:
    """The time zone pages show times in: the user's branch's, Jakarta for admins."""
    if "viewer_zone" not in g:
        principal = web_principal()
        g.viewer_zone = branch_zone(db.session, principal.branch_id) if principal else workdays.DEFAULT_ZONE
    return g.viewer_zone


def navigation() -> list[tuple[str, str]]:
    principal = web_principal()
    if principal is None:
        return []
    views = current_app.view_functions
    return [
        (url_for(endpoint), translate(key))
        for endpoint, key, admin_only in NAVIGATION
        if endpoint in views and (principal.is_admin or not admin_only)
    ]


def page_url(**changes: object) -> str:
    """This page's URL with some query arguments changed (``None`` removes one); a changed filter drops
    the cursor, so the list starts from its first page."""
    args = request.args.to_dict()
    if "cursor" not in changes:
        args.pop("cursor", None)
    for name, value in changes.items():
        if value is None or value == "":
            args.pop(name, None)
        else:
            args[name] = str(value)
    return url_for(request.endpoint or "web.dashboard", **(request.view_args or {}), **args)


def _month(number: int) -> str:
    return translate(f"month.{number}")


def format_day(value: dt.date | None) -> str:
    if value is None:
        return "—"
    return f"{value.day} {_month(value.month)} {value.year}"


def iso_date(value: str | None) -> dt.date | None:
    """A ``YYYY-MM-DD`` string (as the contest's JSON carries days) as a date, for ``day``."""
    return dt.date.fromisoformat(value) if value else None


def format_time(ms: int | None, tz: str | None = None) -> str:
    """Epoch milliseconds as a local date and time with the zone's Indonesian name (WIB, WITA, WIT)."""
    if ms is None:
        return "—"
    zone = tz if tz in workdays.ZONES else viewer_zone()
    local = workdays.to_local(int(ms), zone)
    return f"{format_day(local.date())} {local:%H:%M} {ZONE_NAMES.get(zone, zone)}"


def format_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    if current_language() == "id":  # 1.234,5
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_percent(value: float | None) -> str:
    return "—" if value is None else format_number(value, 1) + "%"


def label(kind: str, value: str | None) -> str:
    """A stored value (a status, an outcome, a flag) in words, or the value itself when it has none."""
    if value is None:
        return "—"
    key = f"{kind}.{value}"
    try:
        return translate(key)
    except KeyError:
        return value


@bp.app_context_processor
def _globals() -> dict:
    return {
        "t": translate,
        "csrf_token": csrf_token,
        "lang": current_language(),
        "languages": LANGUAGES,
        "me": web_principal(),
        "navigation": navigation,
        "page_url": page_url,
        "label": label,
    }


for _name, _function in (
    ("when", format_time),
    ("day", format_day),
    ("isodate", iso_date),
    ("num", format_number),
    ("pct", format_percent),
):
    bp.add_app_template_filter(_function, _name)
