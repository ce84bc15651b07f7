"""RFC 9457 problem documents: every error the API answers has this shape."""

from marshmallow import Schema, fields


class ProblemSchema(Schema):
    type = fields.String(metadata={"example": "https://jangkau.dev/problems/invalid_request"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    code = fields.String(metadata={"description": "stable machine-readable code"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "field path → messages"},
    )
