"""The pages' language: Bahasa Indonesia by default, English on request, from one catalogue.

Every visible string is a key of ``messages.CATALOGUE`` (never a literal in a template or view), so a
page can never show one language half-translated. The choice lives in a cookie of its own, not in the
session: logging in starts a fresh session, and the language must survive it.
"""

from __future__ import annotations

from flask import g, request

from .messages import CATALOGUE

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANG_COOKIE = "jangkau_lang"
LANG_COOKIE_MAX_AGE_S = 365 * 86_400


def current_language() -> str:
    """The language of this request: the cookie's when it names a known one, else Indonesian."""
    if "lang" not in g:
        chosen = request.cookies.get(LANG_COOKIE)
        g.lang = chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE
    return g.lang


def translate(key: str, **params: object) -> str:
    """The message ``key`` in the current language, with ``{name}`` placeholders filled in.

    An unknown key raises ``KeyError``: a missing translation is a bug the tests catch, not a blank.
    """
    text = CATALOGUE[key][LANGUAGES.index(current_language())]
    return text.format(**params) if params else text


def has_message(key: str) -> bool:
    return key in CATALOGUE
