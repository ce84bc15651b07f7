"""Helpers shared by the benchmark scripts; importing the package puts the repository root on ``sys.path``.

The scripts run as ``.venv/bin/python bench/<script>.py``, so ``bench/`` is on the path and they import
``support.<module>``; this file then makes ``server``, ``sync`` and ``tests`` (``tests.factories`` holds
the record builders shared with the tests) importable too. The modules import each other relatively, so
``bench.support`` works as well.

The benchmarks drive the real Flask app (``server.create_app``), by default through Werkzeug's test
client: the whole WSGI request path (routing, bearer auth, rate limits, body decoding, JSON, the engine,
the push archive, commit) runs in this process and only the TCP socket is left out. ``--transport
gunicorn`` runs ``gunicorn server.wsgi:app`` on 127.0.0.1 instead. Besides wall time, ``CpuMeter`` reads
the CPU time of the app and of its PostgreSQL backends, which stays meaningful on a shared machine.

Every database given to a benchmark is wiped: all tables are dropped and created again with
``sync.db.create_schema``.

- ``args``: the options every benchmark has and the database URLs they name
- ``database``: wiping, emptying and analysing the benchmark database
- ``harness``: the app on a fresh database with a logged-in agent, and its sync push and pull calls
- ``loopback``: a real gunicorn server on 127.0.0.1 and a client for it
- ``records``: synthetic people, visits and push bodies as an agent's phone makes them
- ``measure``: wall and CPU time of a call, percentiles
- ``profiling``: cProfile hotspots of one run
- ``report``: markdown tables, progress lines and the machine note
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
