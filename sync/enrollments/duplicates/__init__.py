"""Duplicate detection for enrolments: normalisation, blocking, Fellegi–Sunter scoring, merges.

Plain Python over a SQLAlchemy session, run inside the push transaction (no Flask here):

- ``normalize``: NIK, Indonesian names, phones, villages into comparable forms;
- ``keys``: blocking keys stored in indexed ``workers`` columns (never a scan of all workers);
- ``compare``/``model``: per-field comparison levels, agreement weights from configuration, reasons;
- ``matcher``: candidates for a whole push, one query per blocking key;
- ``merge``: merge, distinct, unmerge and credit recomputation, each recorded and stamped.
"""
