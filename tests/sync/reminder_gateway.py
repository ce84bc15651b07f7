"""A tiny SMS gateway on loopback for dispatch tests and the bench: counts deliveries by Idempotency-Key.

A key answered 2xx once is *delivered*; the same key arriving again is answered 200 (as a real gateway
deduplicating by key would) but counted as a *replay*, which is what exactly-once must never produce.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import insert
from sqlalchemy.orm import Session

from sync.models import Worker, new_id
from sync.models.outreach import Reminder
from sync.reminders.channels import INSTANCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from sync.reminders.outbox import reminder_row

SECRET = "gateway-test-secret"


class Gateway:
    """``fail_rate`` answers that share of calls 503; ``hold`` blocks the first call from a matching sender."""

    def __init__(self, *, fail_rate: float = 0.0, secret: str = SECRET, seed: int = 7):
        self.fail_rate, self.secret = fail_rate, secret
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.delivered: Counter[str] = Counter()
        self.replays: Counter[str] = Counter()
        self.failed_calls = 0
        self.requests = 0
        self.bad_signatures = 0
        self.senders: Counter[str] = Counter()
        self.hold_sender: str | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_key: str | None = None
        self.first_delivery: float | None = None
        self.last_delivery: float | None = None
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = gateway.handle(body, self.headers)
                if status is None:
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, body: bytes, headers) -> int | None:
        key = headers.get("Idempotency-Key")
        sender = headers.get(INSTANCE_HEADER, "")
        with self.lock:
            self.requests += 1
            self.senders[sender] += 1
            if headers.get(SIGNATURE_HEADER) != sign(body, self.secret, headers.get(TIMESTAMP_HEADER, "")):
                self.bad_signatures += 1
                return 401
            message = json.loads(body)
            assert message["id"] == key and set(message) == {"id", "to", "channel", "text", "reminder_kind"}
            hold = self.hold_sender is not None and self.hold_sender in sender and not self.held.is_set()
            if hold:
                self.held_key = key
                self.held.set()
        if hold:
            self.release.wait(60)
            return None  # the sender was killed meanwhile: no answer at all
        with self.lock:
            if key in self.delivered:
                self.replays[key] += 1
                return 200
            if self.fail_rate and self.rng.random() < self.fail_rate:
                self.failed_calls += 1
                return 503
            self.delivered[key] += 1
            self.last_delivery = time.perf_counter()
            self.first_delivery = self.first_delivery or self.last_delivery
            return 200

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def seed_due_reminders(session: Session, pii, count: int, *, due_at: int, kind: str = "message") -> list[str]:
    """``count`` workers with mobile phones and one due reminder each (distinct recipients: no daily cap)."""
    workers, reminders = [], []
    for i in range(count):
        wid = new_id()
        workers.append(
            {
                "id": wid,
                "server_created_at": 1,
                "last_modified": 1,
                "full_name": f"Pekerja {i}",
                "phone_encrypted": pii.encrypt(f"0812{i:08d}", row_id=wid),
                "phone_index": pii.blind_index("phone", f"+62812{i:08d}"),
                "membership_status": "active",
            }
        )
        reminders.append(
            reminder_row(
                kind=kind,
                recipient_type="worker",
                recipient_id=wid,
                text=f"Pesan uji {i}",
                due_at=due_at,
                timezone="Asia/Jakarta",
            )
        )
    for start in range(0, count, 2000):
        session.execute(insert(Worker), workers[start : start + 2000])
        session.execute(insert(Reminder), reminders[start : start + 2000])
    session.commit()
    return [r["id"] for r in reminders]
