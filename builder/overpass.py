"""Stage "measure overpasses": every overpass of every inventory source, detected or not.

:func:`find_overpasses` finds, per track, each inventory site whose plume axis (drawn along the
wind at the track) crosses the track within reach, and measures it there with
:mod:`builder.forcedfit` (a forced fit at the predicted crossing, deblending, the targeted
detection statistic) into tables.OVERPASS_COLUMNS rows.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from builder import forcedfit, physics, tables
from builder.attribute import chord, clean_ids, column, line_density_per_ppm_km, prepared_sources, typed_empty
from builder.config import Config
from builder.plumetemplate import PlumeTemplates
from builder.quantify import direction_spread
from builder.soundings import Track
from builder.trackgeom import BIN_KM, NOISE_WINDOW_KM, TrackGeometry, window_stats

#: Half-width [km] of the window counting good soundings around a crossing (also the psurf mean).
COUNT_WINDOW_KM = 20.0


def _crossings(geo: TrackGeometry, c: np.ndarray, slat, slon, wu, wv, reach_km: float, min_down_km: float):
    """First crossing (smallest downwind distance) of each source's wind axis with the track.

    Works on the bins within +-reach of the source's closest bin, so track
    curvature is followed. Returns along_km, downwind_km (NaN: no crossing),
    heading unit vector (east, north) at the crossing, and the segment end bins.
    """
    k = int(np.ceil(reach_km / BIN_KM)) + 1
    nb = len(geo.bin_along)
    idx = np.clip(c[:, None] + np.arange(-k, k + 1)[None, :], 0, nb - 1)
    east, north = physics.local_enu_km(geo.bin_lat[idx], geo.bin_lon[idx], slat[:, None], slon[:, None])
    speed = np.hypot(wu, wv)
    with np.errstate(invalid="ignore", divide="ignore"):
        wx, wy = (wu / speed)[:, None], (wv / speed)[:, None]
    dn = east * wx + north * wy
    cr = east * wy - north * wx
    c0, c1 = cr[:, :-1], cr[:, 1:]
    step = idx[:, 1:] != idx[:, :-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(c0 != c1, c0 / (c0 - c1), 0.0)
    sign = (c0 * c1 <= 0) & step & np.isfinite(f)
    dn_x = dn[:, :-1] + f * (dn[:, 1:] - dn[:, :-1])
    ok = sign & (dn_x >= min_down_km) & (dn_x > 0) & (dn_x <= reach_km)
    ok &= np.hypot(east[:, :-1], north[:, :-1]) <= reach_km + BIN_KM
    masked = np.where(ok, dn_x, np.inf)
    best = np.argmin(masked, axis=1)
    rows = np.arange(len(c))
    found = np.isfinite(masked[rows, best])
    i0, i1 = idx[rows, best], idx[rows, best + 1]
    fb = f[rows, best]
    along_x = geo.bin_along[i0] + fb * (geo.bin_along[i1] - geo.bin_along[i0])
    he, hn = east[rows, best + 1] - east[rows, best], north[rows, best + 1] - north[rows, best]
    hnorm = np.hypot(he, hn)
    with np.errstate(invalid="ignore", divide="ignore"):
        he, hn = he / hnorm, hn / hnorm
    within = np.hypot(east, north) <= reach_km
    first = np.where(within.any(axis=1), idx[rows, np.argmax(within, axis=1)], c)
    last = np.where(within.any(axis=1), idx[rows, within.shape[1] - 1 - np.argmax(within[:, ::-1], axis=1)], c)
    return (np.where(found, along_x, np.nan), np.where(found, dn_x[rows, best], np.nan), he, hn, first, last)


_EMPTY_OVERPASSES: list[pd.DataFrame] = []


def _empty_overpasses() -> pd.DataFrame:
    """A fresh empty overpass table (typed_empty is slow; copy a template)."""
    if not _EMPTY_OVERPASSES:
        _EMPTY_OVERPASSES.append(typed_empty(tables.OVERPASS_COLUMNS))
    return _EMPTY_OVERPASSES[0].copy()


def find_overpasses(track: Track, detections: pd.DataFrame, sources: pd.DataFrame, emission_kg_s: Callable,
                    cfg: Config) -> pd.DataFrame:
    """Every source whose plume axis this track crosses within reach, detected or not
    (:func:`measure_overpasses` for one track)."""
    return measure_overpasses([track], detections, sources, emission_kg_s, cfg)


def measure_overpasses(tracks: list[Track], detections: pd.DataFrame | None, sources: pd.DataFrame,
                       emission_kg_s: Callable, cfg: Config) -> pd.DataFrame:
    """Every source whose plume axis a track of ``tracks`` (one file) crosses within reach,
    detected or not; rows track by track, sorted by overpass_id within a track.

    Sites considered (:class:`Sites`: co-located units are one site, named by its
    representative, with the summed inventory): summed annual inventory >=
    ``overpass_min_mt_yr`` plus every site a detection of this track is
    attributed to. The wind is the mean file
    wind within +-10 km of the crossing (iterated twice from the track point
    nearest the source). A crossing counts when ``overpass_min_downwind_km <=
    downwind <= reach_km`` and >= ``overpass_min_soundings`` good soundings lie
    within +-20 km of it.

    Non-detection upper limit (3 sigma by default), science-notes 8.1: the
    matched-filter error of the along-track Gaussian area is
    sigma_A = noise * sqrt(2 sigma_al sqrt(pi) / rho) [ppm km], with noise from
    successive sounding differences within +-50 km, rho = soundings per km
    within +-20 km and sigma_al = sigma_y(x) / sin(wind, track) the expected
    along-track width (Pasquill-Gifford sigma_y, Martin 1976, floored at
    detect.min_sigma_km). Real XCO2 errors are correlated along track, so sigma_A is
    raised to the empirical scatter of the same matched filter (with a linear
    background) fitted at every km within +-200 km (robust MAD; see
    TrackGeometry._null_area_sigma) when that is larger, which on simulated
    OCO-2 data is 1.5-3x the white-noise value. Then
    Q_ul = upper_limit_sigma * sigma_A * L1 * u_perp
    with L1 = physics.line_density_kg_m(1 ppm km) and u_perp the normal wind
    (wind speed floored at quantify.min_wind_m_s, angle at
    quantify.min_wind_track_angle_deg).

    Batched per file: the crossing geometry and the forced fit run per track (each on its own
    along-track grid), the inventory at the overpass times is looked up once for the whole
    file and the table is built once from the stacked arrays.
    """
    cache = prepared_sources(sources, cfg.attribute.site_km)
    if len(cache.src) == 0:
        return _empty_overpasses()
    parts = [p for p in (_crossing_part(t, detections, cache, cfg) for t in tracks) if p is not None]
    if not parts:
        return _empty_overpasses()
    site = np.concatenate([p["site"] for p in parts])
    t_ns = np.concatenate([p["t_ns"] for p in parts])
    inv_all = cache.sites.inventory(site, pd.to_datetime(t_ns, utc=True), emission_kg_s, round_min=10)
    bounds = np.cumsum([0] + [len(p["site"]) for p in parts])
    for p, a, b in zip(parts, bounds[:-1], bounds[1:]):
        p["inventory_kg_s"] = inv_all[a:b]
        _forced_part(p, cache, cfg)
    return _overpass_table(parts, cfg)


def _track_detections(track: Track, detections: pd.DataFrame | None, rep_of: pd.Series) -> pd.DataFrame:
    """This track's attributed detections, best first, one per site (named by its representative)."""
    dets = detections if detections is not None else pd.DataFrame()
    if not (len(dets) and "source_id" in dets.columns):
        return pd.DataFrame(columns=["source_id"])
    same = np.ones(len(dets), bool)
    if "orbit" in dets.columns:
        same &= pd.to_numeric(dets["orbit"], errors="coerce").to_numpy() == track.orbit
    if "instrument" in dets.columns:
        same &= dets["instrument"].astype(str).to_numpy() == track.instrument
    dets = dets.loc[same & (clean_ids(dets["source_id"]) != "").to_numpy()]
    if "attribution_score" in dets.columns:
        dets = dets.sort_values("attribution_score", ascending=False, kind="stable")
    dets = dets.drop_duplicates("source_id")
    if len(dets):
        dets = dets.assign(source_id=clean_ids(dets["source_id"]).map(rep_of).fillna(clean_ids(dets["source_id"])))
        dets = dets.drop_duplicates("source_id")
    return dets


