"""The supervisors' visit API (docs/api.md): filters, scoping, GeoJSON clusters, coverage, flag review."""

from __future__ import annotations

import itertools

import pytest

from schemas import visits as visit_schemas
from sync.models import Visit, new_id
from sync.visits import geojson, listing
from sync.visits import rollup as visit_rollup
from sync.visits.flags import FLAGS
from sync.visits.validation import OUTCOMES
from tests.factories import changes, visit

DAY = 86_400_000
T0 = 1_750_000_000_000
_stamp = itertools.count(1)


def add_visit(session, agent, **values) -> Visit:
    """A stored visit of ``agent`` (as the push would leave it, the map's rollup included), committed."""
    stamp = next(_stamp)
    row = Visit(
        id=values.pop("id", new_id()),
        agent_id=agent.id,
        branch_id=agent.branch_id,
        server_created_at=stamp,
        last_modified=stamp,
        visited_at=values.pop("visited_at", T0),
        latitude=values.pop("latitude", -6.32),
        longitude=values.pop("longitude", 107.33),
        outcome=values.pop("outcome", "interested"),
        **values,
    )
    session.add(row)
    session.flush()
    visit_rollup.rebuild(session)
    session.commit()
    return row


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    if field:
        assert field in response.json["errors"], response.json


def ids(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["id"] for item in response.json["items"]}


@pytest.fixture
def visits(session, world):
    """Visits of three agents in two branches, with outcomes, times, places and flags that differ."""
    w = world
    return {
        "a1": add_visit(session, w.agent_a, visited_at=T0, outcome="enrolled"),
        "a2": add_visit(
            session,
            w.agent_a,
            visited_at=T0 + DAY,
            latitude=-6.10,
            longitude=107.60,
            flags="low_accuracy,mock_location",
            regency_code="32.15",
            regency="Kabupaten Karawang",
            province_code="32",
            province="Jawa Barat",
            timezone="Asia/Jakarta",
            flag_reasons='{"low_accuracy": "akurasi 250 m / accuracy 250 m"}',
        ),
        "b1": add_visit(session, w.agent_b, visited_at=T0 + 2 * DAY, outcome="refused", flags="far_from_branch"),
        "c1": add_visit(session, w.agent_c, visited_at=T0 + 3 * DAY, latitude=-5.13, longitude=119.42),
    }


def test_scoping_by_role(api, world, visits):
    """Agents see their own visits, supervisors their branch, admins everything."""
    get = api.client.get
    assert ids(get("/api/v1/visits", headers=api.headers(world.agent_a))) == {visits["a1"].id, visits["a2"].id}
    assert ids(get("/api/v1/visits", headers=api.headers(world.supervisor))) == {
        visits["a1"].id,
        visits["a2"].id,
        visits["b1"].id,
    }
    assert ids(get("/api/v1/visits", headers=api.headers(world.supervisor_makassar))) == {visits["c1"].id}
    assert ids(get("/api/v1/visits", headers=api.headers(world.admin))) == {v.id for v in visits.values()}


def test_filters(api, world, visits):
    """Each filter narrows the list: agent, date range, outcome, flag, bounding box and branch."""
    h = api.headers(world.admin)

    def get(**params):
        return ids(api.client.get("/api/v1/visits", query_string=params, headers=h))

    assert get(agent_id=world.agent_b.id) == {visits["b1"].id}
    assert get(**{"from": T0 + DAY, "to": T0 + 2 * DAY}) == {visits["a2"].id, visits["b1"].id}
    assert get(outcome="enrolled") == {visits["a1"].id}
    assert get(flag="mock_location") == {visits["a2"].id}
    assert get(flag="far_from_branch") == {visits["b1"].id}
    assert get(flag="clock_skew") == set()
    assert get(bbox="107.5,-6.2,107.7,-6.0") == {visits["a2"].id}
    assert get(branch_id=world.makassar.id) == {visits["c1"].id}


