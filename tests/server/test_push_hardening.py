"""Issue 9 on the push path: no NIK oracle, checked visit references, sealed archive, bodies of server
faults kept, NIKs in other digit scripts, revisits planned with an enrolment, a clock in epoch ms."""

from __future__ import annotations

import gzip
import importlib
import json
import time

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.models import AccessLog, Enrollment, FollowUp, PushArchive
from sync.protocol.archive import read_archived
from tests.factories import changes, enrollment, follow_up, valid_nik, visit

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _nik_only(nik: str, **extra) -> dict:
    """An enrolment holding nothing but a NIK: what a prober types to ask "who is this?"."""
    blank = dict.fromkeys(("full_name", "birth_date", "sex", "phone", "occupation", "address", "village", "programs"))
    return enrollment(nik=nik, monthly_income=None, **blank, **extra)


def test_a_nik_alone_never_opens_another_branchs_person(api, world):
    e = enrollment(full_name="Siti Rahayu", sex="F", nik=valid_nik(sex="F"), village="Tempuran")
    owner = api.push(world.agent_a, changes(enrollments={"created": [e]}), 1).json["results"]["enrollments"][e["id"]]
    probe = _nik_only(e["nik"])
    result = api.push(world.agent_c, changes(enrollments={"created": [probe]}), 1).json["results"]["enrollments"]
    assert result[probe["id"]]["status"] == "needs_correction"
    assert "worker_id" not in result[probe["id"]] and "duplicate_of" not in result[probe["id"]]
    pulled = api.pull(world.agent_c, device="c-probe").json["changes"]
    assert pulled["workers"]["created"] == []
    assert pulled["enrollments"]["created"][0]["worker_id"] is None
    assert "Siti" not in json.dumps(pulled)
    # Deleting the probe grants nothing either.
    stamp = api.pull(world.agent_c).json["timestamp"]
    api.push(world.agent_c, changes(enrollments={"deleted": [probe["id"]]}), stamp)
    assert api.pull(world.agent_c, device="c-later").json["changes"]["workers"]["created"] == []
    # The link is still made for matching: the server knows both records are one person.
    assert owner["worker_id"]


def test_own_incomplete_enrolment_of_a_known_person_still_shows_the_link(api, world):
    e = enrollment()
    worker = api.push(world.agent_a, changes(enrollments={"created": [e]}), 1).json["results"]["enrollments"][e["id"]]
    again = enrollment(
        nik=e["nik"], full_name=e["full_name"], birth_date=e["birth_date"], sex=e["sex"], occupation=None
    )
    result = api.push(world.agent_a, changes(enrollments={"created": [again]}), 1).json["results"]["enrollments"]
    assert result[again["id"]]["status"] == "needs_correction"
    assert result[again["id"]]["worker_id"] == worker["worker_id"]


def test_correcting_an_invalid_enrolment_brings_its_person(api, world):
    """Becoming valid is what opens a known person to the agent: the next pull brings them."""
    e = enrollment(full_name="Rudi Hartono")
    api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    probe = _nik_only(e["nik"])
    pulled, _ = api.sync(world.agent_c, changes(enrollments={"created": [probe]}))
    fixed = dict(e, id=probe["id"], _status="updated")
    stamp = api.pull(world.agent_c, pulled.json["timestamp"]).json["timestamp"]
    result = api.push(world.agent_c, changes(enrollments={"updated": [fixed]}), stamp).json["results"]["enrollments"]
    assert result[probe["id"]]["status"] == "duplicate" and result[probe["id"]]["worker_id"]
    later = api.pull(world.agent_c, stamp).json["changes"]["workers"]
    assert [w["full_name"] for w in later["created"] + later["updated"]] == ["Rudi Hartono"]


