"""The HTTP edge: NUL bytes, forged cursors, out-of-range times, schema messages, chunked bodies and
oversized request lines or headers are answered with problem+json naming the field, never a 5xx."""

from __future__ import annotations

import base64
import gzip
import io
import json
import string

import pytest
from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import EnvironBuilder, run_wsgi_app

import schemas
from schemas import auth, dedup, follow_ups, pagination, payments, reminders, sync, visits
from sync.models import PushArchive
from tests.factories import changes, enrollment, follow_up, visit

SCHEMA_MODULES = (auth, dedup, follow_ups, pagination, payments, reminders, sync, visits)
LIST_ROUTES = (
    "/api/v1/enrollments",
    "/api/v1/follow-ups",
    "/api/v1/reminders",
    "/api/v1/duplicates",
    "/api/v1/visits",
)
YEAR_10000_MS = 253_402_300_800_000


def assert_problem(response, status, field=None):
    if isinstance(status, int):
        status = (status,)
    assert response.status_code in status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == response.status_code and body["title"] and body["type"]
    if field:
        assert field in (body.get("errors") or {}), body


def spv(api, world, **extra):
    return api.headers(world.supervisor, "web", **extra)


def adm(api, world, **extra):
    return api.headers(world.admin, "web", **extra)


# --- 1. NUL bytes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["agen.a\x00", "\x00", "a\x00b"])
def test_nul_in_api_login_username_is_400(client, world, username):
    response = client.post("/api/v1/auth/login", json={"username": username, "password": "x", "device_id": "p"})
    assert_problem(response, 400, "username")


def test_nul_in_web_login_form_is_400(client, world):
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    response = client.post("/login", data={"csrf_token": "t", "username": "spv\x00", "password": "x"})
    assert_problem(response, 400, "username")


def _path_routes(app):
    """Every route with path parameters, once per method (HEAD/OPTIONS aside)."""
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint.endswith("static") or rule.endpoint == "web.vendor":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_nul_in_any_path_id_is_400_naming_it(api, world, app):
    checked = 0
    for rule, method in _path_routes(app):
        values = {name: "a\x00b" for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        assert "%00" in path
        for name in rule.arguments:
            response = api.client.open(path, method=method, json={}, headers=adm(api, world))
            assert_problem(response, 400, name)
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/visits/a%00b",
        "/api/v1/workers/%00",
        "/api/v1/visits/x/flags/mock%00location/review",
    ],
)
def test_nul_in_literal_paths(api, world, path):
    method = "POST" if path.endswith("review") else "GET"
    assert_problem(api.client.open(path, method=method, headers=spv(api, world)), 400)


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/enrollments?status=%00",
        "/api/v1/follow-ups?agent_id=a%00",
        "/api/v1/reminders?cursor=%00",
        "/api/v1/duplicates?status=open%00",
        "/api/v1/visits?bbox=1,2,3,4%00",
        "/api/v1/visits.geojson?zoom=%00",
        "/api/v1/visits/coverage?outcome=%00",
    ],
)
def test_nul_in_query_values_is_400_naming_the_parameter(api, world, query):
    name = query.split("?")[1].split("=")[0]
    assert_problem(api.client.get(query, headers=spv(api, world)), 400, name)


def test_nul_in_query_name_is_400(api, world):
    assert_problem(api.client.get("/api/v1/visits?a%00b=1", headers=spv(api, world)), 400)


def test_last_pulled_at_nul_on_pull_and_push_is_4xx(api, world):
    pulled = api.client.get(
        "/api/v1/sync/pull?last_pulled_at=%00&schema_version=1&migration=null", headers=api.headers(world.agent_a)
    )
    assert_problem(pulled, (400, 422), "last_pulled_at")
    pushed = api.client.post(
        "/api/v1/sync/push?last_pulled_at=%00", json={"changes": changes()}, headers=api.headers(world.agent_a)
    )
    assert_problem(pushed, (400, 422), "last_pulled_at")