def test_filter_values_outside_scope_give_nothing(api, world, visits):
    """A supervisor asking for another branch or another branch's agent gets an empty list, not an error."""
    h = api.headers(world.supervisor)
    assert ids(api.client.get("/api/v1/visits", query_string={"branch_id": world.makassar.id}, headers=h)) == set()
    assert ids(api.client.get("/api/v1/visits", query_string={"agent_id": world.agent_c.id}, headers=h)) == set()
    geo = api.client.get("/api/v1/visits.geojson", query_string={"agent_id": world.agent_c.id}, headers=h)
    assert geo.json["total"] == 0 and geo.json["features"] == []


def test_pagination_walks_every_visit_once(api, session, world):
    """limit/cursor pages through visits newest first, including visits without a time, none twice."""
    made = {add_visit(session, world.agent_a, visited_at=T0 + (i % 3) * DAY).id for i in range(7)}
    made.add(add_visit(session, world.agent_a, visited_at=None).id)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = api.client.get("/api/v1/visits", query_string=params, headers=api.headers(world.supervisor))
        assert response.status_code == 200
        seen += [item["id"] for item in response.json["items"]]
        cursor, pages = response.json["next_cursor"], pages + 1
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and pages == 3
    assert response.json["items"][-1]["visited_at"] == T0


def test_detail_and_out_of_scope_404(api, world, visits):
    """The detail carries flags with reasons; a visit outside the caller's scope is 404, like a missing one."""
    response = api.client.get(f"/api/v1/visits/{visits['a2'].id}", headers=api.headers(world.supervisor))
    assert response.status_code == 200
    body = response.json
    assert body["flags"] == ["low_accuracy", "mock_location"]
    assert body["regency"] == "Kabupaten Karawang" and body["timezone"] == "Asia/Jakarta"
    assert [s["status"] for s in body["flag_states"]] == ["open", "open"]
    reasons = {s["flag"]: s["reason"] for s in body["flag_states"]}
    assert reasons["low_accuracy"] == "akurasi 250 m / accuracy 250 m"  # the engine's own reason
    assert reasons["mock_location"] == listing.FLAG_DESCRIPTIONS["mock_location"]  # none stored: the meaning
    for user, visit_id in (
        (world.supervisor_makassar, visits["a2"].id),
        (world.agent_b, visits["a1"].id),
        (world.admin, "no-such-visit"),
    ):
        response = api.client.get(f"/api/v1/visits/{visit_id}", headers=api.headers(user))
        assert_problem(response, 404)


def test_geojson_points_and_clusters(api, session, world, visits):
    """Zoomed in the map gets single visits; zoomed out it gets grid clusters whose counts add up."""
    h = api.headers(world.admin)
    near = api.client.get("/api/v1/visits.geojson", query_string={"zoom": 14}, headers=h)
    assert near.status_code == 200 and near.mimetype == "application/geo+json"
    assert near.json["type"] == "FeatureCollection" and near.json["clustered"] is False
    features = {f["properties"]["id"]: f for f in near.json["features"]}
    assert set(features) == {v.id for v in visits.values()}
    a2 = features[visits["a2"].id]
    assert a2["geometry"] == {"type": "Point", "coordinates": [107.60, -6.10]}
    assert a2["properties"]["flags"] == ["low_accuracy", "mock_location"]
    assert set(a2["properties"]) >= {"outcome", "visited_at", "agent_id", "flags"}

    far = api.client.get("/api/v1/visits.geojson", query_string={"zoom": 5}, headers=h).json
    assert far["clustered"] is True and far["total"] == 4
    counts = sorted(f["properties"]["count"] for f in far["features"])
    assert all(f["properties"]["cluster"] is True for f in far["features"])
    assert counts == [1, 3]  # Karawang's three visits share a cell at zoom 5; Makassar's is alone
    karawang = next(f for f in far["features"] if f["properties"]["count"] == 3)
    lon, lat = karawang["geometry"]["coordinates"]
    assert lat == pytest.approx((-6.32 - 6.10 - 6.32) / 3) and lon == pytest.approx((107.33 + 107.60 + 107.33) / 3)
    assert karawang["properties"]["flagged"] == 2


