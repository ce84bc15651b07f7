"""The supervisor map in Chromium: login, markers that match the API, filters, flags and CSRF."""

from __future__ import annotations

import itertools
import random

import pytest

from sync.models import Visit, new_id
from sync.protocol.clock import now_ms
from sync.visits import rollup as visit_rollup
from tests.factories import PASSWORD

_stamp = itertools.count(1)
KARAWANG = (-6.30, 107.30)
FLAGGED_AT = (-6.05, 107.95)  # far from the other Karawang visits, so it is never clustered with them


def add_visit(session, agent, lat, lon, **values) -> Visit:
    stamp = next(_stamp)
    row = Visit(
        id=new_id(),
        agent_id=agent.id,
        branch_id=agent.branch_id,
        server_created_at=stamp,
        last_modified=stamp,
        visited_at=values.pop("visited_at", now_ms() - 3_600_000),
        latitude=lat,
        longitude=lon,
        outcome=values.pop("outcome", "interested"),
        **values,
    )
    session.add(row)
    return row


@pytest.fixture
def field_work(session, world):
    """30 visits around Karawang by two agents, one flagged visit, and Makassar's visits (out of scope)."""
    rng = random.Random(5)
    outcomes = ["enrolled", "interested", "refused", "not_home"]
    for i in range(30):
        agent = world.agent_a if i % 2 else world.agent_b
        add_visit(
            session,
            agent,
            KARAWANG[0] + rng.uniform(-0.03, 0.03),
            KARAWANG[1] + rng.uniform(-0.03, 0.03),
            outcome=outcomes[i % 4],
        )
    flagged = add_visit(
        session,
        world.agent_a,
        *FLAGGED_AT,
        outcome="enrolled",
        flags="mock_location",
        regency_code="32.15",
        regency="Kabupaten Karawang",
        province="Jawa Barat",
        timezone="Asia/Jakarta",
    )
    for _ in range(5):
        add_visit(session, world.agent_c, -5.13, 119.42)
    session.flush()
    visit_rollup.rebuild(session)  # what pushes keep up to date
    session.commit()
    return {"flagged": flagged}


