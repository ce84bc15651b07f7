"""The request edge: size limits of the request line and headers (414/431), NUL bytes anywhere a value
enters (400 naming it), and bodies: chunked reads and gzip decoding under a size cap (413), JSON parsing
with field errors. Every refusal is a problem document naming the field, parameter or header."""

from __future__ import annotations

import json
import re
import zlib
from urllib.parse import quote

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from sync.errors import InvalidRequest, SyncError, TooLarge
from sync.protocol.sanitize import LONE_SURROGATE

MAX_URL_BYTES = 8192  # request target (path and query) as sent
MAX_HEADER_BYTES = 16384  # all header lines together, and so each one
MAX_HEADER_FIELDS = 100
READ_CHUNK = 64 * 1024
NUL = "\x00"
# A JSON "\ud800" escape with no partner decodes to a lone surrogate, which no database stores as UTF-8.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class UnsupportedMediaType(SyncError):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported Media Type"


class MalformedBody(SyncError):
    code = "malformed_body"
    status = 400
    title = "Bad Request"


class NulByte(SyncError):
    code = "nul_byte"
    status = 400
    title = "Bad Request"


class UriTooLong(SyncError):
    code = "uri_too_long"
    status = 414
    title = "URI Too Long"


class HeadersTooLarge(SyncError):
    code = "headers_too_large"
    status = 431
    title = "Request Header Fields Too Large"


