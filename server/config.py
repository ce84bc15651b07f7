"""Configuration from environment variables only, read once and typed (README "Configuration").

``create_app`` reads the environment once (``from_env``: the Flask config mapping, test overrides on top),
then parses the engine's part of it once (``parse_settings``: a frozen ``sync.settings.EngineSettings``),
which it keeps on the app (``engine_settings(app)``) and hands to the engine: the push takes it as an
argument, the scheduler its ``dispatch`` part. A bad value stops the process with a one-line reason.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sync.enrollments.duplicates.model import read_config, shipped_config
from sync.reminders.settings import DEFAULTS as DISPATCH_DEFAULTS
from sync.reminders.settings import DispatchSettings
from sync.settings import EngineSettings
from sync.visits.settings import GeoSettings

# Where the app keeps its parsed settings: ``app.extensions[SETTINGS_EXTENSION]``.
SETTINGS_EXTENSION = "jangkau.settings"
# Flask config keys of the geo thresholds: GEO_MAX_SPEED_KMH … (JANGKAU_GEO_MAX_SPEED_KMH in the environment).
GEO_KEYS = tuple(f"GEO_{f.name.upper()}" for f in dataclasses.fields(GeoSettings))


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


def instance_dir(env: Mapping[str, str] | None = None) -> Path:
    """``JANGKAU_INSTANCE_DIR``, else ``./instance``: the default SQLite file and the demo key file."""
    env = os.environ if env is None else env
    return Path(env.get("JANGKAU_INSTANCE_DIR", Path.cwd() / "instance"))


def default_database_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'jangkau.db'}"


def normalize_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_env(env: Mapping[str, str] | None = None) -> dict:
    """The Flask config mapping built from the environment."""
    env = os.environ if env is None else env
    instance = instance_dir(env)
    return {
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(env.get("DATABASE_URL") or default_database_url(instance)),
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
        # Dispatch tuning, as strings too (None: the default of sync.reminders.settings).
        "REMINDER_MAX_ATTEMPTS": env.get("JANGKAU_REMINDER_MAX_ATTEMPTS"),
        "REMINDER_LEASE_S": env.get("JANGKAU_REMINDER_LEASE_S"),
        "REMINDER_BATCH_SIZE": env.get("JANGKAU_REMINDER_BATCH_SIZE"),
        "REMINDER_TIMEOUT_S": env.get("JANGKAU_REMINDER_TIMEOUT_S"),
        "REMINDER_BACKOFF_BASE_S": env.get("JANGKAU_REMINDER_BACKOFF_BASE_S"),
        "REMINDER_BACKOFF_CAP_S": env.get("JANGKAU_REMINDER_BACKOFF_CAP_S"),
        "FOLLOW_UP_GRACE_H": env.get("JANGKAU_FOLLOW_UP_GRACE_H"),
        # Visit-check thresholds (GEO_MAX_SPEED_KMH …) and the matching model's file, parsed by parse_settings.
        **{key: env.get(f"JANGKAU_{key}") for key in GEO_KEYS},
        "DEDUP_CONFIG": env.get("JANGKAU_DEDUP_CONFIG"),
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


def parse_dispatch(config: Mapping[str, Any]) -> DispatchSettings:
    """The reminder dispatch settings in a config mapping (``REMINDER_CHANNEL`` …; absent keys: defaults)."""
    try:
        return DispatchSettings.from_mapping({key: config.get(key) for key in DISPATCH_DEFAULTS})
    except ValueError as exc:
        raise ConfigError(f"jangkau: {exc}") from exc


def parse_settings(config: Mapping[str, Any]) -> EngineSettings:
    """The engine's settings from the config mapping, parsed once at app creation; ConfigError when bad.

    The matching model is read here, once: the file named by ``JANGKAU_DEDUP_CONFIG`` (``DEDUP_CONFIG``),
    else the shipped ``weights.json``. The follow-up rules have no variable: the defaults apply.
    """
    try:
        geo = GeoSettings.from_mapping({f"JANGKAU_{key}": config.get(key) for key in GEO_KEYS})
    except ValueError as exc:
        raise ConfigError(f"jangkau: {exc}") from exc
    path = config.get("DEDUP_CONFIG")
    try:
        dedup = read_config(path) if path else shipped_config()
    except ValueError as exc:
        raise ConfigError(f"jangkau: JANGKAU_DEDUP_CONFIG: {exc}") from exc
    return EngineSettings(geo=geo, dedup=dedup, dispatch=parse_dispatch(config))


def engine_settings(app: Any) -> EngineSettings:
    """The settings ``create_app`` parsed for this Flask app."""
    return app.extensions[SETTINGS_EXTENSION]