def test_a_visit_cannot_name_a_foreign_worker_or_enrolment(api, world, engine):
    e = enrollment()
    foreign = api.push(world.agent_a, changes(enrollments={"created": [e]}), 1).json["results"]["enrollments"][e["id"]]
    v = visit(worker_id=foreign["worker_id"], enrollment_id=e["id"], outcome="interested")
    result = api.push(world.agent_c, changes(visits={"created": [v]}), 1).json["results"]["visits"][v["id"]]
    assert result["status"] == "needs_correction"
    assert set(result["errors"]) >= {"worker_id", "enrollment_id"}
    pulled = api.pull(world.agent_c, device="c2").json["changes"]
    assert pulled["workers"]["created"] == []
    made = [f for f in pulled["follow_ups"]["created"] if f["visit_id"] == v["id"]]
    assert made and made[0]["worker_id"] is None and made[0]["enrollment_id"] is None


def test_references_to_records_of_the_same_push_are_the_agents_own(api, world):
    v = visit(outcome="enrolled")
    e = enrollment(visit_id=v["id"])
    v["enrollment_id"] = e["id"]
    f = follow_up(visit_id=v["id"], enrollment_id=e["id"])
    body = changes(enrollments={"created": [e]}, visits={"created": [v]}, follow_ups={"created": [f]})
    results = api.push(world.agent_a, body, 1).json["results"]
    assert results["enrollments"][e["id"]]["status"] == "verified"
    assert "warnings" not in results["enrollments"][e["id"]]
    assert results["visits"][v["id"]]["status"] == "accepted"
    assert results["follow_ups"][f["id"]]["status"] == "accepted"


