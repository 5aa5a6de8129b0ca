"""Plumes of a pass: every source's XCO2 enhancement at the written soundings, and
the crossings of its plume axis by the track (the truth rows).

Vertically integrated Gaussian plume (Nassar et al. 2017, GRL 44, 10045) of each
source, emission at the time of closest approach from the inventory temporal
profiles, Pasquill-Gifford class from the wind speed, converted to ppm with the
sounding's written psurf/tcwv, averaged over the footprint, with the
instantaneous structure of :mod:`builder.simplume` (puffs, emission changes,
shear, meander): the truth's area/peak/line_factor include it, its emission
does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from builder import physics
from builder.simplume import PlumeStructure, plume_ppm, width_km
from builder.simulate.orbit import ORBIT_EPOCH, land_percent
from builder.simulate.weather import DayFields
from builder.simulate.world import World

if TYPE_CHECKING:  # pragma: no cover
    from builder.simulate.passes import Frames, Soundings

PLUME_REACH_KM = 300.0                 #: plumes are evaluated to this downwind distance
TRUTH_MAX_DOWNWIND_KM = 200.0          #: crossings reported in truth.csv
ISOLATION_WINDOW_KM = 30.0
ISOLATION_MAX_OTHER = 0.2
COUNT_WINDOW_KM = 20.0


@dataclass
class Pairs:
    """(source, frame) pairs within plume reach of a pass, sorted by (source, frame), and the
    per-source wind, emission and structure (arrays over ``cand`` or over pairs)."""

    cand: np.ndarray       #: candidate sources (indices into world.sources)
    src: np.ndarray        #: pair -> index into cand
    frame: np.ndarray      #: pair -> kept frame
    lat: np.ndarray        #: per candidate
    lon: np.ndarray
    wind_u: np.ndarray     #: true wind at the source [m/s]
    wind_v: np.ndarray
    speed: np.ndarray
    stability: np.ndarray  #: Pasquill-Gifford class
    q: np.ndarray          #: emission at closest approach [kg/s] (0 if not finite or negative)
    sigma0: np.ndarray     #: initial plume width [km]
    x: np.ndarray          #: pair: downwind distance of the frame centre [km]
    y: np.ndarray          #: pair: crosswind distance, left of the wind [km]
    reach: np.ndarray      #: pair: inside the evaluated plume
    centre_ppm: np.ndarray  #: pair: mean-plume enhancement at the frame centre (standard column)
    structure: PlumeStructure


def plumes(fr: Frames, s: Soundings, world: World, fields: DayFields,
           truth_columns: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Every source's plume at the written soundings [ppm]; the crossings (truth rows)."""
    enh = np.zeros(len(s.frame))
    pairs = source_pairs(fr, world, fields)
    if pairs is None:
        return enh, pd.DataFrame(columns=truth_columns)
    if len(s.frame) and pairs.reach.any():
        enh = sounding_enhancement(fr, s, pairs)
    return enh, crossings(fr, s, pairs, world, fields, truth_columns)