def test_geojson_clusters_above_the_point_limit(api, session, world, monkeypatch):
    """Over the point limit even a zoomed-in view is clustered, so the browser never gets every point."""
    for i in range(6):
        add_visit(session, world.agent_a, latitude=-6.3 + i * 0.0001, longitude=107.3)
    monkeypatch.setattr(geojson, "MAX_POINTS", 5)
    body = api.client.get("/api/v1/visits.geojson", query_string={"zoom": 16}, headers=api.headers(world.admin)).json
    assert body["clustered"] is True and body["total"] == 6
    assert sum(f["properties"]["count"] for f in body["features"]) == 6


def test_geojson_respects_bbox_and_scope(api, world, visits):
    """The map's bounding box and the caller's scope both apply to GeoJSON."""
    response = api.client.get(
        "/api/v1/visits.geojson",
        query_string={"zoom": 12, "bbox": "107.0,-6.5,107.5,-6.2"},
        headers=api.headers(world.supervisor),
    )
    assert {f["properties"]["id"] for f in response.json["features"]} == {visits["a1"].id, visits["b1"].id}


def test_coverage_counts_per_regency(api, world, visits):
    """Coverage lists regencies with their visit and flagged counts, scoped like everything else."""
    items = api.client.get("/api/v1/visits/coverage", headers=api.headers(world.supervisor)).json["items"]
    by_code = {item["regency_code"]: item for item in items}
    assert by_code["32.15"]["visits"] == 1 and by_code["32.15"]["flagged"] == 1
    assert by_code[None]["visits"] == 2 and by_code[None]["flagged"] == 1
    assert sum(item["visits"] for item in items) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "108,-7,107,-6"}, "bbox"),
        ({"bbox": "107,-6,108,-7"}, "bbox"),
        ({"bbox": "107,-6,108,nan"}, "bbox"),
        ({"bbox": "107,-95,108,-6"}, "bbox"),
        ({"from": 5, "to": 4}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": -1}, "to"),
        ({"flag": "sleepy_agent"}, "flag"),
        ({"outcome": "maybe"}, "outcome"),
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "W3siYSI6MX0sW11d"}, "cursor"),  # [{"a":1},[]]: valid base64 JSON, not our cursor
        ({"agent_id": "a/b"}, "agent_id"),
    ],
)
def test_bad_list_input_names_the_field(api, world, params, field):
    """Bad filters are 422 problem+json naming the field."""
    response = api.client.get("/api/v1/visits", query_string=params, headers=api.headers(world.supervisor))
    assert_problem(response, 422, field)


@pytest.mark.parametrize(("zoom", "field"), [(-1, "zoom"), (23, "zoom"), ("far", "zoom")])
def test_bad_zoom_names_the_field(api, world, zoom, field):
    """zoom must be an integer within 0..22."""
    response = api.client.get("/api/v1/visits.geojson", query_string={"zoom": zoom}, headers=api.headers(world.admin))
    assert_problem(response, 422, field)


def test_requires_a_login(client, world):
    """Without credentials every visit route is 401."""
    for path in ("/api/v1/visits", "/api/v1/visits.geojson", "/api/v1/visits/coverage", "/api/v1/visits/x"):
        assert_problem(client.get(path), 401)


