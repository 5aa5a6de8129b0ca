"""OCO-2's orbit and instrument for the simulator: ground track, solar zenith,
sounding ids, and the shipped land mask.

Orbit: circular sun-synchronous ground track, 705 km, inclination 98.2 deg, 233
orbits per 16-day repeat (14.5625 rev/day), ascending node 13:36 local solar
time, daylight (ascending) side only, solar zenith < 80 deg (OCO-2 Data Product
User's Guide; Crisp et al. 2017, AMT 10, 59; science-notes section 4.4).
Sampling: 3 frames/s x 8 footprints, 1.29 km cross-track footprints on a ~10.3
km swath; ground speed ~6.75 km/s gives ~2.25 km frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from builder import physics

ORBITS_PER_DAY = 233.0 / 16.0          #: 16-day, 233-orbit repeat cycle
PERIOD_S = 86400.0 / ORBITS_PER_DAY    #: 5933 s (98.9 min)
INCLINATION_DEG = 98.2
ALTITUDE_KM = 705.0
ASCENDING_NODE_LOCAL_H = 13.6          #: 13:36 local mean solar time
FRAME_HZ = 3                           #: frames per second
N_FOOTPRINTS = 8
FOOTPRINT_CROSS_KM = 1.29              #: cross-track footprint width (swath 8 x 1.29 = 10.3 km)
FOOTPRINT_ALONG_KM = 2.25
MAX_SZA_DEG = 80.0
#: Orbit numbering anchor: OCO-2 orbit 21690 has its ascending node shortly after
#: 2018-08-01 00:00 UTC (launch 2014-07-02 + 1491 days x 14.56 rev/day ~ 21,700).
ORBIT_EPOCH = np.datetime64("2018-08-01T00:00:00", "s")
ORBIT_AT_EPOCH = 21690
NODE_OFFSET_S = 1234.0                 #: node time of ORBIT_AT_EPOCH after ORBIT_EPOCH

LAND_MASK_PATH = Path(__file__).parent.parent / "data" / "land_percent_0p05deg.npz"
LAND_MASK_RES_DEG = 0.05


def derive_land_mask(out_path: str | Path = LAND_MASK_PATH) -> Path:
    """Rebuild the shipped 0.05 deg land-percent grid from the PyPI package
    ``global-land-mask`` (GLOBE 1 km mask, NOAA NGDC; only needed to regenerate
    the file, never at run time). Row 0 is 90N, column 0 is 180W."""
    import global_land_mask  # noqa: F401  (optional, regeneration only)

    src = Path(global_land_mask.__file__).parent / "globe_combined_mask_compressed.npz"
    ocean = np.load(src)["mask"]          # True = ocean, 1/120 deg, rows from 90N
    f = int(round(LAND_MASK_RES_DEG * 120))
    frac = ocean.reshape(ocean.shape[0] // f, f, ocean.shape[1] // f, f).mean(axis=(1, 3), dtype=np.float32)
    land = (100 - np.round(frac * 100)).astype(np.uint8)
    np.savez_compressed(out_path, land_percent=land)
    return Path(out_path)


def load_land_mask() -> np.ndarray:
    """The shipped land-percent grid (uint8, 3600 x 7200, row 0 = 90N, col 0 = 180W).

    If the shipped file is missing (e.g. an install without package data) it
    is rebuilt once from ``global-land-mask`` when that package is installed."""
    if not LAND_MASK_PATH.exists():
        try:
            LAND_MASK_PATH.parent.mkdir(parents=True, exist_ok=True)
            derive_land_mask(LAND_MASK_PATH)
        except (ImportError, OSError) as exc:
            raise FileNotFoundError(f"{LAND_MASK_PATH}: land mask missing and cannot be rebuilt "
                                    f"(pip install global-land-mask): {exc}") from None
    with np.load(LAND_MASK_PATH) as d:
        return d["land_percent"]


def land_percent(mask: np.ndarray, lat, lon) -> np.ndarray:
    """Land percentage (0-100) of the 0.05 deg cell containing each point."""
    i = np.clip(((90.0 - np.asarray(lat)) / LAND_MASK_RES_DEG).astype(np.int64), 0, mask.shape[0] - 1)
    j = (np.floor((np.asarray(lon) + 180.0) / LAND_MASK_RES_DEG).astype(np.int64)) % mask.shape[1]
    return mask[i, j]


def node_time_s(orbit) -> np.ndarray:
    """Ascending-node time of ``orbit`` [s after ORBIT_EPOCH]."""
    return NODE_OFFSET_S + (np.asarray(orbit, dtype=float) - ORBIT_AT_EPOCH) * PERIOD_S


def ground_track(t_s: np.ndarray, orbit: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-satellite (lat, lon) [deg] at times ``t_s`` [s after ORBIT_EPOCH] of ``orbit``.

    Circular orbit: sin(lat) = sin(i) sin(u), inertial longitude from the node
    atan2(cos i sin u, cos u), u the argument of latitude. Sun-synchronous:
    the node keeps its local solar time, so the Earth-fixed longitude is that
    inertial longitude + 15 deg/h x (13.6 h - UTC hour).
    """
    u = 2.0 * np.pi * (t_s - node_time_s(orbit)) / PERIOD_S
    inc = np.radians(INCLINATION_DEG)
    lat = np.degrees(np.arcsin(np.sin(inc) * np.sin(u)))
    dlon = np.degrees(np.arctan2(np.cos(inc) * np.sin(u), np.cos(u)))
    utc_h = (t_s / 3600.0) % 24.0     # ORBIT_EPOCH is midnight UTC
    lon = (dlon + 15.0 * (ASCENDING_NODE_LOCAL_H - utc_h) + 180.0) % 360.0 - 180.0
    return lat, lon


