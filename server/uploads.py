"""CSV uploads (payments, registry): the file as the raw body or a multipart ``file`` field, read as a stream.

``run_import`` is the one runner of both imports. It reads the upload line by line (``csv.reader`` over a
``TextIOWrapper`` of the body or the multipart file, never the whole text), hands the engine batches of
``BATCH_LINES`` data lines, keeps the first ``MAX_ERRORS`` line errors and counts the rest, and commits once
at the end (the route is ``@writes``): an import is all or nothing, whatever batch fails.

Lines the engine never sees are reported here: a line the ``csv`` module refuses (a field beyond its
128 KB limit) and a line with bytes that are not UTF-8 (named by the column holding them). The line number
is the physical line where the record starts, 1-based, the header being line 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import IO, Protocol

from flask import request
from sqlalchemy.orm import Session

from sync.accounts.principal import Principal
from sync.errors import InvalidRequest
from sync.pii import PiiProtector
from sync.protocol.clock import now_ms
from sync.writes import CHUNK

from .auth import current_principal
from .extensions import db
from .pii import protector

BINARY = {"type": "string", "format": "binary"}
CSV_REQUEST_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": BINARY}}},
    },
}
BATCH_LINES = CHUNK  # data lines per engine batch: one IN list per lookup, under SQLite's parameter limit
MAX_ERRORS = 100  # line errors kept in the report; the others are only counted (``errors_truncated``)
EMPTY = "berkas kosong / empty file"
NOT_UTF8 = "bukan teks UTF-8 / not UTF-8 text"
UNREADABLE = "baris CSV tidak terbaca / unreadable CSV line"

LineErrors = dict[str, list[str]]


class CsvImporter(Protocol):
    """What an engine importer offers the runner (``sync.payments.imports``, ``duplicates.registry``)."""

    def header(self, names: list[str]) -> LineErrors:
        """Map the header's columns; the errors that make the file unusable (none: go on)."""

    def add(self, batch: list[tuple[int, list[str]]]) -> list[tuple[int, LineErrors]]:
        """Validate and store a batch of ``(line number, cells)``; the errors of the lines it refused."""

    def finish(self) -> dict:
        """What is left to do once every line is stored; the importer's own counts for the report."""


ImporterFactory = Callable[..., CsvImporter]


class ErrorList:
    """The first ``limit`` line errors in line order, and how many were left out."""

    def __init__(self, limit: int) -> None:
        self.limit, self.kept, self.count = limit, [], 0

    def add(self, line: int, errors: LineErrors) -> None:
        self.count += 1
        if len(self.kept) < self.limit:
            self.kept.append({"line": line, "errors": errors})

    @property
    def truncated(self) -> int:
        return self.count - len(self.kept)


def upload_stream() -> IO[bytes]:
    """The uploaded bytes as a file object: the multipart ``file`` (spooled to disk when large) or the body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidRequest("send the CSV as the multipart field file", errors={"file": ["missing"]})
        return upload.stream
    return io.BytesIO(request.get_data(cache=True))  # before_request has read (and un-gzipped) it already


def text_lines(binary: IO[bytes]) -> io.TextIOWrapper:
    """UTF-8 text (a BOM tolerated); undecodable bytes become lone surrogates, reported per line."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


def csv_records(text: IO[str]) -> Iterator[tuple[int, list[str] | None]]:
    """``(line number, cells)`` per record, cells None when the ``csv`` module refuses the record."""
    reader = csv.reader(text)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            continue
        yield start, cells


def _undecodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _column_names(header: list[str]) -> list[str]:
    """Names to report a column by: the header's own, or ``column N`` when it is not printable UTF-8."""
    names = []
    for number, name in enumerate(header, start=1):
        name = name.strip().lstrip("\ufeff")
        ok = name and len(name) <= 64 and name.isprintable() and not _undecodable(name)
        names.append(name if ok else f"column {number}")
    return names


def read_import(importer: CsvImporter, text: IO[str]) -> dict:
    """Feed ``importer`` the lines of ``text`` in batches; the report (totals exact, errors capped)."""
    errors = ErrorList(MAX_ERRORS)
    records = csv_records(text)
    first = next(records, None)
    if first is None:
        errors.add(1, {"file": [EMPTY]})
        return _report(0, errors, {})
    number, header = first
    problems = {"header": [UNREADABLE]} if header is None else importer.header(header)
    if problems:
        errors.add(number, problems)
        return _report(0, errors, {})
    names = _column_names(header)
    lines = 0
    batch: list[tuple[int, list[str]]] = []
    refused: list[tuple[int, LineErrors]] = []  # lines of this batch the engine will not see
    for number, cells in records:
        if cells is not None and not any(cell.strip() for cell in cells):
            continue
        lines += 1
        if cells is None:
            refused.append((number, {"line": [UNREADABLE]}))
        elif bad := [i for i, cell in enumerate(cells) if _undecodable(cell)]:
            refused.append((number, {names[i] if i < len(names) else f"column {i + 1}": [NOT_UTF8] for i in bad}))
        else:
            batch.append((number, cells))
        if len(batch) + len(refused) >= BATCH_LINES:
            _flush(importer, batch, refused, errors)
            batch, refused = [], []
    _flush(importer, batch, refused, errors)
    return _report(lines, errors, importer.finish())


def _flush(importer: CsvImporter, batch, refused, errors: ErrorList) -> None:
    found = importer.add(batch) if batch else []
    for number, line_errors in sorted(refused + found, key=lambda item: item[0]):
        errors.add(number, line_errors)


def _report(lines: int, errors: ErrorList, counts: dict) -> dict:
    return {
        "lines": lines,
        **counts,
        "rejected": errors.count,
        "errors": errors.kept,
        "errors_truncated": errors.truncated,
    }


def run_import(make_importer: ImporterFactory) -> dict:
    """Run an engine importer on the upload as the caller; returns the report.

    The whole import is the route's one unit of work (``@writes``): committed once the report is made,
    rolled back whatever batch fails.
    """
    principal: Principal = current_principal()
    binary = upload_stream()
    session: Session = db.session
    pii: PiiProtector = protector()
    importer = make_importer(session, pii=pii, now=now_ms(), principal=principal)
    return read_import(importer, text_lines(binary))