def test_nul_in_a_header_is_400_naming_it(api, world):
    response = api.client.post(
        "/api/v1/sync/push?last_pulled_at=1",
        json={"changes": changes()},
        headers=api.headers(world.agent_a, **{"Idempotency-Key": "k\x00"}),
    )
    assert_problem(response, 400, "Idempotency-Key")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/reminders", {"agent_id": "AGENT", "text": "rapat\x00"}, "text"),
        ("/api/v1/follow-ups", {"assigned_agent_id": "AGENT", "due_at": 1, "outcome_notes": "\x00"}, "outcome_notes"),
        (
            "/api/v1/reminders",
            {"agent_id": "AGENT", "text": "ok", "nested": {"deep": ["x", "a\x00"]}},
            "nested.deep[1]",
        ),
        ("/api/v1/follow-ups", {"assigned_agent_id": "AGENT", "due_at": 1, "k\x00": 1}, "k\\u0000"),
    ],
)
def test_nul_in_json_strings_is_400_naming_the_field(api, world, path, body, field):
    body = json.loads(json.dumps(body).replace("AGENT", world.agent_a.id))
    assert_problem(api.client.post(path, json=body, headers=spv(api, world)), 400, field)


def test_nul_in_gzip_json_is_400(api, world):
    data = gzip.compress(json.dumps({"agent_id": world.agent_a.id, "text": "a\x00"}).encode())
    headers = spv(api, world, **{"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert_problem(api.client.post("/api/v1/reminders", data=data, headers=headers), 400, "text")


def test_escaped_backslash_before_u0000_is_not_a_nul(api, world):
    body = json.dumps({"agent_id": world.agent_a.id, "text": "C:\\u0000 path"})
    assert "\\\\u0000" in body
    response = api.client.post("/api/v1/reminders", data=body, content_type="application/json", headers=spv(api, world))
    assert response.status_code == 201 and response.json["text"] == "C:\\u0000 path"


def test_push_values_with_nul_are_sanitised_not_refused(api, world):
    """The push keeps its own rules: record values are cleaned by the engine, the push is applied."""
    record = visit(notes="rumah\x00dekat")
    response = api.push(world.agent_a, changes(visits={"created": [record]}), 1)
    assert response.status_code == 200, response.json
    assert record["id"] in response.json["results"]["visits"]


# --- 3. Marshmallow messages with braces -----------------------------------------------------------------

ALLOWED_PLACEHOLDERS = {"input", "regex", "min", "max", "equal", "choices", "labels", "other", "value"}


def _all_fields(schema_class):
    for name, field in schema_class._declared_fields.items():
        yield schema_class.__name__ + "." + name, field
        for inner in ("inner", "value_field", "key_field"):
            if getattr(field, inner, None) is not None:
                yield schema_class.__name__ + "." + name + "." + inner, getattr(field, inner)


def test_no_schema_message_has_a_stray_format_field():
    """marshmallow formats validator messages with str.format: ``{1,64}`` in a message is a KeyError."""
    bad = []
    for module in SCHEMA_MODULES:
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, Schema)):
                continue
            for where, field in _all_fields(value):
                for validator in field.validators:
                    error = getattr(validator, "error", None)
                    if not isinstance(error, str):
                        continue
                    try:
                        names = {name for _, name, _, _ in string.Formatter().parse(error) if name is not None}
                    except ValueError:
                        bad.append((where, error))
                        continue
                    if names - ALLOWED_PLACEHOLDERS:
                        bad.append((where, error))
    assert schemas and not bad


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/v1/follow-ups?agent_id=bad!", None, "agent_id"),
        ("GET", "/api/v1/follow-ups?worker_id=" + "x" * 65, None, "worker_id"),
        ("POST", "/api/v1/follow-ups", {"assigned_agent_id": "bad id", "due_at": 1}, "assigned_agent_id"),
        ("POST", "/api/v1/follow-ups", {"assigned_agent_id": "AGENT", "due_at": 1, "worker_id": "?"}, "worker_id"),
        ("POST", "/api/v1/follow-ups", {"assigned_agent_id": "AGENT", "due_at": 1, "visit_id": "é"}, "visit_id"),
        ("POST", "/api/v1/follow-ups", {"assigned_agent_id": "AGENT", "due_at": 1, "id": "a b"}, "id"),
        (
            "POST",
            "/api/v1/follow-ups",
            {"assigned_agent_id": "AGENT", "due_at": 1, "enrollment_id": ""},
            "enrollment_id",
        ),
        ("PATCH", "/api/v1/follow-ups/FOLLOWUP", {"assigned_agent_id": "no/slash"}, "assigned_agent_id"),
        ("POST", "/api/v1/reminders", {"agent_id": "bad id", "text": "x"}, "agent_id"),
        ("POST", "/api/v1/reminders", {"worker_id": "bad id", "text": "x"}, "worker_id"),
    ],
)
def test_invalid_ids_on_follow_ups_and_reminders_are_422(api, world, method, path, body, field):
    _, pushed = api.sync(world.agent_a, changes(follow_ups={"created": [follow_up()]}))
    follow_up_id = next(iter(pushed.json["results"]["follow_ups"]))
    path = path.replace("FOLLOWUP", follow_up_id)
    if body is not None:
        body = json.loads(json.dumps(body).replace("AGENT", world.agent_a.id))
    response = api.client.open(path, method=method, json=body, headers=spv(api, world))
    assert_problem(response, 422, field)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/v1/follow-ups/bad%20id"),
        ("PATCH", "/api/v1/follow-ups/" + "x" * 300),
        ("POST", "/api/v1/reminders/bad%20id/retry"),
        ("POST", "/api/v1/reminders/" + "x" * 300 + "/retry"),
    ],
)
def test_invalid_path_ids_on_follow_ups_and_reminders_are_404(api, world, method, path):
    response = api.client.open(path, method=method, json={"status": "done"}, headers=spv(api, world))
    assert_problem(response, 404)


