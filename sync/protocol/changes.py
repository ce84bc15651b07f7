"""Reading a pushed ``changes`` object into per-table work, refusing only what no retry can fix."""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.errors import TooLarge
from sync.protocol.sanitize import ID_PATTERN, EnvelopeError, check_table_name, printable, sanitize_record
from sync.protocol.statuses import RecordStatus
from sync.protocol.tables import READ_ONLY_TABLES

MAX_RECORDS = 5000


@dataclass
class PushedRecord:
    id: str
    kind: str  # "created" or "updated"
    values: dict
    problems: dict[str, list[str]]


@dataclass
class TableChanges:
    upserts: dict[str, PushedRecord] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)


@dataclass
class ParsedPush:
    tables: dict[str, TableChanges]
    rejected: dict[str, dict[str, dict]]  # table → id (or "#index") → result
    count: int


def _as_list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise EnvelopeError(where, "must be an array")
    return value


def _reject(parsed: ParsedPush, table: str, key: str, message: str) -> None:
    parsed.rejected.setdefault(table, {})[key] = {"status": RecordStatus.REJECTED, "errors": {"id": [message]}}


def parse_changes(changes: object) -> ParsedPush:
    """Validate the envelope; records with a bad id or that are not objects are rejected one by one."""
    if not isinstance(changes, dict):
        raise EnvelopeError("changes", "must be an object of tables")
    parsed = ParsedPush(tables={}, rejected={}, count=0)
    for table, table_changes in changes.items():
        check_table_name(table, f"changes.{printable(table)}")
        if not isinstance(table_changes, dict):
            raise EnvelopeError(f"changes.{table}", "must be an object with created, updated, deleted")
        extra = set(table_changes) - {"created", "updated", "deleted"}
        if extra:
            raise EnvelopeError(f"changes.{table}.{printable(sorted(extra)[0])}", "unknown key")
        created = _as_list(table_changes.get("created"), f"changes.{table}.created")
        updated = _as_list(table_changes.get("updated"), f"changes.{table}.updated")
        deleted = _as_list(table_changes.get("deleted"), f"changes.{table}.deleted")
        parsed.count += len(created) + len(updated) + len(deleted)
        if parsed.count > MAX_RECORDS:
            raise TooLarge(f"a push may carry at most {MAX_RECORDS} records")
        if table in READ_ONLY_TABLES:
            continue  # read-only on phones: pushed changes are ignored (docs/sync.md "Push")
        work = parsed.tables.setdefault(table, TableChanges())
        for kind, records in (("created", created), ("updated", updated)):
            for index, raw in enumerate(records):
                where = f"changes.{table}.{kind}[{index}]"
                if not isinstance(raw, dict):
                    _reject(parsed, table, f"#{kind}[{index}]", "record must be an object")
                    continue
                record_id = raw.get("id")
                if not isinstance(record_id, str) or not ID_PATTERN.fullmatch(record_id):
                    # A missing or non-string id gets its position as key: "None" would collide and be echoed
                    # back to the phone as if it were an id.
                    key = record_id[:64] if isinstance(record_id, str) else f"#{kind}[{index}]"
                    _reject(parsed, table, key, "id must match ^[A-Za-z0-9_-]{1,64}$")
                    continue
                values, problems = sanitize_record(table, raw, where)
                work.upserts[record_id] = PushedRecord(record_id, kind, values, problems)
        for index, record_id in enumerate(deleted):
            if not isinstance(record_id, str) or not ID_PATTERN.fullmatch(record_id):
                raise EnvelopeError(f"changes.{table}.deleted[{index}]", "must be a record id")
            work.upserts.pop(record_id, None)
            work.deletes.append(record_id)
    return parsed
