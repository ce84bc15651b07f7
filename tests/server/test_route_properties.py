"""Hostile requests to every route of the OpenAPI document (issue 9, "Fix the class → Property-based tests";
docs/api.md "Conventions"): query strings, path ids, headers and bodies, each sent as an agent, a supervisor and an
admin with real tokens, and anonymously (on the gateway's own route also with the webhook secret).

Property: never a 5xx, and every error is ``application/problem+json``. (``/readyz`` answers its documented
503 health document on a test database built without Alembic's stamp; that is not an error page.)

Two tests: hypothesis draws random requests per route (mostly valid, with one hostile part, so the hostile
value gets past validation; sometimes all hostile at once), and a deterministic sweep puts each hostile value
of a fixed list (issue 9's own findings among them) into each part of each route in turn. Both try every
route and report every failing one (the request and the project line that raised), not only the first.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import time
from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sync.models import Device, Token
from sync.models.sync_state import RateLimitWindow
from tests.factories import ApiHelper, changes, enrollment, visit

from .property_support import property_settings, server_error_key, server_error_trace

SECRET = "route-props-webhook-secret"
EXAMPLES_PER_ROUTE = 8
ROLES = ("agent", "supervisor", "admin", "anonymous")

NASTY_TEXT = [
    "",
    "\x00",
    "a\x00b",
    "%00",
    "x" * 200,
    "é",
    "𝔘𝔫𝔦",
    "²",
    "１２３",
    "..",
    "../..",
    ".",
    "a/b",
    " ",
    "null",
    "-1",
    "0",
    "1e400",
    "-1e400",
    "NaN",
    "9" * 30,
    str(2**63),
    str(-(2**63) - 1),
    "253402300800000",  # year 10000 in ms
    "99999999999999999999999999",
    "true",
    "[]",
    "{}",
    '{"from":1e400,"tables":[],"columns":[]}',
    '{"from":1,"tables":[1],"columns":[{"table":[]}]}',
    "eyJpZCI6ICJ4In0=",  # base64 JSON: a forged cursor
    "eyJrIjogWzEsIDJdfQ",
    "AAAA",
    "-6.5,106,-6,107",
    "1,2,3",
    "999,999,999,999",
    "\u202e",
    "\r\n",
]
BAD_HEADER_VALUES = [
    "é",
    "Bearer é",
    "Bearer 𝔘",
    "Bearer " + "a" * 5000,
    "Bearer",
    "Basic Zm9vOmJhcg==",
    "sha256=é",
    "sha256=" + "0" * 64,
    "sha256=zz",
    "",
    " ",
    "x" * 300,
    "２０２６",
    "gzip, br",
]
FLAGS = ["low_accuracy", "mock_location", "impossible_travel", "clock_skew", "far_from_branch", "stacked_location"]

text = st.text(max_size=40)
nasty_text = st.one_of(st.sampled_from(NASTY_TEXT), st.sampled_from(NASTY_TEXT), text)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 253402300800000, 1e308, -0.0, 0.5]),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=6
)


def header_value(value: str) -> str:
    """What a WSGI server hands the app for a header sent as UTF-8 bytes (PEP 3333: latin-1 decoded).
    Control characters are dropped: gunicorn refuses them before the app sees the request."""
    raw = value.encode("utf-8").decode("latin-1")
    return "".join(c for c in raw if c == "\t" or not (ord(c) < 0x20 or ord(c) == 0x7F))


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations(doc: dict) -> list[dict]:
    ops = []
    for path, item in doc["paths"].items():
        path_params = [p["name"] for p in item.get("parameters", [])]
        for method, op in item.items():
            if method == "parameters":
                continue
            path_params_all = path_params + [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            content = op.get("requestBody", {}).get("content", {})
            json_schema = _resolve(doc, content["application/json"]["schema"]) if "application/json" in content else {}
            ops.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "path_params": path_params_all,
                    "query": [p["name"] for p in op.get("parameters", []) if p["in"] == "query"],
                    "query_schemas": {p["name"]: p.get("schema", {}) for p in op.get("parameters", [])},
                    "json": "application/json" in content,
                    "csv": "text/csv" in content,
                    "properties": json_schema.get("properties", {}),
                }
            )
    return ops


@st.composite
def csv_bodies(draw) -> bytes:
    header = draw(
        st.sampled_from(
            [
                "nik,contribution_month,amount,paid_at",
                "nik,name,birth_date,membership_status",
                "",
                "nik",
                "\ufeffnik,contribution_month,amount,paid_at",
            ]
        )
    )
    cells = st.one_of(
        nasty_text,
        st.sampled_from(["3215011203850001", "²" * 16, "３２１５０１１２０３８５０００１", "2025-06", "16800"]),
        st.sampled_from(["9" * 40, "-1", "9999-12", "99999-01-01", "1e400"]),  # a 140 KB cell: see the sweep
    )
    lines = draw(st.lists(st.lists(cells, min_size=1, max_size=5), max_size=4))
    body = "\n".join([header] + [",".join(c.replace(",", " ") for c in line) for line in lines])
    if draw(st.integers(0, 9)) == 0:
        return body.encode("utf-8")[:-1] + b"\xff"  # not UTF-8
    return body.encode("utf-8")


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, allow_nan=True).encode()).decode().rstrip("=")


NUMBERS = ["-1", "0", "1e400", "-1e400", "NaN", "inf", "9" * 30, str(2**63), str(2**53), "253402300800000", "1.5", "０"]
DATES = ["9999-12-31", "99999-01-01", "0000-01-01", "2025-02-30", "2025-06-10T25:00:00", "1e400"]
QUERY_VALUES = {
    "cursor": st.one_of(
        st.lists(json_scalars, min_size=0, max_size=3).map(_cursor),
        st.sampled_from(
            ["!!!", "AAAA", "/w==", base64.urlsafe_b64encode(b"\xff\xfe").decode(), _cursor([10**30, "x"])]
        ),
    ),
    "limit": st.sampled_from(NUMBERS + ["500", "501"]),
    "from": st.sampled_from(NUMBERS + DATES),
    "to": st.sampled_from(NUMBERS + DATES),
    "zoom": st.sampled_from(NUMBERS + ["25", "-5"]),
    "bbox": st.one_of(
        st.lists(st.sampled_from(NUMBERS + ["106", "-6", "1e308"]), min_size=0, max_size=5).map(",".join),
        st.just("95,-11,141,6"),
    ),
    "migration": st.one_of(
        st.sampled_from(
            ['{"from":1e400,"tables":[],"columns":[]}', '{"from":"x"}', "[]", "{", '{"from":1,"tables":{}}']
        ),
        st.fixed_dictionaries({"from": json_scalars, "tables": json_values, "columns": json_values}).map(
            lambda d: json.dumps(d, allow_nan=True)
        ),
    ),
    "last_pulled_at": st.sampled_from(NUMBERS + ["\x00", "null", ""]),
    "schema_version": st.sampled_from(NUMBERS + ["\x00", "null", "2"]),
}


NOW_MS = int(time.time() * 1000)
VALID_QUERY = {
    "limit": ["10", "500"],
    "from": ["0", str(NOW_MS - 30 * 86_400_000)],
    "to": [str(NOW_MS + 86_400_000)],
    "bbox": ["95,-11,141.1,6", "107,-6.5,108,-6"],
    "zoom": ["5", "12"],
    "last_pulled_at": ["null", "0"],
    "schema_version": ["1"],
    "migration": ["null"],
    "overdue": ["true", "false"],
    "outcome": ["interested"],
    "flag": FLAGS,
}
VALID_BODY = {
    "username": ["agen.a", "nobody"],
    "password": ["rahasia-123", "wrong"],
    "device_id": ["route-props"],
    "due_at": [NOW_MS + 2 * 86_400_000],
    "text": ["Jangan lupa setor iuran"],
    "note": ["KTP checked"],
    "phone": ["081234567890"],
    "changes": [{}],
}


def _valid_query(name: str, schema: dict, real_ids: dict):
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if name in VALID_QUERY:
        return st.sampled_from(VALID_QUERY[name])
    if name.endswith("_id"):
        return st.sampled_from(real_ids.get(name) or real_ids["any"])
    return st.just("1" if schema.get("type") == "integer" else "x")


def _valid_body(name: str, schema: dict, real_ids: dict):
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if name in VALID_BODY:
        return st.sampled_from(VALID_BODY[name])
    if name.endswith("_id"):
        return st.sampled_from(real_ids.get(name) or real_ids["any"])
    return st.just({"integer": 1, "boolean": True, "string": "catatan"}.get(schema.get("type"), None))


def _nasty_body(name: str, schema: dict, real_ids: dict):
    choices = [json_values]
    if schema.get("type") == "integer" or name.endswith("_at"):
        choices.append(st.sampled_from([2**63, 10**30, -1, 253402300800000, 2**53, 1e308, 0.5]))
    if name.endswith("_id"):
        choices.append(st.sampled_from(["a" * 100, "\x00", "x\n", "é"] + real_ids["any"]))
    return st.one_of(*choices)


def _path(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe="") if value not in (".", "..") else value)
    return path


@st.composite
def requests_for(draw, op: dict, real_ids: dict[str, list[str]]):
    """One request. Mostly a valid request with one part made hostile (so the hostile value reaches the code
    behind validation); sometimes everything random at once."""
    chaos = draw(st.integers(0, 3)) == 0
    parts = [f"path:{n}" for n in op["path_params"]] + [f"query:{n}" for n in op["query"]]
    parts += [f"body:{n}" for n in op["properties"]] + ["body", "header", "query:*"]
    target = draw(st.sampled_from(parts))

    values = {}
    for name in op["path_params"]:
        valid = st.sampled_from(real_ids.get(name) or real_ids["any"])
        values[name] = draw(nasty_text if chaos or target == f"path:{name}" else valid)
    path = _path(op["path"], values)

    pairs = []
    for name in op["query"]:
        schema = op["query_schemas"].get(name, {})
        if chaos or target == f"query:{name}":
            if draw(st.integers(0, 4)) or target == f"query:{name}":
                pairs.append((name, draw(st.one_of(QUERY_VALUES.get(name, nasty_text), nasty_text))))
        elif draw(st.booleans()):
            pairs.append((name, draw(_valid_query(name, schema, real_ids))))
    if chaos or target == "query:*":
        names = st.one_of(st.sampled_from(op["query"] or ["limit"]), st.sampled_from(["cursor", "from", "x"]), text)
        pairs += draw(st.lists(st.tuples(names, nasty_text), min_size=1, max_size=3))  # repeats and strangers
    query = urlencode(draw(st.permutations(pairs)))
    if chaos and draw(st.integers(0, 3)) == 0:
        query += draw(st.sampled_from(["&%ff=%fe", "&novalue", "&=x", "&limit", "&%00=%00", "&a=%zz"]))

    headers: dict[str, str] = {}
    auth = None
    encoding = content_type = None
    if chaos or target == "header":
        auth = draw(st.one_of(st.none(), st.sampled_from(BAD_HEADER_VALUES), text.map(lambda t: "Bearer " + t)))
        for name in ("X-Jangkau-Signature", "X-Jangkau-Timestamp", "Idempotency-Key"):
            value = draw(st.one_of(st.none(), st.sampled_from(BAD_HEADER_VALUES), text, st.just("valid")))
            if value is not None:
                headers[name] = value
        encoding = draw(st.sampled_from([None, "gzip", "gzip-raw", "br", "identity", "é", "GZIP", "x-custom"]))
        content_type = draw(
            st.sampled_from(
                [None, "text/plain", "application/json; charset=latin-1", "multipart/form-data", "é", "text/csv"]
            )
        )
    elif op["path"].endswith("/opt-out") or op["path"].endswith("/push"):
        headers[draw(st.sampled_from(["X-Jangkau-Signature", "Idempotency-Key"]))] = "valid"

    if op["csv"]:
        body = draw(st.one_of(csv_bodies(), st.just(b"")))
        default_type = "text/csv"
    elif op["json"] or (chaos and draw(st.integers(0, 4)) == 0):
        props = op["properties"]
        if chaos or target == "body":
            value = draw(
                st.one_of(
                    json_values,
                    st.fixed_dictionaries({}, optional={k: _nasty_body(k, v, real_ids) for k, v in props.items()}),
                )
            )
        else:
            value = {}
            for name, schema in props.items():
                if target == f"body:{name}":
                    value[name] = draw(_nasty_body(name, schema, real_ids))
                elif draw(st.integers(0, 3)):
                    value[name] = draw(_valid_body(name, schema, real_ids))
        body = json.dumps(value, allow_nan=True).encode()
        default_type = "application/json"
    else:
        body, default_type = b"", None
    if encoding == "gzip":
        body = gzip.compress(body)
    if encoding is not None:
        headers["Content-Encoding"] = "gzip" if encoding == "gzip-raw" else encoding
    if content_type or default_type:
        headers["Content-Type"] = content_type or default_type
    return {"method": op["method"], "path": path, "query": query, "headers": headers, "auth": auth, "body": body}


def _sign(body: bytes, headers: dict) -> None:
    """Replace a ``valid`` signature placeholder with a real one (timestamped recipe of sync.reminders.channels)."""
    if headers.get("X-Jangkau-Signature") == "valid" or headers.get("X-Jangkau-Timestamp") == "valid":
        stamp = str(int(time.time()))
        headers["X-Jangkau-Timestamp"] = stamp
        digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Jangkau-Signature"] = "sha256=" + digest
    if headers.get("Idempotency-Key") == "valid":
        headers["Idempotency-Key"] = "idem-1"


def _seed(helper: ApiHelper, world, engine) -> dict[str, list[str]]:
    """Real records, so that valid parts of a request name existing rows (and reach the code behind them)."""
    fisherman = enrollment(nik="3215011203850007", full_name="Muhammad Yusuf", phone="081234567890")
    twin = enrollment(nik="3215011203850008", full_name="Muhammad Yunus", phone="081234567890")
    v = visit(outcome="interested", enrollment_id=fisherman["id"])
    _, pushed = helper.sync(world.agent_a, changes(enrollments={"created": [fisherman]}, visits={"created": [v]}))
    assert pushed.status_code == 200, pushed.get_data(as_text=True)
    worker_id = pushed.json["results"]["enrollments"][fisherman["id"]].get("worker_id")
    helper.sync(world.agent_b, changes(enrollments={"created": [twin]}))
    pulled = helper.pull(world.agent_a, device="seed-reader").json["changes"]
    follow_ups = [r["id"] for r in pulled["follow_ups"]["created"]]
    supervisor = helper.headers(world.supervisor, "seed")
    reminder = helper.client.post(
        "/api/v1/reminders", json={"agent_id": world.agent_a.id, "text": "Jangan lupa setor"}, headers=supervisor
    )
    reminders = [reminder.json["id"]] if reminder.status_code in (200, 201) else []
    queue = helper.client.get("/api/v1/duplicates", headers=supervisor).json.get("items", [])
    helper.token(world.agent_b, "to-revoke")
    with Session(engine) as session:
        devices = list(session.execute(select(Device.id).where(Device.user_id == world.agent_b.id)).scalars())
    agents = [world.agent_a.id, world.agent_b.id, world.agent_c.id]
    return {
        "any": [worker_id or "w", v["id"], fisherman["id"], world.agent_a.id],
        "worker_id": [worker_id] if worker_id else [],
        "visit_id": [v["id"]],
        "enrollment_id": [fisherman["id"], twin["id"]],
        "follow_up_id": follow_ups,
        "reminder_id": reminders,
        "device_id": devices,
        "candidate_id": [c["id"] for c in queue],
        "flag": FLAGS,
        "agent_id": agents,
        "assigned_agent_id": agents,
        "branch_id": [world.karawang.id, world.makassar.id],
    }


def _restore(engine) -> None:
    """Undo what one example may have done to the callers themselves (a logout, a revoked device, counters)."""
    with Session(engine) as session, session.begin():
        session.execute(update(Token).values(revoked_at=None))
        session.execute(update(Device).values(revoked_at=None))
        session.execute(delete(RateLimitWindow))


def _describe(request: dict, headers: dict) -> str:
    shown = {k: (v if len(v) <= 60 else v[:60] + f"…({len(v)})") for k, v in headers.items() if k != "Authorization"}
    auth = headers.get("Authorization", "")
    body = request["body"]
    return (
        f"{request['method']} {request['path'][:150]}?{request['query'][:200]} headers={shown} "
        f"auth={auth[:20]!r} body={body[:200]!r}{f'…({len(body)} bytes)' if len(body) > 200 else ''}"
    )


def _failures_of(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for sub in error.exceptions for leaf in _failures_of(sub)]
    return [error]


def _roles(op: dict) -> tuple[str, ...]:
    if op["path"].endswith("/auth/login"):
        return ("anonymous", "agent")  # the role changes nothing here, and every login costs an argon2 check
    if op["path"].endswith("/opt-out"):
        return ROLES + ("gateway",)
    return ROLES


def _senders(request: dict, roles: tuple[str, ...], tokens: dict[str, str | None]) -> list[tuple[str, str | None]]:
    """Who sends the request: each role with its real token (the gateway with the webhook secret), or once
    with the random Authorization header the example drew."""
    if request["auth"] is not None:
        return [("garbage-auth", request["auth"])]
    out = []
    for role in roles:
        if role == "gateway":
            out.append((role, f"Bearer {SECRET}"))
        else:
            out.append((role, f"Bearer {tokens[role]}" if tokens.get(role) else None))
    return out


def _send(client, caplog, request: dict, role: str, authorization: str | None) -> tuple[str, str] | None:
    """Send one request; ``(cause, failure)`` for a 5xx or an error that is not problem+json, else ``None``."""
    headers = dict(request["headers"])
    if authorization is not None:
        headers["Authorization"] = authorization
    _sign(request["body"], headers)
    headers = {k: header_value(v) for k, v in headers.items()}
    response = client.open(
        request["path"], method=request["method"], query_string=request["query"], headers=headers, data=request["body"]
    )
    status = response.status_code
    where = f"as {role}: {status} for {_describe(request, headers)}"
    if request["path"] == "/readyz" and status == 503:
        return None  # the documented health document (see the module docstring)
    if status >= 500:
        return server_error_key(caplog.records), f"{where} ← {server_error_trace(caplog.records)}"
    if status >= 400 and response.mimetype != "application/problem+json":
        return f"{status} {response.mimetype}", f"{where}: error as {response.mimetype}, not problem+json"
    return None


def _route_property(client, engine, caplog, op: dict, real_ids: dict, tokens: dict):
    roles = _roles(op)

    @given(request=requests_for(op, real_ids))
    @property_settings(EXAMPLES_PER_ROUTE)
    def check(request):
        _restore(engine)
        for role, authorization in _senders(request, roles, tokens):
            failure = _send(client, caplog, request, role, authorization)
            assert failure is None, failure[1]

    return check


def _setup(make_app, world, engine):
    app = make_app(WEBHOOK_SECRET=SECRET, REMINDER_CHANNEL="log")
    client = app.test_client()
    helper = ApiHelper(client, world)
    tokens = {
        "agent": helper.token(world.agent_a, "route-props"),
        "supervisor": helper.token(world.supervisor, "route-props"),
        "admin": helper.token(world.admin, "route-props"),
        "anonymous": None,
    }
    real_ids = _seed(helper, world, engine)
    ops = operations(client.get("/api/v1/openapi.json").json)
    assert len(ops) >= 25, [f"{o['method']} {o['path']}" for o in ops]
    return client, tokens, real_ids, ops


def test_random_requests_on_every_route(make_app, world, engine, caplog):
    """Hypothesis: random requests per route (mostly valid with one hostile part, sometimes all hostile)."""
    client, tokens, real_ids, ops = _setup(make_app, world, engine)
    failures: list[str] = []
    for op in ops:
        try:
            _route_property(client, engine, caplog, op, real_ids, tokens)()
        except Exception as error:  # collect every route's failure, then report them all
            for failure in _failures_of(error):
                first = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
                failures.append(f"{op['method']} {op['path']}: {first}")
    assert not failures, f"{len(failures)} failing route(s):\n" + "\n".join(failures)


SWEEP_QUERY = ["\x00", "9" * 30, str(2**63), "-1", "1e400", "é𝔘"]
SWEEP_QUERY_BY_NAME = {
    "cursor": [_cursor([10**30, "x"]), _cursor([{"a": 1}, []]), _cursor([[1], "x"]), _cursor(["x", 1]), "!!!"],
    "from": ["9999-12-31", "99999-01-01", "253402300800000"],
    "to": ["9999-12-31", "99999-01-01", "253402300800000"],
    "bbox": ["1e400,0,1,1", "-1e308,-1e308,1e308,1e308", "1,2,3", "NaN,NaN,NaN,NaN"],
    "migration": ['{"from":1e400,"tables":[],"columns":[]}', '{"from":1,"tables":[[]],"columns":[{"table":{}}]}'],
    "zoom": ["1e400", "99"],
}
SWEEP_PATH = ["\x00", "x" * 200, "é", "..", "%", "9" * 30]
SWEEP_BODY = ["\x00", "a" * 100, 10**30, 2**63, 253402300800000, -1, [], None]
SWEEP_HEADERS = [
    ("Authorization", "Bearer é"),
    ("Authorization", "Bearer 𝔘\x85"),
    ("X-Jangkau-Signature", "sha256=é"),
    ("X-Jangkau-Timestamp", "１２３"),
    ("Idempotency-Key", "é" * 300),
    ("Idempotency-Key", "é"),
    ("Content-Encoding", "é"),
    ("Content-Encoding", "gzip"),
    ("Content-Type", "application/json; charset=é"),
]
SWEEP_CSV = [
    "nik,contribution_month,amount,paid_at\n3215011203850007,2025-06," + "9" * 40 + ",2025-06-10\n",
    "nik,contribution_month,amount,paid_at\n3215011203850007,99999-01,16800,99999-01-01\n",
    "nik,contribution_month,amount,paid_at\n3215011203850007,2025-06,16800,9999-12-31T23:59:59+14:00\n",
    "nik,contribution_month,amount,paid_at\n" + "x" * 140_000 + ",2025-06,16800,2025-06-10\n",
    "nik,name,birth_date,membership_status\n" + "²" * 16 + ",Budi,1985-03-12,active\n",
    "nik,name,birth_date,membership_status\n3215011203850007\x00,Budi,1985-03-12,active\n",
    "nik,name,birth_date,membership_status\n3215011203850007,Budi,99999-01-01,active\n",
    "nik,name,birth_date,membership_status\n３２１５０１１２０３８５０００７,Budi,1985-03-12,active\n",
]


def _base_request(op: dict, real_ids: dict) -> dict:
    """A valid request: real ids in the path, no query, every body field valid."""
    path = _path(op["path"], {n: (real_ids.get(n) or real_ids["any"])[0] for n in op["path_params"]})
    headers, body = {}, b""
    if op["csv"]:
        body, headers["Content-Type"] = b"nik,contribution_month,amount,paid_at\n", "text/csv"
    elif op["json"]:
        value = {}
        for name, schema in op["properties"].items():
            valid = schema.get("enum") or VALID_BODY.get(name) or (real_ids.get(name) or real_ids["any"])
            value[name] = valid[0] if name.endswith("_id") or name in VALID_BODY or "enum" in schema else "catatan"
        body, headers["Content-Type"] = json.dumps(value).encode(), "application/json"
    return {"method": op["method"], "path": path, "query": "", "headers": headers, "auth": None, "body": body}


def sweep(op: dict, real_ids: dict):
    """Every hostile value of the lists above in every part of the route, one at a time."""
    base = _base_request(op, real_ids)
    for name in op["path_params"]:
        for value in SWEEP_PATH:
            ids = {n: (real_ids.get(n) or real_ids["any"])[0] for n in op["path_params"]} | {name: value}
            yield base | {"path": _path(op["path"], ids)}
    for name in op["query"]:
        for value in SWEEP_QUERY + SWEEP_QUERY_BY_NAME.get(name, []):
            yield base | {"query": urlencode([(name, value)])}
        yield base | {"query": urlencode([(name, "1"), (name, "2")])}  # repeated
    for header, value in SWEEP_HEADERS:
        if header == "Authorization":
            yield base | {"auth": value}
        else:
            yield base | {"headers": base["headers"] | {header: value}}
    if op["json"]:
        valid = json.loads(base["body"])
        for name in op["properties"]:
            for value in SWEEP_BODY:
                yield base | {"body": json.dumps(valid | {name: value}).encode()}
        for value in ([], "x", 1e308, {"unknown": 1}):
            yield base | {"body": json.dumps(value).encode()}
    if op["csv"]:
        for text in SWEEP_CSV:
            yield base | {"body": text.encode()}


def test_hostile_values_in_every_part_of_every_route(make_app, world, engine, caplog):
    """A systematic sweep beside the random test: the hostile values issue 9 found (and their kin) in every
    path id, query parameter, header and body field of every route, one at a time, as every role."""
    client, tokens, real_ids, ops = _setup(make_app, world, engine)
    failures: dict[str, str] = {}
    for op in ops:
        roles = _roles(op)
        for request in sweep(op, real_ids):
            _restore(engine)
            for role, authorization in _senders(request, roles, tokens):
                failure = _send(client, caplog, request, role, authorization)
                if failure:
                    failures.setdefault(f"{op['method']} {op['path']} {failure[0]}", failure[1])
    assert not failures, f"{len(failures)} distinct failures (route, cause):\n" + "\n".join(failures.values())
