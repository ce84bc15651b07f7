"""Dispatch settings, typed once; the server builds them from its configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sync.reminders.quiet import QuietHours, parse_quiet_hours

# key (app.config name; JANGKAU_<key> in the environment) → default
DEFAULTS: dict[str, object] = {
    "REMINDER_CHANNEL": "log",
    "REMINDER_WEBHOOK_URL": None,
    "WEBHOOK_SECRET": None,
    "QUIET_HOURS": "21:00-07:00",
    "SCHEDULER_INTERVAL_S": 30,
    "REMINDER_MAX_ATTEMPTS": 8,
    "REMINDER_LEASE_S": 60,
    "REMINDER_BATCH_SIZE": 50,
    "REMINDER_TIMEOUT_S": 10,
    "REMINDER_BACKOFF_BASE_S": 30,
    "REMINDER_BACKOFF_CAP_S": 6 * 3600,
    "FOLLOW_UP_GRACE_H": 24,
}


@dataclass(frozen=True)
class DispatchSettings:
    channel: str = "log"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    quiet_hours: QuietHours | None = field(default_factory=lambda: parse_quiet_hours("21:00-07:00"))
    interval_s: float = 30.0
    max_attempts: int = 8
    lease_ms: int = 60_000
    batch_size: int = 50
    timeout_s: float = 10.0
    backoff_base_ms: int = 30_000
    backoff_cap_ms: int = 6 * 3_600_000
    missed_grace_ms: int = 24 * 3_600_000

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> DispatchSettings:
        """Build from ``DEFAULTS``-named keys; missing keys take the defaults. Raises ValueError when bad."""

        def get(key: str):
            value = values.get(key)
            return DEFAULTS[key] if value in (None, "") else value

        def number(key: str) -> float:
            try:
                result = float(get(key))
            except (TypeError, ValueError):
                raise ValueError(f"JANGKAU_{key} must be a number, got {get(key)!r}") from None
            if result <= 0:
                raise ValueError(f"JANGKAU_{key} must be positive")
            return result

        channel = str(get("REMINDER_CHANNEL")).strip().lower()
        if channel not in ("log", "webhook"):
            raise ValueError(f"JANGKAU_REMINDER_CHANNEL must be log or webhook, got {channel!r}")
        if number("REMINDER_LEASE_S") <= number("REMINDER_TIMEOUT_S"):
            raise ValueError("JANGKAU_REMINDER_LEASE_S must be longer than JANGKAU_REMINDER_TIMEOUT_S")
        return cls(
            channel=channel,
            webhook_url=get("REMINDER_WEBHOOK_URL"),
            webhook_secret=get("WEBHOOK_SECRET"),
            quiet_hours=parse_quiet_hours(str(get("QUIET_HOURS"))),
            interval_s=number("SCHEDULER_INTERVAL_S"),
            max_attempts=int(number("REMINDER_MAX_ATTEMPTS")),
            lease_ms=int(number("REMINDER_LEASE_S") * 1000),
            batch_size=int(number("REMINDER_BATCH_SIZE")),
            timeout_s=number("REMINDER_TIMEOUT_S"),
            backoff_base_ms=int(number("REMINDER_BACKOFF_BASE_S") * 1000),
            backoff_cap_ms=int(number("REMINDER_BACKOFF_CAP_S") * 1000),
            missed_grace_ms=int(number("FOLLOW_UP_GRACE_H") * 3_600_000),
        )