def _crossing_part(track: Track, detections, cache, cfg: Config) -> dict | None:
    """Crossing geometry of one track: the sites it crosses within reach (or a detection of it is
    attributed to) with the wind, sampling and met near each crossing; None when none."""
    acfg = cfg.attribute
    s = track.soundings
    if s is None or len(s) < 2:
        return None
    sites = cache.sites
    dets = _track_detections(track, detections, cache.rep_of)
    det_ids = set(clean_ids(dets["source_id"]))
    rep_ids = cache.rep_ids
    cand = (sites.annual_t_yr >= acfg.overpass_min_mt_yr * 1e6) | np.isin(rep_ids, list(det_ids))
    site = np.flatnonzero(cand)
    if len(site) == 0:
        return None
    geo = TrackGeometry(track)
    # cheap bounding-box prefilter (unit-vector coordinates) before the nearest-bin query
    reach = chord(acfg.reach_km)
    pts = cache.rep_xyz[site]
    inbox = np.all((pts >= geo.bin_xyz.min(axis=0) - reach) & (pts <= geo.bin_xyz.max(axis=0) + reach), axis=1)
    site, pts = site[inbox], pts[inbox]
    slat, slon = cache.rep_lat[site], cache.rep_lon[site]
    dist, c = geo.tree.query(pts, distance_upper_bound=reach)
    near = np.isfinite(dist)
    site, slat, slon, c = site[near], slat[near], slon[near], c[near]
    if len(site) == 0:
        return None
    sid = rep_ids[site]
    # wind near the source's closest track point, then at the crossing (twice)
    wu, wv = geo.wind_at(geo.bin_along[c])
    along_x = np.full(len(site), np.nan)
    for _ in range(2):
        along_x, down_x, he, hn, first, last = _crossings(geo, c, slat, slon, wu, wv, acfg.reach_km,
                                                          acfg.overpass_min_downwind_km)
        at = np.where(np.isfinite(along_x), along_x, geo.bin_along[c])
        wu, wv = geo.wind_at(at)
    at = np.where(np.isfinite(along_x), along_x, geo.bin_along[c])
    _, _, n20 = window_stats(geo.along, np.zeros(len(geo.along)), at, COUNT_WINDOW_KM)
    psurf, _, _ = window_stats(geo.along, geo.psurf, at, COUNT_WINDOW_KM)
    tcwv, _, _ = window_stats(geo.along, geo.tcwv, at, COUNT_WINDOW_KM)
    d2, _, _ = window_stats(geo.along, geo.d2, at, NOISE_WINDOW_KM)
    water, _, _ = window_stats(geo.along, geo.water, at, COUNT_WINDOW_KM)
    noise = np.sqrt(d2)
    is_det = np.isin(sid, list(det_ids))
    keep = (np.isfinite(along_x) & (n20 >= acfg.overpass_min_soundings)) | is_det
    if not keep.any():
        return None
    sel = np.flatnonzero(keep)
    p = dict(site=site, sid=sid, along_x=along_x, down_x=down_x, he=he, hn=hn, first=first, last=last, wu=wu,
             wv=wv, n20=n20, psurf=psurf, tcwv=tcwv, noise=noise, at=at, is_det=is_det, water=water)
    p = {k: v[sel] for k, v in p.items()}
    p["cross_lat"], p["cross_lon"] = geo.position_at(p["at"])
    p["t_ns"] = np.interp(p["at"], geo.along, geo.time_ns).astype("int64")
    p.update(track=track, geo=geo, dets=dets)
    return p


