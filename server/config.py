"""Configuration from environment variables only, read once and typed (README "Configuration")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("JANGKAU_INSTANCE_DIR", Path.cwd() / "instance"))


class ConfigError(SystemExit):
    """A configuration problem: the process stops with a one-line reason."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be on or off (1/0, true/false, yes/no), got {raw!r}")


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    return None if env.get(name) in (None, "") else _int(env, name, 0)


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'jangkau.db'}"


def normalize_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_env(env: Mapping[str, str] | None = None) -> dict:
    """The Flask config mapping built from the environment."""
    env = os.environ if env is None else env
    return {
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(env.get("DATABASE_URL") or default_database_url()),
        "SECRET_KEY": env.get("JANGKAU_SECRET_KEY"),
        "PII_KEYS": env.get("JANGKAU_PII_KEYS"),
        "PII_INDEX_KEY": env.get("JANGKAU_PII_INDEX_KEY"),
        "MAX_BODY_BYTES": _int(env, "JANGKAU_MAX_BODY_BYTES", 20 * 1024 * 1024),
        # Failed logins per minute: per username and client IP; per client IP (default 10x); per username
        # from anywhere (default 3x), which never blocks a device the user already logged in from.
        "LOGIN_RATE_LIMIT": _int(env, "JANGKAU_LOGIN_RATE_LIMIT", 10),
        "LOGIN_IP_RATE_LIMIT": _optional_int(env, "JANGKAU_LOGIN_IP_RATE_LIMIT"),
        "LOGIN_USER_RATE_LIMIT": _optional_int(env, "JANGKAU_LOGIN_USER_RATE_LIMIT"),
        "SYNC_RATE_LIMIT": _int(env, "JANGKAU_SYNC_RATE_LIMIT", 120),
        "IP_RATE_LIMIT": _int(env, "JANGKAU_IP_RATE_LIMIT", 600),
        "SCHEDULER": env.get("JANGKAU_SCHEDULER", "on"),
        # Kept as strings: the reminder settings parser accepts fractions of seconds and validates them.
        "SCHEDULER_INTERVAL_S": env.get("JANGKAU_SCHEDULER_INTERVAL_S", "30"),
        "REMINDER_CHANNEL": env.get("JANGKAU_REMINDER_CHANNEL", "log"),
        "REMINDER_WEBHOOK_URL": env.get("JANGKAU_REMINDER_WEBHOOK_URL"),
        "WEBHOOK_SECRET": env.get("JANGKAU_WEBHOOK_SECRET"),
        "QUIET_HOURS": env.get("JANGKAU_QUIET_HOURS", "21:00-07:00"),
        "MAP_TILE_URL": env.get("JANGKAU_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "API_TITLE": "Jangkau",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # The web session cookie: never readable by scripts, not sent on cross-site subrequests, and
        # only over HTTPS when the site is served that way (JANGKAU_SECURE_COOKIES=on).
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": _bool(env, "JANGKAU_SECURE_COOKIES", False),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none), so the
        # per-IP limits see the phone's address rather than the proxy's.
        "TRUSTED_PROXIES": _int(env, "JANGKAU_TRUSTED_PROXIES", 0),
    }
