"""Enrolments and the people behind them (docs/domain.md "NIK", "Duplicates").

* ``validation`` and ``apply`` — a pushed enrolment checked and handed to linking;
* ``linking`` — each enrolment linked to a person (a worker): matched, created or queued for review;
* ``duplicates`` — normalisation, blocking, scoring, merges and the supervisors' review queue.
"""
