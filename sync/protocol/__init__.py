"""The sync protocol (docs/sync.md): the clock, pull, push and its pipeline, sanitising, the archive.

* ``clock`` — the one-row stamp counter every change is selected by;
* ``pull`` and ``changes`` — what a phone receives, and a pushed body parsed into per-table work;
* ``push`` and ``pipeline`` — one all-or-nothing push: table handlers in order, then the after-steps;
* ``context`` — what every step of one push knows, and the typed record of what it wrote;
* ``tables`` — the wire columns per table; ``sanitize`` — values cut to what the columns hold;
* ``references``, ``statuses`` — per-record ownership checks and result statuses;
* ``idempotency``, ``archive`` — replayed pushes answered from memory; every body kept, sealed.
"""
