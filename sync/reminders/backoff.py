"""Exponential backoff with jitter, so a gateway outage is not answered by a synchronised stampede."""

from __future__ import annotations

import random


def retry_delay_ms(attempts: int, *, base_ms: int, cap_ms: int, rng: random.Random | None = None) -> int:
    """Delay before try ``attempts + 1``: ``base·2^(attempts-1)`` capped, scaled by a random 50–100%."""
    exp = min(cap_ms, base_ms * 2 ** max(0, min(attempts - 1, 30)))
    return int(exp * (0.5 + 0.5 * (rng or random).random()))
