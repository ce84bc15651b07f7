"""The supervisors' pages, one module each; importing this package attaches their routes to ``bp``."""

from . import agents, dashboard, duplicates, flags, follow_ups, map, people, reminders  # noqa: F401
