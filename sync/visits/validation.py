"""Field rules for a visit: coordinates in range, a known outcome, sane accuracy (docs/sync.md (tables))."""

from __future__ import annotations

OUTCOMES = ("enrolled", "interested", "follow_up", "refused", "not_home", "already_member")
# WatermelonDB numbers are JavaScript doubles: beyond 2**53 they are no longer whole milliseconds, and far
# beyond it they do not fit the BIGINT column or the time arithmetic of the flags (sync.geo).
MAX_EPOCH_MS = 2**53


def check_visit(values: dict) -> dict[str, list[str]]:
    """Return field → messages; bad coordinates and times are cleared so nothing downstream trusts them
    (``sync.geo`` enriches and flags only what is left)."""
    errors: dict[str, list[str]] = {}
    lat, lon = values.get("latitude"), values.get("longitude")
    if lat is None or lon is None:
        errors.setdefault("latitude" if lat is None else "longitude", []).append(
            "koordinat wajib diisi / coordinates are required"
        )
    if lat is not None and not -90 <= lat <= 90:
        errors.setdefault("latitude", []).append("harus antara -90 dan 90 / must be between -90 and 90")
    if lon is not None and not -180 <= lon <= 180:
        errors.setdefault("longitude", []).append("harus antara -180 dan 180 / must be between -180 and 180")
    if "latitude" in errors or "longitude" in errors:
        values["latitude"] = values["longitude"] = None
    accuracy = values.get("accuracy_m")
    if accuracy is not None and accuracy < 0:
        errors.setdefault("accuracy_m", []).append("tidak boleh negatif / must not be negative")
    outcome = values.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        errors.setdefault("outcome", []).append(f"harus salah satu dari / must be one of {', '.join(OUTCOMES)}")
    visited_at = values.get("visited_at")
    if visited_at is None:
        errors.setdefault("visited_at", []).append("wajib diisi / required")
    elif not 0 <= visited_at < MAX_EPOCH_MS:
        errors.setdefault("visited_at", []).append("harus milidetik sejak epoch / must be milliseconds since the epoch")
        values["visited_at"] = None
    return errors
