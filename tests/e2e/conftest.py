"""End-to-end fixtures: the session ``app`` served on a real loopback port, and real WatermelonDB phones.

The phones are ``tests/e2e/wmdb/phone.mjs``: ``@nozbe/watermelondb`` 0.28 with ``LokiJSAdapter`` in memory
under Node, driven one JSON command per line over stdin/stdout. The tests skip (with the reason) only when
``node`` or ``tests/e2e/wmdb/node_modules`` is missing; run ``npm install`` in ``tests/e2e/wmdb`` first.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

WMDB_DIR = Path(__file__).parent / "wmdb"
SCRIPT = WMDB_DIR / "phone.mjs"
PACKAGE = WMDB_DIR / "node_modules" / "@nozbe" / "watermelondb"
COMMAND_TIMEOUT_S = 30


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture(scope="session")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("`node` is not on PATH: the WatermelonDB end-to-end tests need Node.js 20")
    if not PACKAGE.is_dir():
        pytest.skip(f"{WMDB_DIR / 'node_modules'} is missing: run `npm install` (or `npm ci`) in {WMDB_DIR}")
    return executable


@pytest.fixture(scope="session")
def live_server(app) -> str:
    """The session ``app`` on 127.0.0.1 with a free port, served by threads; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="jangkau-e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class PhoneError(RuntimeError):
    """The Node side failed outside of a sync (a bug in the scenario or in phone.mjs)."""


class PhoneRunner:
    """One Node process holding any number of in-memory WatermelonDB phones."""

    def __init__(self, node: str, base_url: str):
        self.process = subprocess.Popen(
            [node, str(SCRIPT), "--base", base_url],
            cwd=WMDB_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        self.logs: list[dict] = []  # every console line WatermelonDB printed, in order
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr.append), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, sink) -> None:
        for line in stream:
            sink(line)
        sink(None)

    def call(self, op: str, **fields) -> dict:
        if self.process.poll() is not None:
            raise PhoneError(f"node exited with {self.process.returncode}: {''.join(filter(None, self.stderr))}")
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        try:
            line = self.lines.get(timeout=COMMAND_TIMEOUT_S)
        except queue.Empty:
            raise PhoneError(f"no answer to {op!r} within {COMMAND_TIMEOUT_S}s") from None
        if line is None:
            self.process.wait(timeout=5)
            raise PhoneError(f"node exited with {self.process.returncode}: {''.join(filter(None, self.stderr))}")
        answer = json.loads(line)
        self.logs.extend(answer.get("logs", []))
        if answer.get("fatal"):
            raise PhoneError(f"{op} failed in node: {answer['error']}")
        return answer

    def phone(self, name: str, token: str, **options) -> Phone:
        self.call("open", phone=name, token=token, options=options)
        return Phone(self, name)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


class Phone:
    """One WatermelonDB database (a phone), as the app code would use it."""

    def __init__(self, runner: PhoneRunner, name: str):
        self.runner, self.name = runner, name

    def _call(self, op: str, **fields) -> dict:
        return self.runner.call(op, phone=self.name, **fields)

    def create(self, table: str, **values) -> str:
        """Create a record locally (WatermelonDB generates the id unless ``id`` is given); returns the id."""
        return self._call("create", table=table, values=values)["id"]

    def update(self, table: str, record_id: str, **values) -> dict:
        return self._call("update", table=table, id=record_id, values=values)["record"]

    def delete(self, table: str, record_id: str) -> None:
        """``markAsDeleted()``: the deletion is pushed on the next sync."""
        self._call("delete", table=table, id=record_id)

    def sync(self, *, pause_before_push: bool = False, drop_push_response: bool = False) -> dict:
        """One ``synchronize()``: ``{"ok", "error"?, "exchanges", "logs"}``.

        ``pause_before_push``: answer ``{"paused": True, "push": changes}`` once pulled and about to push;
        the POST waits for ``resume()``. ``drop_push_response``: the push reaches the server, but
        ``pushChanges`` then fails as if the network lost the response.
        """
        return self._call("sync", pauseBeforePush=pause_before_push, dropPushResponse=drop_push_response)

    def resume(self) -> dict:
        return self._call("resume")

    def dump(self) -> dict:
        return self._call("dump")

    def records(self, table: str) -> dict[str, dict]:
        """Local raw records of ``table`` by id, with ``_status``/``_changed`` (deleted ones included)."""
        return {r["id"]: r for r in self.dump()["tables"][table]}

    def record(self, table: str, record_id: str) -> dict:
        return self.records(table)[record_id]


@pytest.fixture
def phones(node, live_server):
    """A fresh Node process per test; ``phones.phone(name, token)`` opens an empty in-memory phone."""
    runner = PhoneRunner(node, live_server)
    try:
        yield runner
    finally:
        runner.close()