def check_request_line_and_headers() -> None:
    """414 beyond ``MAX_URL_BYTES`` of request target; 431 beyond ``MAX_HEADER_FIELDS`` header fields or
    ``MAX_HEADER_BYTES`` of header lines. The web server must let such requests through (README)."""
    environ = request.environ
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if target is None:
        query = environ.get("QUERY_STRING", "")
        target = quote(environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")
    if len(target) > MAX_URL_BYTES:
        raise UriTooLong(
            f"the request target exceeds {MAX_URL_BYTES} bytes", errors={"url": [f"longer than {MAX_URL_BYTES} bytes"]}
        )
    fields = total = 0
    largest, largest_name = 0, ""
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            size = len(key.removeprefix("HTTP_")) + len(value) + 4  # "name: value\r\n"
            fields, total = fields + 1, total + size
            if size > largest:
                largest, largest_name = size, key.removeprefix("HTTP_").replace("_", "-").title()
    if fields > MAX_HEADER_FIELDS:
        raise HeadersTooLarge(
            f"more than {MAX_HEADER_FIELDS} header fields",
            errors={"headers": [f"more than {MAX_HEADER_FIELDS} fields"]},
        )
    if total > MAX_HEADER_BYTES:
        raise HeadersTooLarge(
            f"the header fields exceed {MAX_HEADER_BYTES} bytes",
            errors={largest_name if largest > MAX_HEADER_BYTES // 2 else "headers": [f"over {MAX_HEADER_BYTES} bytes"]},
        )


def _printable_name(name: str) -> str:
    return name.replace(NUL, "\\u0000")[:100].encode("utf-8", "backslashreplace").decode("utf-8")


def _unstorable(text: str) -> bool:
    """A NUL, or a lone UTF-16 surrogate (valid JSON, not storable text)."""
    return NUL in text or LONE_SURROGATE.search(text) is not None


def _refuse_nul(where: str, names: list[str]) -> None:
    if names:
        unique = list(dict.fromkeys(_printable_name(n) for n in names))
        raise NulByte(
            f"NUL bytes are not allowed in the {where}: {', '.join(unique)}"[:300],
            errors={name: ["must not contain NUL bytes or unpaired UTF-16 surrogates"] for name in unique},
        )


def check_nul_outside_body() -> None:
    """No NUL in path parameters, query names and values or headers (400 naming them)."""
    if request.view_args:
        _refuse_nul("path", [name for name, value in request.view_args.items() if NUL in str(value)])
    elif NUL in request.path:
        _refuse_nul("path", ["path"])
    _refuse_nul(
        "query", [name or "query" for name, value in request.args.items(multi=True) if NUL in name or NUL in value]
    )
    _refuse_nul("headers", [name for name, value in request.headers.items() if NUL in name or NUL in value])


def _nul_paths(value: object, path: str = "") -> list[str]:
    found: list[str] = []
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _unstorable(item):
                found.append(where or "body")
        elif isinstance(item, dict):
            for key, inner in item.items():
                child = f"{where}.{key}" if where else key
                if _unstorable(key):
                    found.append(child)
                stack.append((inner, child))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{index}]") for index, inner in enumerate(item))
    return sorted(found)


def check_nul_in_body() -> None:
    """No NUL in a form field or in any JSON string or key (400 naming its path), after ``decode_body``;
    a JSON body is parsed here only when it might hold one. Uploads (multipart) are the importers' business."""
    if request.mimetype == "application/x-www-form-urlencoded":
        _refuse_nul("form", [name for name, value in request.form.items(multi=True) if NUL in name or NUL in value])
        return
    if not request.is_json:
        return
    data = request.get_data(cache=True)
    if b"\\u0000" not in data and b"\x00" not in data and not SURROGATE_ESCAPE.search(data):
        return
    try:
        parsed = json.loads(data, strict=False)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return  # the route's own parsing answers 400
    _refuse_nul("body", _nul_paths(parsed))


def _read_capped(limit: int) -> bytes:
    """A body without Content-Length (chunked): read at most ``limit + 1`` bytes, 413 beyond ``limit``."""
    stream = request.stream
    parts, size = [], 0
    try:
        while size <= limit:
            part = stream.read(min(READ_CHUNK, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
    except RequestEntityTooLarge:
        size = limit + 1
    if size > limit:
        raise TooLarge(f"the body exceeds {limit} bytes", errors={"body": ["too large"]})
    return b"".join(parts)


def _gunzip(data: bytes, limit: int) -> bytes:
    """Inflate at most ``limit`` bytes: a gzip bomb is refused without ever being expanded."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise MalformedBody(
            "Content-Encoding is gzip but the body is not valid gzip", errors={"body": ["invalid gzip data"]}
        ) from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"the decompressed body exceeds {limit} bytes", errors={"body": ["too large"]})
    return out


def _has_streamed_body() -> bool:
    """No Content-Length but a body the server terminates for us (``Transfer-Encoding: chunked``)."""
    return request.content_length is None and (
        "chunked" in (request.headers.get("Transfer-Encoding") or "").lower()
        or bool(request.environ.get("wsgi.input_terminated"))
    )


def decode_body() -> None:
    """``before_request``: keep the raw body (for the push archive) and replace it with the plain bytes.

    Bodies with a Content-Length above the cap never get here (werkzeug answers 413 from
    ``MAX_CONTENT_LENGTH``); chunked ones are read up to the cap and refused beyond it.
    """
    encoding = (request.headers.get("Content-Encoding") or "identity").lower().strip()
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    streamed = _has_streamed_body()
    if not request.content_length and not streamed and encoding == "identity":
        return
    limit = current_app.config["MAX_BODY_BYTES"]
    if streamed:
        raw = _read_capped(limit)
        request._cached_data = raw  # werkzeug serves get_data/get_json from this cache
    else:
        raw = request.get_data(cache=True)
    g.raw_body, g.body_compressed = raw, encoding == "gzip"
    if encoding == "gzip":
        request._cached_data = _gunzip(raw, limit)
    elif encoding != "identity":
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not supported (use gzip)",
            errors={"Content-Encoding": ["must be gzip or identity"]},
        )
    elif len(raw) > limit:
        raise TooLarge(f"the body exceeds {limit} bytes", errors={"body": ["too large"]})


def json_body() -> object:
    """The request's JSON, or a 415/400 problem naming what is wrong."""
    if not request.is_json:
        raise UnsupportedMediaType(
            "send Content-Type: application/json", errors={"Content-Type": ["must be application/json"]}
        )
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}"[:300], errors={"body": ["invalid JSON"]}) from exc


def require_object(value: object, name: str = "body") -> dict:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{name} must be a JSON object", errors={name: ["must be an object"]})
    return value
