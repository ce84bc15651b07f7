"""The supervisor pages server-side: who sees what (scope exactly as the API, 404 outside it), CSRF on
every POST, every action asked first and then reported, bad input shown on the page (never a 500), the
language switch and its one catalogue, and the figures the dashboard and the agents page compute."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from server.web import messages
from server.web.i18n import LANG_COOKIE
from sync.models import Device, FollowUp
from sync.models.dedup import DuplicateCandidate
from sync.models.outreach import Reminder
from sync.models.visit_reviews import VisitFlagReview
from tests.browser import workspace_data
from tests.factories import PASSWORD

WEB_DIR = Path(__file__).resolve().parents[2] / "server" / "web"


class WebUser:
    """A Flask test client logged in through ``/login``, with its session's CSRF token at hand."""

    def __init__(self, app, user):
        self.client = app.test_client()
        with self.client.session_transaction() as session:
            session["csrf_token"] = "login"
        response = self.client.post(
            "/login", data={"csrf_token": "login", "username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        with self.client.session_transaction() as session:
            self.token = session["csrf_token"]

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        assert response.status_code < 500, (path, text(response)[:500])
        return response

    def post(self, path, data=None, *, confirm=False, token=True):
        data = dict(data or {})
        if token:
            data["csrf_token"] = self.token
        if confirm:
            data["confirm"] = "yes"
        response = self.client.post(path, data=data)
        assert response.status_code < 500, (path, text(response)[:500])
        return response

    def flashes(self) -> list[tuple[str, str]]:
        """The messages waiting for the next page (read without consuming them)."""
        with self.client.session_transaction() as session:
            return list(session.get("_flashes", []))


def text(response) -> str:
    return response.get_data(as_text=True)


def fresh(session, model, row_id):
    """The row as committed now (ending the test session's snapshot first)."""
    session.rollback()
    return session.get(model, row_id)


@pytest.fixture
def ws(api, world, session):
    return workspace_data.build(api, world, session)


@pytest.fixture
def spv(app, world, ws):
    return WebUser(app, world.supervisor)


def pages(ws, world) -> list[str]:
    return [
        "/dashboard",
        "/duplicates",
        "/duplicates?status=merged",
        f"/duplicates/{ws.candidate_id}",
        f"/people/{ws.first_worker_id}",
        "/flags",
        "/flags?state=all&flag=mock_location",
        f"/flags/{ws.flagged_visit_id}",
        "/follow-ups",
        "/follow-ups?view=upcoming",
        f"/follow-ups/{ws.follow_up_id}",
        "/reminders",
        "/reminders?status=all",
        "/reminders/new",
        f"/reminders/new?agent={world.agent_a.id}",
        f"/reminders/new?worker={ws.first_worker_id}",
        "/agents",
        f"/agents/{world.agent_a.id}",
        "/map",
    ]


# --- who sees what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_every_page_opens_for_supervisors_and_admins(app, world, ws, role):
    """Each page answers 200 with the shared navigation for a supervisor of the branch and for an admin."""
    user = WebUser(app, getattr(world, role))
    for path in pages(ws, world):
        response = user.get(path)
        assert response.status_code == 200, (path, text(response)[:300])
        assert 'class="nav"' in text(response), path


def test_pages_send_strangers_to_the_login_form(client, world, ws):
    """Without a session every page redirects to the login form, which brings the reader back afterwards."""
    for path in pages(ws, world):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_agents_get_no_session(client, world):
    """An agent's right password still opens no page: the login form says the pages are for supervisors."""
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    response = client.post("/login", data={"csrf_token": "t", "username": world.agent_a.username, "password": PASSWORD})
    assert response.status_code == 403 and "supervisor" in text(response)
    assert client.get("/dashboard").status_code == 302


def test_another_branch_is_out_of_scope(app, world, ws):
    """The Makassar supervisor gets 404 for every Karawang id, on pages and on actions; lists leave them out."""
    other = WebUser(app, world.supervisor_makassar)
    for path in (
        f"/duplicates/{ws.candidate_id}",
        f"/people/{ws.first_worker_id}",
        f"/flags/{ws.flagged_visit_id}",
        f"/follow-ups/{ws.follow_up_id}",
        f"/agents/{world.agent_a.id}",
    ):
        assert other.get(path).status_code == 404, path
    for path, data in (
        (f"/duplicates/{ws.candidate_id}/resolve", {"decision": "merge"}),
        (f"/people/{ws.first_worker_id}/unmerge", {}),
        (f"/flags/{ws.flagged_visit_id}/review", {"flag": "mock_location", "decision": "confirm"}),
        (f"/follow-ups/{ws.follow_up_id}/reassign", {"agent": world.agent_c.id}),
        (f"/follow-ups/{ws.follow_up_id}/reschedule", {"due_at": "2099-01-05T10:00"}),
        (f"/reminders/{ws.dead_reminder_id}/retry", {}),
    ):
        assert other.post(path, data, confirm=True).status_code == 404, path
    assert ws.flagged_visit_id not in text(other.get("/flags"))
    assert ws.follow_up_id not in text(other.get("/follow-ups"))
    assert ws.dead_reminder_id not in text(other.get("/reminders"))
    assert ws.candidate_id not in text(other.get("/duplicates"))
    assert world.agent_a.id not in text(other.get("/agents"))
    assert ws.other_flagged_visit_id in text(other.get("/flags"))


def test_a_supervisor_cannot_widen_their_scope_with_a_branch_argument(spv, world, ws):
    """``branch`` is an admin's filter: a supervisor's pages stay on their own branch whatever it says."""
    for path in ("/flags", "/follow-ups", "/agents", "/dashboard"):
        page = text(spv.get(f"{path}?branch={world.makassar.id}"))
        assert ws.other_flagged_visit_id not in page and ws.other_follow_up_id not in page
        assert world.agent_c.username not in page


def test_devices_of_another_branch_cannot_be_revoked(app, api, world, ws, session):
    """A supervisor revokes their own agents' devices only: another branch's device is 404 and stays live."""
    api.token(world.agent_c, "phone-c")
    session.rollback()
    device = session.execute(select(Device).where(Device.client_device_id == "phone-c")).scalar_one()
    spv = WebUser(app, world.supervisor)
    assert spv.post(f"/devices/{device.id}/revoke", confirm=True).status_code == 404
    assert fresh(session, Device, device.id).revoked_at is None


# --- CSRF, confirmation, results -------------------------------------------------------------------------


def test_every_post_needs_the_csrf_token(spv, world, ws):
    """A form posted without the session's token is refused (403) before anything happens."""
    for path in (
        f"/duplicates/{ws.candidate_id}/resolve",
        f"/people/{ws.first_worker_id}/unmerge",
        f"/flags/{ws.flagged_visit_id}/review",
        f"/follow-ups/{ws.follow_up_id}/reassign",
        f"/follow-ups/{ws.follow_up_id}/reschedule",
        f"/reminders/{ws.dead_reminder_id}/retry",
        "/reminders/new",
        "/devices/x/revoke",
        "/language",
        "/logout",
    ):
        response = spv.post(path, {"decision": "merge"}, confirm=True, token=False)
        assert response.status_code == 403, path
        assert "csrf_token" in response.json["errors"], path


def test_merge_asks_first_then_reports_and_the_queue_shrinks(spv, ws, session):
    """Posting the decision shows a confirmation page and changes nothing; confirming merges, flashes the
    result and redirects to the queue, which no longer lists the pair; unmerge brings it back as distinct."""
    path = f"/duplicates/{ws.candidate_id}/resolve"
    asked = spv.post(path, {"decision": "merge", "note": "KTP dicek"})
    assert asked.status_code == 200 and 'id="confirm"' in text(asked) and "KTP dicek" in text(asked)
    assert fresh(session, DuplicateCandidate, ws.candidate_id).status == "open"
    done = spv.post(path, {"decision": "merge", "note": "KTP dicek"}, confirm=True)
    assert done.status_code == 303 and done.headers["Location"] == "/duplicates"
    assert [category for category, _ in spv.flashes()] == ["success"]
    queue = text(spv.get("/duplicates"))
    assert ws.candidate_id not in queue and "Digabung" in queue  # the flash message
    assert fresh(session, DuplicateCandidate, ws.candidate_id).status == "merged"

    history = text(spv.get(f"/people/{ws.first_worker_id}"))
    assert "unmerge-form" in history
    undone = spv.post(f"/people/{ws.first_worker_id}/unmerge", {"note": "salah gabung"}, confirm=True)
    assert undone.status_code == 303
    assert fresh(session, DuplicateCandidate, ws.candidate_id).status == "distinct"
    assert "Dibatalkan" in text(spv.get(f"/people/{ws.first_worker_id}"))


def test_flag_review_follow_up_and_reminder_actions(spv, world, ws, session):
    """Dismiss a flag, reassign and reschedule a follow-up, retry a dead reminder, send a message: each
    confirmed, each changing exactly what it says."""
    assert (
        spv.post(
            f"/flags/{ws.flagged_visit_id}/review",
            {"flag": "mock_location", "decision": "dismiss", "note": "pelatihan"},
            confirm=True,
        ).status_code
        == 303
    )
    session.rollback()
    (review,) = session.execute(select(VisitFlagReview)).scalars()
    assert (review.decision, review.note) == ("dismissed", "pelatihan")
    assert ws.flagged_visit_id not in text(spv.get("/flags"))
    assert ws.flagged_visit_id in text(spv.get("/flags?state=reviewed"))

    assert (
        spv.post(f"/follow-ups/{ws.follow_up_id}/reassign", {"agent": world.agent_b.id}, confirm=True).status_code
        == 303
    )
    assert (
        spv.post(f"/follow-ups/{ws.follow_up_id}/reschedule", {"due_at": "2099-01-05T10:00"}, confirm=True).status_code
        == 303
    )
    follow_up = fresh(session, FollowUp, ws.follow_up_id)
    assert follow_up.assigned_agent_id == world.agent_b.id and follow_up.status == "scheduled"
    assert follow_up.due_at > 4_000_000_000_000

    assert spv.post(f"/reminders/{ws.dead_reminder_id}/retry", confirm=True).status_code == 303
    assert fresh(session, Reminder, ws.dead_reminder_id).status == "pending"
    sent = spv.post(
        "/reminders/new",
        {"to": "agent", "agent": world.agent_b.id, "text": "Rapat jam 9", "channel": "whatsapp"},
        confirm=True,
    )
    assert sent.status_code == 303
    session.rollback()
    (message,) = session.execute(select(Reminder).where(Reminder.text == "Rapat jam 9")).scalars()
    assert (message.recipient_id, message.channel, message.status) == (world.agent_b.id, "whatsapp", "pending")


def test_revoking_a_device_ends_its_session(app, api, world, ws, session):
    """Revoking an agent's phone from the agent page revokes its tokens: the phone's next call is 401."""
    token = api.token(world.agent_a, "phone-a")
    session.rollback()
    device = session.execute(select(Device).where(Device.client_device_id == "phone-a")).scalar_one()
    spv = WebUser(app, world.supervisor)
    assert device.id in text(spv.get(f"/agents/{world.agent_a.id}"))
    assert spv.post(f"/devices/{device.id}/revoke", confirm=True).status_code == 303
    assert api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/duplicates?status=nope",
        "/duplicates?cursor=%%%",
        "/duplicates?cursor=WyJ4Il0",
        "/duplicates?limit=0",
        "/flags?from=2024-13-45",
        "/flags?state=x",
        "/flags?agent=a%20b",
        "/flags?cursor=bad",
        "/follow-ups?view=later",
        "/reminders?status=lost",
        "/agents?from=2025-02-01&to=2025-01-01",
        "/agents?from=2020-01-01&to=2025-01-01",
        "/agents?q=" + "x" * 200,
        "/reminders/new?worker=a%20b",
    ],
)
def test_bad_query_arguments_are_a_visible_error(spv, path):
    """A bad filter or cursor is a page naming the problem (422), never a 500."""
    response = spv.get(path)
    assert response.status_code == 422, text(response)[:300]
    assert 'class="error"' in text(response)


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("/duplicates/{candidate}/resolve", {"decision": "distinct"}, "note"),
        ("/duplicates/{candidate}/resolve", {"decision": "maybe"}, "decision"),
        ("/flags/{visit}/review", {"flag": "mock_location", "decision": "dismiss"}, "note"),
        ("/flags/{visit}/review", {"flag": "low_accuracy", "decision": "confirm"}, None),
        ("/flags/{visit}/review", {"flag": "nope", "decision": "confirm"}, "flag"),
        ("/follow-ups/{follow_up}/reassign", {"agent": "{agent_c}"}, "assigned_agent_id"),
        ("/follow-ups/{follow_up}/reassign", {}, "agent"),
        ("/follow-ups/{follow_up}/reschedule", {"due_at": "2001-01-01T10:00"}, "due_at"),
        ("/follow-ups/{follow_up}/reschedule", {"due_at": "kemarin"}, "due_at"),
        ("/reminders/new", {"to": "agent", "text": "x"}, "agent"),
        ("/reminders/new", {"to": "agent", "agent": "{agent_b}", "text": "x" * 1001}, "text"),
        ("/reminders/new", {"to": "agent", "agent": "{agent_b}", "text": "a\x01b"}, "text"),
        ("/reminders/new", {"to": "worker", "worker": "nobody", "text": "halo"}, None),
        ("/people/{worker}/unmerge", {"merge_id": "x y"}, "merge_id"),
    ],
)
def test_bad_form_input_goes_back_with_a_message(spv, world, ws, path, data, field):
    """A refused form redirects back (303) with an error message naming the field, or (an id that names
    nothing in scope) answers 404; nothing is written and nothing crashes."""
    names = {
        "candidate": ws.candidate_id,
        "visit": ws.flagged_visit_id,
        "follow_up": ws.follow_up_id,
        "worker": ws.first_worker_id,
        "agent_c": world.agent_c.id,
        "agent_b": world.agent_b.id,
    }
    path = path.format(**names)
    data = {k: v.format(**names) for k, v in data.items()}
    response = spv.post(path, data, confirm=True)
    if field is None:
        assert response.status_code in (303, 404), text(response)[:300]
    else:
        assert response.status_code == 303, text(response)[:300]
        ((category, message),) = spv.flashes()
        assert category == "error" and field in message