def test_review_dismiss_and_confirm(api, world, visits):
    """A supervisor dismisses a flag with a note and confirms another; the detail shows who, when, why."""
    h = api.headers(world.supervisor)
    url = f"/api/v1/visits/{visits['a2'].id}/flags"
    dismissed = api.client.post(
        f"{url}/low_accuracy/review", json={"decision": "dismiss", "note": "hujan deras, GPS lemah"}, headers=h
    )
    assert dismissed.status_code == 201, dismissed.json
    assert dismissed.json["decision"] == "dismissed"
    assert dismissed.json["reviewed_by"] == world.supervisor.id and dismissed.json["reviewed_at"] > 0
    confirmed = api.client.post(f"{url}/mock_location/review", json={"decision": "confirm"}, headers=h)
    assert confirmed.status_code == 201 and confirmed.json["note"] is None

    detail = api.client.get(f"/api/v1/visits/{visits['a2'].id}", headers=h).json
    states = {s["flag"]: s for s in detail["flag_states"]}
    assert states["low_accuracy"]["status"] == "dismissed"
    assert states["low_accuracy"]["review"]["note"] == "hujan deras, GPS lemah"
    assert states["low_accuracy"]["review"]["reviewed_by_username"] == "spv.karawang"
    assert states["mock_location"]["status"] == "confirmed"
    assert len(detail["reviews"]) == 2

    geo = api.client.get("/api/v1/visits.geojson", query_string={"zoom": 14}, headers=h).json
    a2 = next(f for f in geo["features"] if f["id"] == visits["a2"].id)
    assert a2["properties"]["open_flags"] == ["mock_location"]
    # The flag filter still lists the visit: the flag is there, only reviewed.
    listed = api.client.get("/api/v1/visits", query_string={"flag": "low_accuracy"}, headers=h)
    assert ids(listed) == {visits["a2"].id}


def test_review_later_decision_wins_and_history_is_kept(api, world, visits):
    """A second review replaces the state but the first stays in the history."""
    h = api.headers(world.admin)
    url = f"/api/v1/visits/{visits['b1'].id}/flags/far_from_branch/review"
    assert api.client.post(url, json={"decision": "confirm", "note": "cek"}, headers=h).status_code == 201
    assert api.client.post(url, json={"decision": "dismiss", "note": "acara desa"}, headers=h).status_code == 201
    detail = api.client.get(f"/api/v1/visits/{visits['b1'].id}", headers=h).json
    assert detail["flag_states"][0]["status"] == "dismissed"
    assert [r["decision"] for r in detail["reviews"]] == ["confirmed", "dismissed"]


def test_review_errors(api, world, visits):
    """Review input errors name the field; other branches' visits and absent flags are 404; agents 403."""
    h = api.headers(world.supervisor)
    url = f"/api/v1/visits/{visits['a2'].id}/flags"
    assert_problem(api.client.post(f"{url}/low_accuracy/review", json={"decision": "dismiss"}, headers=h), 422, "note")
    assert_problem(
        api.client.post(f"{url}/low_accuracy/review", json={"decision": "ignore"}, headers=h), 422, "decision"
    )
    assert_problem(api.client.post(f"{url}/sleepy/review", json={"decision": "confirm"}, headers=h), 422, "flag")
    assert_problem(api.client.post(f"{url}/clock_skew/review", json={"decision": "confirm"}, headers=h), 404)
    other = api.headers(world.supervisor_makassar)
    assert_problem(api.client.post(f"{url}/low_accuracy/review", json={"decision": "confirm"}, headers=other), 404)
    agent = api.headers(world.agent_a)
    assert_problem(api.client.post(f"{url}/low_accuracy/review", json={"decision": "confirm"}, headers=agent), 403)


def test_pushed_visits_are_listed(api, world):
    """A visit pushed by a phone shows up in its supervisor's list and on the map."""
    record = visit(visited_at=T0, latitude=-6.31, longitude=107.31)
    pulled, pushed = api.sync(world.agent_a, changes(visits={"created": [record]}))
    assert pushed.status_code == 200
    listed = api.client.get("/api/v1/visits", headers=api.headers(world.supervisor))
    assert ids(listed) == {record["id"]}
    geo = api.client.get("/api/v1/visits.geojson", query_string={"zoom": 13}, headers=api.headers(world.supervisor))
    assert geo.json["features"][0]["geometry"]["coordinates"] == [107.31, -6.31]


def test_schema_constants_match_the_engine():
    """The wire contract's outcomes and flags are the engine's."""
    assert visit_schemas.OUTCOMES == OUTCOMES
    assert visit_schemas.FLAGS == FLAGS


def test_openapi_documents_the_routes(client):
    """Every visit route is in the OpenAPI document."""
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/api/v1/visits",
        "/api/v1/visits.geojson",
        "/api/v1/visits/coverage",
        "/api/v1/visits/{visit_id}",
        "/api/v1/visits/{visit_id}/flags/{flag}/review",
    ):
        assert path in paths
