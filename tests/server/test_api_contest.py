"""The contest over HTTP and the CLI: periods (admin writes, supervisors read), the leaderboard, its agent
ranking and CSV; roles (agents 403, another branch's ranking 404) and bad input as problem+json."""

from __future__ import annotations

import csv
import io

import pytest

from server.contest_commands import create_period_command
from server.extensions import db
from sync.contest.periods import targets_of
from sync.models import Branch
from sync.models.contest import ContestPeriod
from tests.sync.contest.support import at, enrol, period

V = "/api/v1/contest"


def headers(api, user):
    return api.headers(user, "web" if user.role != "agent" else "phone-1")


def post_period(api, user, **body):
    values = {"name": "Periode 1", "starts_on": "2031-01-01", "ends_on": "2031-01-31"} | body
    return api.client.post(f"{V}/periods", json=values, headers=headers(api, user))


def problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    for name in fields:
        assert any(key == name or key.startswith(name + ".") for key in response.json["errors"]), response.json
    return response.json


def test_admin_creates_and_changes_periods_supervisors_read_them(api, world):
    created = post_period(api, world.admin, targets={world.karawang.id: 500})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["timezone"], body["targets"], body["starts_on"], body["ends_on"]) == (
        "Asia/Jakarta",
        {world.karawang.id: 500},
        "2031-01-01",
        "2031-01-31",
    )
    # 2031-01-01 00:00 in Jakarta (UTC+7) is 2030-12-31 17:00 UTC; the end is 2031-02-01 00:00 local.
    assert (body["starts_at"], body["ends_at"]) == (at("2031-01-01", 0), at("2031-02-01", 0))
    listed = api.client.get(f"{V}/periods", headers=headers(api, world.supervisor_makassar))
    assert listed.status_code == 200 and [p["id"] for p in listed.json["items"]] == [body["id"]]
    changed = api.client.patch(
        f"{V}/periods/{body['id']}",
        json={"name": "Periode Satu", "targets": {world.karawang.id: None, world.makassar.id: 300}},
        headers=headers(api, world.admin),
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["name"], changed.json["targets"]) == ("Periode Satu", {world.makassar.id: 300})
    for role in (world.agent_a, world.supervisor):
        assert post_period(api, role, starts_on="2031-03-01", ends_on="2031-03-31").status_code == 403
        patch = api.client.patch(f"{V}/periods/{body['id']}", json={"name": "x"}, headers=headers(api, role))
        assert patch.status_code == 403
    assert api.client.get(f"{V}/periods", headers=headers(api, world.agent_a)).status_code == 403


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"starts_on": "2031-02-30"}, ("starts_on",)),
        ({"ends_on": "31-01-2031"}, ("ends_on",)),
        ({"starts_on": "2031-02-01", "ends_on": "2031-01-01"}, ("ends_on",)),
        ({"starts_on": "1999-12-31"}, ("starts_on",)),
        ({"timezone": "Europe/Paris"}, ("timezone",)),
        ({"name": ""}, ("name",)),
        ({"name": "   "}, ("name",)),
        ({"targets": {"nope": 5}}, ("targets.nope",)),
        ({"targets": {"bad id!": 5}}, ("targets",)),
        ({"targets": []}, ("targets",)),
        ({"surprise": 1}, ("surprise",)),
    ],
)
def test_bad_periods_are_422_naming_the_field(api, world, body, fields):
    problem(post_period(api, world.admin, **body), 422, *fields)


@pytest.mark.parametrize("target", [0, -1, 1.5, "5", True, 10**12])
def test_targets_are_whole_numbers_from_one(api, world, target):
    response = post_period(api, world.admin, targets={world.karawang.id: target})
    assert response.status_code == 422 and any(k.startswith("targets") for k in response.json["errors"])


