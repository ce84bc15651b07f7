"""Coerce pushed values to their column's type instead of failing the push (Backend.md push rule 10).

A value that can be read as the right type is converted; one that cannot becomes ``None`` and is
reported for that record, so one odd field never makes a phone permanently unsyncable.
"""

from __future__ import annotations

import math
import re

from sync.errors import InvalidRequest
from sync.protocol.tables import AUTO_COLUMNS, REFERENCES, TABLES, ColumnType, column_names, device_columns

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # use fullmatch: "$" would let "abc\n" through
MAX_STRING = 4000
# A lone UTF-16 surrogate ("\ud800") is valid JSON and what a JavaScript string may hold, but no database
# can store it as UTF-8: it becomes U+FFFD, the replacement character.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str | None, length: int) -> str | None:
    """Free text from a request (an error detail, a query value) made fit for a VARCHAR column or an error
    message: printable characters only (no NUL, no surrogate, no control character), at most ``length``."""
    if text is None:
        return None
    return "".join(ch for ch in text if ch.isprintable())[:length] or None


def printable(value: object, length: int = 64) -> str:
    """A name from the request made safe to echo in an error or a log: lone surrogates as escapes."""
    return str(value)[:length].encode("utf-8", "backslashreplace").decode("utf-8")


class EnvelopeError(InvalidRequest):
    """The push itself is malformed (not a record's value): the whole push is refused with 422."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}", errors={field: [message]})
        self.field = field
        self.message = message


MAX_SAFE = 2**53  # JavaScript's exact integers; also keeps values inside BIGINT


def _number(value: object) -> tuple[object, str | None]:
    if isinstance(value, bool):
        return int(value), None
    if isinstance(value, int):
        return (value, None) if abs(value) < MAX_SAFE else (None, "out of range")
    if isinstance(value, float):
        return (value, None) if math.isfinite(value) and abs(value) < MAX_SAFE else (None, "out of range")
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except (ValueError, OverflowError):
            return None, "must be a number"
        if not math.isfinite(number) or abs(number) >= MAX_SAFE:
            return None, "out of range"
        return (int(number) if number.is_integer() else number), None
    return None, "must be a number"


def _string(value: object) -> tuple[object, str | None]:
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int):
        return str(value)[:MAX_STRING], None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, "not a finite number"
        return (str(int(value)) if value.is_integer() and abs(value) < MAX_SAFE else repr(value)), None
    if isinstance(value, str):
        text = LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
        if len(text) > MAX_STRING:
            return text[:MAX_STRING], f"longer than {MAX_STRING} characters, truncated"
        return text, None
    return None, "must be a string"


def _boolean(value: object) -> tuple[object, str | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value), None
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1"), None
    return None, "must be true or false"


_COERCERS = {"number": _number, "string": _string, "boolean": _boolean}


def coerce(value: object, kind: ColumnType) -> tuple[object, str | None]:
    """Return ``(value, problem)``; ``problem`` is a message when the value had to be dropped."""
    if value is None:
        return None, None
    return _COERCERS[kind](value)


def sanitize_record(table: str, raw: dict, where: str) -> tuple[dict, dict[str, list[str]]]:
    """Keep the device columns of one pushed record, typed; report fields that had to be dropped.

    Unknown columns are refused (``EnvelopeError``): they mean the app's schema and ours disagree,
    which no retry can fix and which must be seen at once. Server columns are silently ignored.
    """
    known = column_names(table)
    for name in raw:
        if name != "id" and name not in known and name not in AUTO_COLUMNS:
            raise EnvelopeError(f"{where}.{printable(name)}", f"unknown column for table {table}")
    clean: dict = {}
    problems: dict[str, list[str]] = {}
    references = REFERENCES.get(table, ())
    for column in device_columns(table):
        value, problem = coerce(raw.get(column.name), column.type)
        if column.name in references and value is not None and not ID_PATTERN.fullmatch(str(value)):
            value, problem = None, "harus id data / must be a record id (^[A-Za-z0-9_-]{1,64}$)"
        clean[column.name] = value
        if problem:
            problems.setdefault(column.name, []).append(problem)
    return clean, problems


def add_messages(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    """Add ``more``'s field messages to ``into`` (validation errors, sanitising problems, reference checks)."""
    for name, messages in more.items():
        into.setdefault(name, []).extend(messages)


def fit_to_columns(model, values: dict, errors: dict[str, list[str]]) -> None:
    """Make validated values fit their database columns, so no pushed value can fail the INSERT.

    The limits come from the model itself (``String(n)``): a longer value is cut to ``n`` characters and
    the cut is reported as that field's error, which makes the record ``needs_correction`` (docs/sync.md (tables)).
    """
    columns = model.__table__.columns
    for name, value in values.items():
        if not isinstance(value, str) or name not in columns:
            continue
        length = getattr(columns[name].type, "length", None)
        if length is not None and len(value) > length:
            values[name] = value[:length]
            errors.setdefault(name, []).append(
                f"lebih dari {length} karakter, dipotong / longer than {length} characters, cut"
            )


def check_table_name(table: object, where: str) -> str:
    if not isinstance(table, str) or table not in TABLES:
        raise EnvelopeError(where, f"unknown table {printable(table)!r}")
    return table