def test_a_second_decision_on_a_pair_is_refused_visibly(spv, ws):
    """Deciding a pair twice (two supervisors at once) flashes the conflict instead of failing."""
    path = f"/duplicates/{ws.candidate_id}/resolve"
    assert spv.post(path, {"decision": "distinct", "note": "beda orang"}, confirm=True).status_code == 303
    spv.flashes()
    spv.get("/duplicates")  # consume the first flash
    again = spv.post(path, {"decision": "merge"}, confirm=True)
    assert again.status_code == 303
    ((category, _),) = spv.flashes()
    assert category == "error"


# --- what the pages count --------------------------------------------------------------------------------


def test_dashboard_counts_what_is_waiting(spv, world, ws):
    """Karawang: one open pair, one unreviewed flagged visit, one overdue follow-up, one dead reminder; this
    period three visits (today's) and two verified enrolments; Makassar's counts nothing here."""
    page = text(spv.get("/dashboard"))
    for name in ("open_duplicates", "open_flags", "overdue_follow_ups", "dead_reminders"):
        assert re.search(rf'data-count="{name}"><strong>1</strong>', page), name
    period = page[page.index('data-window="period"') :]
    assert re.search(r'data-count="visits">3<', period)
    assert re.search(r'data-count="enrollments">2<', period)
    assert re.search(r'data-status="verified">.*?</span> 2<', period, re.S)
    assert "chart.umd.min.js" in page and 'id="chart-config"' in page