def test_periods_never_overlap(api, world):
    first = post_period(api, world.admin).json
    clash = problem(post_period(api, world.admin, starts_on="2031-01-31", ends_on="2031-02-10"), 422, "starts_on")
    assert "Periode 1" in clash["errors"]["ends_on"][0]
    # 2031-02-01 00:00 in Jayapura (UTC+9) is Jan 31 22:00 in Jakarta: the same instants, an overlap.
    problem(post_period(api, world.admin, starts_on="2031-02-01", ends_on="2031-02-28", timezone="Asia/Jayapura"), 422)
    second = post_period(api, world.admin, name="Periode 2", starts_on="2031-02-01", ends_on="2031-02-28")
    assert second.status_code == 201
    moved = api.client.patch(
        f"{V}/periods/{second.json['id']}", json={"starts_on": "2031-01-15"}, headers=headers(api, world.admin)
    )
    problem(moved, 422, "starts_on", "ends_on")
    unknown = api.client.patch(f"{V}/periods/nope", json={"name": "x"}, headers=headers(api, world.admin))
    problem(unknown, 404)
    empty = api.client.patch(f"{V}/periods/{first['id']}", json={}, headers=headers(api, world.admin))
    problem(empty, 422)


@pytest.fixture
def scored(session, world, pii):
    """Karawang: agen.a on Jan 5 and Jan 7, agen.b on Jan 6; Makassar: agen.c on Jan 8. Names that look
    like formulas for the CSV."""
    odd = Branch(id="odd-branch", code="KC-ODD", name='=HYPERLINK("http://x")', kind="KC", latitude=-6, longitude=107)
    odd.region = "@SUM(A1)"
    session.add(odd)
    session.get(Branch, world.makassar.id).name = "-Makassar+"
    session.get(Branch, world.makassar.id).region = "+62 Sulawesi"
    session.commit()
    p1 = period(session, "Periode 1", "2031-01-01", "2031-01-31", {world.karawang.id: 4})
    for agent, day in ((world.agent_a, "2031-01-05"), (world.agent_b, "2031-01-06"), (world.agent_a, "2031-01-07")):
        enrol(session, pii, agent, at(day))
    enrol(session, pii, world.agent_c, at("2031-01-08"))
    return p1


def test_leaderboard_every_supervisor_sees_every_branch(api, world, scored):
    """As of Jan 7 12:00 (7 days elapsed): Karawang 2 (Jan 5, 6; Jan 7 12:00 is not before as_of), 2/4 = 50.0;
    Makassar 0, KC-ODD 0: code order, KC-ODD before KCU-MAKASSAR."""
    query = {"period_id": scored.id, "as_of": at("2031-01-07")}
    for user in (world.supervisor_makassar, world.admin):
        response = api.client.get(f"{V}/leaderboard", query_string=query, headers=headers(api, user))
        assert response.status_code == 200, response.json
        body = response.json
        assert (body["elapsed_days"], body["period_days"], body["previous_period"]) == (7, 31, None)
        got = [(i["rank"], i["branch_code"], i["enrollments"], i["target_pct"]) for i in body["items"]]
        assert got == [(1, "KCU-KARAWANG", 2, 50.0), (2, "KC-ODD", 0, None), (3, "KCU-MAKASSAR", 0, None)]
    agent = api.client.get(f"{V}/leaderboard", query_string=query, headers=headers(api, world.agent_a))
    assert agent.status_code == 403


def test_agent_ranking_is_scoped(api, world, scored):
    """Karawang as of Feb 1: agen.a 2 (Jan 5, 7), agen.b 1 (Jan 6)."""
    query = {"period_id": scored.id, "as_of": at("2031-02-01")}
    own = api.client.get(f"{V}/leaderboard/agents", query_string=query, headers=headers(api, world.supervisor))
    assert own.status_code == 200, own.json
    assert [(i["username"], i["enrollments"]) for i in own.json["items"]] == [("agen.a", 2), ("agen.b", 1)]
    other = dict(query, branch_id=world.makassar.id)
    problem(api.client.get(f"{V}/leaderboard/agents", query_string=other, headers=headers(api, world.supervisor)), 404)
    unknown = dict(query, branch_id="nope")
    problem(api.client.get(f"{V}/leaderboard/agents", query_string=unknown, headers=headers(api, world.admin)), 404)
    admin = api.client.get(f"{V}/leaderboard/agents", query_string=other, headers=headers(api, world.admin))
    assert [(i["username"], i["enrollments"]) for i in admin.json["items"]] == [("agen.c", 1)]
    unnamed = api.client.get(f"{V}/leaderboard/agents", query_string=query, headers=headers(api, world.admin))
    problem(unnamed, 422, "branch_id")
    agent = api.client.get(f"{V}/leaderboard/agents", query_string=query, headers=headers(api, world.agent_a))
    assert agent.status_code == 403


