"""The supervisors' workspace in Chromium: every page opens with no console error at a laptop's and a
phone's width (375 px: nothing wider than the screen), and the actions work end to end: merge a duplicate
and watch the queue shrink, unmerge it, dismiss a flag, reassign a follow-up, retry a dead reminder.

Screenshots of every page at both widths are saved in ``tests/browser/artifacts/`` (ignored by git;
``JANGKAU_BROWSER_ARTIFACTS`` names another folder).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.browser import workspace_data
from tests.factories import PASSWORD

ARTIFACTS = Path(os.environ.get("JANGKAU_BROWSER_ARTIFACTS") or Path(__file__).parent / "artifacts")
PHONE = {"width": 375, "height": 740}
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def ws(api, world, session):
    return workspace_data.build(api, world, session)


def login(page, username: str) -> None:
    page.goto("/login?next=/dashboard")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def confirm(page) -> None:
    """Every action asks first: press "yes" on the confirmation page."""
    page.locator("#confirm").wait_for()
    page.click("#confirm-yes")


def flash(page) -> str:
    return page.locator(".flash").first.inner_text()


def workspace_pages(ws, world) -> dict[str, str]:
    return {
        "dashboard": "/dashboard",
        "duplicates": "/duplicates",
        "duplicate-pair": f"/duplicates/{ws.candidate_id}",
        "person": f"/people/{ws.first_worker_id}",
        "flags": "/flags",
        "flagged-visit": f"/flags/{ws.flagged_visit_id}",
        "follow-ups": "/follow-ups",
        "follow-up": f"/follow-ups/{ws.follow_up_id}",
        "reminders": "/reminders",
        "compose": f"/reminders/new?agent={world.agent_a.id}",
        "agents": "/agents",
        "agent": f"/agents/{world.agent_a.id}",
        "map": "/map",
    }


def wait_for_scripts(page, name: str) -> None:
    if name == "dashboard":
        page.wait_for_function("() => document.body.dataset.charts === 'drawn'")
    elif name == "map":
        page.wait_for_function("() => document.body.dataset.provinces === 'loaded' && document.body.dataset.loads >= 1")
    elif name == "flagged-visit":
        page.wait_for_function(
            "() => document.body.dataset.miniMap !== undefined && document.body.dataset.provinces === 'loaded'"
        )


def test_every_page_opens_cleanly_on_a_laptop_and_a_phone(page, world, ws):
    """Each page loads its scripts with no console error; at 375x740 it is never wider than the screen."""
    login(page, world.supervisor.username)
    for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for name, path in workspace_pages(ws, world).items():
            page.goto(path)
            wait_for_scripts(page, name)
            assert page.locator(".topbar .nav a").count() >= 7, name
            shoot(page, f"{name}-{size}")
            if size == "phone":
                assert horizontal_overflow(page) <= 0, name
    assert page.errors == []


def test_dashboard_charts_show_the_counts(page, world, ws):
    """The charts are drawn by Chart.js from the same numbers as the page: three visits today."""
    login(page, world.supervisor.username)
    page.wait_for_function("() => document.body.dataset.charts === 'drawn'")
    drawn = page.evaluate("window.jangkauCharts.visits.data.datasets[0].data.reduce((a, b) => a + b, 0)")
    assert drawn == 3
    agents = page.evaluate("window.jangkauCharts.agents.data.labels")
    assert sorted(agents) == ["Agen.A", "Agen.B"]
    assert page.locator('[data-count="open_duplicates"] strong').inner_text() == "1"
    assert page.errors == []


def test_merge_shrinks_the_queue_and_unmerge_restores_the_pair(page, world, ws):
    """Review the pair side by side, merge it (confirmed), the queue empties; undo it from the history."""
    login(page, world.supervisor.username)
    page.goto("/duplicates")
    assert page.locator("#duplicate-queue tbody tr").count() == 1
    page.click(".review-link")
    assert page.locator("#compare tr.differs").count() >= 2  # the name and the NIK differ
    assert page.locator("#compare tr.differs[data-field=full_name]").count() == 1
    page.fill("#resolve-form textarea[name=note]", "KTP dicek di lapangan")
    page.click("#merge")
    confirm(page)
    page.wait_for_url("**/duplicates")
    assert "Digabung" in flash(page)
    assert page.locator("#duplicate-queue tbody tr").count() == 0

    page.click("[data-tab=merged]")
    page.click(f"#duplicate-queue tr[data-candidate-id='{ws.candidate_id}'] a:has-text('Riwayat')")
    page.locator(".unmerge-form input[name=note]").fill("ternyata dua orang")
    page.click(".unmerge-form button.unmerge")
    confirm(page)
    assert "dibatalkan" in flash(page)
    page.goto("/duplicates?status=distinct")
    assert page.locator(f"tr[data-candidate-id='{ws.candidate_id}']").count() == 1
    assert page.errors == []


def test_dismiss_a_flag(page, world, ws):
    """The flagged visit shows its reason, a mini-map of the agent's three visits; dismissing it empties the queue."""
    login(page, world.supervisor.username)
    page.goto("/flags")
    assert page.locator("#flag-queue tbody tr").count() == 1
    page.click(".review-link")
    page.wait_for_function("() => document.body.dataset.miniMap === '3'")
    assert page.locator("#mini-map .visit-marker").count() == 3
    assert page.locator("#same-day tbody tr").count() == 3
    item = page.locator("#flag-states li[data-flag=mock_location]")
    assert "Lokasi palsu" in item.inner_text()
    item.locator("textarea[name=note]").fill("GPS emulator dipakai untuk pelatihan")
    item.locator("button.dismiss").click()
    confirm(page)
    page.wait_for_url("**/flags")
    assert "diabaikan" in flash(page)
    assert page.locator("#flag-queue tbody tr").count() == 0
    page.click("[data-tab=reviewed]")
    assert page.locator(f"tr[data-visit-id='{ws.flagged_visit_id}']").count() == 1
    assert page.errors == []