def solar_zenith_deg(t_s: np.ndarray, lat, lon) -> np.ndarray:
    """Solar zenith angle with Cooper's (1969) declination and mean solar time."""
    doy = ((ORBIT_EPOCH + (np.asarray(t_s) // 86400).astype("timedelta64[D]")).astype("datetime64[D]")
           - ORBIT_EPOCH.astype("datetime64[Y]").astype("datetime64[D]")).astype(float) + 1.0
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284.0 + doy) / 365.0)
    hour = np.radians(15.0 * ((t_s / 3600.0) % 24.0 + np.asarray(lon) / 15.0 - 12.0))
    la = np.radians(lat)
    cos_z = np.sin(la) * np.sin(decl) + np.cos(la) * np.cos(decl) * np.cos(hour)
    return np.degrees(np.arccos(np.clip(cos_z, -1, 1)))


def heading_deg(lat, lon) -> np.ndarray:
    """Track heading (clockwise from north) from consecutive positions."""
    e, n = physics.local_enu_km(lat[1:], lon[1:], lat[:-1], lon[:-1])
    h = np.degrees(np.arctan2(e, n))
    return np.concatenate([h, h[-1:]]) if len(h) else np.zeros(len(lat))


def yyyymmddhhmmss(sec_after_epoch: np.ndarray) -> np.ndarray:
    """Integer YYYYMMDDhhmmss of seconds after ORBIT_EPOCH (vectorised, no string formatting)."""
    ts = ORBIT_EPOCH + np.asarray(sec_after_epoch, dtype=np.int64).astype("timedelta64[s]")
    day = ts.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    y = month.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = month.astype(np.int64) % 12 + 1
    dd = (day - month).astype(np.int64) + 1
    sod = (ts - day).astype(np.int64)
    return ((((y * 100 + mo) * 100 + dd) * 100 + sod // 3600) * 100 + (sod // 60) % 60) * 100 + sod % 60


def orbit_range(t_lo: float, t_hi: float) -> range:
    """Orbits whose daylight half-pass may overlap [t_lo, t_hi) [s after ORBIT_EPOCH]."""
    o_lo = int(np.floor((t_lo - PERIOD_S / 4 - NODE_OFFSET_S) / PERIOD_S)) + ORBIT_AT_EPOCH
    o_hi = int(np.ceil((t_hi + PERIOD_S / 4 - NODE_OFFSET_S) / PERIOD_S)) + ORBIT_AT_EPOCH
    return range(o_lo, o_hi + 1)
