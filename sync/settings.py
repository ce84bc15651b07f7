"""Every setting the engine reads, typed, in one frozen object that callers hand to it.

The server parses its configuration once, at start-up (``server.config.parse_settings``), keeps the
result on the app and passes it down: ``push(..., settings=...)`` puts it on ``PushContext.settings``,
where the visit checks, the map rollup, duplicate linking and the follow-up rules read it; the scheduler
takes ``settings.dispatch``. Nothing in the engine reads the environment or a process-wide global.

``EngineSettings()`` holds the defaults (the shipped ``weights.json`` for matching), so callers that pass
none (benchmarks, tests) get the behaviour of a server started without any ``JANGKAU_`` variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sync.enrollments.duplicates.model import DedupConfig, shipped_config
from sync.follow_ups.rules import DEFAULT_RULES, Rule
from sync.reminders.settings import DispatchSettings
from sync.visits.settings import GeoSettings


def _default_rules() -> Mapping[str, Rule]:
    return MappingProxyType(dict(DEFAULT_RULES))


@dataclass(frozen=True)
class EngineSettings:
    """Geo thresholds, the duplicate-matching model, the follow-up rules and the reminder dispatch."""

    geo: GeoSettings = field(default_factory=GeoSettings)
    dedup: DedupConfig = field(default_factory=shipped_config)
    follow_up_rules: Mapping[str, Rule] = field(default_factory=_default_rules)
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)

    def __post_init__(self) -> None:
        # A read-only view, so a caller's dict changed later cannot change a running engine's rules.
        object.__setattr__(self, "follow_up_rules", MappingProxyType(dict(self.follow_up_rules)))