def test_agent_figures(spv, world, ws):
    """agen.a: three visits today, one flagged (33.3%), one enrolment; a window without anything shows zeros."""
    empty = text(spv.get("/agents?from=2000-01-01&to=2000-12-31"))
    assert "agen.a" in empty and "agen.c" not in empty
    assert empty.count('data-figure="visits">0<') == 2
    today = dt.date.today()
    window = f"from={today - dt.timedelta(days=30)}&to={today + dt.timedelta(days=1)}"
    month = text(spv.get(f"/agents/{world.agent_a.id}?{window}"))
    assert 'data-figure="visits">3<' in month and 'data-figure="enrollments">1<' in month
    assert "1 (33,3%)" in month  # flagged visits
    assert 'data-figure="on_time">0/1 (0,0%)<' in month  # the overdue follow-up, due three days ago


# --- language --------------------------------------------------------------------------------------------


def test_language_switch_is_kept_in_a_cookie(spv):
    """Indonesian by default; the switch sets a cookie and the next page is in English, the login included."""
    assert "Beranda" in text(spv.get("/dashboard"))
    switched = spv.post("/language", {"lang": "en", "next": "/dashboard"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/dashboard"
    assert LANG_COOKIE in switched.headers["Set-Cookie"]
    page = text(spv.get("/dashboard"))
    assert "Dashboard" in page and 'lang="en"' in page and "Beranda" not in page
    assert spv.post("/language", {"lang": "xx", "next": "//evil.example"}).headers["Location"] == "/login"


def test_catalogue_has_both_languages_and_every_key_used():
    """Every message has an Indonesian and an English text, and every key a template names exists."""
    for key, pair in messages.CATALOGUE.items():
        assert len(pair) == 2 and all(part.strip() for part in pair), key
    used = set()
    for template in (WEB_DIR / "templates").glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_]+\.[a-z0-9_]*[a-z0-9])'", template.read_text()))
    for module in WEB_DIR.rglob("*.py"):
        used |= set(re.findall(r'translate\("([a-z_]+\.[a-z0-9_]*[a-z0-9])"', module.read_text()))
    missing = sorted(key for key in used if key not in messages.CATALOGUE)
    assert not missing


