"""Peta: the visit map (Leaflet); its points come from the JSON API with the session cookie."""

from __future__ import annotations

from flask import current_app, render_template

from sync.accounts.users import agents_in_scope
from sync.visits import listing
from sync.visits.flags import FLAGS
from sync.visits.validation import OUTCOMES

from ...extensions import db
from ...unit_of_work import reads
from .. import bp
from ..guard import current, page
from ..i18n import translate
from ..session_auth import csrf_token
from ..templating import label

# Strings map.js shows, from the catalogue (the script itself holds none).
SCRIPT_TEXT = (
    "map.loading", "map.load_failed", "map.visits", "map.grouped", "map.no_region", "map.time", "map.zone",
    "map.regency", "map.province", "map.agent", "map.accuracy", "map.from_branch", "map.approximate",
    "map.no_flags", "map.note", "map.dismiss", "map.confirm", "map.boundaries", "map.status_open",
    "map.status_dismissed", "map.status_confirmed",
)  # fmt: skip


def script_config(**extra) -> dict:
    """What a map script needs: tiles, the boundaries' URLs, its strings and the outcome names."""
    return {
        "tileUrl": current_app.config.get("MAP_TILE_URL") or "",
        "boundaries": {
            "provinces": "/web/boundaries/provinces.geojson",
            "regencies": "/web/boundaries/regencies.geojson",
        },
        "text": {key.removeprefix("map."): translate(key) for key in SCRIPT_TEXT},
        "outcomes": {outcome: label("outcome", outcome) for outcome in OUTCOMES},
        "flags": {flag: label("flag", flag) for flag in FLAGS},
        **extra,
    }


@bp.route("/map")
@reads
@page
def map_page():
    """The visit map with filters, flags and coverage."""
    principal = current()
    agents = agents_in_scope(db.session, principal=principal)
    config = script_config(
        csrfToken=csrf_token(),
        canReview=True,
        agents={a.id: a.full_name or a.username for a in agents},
        flagDescriptions=listing.FLAG_DESCRIPTIONS,
        api="/api/v1",
    )
    return render_template("map.html", agents=agents, outcomes=OUTCOMES, flags=FLAGS, map_config=config)