# --- 4. Forged cursors ------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED_CURSORS = [
    "!!!",
    "é",
    "a",
    _b64(b"\xff\xfe"),
    _b64(b"null"),
    _b64(b"[1]"),
    _b64(b"[1,2,3]"),
    _b64(b'{"a":1}'),
    _b64(b'[1e400,"x"]'),
    _b64(b'[-1e400,"x"]'),
    _b64(b'[NaN,"x"]'),
    _b64(b'[99999999999999999999999999,"x"]'),
    _b64(b'[-99999999999999999999999999,"x"]'),
    _b64(b"[" + b"9" * 300 + b',"x"]'),
    _b64(b'[1,"\\u0000"]'),
    _b64(b'["\\u0000",  "x"]'),
    _b64(b'[1,"' + b"x" * 200 + b'"]'),
    _b64(b"[1,2]"),
    _b64(b'[[1],"x"]'),
    _b64(b'[{"a":1},"x"]'),
    _b64(b'[true,"x"]'),
    _b64(b"[1,null]"),
    _b64(b'["x","y"]'),
    _b64(b'[1.5,"x"]'),
    _b64(b"[" * 200 + b"]" * 200),
]


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_forged_cursor_is_4xx_naming_cursor(api, world, route, cursor):
    response = api.client.get(route, query_string={"cursor": cursor}, headers=adm(api, world))
    assert_problem(response, (400, 422), "cursor")


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_real_cursors_still_page(api, world, route):
    body = changes(
        enrollments={"created": [enrollment(), enrollment(full_name="Siti Aminah")]},
        visits={"created": [visit(outcome="interested"), visit(outcome="interested")]},
    )
    api.sync(world.agent_a, body)
    for text in ("satu", "dua"):
        api.client.post("/api/v1/reminders", json={"agent_id": world.agent_a.id, "text": text}, headers=adm(api, world))
    first = api.client.get(route, query_string={"limit": 1}, headers=adm(api, world))
    assert first.status_code == 200, first.json
    if route == "/api/v1/duplicates":
        return  # no candidates in this world
    assert first.json["next_cursor"]
    second = api.client.get(
        route, query_string={"limit": 1, "cursor": first.json["next_cursor"]}, headers=adm(api, world)
    )
    assert second.status_code == 200 and second.json["items"]
    assert second.json["items"][0]["id"] != first.json["items"][0]["id"]


# --- 5. Times out of range --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route", ["/api/v1/enrollments", "/api/v1/visits", "/api/v1/visits.geojson", "/api/v1/visits/coverage"]
)
@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("value", [str(2**63), str(2**64 + 5), str(YEAR_10000_MS), str(2**53), "-1"])
def test_time_filters_out_of_range_are_422(api, world, route, name, value):
    response = api.client.get(route, query_string={name: value}, headers=spv(api, world))
    assert_problem(response, 422, name)


@pytest.mark.parametrize("due_at", [2**63, 2**64, YEAR_10000_MS, 2**53, -1])
def test_due_at_out_of_range_is_422(api, world, due_at):
    created = api.client.post(
        "/api/v1/follow-ups", json={"assigned_agent_id": world.agent_a.id, "due_at": due_at}, headers=spv(api, world)
    )
    assert_problem(created, 422, "due_at")
    reminder = api.client.post(
        "/api/v1/reminders", json={"agent_id": world.agent_a.id, "text": "x", "due_at": due_at}, headers=spv(api, world)
    )
    assert_problem(reminder, 422, "due_at")
    ok = api.client.post(
        "/api/v1/follow-ups",
        json={"assigned_agent_id": world.agent_a.id, "due_at": 1_900_000_000_000},
        headers=spv(api, world),
    )
    assert ok.status_code == 201, ok.json
    patched = api.client.patch(f"/api/v1/follow-ups/{ok.json['id']}", json={"due_at": due_at}, headers=spv(api, world))
    assert_problem(patched, 422, "due_at")