def test_boundaries_and_vendor_files(client):
    """The boundaries are served gzipped to browsers that accept it; Chart.js comes from its dist folder only."""
    response = client.get("/web/boundaries/provinces.geojson", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert client.get("/web/boundaries/secret.geojson").status_code == 404
    assert client.get("/web/vendor/chart.js/package.json").status_code == 404


# --- the contest and the admin pages ---------------------------------------------------------------------


def _period_form(name="Periode 1", first=None, last=None, targets="KCU-KARAWANG=10"):
    today = dt.date.today()
    return {
        "name": name,
        "starts_on": str(first or today - dt.timedelta(days=3)),
        "ends_on": str(last or today + dt.timedelta(days=3)),
        "timezone": "Asia/Jakarta",
        "targets": targets,
    }


@pytest.fixture
def admin(app, world, ws):
    return WebUser(app, world.admin)


@pytest.fixture
def period_id(admin):
    created = admin.post("/admin/periods", _period_form(), confirm=True)
    assert created.status_code == 303, text(created)[:300]
    admin.get(created.headers["Location"])  # shows (and so consumes) the result message
    return created.headers["Location"].rsplit("period=", 1)[1]


def test_admin_pages_are_out_of_a_supervisors_scope(spv, world):
    """Every admin page and form is 404 for a supervisor, as for anything outside their scope."""
    for path in ("/admin", "/admin/periods", "/admin/branches", "/admin/users", "/admin/audit",
                 f"/admin/users/{world.agent_a.id}", f"/admin/branches/{world.karawang.id}"):  # fmt: skip
        assert spv.get(path).status_code == 404, path
    for path in ("/admin/periods", "/admin/branches", "/admin/users", f"/admin/users/{world.agent_a.id}/password"):
        assert spv.post(path, {"name": "x"}, confirm=True).status_code == 404, path
    assert "/admin" not in [a for a in re.findall(r'href="([^"]+)"', text(spv.get("/dashboard")))]


def test_leaderboard_before_any_period(spv):
    """Without a period the leaderboard says so (and the dashboard shows no contest card)."""
    assert 'id="no-periods"' in text(spv.get("/leaderboard"))
    assert 'id="contest"' not in text(spv.get("/dashboard"))


def test_a_new_period_ranks_the_branches(api, admin, spv, world, ws):
    """Creating a period (confirmed) leads to its leaderboard: Makassar's three credits rank it above
    Karawang's two; the supervisor sees their row marked, their agents ranked, their rank on the dashboard,
    and the CSV; a filter narrows the table."""
    workspace_data.makassar_ahead(api, world)
    created = admin.post("/admin/periods", _period_form(), confirm=True)
    board = text(admin.get(created.headers["Location"]))
    ranks = re.findall(r'data-branch-id="([^"]+)" data-rank="(\d+)"', board)
    assert ranks == [(world.makassar.id, "1"), (world.karawang.id, "2")]
    period_id = created.headers["Location"].rsplit("period=", 1)[1]
    page = text(spv.get("/leaderboard"))
    assert 'id="my-standing" data-rank="2"' in page and 'class="current"' in page
    agents = re.findall(r'data-agent-id="([^"]+)" data-rank="(\d+)"', page)
    assert agents == [(world.agent_a.id, "1"), (world.agent_b.id, "2")]  # one credit each: by username
    assert 'id="contest" data-rank="2"' in text(spv.get("/dashboard"))
    csv = spv.get(f"/api/v1/contest/leaderboard.csv?period_id={period_id}")
    assert csv.status_code == 200 and text(csv).splitlines()[1].split(",")[:3] == [
        "1",
        world.makassar.id,
        "KCU-MAKASSAR",
    ]
    filtered = text(spv.get(f"/leaderboard?period={period_id}&q=karawang"))
    assert re.findall(r'data-branch-id="([^"]+)" data-rank', filtered) == [world.karawang.id]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_period_form(first=dt.date(2025, 5, 2), last=dt.date(2025, 5, 1)), "ends_on"),
        (_period_form(targets="KCU-NOWHERE=5"), "targets"),
        (_period_form(targets="karawang five"), "targets"),
        ({**_period_form(), "starts_on": "2025-02-30"}, "starts_on"),
        ({**_period_form(), "timezone": "Europe/Paris"}, "timezone"),
        ({**_period_form(), "name": ""}, "name"),
    ],
)
def test_bad_period_input_is_named(admin, data, field):
    response = admin.post("/admin/periods", data, confirm=True)
    assert response.status_code == 303
    ((category, message),) = admin.flashes()
    assert category == "error" and field in message


