"""Request bodies: gzip decoding with a decompressed-size cap (413), JSON parsing with field errors."""

from __future__ import annotations

import json
import zlib

from flask import current_app, g, request

from sync.errors import InvalidRequest, SyncError, TooLarge


class UnsupportedMediaType(SyncError):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported Media Type"


class MalformedBody(SyncError):
    code = "malformed_body"
    status = 400
    title = "Bad Request"


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


def decode_body() -> None:
    """``before_request``: keep the raw body (for the push archive) and replace it with the plain bytes."""
    encoding = (request.headers.get("Content-Encoding") or "identity").lower().strip()
    if (
        request.method not in ("POST", "PUT", "PATCH", "DELETE")
        or not request.content_length
        and encoding == "identity"
    ):
        return
    limit = current_app.config["MAX_BODY_BYTES"]
    raw = request.get_data(cache=True)
    g.raw_body, g.body_compressed = raw, encoding == "gzip"
    if encoding == "gzip":
        request._cached_data = _gunzip(raw, limit)  # werkzeug serves get_data/get_json from this cache
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
