"""The app's PII protector, built once from configuration; missing keys stop the server clearly."""

from __future__ import annotations

from flask import current_app

from sync.pii import PiiKeyError, PiiProtector

from .config import ConfigError

KEY_HELP = (
    "set JANGKAU_PII_KEYS (key_id:base64-32-bytes[,…]) and JANGKAU_PII_INDEX_KEY (base64 of 32 bytes); "
    "`jangkau demo` generates them into instance/jangkau.keys"
)


def build(config) -> PiiProtector | None:
    if not config.get("PII_KEYS") and not config.get("PII_INDEX_KEY"):
        return None
    try:
        return PiiProtector.from_config(config.get("PII_KEYS"), config.get("PII_INDEX_KEY"))
    except PiiKeyError as exc:
        raise ConfigError(f"jangkau: {exc}; {KEY_HELP}") from exc


def protector() -> PiiProtector:
    pii = current_app.extensions.get("jangkau.pii")
    if pii is None:
        raise ConfigError(f"jangkau: personal-data keys are missing: {KEY_HELP}")
    return pii
