"""The simulated day's weather: the true plume-layer wind, the wind written to the
file (GEOS FP-IT stand-in, with a smooth speed and direction error), surface
pressure, water vapour and the synoptic XCO2 structure.

Wind: a smooth random daily field (zonal-mean trades/westerlies + a few
large-scale modes, 1-12 m/s). The file wind has a smooth relative speed error
(cfg.simulate.wind_error_rel) and a ~17 deg direction error, typical of
reanalysis vs. plume-layer wind (science-notes section 5.4; Nassar et al. 2021).
"""

from __future__ import annotations

import numpy as np

from builder import simworld
from builder.simworld import ModeField

WIND_DIR_ERROR_DEG = 17.0              #: default 1-sigma direction error of the file wind
WIND_ERROR_LENGTH_KM = 600.0           #: scale over which the file-wind error is coherent
MIN_WIND_M_S = 1.0
MAX_WIND_M_S = 12.0
SCALE_HEIGHT_M = 8434.0


class DayFields:
    """The day's weather: true wind, file-wind error, pressure and water vapour anomalies."""

    def __init__(self, seed: int, day_ordinal: int, wind_error_rel: float,
                 wind_dir_error_deg: float = WIND_DIR_ERROR_DEG):
        rng = np.random.default_rng([seed, 1, day_ordinal])
        self.u_modes = ModeField(rng, (1500.0, 5000.0))
        self.v_modes = ModeField(rng, (1500.0, 5000.0))
        self.speed_err = ModeField(rng, (WIND_ERROR_LENGTH_KM, 3 * WIND_ERROR_LENGTH_KM))
        self.dir_err = ModeField(rng, (WIND_ERROR_LENGTH_KM, 3 * WIND_ERROR_LENGTH_KM))
        self.psurf_anom = ModeField(rng, (2000.0, 6000.0))
        self.tcwv_anom = ModeField(rng, (1000.0, 4000.0))
        self.xco2_synoptic = ModeField(rng, (1000.0, 4000.0))
        self.wind_error_rel = wind_error_rel
        self.wind_dir_error_deg = wind_dir_error_deg

    def wind(self, lat, xyz) -> tuple[np.ndarray, np.ndarray]:
        """True plume-layer wind [m/s]: zonal mean (-3.5 m/s trades, +3.5 m/s
        westerlies, tanh transition at 30 deg) + modes of 3 m/s per component,
        speed limited to 1-12 m/s (median ~4.5 m/s, typical of boundary-layer
        winds at plume height; ERA5 100 m winds over land are mostly 2-8 m/s)."""
        u = 3.5 * np.tanh((np.abs(lat) - 30.0) / 8.0) + 3.0 * self.u_modes(xyz)
        v = 3.0 * self.v_modes(xyz)
        speed = np.hypot(u, v)
        scale = np.clip(speed, MIN_WIND_M_S, MAX_WIND_M_S) / np.maximum(speed, 1e-9)
        return u * scale, v * scale

    def file_wind(self, lat, xyz) -> tuple[np.ndarray, np.ndarray]:
        """The wind written to the file: true wind with a smooth relative speed
        error (1 sigma wind_error_rel) rotated by a smooth direction error
        (1 sigma wind_dir_error_deg, default 17 deg)."""
        u, v = self.wind(lat, xyz)
        f = np.clip(1.0 + self.wind_error_rel * self.speed_err(xyz), 0.2, 3.0)
        a = np.radians(self.wind_dir_error_deg) * self.dir_err(xyz)
        c, s = np.cos(a), np.sin(a)
        return f * (c * u - s * v), f * (s * u + c * v)

    def psurf_hpa(self, altitude_m, xyz) -> np.ndarray:
        """Surface pressure: barometric from the altitude + synoptic anomaly (6 hPa)."""
        return 1013.25 * np.exp(-np.asarray(altitude_m) / SCALE_HEIGHT_M) + 6.0 * self.psurf_anom(xyz)

    def synoptic_ppm(self, xyz) -> np.ndarray:
        """Synoptic XCO2 structure [ppm] of the day (simworld.SYNOPTIC_PPM, 1,000-4,000 km)."""
        return simworld.SYNOPTIC_PPM * self.xco2_synoptic(xyz)

    def tcwv_kg_m2(self, lat, altitude_m, xyz) -> np.ndarray:
        """Column water vapour: boreal-summer latitude profile (5-45 kg/m2), less over high ground."""
        base = 6.0 + 40.0 * np.exp(-(((np.asarray(lat) - 10.0) / 28.0) ** 2))
        return base * np.exp(-np.asarray(altitude_m) / 2500.0) * np.clip(1.0 + 0.25 * self.tcwv_anom(xyz), 0.3, 2.0)
