"""Kunjungan bertanda: flagged visits waiting for a review (``sync.workspace.flagged``), one visit with
its reasons, a mini-map of the agent's day and the neighbouring visits, and dismiss / confirm with a note
(``sync.visits.reviews``), confirmed first."""

from __future__ import annotations

from flask import render_template, url_for

from sync.geo.distance import haversine_km
from sync.visits import listing
from sync.visits import reviews as visit_reviews
from sync.visits.flags import FLAGS
from sync.visits.validation import OUTCOMES
from sync.workspace import flagged, windows

from ...extensions import db
from ...unit_of_work import reads, writes
from .. import bp
from ..forms import confirm_page, confirmed, done, form, query
from ..guard import current, page
from ..i18n import translate
from ..templating import label, viewer_zone
from .choices import agent_options, branch_options, chosen_branch, names_of
from .map import script_config

DECISIONS = ("dismiss", "confirm")


def _filters(fields) -> flagged.FlaggedFilters:
    state = fields.choice("state", flagged.STATES, "unreviewed")
    first, last = fields.day("from"), fields.day("to")
    window_from = windows.days(first, first, viewer_zone()).start if first else None
    window_to = windows.days(last, last, viewer_zone()).end if last else None
    return flagged.FlaggedFilters(
        state=state or "unreviewed",
        flag=fields.choice("flag", FLAGS),
        agent_id=fields.identifier("agent"),
        branch_id=chosen_branch(fields, current()),
        date_from=window_from,
        date_to=window_to,
    )


@bp.route("/flags")
@reads
@page
def flags():
    """Flagged visits, newest first: unreviewed by default, filterable by flag, agent, days and branch."""
    principal = current()
    fields = query()
    filters = _filters(fields)
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = flagged.list_flagged(db.session, principal=principal, filters=filters, limit=limit, cursor=cursor)
    reviews = flagged.reviews_of(db.session, [visit.id for visit in result.items])
    states = {visit.id: visit_reviews.flag_states(visit, reviews.get(visit.id, [])) for visit in result.items}
    return render_template(
        "flags.html",
        visits=result.items,
        states=states,
        page=result,
        filters=filters,
        flag_options=[(f, label("flag", f)) for f in FLAGS],
        agents=agent_options(principal),
        names=names_of(v.agent_id for v in result.items),
        branches=branch_options(principal),
    )


def _mini_map(visit, day: list) -> dict:
    points = [
        {
            "id": v.id,
            "lat": v.latitude,
            "lon": v.longitude,
            "outcome": v.outcome,
            "flagged": bool(v.flags),
            "current": v.id == visit.id,
            "title": label("outcome", v.outcome),
        }
        for v in day
        if v.latitude is not None and v.longitude is not None
    ]
    return script_config(points=points)


@bp.route("/flags/<string:visit_id>")
@reads
@page
def flag(visit_id: str):
    """One flagged visit: each flag's reason and review, the agent's day on a mini-map and in a table."""
    principal = current()
    visit = listing.get_visit(db.session, principal=principal, visit_id=visit_id)
    reviews = visit_reviews.reviews_of(db.session, visit.id)
    day = flagged.same_day(db.session, principal=principal, visit=visit)
    distances = {}
    if visit.latitude is not None and visit.longitude is not None:
        for other in day:
            if other.latitude is not None and other.longitude is not None:
                distances[other.id] = float(
                    haversine_km(visit.latitude, visit.longitude, other.latitude, other.longitude)
                )
    return render_template(
        "flag.html",
        visit=visit,
        states=visit_reviews.flag_states(visit, reviews),
        reviews=reviews,
        day=day,
        distances=distances,
        names=names_of([visit.agent_id]),
        outcomes=OUTCOMES,
        map_config=_mini_map(visit, day),
    )


@bp.route("/flags/<string:visit_id>/review", methods=["POST"])
@writes
@page
def review_flag(visit_id: str):
    """Dismiss (a note is required) or confirm one flag of the visit."""
    principal = current()
    fields = form()
    flag_name = fields.choice("flag", FLAGS)
    decision = fields.choice("decision", DECISIONS)
    note = fields.text("note", required=decision == "dismiss")
    for name, value in (("flag", flag_name), ("decision", decision)):
        if value is None:
            fields.fail(name, "error.required")
    fields.check()
    visit = listing.get_visit(db.session, principal=principal, visit_id=visit_id)
    here = url_for("web.flag", visit_id=visit_id)
    if not confirmed():
        details = [(translate("flags.flag"), label("flag", flag_name)), (translate("form.note"), note or "—")]
        return confirm_page(translate(f"flags.confirm_{decision}"), details, here)
    visit_reviews.review_flag(
        db.session, principal=principal, visit_id=visit.id, flag=flag_name, decision=decision, note=note
    )
    return done(f"flags.done_{decision}", url_for("web.flags"), flag=label("flag", flag_name))
