"""One daylight pass of one orbit: its frames, the soundings written (sampling and
clouds from :mod:`builder.simworld`), the atmosphere and retrieval errors at each
sounding, the plumes (:mod:`builder.simulate.plumes`) and the Lite-file columns.

The random streams cover the whole daylight pass (keyed by seed and orbit), so a
pass split by midnight draws the same numbers in both day files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from builder import physics, simworld
from builder.simulate.orbit import (FOOTPRINT_ALONG_KM, FOOTPRINT_CROSS_KM, FRAME_HZ, MAX_SZA_DEG, N_FOOTPRINTS,
                                    ORBIT_EPOCH, PERIOD_S, ground_track, heading_deg, land_percent, node_time_s,
                                    solar_zenith_deg, yyyymmddhhmmss)
from builder.simulate.plumes import plumes
from builder.simulate.weather import SCALE_HEIGHT_M, DayFields
from builder.simulate.world import World
from builder.simworld import background_xco2_ppm

BACKGROUND_OFF_PPM = 400.0             #: flat background when background=False


@dataclass
class Frames:
    """The kept frames of a pass (daylight, latitude band, region, day) and their geometry."""

    orbit: int
    node_t_s: float       #: ascending-node time [s after ORBIT_EPOCH]
    n_pass: int           #: frames in the whole daylight pass (length of the random streams)
    glint: bool           #: 2018: nadir and glint on alternate orbits
    kept: np.ndarray      #: indices of the kept frames into the whole pass
    frame: np.ndarray     #: frame numbers (3 Hz ticks after ORBIT_EPOCH)
    t: np.ndarray         #: frame times [s after ORBIT_EPOCH]
    lat: np.ndarray
    lon: np.ndarray
    heading: np.ndarray   #: [deg clockwise from north]
    along: np.ndarray     #: along-track distance [km] (one frame length across gaps)
    xyz: np.ndarray       #: unit vectors


@dataclass
class Soundings:
    """The soundings written for a pass and their state (arrays of one row per sounding)."""

    frame: np.ndarray     #: index into the kept frames
    stream: np.ndarray    #: index into the whole-pass footprint streams
    footprint: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    land: np.ndarray      #: land percent
    good: np.ndarray      #: passes the quality screening
    altitude_m: np.ndarray | None = None
    psurf_prior: np.ndarray | None = None
    psurf: np.ndarray | None = None
    tcwv: np.ndarray | None = None       #: true (a priori) column water vapour [kg/m2]
    tcwv_ret: np.ndarray | None = None   #: retrieved
    file_u: np.ndarray | None = None
    file_v: np.ndarray | None = None
    xco2: np.ndarray | None = None       #: without plumes [ppm]
    sigma: np.ndarray | None = None      #: reported XCO2 uncertainty [ppm]


@dataclass
class Pass:
    """What a pass adds to its day file: Lite columns and the truth rows of its crossings."""

    soundings: dict[str, np.ndarray]
    truth: pd.DataFrame


def simulate_pass(orbit: int, t_lo: float, t_hi: float, world: World, truth_columns: list[str]) -> Pass | None:
    """Frames, soundings, plumes and crossings of one daylight pass, clipped to [t_lo, t_hi)."""
    fr = pass_frames(orbit, t_lo, t_hi, world)
    if fr is None:
        return None
    s = footprints(fr, world, np.random.default_rng([world.seed, 2, orbit]))
    fields = world.fields(fr.node_t_s)
    atmosphere(fr, s, world, fields)
    xco2 = s.xco2
    truth = pd.DataFrame(columns=truth_columns)
    if world.src_tree is not None:
        enh, truth = plumes(fr, s, world, fields, truth_columns)
        xco2 = xco2 + enh
    return Pass(lite_columns(fr, s, xco2), truth)


def pass_frames(orbit: int, t_lo: float, t_hi: float, world: World) -> Frames | None:
    """The frames of ``orbit``'s daylight pass kept in [t_lo, t_hi), or None."""
    cfg = world.settings
    tn = float(node_time_s(orbit))
    f0 = int(np.ceil(max(tn - PERIOD_S / 4, t_lo) * FRAME_HZ))
    f1 = int(np.ceil(min(tn + PERIOD_S / 4, t_hi) * FRAME_HZ))
    if f1 <= f0:
        return None
    # the whole daylight pass, so that random streams do not depend on the day split
    p0 = int(np.ceil((tn - PERIOD_S / 4) * FRAME_HZ))
    frame_all = np.arange(p0, int(np.ceil((tn + PERIOD_S / 4) * FRAME_HZ)), dtype=np.int64)
    t = frame_all / FRAME_HZ
    lat, lon = ground_track(t, orbit)
    ok = (lat >= cfg.lat_band[0]) & (lat <= cfg.lat_band[1]) & (frame_all >= f0) & (frame_all < f1)
    ok &= solar_zenith_deg(t, lat, lon) < MAX_SZA_DEG
    region = world.region
    if region is not None:  # frames near the region (margin for plumes of sources just outside)
        m_lat, m_lon = 3.0, 4.5
        dlon = (lon - region[0] + m_lon) % 360.0
        ok &= (lat >= region[1] - m_lat) & (lat <= region[3] + m_lat) & (dlon <= region[2] - region[0] + 2 * m_lon)
    if not ok.any():
        return None
    kept = np.flatnonzero(ok)
    frame, t, lat, lon = frame_all[kept], t[kept], lat[kept], lon[kept]
    step = physics.haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    contiguous = np.concatenate([[False], np.diff(frame) == 1])
    along = np.concatenate([[0.0], np.cumsum(np.where(contiguous[1:], step, FOOTPRINT_ALONG_KM))])
    return Frames(orbit=orbit, node_t_s=tn, n_pass=len(frame_all), glint=orbit % 2 == 1, kept=kept, frame=frame,
                  t=t, lat=lat, lon=lon, heading=heading_deg(lat, lon), along=along,
                  xyz=physics.unit_xyz(lat, lon))