def test_overlapping_periods_are_refused_visibly(admin, period_id):
    """A second period over the same days is refused with the first one named."""
    response = admin.post("/admin/periods", _period_form(name="Tumpang"), confirm=True)
    assert response.status_code == 303
    ((category, message),) = admin.flashes()
    assert category == "error" and "overlaps" in message and "starts_on" in message


def test_changing_a_period_merges_targets(admin, world, period_id):
    """``CODE=`` removes a target; a changed period keeps the branches it does not name."""
    form = _period_form(name="Periode 1b", targets="KCU-MAKASSAR=7")
    assert admin.post(f"/admin/periods/{period_id}", form, confirm=True).status_code == 303
    page = text(admin.get(f"/admin/periods/{period_id}"))
    assert "KCU-KARAWANG=10" in page and "KCU-MAKASSAR=7" in page and "Periode 1b" in page
    form["targets"] = "KCU-KARAWANG="
    assert admin.post(f"/admin/periods/{period_id}", form, confirm=True).status_code == 303
    page = text(admin.get(f"/admin/periods/{period_id}"))
    assert "KCU-KARAWANG=10" not in page and ">KCU-MAKASSAR=7<" in page


def test_admin_manages_branches_and_users(admin, world):
    """Create a branch and a supervisor in it, disable them, reset a password; bad values are named."""
    branch = {"code": "kc-cikampek", "name": "KC Cikampek", "kind": "KC", "latitude": "-6.41", "longitude": "107.45"}
    assert admin.post("/admin/branches", branch, confirm=True).status_code == 303
    assert "KC-CIKAMPEK" in text(admin.get("/admin/branches"))
    bad = admin.post("/admin/branches", {**branch, "code": "KC-X", "latitude": "48.8"}, confirm=True)
    assert bad.status_code == 303 and "latitude" in admin.flashes()[0][1]
    admin.get("/admin/branches")
    new_branch = re.search(
        r'data-branch-id="([^"]+)">\s*<td[^>]*><strong>KC-CIKAMPEK', text(admin.get("/admin/branches"))
    )
    user = {"username": "spv.cikampek", "password": "kata-sandi-1", "role": "supervisor", "branch": new_branch.group(1)}
    created = admin.post("/admin/users", user, confirm=True)
    assert created.status_code == 303
    user_page = created.headers["Location"]
    assert "spv.cikampek" in text(admin.get("/admin/users?role=supervisor"))
    again = admin.post("/admin/users", user, confirm=True)
    assert again.status_code == 303 and "username" in admin.flashes()[0][1]
    admin.get("/admin/users")
    short = admin.post(f"{user_page}/password", {"password": "pendek"}, confirm=True)
    assert short.status_code == 303 and "password" in admin.flashes()[0][1]
    admin.get("/admin/users")
    changed = admin.post(
        user_page, {"role": "supervisor", "branch": new_branch.group(1), "disabled": "1"}, confirm=True
    )
    assert changed.status_code == 303
    assert "spv.cikampek" in text(admin.get("/admin/users?state=disabled"))


