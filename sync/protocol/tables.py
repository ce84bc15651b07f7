"""The synced tables' columns as phones see them (docs/sync.md (tables)): names, JSON types and who writes them.

This is the whitelist for both directions: a pull emits exactly these columns, fully typed; a push
reads only the device-writable ones and ignores the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["string", "number", "boolean"]

# Columns a WatermelonDB app may fill on its own for every table; harmless, always ignored.
AUTO_COLUMNS = frozenset({"created_at", "updated_at", "_status", "_changed"})


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    device: bool  # True: the phone may write it; False: server-owned, pushed values are ignored


def _cols(device: dict[str, ColumnType], server: dict[str, ColumnType]) -> tuple[Column, ...]:
    return tuple(Column(n, t, True) for n, t in device.items()) + tuple(Column(n, t, False) for n, t in server.items())


TABLES: dict[str, tuple[Column, ...]] = {
    "enrollments": _cols(
        {
            "nik": "string",
            "full_name": "string",
            "birth_date": "string",
            "sex": "string",
            "phone": "string",
            "occupation": "string",
            "address": "string",
            "village": "string",
            "programs": "string",
            "monthly_income": "number",
            "visit_id": "string",
            "captured_at": "number",
        },
        {
            "status": "string",
            "status_reason": "string",
            "validation_errors": "string",
            "worker_id": "string",
            "duplicate_of": "string",
            "credited_agent_id": "string",
            "updated_at": "number",
        },
    ),
    "visits": _cols(
        {
            "enrollment_id": "string",
            "worker_id": "string",
            "visited_at": "number",
            "latitude": "number",
            "longitude": "number",
            "accuracy_m": "number",
            "is_mock_location": "boolean",
            "outcome": "string",
            "occupation": "string",
            "notes": "string",
        },
        {
            "province_code": "string",
            "regency_code": "string",
            "province": "string",
            "regency": "string",
            "timezone": "string",
            "distance_from_branch_km": "number",
            "flags": "string",
        },
    ),
    "follow_ups": _cols(
        {
            "enrollment_id": "string",
            "worker_id": "string",
            "visit_id": "string",
            "kind": "string",
            "due_at": "number",
            "status": "string",
            "outcome_notes": "string",
            "completed_at": "number",
        },
        {"assigned_agent_id": "string"},
    ),
    "workers": _cols(
        {},
        {
            "full_name": "string",
            "nik_masked": "string",
            "birth_date": "string",
            "sex": "string",
            "phone_masked": "string",
            "occupation": "string",
            "village": "string",
            "membership_status": "string",
            "enrolled_by_agent_id": "string",
            "enrolled_at": "number",
        },
    ),
}

# Device columns holding another record's id: only a well-formed id is ever kept (sync.protocol.sanitize), and
# which ids an agent may name is the scope module's rule (sync.accounts.scope).
REFERENCES: dict[str, tuple[str, ...]] = {
    "enrollments": ("visit_id",),
    "visits": ("enrollment_id", "worker_id"),
    "follow_ups": ("enrollment_id", "worker_id", "visit_id"),
}

WRITABLE_TABLES = ("enrollments", "visits", "follow_ups")
READ_ONLY_TABLES = ("workers",)
SCHEMA_VERSION = 1


def device_columns(table: str) -> tuple[Column, ...]:
    return tuple(c for c in TABLES[table] if c.device)


def column_names(table: str) -> frozenset[str]:
    return frozenset(c.name for c in TABLES[table])
