"""Marshmallow schemas: the wire contract (API.md) and the source of the OpenAPI document.

Only marshmallow and the standard library are imported here.
"""