# --- 8. Chunked bodies --------------------------------------------------------------------------------------


class _Chunks(io.RawIOBase):
    """A non-seekable request stream delivered in pieces, as a server de-chunking a body hands it over."""

    def __init__(self, data: bytes, piece: int = 65536):
        self._data, self._pos, self._piece = data, 0, piece

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self._piece, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def _chunked(app, path: str, data: bytes, headers: dict):
    environ = EnvironBuilder(path=path, method="POST", headers=headers).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input"] = io.BufferedReader(_Chunks(data))
    environ["wsgi.input_terminated"] = True
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    body = b"".join(app_iter)
    return int(status.split()[0]), dict(response_headers), body


def test_chunked_push_is_applied_and_archived_whole(api, world, app, engine, pii):
    record = visit()
    data = json.dumps({"changes": changes(visits={"created": [record]})}).encode()
    headers = api.headers(world.agent_a, **{"Content-Type": "application/json"})
    status, _, body = _chunked(app, "/api/v1/sync/push?last_pulled_at=1", data, headers)
    assert status == 200, body
    assert record["id"] in json.loads(body)["results"]["visits"]
    with Session(engine) as session:
        row = session.execute(select(PushArchive).order_by(PushArchive.id.desc())).scalars().first()
        assert row.body_bytes == len(data)
        from sync.protocol.archive import read_archived

        assert read_archived(session, pii, row.id).body == data


def test_chunked_gzip_push(api, world, app):
    record = visit()
    data = gzip.compress(json.dumps({"changes": changes(visits={"created": [record]})}).encode())
    headers = api.headers(world.agent_a, **{"Content-Type": "application/json", "Content-Encoding": "gzip"})
    status, _, body = _chunked(app, "/api/v1/sync/push?last_pulled_at=1", data, headers)
    assert status == 200, body and record["id"] in json.loads(body)["results"]["visits"]


def test_chunked_push_over_the_cap_is_413(api, world, make_app):
    small = make_app(MAX_BODY_BYTES=100_000)
    headers = api.headers(world.agent_a, **{"Content-Type": "application/json"})
    data = b'{"changes": {"visits": {"created": [' + b'{"id": "x"},' * 30_000 + b"]}}}"
    status, response_headers, body = _chunked(small, "/api/v1/sync/push?last_pulled_at=1", data, headers)
    assert status == 413, body[:300]
    assert response_headers["Content-Type"] == "application/problem+json"
    assert "body" in json.loads(body)["errors"]


def test_chunked_body_on_other_routes(api, world, app):
    data = json.dumps({"agent_id": world.agent_a.id, "text": "rapat"}).encode()
    headers = spv(api, world, **{"Content-Type": "application/json"})
    status, _, body = _chunked(app, "/api/v1/reminders", data, headers)
    assert status == 201, body


# --- 9. Request line and header limits ---------------------------------------------------------------------


def test_long_url_is_414_problem(api, world):
    response = api.client.get("/api/v1/visits?agent_id=" + "a" * 9000, headers=spv(api, world))
    assert_problem(response, 414)
    response = api.client.get("/api/v1/" + "a" * 9000)
    assert_problem(response, 414)


def test_url_just_under_the_limit_is_served(api, world):
    response = api.client.get("/api/v1/visits?agent_id=" + "a" * 7000, headers=spv(api, world))
    assert_problem(response, 422, "agent_id")


def test_large_header_is_431_problem(api, world):
    response = api.client.get("/api/v1/me", headers=spv(api, world, **{"X-Big": "a" * 17000}))
    assert_problem(response, 431)
    many = {f"X-Many-{i}": "b" * 200 for i in range(100)}
    response = api.client.get("/api/v1/me", headers=spv(api, world, **many))
    assert_problem(response, 431)


def test_ordinary_headers_are_served(api, world):
    response = api.client.get("/api/v1/me", headers=spv(api, world, **{"X-Big": "a" * 4000}))
    assert response.status_code == 200
