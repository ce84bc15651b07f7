"""Where reminders go: ``log`` (recorded only) or ``webhook`` (an SMS/WhatsApp gateway) (docs/domain.md "Reminders").

The webhook POSTs ``{"id", "to", "channel", "text", "reminder_kind"}`` with ``Idempotency-Key`` = the
reminder id (a gateway drops a repeat, so a send retried after a crash reaches the person once), signed
under the shared webhook secret (``JANGKAU_WEBHOOK_SECRET``) with the recipe below.
2xx is sent; 429, 5xx and network errors are retried; any other answer is a permanent failure.

Signing recipe, the same both ways (our messages to the gateway, the gateway's ``POST
/api/v1/reminders/opt-out`` to us):

- ``X-Jangkau-Timestamp: <t>``: the current Unix time in whole seconds, ASCII digits (e.g. ``1767225600``);
- ``X-Jangkau-Signature: sha256=<hex>``: ``<hex>`` is the lowercase hex HMAC-SHA256, keyed with the
  secret's UTF-8 bytes, of ``<t>`` (the header's exact ASCII digits), one ``.`` and then the request body
  bytes exactly as sent (decompressed, if it was sent with ``Content-Encoding: gzip``).

In Python: ``"sha256=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()``.
A receiver compares in constant time and refuses a timestamp more than ``REPLAY_WINDOW_S`` (5 minutes)
away from its own clock, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from sync.pii import mask_phone

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Jangkau-Signature"
TIMESTAMP_HEADER = "X-Jangkau-Timestamp"
INSTANCE_HEADER = "X-Jangkau-Instance"
REPLAY_WINDOW_S = 300
MAX_TIMESTAMP_DIGITS = 12


@dataclass(frozen=True)
class Delivery:
    """The outcome of one send: ``ok``, or a failure that is ``retryable`` or permanent."""

    ok: bool
    retryable: bool = False
    error: str | None = None
    retry_after_s: float | None = None


class Channel(Protocol):
    name: str

    def send(self, message: dict, *, sender: str) -> Delivery: ...


def sign(body: bytes, secret: str, timestamp: str | int) -> str:
    """The ``X-Jangkau-Signature`` value for ``body`` sent with ``X-Jangkau-Timestamp: timestamp``."""
    signed = str(timestamp).encode("ascii", "replace") + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str | None, header: str | None, timestamp: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` at ``timestamp``: total over any header value
    (non-ASCII text compares as unequal instead of raising), compared in constant time."""
    if not (secret and header and timestamp is not None):
        return False
    expected = sign(body, secret, timestamp).encode()
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def parse_timestamp(raw: str | None) -> int | None:
    """Whole seconds from an ``X-Jangkau-Timestamp`` value (ASCII digits only), else ``None``."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw or len(raw) > MAX_TIMESTAMP_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def fresh(timestamp: int, now_s: float | None = None, window_s: int = REPLAY_WINDOW_S) -> bool:
    """Whether ``timestamp`` is within ``window_s`` seconds of now (either way)."""
    now_s = time.time() if now_s is None else now_s
    return abs(now_s - timestamp) <= window_s


def signed_headers(body: bytes, secret: str, now_s: float | None = None) -> dict[str, str]:
    """The two headers that sign ``body`` now."""
    timestamp = str(int(time.time() if now_s is None else now_s))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(body, secret, timestamp)}


class LogChannel:
    """Records the message in the log only (the default, and what demos and tests use)."""

    name = "log"

    def send(self, message: dict, *, sender: str) -> Delivery:
        to = message["to"]
        shown = mask_phone(to) if to.startswith("+") else to
        log.info("reminder %s (%s) via %s to %s", message["id"], message["reminder_kind"], message["channel"], shown)
        return Delivery(ok=True)


class WebhookChannel:
    """HTTP POST to the gateway, keeping one connection per thread alive between sends."""

    name = "webhook"

    def __init__(self, url: str, secret: str | None, timeout_s: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook URL must be http(s)://host/…, got {url!r}")
        self.url, self.secret, self.timeout_s = url, secret or "", timeout_s
        self._parts = parts
        self._host: str = parts.hostname  # checked above
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
            conn = cls(self._host, self._parts.port, timeout=self.timeout_s)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        """Close this thread's kept-alive connection."""
        self._drop()

    def send(self, message: dict, *, sender: str) -> Delivery:
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message["id"],
            **signed_headers(body, self.secret),
            INSTANCE_HEADER: sender,
        }
        path = (self._parts.path or "/") + (f"?{self._parts.query}" if self._parts.query else "")
        try:
            conn = self._connection()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status, retry_after = response.status, response.getheader("Retry-After")
            if response.getheader("Connection", "").lower() == "close":
                self._drop()
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timeout, bad status line
            self._drop()
            return Delivery(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= status < 300:
            return Delivery(ok=True)
        if status == 429 or status >= 500:
            wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else None
            return Delivery(ok=False, retryable=True, error=f"HTTP {status}", retry_after_s=wait)
        return Delivery(ok=False, retryable=False, error=f"HTTP {status}")


def build_channel(name: str, *, url: str | None = None, secret: str | None = None, timeout_s: float = 10.0) -> Channel:
    """The channel named by ``JANGKAU_REMINDER_CHANNEL``."""
    if name == "log":
        return LogChannel()
    if name == "webhook":
        if not url:
            raise ValueError("JANGKAU_REMINDER_CHANNEL=webhook needs JANGKAU_REMINDER_WEBHOOK_URL")
        return WebhookChannel(url, secret, timeout_s)
    raise ValueError(f"unknown reminder channel {name!r} (use log or webhook)")
