"""The expected plume of a known source on a track: the forced fit's 2-D template.

The cross-sectional flux method assumes a Gaussian cross-section centred on the
crossing. Near the source (a few km) and when the wind crosses the track
obliquely, the along-track profile is not that: the track runs through parts
of the plume at different downwind distances, so the profile is skewed, and it
is cut off on the side upwind of the source. A 1-D Gaussian template then sees
less than the plume holds (on the simulated months, 0.6 of the truth within
3 km of the source; 0.6 at 20-35 deg between wind and track).

This template is the vertically integrated steady Gaussian plume (Nassar et
al. 2017, GRL 44, 10045) evaluated at every sounding from the source position
and the file wind, for a unit line density (so the least-squares coefficient
is the line density, whatever the geometry):

    t(x, y) = exp(-y^2 / (2 s^2)) / (sqrt(2 pi) s)   for x > 0, else 0,
    s^2 = sigma_y(x)^2 + sigma_0^2 + footprint variance,

with sigma_y the Pasquill-Gifford spread (Martin 1976) of the stability class
from the wind speed, sigma_0 the source's initial width (area sources). It is
*averaged over the wind-direction error*: a direction error theta moves the
plume across by about x tan(theta), so the average over a normal error of
``dir_unc_deg`` widens it by x tan(dir_unc) in quadrature. That is the expected
plume given the uncertain direction, which keeps the least-squares line density
unbiased on average over that error, as the widened 1-D template did
(builder.forcedfit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from builder import physics

@dataclass
class PlumeTemplates:
    """Expected plumes of sources ``rows`` on one track's soundings (``lat``/``lon`` sorted
    like the track's along-track distance)."""

    lat: np.ndarray               #: soundings
    lon: np.ndarray
    src_lat: np.ndarray           #: per overpass row
    src_lon: np.ndarray
    wind_e: np.ndarray            #: unit wind vector (east, north) per row
    wind_n: np.ndarray
    pg_a_m: np.ndarray            #: Pasquill-Gifford coefficient a [m] per row (stability from the wind)
    sigma0_km: np.ndarray         #: initial width per row
    sin_track: np.ndarray         #: |sin(wind, track)| per row, floored as for the emission
    dir_unc_deg: float

    def columns(self, rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """(len(rows), len(idx)): each row's expected plume [ppm per ppm km of along-track
        area] at soundings ``idx``, scaled so that the least-squares coefficient is the
        along-track area A = line density / sin(wind, track) (so Q = A L1 u sin as for
        the Gaussian template)."""
        rows = np.asarray(rows, dtype=int)
        e, n = physics.local_enu_km(self.lat[idx][None, :], self.lon[idx][None, :],
                                    self.src_lat[rows][:, None], self.src_lon[rows][:, None])
        ue, un = self.wind_e[rows][:, None], self.wind_n[rows][:, None]
        x = e * ue + n * un
        y = -e * un + n * ue
        xp = np.maximum(x, 1e-3)
        s2 = (self.pg_a_m[rows][:, None] / 1e3 * xp ** physics.PG_EXPONENT) ** 2 \
            + self.sigma0_km[rows][:, None] ** 2 + physics.OCO2_FOOTPRINT_VAR_KM2 \
            + (xp * np.tan(np.radians(self.dir_unc_deg))) ** 2
        out = np.where(x > 0, np.exp(-0.5 * y * y / s2) / np.sqrt(2 * np.pi * s2), 0.0)
        return out * self.sin_track[rows][:, None]
