"""Jangkau's sync engine: models and services over plain SQLAlchemy sessions.

Rule of the house: nothing in this package imports Flask or the marshmallow wire schemas, so every
service can be tested and benchmarked with a bare ``Session``. Services flush, they never commit: the
caller owns the transaction (one per request, or one per CLI command).
"""
