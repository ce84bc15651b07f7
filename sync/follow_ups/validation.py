"""Field rules for a follow-up an agent created or updated on the phone."""

from __future__ import annotations

KINDS = ("revisit", "payment_reminder", "document_collection")
STATUSES = ("scheduled", "done", "cancelled", "missed")


def check_follow_up(values: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if values.get("kind") not in KINDS:
        errors["kind"] = [f"harus salah satu dari / must be one of {', '.join(KINDS)}"]
    if values.get("status") is None:
        values["status"] = "scheduled"
    elif values["status"] not in STATUSES:
        errors["status"] = [f"harus salah satu dari / must be one of {', '.join(STATUSES)}"]
    if values.get("due_at") is None:
        errors["due_at"] = ["wajib diisi / required"]
    for name in ("due_at", "completed_at"):
        if values.get(name) is not None and values[name] < 0:
            errors[name] = ["tidak boleh negatif / must not be negative"]
            values[name] = None
    return errors
