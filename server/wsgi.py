"""The app object for gunicorn and ``flask --app server.wsgi``.

What start-up made (modules, the app, the boundary index, the matching model) lives as long as the
process: it is frozen out of the garbage collector, whose full collections of those objects otherwise
land in some requests and make the latency tail (``bench/contest_leaderboard.py --gc-freeze`` measures it).
"""

import gc

from server import create_app

app = create_app()
gc.freeze()
