"""The gateway's opt-out hook: signature checked first (any header bytes), a timestamp in the signed
material and a ±5 minute replay window; the outgoing webhook is signed with the same recipe."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from sync.reminders.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel, sign, verify
from tests.factories import webhook_secret

SECRET = "s3cret"
URL = "/api/v1/reminders/opt-out"


@pytest.fixture
def gateway_app(app):
    with webhook_secret(app, SECRET):
        yield app


def recipe(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """The documented recipe, written out independently of sync.reminders.channels."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def post(client, body: bytes, headers: dict):
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_signed_with_timestamp_is_accepted(client, world, gateway_app):
    body = json.dumps({"phone": "0812-1111-2222"}).encode()
    ts = str(int(time.time()))
    response = post(client, body, {SIGNATURE_HEADER: recipe(body, ts), TIMESTAMP_HEADER: ts})
    assert response.status_code == 200, response.json
    assert response.json == {"opted_out": True, "phone_masked": "+62812*****222"}
    assert sign(body, SECRET, ts) == recipe(body, ts)


@pytest.mark.parametrize("signature", ["sha256=é", "ünïcödé", "sha256=\u20ac\u20ac", "sha256=" + "ﬀ" * 64])
def test_non_ascii_signature_is_401(client, world, gateway_app, signature):
    body = json.dumps({"phone": "0812-1111-2222"}).encode()
    ts = str(int(time.time()))
    response = post(client, body, {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: ts})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert SIGNATURE_HEADER in response.json["errors"]


def test_verify_is_total():
    assert verify(b"x", SECRET, "sha256=é", "1") is False
    assert verify(b"x", SECRET, None, "1") is False
    assert verify(b"x", None, "sha256=00", "1") is False


def test_signature_is_checked_before_the_body(client, world, gateway_app):
    """An unsigned request learns nothing about body validation: 401, not 422/400."""
    for body in (b'{"phone": "0062812"}', b'{"nope": 1}', b"not json", b"", b'{"phone": "\\u0000"}'):
        response = post(client, body, {})
        assert response.status_code == 401, (body, response.json)
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("phone", "status"), [("0062812", 422), ("0812\u00001111", 400)])
def test_valid_signature_then_body_errors(client, world, gateway_app, phone, status):
    body = json.dumps({"phone": phone}).encode()
    ts = str(int(time.time()))
    response = post(client, body, {SIGNATURE_HEADER: recipe(body, ts), TIMESTAMP_HEADER: ts})
    assert response.status_code == status and "phone" in response.json["errors"]


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 10**12])
def test_timestamp_outside_the_window_is_401(client, world, gateway_app, offset):
    body = json.dumps({"phone": "0812-1111-2222"}).encode()
    ts = str(int(time.time()) + offset)
    response = post(client, body, {SIGNATURE_HEADER: recipe(body, ts), TIMESTAMP_HEADER: ts})
    assert response.status_code == 401 and TIMESTAMP_HEADER in response.json["errors"]


@pytest.mark.parametrize("ts", [None, "", "abc", "1.5", "-5", "١٧٠٠٠٠٠٠٠٠", "9" * 5000])
def test_missing_or_malformed_timestamp_is_401(client, world, gateway_app, ts):
    body = json.dumps({"phone": "0812-1111-2222"}).encode()
    headers = {SIGNATURE_HEADER: recipe(body, ts or "")}
    if ts is not None:
        headers[TIMESTAMP_HEADER] = ts
    response = post(client, body, headers)
    assert response.status_code == 401 and TIMESTAMP_HEADER in response.json["errors"]


def test_body_only_signature_no_longer_accepted(client, world, gateway_app):
    """The old recipe (HMAC of the body alone) could be replayed forever."""
    body = json.dumps({"phone": "0812-1111-2222"}).encode()
    old = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    ts = str(int(time.time()))
    assert post(client, body, {SIGNATURE_HEADER: old, TIMESTAMP_HEADER: ts}).status_code == 401
    assert post(client, body, {SIGNATURE_HEADER: old}).status_code == 401


def test_signature_of_another_timestamp_is_401(client, world, gateway_app):
    body = json.dumps({"phone": "0812-1111-2222"}).encode()
    now = int(time.time())
    response = post(client, body, {SIGNATURE_HEADER: recipe(body, str(now - 10)), TIMESTAMP_HEADER: str(now)})
    assert response.status_code == 401


def test_no_secret_configured_is_401(client, world, app):
    body = json.dumps({"phone": "0812-1111-2222"}).encode()
    ts = str(int(time.time()))
    response = post(client, body, {SIGNATURE_HEADER: recipe(body, ts, ""), TIMESTAMP_HEADER: ts})
    assert response.status_code == 401


def test_outgoing_webhook_uses_the_same_recipe(monkeypatch):
    """The gateway verifies our messages exactly as we verify its opt-outs."""
    sent = {}

    class FakeResponse:
        status = 200

        def read(self):
            return b""

        def getheader(self, name, default=None):
            return default

    class FakeConnection:
        def request(self, method, path, body, headers):
            sent.update(body=body, headers=headers)

        def getresponse(self):
            return FakeResponse()

    channel = WebhookChannel("http://gateway.invalid/send", SECRET)
    monkeypatch.setattr(channel, "_connection", lambda: FakeConnection())
    message = {"id": "r1", "to": "+6281211112222", "channel": "sms", "text": "hi", "reminder_kind": "custom"}
    assert channel.send(message, sender="test").ok
    ts = sent["headers"][TIMESTAMP_HEADER]
    assert abs(int(ts) - time.time()) < 5
    assert sent["headers"][SIGNATURE_HEADER] == recipe(sent["body"], ts)
    assert verify(sent["body"], SECRET, sent["headers"][SIGNATURE_HEADER], ts)