@pytest.mark.parametrize("script", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic-indic"])
def test_nik_in_other_digit_scripts_is_the_same_nik(api, world, engine, script):
    first = enrollment()
    api.push(world.agent_a, changes(enrollments={"created": [first]}), 1)
    typed = enrollment(nik=first["nik"].translate(script), full_name=first["full_name"], phone=None)
    result = api.push(world.agent_b, changes(enrollments={"created": [typed]}), 1).json["results"]["enrollments"]
    assert result[typed["id"]]["status"] == "duplicate"
    with Session(engine) as session:
        indexes = session.execute(select(Enrollment.nik_index).where(Enrollment.id.in_([first["id"], typed["id"]])))
        assert len({i for (i,) in indexes}) == 1


def test_superscript_nik_is_a_correction_not_a_500(api, world):
    e = enrollment(nik="²" * 16)
    response = api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    assert response.status_code == 200
    assert "nik" in response.json["results"]["enrollments"][e["id"]]["errors"]


def test_revisit_planned_with_the_enrolment_stands(api, world, engine):
    """Only revisits planned before the person enrolled are obsolete; the agent's own plan made in the
    same sync (to collect the KK copy) stays scheduled."""
    v = visit(outcome="interested")
    api.push(world.agent_a, changes(visits={"created": [v]}), 1)
    earlier = follow_up(visit_id=v["id"], kind="revisit")
    stamp = api.pull(world.agent_a).json["timestamp"]
    api.push(world.agent_a, changes(follow_ups={"created": [earlier]}), stamp)
    e = enrollment(visit_id=v["id"])
    kk = follow_up(enrollment_id=e["id"], kind="revisit", outcome_notes="ambil fotokopi KK")
    enrolled = visit(outcome="enrolled", enrollment_id=e["id"])
    stamp = api.pull(world.agent_a, device="p").json["timestamp"]
    body = changes(enrollments={"created": [e]}, visits={"created": [enrolled]}, follow_ups={"created": [kk]})
    assert api.push(world.agent_a, body, stamp).status_code == 200
    with Session(engine) as session:
        status = dict(session.execute(select(FollowUp.id, FollowUp.status)).all())
    assert status[kk["id"]] == "scheduled"
    assert status[earlier["id"]] == "cancelled"
    # Editing the enrolment later cancels nothing more.
    later = follow_up(enrollment_id=e["id"], kind="revisit")
    stamp = api.pull(world.agent_a, device="p2").json["timestamp"]
    api.push(world.agent_a, changes(follow_ups={"created": [later]}), stamp)
    stamp = api.pull(world.agent_a, device="p3").json["timestamp"]
    edit = dict(e, _status="updated", address="Jl. Baru 1")
    api.push(world.agent_a, changes(enrollments={"updated": [edit]}), stamp, device="p3")
    with Session(engine) as session:
        assert session.get(FollowUp, later["id"]).status == "scheduled"


def test_first_pull_on_an_empty_database_is_epoch_milliseconds(api, world):
    before = time.time_ns() // 1_000_000 - 60_000
    assert api.pull(world.agent_a).json["timestamp"] >= before


def test_archived_bodies_are_sealed_and_hold_no_pii_in_the_clear(api, world, engine, pii):
    e = enrollment()
    api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    with Session(engine) as session:
        row = session.execute(select(PushArchive)).scalar_one()
        sealed = bytes(row.body_sealed)
        assert e["nik"].encode() not in sealed
        with pytest.raises(OSError):
            gzip.decompress(sealed)
        assert (
            json.loads(read_archived(session, pii, row.id).body)["changes"]["enrollments"]["created"][0]["nik"]
            == (e["nik"])
        )
        # Copied onto another row (another user's), the sealed body does not open.
        session.execute(update(PushArchive).where(PushArchive.id == row.id).values(user_id="someone-else"))
        with pytest.raises(InvalidTag):
            read_archived(session, pii, row.id)


def test_a_push_that_fails_with_a_server_fault_is_still_archived(api, world, engine, monkeypatch):
    sync_routes = importlib.import_module("server.api.sync")

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(sync_routes, "push", broken)
    response = api.push(world.agent_a, changes(visits={"created": [visit()]}), 1)
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    with Session(engine) as session:
        row = session.execute(select(PushArchive)).scalar_one()
    assert row.status == 500 and row.outcome.startswith("internal_error") and row.body_bytes > 0


def test_nul_in_last_pulled_at_is_refused_and_archived(api, world, engine):
    response = api.client.post(
        "/api/v1/sync/push?last_pulled_at=%00", json={"changes": changes()}, headers=api.headers(world.agent_a)
    )
    assert response.status_code in (400, 422)
    with Session(engine) as session:
        rows = session.execute(select(PushArchive)).scalars().all()
    assert all("\x00" not in (row.last_pulled_at or "") + row.outcome for row in rows)


def test_cli_reads_an_archived_push_and_records_the_access(app, api, world, engine):
    e = enrollment()
    api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    with Session(engine) as session:
        archive_id = session.execute(select(PushArchive.id)).scalar_one()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["push-archive", "show", str(archive_id)])
    assert refused.exit_code != 0  # a reason is required: it goes to the access log
    result = runner.invoke(args=["push-archive", "show", str(archive_id), "--reason", "dispute 17"])
    assert result.exit_code == 0, result.output
    assert e["nik"] in result.stdout
    missing = runner.invoke(args=["push-archive", "show", "999999", "--reason", "x"])
    assert missing.exit_code != 0 and "no archived push" in missing.output
    with Session(engine) as session:
        log = session.execute(select(AccessLog).where(AccessLog.action == "push_archive.view")).scalars().all()
    assert [(row.subject_id, row.detail) for row in log] == [(str(archive_id), "dispute 17")]


def test_cli_seals_bodies_archived_in_plain_gzip(app, engine, pii):
    body = json.dumps({"changes": {"enrollments": {"created": [{"nik": "3215011203850001"}]}}}).encode()
    with Session(engine) as session, session.begin():
        session.add(
            PushArchive(
                user_id="u1",
                device_id="d1",
                received_at=1,
                status=200,
                outcome="applied",
                body_sealed=gzip.compress(body),
                body_bytes=len(body),
            )
        )
    result = app.test_cli_runner().invoke(args=["push-archive", "seal"])
    assert result.exit_code == 0 and "sealed 1" in result.output
    with Session(engine) as session:
        row = session.execute(select(PushArchive)).scalar_one()
        assert b"3215011203850001" not in bytes(row.body_sealed)
        assert read_archived(session, pii, row.id).body == body
    again = app.test_cli_runner().invoke(args=["push-archive", "seal"])
    assert "sealed 0" in again.output


