"""Distances between GPS points, as numpy arrays over a whole push.

* ``geodesic_km`` — ellipsoidal (WGS-84) distance for the stored ``distance_from_branch_km``. geopy's
  ``geodesic`` costs about 60 µs a pair in pure Python, which alone would eat most of the budget of
  10,000 visits a second; this is Vincenty's inverse formula vectorised with numpy (agrees with geopy to
  well under a millimetre), with geopy itself for the rare pairs where Vincenty does not converge
  (nearly antipodal points, impossible inside Indonesia).
* ``haversine_km`` — spherical distance for speeds and stacking, where 0.5 % does not matter.

Callers pass only validated coordinates (``in_world_range``): geopy silently wraps an out-of-range
longitude, and a wrapped distance is a wrong distance, not an error.
"""

from __future__ import annotations

import numpy as np
from geopy.distance import geodesic

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


_A = 6378137.0  # WGS-84 semi-major axis, metres
_F = 1 / 298.257223563
_B = (1 - _F) * _A
_MAX_ITERATIONS = 200


def in_world_range(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True where both coordinates are finite numbers within ±90 / ±180 degrees."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance on the mean-radius sphere, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def geodesic_km(lat: np.ndarray, lon: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """WGS-84 distance from ``origin`` to each point, in km (inputs must be in range)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    lat0 = np.full_like(lat, origin[0])
    lon0 = np.full_like(lon, origin[1])
    metres, converged = _vincenty_m(lat0, lon0, lat, lon)
    for i in np.flatnonzero(~converged):
        metres[i] = geodesic((origin[0], origin[1]), (lat[i], lon[i])).m
    return metres / 1000.0


def _vincenty_m(lat1, lon1, lat2, lon2) -> tuple[np.ndarray, np.ndarray]:
    """Vincenty (1975) inverse problem, element-wise: (metres, converged)."""
    u1 = np.arctan((1 - _F) * np.tan(np.radians(lat1)))
    u2 = np.arctan((1 - _F) * np.tan(np.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    big_l = np.radians(lon2 - lon1)
    lam = big_l.copy()
    converged = np.zeros(lam.shape, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(_MAX_ITERATIONS):
            sin_lam, cos_lam = np.sin(lam), np.cos(lam)
            sin_sigma = np.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
            cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
            sigma = np.arctan2(sin_sigma, cos_sigma)
            sin_alpha = np.where(sin_sigma == 0, 0.0, cos_u1 * cos_u2 * sin_lam / sin_sigma)
            cos2_alpha = 1 - sin_alpha**2
            cos_2sm = np.where(cos2_alpha == 0, 0.0, cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha)
            c = _F / 16 * cos2_alpha * (4 + _F * (4 - 3 * cos2_alpha))
            previous = lam
            lam = big_l + (1 - c) * _F * sin_alpha * (
                sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2))
            )
            converged = np.abs(lam - previous) <= 1e-12
            if converged.all():
                break
        u_sq = cos2_alpha * (_A**2 - _B**2) / _B**2
        big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
        big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
        delta_sigma = (
            big_b
            * sin_sigma
            * (
                cos_2sm
                + big_b
                / 4
                * (
                    cos_sigma * (-1 + 2 * cos_2sm**2)
                    - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)
                )
            )
        )
        metres = _B * big_a * (sigma - delta_sigma)
    converged &= np.isfinite(metres)
    return np.where(sin_sigma == 0, 0.0, metres), converged | (sin_sigma == 0)
