"""The supervisors' pages, one module each; importing this package attaches their routes to ``bp``."""

from . import admin, agents, dashboard, duplicates, flags, follow_ups, leaderboard, map, people, reminders  # noqa: F401