@pytest.mark.parametrize(
    "migration",
    [
        '{"from":1e400,"tables":[],"columns":[]}',
        '{"from":true,"tables":[],"columns":[]}',
        '{"from":1,"tables":"leads","columns":[]}',
        '{"from":1,"tables":[],"columns":[{"table":["x"],"columns":[]}]}',
        '{"from":99999999999999999999,"tables":[],"columns":[]}',
        "[" * 5000,
    ],
)
def test_malformed_migration_is_422_naming_it(api, world, migration):
    response = api.pull(world.agent_a, migration=migration)
    assert response.status_code == 422 and "migration" in response.json["errors"]


def test_lone_surrogates_are_replaced_in_pushes_and_refused_elsewhere(api, world):
    e = enrollment(full_name="Siti \ud800", nik=valid_nik())
    response = api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    assert response.status_code == 200
    pulled = api.pull(world.agent_a, device="s").json["changes"]["enrollments"]["created"]
    assert pulled[0]["full_name"] == "Siti \ufffd"
    odd_key = api.push(world.agent_a, {"enrollments": {"created": [], "\udc00x": []}}, 1)
    assert odd_key.status_code == 422
    login = api.client.post(
        "/api/v1/auth/login",
        data=b'{"username": "agen.a\\ud800", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert login.status_code == 400 and "username" in login.json["errors"]


@pytest.mark.parametrize("bad_id", ["abc\n", "a" * 64 + "\n", "x\ud800"])
def test_ids_must_match_the_whole_pattern(api, world, bad_id):
    v = visit(id=bad_id)
    response = api.push(world.agent_a, changes(visits={"created": [v]}), 1)
    assert response.status_code == 200
    assert response.json["results"]["visits"] == {
        bad_id[:64]: {"status": "rejected", "errors": {"id": ["id must match ^[A-Za-z0-9_-]{1,64}$"]}}
    }
    assert api.pull(world.agent_a, device="i").json["changes"]["visits"]["created"] == []


def test_records_without_a_string_id_are_rejected_by_position(api, world):
    no_id, numeric = visit(), visit(id=7)
    del no_id["id"]
    response = api.push(world.agent_a, changes(visits={"created": [no_id, numeric]}), 1)
    assert response.status_code == 200
    assert set(response.json["results"]["visits"]) == {"#created[0]", "#created[1]"}
    assert response.json["experimentalRejectedIds"] == {}


def test_a_push_over_the_size_limit_is_archived_as_413(make_app, world, engine):
    client = make_app(MAX_BODY_BYTES=2048).test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "agen.a", "password": "rahasia-123", "device_id": "big"}
    ).json["token"]
    body = json.dumps({"changes": changes(visits={"created": [visit(notes="x" * 4000)]})})
    response = client.post(
        "/api/v1/sync/push?last_pulled_at=1",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    with Session(engine) as session:
        row = session.execute(select(PushArchive)).scalar_one()
    assert row.status == 413


def test_framework_errors_carry_a_stable_code(api, world):
    assert api.client.get("/api/v1/nowhere").json["code"] == "not_found"
    assert api.client.delete("/api/v1/sync/pull", headers=api.headers(world.agent_a)).json["code"] == (
        "method_not_allowed"
    )
    bad = api.client.get("/api/v1/enrollments?limit=oops", headers=api.headers(world.supervisor))
    assert bad.status_code == 422 and bad.json["code"] == "invalid_request"