def source_pairs(fr: Frames, world: World, fields: DayFields) -> Pairs | None:
    """Sources within reach of the pass (vectorised nearest-neighbour queries on a thinned
    track, then every frame within reach), with their wind and emission, or None."""
    src_xyz = world.src_xyz
    thin = cKDTree(fr.xyz[::4])
    d_near, _ = thin.query(src_xyz, k=1, distance_upper_bound=physics.chord(PLUME_REACH_KM + 15.0))
    cand = np.flatnonzero(np.isfinite(d_near))
    if len(cand) == 0:
        return None
    lists = cKDTree(fr.xyz).query_ball_point(src_xyz[cand], r=physics.chord(PLUME_REACH_KM + 10.0),
                                             return_sorted=True)
    counts = np.fromiter((len(c) for c in lists), dtype=np.int64, count=len(lists))
    keep = counts > 0
    cand, counts = cand[keep], counts[keep]
    if len(cand) == 0:
        return None
    lists = [c for c, k in zip(lists, keep) if k]
    p_src = np.repeat(np.arange(len(cand)), counts)      # index into cand
    p_frame = np.concatenate(lists).astype(np.int64)       # pairs sorted by (source, frame)
    c_lat, c_lon = world.sources["latitude"].to_numpy()[cand], world.sources["longitude"].to_numpy()[cand]
    wu, wv = fields.wind(c_lat, src_xyz[cand])
    speed = np.hypot(wu, wv)
    e, n = physics.local_enu_km(fr.lat[p_frame], fr.lon[p_frame], c_lat[p_src], c_lon[p_src])
    q = _emission_at_closest_approach(fr, world, cand, p_src, p_frame, np.hypot(e, n), counts)
    ux, uy = wu / speed, wv / speed
    x = e * ux[p_src] + n * uy[p_src]          # downwind [km]
    y = -e * uy[p_src] + n * ux[p_src]         # crosswind, left of the wind [km]
    sigma0 = world.sigma0_km[cand]
    sy_km = physics.sigma_y_m(np.maximum(x, 0.1), "B") / 1e3     # class B is the widest used
    reach = (x > -10.0) & (x <= PLUME_REACH_KM) & (np.abs(y) < 5.0 * sy_km + 10.0 + 4.0 * sigma0[p_src]) \
        & (q[p_src] > 0)
    # instantaneous structure (puffs, emission changes, shear, meander; builder.simplume),
    # drawn for every source so it does not depend on the day split
    structure = PlumeStructure.draw(np.random.default_rng([world.seed, 4, fr.orbit]), len(src_xyz),
                                    on=world.switches.structure)
    pairs = Pairs(cand=cand, src=p_src, frame=p_frame, lat=c_lat, lon=c_lon, wind_u=wu, wind_v=wv, speed=speed,
                  stability=physics.pg_stability_class(speed), q=q, sigma0=sigma0, x=x, y=y, reach=reach,
                  centre_ppm=np.zeros(len(x)), structure=structure)
    pairs.centre_ppm = _centre_ppm(pairs)
    return pairs


