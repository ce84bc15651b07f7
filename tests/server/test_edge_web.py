"""Supervisor pages at the edge: safe ``next`` redirects, cookie flags, CSP and framing headers, one
device per web login, and a login limit that an attacker cannot turn into the owner's lockout."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import config as config_module
from sync.accounts import ratelimit
from sync.models import Device, User
from tests.factories import PASSWORD

ATTACKER_IPS = [f"10.66.0.{i}" for i in range(1, 60)]


def web_login(client, username, password=PASSWORD, next_=None, ip="127.0.0.1"):
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    data = {"csrf_token": "t", "username": username, "password": password}
    if next_ is not None:
        data["next"] = next_
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": ip})


def api_login(client, username, password=PASSWORD, device="phone-1", ip="127.0.0.1"):
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device_id": device},
        environ_base={"REMOTE_ADDR": ip},
    )


@pytest.fixture
def frozen_window(monkeypatch):
    """Keep every rate-limit hit in one window: a minute boundary during a test would reset the counts."""
    start = (ratelimit.now_ms() // 60_000) * 60_000 + 1_000
    monkeypatch.setattr(ratelimit, "now_ms", lambda: start)
    return start


# --- 6. next ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%0d%0a//evil.com",
        "/%0d%0aLocation:%20https://evil.com",
        "/%09/evil.com",
        "/%00/evil.com",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "/%5Cevil.com",
        "/x//evil.com",
        "https://evil.com/",
        "javascript:alert(1)",
        "map",
        "%2F%2Fevil.com",
    ],
)
def test_logged_in_login_page_never_redirects_off_site(client, world, target):
    assert web_login(client, world.supervisor.username).status_code == 302
    response = client.get("/login?next=" + target)
    assert response.status_code in (302, 400), response.get_data(as_text=True)[:300]
    if response.status_code == 302:
        assert response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("target", ["/%0d%0a//evil.com", "/\\evil.com", "/\u2028x", "/x//y"])
def test_login_post_never_redirects_off_site(client, world, target):
    response = web_login(client, world.supervisor.username, next_=target)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/map?flag=low_accuracy", "/map?flag=low_accuracy"),
        ("/map", "/map"),
        ("/map?agent_id=a%20b", "/map?agent_id=a%20b"),
    ],
)
def test_local_next_is_followed(client, world, target, expected):
    assert web_login(client, world.supervisor.username).status_code == 302
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_non_ascii_next_does_not_500(client, world):
    assert web_login(client, world.supervisor.username).status_code == 302
    response = client.get("/login?next=/peta/%E2%82%AC")
    assert response.status_code == 302
    assert response.headers["Location"] in ("/dashboard", "/peta/%E2%82%AC")


def test_gzip_login_form_is_decoded_before_it_is_read(client, world):
    import gzip
    from urllib.parse import urlencode

    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    form = urlencode({"csrf_token": "t", "username": world.supervisor.username, "password": PASSWORD}).encode()
    response = client.post(
        "/login",
        data=gzip.compress(form),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    nul = gzip.compress(urlencode({"csrf_token": "t", "username": "x\x00", "password": "p"}).encode())
    refused = client.post(
        "/login", data=nul, headers={"Content-Encoding": "gzip", "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert refused.status_code == 400 and "username" in refused.json["errors"]


# --- 7. Cookie flags and headers --------------------------------------------------------------------------


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_is_samesite_lax_and_httponly(client, world):
    cookie = _session_cookie(web_login(client, world.supervisor.username))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    assert "Secure" not in cookie


def test_secure_cookies_from_the_environment(make_app, world, monkeypatch):
    monkeypatch.setenv("JANGKAU_SECURE_COOKIES", "on")
    app = make_app()
    cookie = _session_cookie(web_login(app.test_client(), world.supervisor.username))
    assert "Secure" in cookie and "SameSite=Lax" in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("off", False),
        ("false", False),
        ("1", True),
        ("on", True),
        ("true", True),
        ("YES", True),
    ],  # fmt: skip
)
def test_secure_cookies_setting(raw, expected):
    env = {} if raw is None else {"JANGKAU_SECURE_COOKIES": raw}
    config = config_module.from_env(env)
    assert config["SESSION_COOKIE_SECURE"] is expected
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax" and config["SESSION_COOKIE_HTTPONLY"] is True


def test_secure_cookies_setting_refuses_garbage():
    with pytest.raises(config_module.ConfigError):
        config_module.from_env({"JANGKAU_SECURE_COOKIES": "maybe"})


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def assert_page_headers(response):
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = _csp(response)
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["default-src"] == "default-src 'self'"
    assert (
        "'unsafe-inline'" not in csp.get("script-src", "")
        and "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    )
    return csp


def test_login_page_headers(client, world):
    response = client.get("/login")
    assert response.status_code == 200
    assert_page_headers(response)
    failed = web_login(client, world.supervisor.username, "salah")
    assert failed.status_code == 401
    assert_page_headers(failed)


@pytest.mark.parametrize(
    ("tile_url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://127.0.0.1:9/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:9"),
    ],
)
def test_map_page_headers_allow_the_tile_host(client, world, app, tile_url, source):
    before = app.config["MAP_TILE_URL"]
    app.config["MAP_TILE_URL"] = tile_url
    try:
        web_login(client, world.supervisor.username)
        response = client.get("/map")
        assert response.status_code == 200
        csp = assert_page_headers(response)
        assert source in csp["img-src"].split()
        assert "'self'" in csp["img-src"].split()
    finally:
        app.config["MAP_TILE_URL"] = before


def test_api_answers_nosniff(client, world):
    assert client.get("/api/v1/me").headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"


# --- 11. One device per web login -------------------------------------------------------------------------


def _web_devices(engine, user) -> list[Device]:
    with Session(engine) as session:
        return list(session.execute(select(Device).where(Device.user_id == user.id)).scalars())


def test_each_web_login_has_its_own_device_and_revoking_one_ends_only_it(app, world, engine, api):
    first, second = app.test_client(), app.test_client()
    assert web_login(first, world.supervisor.username).status_code == 302
    assert web_login(second, world.supervisor.username).status_code == 302
    devices = _web_devices(engine, world.supervisor)
    assert len(devices) == 2 and len({d.client_device_id for d in devices}) == 2
    assert all(d.client_device_id.startswith("web-") for d in devices)
    assert first.get("/map").status_code == 200 and second.get("/map").status_code == 200

    # find the first session's device: the one its session token uses
    with first.session_transaction() as session:
        token = session["jangkau_token"]
    from sync.accounts.auth import authenticate

    with Session(engine) as session:
        device_id = authenticate(session, token).device_id
    revoked = api.client.delete(f"/api/v1/devices/{device_id}", headers=api.headers(world.admin, "admin-phone"))
    assert revoked.status_code == 200
    assert first.get("/map").status_code == 302  # that session is over
    assert second.get("/map").status_code == 200  # the other one is not
    again = web_login(first, world.supervisor.username)
    assert again.status_code == 302 and again.headers["Location"] == "/dashboard"
    assert first.get("/map").status_code == 200


# --- 10. Login limits: per (user, IP), per IP, per user except known devices -------------------------------


def test_successful_logins_do_not_use_up_the_budget(make_app, world, frozen_window):
    client = make_app(LOGIN_RATE_LIMIT=3).test_client()
    for _ in range(8):
        assert api_login(client, "agen.b").status_code == 200


def test_attacker_ip_is_locked_out_with_retry_after(make_app, world, frozen_window):
    client = make_app(LOGIN_RATE_LIMIT=3).test_client()
    attacker = "10.66.1.1"
    assert [api_login(client, "agen.b", "salah", ip=attacker).status_code for _ in range(3)] == [401] * 3
    limited = api_login(client, "agen.b", ip=attacker, device="attacker")
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # the owner, elsewhere, is not affected by that IP's failures
    assert api_login(client, "agen.b", ip="10.1.1.1", device="new-phone").status_code == 200


def test_one_ip_cannot_spray_many_usernames(make_app, world, frozen_window):
    client = make_app(LOGIN_RATE_LIMIT=3, LOGIN_IP_RATE_LIMIT=5).test_client()
    attacker = "10.66.1.2"
    names = ["u1", "u2", "u3", "u4", "u5"]
    assert [api_login(client, n, "salah", ip=attacker).status_code for n in names] == [401] * 5
    limited = api_login(client, "agen.a", ip=attacker)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert api_login(client, "agen.a", ip="10.1.1.2").status_code == 200


def test_owner_from_a_known_device_still_logs_in_during_a_distributed_attack(make_app, world, frozen_window):
    client = make_app(LOGIN_RATE_LIMIT=3, LOGIN_USER_RATE_LIMIT=6).test_client()
    assert api_login(client, "agen.b", device="owner-phone", ip="10.1.1.3").status_code == 200
    statuses = [api_login(client, "agen.b", "salah", ip=ip, device=f"x{ip}").status_code for ip in ATTACKER_IPS[:8]]
    assert statuses[:6] == [401] * 6 and set(statuses[6:]) == {429}
    # a new device, even from a fresh IP and with the right password, waits
    stranger = api_login(client, "agen.b", device="unknown-phone", ip="10.1.1.4")
    assert stranger.status_code == 429 and int(stranger.headers["Retry-After"]) >= 1
    # the owner's known device works from anywhere
    assert api_login(client, "agen.b", device="owner-phone", ip="10.1.1.5").status_code == 200
    assert api_login(client, "agen.b", device="owner-phone", ip="10.1.1.3").status_code == 200
    # ... but a known device's name does not lift the per-IP limit of an attacker
    attacker = "10.66.1.3"
    for _ in range(3):
        api_login(client, "agen.b", "salah", ip=attacker, device="owner-phone")
    assert api_login(client, "agen.b", ip=attacker, device="owner-phone").status_code == 429


def test_a_revoked_device_is_not_known(make_app, world, frozen_window, engine, api):
    client = make_app(LOGIN_RATE_LIMIT=3, LOGIN_USER_RATE_LIMIT=2).test_client()
    assert api_login(client, "agen.b", device="lost-phone", ip="10.1.1.6").status_code == 200
    with Session(engine) as session:
        device = session.execute(
            select(Device).join(User, User.id == Device.user_id).where(Device.client_device_id == "lost-phone")
        ).scalar_one()
    assert (
        api.client.delete(f"/api/v1/devices/{device.id}", headers=api.headers(world.supervisor, "web")).status_code
        == 200
    )
    for ip in ATTACKER_IPS[:2]:
        api_login(client, "agen.b", "salah", ip=ip)
    assert api_login(client, "agen.b", device="lost-phone", ip="10.1.1.7").status_code == 429


def test_web_login_limits_and_known_browser(make_app, world, frozen_window):
    app = make_app(LOGIN_RATE_LIMIT=3, LOGIN_USER_RATE_LIMIT=4)
    owner, stranger = app.test_client(), app.test_client()
    assert web_login(owner, world.supervisor.username, ip="10.1.2.1").status_code == 302
    attacker = app.test_client()
    for ip in ATTACKER_IPS[:4]:
        assert web_login(attacker, world.supervisor.username, "salah", ip=ip).status_code == 401
    limited = web_login(attacker, world.supervisor.username, ip=ATTACKER_IPS[5])
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert web_login(stranger, world.supervisor.username, ip="10.1.2.2").status_code == 429
    # the browser the supervisor logged in from before is a known device
    assert web_login(owner, world.supervisor.username, ip="10.1.2.3").status_code == 302


def test_behind_a_trusted_proxy_limits_see_the_forwarded_address(make_app, world, frozen_window):
    """With JANGKAU_TRUSTED_PROXIES the per-IP limits count the phone's address, not the proxy's."""

    def login(client, forwarded_for, password="salah"):
        return client.post(
            "/api/v1/auth/login",
            json={"username": "agen.b", "password": password, "device_id": "p"},
            headers={"X-Forwarded-For": forwarded_for},
        )

    proxied = make_app(LOGIN_RATE_LIMIT=2, TRUSTED_PROXIES=1).test_client()
    assert [login(proxied, "10.9.9.1").status_code for _ in range(2)] == [401, 401]
    assert login(proxied, "10.9.9.1").status_code == 429
    assert login(proxied, "10.9.9.2", PASSWORD).status_code == 200  # another phone behind the same proxy
    direct = make_app(LOGIN_RATE_LIMIT=2).test_client()  # untrusted header: everyone is the proxy
    assert [login(direct, f"10.8.8.{n}").status_code for n in range(3)] == [401, 401, 429]
