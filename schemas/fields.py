"""Field types used across the contract."""

from marshmallow import fields, validate

ID_REGEX = r"^[A-Za-z0-9_-]{1,64}$"


def ClientId(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    """A record id as phones make them (WatermelonDB's 16-character ids fit)."""
    return fields.String(validate=validate.Regexp(ID_REGEX, error="must match ^[A-Za-z0-9_-]{{1,64}}$"), **kwargs)


def EpochMillis(**kwargs) -> fields.Integer:  # noqa: N802
    """Milliseconds since the Unix epoch (UTC)."""
    return fields.Integer(strict=True, validate=validate.Range(min=0), **kwargs)