def footprints(fr: Frames, world: World, rng: np.random.Generator) -> Soundings:
    """Every footprint of the kept frames (frame-major, footprint 1..8), sampled for clouds
    and quality (builder.simworld); the ones written."""
    nf = len(fr.frame)
    k = np.pi / 180.0 * physics.EARTH_RADIUS_KM
    hr = np.radians(fr.heading)
    off_km = (np.arange(N_FOOTPRINTS) - (N_FOOTPRINTS - 1) / 2.0) * FOOTPRINT_CROSS_KM
    d_east, d_north = off_km[None, :] * np.cos(hr[:, None]), -off_km[None, :] * np.sin(hr[:, None])
    c_lat = (fr.lat[:, None] + d_north / k).ravel()
    c_lon = ((fr.lon[:, None] + d_east / (k * np.cos(np.radians(fr.lat[:, None]))) + 180.0) % 360.0 - 180.0).ravel()
    c_frame = np.repeat(np.arange(nf), N_FOOTPRINTS)              # index into kept frames
    c_fp = np.tile(np.arange(1, N_FOOTPRINTS + 1), nf)
    c_all = np.repeat(fr.kept, N_FOOTPRINTS) * N_FOOTPRINTS + c_fp - 1   # index into whole-pass streams
    c_land = land_percent(world.land, c_lat, c_lon)
    f_sza = solar_zenith_deg(fr.t, fr.lat, fr.lon)             # per frame: the swath is 10 km wide
    f_regime = world.surface.regime(fr.xyz)
    present, good = simworld.sample_soundings(rng, fr.n_pass, FOOTPRINT_ALONG_KM, N_FOOTPRINTS, fr.kept[c_frame],
                                              c_all, c_lat, c_land, f_sza[c_frame], fr.glint, f_regime[c_frame],
                                              world.switches.clear_sky)
    region = world.region
    if region is not None:
        present &= (c_lat >= region[1]) & (c_lat <= region[3]) & (c_lon >= region[0]) & (c_lon <= region[2])
    sel = np.flatnonzero(present)
    return Soundings(frame=c_frame[sel], stream=c_all[sel], footprint=c_fp[sel], lat=c_lat[sel], lon=c_lon[sel],
                     land=c_land[sel], good=good[sel])


