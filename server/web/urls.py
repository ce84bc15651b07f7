"""Where a page may send the browser next: local paths only (no open redirect, no header injection)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]|//")
# Characters kept as they are when a path is re-quoted (everything else non-ASCII is percent-encoded).
_SAFE = "/?&=%#:@!$'()*+,;~-._"
MAX_CHARS = 2000


def local_path(target: str | None) -> str | None:
    """``target`` re-quoted if it is a path on this site: one leading ``/``, no ``//`` anywhere, no
    backslash, no control character, no host; else ``None``."""
    if (
        target
        and target.startswith("/")
        and not _UNSAFE.search(target)
        and not urlsplit(target).netloc
        and len(target) <= MAX_CHARS
    ):
        return quote(target, safe=_SAFE)
    return None
