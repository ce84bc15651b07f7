"""CSV exports (docs/api.md "Exports"): scope, masking per role, formula cells, streaming, the audit entry."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import audit
from sync.exports import cells, stream
from sync.models import AccessLog
from tests.factories import changes, enrollment, valid_nik, visit

V = "/api/v1"
FORMULAS = ('=HYPERLINK("http://x","klik")', "+62 812 call", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
    assert text.startswith(stream.BOM)
    return list(csv.DictReader(io.StringIO(text.removeprefix(stream.BOM))))


def pushed(api, user, body) -> dict:
    response = api.push(user, body, 1)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def data(api, world):
    """Each agent pushes an enrolment and visits; A1's visits carry formula-looking notes."""
    people = {
        "a": enrollment(nik=valid_nik(101), phone="0812-3456-7890", full_name="Agus Salim"),
        "b": enrollment(nik=valid_nik(102), phone="0813-1111-2222", full_name="Budi Hartono"),
        "c": enrollment(nik=valid_nik(103), phone="0814-3333-4444", full_name="Citra Dewi", sex="F"),
    }
    people["c"]["nik"] = valid_nik(103, sex="F")
    notes = [visit(notes=text) for text in FORMULAS]
    pushed(api, world.agent_a, changes(enrollments={"created": [people["a"]]}, visits={"created": notes}))
    pushed(api, world.agent_b, changes(enrollments={"created": [people["b"]]}, visits={"created": [visit()]}))
    pushed(api, world.agent_c, changes(enrollments={"created": [people["c"]]}, visits={"created": [visit()]}))
    return {"people": people, "notes": notes}


def export(api, user, table: str, device: str = "web", **params):
    return api.client.get(f"{V}/export/{table}.csv", query_string=params, headers=api.headers(user, device))


def test_exports_are_scoped_like_their_lists(api, world, data):
    """Agent: own rows; supervisor: branch; admin: all; and the same rows as the list for the same filters."""
    expected = {
        world.agent_a: 1,
        world.supervisor: 2,
        world.supervisor_makassar: 1,
        world.admin: 3,
    }
    for user, count in expected.items():
        device = "phone-1" if user.role == "agent" else "web"
        got = rows_of(export(api, user, "enrollments", device))
        assert len(got) == count, (user.username, got)
        listed = api.client.get(f"{V}/enrollments", query_string={"limit": 500}, headers=api.headers(user, device))
        assert {r["id"] for r in got} == {item["id"] for item in listed.json["items"]}
    visits_of = {r["agent_id"] for r in rows_of(export(api, world.supervisor, "visits"))}
    assert visits_of == {world.agent_a.id, world.agent_b.id}
    assert len(rows_of(export(api, world.agent_a, "visits", "phone-1"))) == len(FORMULAS)


def test_filters_are_those_of_the_lists(api, world, data):
    only_b = rows_of(export(api, world.supervisor, "enrollments", agent_id=world.agent_b.id))
    assert [r["id"] for r in only_b] == [data["people"]["b"]["id"]]
    other_branch = rows_of(export(api, world.supervisor, "visits", branch_id=world.makassar.id))
    assert other_branch == []  # a filter outside the scope matches nothing
    listed = api.client.get(
        f"{V}/visits",
        query_string={"agent_id": world.agent_a.id, "limit": 500},
        headers=api.headers(world.admin, "web"),
    ).json["items"]
    exported = rows_of(export(api, world.admin, "visits", agent_id=world.agent_a.id))
    assert [r["id"] for r in exported] == [item["id"] for item in listed]  # the same rows in the same order


def test_nik_and_phone_are_masked_except_for_admins(api, world, data):
    person = data["people"]["a"]
    for user, device in ((world.agent_a, "phone-1"), (world.supervisor, "web")):
        row = next(r for r in rows_of(export(api, user, "enrollments", device)) if r["id"] == person["id"])
        assert row["nik"] == person["nik"][:6] + "********" + person["nik"][-2:]
        assert row["phone"].startswith("'+62812") and "*" in row["phone"]  # neutralised: it starts with +
        assert person["nik"] not in json.dumps(row)
    row = next(r for r in rows_of(export(api, world.admin, "enrollments")) if r["id"] == person["id"])
    assert row["nik"] == person["nik"]
    assert row["phone"] == "'+6281234567890"
    assert row["agent_username"] == world.agent_a.username and row["branch_code"] == world.karawang.code


def test_formula_cells_are_neutralised_and_numbers_kept(api, world, data):
    rows = rows_of(export(api, world.supervisor, "visits", agent_id=world.agent_a.id))
    assert sorted(r["notes"] for r in rows) == sorted("'" + text for text in FORMULAS)
    assert all(float(r["latitude"]) < 0 and not r["latitude"].startswith("'") for r in rows)
    assert all(r["visited_at_utc"].endswith("Z") for r in rows)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+62812", "'+62812"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("a=1", "a=1"),
        ("", ""),
        (None, ""),
        (-6.3227, "-6.3227"),
        (-5, "-5"),
        (True, "true"),
    ],
)
def test_cells(value, cell):
    assert cells.cell(value) == cell


