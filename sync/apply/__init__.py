"""Per-table push handlers: each turns sanitised records into rows and per-record results."""

from .enrollments import apply_enrollments
from .follow_ups import apply_follow_ups
from .visits import apply_visits

HANDLERS = {"enrollments": apply_enrollments, "visits": apply_visits, "follow_ups": apply_follow_ups}

__all__ = ["HANDLERS"]