def _forced_part(p: dict, cache, cfg: Config) -> None:
    """Forced measurement at the predicted crossings of one track (``p`` from :func:`_crossing_part`,
    with ``inventory_kg_s``), and what the upper limit and the detection statistic need; adds to ``p``."""
    qcfg, dcfg = cfg.quantify, cfg.detect
    geo, site, wu, wv, he, hn = p["geo"], p["site"], p["wu"], p["wv"], p["he"], p["hn"]
    down_x, at, noise = p["down_x"], p["at"], p["noise"]
    speed = np.fmax(np.hypot(wu, wv), qcfg.min_wind_m_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        sin_raw = np.abs((wu * hn - wv * he) / np.hypot(wu, wv))
    sin_t = np.fmax(np.nan_to_num(sin_raw, nan=1.0), np.sin(np.radians(qcfg.min_wind_track_angle_deg)))
    stab = physics.pg_stability_class(speed)
    sig_perp = np.fmax(np.hypot(physics.sigma_y_m(np.nan_to_num(down_x, nan=1.0), stab) / 1e3,
                                cache.rep_sigma0_km[site]), dcfg.min_sigma_km)   # area sources are wider
    sig_al = sig_perp / sin_t
    width = forcedfit.template_width_km(sig_al, down_x, sin_t, qcfg.wind_dir_unc_deg)
    # wind within min_wind_track_angle_deg of the track: the plume runs along the track, its
    # near-source end is cut off and one crossing is no cross-section: not measured (geometry only)
    width[np.nan_to_num(sin_raw, nan=1.0) < np.sin(np.radians(qcfg.min_wind_track_angle_deg))] = np.nan
    pos_unc = np.sqrt(np.fmax(np.nan_to_num(width, nan=0.0) ** 2 - sig_al ** 2, 0.0))
    rho = np.fmax(p["n20"], 1) / (2 * COUNT_WINDOW_KM)           # soundings per km near the crossing
    white_sig_al = noise * np.sqrt(2 * sig_al * np.sqrt(np.pi) / rho)   # white-noise 1-sigma [ppm km]
    cen, wid = forcedfit.scan_positions(at, np.minimum(sig_al, forcedfit.MAX_WIDTH_KM), pos_unc)
    k = len(cen)
    wfit = np.nan_to_num(width, nan=1.0)
    area, emp = geo.null_lookup(np.concatenate([cen, at]), np.concatenate([wid, wfit]))   # one lookup
    with np.errstate(invalid="ignore", divide="ignore"):
        templates = PlumeTemplates(geo.lat, geo.lon, cache.rep_lat[site], cache.rep_lon[site],
                                   wu / np.hypot(wu, wv), wv / np.hypot(wu, wv),
                                   physics.pg_coefficient_m(stab), cache.rep_sigma0_km[site],
                                   sin_t, qcfg.wind_dir_unc_deg)
    fit = forcedfit.forced_fit(geo.along, geo.xco2, noise, at, width, emp[k:], p["inventory_kg_s"],
                               templates=templates)
    p["z_scan"], p["narrow"] = forcedfit.scan_significance(area[:k], emp[:k], white_sig_al, len(at))
    p["to_kg_s"] = line_density_per_ppm_km(p["psurf"], p["tcwv"]) * speed * sin_t
    p["q_forced"], p["q_stat"] = fit.area_ppm_km * p["to_kg_s"], fit.area_unc_ppm_km * p["to_kg_s"]
    p["area"], p["area_unc"], p["blended_with"] = fit.area_ppm_km, fit.area_unc_ppm_km, _blends(p["sid"], fit.group)
    p["sin_raw"], p["sin_t"] = sin_raw, sin_t
    # per track, not over the stacked file: direction_spread's quadrature is a matrix product whose
    # last bits depend on the array's shape (BLAS), and the outputs must not depend on the batching
    angle = np.arcsin(np.clip(np.nan_to_num(sin_raw, nan=1.0), 0.0, 1.0))
    p["dir_rel"] = direction_spread(angle, np.radians(qcfg.wind_dir_unc_deg)) / sin_t
    p["detection_id"], p["axis_offset_km"] = _detection_links(p["sid"], p["is_det"], p["dets"])
    order = np.argsort(np.array([f"{x}-{p['track'].instrument}-{p['track'].orbit}" for x in p["sid"]],
                                dtype=object), kind="stable")
    for key, v in list(p.items()):
        if isinstance(v, np.ndarray) and len(v) == len(order):
            p[key] = v[order]


def _detection_links(sid: np.ndarray, is_det: np.ndarray, dets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """detection_id ('' if none) and the detection's axis offset [km] (0 if none) per overpass."""
    det_id = np.full(len(sid), "", dtype=object)
    offset = np.zeros(len(sid))
    if is_det.any():
        d = dets.assign(source_id=clean_ids(dets["source_id"])).set_index("source_id")
        rows = np.flatnonzero(is_det)
        m = d.loc[sid[rows]]
        if "detection_id" in m:
            det_id[rows] = m["detection_id"].astype(str).to_numpy()
        offset[rows] = column(m, "source_axis_offset_km", np.nan)
    return det_id, offset


def _overpass_table(parts: list[dict], cfg: Config) -> pd.DataFrame:
    """tables.OVERPASS_COLUMNS rows of all tracks' measured crossings, built once."""
    qcfg, acfg = cfg.quantify, cfg.attribute

    def cat(key):
        return np.concatenate([p[key] for p in parts])
    n = [len(p["sid"]) for p in parts]
    instrument = np.repeat(np.array([p["track"].instrument for p in parts], dtype=object), n)
    orbit = np.repeat(np.array([int(p["track"].orbit) for p in parts], dtype=np.int64), n)
    sid = cat("sid")
    first, last = cat("first"), cat("last")
    geo_lat0 = np.concatenate([p["geo"].bin_lat[p["first"]] for p in parts])
    geo_lon0 = np.concatenate([p["geo"].bin_lon[p["first"]] for p in parts])
    geo_lat1 = np.concatenate([p["geo"].bin_lat[p["last"]] for p in parts])
    geo_lon1 = np.concatenate([p["geo"].bin_lon[p["last"]] for p in parts])
    del first, last
    sin_raw, sin_t, to_kg_s, narrow = cat("sin_raw"), cat("sin_t"), cat("to_kg_s"), cat("narrow")
    q_forced, q_stat, inv = cat("q_forced"), cat("q_stat"), cat("inventory_kg_s")
    parallel = np.nan_to_num(sin_raw, nan=1.0) < np.sin(np.radians(qcfg.min_wind_track_angle_deg))
    out = pd.DataFrame({
        "overpass_id": [f"{x}-{i}-{o}" for x, i, o in zip(sid, instrument, orbit)],
        "source_id": sid, "instrument": instrument, "orbit": orbit,
        "time_utc": pd.to_datetime(cat("t_ns"), utc=True),
        "downwind_km": cat("down_x"), "axis_offset_km": cat("axis_offset_km"),
        "cross_latitude": cat("cross_lat"), "cross_longitude": cat("cross_lon"),
        "track_lat0": geo_lat0, "track_lon0": geo_lon0, "track_lat1": geo_lat1, "track_lon1": geo_lon1,
        "wind_u_m_s": cat("wu"), "wind_v_m_s": cat("wv"), "n_soundings": cat("n20").astype(int),
        "noise_ppm": cat("noise"), "detected": False, "detection_id": cat("detection_id"),
        "emission_kg_s": q_forced, "emission_unc_kg_s": np.nan, "upper_limit_kg_s": np.nan,
        "inventory_kg_s": inv, "ratio": np.nan, "ratio_unc": np.nan,
        "significance": cat("z_scan"), "blended_with": cat("blended_with"),
        "emission_stat_unc_kg_s": q_stat, "area_ppm_km": cat("area"), "area_unc_ppm_km": cat("area_unc"),
        "flag_parallel_wind": parallel, "flag_water": np.nan_to_num(cat("water"), nan=0.0) > 0.5,
    })
    unc = forcedfit.emission_unc_kg_s(q_stat, inv, qcfg.wind_speed_rel_unc, qcfg.turbulence_rel_unc,
                                      cat("dir_rel"))
    out["emission_unc_kg_s"] = unc
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = inv / (narrow * to_kg_s)      # the inventory's signal in units of the scan's noise
    # upper limit: a plume of the expected width at the predicted crossing would have shown this much
    upper = np.fmax(np.nan_to_num(q_forced, nan=0.0), 0.0) + acfg.upper_limit_sigma * narrow * to_kg_s
    out["expected_significance"] = expected
    detected = (out["significance"].to_numpy(float) >= acfg.targeted_min_significance) \
        & (expected >= acfg.targeted_min_expected_snr) & (np.nan_to_num(q_forced, nan=-1.0) > 0)
    out["detected"] = detected
    with np.errstate(invalid="ignore", divide="ignore"):
        good = np.isfinite(inv) & (inv > 0)
        out["ratio"] = np.where(good, q_forced / np.where(good, inv, 1), np.nan)
        out["ratio_unc"] = np.where(good, unc / np.where(good, inv, 1), np.nan)
    out["upper_limit_kg_s"] = np.where(detected, np.nan, upper)
    return out[tables.OVERPASS_COLUMNS]


def _blends(source_ids: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For each row, the other source ids fitted jointly with it ("a|b"), or ""."""
    out = np.full(len(source_ids), "", dtype=object)
    for g in np.unique(group[group >= 0]):
        rows = np.flatnonzero(group == g)
        if len(rows) > 1:
            for r in rows:
                out[r] = "|".join(str(source_ids[o]) for o in rows if o != r)
    return out