def _emission_at_closest_approach(fr: Frames, world: World, cand, p_src, p_frame, dist, counts) -> np.ndarray:
    """Emission [kg/s] of each candidate at the time the track passes closest (one call per pass)."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    dmin = np.minimum.reduceat(dist, starts)
    is_min = dist <= dmin[p_src]
    first_min = np.flatnonzero(is_min)[np.searchsorted(p_src[is_min], np.arange(len(cand)))]
    t_ca = ORBIT_EPOCH + np.round(fr.t[p_frame[first_min]] * 1e3).astype("timedelta64[ms]")
    q = np.asarray(world.emission(world.sources.iloc[cand].reset_index(drop=True), t_ca.astype("datetime64[ns]")),
                   dtype=float)
    if q.shape != (len(cand),):
        raise ValueError(f"emission_kg_s returned shape {q.shape}, expected ({len(cand)},)")
    return np.where(np.isfinite(q) & (q > 0), q, 0.0)


def _centre_ppm(p: Pairs) -> np.ndarray:
    """Enhancement at frame centres (for isolation): the mean plume, a standard column."""
    mean_plume = PlumeStructure.draw(np.random.default_rng(0), 0, on=False)
    out = np.zeros(len(p.x))
    near_axis = p.reach & (p.x > 0)
    if near_axis.any():
        na = np.flatnonzero(near_axis)
        pn = p.src[na]
        out[na] = plume_ppm(mean_plume, p.cand[pn], p.q[pn], p.speed[pn], p.x[na], p.y[na],
                            np.full(len(na), 1013.25), np.full(len(na), 25.0), p.stability[pn], p.sigma0[pn])
    return out


def sounding_enhancement(fr: Frames, s: Soundings, p: Pairs) -> np.ndarray:
    """Sum of the plumes at each written sounding [ppm]: the pairs in reach expanded to the
    soundings of their frame, with the instantaneous structure and each sounding's column."""
    n_s, nf = len(s.frame), len(fr.t)
    f_start = np.searchsorted(s.frame, np.arange(nf))
    f_count = np.searchsorted(s.frame, np.arange(nf), side="right") - f_start
    pr = np.flatnonzero(p.reach)
    cnt = f_count[p.frame[pr]]
    pair_of = np.repeat(pr, cnt)
    if not len(pair_of):
        return np.zeros(n_s)
    within = np.arange(len(pair_of)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    snd = f_start[p.frame[pair_of]] + within
    ps_ = p.src[pair_of]
    ux, uy = p.wind_u / p.speed, p.wind_v / p.speed
    se, sn = physics.local_enu_km(s.lat[snd], s.lon[snd], p.lat[ps_], p.lon[ps_])
    sx = se * ux[ps_] + sn * uy[ps_]
    sy = -se * uy[ps_] + sn * ux[ps_]
    val = plume_ppm(p.structure, p.cand[ps_], p.q[ps_], p.speed[ps_], sx, sy, s.psurf[snd], s.tcwv_ret[snd],
                    p.stability[ps_], p.sigma0[ps_])
    return np.bincount(snd, weights=val, minlength=n_s)


def crossings(fr: Frames, s: Soundings, p: Pairs, world: World, fields: DayFields,
              truth_columns: list[str]) -> pd.DataFrame:
    """Truth rows: where the crosswind offset ``y`` changes sign between consecutive frames,
    downwind (0 < x <= TRUTH_MAX_DOWNWIND_KM), inside the region."""
    nxt = (p.src[1:] == p.src[:-1]) & (p.frame[1:] == p.frame[:-1] + 1)
    flip = nxt & ((p.y[1:] > 0) != (p.y[:-1] > 0))
    i0 = np.flatnonzero(flip)
    frac = p.y[i0] / (p.y[i0] - p.y[i0 + 1])
    xc = p.x[i0] + frac * (p.x[i0 + 1] - p.x[i0])
    sel = (xc > 0) & (xc <= TRUTH_MAX_DOWNWIND_KM)
    i0, frac, xc = i0[sel], frac[sel], xc[sel]
    if len(i0) == 0:
        return pd.DataFrame(columns=truth_columns)
    cs, fa = p.src[i0], p.frame[i0]
    fb = fa + 1
    cross_lat = fr.lat[fa] + frac * (fr.lat[fb] - fr.lat[fa])
    dlon = (fr.lon[fb] - fr.lon[fa] + 180.0) % 360.0 - 180.0
    cross_lon = (fr.lon[fa] + frac * dlon + 180.0) % 360.0 - 180.0
    region = world.region
    keep = np.ones(len(i0), dtype=bool)
    if region is not None:
        keep = (cross_lat >= region[1]) & (cross_lat <= region[3]) & (cross_lon >= region[0]) & (cross_lon <= region[2])
    cross_t = fr.t[fa] + frac * (fr.t[fb] - fr.t[fa])
    cross_along = fr.along[fa] + frac * (fr.along[fb] - fr.along[fa])
    cols = _crossing_plume(fr, p, world, fields, cs, fa, xc, cross_lat, cross_lon)
    n20 = _good_within(fr, s, cross_along)
    sid = world.sources["source_id"].astype(str).to_numpy()[p.cand][cs]
    inst = world.instrument
    truth = pd.DataFrame({
        "crossing_id": [f"{x}-{inst}-{fr.orbit}" for x in sid],
        "source_id": sid,
        "instrument": inst,
        "orbit": fr.orbit,
        "time_utc": pd.to_datetime(ORBIT_EPOCH + np.round(cross_t * 1e3).astype("timedelta64[ms]"), utc=True),
        "emission_kg_s": p.q[cs],
        "wind_u_m_s": p.wind_u[cs], "wind_v_m_s": p.wind_v[cs],
        "file_wind_u_m_s": cols["fwu"], "file_wind_v_m_s": cols["fwv"],
        "cross_latitude": cross_lat, "cross_longitude": cross_lon,
        "downwind_km": xc, "peak_ppm": cols["peak"], "area_ppm_km": cols["area"], "sigma_along_km": cols["sig_along"],
        "n_soundings_20km": n20.astype(int), "isolated": _isolated(fr, p, cs, cross_along),
        "line_factor": cols["line_factor"],
    })
    return truth.loc[keep].reset_index(drop=True)


def _crossing_plume(fr: Frames, p: Pairs, world: World, fields: DayFields, cs, fa, xc, cross_lat, cross_lon) -> dict:
    """The plume seen at each crossing: along-track area [ppm km] of the instantaneous plume
    = Q f(x) / u_perp (line density, Zheng et al. 2020), its width along the track and peak,
    and the file wind there."""
    hd = np.radians(fr.heading[fa])
    te, tn_ = np.sin(hd), np.cos(hd)
    u_perp = np.abs(p.wind_u[cs] * tn_ - p.wind_v[cs] * te)
    sin_t = np.maximum(u_perp / p.speed[cs], 1e-6)
    cxyz = physics.unit_xyz(cross_lat, cross_lon)
    land_c = land_percent(world.land, cross_lat, cross_lon)
    alt_c = world.surface.altitude_m(land_c, cxyz)
    ps_c = fields.psurf_hpa(alt_c, cxyz)
    tc_c = fields.tcwv_kg_m2(cross_lat, alt_c, cxyz)
    line_factor = p.structure.line_factor(p.cand[cs], xc)
    area = physics.ppm_from_co2_mass_kg_m2(p.q[cs] * line_factor / np.maximum(u_perp, 1e-6), ps_c, tc_c) / 1e3
    sig_along = width_km(xc, p.stability[cs], p.sigma0[cs], p.structure.on) / sin_t
    fwu, fwv = fields.file_wind(cross_lat, cxyz)
    return {"area": area, "sig_along": sig_along, "peak": area / (np.sqrt(2 * np.pi) * sig_along),
            "line_factor": line_factor, "fwu": fwu, "fwv": fwv}


def _good_within(fr: Frames, s: Soundings, cross_along: np.ndarray) -> np.ndarray:
    """Good soundings within COUNT_WINDOW_KM along track of each crossing."""
    nf = len(fr.t)
    good_per_frame = np.bincount(s.frame[s.good], minlength=nf) if len(s.frame) else np.zeros(nf, dtype=np.int64)
    cum_good = np.concatenate([[0], np.cumsum(good_per_frame)])
    lo_f = np.searchsorted(fr.along, cross_along - COUNT_WINDOW_KM, side="left")
    hi_f = np.searchsorted(fr.along, cross_along + COUNT_WINDOW_KM, side="right")
    return cum_good[hi_f] - cum_good[lo_f]


def _isolated(fr: Frames, p: Pairs, cs: np.ndarray, cross_along: np.ndarray) -> np.ndarray:
    """Isolation: the other sources' mean-plume signal within ISOLATION_WINDOW_KM along track
    is at most ISOLATION_MAX_OTHER times this source's."""
    nf = len(fr.t)
    tot_frame = np.bincount(p.frame, weights=p.centre_ppm, minlength=nf)
    cum_tot = np.concatenate([[0.0], np.cumsum(tot_frame)])
    lo_i = np.searchsorted(fr.along, cross_along - ISOLATION_WINDOW_KM, side="left")
    hi_i = np.searchsorted(fr.along, cross_along + ISOLATION_WINDOW_KM, side="right")
    total = cum_tot[hi_i] - cum_tot[lo_i]
    cum_own = np.concatenate([[0.0], np.cumsum(p.centre_ppm)])
    key = p.src.astype(np.int64) * (nf + 1) + p.frame
    a = np.searchsorted(key, cs.astype(np.int64) * (nf + 1) + lo_i, side="left")
    b = np.searchsorted(key, cs.astype(np.int64) * (nf + 1) + hi_i, side="left")
    own = cum_own[b] - cum_own[a]
    return (total - own) <= ISOLATION_MAX_OTHER * np.maximum(own, 1e-30)
