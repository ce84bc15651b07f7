"""The supervisor pages in real Chromium (Debian's ``/usr/bin/chromium``, driven by Python Playwright).

The app is served on a loopback port from a thread; the browser has no internet, so map tiles point
at a closed loopback port and the page must work without them. Tests skip when Chromium or the
npm-installed map libraries are missing (``./dev test`` installs both).
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

import server.auth
from server import create_app, web
from server.web.session_auth import request_token

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OFFLINE_TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"  # nothing listens on port 9: tiles fail fast
NODE_MODULES = Path(web.__file__).parent / "node_modules"


def _ensure_vendor_files() -> None:
    if (NODE_MODULES / "leaflet.markercluster" / "dist").is_dir() and (NODE_MODULES / "leaflet" / "dist").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is missing: the map libraries come from npm (run ./dev test)")
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_MODULES.parent, check=True)


@pytest.fixture(scope="session")
def web_app(app, app_config):
    """The test app with the supervisor pages, and the API accepting the web session.

    Until ``server/__init__.py`` registers the pages and ``server/auth.py`` accepts the session, this
    fixture wires both for the tests only.
    """
    if "web" not in app.blueprints:
        if getattr(app, "_got_first_request", False):
            app = create_app(app_config)
        web.init_app(app)
    app.config["MAP_TILE_URL"] = OFFLINE_TILES
    patch = pytest.MonkeyPatch()
    if "request_token" not in inspect.getsource(server.auth):
        original = server.auth.bearer_token
        patch.setattr(server.auth, "bearer_token", lambda: request_token(original))
    yield app
    patch.undo()


@pytest.fixture(scope="session")
def base_url(web_app):
    """The app served on 127.0.0.1 (a free port) by werkzeug in a daemon thread."""
    _ensure_vendor_files()
    httpd = make_server("127.0.0.1", 0, web_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    """A fresh browser context (no cookies) and page, with console errors collected in ``page.errors``."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.errors = []

    def on_console(message):
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if url.startswith("http://127.0.0.1:9/tiles/"):
            return  # a failed tile request: expected offline
        page.errors.append(f"{message.text} @ {url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.errors.append(f"page error: {error}"))
    yield page
    context.close()
