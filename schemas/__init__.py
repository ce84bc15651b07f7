"""Marshmallow schemas: the wire contract (docs/api.md) and the source of the OpenAPI document.

Only marshmallow and the standard library are imported here.
"""
