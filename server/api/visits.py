"""Visits for supervisors and the map (docs/api.md): list, GeoJSON clusters, coverage, detail, flag review.

Thin views over ``sync.visits.listing`` and ``sync.visits.reviews``; scoping happens in those queries.
"""

from __future__ import annotations

import json

from flask import Response
from flask_smorest import Blueprint

from schemas.visits import (
    CoverageSchema,
    FeatureCollectionSchema,
    GeoJsonArgsSchema,
    ReviewArgsSchema,
    ReviewSchema,
    VisitDetailSchema,
    VisitFilterSchema,
    VisitListArgsSchema,
    VisitPageSchema,
    VisitSchema,
)
from sync.models import Visit
from sync.visits import coverage, geojson, listing
from sync.visits import reviews as visit_reviews

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads, writes

blp = Blueprint("visits", __name__, url_prefix="/api/v1", description="Visits, the map and flag review")

FILTER_NAMES = ("branch_id", "agent_id", "date_from", "date_to", "outcome", "flag", "bbox")
VISIT_FIELDS = tuple(name for name in VisitSchema().fields if name != "flags")
DETAIL_FIELDS = ("notes", "location_match", "location_match_km")


def filters_of(args: dict) -> listing.VisitFilters:
    return listing.VisitFilters(**{name: args.get(name) for name in FILTER_NAMES})


def visit_json(visit: Visit) -> dict:
    body = {name: getattr(visit, name, None) for name in VISIT_FIELDS}
    body["flags"] = listing.split_flags(visit.flags)
    return body


@blp.route("/visits")
@reads
@blp.arguments(VisitListArgsSchema, location="query")
@blp.response(200, VisitPageSchema)
@auth_required()
def list_visits(args):
    """Visits in the caller's scope, newest first; filter values outside that scope match nothing."""
    page = listing.list_visits(
        db.session,
        principal=current_principal(),
        filters=filters_of(args),
        limit=args["limit"],
        cursor=args["cursor"],
    )
    return {"items": [visit_json(v) for v in page.items], "next_cursor": page.next_cursor}


@blp.route("/visits.geojson")
@reads
@blp.arguments(GeoJsonArgsSchema, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
@auth_required()
def visits_geojson(args):
    """The map's points: single visits, or grid clusters when zoomed out (< 11) or over 2,000 points."""
    body = geojson.visits_geojson(
        db.session, principal=current_principal(), filters=filters_of(args), zoom=args["zoom"]
    )
    return Response(json.dumps(body, separators=(",", ":")), mimetype="application/geo+json")


@blp.route("/visits/coverage")
@reads
@blp.arguments(VisitFilterSchema, location="query")
@blp.response(200, CoverageSchema)
@auth_required()
def visits_coverage(args):
    """Visit counts per regency (with flagged counts and the latest visit) for the same filters."""
    return {"items": coverage.coverage(db.session, principal=current_principal(), filters=filters_of(args))}


def detail_json(visit: Visit, reviews: list) -> dict:
    body = visit_json(visit) | {name: getattr(visit, name, None) for name in DETAIL_FIELDS}
    body["flag_states"] = [
        {"flag": s.flag, "reason": s.reason, "status": s.status, "review": s.review}
        for s in visit_reviews.flag_states(visit, reviews)
    ]
    body["reviews"] = reviews
    return body


@blp.route("/visits/<string:visit_id>")
@reads
@blp.response(200, VisitDetailSchema)
@blp.alt_response(404, description="No such visit in the caller's scope")
@auth_required()
def get_visit(visit_id: str):
    """One visit with its flags, their reasons and review state, and every review made."""
    visit = listing.get_visit(db.session, principal=current_principal(), visit_id=visit_id)
    return detail_json(visit, visit_reviews.reviews_of(db.session, visit.id))


@blp.route("/visits/<string:visit_id>/flags/<string:flag>/review", methods=["POST"])
@writes
@blp.arguments(ReviewArgsSchema)
@blp.response(201, ReviewSchema)
@blp.alt_response(404, description="No such visit in the caller's scope, or the visit has no such flag")
@auth_required("supervisor", "admin")
def review_flag(args, visit_id: str, flag: str):
    """Dismiss a flag (a note is required) or confirm it; who, when and the note are recorded."""
    principal = current_principal()
    review = visit_reviews.review_flag(
        db.session, principal=principal, visit_id=visit_id, flag=flag, decision=args["decision"], note=args["note"]
    )
    return review
