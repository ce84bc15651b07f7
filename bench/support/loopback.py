"""A real server for ``--transport gunicorn``: gunicorn on 127.0.0.1 and a client shaped like Werkzeug's."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from . import REPO
from .database import APP_NAME


class LoopbackResponse:
    """The bits of Werkzeug's test response the benchmarks use."""

    def __init__(self, status: int, headers: dict[str, str], data: bytes):
        self.status_code, self.headers, self._data = status, headers, data

    def get_data(self, as_text: bool = False):
        return self._data.decode() if as_text else self._data

    def get_json(self):
        return json.loads(self._data)

    @property
    def json(self):
        return self.get_json()


class LoopbackClient:
    """``post``/``get`` like Werkzeug's test client, over TCP to a server on 127.0.0.1 (one connection each)."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, body: bytes | None, headers: dict) -> LoopbackResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return LoopbackResponse(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def post(self, path: str, data: bytes | None = None, json: object = None, headers: dict | None = None):
        headers = dict(headers or {})
        if json is not None:
            data = _json_dumps(json)
            headers["Content-Type"] = "application/json"
        return self.request("POST", path, data, headers)

    def get(self, path: str, query_string: dict | None = None, headers: dict | None = None):
        if query_string:
            path = f"{path}?{urllib.parse.urlencode(query_string)}"
        return self.request("GET", path, None, dict(headers or {}))


def _json_dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, keys: dict[str, str]) -> tuple[subprocess.Popen, LoopbackClient]:
    """``gunicorn server.wsgi:app`` with one sync worker on a free loopback port, configured by environment."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        **keys,
        "JANGKAU_SECRET_KEY": "bench-secret",
        "JANGKAU_LOGIN_RATE_LIMIT": "1000000",
        "JANGKAU_SYNC_RATE_LIMIT": "1000000",
        "JANGKAU_IP_RATE_LIMIT": "1000000",
        "JANGKAU_SCHEDULER": "off",
        "PGAPPNAME": APP_NAME,  # libpq's variable, honoured by psycopg: names the server's connections
    }
    log_path = Path(os.environ["JANGKAU_INSTANCE_DIR"]) / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:  # the child keeps its own descriptor
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", "1", "--timeout", "300"]
            + ["--bind", f"127.0.0.1:{port}", "--chdir", str(REPO), "server.wsgi:app"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = LoopbackClient(port)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/healthz").status_code == 200:
                return server, client
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.terminate()
            raise RuntimeError(f"gunicorn did not start; see {log_path}")
        time.sleep(0.1)