def test_an_export_streams_page_by_page(api, world, data, monkeypatch):
    """The body is a generator: one chunk for the header, then one per page, each no larger than a page."""
    monkeypatch.setattr(stream, "PAGE_ROWS", 2)
    response = export(api, world.admin, "visits")
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="visits-')
    assert response.headers["Cache-Control"] == "no-store"
    chunks = [chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in response.response]
    total = len(FORMULAS) + 2
    assert len(chunks) == 1 + (total + 1) // 2
    for chunk in chunks[1:]:
        assert 1 <= len(list(csv.reader(io.StringIO(chunk)))) <= 2


def test_chunks_query_nothing_until_asked(world, session):
    """``csv_chunks`` is lazy: building it runs no query; the header comes before the first page is read."""
    from sync.exports import visits as visit_export
    from sync.visits.listing import VisitFilters
    from tests.factories import principal_of

    export_ = visit_export.export(principal_of(world.admin), VisitFilters())
    queried = []
    session.execute = lambda *a, **k: queried.append(a) or (_ for _ in ())  # type: ignore[method-assign]
    chunks = stream.csv_chunks(session, export_)
    assert queried == []
    assert next(chunks).startswith(stream.BOM + "id,visited_at,")
    assert queried == []


def test_every_export_is_audited_with_filters_and_rows(api, world, data, engine):
    rows_of(export(api, world.supervisor, "visits", agent_id=world.agent_a.id))
    rows_of(export(api, world.admin, "enrollments"))
    with Session(engine) as session:
        entries = session.execute(select(AccessLog).order_by(AccessLog.id)).scalars().all()
    exports = [e for e in entries if e.action.startswith("export.")]
    assert [(e.action, e.user_id) for e in exports] == [
        (audit.EXPORT_VISITS, world.supervisor.id),
        (audit.EXPORT_ENROLLMENTS, world.admin.id),
    ]
    assert json.loads(exports[0].detail) == {
        "filters": {"agent_id": world.agent_a.id},
        "masked": False,
        "rows": len(FORMULAS),
    }
    assert json.loads(exports[1].detail) == {"filters": {}, "masked": False, "rows": 3}
    masked = export(api, world.supervisor, "enrollments")
    rows_of(masked)
    with Session(engine) as session:
        last = session.execute(select(AccessLog).order_by(AccessLog.id.desc()).limit(1)).scalar_one()
    assert json.loads(last.detail)["masked"] is True


def test_an_unseen_person_is_not_revealed_through_an_export(api, world, data):
    """C's NIK-only enrolment of A's person: its link is left out, as the list leaves it out."""
    probe = enrollment(
        nik=data["people"]["a"]["nik"],
        full_name=None,
        birth_date=None,
        sex=None,
        phone=None,
        village=None,
        address=None,
    )
    pushed(api, world.agent_c, changes(enrollments={"created": [probe]}))
    row = next(r for r in rows_of(export(api, world.supervisor_makassar, "enrollments")) if r["id"] == probe["id"])
    assert row["status"] == "needs_correction"
    assert row["worker_id"] == "" and row["duplicate_of"] == ""
    admin_row = next(r for r in rows_of(export(api, world.admin, "enrollments")) if r["id"] == probe["id"])
    assert admin_row["worker_id"]


@pytest.mark.parametrize(
    ("table", "params", "field"),
    [
        ("visits", {"flag": "purple"}, "flag"),
        ("visits", {"from": "10", "to": "5"}, "from"),
        ("visits", {"bbox": "1,2,3"}, "bbox"),
        ("visits", {"outcome": "maybe"}, "outcome"),
        ("visits", {"from": str(10**30)}, "from"),
        ("visits", {"agent_id": "a b"}, "agent_id"),
        ("enrollments", {"status": "nope"}, "status"),
        ("enrollments", {"worker_id": "x" * 65}, "worker_id"),
        ("enrollments", {"to": "yesterday"}, "to"),
    ],
)
def test_bad_filters_are_problems_naming_the_field(api, world, table, params, field):
    response = export(api, world.admin, table, **params)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_nul_in_a_filter_is_refused_before_anything_runs(api, world):
    response = api.client.get(f"{V}/export/visits.csv?agent_id=a%00b", headers=api.headers(world.admin, "web"))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_an_export_needs_a_login(client):
    response = client.get(f"{V}/export/enrollments.csv")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_times_for_people_are_utc_and_never_fail():
    assert cells.iso_utc(1_750_000_000_123) == "2025-06-15T15:06:40Z"
    assert cells.iso_utc(None) is None
    assert cells.iso_utc(10**22) is None  # a phone's clock far beyond any calendar: an empty cell, not a 500


@pytest.mark.parametrize("read_all", [True, False])
def test_an_export_holds_no_connection_once_done_or_abandoned(app, api, world, data, monkeypatch, read_all):
    """Read to the end, or dropped after the first page (a client that went away): the read-only
    transaction ends and its connection goes back to the pool either way."""
    from server.extensions import db

    monkeypatch.setattr(stream, "PAGE_ROWS", 1)
    response = export(api, world.admin, "visits")
    chunks = iter(response.response)
    next(chunks)
    next(chunks)
    if read_all:
        assert len(list(chunks)) == len(FORMULAS) + 1
    response.close()
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