def test_supervisor_creates_an_agent_and_resets_a_password(app, spv, world, ws):
    """A supervisor's new agent belongs to their branch; a reset password works at the next login."""
    created = spv.post(
        "/agents/new", {"username": "agen.baru", "password": "sandi-baru-1", "full_name": "Agen Baru"}, confirm=True
    )
    assert created.status_code == 303
    page = text(spv.get(created.headers["Location"]))
    assert "agen.baru" in page and "KCU-KARAWANG" in page
    elsewhere = spv.post(
        "/agents/new", {"username": "agen.lain", "password": "sandi-baru-1", "branch": world.makassar.id}, confirm=True
    )
    assert elsewhere.status_code == 403
    assert (
        spv.post(f"/agents/{world.agent_a.id}/password", {"password": "sandi-lain-2"}, confirm=True).status_code == 303
    )
    login = app.test_client().post(
        "/api/v1/auth/login", json={"username": "agen.a", "password": "sandi-lain-2", "device_id": "p"}
    )
    assert login.status_code == 200
    assert (
        spv.post(f"/agents/{world.agent_c.id}/password", {"password": "sandi-lain-2"}, confirm=True).status_code == 404
    )


def test_restore_a_revoked_device_and_the_audit_trail(app, api, world, ws, session):
    """Revoke then restore a phone; merges, flag decisions, reassignments and device changes made on the
    pages are in the admins' audit trail, filterable by action."""
    api.token(world.agent_a, "phone-r")
    session.rollback()
    device = session.execute(select(Device).where(Device.client_device_id == "phone-r")).scalar_one()
    spv = WebUser(app, world.supervisor)
    assert spv.post(f"/devices/{device.id}/revoke", confirm=True).status_code == 303
    assert "restore-form" in text(spv.get(f"/agents/{world.agent_a.id}"))
    assert spv.post(f"/devices/{device.id}/restore", confirm=True).status_code == 303
    assert fresh(session, Device, device.id).revoked_at is None
    spv.post(f"/duplicates/{ws.candidate_id}/resolve", {"decision": "merge"}, confirm=True)
    spv.post(f"/flags/{ws.flagged_visit_id}/review", {"flag": "mock_location", "decision": "confirm"}, confirm=True)
    spv.post(f"/follow-ups/{ws.follow_up_id}/reassign", {"agent": world.agent_b.id}, confirm=True)
    trail = text(WebUser(app, world.admin).get("/admin/audit"))
    for action in ("device.revoke", "device.restore", "duplicate.merge", "visit_flag.confirm", "follow_up.reassign"):
        assert f'data-action="{action}"' in trail, action
    only = text(WebUser(app, world.admin).get("/admin/audit?action=device.restore"))
    assert set(re.findall(r'data-action="([^"]+)"', only)) == {"device.restore"}