def test_reassign_a_follow_up(page, world, ws):
    """The overdue follow-up moves to the other agent of the branch, and the list says so."""
    login(page, world.supervisor.username)
    page.goto("/follow-ups")
    row = page.locator(f"tr[data-follow-up-id='{ws.follow_up_id}']")
    assert "Agen.A" in row.locator(".assignee").inner_text()
    row.locator(".manage-link").click()
    page.select_option("#reassign-agent", world.agent_b.id)
    page.click("#reassign-form button[type=submit]")
    confirm(page)
    assert "Agen.B" in flash(page)
    assert "Agen.B" in page.locator(f"tr[data-follow-up-id='{ws.follow_up_id}'] .assignee").inner_text()
    assert page.errors == []


def test_retry_a_dead_reminder(page, world, ws):
    """A dead reminder shows its last error; retrying it (confirmed) puts it back in the outbox."""
    login(page, world.supervisor.username)
    page.goto("/reminders")
    row = page.locator(f"tr[data-reminder-id='{ws.dead_reminder_id}']")
    assert "HTTP 502" in row.locator(".last-error").inner_text()
    row.locator("button.retry").click()
    confirm(page)
    page.wait_for_url("**/reminders?status=pending")
    assert "antrean" in flash(page)
    assert page.locator(f"tr[data-reminder-id='{ws.dead_reminder_id}'][data-status=pending]").count() == 1
    assert page.errors == []


def test_english_and_the_translated_map(page, world, ws):
    """The language switch turns every page English, the map's legend included; the boundaries are drawn."""
    login(page, world.supervisor.username)
    page.click(".topbar .language button.lang-en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.locator(".topbar .nav a").first.inner_text() == "Dashboard"
    page.goto("/map")
    page.wait_for_function("() => document.body.dataset.provinces === 'loaded'")
    assert page.locator("#legend li[data-outcome=enrolled]").inner_text().strip() == "Enrolled"
    assert page.locator(".leaflet-boundaries-pane path").count() >= 30
    shoot(page, "map-english-laptop")
    assert page.errors == []


def test_create_a_period_and_see_the_leaderboard_order(page, world, ws, api):
    """An admin creates a period (confirmed) and lands on its leaderboard: Makassar (three credits) first,
    Karawang (two) second; the admin pages and the leaderboard open cleanly at both widths."""
    today = dt.date.today()
    workspace_data.makassar_ahead(api, world)
    login(page, world.admin.username)
    page.goto("/admin/periods")
    form = page.locator("#period-form")
    form.locator("input[name=name]").fill("Periode Desember")
    form.locator("input[name=starts_on]").fill(str(today - dt.timedelta(days=2)))
    form.locator("input[name=ends_on]").fill(str(today + dt.timedelta(days=10)))
    form.locator("textarea[name=targets]").fill("KCU-KARAWANG=4\nKCU-MAKASSAR=3")
    form.locator("button[type=submit]").click()
    confirm(page)
    page.wait_for_url("**/leaderboard?period=*")
    assert "Periode Desember" in flash(page)
    codes = page.locator("#branch-table tbody tr .code").all_inner_texts()
    assert codes == ["KCU-MAKASSAR", "KCU-KARAWANG"]
    enrolments = page.locator("#branch-table tbody tr .enrollments").all_inner_texts()
    assert enrolments == ["3", "2"]
    assert page.locator("#branch-table tbody tr").first.get_attribute("data-rank") == "1"
    assert page.locator("#branch-table meter.target").count() == 2
    leaderboard = page.url
    for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for name, path in (
            ("leaderboard-admin", leaderboard),
            ("admin", "/admin"),
            ("admin-periods", "/admin/periods"),
            ("admin-branches", "/admin/branches"),
            ("admin-users", "/admin/users"),
            ("admin-audit", "/admin/audit"),
            ("new-agent", "/agents/new"),
        ):
            page.goto(path)
            shoot(page, f"{name}-{size}")
            if size == "phone":
                assert horizontal_overflow(page) <= 0, name
    assert page.errors == []


def test_a_supervisor_sees_their_rank(page, world, ws, api):
    """With a period running, the supervisor's dashboard and leaderboard show the branch's rank and pace:
    Karawang's two credits, first of two branches."""
    today = dt.date.today()
    admin = api.headers(world.admin, "web")
    created = api.client.post(
        "/api/v1/contest/periods",
        json={"name": "Periode 1", "starts_on": str(today), "ends_on": str(today + dt.timedelta(days=6))},
        headers=admin,
    )
    assert created.status_code == 201, created.json
    login(page, world.supervisor.username)
    page.wait_for_function("() => document.body.dataset.charts === 'drawn'")
    assert page.locator("#contest").get_attribute("data-rank") == "1"
    assert "2 pendaftaran" in page.locator("#contest").inner_text()
    shoot(page, "dashboard-contest-laptop")
    page.click(".topbar .nav a[href='/leaderboard']")
    assert page.locator("#my-standing").get_attribute("data-rank") == "1"
    assert page.locator("#agent-table tbody tr").count() == 2
    for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.reload()
        shoot(page, f"leaderboard-{size}")
        if size == "phone":
            assert horizontal_overflow(page) <= 0
    assert page.errors == []