def login(page, username: str, password: str = PASSWORD, next_: str = "/map") -> None:
    page.goto(f"/login?next={next_}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def wait_for_load(page, count: int) -> None:
    page.wait_for_function(
        "n => Number(document.body.dataset.loads || 0) >= n && document.body.dataset.loading === 'false'", arg=count
    )


def loads(page) -> int:
    return page.evaluate("Number(document.body.dataset.loads || 0)")


def set_view(page, lat: float, lon: float, zoom: int) -> None:
    before = loads(page)
    page.evaluate(
        "([lat, lon, zoom]) => window.jangkauMap.map.setView([lat, lon], zoom, {animate: false})", [lat, lon, zoom]
    )
    wait_for_load(page, before + 1)


def api_for_page(page) -> dict:
    """What the API answers for exactly the view and filters the page asked for (same cookie session)."""
    params = page.evaluate("window.jangkauMap.params")
    response = page.request.get(f"/api/v1/visits.geojson?{params}")
    assert response.ok, response.text()
    return response.json()


def shown_on_map(page) -> int:
    """Visits the map represents: single markers, plugin clusters and server grid clusters."""
    return page.evaluate(
        """() => {
        const singles = document.querySelectorAll('.leaflet-marker-pane .visit-marker').length;
        const plugin = [...document.querySelectorAll('.leaflet-marker-pane .marker-cluster span')]
            .reduce((sum, el) => sum + Number(el.textContent), 0);
        const cells = [...document.querySelectorAll('.leaflet-marker-pane .server-cluster .cell-count')]
            .reduce((sum, el) => sum + Number(el.dataset.count), 0);
        return singles + plugin + cells;
    }"""
    )


def open_map(page, world) -> None:
    login(page, world.supervisor.username)
    page.wait_for_url("**/map")
    wait_for_load(page, 1)


def test_map_loads_without_console_errors(page, world, field_work):
    """The map page loads its libraries and data with no console error (failed tile requests aside)."""
    open_map(page, world)
    assert page.evaluate("typeof L.markerClusterGroup") == "function"
    page.wait_for_function("Number(document.body.dataset.coverageLoads || 0) >= 1")
    assert page.locator("#summary").get_attribute("data-total") == "31"  # Makassar's visits are out of scope
    assert page.errors == []


def test_markers_and_cluster_counts_match_the_api(page, world, field_work):
    """Zoomed out the server's grid clusters, zoomed in the markers, add up to what the API returns."""
    open_map(page, world)
    country = api_for_page(page)
    assert country["clustered"] is True and country["total"] == 31
    assert shown_on_map(page) == 31
    assert page.locator(".server-cluster").count() == len(country["features"])

    set_view(page, KARAWANG[0], KARAWANG[1], 13)
    district = api_for_page(page)
    assert district["clustered"] is False and district["total"] == 30
    assert shown_on_map(page) == 30
    assert page.locator("#summary").get_attribute("data-total") == "30"
    assert page.errors == []


def test_filter_change_updates_the_map(page, world, field_work):
    """Choosing an outcome reloads the map with only those visits, and the coverage table follows."""
    open_map(page, world)
    set_view(page, KARAWANG[0], KARAWANG[1], 12)
    before = loads(page)
    page.select_option("#filter-outcome", "refused")
    wait_for_load(page, before + 1)
    expected = api_for_page(page)
    assert "outcome=refused" in page.evaluate("window.jangkauMap.params")
    assert expected["total"] == 7 and shown_on_map(page) == 7
    assert page.locator(".visit-marker.outcome-enrolled").count() == 0
    page.wait_for_function("() => document.querySelector('#coverage tbody td.num')?.textContent === '7'")

    before = loads(page)
    page.select_option("#filter-outcome", "")
    page.select_option("#filter-agent", world.agent_a.id)
    page.wait_for_function(
        "id => (window.jangkauMap.params || '').includes('agent_id=' + id)"
        " && document.body.dataset.loading === 'false'",
        arg=world.agent_a.id,
    )
    assert "outcome=" not in page.evaluate("window.jangkauMap.params")
    assert shown_on_map(page) == api_for_page(page)["total"] == 15


def test_flagged_visit_shows_its_flag_and_can_be_dismissed(page, world, field_work):
    """A flagged visit is marked; its popup shows regency, time zone and the flag's reason; dismissing it sticks."""
    open_map(page, world)
    set_view(page, FLAGGED_AT[0], FLAGGED_AT[1], 15)
    marker = page.locator(".visit-marker.flagged")
    assert marker.count() == 1
    marker.click()
    popup = page.locator(".leaflet-popup .visit-popup[data-visit-id]")
    popup.wait_for()
    text = popup.inner_text()
    assert "mock_location" in text and "Kabupaten Karawang" in text and "Asia/Jakarta" in text
    assert "mock" in popup.locator("li.flag").inner_text().lower()
    assert popup.locator(".flag-status.open").count() == 1

    popup.locator(".review-note").fill("GPS emulator dipakai untuk pelatihan")
    popup.locator(".review-dismiss").click()
    page.locator(".leaflet-popup .flag-status.dismissed").wait_for()
    assert "GPS emulator dipakai untuk pelatihan" in page.locator(".leaflet-popup").inner_text()
    assert page.locator(".visit-marker.flagged").count() == 0
    assert page.errors == []


def test_wrong_password_shows_an_error(page, world):
    """A wrong password keeps the user on the login page with an error, and no session."""
    login(page, world.supervisor.username, "salah-sekali")
    assert page.locator("#login-error").is_visible()
    assert "/login" in page.url
    page.goto("/map")
    assert "/login?next=" in page.url


def test_agents_cannot_use_the_pages(page, world):
    """The pages are for supervisors and admins: an agent's correct password still gets no session."""
    login(page, world.agent_a.username)
    assert "supervisor" in page.locator("#login-error").inner_text()


def test_posts_without_csrf_token_are_refused(page, world, field_work, base_url):
    """Form posts and API writes with the session cookie but no CSRF token are refused (403)."""
    refused = page.request.post("/login", form={"username": world.supervisor.username, "password": PASSWORD})
    assert refused.status == 403 and "csrf_token" in refused.json()["errors"]

    open_map(page, world)
    url = f"/api/v1/visits/{field_work['flagged'].id}/flags/mock_location/review"
    no_token = page.request.post(url, data={"decision": "confirm"})
    assert no_token.status == 403
    token = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).csrfToken")
    wrong = page.request.post(url, data={"decision": "confirm"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status == 403
    ok = page.request.post(url, data={"decision": "confirm"}, headers={"X-CSRF-Token": token})
    assert ok.status == 201
    assert page.request.post("/logout").status == 403  # logout is a form post too
    assert page.request.get("/api/v1/visits").ok  # reads need no token


def test_logout_ends_the_session(page, world, field_work):
    """Logging out revokes the session's token: the API and the map need a new login."""
    open_map(page, world)
    page.click(".logout button")
    page.wait_for_url("**/login")
    assert page.request.get("/api/v1/visits").status == 401
    page.goto("/map")
    assert "/login?next=" in page.url


def test_login_redirects_only_within_the_site(web_app, world):
    """After login only same-site paths are followed; anything else goes to the dashboard (no open redirect)."""
    client = web_app.test_client()
    for target, expected in (("/map?flag=low_accuracy", "/map?flag=low_accuracy"), ("//evil.example", "/dashboard"),
                             ("/\\evil.example", "/dashboard"), ("https://evil.example/", "/dashboard")):  # fmt: skip
        with client.session_transaction() as session:
            session["csrf_token"] = "t"
        response = client.post(
            "/login",
            data={"csrf_token": "t", "username": world.supervisor.username, "password": PASSWORD, "next": target},
        )
        assert response.status_code == 302 and response.headers["Location"] == expected


def test_vendor_route_serves_only_the_map_libraries(web_app, base_url):
    """Only the built files of Leaflet and Leaflet.markercluster are served from node_modules."""
    client = web_app.test_client()
    for path, status in (
        ("leaflet/dist/leaflet.js", 200),
        ("leaflet.markercluster/dist/leaflet.markercluster.js", 200),
        ("leaflet/package.json", 404),
        ("leaflet/dist/../package.json", 404),
        (".package-lock.json", 404),
    ):
        response = client.get(f"/web/vendor/{path}")
        response.close()
        assert response.status_code == status, path