def test_csv_neutralises_formula_cells(api, world, scored):
    response = api.client.get(
        f"{V}/leaderboard.csv",
        query_string={"period_id": scored.id, "as_of": at("2031-02-01")},
        headers=headers(api, world.supervisor),
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="klasemen-2031-01-01-2031-01-31.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["branch_code"] for r in rows] == ["KCU-KARAWANG", "KCU-MAKASSAR", "KC-ODD"]
    by_code = {r["branch_code"]: r for r in rows}
    assert (by_code["KC-ODD"]["branch_name"], by_code["KC-ODD"]["region"]) == ('\'=HYPERLINK("http://x")', "'@SUM(A1)")
    assert (by_code["KCU-MAKASSAR"]["branch_name"], by_code["KCU-MAKASSAR"]["region"]) == (
        "'-Makassar+",
        "'+62 Sulawesi",
    )
    # Karawang 3 of 4 = 75.0; nulls are empty cells.
    karawang = by_code["KCU-KARAWANG"]
    assert (karawang["enrollments"], karawang["target_pct"], karawang["growth_pct"]) == ("3", "75.0", "")


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"as_of": "soon"}, 422, "as_of"),
        ({"as_of": str(10**20)}, 422, "as_of"),
        ({"as_of": "-5"}, 422, "as_of"),
        ({"as_of": "1.5"}, 422, "as_of"),
        ({"period_id": "nope"}, 404, "period_id"),
        ({"period_id": "../x"}, 422, "period_id"),
    ],
)
@pytest.mark.parametrize("route", ["leaderboard", "leaderboard.csv", "leaderboard/agents"])
def test_bad_leaderboard_queries_name_the_field(api, world, scored, route, query, status, field):
    response = api.client.get(f"{V}/{route}", query_string=query, headers=headers(api, world.supervisor))
    problem(response, status, field)


def test_no_period_yet_is_404_naming_period_id(api, world):
    problem(api.client.get(f"{V}/leaderboard", headers=headers(api, world.supervisor)), 404, "period_id")


def test_create_period_command(app, world, engine):
    runner = app.test_cli_runner()
    args = ["--name", "Periode 1", "--start", "2031-01-01", "--end", "2031-01-31"]
    done = runner.invoke(
        create_period_command, args=[*args, "--target", "KCU-KARAWANG=500", "--target", "KCU-MAKASSAR=20"]
    )
    assert done.exit_code == 0, done.output
    assert "created period Periode 1" in done.output
    clash = runner.invoke(
        create_period_command, args=["--name", "Lagi", "--start", "2031-01-15", "--end", "2031-02-15"]
    )
    assert clash.exit_code != 0 and "starts_on" in clash.output and "overlaps" in clash.output
    unknown = runner.invoke(create_period_command, args=[*args, "--target", "KC-NOPE=5"])
    assert unknown.exit_code != 0 and "KC-NOPE" in unknown.output
    malformed = runner.invoke(create_period_command, args=[*args, "--target", "KCU-KARAWANG"])
    assert malformed.exit_code != 0 and "CODE=NUMBER" in malformed.output
    zero = runner.invoke(
        create_period_command,
        args=["--name", "N", "--start", "2031-03-01", "--end", "2031-03-02", "--target", "KCU-KARAWANG=0"],
    )
    assert zero.exit_code != 0 and "targets" in zero.output
    bad_date = runner.invoke(
        create_period_command, args=["--name", "N", "--start", "2031-02-30", "--end", "2031-03-02"]
    )
    assert bad_date.exit_code != 0
    with app.app_context():
        only = db.session.query(ContestPeriod).one()
        assert targets_of(db.session, [only.id])[only.id] == {world.karawang.id: 500, world.makassar.id: 20}
        db.session.rollback()


def test_schema_copies_match_the_engine():
    """schemas/ never imports sync/: its copies of the zones and the target bound must agree."""
    from schemas import contest as wire
    from sync.calendar.workdays import ZONES
    from sync.contest.periods import MAX_TARGET

    assert (wire.ZONES, wire.MAX_TARGET) == (ZONES, MAX_TARGET)