def test_a_visit_stays_unreviewed_until_every_flag_it_carries_is_decided(session, world):
    """Two flags, one reviewed: still waiting; both reviewed: done; a review of a flag the visit no longer
    carries decides nothing (the engine may drop a sequence flag after later pushes)."""
    from sync.models.visit_reviews import VisitFlagReview as Review
    from sync.workspace import flagged
    from tests.factories import principal_of

    visit = workspace_data.add_visit(
        session, world.agent_a, -6.3, 107.3, workspace_data.local_noon_today(), flags="low_accuracy,mock_location"
    )
    session.flush()

    def review(flag: str) -> None:
        session.add(Review(id=f"r-{flag}", visit_id=visit.id, flag=flag, decision="confirmed",
                           reviewed_by=world.supervisor.id, reviewed_by_username="spv", reviewed_at=1))  # fmt: skip
        session.flush()

    def waiting() -> int:
        return flagged.count_unreviewed(session, principal=principal_of(world.supervisor), branch_id=None)

    assert waiting() == 1
    review("impossible_travel")  # not a flag this visit carries
    review("low_accuracy")
    assert waiting() == 1
    assert [v.id for v in flagged.list_flagged(session, principal=principal_of(world.supervisor),
            filters=flagged.FlaggedFilters(), limit=5, cursor=None).items] == [visit.id]  # fmt: skip
    review("mock_location")
    assert waiting() == 0
    assert flagged.count_unreviewed(session, principal=principal_of(world.supervisor_makassar), branch_id=None) == 0
