"""Simulated OCO-2 observations with a known truth: the atlas's embedded default data.

:func:`simulate` writes one OCO-2 L2 Lite-format NetCDF4 file per UTC day
(:func:`builder.litefmt.write_lite`, readable by :func:`builder.soundings.read_lite`)
plus ``truth.csv`` (every plume crossing), ``tracks.csv`` (good data per orbit
and file, the noise-only search length), ``withheld.csv`` (the plants that emit
but are withheld from the detector's inventory, :mod:`builder.withheld`) and
``simulation.json``.

Physical choices (each documented where it is made):

- Orbit: circular sun-synchronous ground track, 705 km, inclination 98.2 deg,
  233 orbits per 16-day repeat (14.5625 rev/day), ascending node 13:36 local
  solar time, daylight (ascending) side only, solar zenith < 80 deg (OCO-2 Data
  Product User's Guide; Crisp et al. 2017, AMT 10, 59; science-notes section 4.4).
- Sampling: 3 frames/s x 8 footprints, 1.29 km cross-track footprints on a
  ~10.3 km swath; ground speed ~6.75 km/s gives ~2.25 km frames.
- Sampling, clouds, quality, retrieval errors, surface biases and the XCO2
  background: :mod:`builder.simworld`, calibrated against real OCO-2 (the
  volunteer team's detector on real August 2018 data; ``bash scripts/bench.sh
  realism``). Land mask: GLOBE 30" mask (global-land-mask, Karin) averaged to
  0.05 deg land percent, shipped as ``builder/data/land_percent_0p05deg.npz``
  (see :func:`derive_land_mask`).
- Plumes: vertically integrated Gaussian plume (Nassar et al. 2017, GRL 44,
  10045) of each source >= cfg.simulate.min_emission_t_yr (cities as area
  sources), emission at the overpass time from the inventory temporal
  profiles, Pasquill-Gifford class from the wind speed, converted to ppm with
  the sounding's written psurf/tcwv, averaged over the footprint, with the
  instantaneous structure of :mod:`builder.simplume` (puffs, emission changes,
  shear, meander): the truth's area/peak/line_factor include it, its emission
  does not.
- Wind: a smooth random daily field (zonal-mean trades/westerlies + a few
  large-scale modes, 1-12 m/s). The wind written to the file (GEOS FP-IT
  stand-in) has a smooth relative speed error (cfg.simulate.wind_error_rel) and
  a ~17 deg direction error, typical of reanalysis vs. plume-layer wind
  (science-notes section 5.4; Nassar et al. 2021).

Everything random is drawn from generators keyed by (seed, orbit) or
(seed, day), so a rerun is byte-identical and an orbit spanning midnight is the
same in both day files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from builder import physics, simworld
from builder.simplume import PlumeStructure, plume_ppm, width_km
from builder.simworld import ModeField, SurfaceFields, background_xco2_ppm
from builder.config import Config
from builder.litefmt import lite_filename, write_lite
from builder.errors import InputError
from builder.withheld import WITHHELD_FILE, withheld_mask, withheld_table

#: Bump when the simulated output changes (the build caches simulations by it).
SIMULATOR_VERSION = "6"

# --- orbit and instrument (OCO-2 DPUG; Crisp et al. 2017; science-notes 4.4) ---
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

# --- what is written ---
PLUME_REACH_KM = 300.0                 #: plumes are evaluated to this downwind distance
TRUTH_MAX_DOWNWIND_KM = 200.0          #: crossings reported in truth.csv
ISOLATION_WINDOW_KM = 30.0
ISOLATION_MAX_OTHER = 0.2
COUNT_WINDOW_KM = 20.0
TRACK_GAP_KM = 10.0                    #: gaps longer than this do not count as searched track
BACKGROUND_OFF_PPM = 400.0             #: flat background when background=False

LAND_MASK_PATH = Path(__file__).parent / "data" / "land_percent_0p05deg.npz"
LAND_MASK_RES_DEG = 0.05

# --- atmosphere ---
WIND_DIR_ERROR_DEG = 17.0              #: default 1-sigma direction error of the file wind
WIND_ERROR_LENGTH_KM = 600.0           #: scale over which the file-wind error is coherent
MIN_WIND_M_S = 1.0
MAX_WIND_M_S = 12.0
SCALE_HEIGHT_M = 8434.0


@dataclass
class SimulationResult:
    """What :func:`simulate` wrote."""

    files: list[Path]
    truth_path: Path
    tracks_path: Path
    n_soundings: int = 0
    n_crossings: int = 0
    skipped: list[str] = field(default_factory=list)


TRUTH_COLUMNS = [
    "crossing_id", "source_id", "instrument", "orbit", "time_utc", "emission_kg_s", "wind_u_m_s", "wind_v_m_s",
    "file_wind_u_m_s", "file_wind_v_m_s", "cross_latitude", "cross_longitude", "downwind_km", "peak_ppm",
    "area_ppm_km", "sigma_along_km", "n_soundings_20km", "isolated", "line_factor",
    "withheld",   # the source is withheld from the detector's inventory (builder.withheld, withheld.csv)
]
TRACKS_COLUMNS = ["instrument", "orbit", "source_file", "n_soundings", "track_km"]


# ----------------------------------------------------------------------------- land mask

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


# ----------------------------------------------------------------------------- geometry

def _unit_xyz(lat, lon) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _chord(km: float) -> float:
    """Chord length on the unit sphere of a great-circle distance."""
    return 2.0 * np.sin(km / physics.EARTH_RADIUS_KM / 2.0)


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


def _heading_deg(lat, lon) -> np.ndarray:
    """Track heading (clockwise from north) from consecutive positions."""
    e, n = physics.local_enu_km(lat[1:], lon[1:], lat[:-1], lon[:-1])
    h = np.degrees(np.arctan2(e, n))
    return np.concatenate([h, h[-1:]]) if len(h) else np.zeros(len(lat))


# ----------------------------------------------------------------------------- smooth random fields

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


# ----------------------------------------------------------------------------- one orbit pass

@dataclass
class _Pass:
    soundings: dict[str, np.ndarray]
    truth: pd.DataFrame


def _simulate_pass(orbit: int, t_lo: float, t_hi: float, ctx: dict) -> _Pass | None:
    """Frames, soundings, plumes and crossings of one daylight pass, clipped to [t_lo, t_hi)."""
    cfg = ctx["cfg"].simulate
    tn = float(node_time_s(orbit))
    f0 = int(np.ceil(max(tn - PERIOD_S / 4, t_lo) * FRAME_HZ))
    f1 = int(np.ceil(min(tn + PERIOD_S / 4, t_hi) * FRAME_HZ))
    if f1 <= f0:
        return None
    # the whole daylight pass, so that random streams do not depend on the day split
    p0 = int(np.ceil((tn - PERIOD_S / 4) * FRAME_HZ))
    frame_all = np.arange(p0, int(np.ceil((tn + PERIOD_S / 4) * FRAME_HZ)), dtype=np.int64)
    rng = np.random.default_rng([ctx["seed"], 2, orbit])
    nfa = len(frame_all)
    glint = orbit % 2 == 1                 # 2018: nadir and glint on alternate orbits
    t = frame_all / FRAME_HZ
    lat, lon = ground_track(t, orbit)
    ok = (lat >= cfg.lat_band[0]) & (lat <= cfg.lat_band[1]) & (frame_all >= f0) & (frame_all < f1)
    ok &= solar_zenith_deg(t, lat, lon) < MAX_SZA_DEG
    region = ctx["region"]
    if region is not None:  # frames near the region (margin for plumes of sources just outside)
        m_lat, m_lon = 3.0, 4.5
        dlon = (lon - region[0] + m_lon) % 360.0
        ok &= (lat >= region[1] - m_lat) & (lat <= region[3] + m_lat) & (dlon <= region[2] - region[0] + 2 * m_lon)
    if not ok.any():
        return None
    kf_all = np.flatnonzero(ok)            # kept frames, as indices into the whole pass
    frame, t, lat, lon = frame_all[kf_all], t[kf_all], lat[kf_all], lon[kf_all]
    nf = len(frame)
    heading = _heading_deg(lat, lon)
    step = physics.haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    contiguous = np.concatenate([[False], np.diff(frame) == 1])
    along = np.concatenate([[0.0], np.cumsum(np.where(contiguous[1:], step, FOOTPRINT_ALONG_KM))])
    fxyz = _unit_xyz(lat, lon)

    # ---- every footprint of the kept frames (frame-major, footprint 1..8)
    k = np.pi / 180.0 * physics.EARTH_RADIUS_KM
    hr = np.radians(heading)
    off_km = (np.arange(N_FOOTPRINTS) - (N_FOOTPRINTS - 1) / 2.0) * FOOTPRINT_CROSS_KM
    d_east, d_north = off_km[None, :] * np.cos(hr[:, None]), -off_km[None, :] * np.sin(hr[:, None])
    c_lat = (lat[:, None] + d_north / k).ravel()
    c_lon = ((lon[:, None] + d_east / (k * np.cos(np.radians(lat[:, None]))) + 180.0) % 360.0 - 180.0).ravel()
    c_frame = np.repeat(np.arange(nf), N_FOOTPRINTS)              # index into kept frames
    c_fp = np.tile(np.arange(1, N_FOOTPRINTS + 1), nf)
    c_all = np.repeat(kf_all, N_FOOTPRINTS) * N_FOOTPRINTS + c_fp - 1   # index into whole-pass streams
    c_land = land_percent(ctx["land"], c_lat, c_lon)
    f_sza = solar_zenith_deg(t, lat, lon)             # per frame: the swath is 10 km wide
    f_regime = ctx["surface"].regime(fxyz)
    present, good = simworld.sample_soundings(rng, nfa, FOOTPRINT_ALONG_KM, N_FOOTPRINTS, kf_all[c_frame], c_all,
                                              c_lat, c_land, f_sza[c_frame], glint, f_regime[c_frame],
                                              ctx["clear_sky"])
    if region is not None:
        present &= (c_lat >= region[1]) & (c_lat <= region[3]) & (c_lon >= region[0]) & (c_lon <= region[2])
    sel = np.flatnonzero(present)
    sf, sa, sfp = c_frame[sel], c_all[sel], c_fp[sel]
    slat, slon, sland, sgood = c_lat[sel], c_lon[sel], c_land[sel], good[sel]

    # smooth fields (>= 20 km) are evaluated once per frame that holds soundings
    uf, inv = np.unique(sf, return_inverse=True)
    uxyz = fxyz[uf]
    fields: DayFields = ctx["fields"](tn)
    surface: SurfaceFields = ctx["surface"]
    alt = surface.altitude_m(sland, uxyz[inv])
    noise_rng = np.random.default_rng([ctx["seed"], 5, orbit])
    psurf_prior = 1013.25 * np.exp(-alt / SCALE_HEIGHT_M) + (fields.psurf_hpa(0.0, uxyz) - 1013.25)[inv]
    psurf = psurf_prior + noise_rng.normal(0.0, 1.0, size=nfa * N_FOOTPRINTS)[sa]   # retrieved: prior + ~1 hPa
    tcwv = fields.tcwv_kg_m2(lat[uf], 0.0, uxyz)[inv] * np.exp(-alt / 2500.0)
    tcwv_ret = tcwv * (1.0 + noise_rng.normal(0.0, 0.03, size=nfa * N_FOOTPRINTS)[sa])
    fu, fv = (w[inv] for w in fields.file_wind(lat[uf], uxyz))
    st = t[sf]
    sxyz = uxyz[inv]

    # ---- XCO2 without plumes
    if ctx["background"]:
        xco2 = background_xco2_ppm(slat, st, fields.synoptic_ppm(uxyz)[inv])
    else:
        xco2 = np.full(len(sel), BACKGROUND_OFF_PPM)
    err, sig = simworld.retrieval_errors(noise_rng, nfa, FOOTPRINT_ALONG_KM, N_FOOTPRINTS, kf_all[sf], sa, sfp,
                                         sland, sgood, ctx["fp_bias"], surface.bias_ppm(sland, sxyz, uxyz, inv))
    if ctx["noise"]:
        xco2 = xco2 + err

    # ---- plumes
    truth = pd.DataFrame(columns=TRUTH_COLUMNS)
    if ctx["src_tree"] is not None:
        enh, truth = _plumes(orbit, t, lat, lon, heading, along, fxyz, sf, slat, slon, psurf, tcwv_ret, sgood,
                             fields, ctx)
        xco2 = xco2 + enh

    stamp = _yyyymmddhhmmss(frame[sf] // FRAME_HZ)
    tenths = (frame[sf] % FRAME_HZ) * 10 // FRAME_HZ
    sounding_id = stamp * 100 + tenths * 10 + sfp
    epoch_unix = float((ORBIT_EPOCH - np.datetime64("1970-01-01T00:00:00", "s")).astype(np.int64))
    land_pct = sland.astype(float)
    lwi = np.where(land_pct >= 80, 0, np.where(land_pct <= 20, 1, 3)).astype(np.int8)
    columns = {
        "sounding_id": sounding_id,
        "latitude": slat, "longitude": slon,
        "time": epoch_unix + frame[sf] / FRAME_HZ,
        "xco2": xco2, "xco2_uncertainty": sig,
        "xco2_quality_flag": (~sgood).astype(np.int8),
        "solar_zenith_angle": solar_zenith_deg(st, slat, slon),
        "orbit": np.full(len(sel), orbit, dtype=np.int32),
        "footprint": sfp.astype(np.int8),
        "operation_mode": np.full(len(sel), 1 if glint else 0, dtype=np.int8),
        "land_water_indicator": lwi,
        "land_fraction": land_pct,
        "altitude": alt,
        "windspeed_u_met": fu, "windspeed_v_met": fv,
        "psurf_apriori_o2a": psurf_prior,
        "psurf": psurf,
        "tcwv": tcwv_ret, "tcwv_apriori": tcwv,
        "tcwv_uncertainty": 0.5 + 0.02 * tcwv,
    }
    return _Pass(columns, truth)


def _yyyymmddhhmmss(sec_after_epoch: np.ndarray) -> np.ndarray:
    """Integer YYYYMMDDhhmmss of seconds after ORBIT_EPOCH (vectorised, no string formatting)."""
    ts = ORBIT_EPOCH + np.asarray(sec_after_epoch, dtype=np.int64).astype("timedelta64[s]")
    day = ts.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    y = month.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = month.astype(np.int64) % 12 + 1
    dd = (day - month).astype(np.int64) + 1
    sod = (ts - day).astype(np.int64)
    return ((((y * 100 + mo) * 100 + dd) * 100 + sod // 3600) * 100 + (sod // 60) % 60) * 100 + sod % 60


def _plumes(orbit, t, lat, lon, heading, along, fxyz, sf, slat, slon, psurf, tcwv, sgood, fields: DayFields,
            ctx) -> tuple[np.ndarray, pd.DataFrame]:
    """Add every source's plume to the written soundings; find the crossings (truth rows)."""
    src = ctx["sources"]
    nf = len(t)
    n_s = len(sf)
    enh = np.zeros(n_s)
    ftree = cKDTree(fxyz)
    # candidates: sources within reach of a thinned track (vectorised nearest-neighbour query)
    thin = cKDTree(fxyz[::4])
    d_near, _ = thin.query(ctx["src_xyz"], k=1, distance_upper_bound=_chord(PLUME_REACH_KM + 15.0))
    cand = np.flatnonzero(np.isfinite(d_near))
    if len(cand) == 0:
        return enh, pd.DataFrame(columns=TRUTH_COLUMNS)
    lists = ftree.query_ball_point(ctx["src_xyz"][cand], r=_chord(PLUME_REACH_KM + 10.0), return_sorted=True)
    counts = np.fromiter((len(c) for c in lists), dtype=np.int64, count=len(lists))
    keep = counts > 0
    cand, counts = cand[keep], counts[keep]
    if len(cand) == 0:
        return enh, pd.DataFrame(columns=TRUTH_COLUMNS)
    lists = [c for c, k in zip(lists, keep) if k]
    p_src = np.repeat(np.arange(len(cand)), counts)      # index into cand
    p_frame = np.concatenate(lists).astype(np.int64)       # pairs sorted by (source, frame)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    c_lat, c_lon = src["latitude"].to_numpy()[cand], src["longitude"].to_numpy()[cand]
    c_xyz = ctx["src_xyz"][cand]
    wu, wv = fields.wind(c_lat, c_xyz)
    speed = np.hypot(wu, wv)
    ux, uy = wu / speed, wv / speed
    stab = physics.pg_stability_class(speed)
    # emission at the time of closest approach (one call per pass)
    e, n = physics.local_enu_km(lat[p_frame], lon[p_frame], c_lat[p_src], c_lon[p_src])
    dist = np.hypot(e, n)
    dmin = np.minimum.reduceat(dist, starts)
    is_min = dist <= dmin[p_src]
    first_min = np.flatnonzero(is_min)[np.searchsorted(p_src[is_min], np.arange(len(cand)))]
    closest_frame = p_frame[first_min]
    t_ca = ORBIT_EPOCH + np.round(t[closest_frame] * 1e3).astype("timedelta64[ms]")
    q = np.asarray(ctx["emission"](src.iloc[cand].reset_index(drop=True), t_ca.astype("datetime64[ns]")),
                   dtype=float)
    if q.shape != (len(cand),):
        raise ValueError(f"emission_kg_s returned shape {q.shape}, expected ({len(cand)},)")
    q = np.where(np.isfinite(q) & (q > 0), q, 0.0)
    # instantaneous structure (puffs, emission changes, shear, meander; builder.simplume),
    # drawn for every source so it does not depend on the day split
    q_true = q
    structure = PlumeStructure.draw(np.random.default_rng([ctx["seed"], 4, orbit]), len(ctx["src_xyz"]),
                                    on=ctx["structure"])
    sigma0 = ctx["sigma0_km"][cand]
    x = e * ux[p_src] + n * uy[p_src]          # downwind [km]
    y = -e * uy[p_src] + n * ux[p_src]         # crosswind, left of the wind [km]

    sy_km = physics.sigma_y_m(np.maximum(x, 0.1), "B") / 1e3     # class B is the widest used
    reach = (x > -10.0) & (x <= PLUME_REACH_KM) & (np.abs(y) < 5.0 * sy_km + 10.0 + 4.0 * sigma0[p_src]) \
        & (q[p_src] > 0)
    # ---- enhancement at frame centres (for isolation): the mean plume, a standard column
    mean_plume = PlumeStructure.draw(np.random.default_rng(0), 0, on=False)
    fc_ppm = np.zeros(len(x))
    near_axis = reach & (x > 0)
    if near_axis.any():
        na = np.flatnonzero(near_axis)
        pn = p_src[na]
        fc_ppm[na] = plume_ppm(mean_plume, cand[pn], q[pn], speed[pn], x[na], y[na], np.full(len(na), 1013.25),
                               np.full(len(na), 25.0), stab[pn], sigma0[pn])

    # ---- sounding enhancement: expand pairs to the written soundings of their frame
    if n_s and reach.any():
        f_start = np.searchsorted(sf, np.arange(nf))
        f_count = np.searchsorted(sf, np.arange(nf), side="right") - f_start
        pr = np.flatnonzero(reach)
        cnt = f_count[p_frame[pr]]
        pair_of = np.repeat(pr, cnt)
        if len(pair_of):
            within = np.arange(len(pair_of)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            snd = f_start[p_frame[pair_of]] + within
            ps_ = p_src[pair_of]
            se, sn = physics.local_enu_km(slat[snd], slon[snd], c_lat[ps_], c_lon[ps_])
            sx = se * ux[ps_] + sn * uy[ps_]
            sy = -se * uy[ps_] + sn * ux[ps_]
            val = plume_ppm(structure, cand[ps_], q[ps_], speed[ps_], sx, sy, psurf[snd], tcwv[snd], stab[ps_],
                            sigma0[ps_])
            enh = np.bincount(snd, weights=val, minlength=n_s)

    # ---- crossings: y changes sign between consecutive frames, downwind
    ps_o, pf_o, x_o, y_o = p_src, p_frame, x, y
    nxt = (ps_o[1:] == ps_o[:-1]) & (pf_o[1:] == pf_o[:-1] + 1)
    flip = nxt & ((y_o[1:] > 0) != (y_o[:-1] > 0))
    i0 = np.flatnonzero(flip)
    frac = y_o[i0] / (y_o[i0] - y_o[i0 + 1])
    xc = x_o[i0] + frac * (x_o[i0 + 1] - x_o[i0])
    sel = (xc > 0) & (xc <= TRUTH_MAX_DOWNWIND_KM)
    i0, frac, xc = i0[sel], frac[sel], xc[sel]
    if len(i0) == 0:
        return enh, pd.DataFrame(columns=TRUTH_COLUMNS)
    cs = ps_o[i0]
    fa = pf_o[i0]
    fb = fa + 1
    region = ctx["region"]
    cross_lat = lat[fa] + frac * (lat[fb] - lat[fa])
    dlon = (lon[fb] - lon[fa] + 180.0) % 360.0 - 180.0
    cross_lon = (lon[fa] + frac * dlon + 180.0) % 360.0 - 180.0
    keep = np.ones(len(i0), dtype=bool)
    if region is not None:
        keep = (cross_lat >= region[1]) & (cross_lat <= region[3]) & (cross_lon >= region[0]) & (cross_lon <= region[2])
    cross_t = t[fa] + frac * (t[fb] - t[fa])
    cross_along = along[fa] + frac * (along[fb] - along[fa])
    hd = np.radians(heading[fa])
    te, tn_ = np.sin(hd), np.cos(hd)
    u_perp = np.abs(wu[cs] * tn_ - wv[cs] * te)
    sin_t = np.maximum(u_perp / speed[cs], 1e-6)
    cxyz = _unit_xyz(cross_lat, cross_lon)
    land_c = land_percent(ctx["land"], cross_lat, cross_lon)
    alt_c = ctx["surface"].altitude_m(land_c, cxyz)
    ps_c = fields.psurf_hpa(alt_c, cxyz)
    tc_c = fields.tcwv_kg_m2(cross_lat, alt_c, cxyz)
    # along-track integral of the instantaneous plume = Q f(x) / u_perp (line density, Zheng et al. 2020)
    line_factor = structure.line_factor(cand[cs], xc)
    area = physics.ppm_from_co2_mass_kg_m2(q[cs] * line_factor / np.maximum(u_perp, 1e-6), ps_c, tc_c) / 1e3
    sig_y_km = width_km(xc, stab[cs], sigma0[cs], structure.on)
    sig_along = sig_y_km / sin_t
    peak = area / (np.sqrt(2 * np.pi) * sig_along)
    fwu, fwv = fields.file_wind(cross_lat, cxyz)
    # good soundings within 20 km of the crossing
    good_per_frame = np.bincount(sf[sgood], minlength=nf) if n_s else np.zeros(nf, dtype=np.int64)
    cum_good = np.concatenate([[0], np.cumsum(good_per_frame)])
    lo_f = np.searchsorted(along, cross_along - COUNT_WINDOW_KM, side="left")
    hi_f = np.searchsorted(along, cross_along + COUNT_WINDOW_KM, side="right")
    n20 = cum_good[hi_f] - cum_good[lo_f]
    # isolation: other sources' signal within 30 km vs this source's
    tot_frame = np.bincount(p_frame, weights=fc_ppm, minlength=nf)
    cum_tot = np.concatenate([[0.0], np.cumsum(tot_frame)])
    lo_i = np.searchsorted(along, cross_along - ISOLATION_WINDOW_KM, side="left")
    hi_i = np.searchsorted(along, cross_along + ISOLATION_WINDOW_KM, side="right")
    total = cum_tot[hi_i] - cum_tot[lo_i]
    own_o = fc_ppm
    cum_own = np.concatenate([[0.0], np.cumsum(own_o)])
    key = ps_o.astype(np.int64) * (nf + 1) + pf_o
    a = np.searchsorted(key, cs.astype(np.int64) * (nf + 1) + lo_i, side="left")
    b = np.searchsorted(key, cs.astype(np.int64) * (nf + 1) + hi_i, side="left")
    own = cum_own[b] - cum_own[a]
    isolated = (total - own) <= ISOLATION_MAX_OTHER * np.maximum(own, 1e-30)

    sid = src["source_id"].astype(str).to_numpy()[cand][cs]
    inst = ctx["instrument"]
    truth = pd.DataFrame({
        "crossing_id": [f"{s}-{inst}-{orbit}" for s in sid],
        "source_id": sid,
        "instrument": inst,
        "orbit": orbit,
        "time_utc": pd.to_datetime(ORBIT_EPOCH + np.round(cross_t * 1e3).astype("timedelta64[ms]"), utc=True),
        "emission_kg_s": q_true[cs],
        "wind_u_m_s": wu[cs], "wind_v_m_s": wv[cs],
        "file_wind_u_m_s": fwu, "file_wind_v_m_s": fwv,
        "cross_latitude": cross_lat, "cross_longitude": cross_lon,
        "downwind_km": xc, "peak_ppm": peak, "area_ppm_km": area, "sigma_along_km": sig_along,
        "n_soundings_20km": n20.astype(int), "isolated": isolated, "line_factor": line_factor,
    })
    return enh, truth.loc[keep].reset_index(drop=True)


# ----------------------------------------------------------------------------- driver

def constant_emission_kg_s(sources: pd.DataFrame, time_utc) -> np.ndarray:
    """Flat temporal profile: the annual-mean emission of each source [kg/s]."""
    return np.asarray(sources["emission_t_yr"], dtype=float) * 1000.0 / physics.SECONDS_PER_YEAR


def _initial_width_km(sources: pd.DataFrame) -> np.ndarray:
    """Initial plume width [km] of each source (builder.physics.initial_width_km)."""
    if "kind" not in sources.columns:
        return np.zeros(len(sources))
    return physics.initial_width_km(sources["kind"].astype(str).str.lower().to_numpy(),
                                    sources["emission_t_yr"].to_numpy(float),
                                    sources["sigma_km"].to_numpy(float) if "sigma_km" in sources else None)


def _valid_sources(sources: pd.DataFrame, min_t_yr: float) -> tuple[pd.DataFrame, list[str]]:
    missing = [c for c in ("source_id", "latitude", "longitude", "emission_t_yr") if c not in sources.columns]
    if missing:
        raise InputError("sources", f"missing columns {', '.join(missing)}")
    lat = pd.to_numeric(sources["latitude"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(sources["longitude"], errors="coerce").to_numpy(float)
    emis = pd.to_numeric(sources["emission_t_yr"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & np.isfinite(emis) & (np.abs(lat) <= 90) & (np.abs(lon) <= 360))
    skipped = [f"sources:{sources['source_id'].iloc[i]}: no valid latitude/longitude/emission_t_yr, no plume simulated"
               for i in np.flatnonzero(bad)]
    keep = ~bad & (emis >= min_t_yr)
    out = sources.loc[keep].reset_index(drop=True).copy()
    out["latitude"], out["longitude"] = lat[keep], (lon[keep] + 180.0) % 360.0 - 180.0
    return out, skipped


def simulate(cfg: Config, sources: pd.DataFrame,
             emission_kg_s: Callable[[pd.DataFrame, pd.Timestamp | np.ndarray], np.ndarray],
             out_dir: Path, *, days: int | None = None, start: str | None = None, seed: int | None = None,
             region: tuple[float, float, float, float] | None = None, progress: Callable | None = None,
             noise: bool = True, background: bool = True, clear_sky: bool = False,
             plume_structure: bool = True) -> SimulationResult:
    """Simulate ``days`` days of OCO-2 Lite files from ``start`` into ``out_dir`` (see module doc).

    ``region`` = (lon_min, lat_min, lon_max, lat_max) restricts the written
    soundings and truth crossings. ``noise=False`` removes random noise,
    correlated errors, footprint and surface biases; ``plume_structure=False``
    draws steady Gaussian plumes (no puffs, shear or meander);
    ``background=False`` uses a flat 400 ppm background; ``clear_sky=True`` writes every sounding (no cloud
    gaps). These switches exist for validating the plume physics.
    ``progress(done_days, total_days)`` is called after each day.
    """
    sc = cfg.simulate
    if sc.instrument.upper().replace("-", "") != "OCO2":
        raise ValueError(f"[simulate] instrument {sc.instrument!r}: only the OCO-2 orbit is simulated")
    days = int(sc.days if days is None else days)
    start = str(sc.start if start is None else start)
    seed = int(sc.seed if seed is None else seed)
    try:
        day0 = np.datetime64(start, "D")
    except ValueError:
        raise ValueError(f"[simulate] start {start!r} is not a date (YYYY-MM-DD)") from None
    if days < 1:
        raise ValueError(f"[simulate] days must be >= 1, got {days}")
    if region is not None:
        region = tuple(float(v) for v in region)
        if not (len(region) == 4 and region[0] < region[2] and region[1] < region[3]):
            raise ValueError(f"region {region} must be (lon_min, lat_min, lon_max, lat_max)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src, skipped = _valid_sources(sources, sc.min_emission_t_yr)
    withheld = withheld_mask(src, seed, sc.withheld_share)
    src_xyz = _unit_xyz(src["latitude"].to_numpy(), src["longitude"].to_numpy())
    field_cache: dict[int, DayFields] = {}
    epoch_day = ORBIT_EPOCH.astype("datetime64[D]")

    def fields_for(node_t_s: float) -> DayFields:
        ordinal = int(np.floor(node_t_s / 86400.0))
        if ordinal not in field_cache:
            field_cache[ordinal] = DayFields(seed, ordinal, sc.wind_error_rel, sc.wind_dir_error_deg)
        return field_cache[ordinal]

    ctx = {
        "cfg": cfg, "seed": seed, "region": region, "noise": noise, "background": background,
        "clear_sky": clear_sky, "structure": plume_structure, "land": load_land_mask(), "sources": src,
        "src_xyz": src_xyz, "surface": SurfaceFields(seed), "sigma0_km": _initial_width_km(src),
        "src_tree": cKDTree(src_xyz) if len(src) else None, "fields": fields_for,
        "emission": emission_kg_s, "instrument": sc.instrument,
        "fp_bias": np.random.default_rng([seed, 3]).normal(0.0, simworld.FOOTPRINT_BIAS_SD_PPM, N_FOOTPRINTS),
    }
    files, truths, track_rows = [], [], []
    n_sound = 0
    for d in range(days):
        day = day0 + np.timedelta64(d, "D")
        t_lo = float((day - epoch_day).astype(np.int64) * 86400)
        t_hi = t_lo + 86400.0
        o_lo = int(np.floor((t_lo - PERIOD_S / 4 - NODE_OFFSET_S) / PERIOD_S)) + ORBIT_AT_EPOCH
        o_hi = int(np.ceil((t_hi + PERIOD_S / 4 - NODE_OFFSET_S) / PERIOD_S)) + ORBIT_AT_EPOCH
        chunks = []
        name = lite_filename(day, sc.instrument, sc.lite_version, production="190101000000")
        for orbit in range(o_lo, o_hi + 1):
            p = _simulate_pass(orbit, t_lo, t_hi, ctx)
            if p is None:
                continue
            truths.append(p.truth)
            cols = p.soundings
            if len(cols["sounding_id"]):
                chunks.append(cols)
                gq = cols["xco2_quality_flag"] == 0
                n_good = int(gq.sum())
                ft = np.unique(cols["time"][gq])
                track_rows.append({"instrument": sc.instrument, "orbit": orbit, "source_file": name,
                                   "n_soundings": n_good, "track_km": _track_km(ft)})
        if not chunks:
            if progress:
                progress(d + 1, days)
            continue
        columns = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        n_sound += len(columns["sounding_id"])
        attrs = {"simulated": "true", "simulator": f"builder.simulate {SIMULATOR_VERSION}", "seed": str(seed)}
        files.append(write_lite(out_dir / name, columns, version=sc.lite_version, instrument=sc.instrument,
                                attrs=attrs))
        if progress:
            progress(d + 1, days)
    truth = pd.concat([t for t in truths if len(t)], ignore_index=True) if any(len(t) for t in truths) \
        else pd.DataFrame(columns=TRUTH_COLUMNS)
    truth["withheld"] = truth["source_id"].astype(str).isin(set(src["source_id"].astype(str)[withheld]))
    truth = truth[TRUTH_COLUMNS].sort_values(["time_utc", "source_id"], kind="stable").reset_index(drop=True)
    truth["time_utc"] = pd.to_datetime(truth["time_utc"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    truth_path = out_dir / "truth.csv"
    truth.to_csv(truth_path, index=False, float_format="%.6g")
    withheld_table(src, withheld).to_csv(out_dir / WITHHELD_FILE, index=False, float_format="%.6g")
    tracks_path = out_dir / "tracks.csv"
    tracks = pd.DataFrame(track_rows, columns=TRACKS_COLUMNS)
    tracks.to_csv(tracks_path, index=False, float_format="%.3f")
    end = day0 + np.timedelta64(days, "D")
    meta = {
        "simulated": True, "simulator_version": SIMULATOR_VERSION, "seed": seed,
        "start": str(day0), "end": str(end), "days": days, "instrument": sc.instrument,
        "lite_version": sc.lite_version, "region": list(region) if region else None,
        "noise": noise, "background": background, "clear_sky": clear_sky, "plume_structure": plume_structure,
        "parameters": {
            "noise_ppm": list(sc.noise_ppm), "wind_error_rel": sc.wind_error_rel,
            "wind_dir_error_deg": sc.wind_dir_error_deg, "min_emission_t_yr": sc.min_emission_t_yr,
            "lat_band": list(sc.lat_band), "withheld_share": sc.withheld_share,
            "orbits_per_day": ORBITS_PER_DAY, "inclination_deg": INCLINATION_DEG,
            "ascending_node_local_h": ASCENDING_NODE_LOCAL_H, "max_sza_deg": MAX_SZA_DEG,
            "white_land_ppm": list(simworld.WHITE_LAND_PPM), "white_ocean_ppm": list(simworld.WHITE_OCEAN_PPM),
            "correlated_ppm_km": [simworld.CORR_SD_PPM, simworld.CORR_LENGTH_KM],
            "large_scale_ppm_km": [simworld.LARGE_SD_PPM, simworld.LARGE_LENGTH_KM],
            "footprint_bias_sd_ppm": simworld.FOOTPRINT_BIAS_SD_PPM,
        },
        "n_sources": int(len(src)), "n_withheld": int(withheld.sum()),
        "n_files": len(files), "n_soundings": int(n_sound),
        "n_crossings": int(len(truth)), "files": [f.name for f in files], "skipped": skipped,
    }
    (out_dir / "simulation.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return SimulationResult(files=files, truth_path=truth_path, tracks_path=tracks_path, n_soundings=int(n_sound),
                            n_crossings=int(len(truth)), skipped=skipped)


def _track_km(frame_times: np.ndarray) -> float:
    """Along-track km covered by good data: sum of the gaps between consecutive
    good frames that are shorter than TRACK_GAP_KM, plus one frame per run."""
    if len(frame_times) == 0:
        return 0.0
    speed = physics.EARTH_RADIUS_KM * 2 * np.pi / PERIOD_S   # ~6.75 km/s
    gaps = np.diff(np.sort(frame_times)) * speed
    runs = 1 + int((gaps > TRACK_GAP_KM).sum())
    return float(gaps[gaps <= TRACK_GAP_KM].sum() + runs * FOOTPRINT_ALONG_KM)