def atmosphere(fr: Frames, s: Soundings, world: World, fields: DayFields) -> None:
    """Fill ``s`` with surface pressure, water vapour, file wind, XCO2 without plumes and its
    retrieval errors (builder.simworld). Smooth fields (>= 20 km) are evaluated once per frame."""
    uf, inv = np.unique(s.frame, return_inverse=True)
    uxyz = fr.xyz[uf]
    surface = world.surface
    n_streams = fr.n_pass * N_FOOTPRINTS
    s.altitude_m = alt = surface.altitude_m(s.land, uxyz[inv])
    noise_rng = np.random.default_rng([world.seed, 5, fr.orbit])
    s.psurf_prior = 1013.25 * np.exp(-alt / SCALE_HEIGHT_M) + (fields.psurf_hpa(0.0, uxyz) - 1013.25)[inv]
    s.psurf = s.psurf_prior + noise_rng.normal(0.0, 1.0, size=n_streams)[s.stream]   # retrieved: prior + ~1 hPa
    s.tcwv = fields.tcwv_kg_m2(fr.lat[uf], 0.0, uxyz)[inv] * np.exp(-alt / 2500.0)
    s.tcwv_ret = s.tcwv * (1.0 + noise_rng.normal(0.0, 0.03, size=n_streams)[s.stream])
    s.file_u, s.file_v = (w[inv] for w in fields.file_wind(fr.lat[uf], uxyz))
    if world.switches.background:
        xco2 = background_xco2_ppm(s.lat, fr.t[s.frame], fields.synoptic_ppm(uxyz)[inv])
    else:
        xco2 = np.full(len(s.lat), BACKGROUND_OFF_PPM)
    err, s.sigma = simworld.retrieval_errors(noise_rng, fr.n_pass, FOOTPRINT_ALONG_KM, N_FOOTPRINTS,
                                             fr.kept[s.frame], s.stream, s.footprint, s.land, s.good, world.fp_bias,
                                             surface.bias_ppm(s.land, uxyz[inv], uxyz, inv))
    s.xco2 = xco2 + err if world.switches.noise else xco2


def lite_columns(fr: Frames, s: Soundings, xco2: np.ndarray) -> dict[str, np.ndarray]:
    """The Lite-file variables of the pass's soundings (builder.litefmt)."""
    sf = s.frame
    stamp = yyyymmddhhmmss(fr.frame[sf] // FRAME_HZ)
    tenths = (fr.frame[sf] % FRAME_HZ) * 10 // FRAME_HZ
    epoch_unix = float((ORBIT_EPOCH - np.datetime64("1970-01-01T00:00:00", "s")).astype(np.int64))
    land_pct = s.land.astype(float)
    n = len(sf)
    return {
        "sounding_id": stamp * 100 + tenths * 10 + s.footprint,
        "latitude": s.lat, "longitude": s.lon,
        "time": epoch_unix + fr.frame[sf] / FRAME_HZ,
        "xco2": xco2, "xco2_uncertainty": s.sigma,
        "xco2_quality_flag": (~s.good).astype(np.int8),
        "solar_zenith_angle": solar_zenith_deg(fr.t[sf], s.lat, s.lon),
        "orbit": np.full(n, fr.orbit, dtype=np.int32),
        "footprint": s.footprint.astype(np.int8),
        "operation_mode": np.full(n, 1 if fr.glint else 0, dtype=np.int8),
        "land_water_indicator": np.where(land_pct >= 80, 0, np.where(land_pct <= 20, 1, 3)).astype(np.int8),
        "land_fraction": land_pct,
        "altitude": s.altitude_m,
        "windspeed_u_met": s.file_u, "windspeed_v_met": s.file_v,
        "psurf_apriori_o2a": s.psurf_prior,
        "psurf": s.psurf,
        "tcwv": s.tcwv_ret, "tcwv_apriori": s.tcwv,
        "tcwv_uncertainty": 0.5 + 0.02 * s.tcwv,
    }
