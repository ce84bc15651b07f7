"""List arguments and pages: ``?limit=&cursor=`` → ``{"items": [...], "next_cursor": ...}``."""

from marshmallow import fields, validate

from .base import BaseSchema


class ListArgsSchema(BaseSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


def page_schema(item_schema: type, name: str) -> type:
    """A page of ``item_schema`` with an opaque cursor for the next one."""
    return type(
        name,
        (BaseSchema,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.String(allow_none=True),
        },
    )
