"""Flag names, their stored form, and the rules that need nothing but the visit itself.

``visits.flags`` is a comma list in the fixed order of ``FLAGS`` (docs/sync.md (tables)), or NULL when there is none;
``visits.flag_reasons`` (server-only) holds a JSON object flag → human-readable reason (Indonesian /
English) for supervisors. The sequence flags (``SEQUENCE_FLAGS``) depend on the agent's other visits and
are recomputed when those change; the others are fixed when the visit itself is pushed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import numpy as np

from sync.visits.settings import GeoSettings

FLAGS = (
    "outside_indonesia",
    "low_accuracy",
    "mock_location",
    "impossible_travel",
    "clock_skew",
    "far_from_branch",
    "stacked_location",
)
SEQUENCE_FLAGS = frozenset({"impossible_travel", "stacked_location"})

Reasons = dict[str, str]


def join_flags(names: Iterable[str]) -> str | None:
    """The stored comma list, in ``FLAGS`` order; None when there is no flag."""
    present = set(names)
    return ",".join(f for f in FLAGS if f in present) or None


def split_flags(value: str | None) -> list[str]:
    return [f for f in (value or "").split(",") if f]


def load_reasons(raw: str | None) -> Reasons:
    """The stored reasons object; anything unreadable counts as none (the flags stay authoritative)."""
    try:
        loaded = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def dump_reasons(reasons: Mapping[str, str]) -> str | None:
    ordered = {f: reasons[f] for f in FLAGS if f in reasons}
    return json.dumps(ordered, ensure_ascii=False, sort_keys=False) if ordered else None


def duration_text(ms: float) -> tuple[str, str]:
    """A readable span of time, Indonesian and English."""
    minutes = abs(ms) / 60_000
    if minutes < 120:
        return f"{minutes:.0f} menit", f"{minutes:.0f} min"
    if minutes < 72 * 60:
        return f"{minutes / 60:.1f} jam", f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.0f} hari", f"{minutes / 1440:.0f} days"


def point_reasons(
    *,
    valid: np.ndarray,
    in_box: np.ndarray,
    matched: np.ndarray,
    accuracy: np.ndarray,
    mock: np.ndarray,
    visited_at: np.ndarray,
    received_at: np.ndarray,
    now: int,
    branch_km: np.ndarray,
    settings: GeoSettings,
) -> list[Reasons]:
    """Flags of each visit that depend only on the visit (arrays, one entry per visit).

    ``valid`` marks usable coordinates; visits without them keep their validation error and get only the
    flags that do not need a position (the phone's mock flag and the clock).
    """
    s = settings
    n = valid.shape[0]
    out: list[Reasons] = [{} for _ in range(n)]
    with np.errstate(invalid="ignore"):
        outside_box = valid & ~in_box
        off_land = valid & in_box & ~matched
        low = valid & (accuracy > s.low_accuracy_m)
        zero = valid & (accuracy == 0)
        ahead = visited_at - now > s.future_tolerance_ms
        stale = received_at - visited_at > s.max_age_ms
        far = branch_km > s.far_from_branch_km
    box = f"lintang {s.south:g}..{s.north:g}, bujur {s.west:g}..{s.east:g}"
    box_en = f"latitude {s.south:g}..{s.north:g}, longitude {s.west:g}..{s.east:g}"
    for i in np.flatnonzero(outside_box):
        out[i]["outside_indonesia"] = f"di luar {box} / outside {box_en}"
    for i in np.flatnonzero(off_land):
        out[i]["outside_indonesia"] = (
            f"tidak ada kabupaten/kota dalam {s.fallback_km:g} km / no Indonesian regency within {s.fallback_km:g} km"
        )
    for i in np.flatnonzero(low):
        out[i]["low_accuracy"] = (
            f"akurasi GPS {accuracy[i]:.0f} m (batas {s.low_accuracy_m:g} m) / "
            f"GPS accuracy {accuracy[i]:.0f} m (limit {s.low_accuracy_m:g} m)"
        )
    for i in np.flatnonzero(mock | zero):
        if mock[i]:
            out[i]["mock_location"] = "ponsel melaporkan lokasi palsu / the phone reported a mock location"
        else:
            out[i]["mock_location"] = (
                "akurasi tepat 0 m, khas aplikasi lokasi palsu / accuracy of exactly 0 m, typical of mock-location apps"
            )
    for i in np.flatnonzero(ahead):
        idn, en = duration_text(visited_at[i] - now)
        out[i]["clock_skew"] = (
            f"waktu kunjungan {idn} di depan jam server / visit time {en} ahead of the server clock "
            f"(tolerance {s.future_tolerance_minutes:g} min)"
        )
    for i in np.flatnonzero(stale & ~ahead):
        idn, en = duration_text(received_at[i] - visited_at[i])
        out[i]["clock_skew"] = (
            f"waktu kunjungan {idn} sebelum diterima server / visit time {en} before it reached the server "
            f"(limit {s.max_age_days:g} days)"
        )
    for i in np.flatnonzero(far):
        out[i]["far_from_branch"] = (
            f"{branch_km[i]:.1f} km dari kantor cabang (batas {s.far_from_branch_km:g} km) / "
            f"{branch_km[i]:.1f} km from the branch office (limit {s.far_from_branch_km:g} km)"
        )
    return out
