"""Field types used across the contract.

marshmallow formats validator messages with ``str.format``: a literal brace in a message must be doubled
(``{{1,64}}``), or every invalid value raises ``KeyError`` instead of a 422.
"""

from marshmallow import fields, validate

ID_REGEX = r"^[A-Za-z0-9_-]{1,64}$"
ID_ERROR = "must match ^[A-Za-z0-9_-]{{1,64}}$"
# Times are bounded so that every accepted value fits a BIGINT, a float without loss and a datetime:
# 0 (1970-01-01) <= ms < 32503680000000 (3000-01-01T00:00:00Z).
MAX_EPOCH_MS = 32_503_680_000_000


def ClientId(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    """A record id as phones make them (WatermelonDB's 16-character ids fit)."""
    return fields.String(validate=validate.Regexp(ID_REGEX, error=ID_ERROR), **kwargs)


def epoch_range() -> validate.Range:
    return validate.Range(
        min=0, max=MAX_EPOCH_MS, max_inclusive=False, error="must be milliseconds from 0 to before year 3000"
    )


def EpochMillis(*, strict: bool = True, **kwargs) -> fields.Integer:  # noqa: N802
    """Milliseconds since the Unix epoch (UTC), from 1970 to before 3000 (``strict``: JSON numbers only)."""
    return fields.Integer(strict=strict, validate=epoch_range(), **kwargs)
