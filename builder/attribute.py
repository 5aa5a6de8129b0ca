"""Attribution of detections to inventory sources, overpasses (detections and
non-detections with upper limits) and candidate new sources.

Geometry (all in a local east/north frame around each source,
:func:`builder.physics.local_enu_km`): the plume axis is the half-line from the
source along the file wind. A detection at offset ``d`` from a source has

    downwind_km = d . w,   axis_offset_km = |d x w|      (w = wind unit vector)

and the source is a *candidate* when ``-max_upwind_km <= downwind_km <= reach_km``
and ``axis_offset_km <= axis_tolerance_km + downwind_km * tan(angle)`` with
``angle = max(angle_unc_deg, atan(2 * 1 m/s / |u|))`` (the cone widens with
distance because the wind direction is uncertain, more so in weak wind;
cf. the upwind-cone attribution of the batch7 prototype built with
F. Chevallier's guidance, and Zheng et al. 2020, ACP 20, 8501, who place
the plume where the wind carries it from inventory locations).

Ranking score in (0, 1], higher is better, a Gaussian pseudo-likelihood::

    score = exp(-0.5 * (z_axis**2 + z_time**2 + z_flux**2 + z_width**2))
    z_axis = 2 * axis_offset_km / tolerance_km   (the cone is a ~2-sigma gate)
    z_time = travel_h / TRAVEL_SCALE_H,      travel_h = downwind_km / (3.6 * |u|)
    z_flux = ln(Q_obs / Q_inv) / ln(FLUX_FACTOR_1SIGMA)
    z_width = ln(sigma_fit / sigma_exp) / hypot(ln(WIDTH_FACTOR_1SIGMA), sigma_unc / sigma_fit)

``sigma_exp`` is the along-track plume width expected at that distance:
hypot(sigma_y(x) / sin(wind, track), FOOTPRINT_SIGMA_KM) with the
Pasquill-Gifford sigma_y of physics.sigma_y_m (Martin 1976; Nassar et al.
2017), so a narrow plume favours a near source and a wide one a far source.

``Q_obs`` is the observed along-track area A converted with the normal wind,
Q = A * L1 * u_perp (L1 = physics.line_density_kg_m(1 ppm km), u_perp floored
at 0.34 |u| i.e. a 20 deg wind-track angle, and at 0.5 m/s; the detection's
emission_kg_s when A is missing); ``Q_inv`` the source's inventory at the
detection time. Equivalently z_flux compares the observed area with the
expected one A_exp = Q_inv / (u_perp * L1). A source whose expected
enhancement is below ``min_flux_fraction`` of the observed one cannot explain
the plume and is not a candidate (so tiny sources do not hide new ones). A
detection whose best candidate scores below ``min_score`` stays unattributed
(its candidates are still listed in ``alternatives``).

Co-located sources (closer than ``site_km``, e.g. the units of one plant) are
one *site* (:class:`Sites`): geometry uses its largest unit, which names it
(source_id), and ``Q_inv``/inventory_kg_s is the sum over its units
(``site_source_ids`` lists them), since one plume cannot be split between them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from builder import overpass, physics, tables
from builder.config import Attribute, Config
from builder.quantify import direction_spread
from builder.soundings import InputError, Track

#: Travel time [h] counted as one "sigma" in the score: wind fields decorrelate over hours.
TRAVEL_SCALE_H = 3.0
#: Factor between observed and inventory emission counted as one "sigma" (hourly inventory
#: profiles, wind-speed errors of ~25-50 % and CSF errors of 30-60 % per overpass, science-notes 5.4).
FLUX_FACTOR_1SIGMA = 3.0
#: Factor between fitted and expected along-track plume width counted as one "sigma" (0: unused).
WIDTH_FACTOR_1SIGMA = 2.0
#: Along-track smoothing [km] of a plume by footprints and frames, added in quadrature.
FOOTPRINT_SIGMA_KM = 1.5
#: Standard surface pressure [hPa] used when a detection/track has none.
P_STD_HPA = 1013.25
#: Half-width [km] of the along-track window for the wind at an axis crossing.
WIND_WINDOW_KM = 10.0
#: Half-width [km] of the window counting good soundings around a crossing (also the psurf mean).
COUNT_WINDOW_KM = 20.0
#: Half-width [km] of the window for the local noise estimate (successive differences).
NOISE_WINDOW_KM = 50.0
#: Plume widths [km] at which the empirical matched-filter error is computed (log-interpolated).
NULL_SIGMAS_KM = (2.0, 4.0, 8.0, 16.0, 32.0)
#: Half-width [km] of the along-track stretch whose matched-filter scatter gives that error.
NULL_WINDOW_KM = 200.0
#: Fit centres (1 km apart) needed within that stretch.
NULL_MIN_CENTRES = 60
#: Along-track bin size [km] of the track geometry used for crossings.
BIN_KM = 2.0
#: 1-sigma vector error [m/s] of a reanalysis 10 m wind; sets the cone in weak wind.
WIND_VECTOR_ERR_M_S = 1.0
#: The cone never opens wider than this half-angle [deg].
MAX_CONE_DEG = 70.0
#: At most this many alternatives are listed per detection.
MAX_ALTERNATIVES = 5

#: Added columns: the contract's (minus gp_*) plus site_source_ids ("id|id": the co-located
#: sources whose summed inventory is inventory_kg_s, representative first).
_ATTR_OUT = [c for c in tables.ATTRIBUTION_COLUMNS if not c.startswith("gp_")] + ["site_source_ids"]
_NEEDED = ("latitude", "longitude", "wind_u_m_s", "wind_v_m_s", "time_utc")


# --------------------------------------------------------------------------- helpers

def _xyz(lat, lon) -> np.ndarray:
    """Unit vectors on the sphere, shape (n, 3)."""
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _latlon(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = xyz / np.linalg.norm(xyz, axis=-1, keepdims=True)
    return np.degrees(np.arcsin(np.clip(n[..., 2], -1, 1))), np.degrees(np.arctan2(n[..., 1], n[..., 0]))


def _chord(km: float) -> float:
    """Chord length on the unit sphere of a great-circle distance [km]."""
    return 2.0 * np.sin(min(km, np.pi * physics.EARTH_RADIUS_KM) / (2.0 * physics.EARTH_RADIUS_KM))


def _col(df: pd.DataFrame, name: str, default=np.nan) -> np.ndarray:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").to_numpy(float)
    return np.full(len(df), default, dtype=float)


def _times(values) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(values), utc=True, errors="coerce"))


def _ids(series: pd.Series) -> pd.Series:
    """Source ids as clean strings ('' for missing)."""
    return series.fillna("").astype(str).replace({"nan": "", "None": ""})


def inventory_at(sources: pd.DataFrame, times, emission_kg_s: Callable, round_min: float = 0.0) -> np.ndarray:
    """Inventory emission [kg/s] of row i of ``sources`` at ``times[i]``.

    ``emission_kg_s(sources_df, time_utc)`` is called once per distinct time
    (optionally rounded to ``round_min`` minutes), never once per source.
    """
    n = len(sources)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    t = _times(times)
    if round_min > 0:
        t = t.round(f"{int(round_min)}min")
    codes, uniq = pd.factorize(t)
    for k, tk in enumerate(uniq):
        rows = np.flatnonzero(codes == k)
        vals = np.asarray(emission_kg_s(sources.iloc[rows], tk), dtype=float).reshape(-1)
        if len(vals) != len(rows):
            raise ValueError(f"emission_kg_s returned {len(vals)} values for {len(rows)} sources")
        out[rows] = vals
    return out


def _usable_sources(sources: pd.DataFrame) -> pd.DataFrame:
    if sources is None or len(sources) == 0:
        return pd.DataFrame(columns=tables.SOURCE_COLUMNS)
    for c in ("source_id", "latitude", "longitude"):
        if c not in sources.columns:
            raise InputError("sources", f"missing column {c!r}")
    lat, lon = _col(sources, "latitude"), _col(sources, "longitude")
    # sources without a position cannot be attributed (the inventory stage reports them)
    return sources.loc[np.isfinite(lat) & np.isfinite(lon)].reset_index(drop=True)


class Sites:
    """Sources closer than ``site_km`` (chained) form one site, e.g. the units of a plant:
    a satellite plume cannot separate them. The site's representative is its largest
    annual emitter (ties: first in the table); its inventory is the members' sum."""

    def __init__(self, sources: pd.DataFrame, site_km: float):
        n = len(sources)
        self.sources = sources
        if n == 0:
            self.labels = np.zeros(0, dtype=int)
        else:
            pairs = cKDTree(_xyz(_col(sources, "latitude"), _col(sources, "longitude"))).query_pairs(
                _chord(site_km), output_type="ndarray") if site_km > 0 else np.zeros((0, 2), dtype=int)
            if len(pairs):
                graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
                self.labels = connected_components(graph, directed=False)[1]
            else:
                self.labels = np.arange(n)
        emis = np.nan_to_num(_col(sources, "emission_t_yr"), nan=0.0)
        self.annual_t_yr = np.bincount(self.labels, weights=emis) if n else np.zeros(0)
        # members sorted by site, then largest emission first, then table order
        self.order = np.lexsort((np.arange(n), -emis, self.labels)) if n else np.zeros(0, dtype=int)
        lab_sorted = self.labels[self.order]
        first = np.flatnonzero(np.r_[True, lab_sorted[1:] != lab_sorted[:-1]]) if n else np.zeros(0, dtype=int)
        self.rep = np.empty(len(first), dtype=int)        # site label -> representative row
        self.rep[lab_sorted[first]] = self.order[first]
        self.counts = np.bincount(self.labels) if n else np.zeros(0, dtype=int)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]) if n else np.zeros(0, dtype=int)

    def members(self, site: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(k, row): for each k-th requested site, every member row."""
        site = np.asarray(site, dtype=int)
        c = self.counts[site]
        k = np.repeat(np.arange(len(site)), c)
        offs = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
        return k, self.order[np.repeat(self.starts[site], c) + offs]

    def inventory(self, site: np.ndarray, times, emission_kg_s: Callable, round_min: float = 0.0) -> np.ndarray:
        """Summed inventory [kg/s] of each requested site at the matching time."""
        k, rows = self.members(site)
        t = pd.DatetimeIndex(_times(times))
        vals = inventory_at(self.sources.iloc[rows], t[k], emission_kg_s, round_min)
        out = np.bincount(k, weights=np.nan_to_num(vals), minlength=len(site))
        bad = np.bincount(k, weights=~np.isfinite(vals), minlength=len(site)) > 0
        return np.where(bad, np.nan, out)

    def member_ids(self, site: np.ndarray) -> np.ndarray:
        """'id|id|...' of each requested site's members (representative first)."""
        k, rows = self.members(site)
        sid = _ids(self.sources["source_id"]).to_numpy()
        rep_first = rows != self.rep[np.asarray(site, dtype=int)][k]
        df = pd.DataFrame({"k": k, "r": rep_first, "sid": sid[rows]}).sort_values(["k", "r", "sid"], kind="stable")
        joined = df.groupby("k")["sid"].agg("|".join)
        out = np.full(len(site), "", dtype=object)
        out[joined.index.to_numpy()] = joined.to_numpy()
        return out


_STR_COLUMNS = {"overpass_id", "source_id", "instrument", "detection_id", "candidate_id", "detection_ids"}
_INT_COLUMNS = {"orbit", "n_soundings", "n_detections", "n_orbits", "n_overpasses"}


def typed_empty(columns: list[str]) -> pd.DataFrame:
    """An empty table whose columns have the dtypes of a filled one (so concatenation keeps them)."""
    def series(c):
        if c in _STR_COLUMNS:
            return pd.Series(dtype=object)
        if c in _INT_COLUMNS:
            return pd.Series(dtype="int64")
        if c == "detected":
            return pd.Series(dtype=bool)
        if c.startswith("time_utc") or c.endswith("_time_utc"):
            return pd.Series(dtype="datetime64[ns, UTC]")
        return pd.Series(dtype=float)
    return pd.DataFrame({c: series(c) for c in columns})


def _empty_attribution(out: pd.DataFrame) -> pd.DataFrame:
    for c in _ATTR_OUT:
        if c in ("source_id", "source_name", "alternatives", "site_source_ids"):
            out[c] = pd.Series([""] * len(out), index=out.index, dtype=object)
        elif c == "n_candidates":
            out[c] = pd.Series(np.zeros(len(out), dtype=int), index=out.index)
        else:
            out[c] = pd.Series(np.full(len(out), np.nan), index=out.index)
    return out


def cone_half_angle_rad(speed_m_s, cfg: Attribute) -> np.ndarray:
    """Half-angle of the upwind cone: ``angle_unc_deg``, widened in weak wind where a
    vector error of WIND_VECTOR_ERR_M_S (2 sigma) turns the direction by atan(2 e / |u|),
    capped at MAX_CONE_DEG."""
    with np.errstate(divide="ignore", invalid="ignore"):
        weak = np.arctan(2.0 * WIND_VECTOR_ERR_M_S / np.asarray(speed_m_s, dtype=float))
    return np.clip(np.fmax(np.radians(cfg.angle_unc_deg), np.nan_to_num(weak, nan=0.0)), 0.0,
                   np.radians(MAX_CONE_DEG))


def _line_density_per_ppm_km(psurf_hpa, tcwv_kg_m2) -> np.ndarray:
    p = np.where(np.isfinite(psurf_hpa), psurf_hpa, P_STD_HPA)
    w = np.where(np.isfinite(tcwv_kg_m2), tcwv_kg_m2, 0.0)
    return physics.line_density_kg_m(1.0, p, w)


# --------------------------------------------------------------------------- attribute

def candidate_pairs(detections: pd.DataFrame, sources: pd.DataFrame, emission_kg_s: Callable,
                    cfg: Attribute, sites: Sites | None = None) -> pd.DataFrame:
    """All (detection row, site) pairs passing the upwind-cone test, with their score.

    Geometry uses each site's representative. Columns: det (row position), src
    (representative's row position in ``sources``), site, distance_km,
    downwind_km, axis_offset_km, tolerance_km, inventory_kg_s (site sum), score.
    """
    cols = ["det", "src", "site", "distance_km", "downwind_km", "axis_offset_km", "tolerance_km", "inventory_kg_s",
            "score"]
    if len(detections) == 0 or len(sources) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    sites = sites if sites is not None else Sites(sources, cfg.site_km)
    dlat, dlon = _col(detections, "latitude"), _col(detections, "longitude")
    ok = np.isfinite(dlat) & np.isfinite(dlon)
    slat, slon = _col(sources, "latitude"), _col(sources, "longitude")
    det_rows = np.flatnonzero(ok)
    if not len(det_rows):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    dtree = cKDTree(_xyz(dlat[ok], dlon[ok]))
    stree = cKDTree(_xyz(slat[sites.rep], slon[sites.rep]))
    sp = dtree.sparse_distance_matrix(stree, _chord(cfg.reach_km), output_type="ndarray")
    i, site = det_rows[sp["i"]], sp["j"].astype(int)
    j = sites.rep[site]
    east, north = physics.local_enu_km(dlat[i], dlon[i], slat[j], slon[j])  # detection relative to source
    dist = physics.haversine_km(slat[j], slon[j], dlat[i], dlon[i])
    u, v = _col(detections, "wind_u_m_s")[i], _col(detections, "wind_v_m_s")[i]
    speed = np.hypot(u, v)
    calm = ~(speed >= cfg.calm_wind_m_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        wx, wy = u / speed, v / speed
    downwind = np.where(calm, np.nan, east * wx + north * wy)
    offset = np.where(calm, dist, np.abs(east * wy - north * wx))
    tol = cfg.axis_tolerance_km + np.clip(np.nan_to_num(downwind), 0, None) * np.tan(cone_half_angle_rad(speed, cfg))
    geo = np.where(calm, dist <= cfg.axis_tolerance_km,
                   (downwind >= -cfg.max_upwind_km) & (downwind <= cfg.reach_km) & (offset <= tol)
                   & (dist <= cfg.reach_km))
    i, j, site, dist, downwind, offset, tol, speed, calm = (
        a[geo] for a in (i, j, site, dist, downwind, offset, tol, speed, calm))

    inv = sites.inventory(site, detections["time_utc"].to_numpy()[i], emission_kg_s)
    # observed emission: area x line density x (floored) normal wind, else quantify's emission
    q_obs = _col(detections, "emission_kg_s")[i]
    area = _col(detections, "area_ppm_km")[i]
    u_perp = _col(detections, "wind_normal_m_s")[i]
    az = np.radians(_col(detections, "track_azimuth_deg")[i])
    du, dv = _col(detections, "wind_u_m_s")[i], _col(detections, "wind_v_m_s")[i]
    u_perp = np.where(np.isfinite(u_perp), np.abs(u_perp), np.abs(du * np.cos(az) - dv * np.sin(az)))
    u_perp = np.fmax(u_perp, np.fmax(0.342 * speed, 0.5))  # wind within 20 deg of the track: floor
    l1 = _line_density_per_ppm_km(_col(detections, "psurf_hpa")[i], _col(detections, "tcwv_kg_m2")[i])
    q_area = area * l1 * u_perp  # floored normal wind: robust where the wind is near the track
    q_obs = np.where(np.isfinite(q_area) & (q_area > 0), q_area, q_obs)
    have_obs = np.isfinite(q_obs) & (q_obs > 0)
    have_inv = np.isfinite(inv)  # unknown (e.g. no time): no flux term; known zero: cannot explain a plume
    inv_pos = np.where(have_inv & (inv > 0), inv, 1e-9)
    explain = ~have_obs | ~have_inv | (inv_pos >= cfg.min_flux_fraction * np.where(have_obs, q_obs, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        z_flux = np.where(have_obs & have_inv, np.log(q_obs / inv_pos) / np.log(FLUX_FACTOR_1SIGMA), 0.0)
        travel_h = np.clip(np.nan_to_num(downwind), 0, None) / (3.6 * np.fmax(speed, 0.1))
    z_time = np.where(calm, 0.0, travel_h / TRAVEL_SCALE_H)
    z_axis = np.where(calm, dist / cfg.axis_tolerance_km, 2.0 * offset / tol)  # the gate is ~2 sigma
    # plume width: the along-track width expected at this distance (Pasquill-Gifford sigma_y,
    # Martin 1976, over the sine of the wind-track angle, footprint smoothing added) vs the fit
    sig_obs = _col(detections, "sigma_km")[i]
    sin_t = np.clip(np.abs(np.sin(np.arctan2(du, dv) - az)), np.sin(np.radians(20.0)), 1.0)
    sin_t = np.where(np.isfinite(sin_t), sin_t, 1.0)
    sig_y = physics.sigma_y_m(np.clip(np.nan_to_num(downwind, nan=1.0), 0.1, None),
                              physics.pg_stability_class(np.nan_to_num(speed, nan=3.0))) / 1e3
    sig_exp = np.hypot(sig_y / sin_t, FOOTPRINT_SIGMA_KM)
    rel_unc = np.nan_to_num(_col(detections, "sigma_unc_km")[i] / sig_obs, nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_width = np.log(sig_obs / sig_exp) / np.hypot(np.log(max(WIDTH_FACTOR_1SIGMA, 1.0 + 1e-9)), rel_unc)
    z_width = np.where(np.isfinite(z_width) & ~calm & (WIDTH_FACTOR_1SIGMA > 1), z_width, 0.0)
    score = np.exp(-0.5 * (z_axis ** 2 + z_time ** 2 + z_flux ** 2 + z_width ** 2))
    keep = explain
    return pd.DataFrame({"det": i[keep], "src": j[keep], "site": site[keep], "distance_km": dist[keep],
                         "downwind_km": downwind[keep],
                         "axis_offset_km": offset[keep], "tolerance_km": tol[keep], "inventory_kg_s": inv[keep],
                         "score": score[keep]})


def attribute(detections: pd.DataFrame, sources: pd.DataFrame, emission_kg_s: Callable,
              cfg: Attribute) -> pd.DataFrame:
    """Add tables.ATTRIBUTION_COLUMNS (except gp_*) to ``detections``.

    The best-scoring upwind source (see module docstring) goes into source_id,
    source_name, source_*_km, attribution_score and inventory_kg_s (its inventory
    at the detection time); the others into ``alternatives`` ("id:score|...",
    best first). Unattributed rows get '' and NaN. Rows without a position or
    wind stay unattributed.
    """
    if detections is None:
        detections = pd.DataFrame(columns=tables.DETECTION_FIT_COLUMNS + tables.QUANTIFY_COLUMNS)
    missing = [c for c in _NEEDED if c not in detections.columns]
    if missing:
        raise InputError("detections", f"missing column(s) {', '.join(missing)} needed for attribution")
    out = _empty_attribution(detections.copy())
    prepared = _overpass_sources(sources, cfg.site_km)  # usable sources + sites, once per table
    src, sites = prepared.src, prepared.sites
    pairs = candidate_pairs(detections, src, emission_kg_s, cfg, sites)
    if pairs.empty:
        return out
    pairs = pairs.sort_values(["det", "score", "distance_km"], ascending=[True, False, True], kind="stable")
    sid = _ids(src["source_id"]).to_numpy()
    names = src["name"].fillna("").astype(str).to_numpy() if "name" in src.columns else np.full(len(src), "")
    pairs["sid"] = sid[pairs["src"].to_numpy()]
    rank = pairs.groupby("det").cumcount().to_numpy()
    # a best match scoring below min_score is too unlikely: the detection stays unattributed
    # (and may become a candidate new source); its weak candidates are still listed
    top = pairs["score"].groupby(pairs["det"]).transform("max").to_numpy()
    attributed = top >= cfg.min_score
    best = pairs.loc[(rank == 0) & attributed]
    rows = best["det"].to_numpy()
    idx = out.index[rows]
    out.loc[idx, "source_id"] = best["sid"].to_numpy()
    out.loc[idx, "source_name"] = names[best["src"].to_numpy()]
    out.loc[idx, "source_distance_km"] = best["distance_km"].to_numpy()
    out.loc[idx, "source_downwind_km"] = best["downwind_km"].to_numpy()
    out.loc[idx, "source_axis_offset_km"] = best["axis_offset_km"].to_numpy()
    out.loc[idx, "attribution_score"] = best["score"].to_numpy()
    out.loc[idx, "inventory_kg_s"] = best["inventory_kg_s"].to_numpy()
    out.loc[idx, "site_source_ids"] = sites.member_ids(best["site"].to_numpy())
    counts = pairs.groupby("det").size()
    out.loc[out.index[counts.index.to_numpy()], "n_candidates"] = counts.to_numpy()
    alt = pairs.loc[np.where(attributed, (rank > 0) & (rank <= MAX_ALTERNATIVES), rank < MAX_ALTERNATIVES)]
    if len(alt):
        text = alt["sid"] + ":" + alt["score"].map(lambda s: f"{s:.3g}")
        joined = text.groupby(alt["det"]).agg("|".join)
        out.loc[out.index[joined.index.to_numpy()], "alternatives"] = joined.to_numpy()
    return out


# --------------------------------------------------------------------------- overpasses

def _window_stats(along: np.ndarray, values: np.ndarray, centres: np.ndarray, half_km: float):
    """Mean of the finite ``values`` of soundings within +-half_km of each centre, and their count."""
    fin = np.isfinite(values)
    csum = np.concatenate([[0.0], np.cumsum(np.where(fin, values, 0.0))])
    ccnt = np.concatenate([[0], np.cumsum(fin)])
    lo = np.searchsorted(along, centres - half_km, side="left")
    hi = np.searchsorted(along, centres + half_km, side="right")
    n = ccnt[hi] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, (csum[hi] - csum[lo]) / np.maximum(n, 1), np.nan)
    return mean, hi - lo, n


class _TrackGeometry:
    """Along-track bins (BIN_KM) of one track: swath-centre position and sounding statistics."""

    def __init__(self, track: Track):
        s = track.soundings
        along = s["along_km"].to_numpy(float)
        if not np.all(along[1:] >= along[:-1]):   # usually sorted already: no copy
            s = s.iloc[np.argsort(along, kind="stable")]
        self.along = s["along_km"].to_numpy(float)
        self.u = s["wind_u_m_s"].to_numpy(float)
        self.v = s["wind_v_m_s"].to_numpy(float)
        self.psurf = s["psurf_hpa"].to_numpy(float) if "psurf_hpa" in s else np.full(len(s), np.nan)
        self.tcwv = s["tcwv_kg_m2"].to_numpy(float) if "tcwv_kg_m2" in s else np.full(len(s), np.nan)
        self.time_ns = _times(s["time_utc"]).asi8.astype(float)
        x = s["xco2_ppm"].to_numpy(float)
        # local noise from successive differences (removes background and smooth plume signal)
        d2 = np.full(len(x), np.nan)
        if len(x) > 1:
            close = np.diff(self.along) <= 5.0
            d2[1:] = np.where(close, np.diff(x) ** 2 / 2.0, np.nan)
        self.d2 = d2
        a0 = self.along[0]
        b = ((self.along - a0) // BIN_KM).astype(int)
        nb = int(b[-1]) + 1
        cnt = np.bincount(b, minlength=nb)
        xyz = _xyz(s["latitude"].to_numpy(float), s["longitude"].to_numpy(float))
        centres = a0 + (np.arange(nb) + 0.5) * BIN_KM
        full = cnt > 0
        bxyz = np.column_stack([np.bincount(b, xyz[:, k], minlength=nb)[full] / cnt[full] for k in range(3)])
        xyz_all = np.column_stack([np.interp(centres, centres[full], bxyz[:, k]) for k in range(3)])
        self.bin_along = centres
        self.bin_xyz = xyz_all / np.linalg.norm(xyz_all, axis=1, keepdims=True)
        self.bin_lat, self.bin_lon = _latlon(self.bin_xyz)
        self.tree = cKDTree(self.bin_xyz)
        self._x = x
        self.xco2 = x
        lw = s["land_water"].to_numpy(float) if "land_water" in s else np.zeros(len(s))
        self.water = (lw == 1).astype(float)
        self._null: dict = {}
        self._null_area: dict = {}
        self._bins = None
        self._spec: dict[int, dict] = {}

    def _binned(self):
        """(k, n, cnt, sy): soundings binned on the 1-km grid of _null_area_sigma (any width)."""
        if self._bins is None:
            a0 = self.along[0]
            k = np.round(self.along - a0).astype(int)
            n = int(k[-1]) + 1
            y = self._x - np.nanmedian(self._x)
            fin = np.isfinite(y)
            cnt = np.bincount(k[fin], minlength=n).astype(float)
            sy = np.bincount(k[fin], weights=y[fin], minlength=n)
            self._bins = (k, n, cnt, sy)
        return self._bins

    def _null_area_sigma(self, sigma_km: float, need: np.ndarray | None = None) -> np.ndarray:
        """Robust local scatter [ppm km] of the matched-filter area on a 1-km grid.

        At every grid centre c the model y = b + m (s - c) + A g(s - c), g the unit-area
        Gaussian of width ``sigma_km``, is fitted by least squares over +-max(50, 4 sigma) km;
        all normal-equation sums are convolutions of the binned soundings, so the whole
        track costs a few FFTs. The spread of A over centres within +-NULL_WINDOW_KM
        (1.4826 x median absolute deviation, so plumes barely matter) is the empirical
        1-sigma of A there, correlated errors included.

        With ``need`` (grid indices), only those entries are computed (the others are
        NaN): the fits and medians are evaluated within +-2 NULL_WINDOW_KM of them only,
        which gives exactly the values of the whole-track computation there.
        """
        key = sigma_km if need is None else (sigma_km, need.tobytes())
        if key in self._null:
            return self._null[key]
        from scipy import fft as sfft

        _, n, cnt, sy = self._binned()
        half = int(max(50.0, 4.0 * sigma_km))
        o = np.arange(-half, half + 1, dtype=float)
        g = np.exp(-0.5 * (o / sigma_km) ** 2) / (sigma_km * np.sqrt(2 * np.pi))

        nfft = sfft.next_fast_len(n + len(o) - 1)
        if nfft not in self._spec:   # data spectra: the same for every width
            self._spec[nfft] = sfft.rfft(np.stack([cnt, sy]), nfft, axis=-1)
        spec_cnt, spec_y = self._spec[nfft]
        # correlations sum_j a[c + o_j] kern(o_j), centred ("same" length), as one batch
        # of FFTs (the same transforms, row by row, as one call per kernel)
        kern = np.stack([np.ones_like(o), o, o * o, g, o * g, g * g, (np.abs(o) <= sigma_km).astype(float)])
        ks = sfft.rfft(np.ascontiguousarray(kern[:, ::-1]), nfft, axis=-1)
        prod = np.concatenate([spec_cnt[None, :] * ks, spec_y[None, :] * ks[[0, 1, 3]]])
        full = sfft.irfft(prod, nfft, axis=-1)[:, half:half + n]
        sw, sx, sxx, sg, sxg, sgg, core, s_y, sxy, sgy = full
        ok = (sw >= 50) & (core >= 3)
        win = 2 * int(NULL_WINDOW_KM) + 1
        if need is not None:
            # centres whose area enters the median or the MAD at a needed index
            reach = 2 * int(NULL_WINDOW_KM)
            mark = np.zeros(n + 1, int)
            np.add.at(mark, np.clip(need - reach, 0, n), 1)
            np.add.at(mark, np.clip(need + reach + 1, 0, n), -1)
            region = np.cumsum(mark[:n]) > 0
            ok &= region
        area = np.full(n, np.nan)
        if ok.any():
            mat = np.stack([np.stack([sw[ok], sx[ok], sg[ok]], -1), np.stack([sx[ok], sxx[ok], sxg[ok]], -1),
                            np.stack([sg[ok], sxg[ok], sgg[ok]], -1)], -2)
            rhs = np.stack([s_y[ok], sxy[ok], sgy[ok]], -1)
            det = np.linalg.det(mat)
            good = np.abs(det) > 1e-9 * np.abs(sw[ok] * sxx[ok] * sgg[ok])
            sol = np.full((int(ok.sum()), 3), np.nan)
            sol[good] = np.linalg.solve(mat[good], rhs[good][..., None])[..., 0]
            area[ok] = sol[:, 2]

        def robust(a):
            ser = pd.Series(a)
            med = ser.rolling(win, center=True, min_periods=NULL_MIN_CENTRES).median()
            mad = (ser - med).abs().rolling(win, center=True, min_periods=NULL_MIN_CENTRES).median()
            return 1.4826 * mad.to_numpy()
        if need is None:
            out = robust(area)
        else:
            out = np.full(n, np.nan)
            # each run of the region holds every window that the needed indices depend on:
            # the rolling median on the run, then the MAD at the needed indices only (the
            # median of the same values as pandas' rolling median, so the same number)
            med = np.full(n, np.nan)
            edges = np.flatnonzero(np.diff(np.r_[0, region.astype(np.int8), 0]))
            for a, b in zip(edges[0::2], edges[1::2]):
                med[a:b] = pd.Series(area[a:b]).rolling(win, center=True,
                                                         min_periods=NULL_MIN_CENTRES).median().to_numpy()
            dev = np.abs(area - med)
            dev[~np.isfinite(dev)] = np.nan
            mad = np.full(n, np.nan)
            for a, b in zip(edges[0::2], edges[1::2]):   # the rolling MAD on each run, as for the whole track
                mad[a:b] = pd.Series(dev[a:b]).rolling(win, center=True,
                                                       min_periods=NULL_MIN_CENTRES).median().to_numpy()
            out[need] = 1.4826 * mad[need]
        self._null[key] = out
        self._null_area[key] = area
        return out

    def area_sigma(self, along_km: np.ndarray, sigma_km: np.ndarray) -> np.ndarray:
        """Empirical 1-sigma [ppm km] of a Gaussian area of width ``sigma_km`` at ``along_km``
        (log-interpolated between NULL_SIGMAS_KM); NaN where the track is too sparse."""
        return self.null_lookup(along_km, sigma_km)[1]

    def null_lookup(self, along_km: np.ndarray, sigma_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(area A [ppm km], its empirical 1-sigma) of the grid fit of a Gaussian of width
        ``sigma_km`` centred at ``along_km`` (the nearest 1-km grid centre), interpolated
        between NULL_SIGMAS_KM (linearly in log width; the sigma in log)."""
        along_km, sigma_km = np.asarray(along_km, float), np.asarray(sigma_km, float)
        nan = np.full(len(along_km), np.nan)
        if len(along_km) == 0 or len(self.along) < 2:
            return nan, nan.copy()
        grid = np.array(NULL_SIGMAS_KM)
        idx = np.clip(np.round(np.nan_to_num(along_km - self.along[0])).astype(int), 0, None)
        ls = np.clip(np.log(np.nan_to_num(sigma_km, nan=grid[0])), np.log(grid[0]), np.log(grid[-1]))
        pos = np.interp(ls, np.log(grid), np.arange(len(grid)))
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, len(grid) - 1)
        f = pos - lo
        sig_t = np.full((len(along_km), len(grid)), np.nan)
        area_t = np.full((len(along_km), len(grid)), np.nan)
        n = self._binned()[1]
        pos_idx = np.clip(idx, 0, n - 1)
        for g in np.union1d(lo, hi):  # only the widths needed
            used = (lo == g) | (hi == g)   # only the positions that use this width
            need = np.unique(pos_idx[used])
            sig_t[:, g] = self._null_area_sigma(float(grid[g]), need)[pos_idx]
            area_t[:, g] = self._null_area[float(grid[g]), need.tobytes()][pos_idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            sig_t = np.log(sig_t)
        rows = np.arange(len(along_km))
        area = area_t[rows, lo] * (1 - f) + area_t[rows, hi] * f
        return area, np.exp(sig_t[rows, lo] * (1 - f) + sig_t[rows, hi] * f)

    def wind_at(self, along_km: np.ndarray):
        u, _, nu = _window_stats(self.along, self.u, along_km, WIND_WINDOW_KM)
        v, _, _ = _window_stats(self.along, self.v, along_km, WIND_WINDOW_KM)
        # fall back to a wider window where the narrow one has no wind
        u2, _, _ = _window_stats(self.along, self.u, along_km, NOISE_WINDOW_KM)
        v2, _, _ = _window_stats(self.along, self.v, along_km, NOISE_WINDOW_KM)
        return np.where(nu > 0, u, u2), np.where(nu > 0, v, v2)

    def position_at(self, along_km: np.ndarray):
        xyz = np.column_stack([np.interp(along_km, self.bin_along, self.bin_xyz[:, k]) for k in range(3)])
        return _latlon(xyz)


def _crossings(geo: _TrackGeometry, c: np.ndarray, slat, slon, wu, wv, reach_km: float, min_down_km: float):
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


class _OverpassSources:
    """What :func:`find_overpasses` needs from a source table and ``site_km``, computed
    once per table (it depends on nothing else): the usable sources, their sites,
    clean ids, the member -> representative map and the representatives' positions."""

    def __init__(self, sources: pd.DataFrame, site_km: float):
        self.src = _usable_sources(sources)
        self.sites = sites = Sites(self.src, site_km)
        self.sid_all = _ids(self.src["source_id"]).to_numpy() if len(self.src) else np.zeros(0, dtype=object)
        # detections name the site representative; map any member id to it
        rep_of = pd.Series(self.sid_all[sites.rep[sites.labels]], index=self.sid_all)
        self.rep_of = rep_of[~rep_of.index.duplicated()]
        self.rep_ids = self.sid_all[sites.rep]
        lat, lon = _col(self.src, "latitude"), _col(self.src, "longitude")
        self.rep_lat, self.rep_lon = lat[sites.rep], lon[sites.rep]
        self.rep_xyz = _xyz(self.rep_lat, self.rep_lon)
        kind = self.src["kind"].fillna("").astype(str).to_numpy() if "kind" in self.src else np.full(len(self.src), "")
        self.rep_sigma0_km = physics.initial_width_km(kind, _col(self.src, "emission_t_yr"))[sites.rep]


#: id(sources) -> (weakref to sources, site_km, signature, _OverpassSources); see _overpass_sources.
_OVERPASS_SOURCES: dict[int, tuple] = {}


def _sources_signature(sources: pd.DataFrame) -> tuple:
    """Cheap fingerprint of the columns the cache depends on, so a table edited in place
    is not served stale data (positions, emissions and ids are compared exactly)."""
    cols = tuple(sources.columns)
    parts = [len(sources), cols]
    for c in ("latitude", "longitude", "emission_t_yr"):
        parts.append(_col(sources, c).tobytes() if c in sources.columns else None)
    if "source_id" in sources.columns:
        parts.append(tuple(sources["source_id"].tolist()))
    return tuple(parts)


def _overpass_sources(sources: pd.DataFrame, site_km: float) -> _OverpassSources:
    """:class:`_OverpassSources` of ``sources``, cached per table object (weakly: the entry
    goes with the table) and checked against an in-place edit of the table."""
    import weakref

    if sources is None or len(sources) == 0:
        return _OverpassSources(sources, site_km)
    key = id(sources)
    sig = _sources_signature(sources)
    hit = _OVERPASS_SOURCES.get(key)
    if hit is not None and hit[0]() is sources and hit[1] == site_km and hit[2] == sig:
        return hit[3]
    value = _OverpassSources(sources, site_km)
    try:
        ref = weakref.ref(sources, lambda _r, k=key: _OVERPASS_SOURCES.pop(k, None))
    except TypeError:   # not weak-referenceable: do not cache
        return value
    _OVERPASS_SOURCES[key] = (ref, site_km, sig, value)
    return value


_EMPTY_OVERPASSES: list[pd.DataFrame] = []


def _empty_overpasses() -> pd.DataFrame:
    """A fresh empty overpass table (typed_empty is slow; copy a template)."""
    if not _EMPTY_OVERPASSES:
        _EMPTY_OVERPASSES.append(typed_empty(tables.OVERPASS_COLUMNS))
    return _EMPTY_OVERPASSES[0].copy()


def find_overpasses(track: Track, detections: pd.DataFrame, sources: pd.DataFrame, emission_kg_s: Callable,
                    cfg: Config) -> pd.DataFrame:
    """Every source whose plume axis this track crosses within reach, detected or not.

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
    _TrackGeometry._null_area_sigma) when that is larger, which on simulated
    OCO-2 data is 1.5-3x the white-noise value. Then
    Q_ul = upper_limit_sigma * sigma_A * L1 * u_perp
    with L1 = physics.line_density_kg_m(1 ppm km) and u_perp the normal wind
    (wind speed floored at quantify.min_wind_m_s, angle at
    quantify.min_wind_track_angle_deg).
    """
    acfg = cfg.attribute
    s = track.soundings
    if s is None or len(s) < 2:
        return _empty_overpasses()
    cache = _overpass_sources(sources, acfg.site_km)
    src, sites = cache.src, cache.sites
    if len(src) == 0:
        return _empty_overpasses()
    dets = detections if detections is not None else pd.DataFrame()
    if len(dets) and "source_id" in dets.columns:
        same = np.ones(len(dets), bool)
        if "orbit" in dets.columns:
            same &= pd.to_numeric(dets["orbit"], errors="coerce").to_numpy() == track.orbit
        if "instrument" in dets.columns:
            same &= dets["instrument"].astype(str).to_numpy() == track.instrument
        dets = dets.loc[same & (_ids(dets["source_id"]) != "").to_numpy()]
        if "attribution_score" in dets.columns:
            dets = dets.sort_values("attribution_score", ascending=False, kind="stable")
        dets = dets.drop_duplicates("source_id")
    else:
        dets = pd.DataFrame(columns=["source_id"])
    rep_of = cache.rep_of
    if len(dets):
        dets = dets.assign(source_id=_ids(dets["source_id"]).map(rep_of).fillna(_ids(dets["source_id"])))
        dets = dets.drop_duplicates("source_id")
    det_ids = set(_ids(dets["source_id"]))
    rep_ids = cache.rep_ids
    cand = (sites.annual_t_yr >= acfg.overpass_min_mt_yr * 1e6) | np.isin(rep_ids, list(det_ids))
    site = np.flatnonzero(cand)
    if len(site) == 0:
        return _empty_overpasses()
    geo = _TrackGeometry(track)
    # cheap bounding-box prefilter (unit-vector coordinates) before the nearest-bin query
    reach = _chord(acfg.reach_km)
    pts = cache.rep_xyz[site]
    inbox = np.all((pts >= geo.bin_xyz.min(axis=0) - reach) & (pts <= geo.bin_xyz.max(axis=0) + reach), axis=1)
    site, pts = site[inbox], pts[inbox]
    slat, slon = cache.rep_lat[site], cache.rep_lon[site]
    dist, c = geo.tree.query(pts, distance_upper_bound=reach)
    near = np.isfinite(dist)
    site, slat, slon, c = site[near], slat[near], slon[near], c[near]
    if len(site) == 0:
        return _empty_overpasses()
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
    _, _, n20 = _window_stats(geo.along, np.zeros(len(geo.along)), at, COUNT_WINDOW_KM)
    psurf, _, _ = _window_stats(geo.along, geo.psurf, at, COUNT_WINDOW_KM)
    tcwv, _, _ = _window_stats(geo.along, geo.tcwv, at, COUNT_WINDOW_KM)
    d2, _, _ = _window_stats(geo.along, geo.d2, at, NOISE_WINDOW_KM)
    water, _, _ = _window_stats(geo.along, geo.water, at, COUNT_WINDOW_KM)
    noise = np.sqrt(d2)
    is_det = np.isin(sid, list(det_ids))
    keep = (np.isfinite(along_x) & (n20 >= acfg.overpass_min_soundings)) | is_det
    if not keep.any():
        return _empty_overpasses()
    sel = np.flatnonzero(keep)
    (site, sid, along_x, down_x, he, hn, first, last, wu, wv, n20, psurf, tcwv, noise, at, is_det, water) = (
        a[sel] for a in (site, sid, along_x, down_x, he, hn, first, last, wu, wv, n20, psurf, tcwv, noise, at, is_det,
                         water))
    cross_lat, cross_lon = geo.position_at(at)
    t_ns = np.interp(at, geo.along, geo.time_ns)
    times = pd.to_datetime(t_ns.astype("int64"), utc=True)

    # forced measurement at the predicted crossing (builder.overpass), and the upper limit
    qcfg, dcfg = cfg.quantify, cfg.detect
    speed = np.fmax(np.hypot(wu, wv), qcfg.min_wind_m_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        sin_raw = np.abs((wu * hn - wv * he) / np.hypot(wu, wv))
    sin_t = np.fmax(np.nan_to_num(sin_raw, nan=1.0), np.sin(np.radians(qcfg.min_wind_track_angle_deg)))
    stab = physics.pg_stability_class(speed)
    sig_perp = np.fmax(np.hypot(physics.sigma_y_m(np.nan_to_num(down_x, nan=1.0), stab) / 1e3,
                                cache.rep_sigma0_km[site]), dcfg.min_sigma_km)   # area sources are wider
    sig_al = sig_perp / sin_t
    width = overpass.template_width_km(sig_al, down_x, sin_t, qcfg.wind_dir_unc_deg)
    pos_unc = np.sqrt(np.fmax(np.nan_to_num(width, nan=0.0) ** 2 - sig_al ** 2, 0.0))
    rho = np.fmax(n20, 1) / (2 * COUNT_WINDOW_KM)           # soundings per km near the crossing

    def white(w):   # white-noise 1-sigma of a Gaussian area of width w [ppm km]
        return noise * np.sqrt(2 * w * np.sqrt(np.pi) / rho)
    cen, wid = overpass.scan_positions(at, np.minimum(sig_al, overpass.MAX_WIDTH_KM), pos_unc)
    k = len(cen)
    wfit = np.nan_to_num(width, nan=1.0)
    area, emp = geo.null_lookup(np.concatenate([cen, at]), np.concatenate([wid, wfit]))   # one lookup
    inv = sites.inventory(site, times, emission_kg_s, round_min=10)
    fit = overpass.forced_fit(geo.along, geo.xco2, noise, at, width, emp[k:], inv)
    z_scan, narrow = overpass.scan_significance(area[:k], emp[:k], white(sig_al), len(at))
    l1 = _line_density_per_ppm_km(psurf, tcwv)
    to_kg_s = l1 * speed * sin_t
    q_forced, q_stat = fit.area_ppm_km * to_kg_s, fit.area_unc_ppm_km * to_kg_s

    out = pd.DataFrame({
        "overpass_id": [f"{x}-{track.instrument}-{track.orbit}" for x in sid],
        "source_id": sid, "instrument": track.instrument, "orbit": int(track.orbit), "time_utc": times,
        "downwind_km": down_x, "axis_offset_km": 0.0, "cross_latitude": cross_lat, "cross_longitude": cross_lon,
        "track_lat0": geo.bin_lat[first], "track_lon0": geo.bin_lon[first],
        "track_lat1": geo.bin_lat[last], "track_lon1": geo.bin_lon[last],
        "wind_u_m_s": wu, "wind_v_m_s": wv, "n_soundings": n20.astype(int), "noise_ppm": noise,
        "detected": False, "detection_id": "",
        "emission_kg_s": q_forced, "emission_unc_kg_s": np.nan, "upper_limit_kg_s": np.nan,
        "inventory_kg_s": inv, "ratio": np.nan, "ratio_unc": np.nan,
        "significance": z_scan, "blended_with": _blends(sid, fit.group),
        "emission_stat_unc_kg_s": q_stat,
        "flag_parallel_wind": np.nan_to_num(sin_raw, nan=1.0) < np.sin(np.radians(qcfg.min_wind_track_angle_deg)),
        "flag_water": np.nan_to_num(water, nan=0.0) > 0.5,
    })
    if is_det.any():
        d = dets.assign(source_id=_ids(dets["source_id"])).set_index("source_id")
        rows = np.flatnonzero(is_det)
        m = d.loc[sid[rows]]
        def get(name, default=np.nan):
            return _col(m, name, default)
        out.loc[rows, "detection_id"] = m["detection_id"].astype(str).to_numpy() if "detection_id" in m else ""
        out.loc[rows, "axis_offset_km"] = get("source_axis_offset_km")
    out["time_utc"] = pd.to_datetime(out["time_utc"], utc=True)
    ref = out["inventory_kg_s"].to_numpy(float)
    angle = np.arcsin(np.clip(np.nan_to_num(sin_raw, nan=1.0), 0.0, 1.0))
    dir_rel = direction_spread(angle, np.radians(qcfg.wind_dir_unc_deg)) / sin_t
    out["emission_unc_kg_s"] = overpass.emission_unc_kg_s(q_stat, ref, qcfg.wind_speed_rel_unc,
                                                          qcfg.turbulence_rel_unc, dir_rel)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = ref / (narrow * to_kg_s)      # the inventory's signal in units of the scan's noise
    # upper limit: a plume of the expected width at the predicted crossing would have shown this much
    out["upper_limit_kg_s"] = np.fmax(np.nan_to_num(q_forced, nan=0.0), 0.0) \
        + acfg.upper_limit_sigma * narrow * to_kg_s
    out["expected_significance"] = expected
    out["detected"] = (out["significance"].to_numpy(float) >= acfg.targeted_min_significance) \
        & (expected >= acfg.targeted_min_expected_snr) & (np.nan_to_num(q_forced, nan=-1.0) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        invv = out["inventory_kg_s"].to_numpy(float)
        good = np.isfinite(invv) & (invv > 0)
        out["ratio"] = np.where(good, out["emission_kg_s"].to_numpy(float) / np.where(good, invv, 1), np.nan)
        out["ratio_unc"] = np.where(good, out["emission_unc_kg_s"].to_numpy(float) / np.where(good, invv, 1), np.nan)
    out["upper_limit_kg_s"] = out["upper_limit_kg_s"].where(~out["detected"])
    return out[tables.OVERPASS_COLUMNS].sort_values("overpass_id", kind="stable").reset_index(drop=True)


def _blends(source_ids: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For each row, the other source ids fitted jointly with it ("a|b"), or ""."""
    out = np.full(len(source_ids), "", dtype=object)
    for g in np.unique(group[group >= 0]):
        rows = np.flatnonzero(group == g)
        if len(rows) > 1:
            for r in rows:
                out[r] = "|".join(str(source_ids[o]) for o in rows if o != r)
    return out


# --------------------------------------------------------------------------- candidates

def candidate_id(lat: float, lon: float) -> str:
    """Stable id from the rounded position, e.g. 'C+51.27+019.33'."""
    return f"C{lat:+06.2f}{lon:+07.2f}"


def find_candidates(detections_all: pd.DataFrame, cfg: Attribute) -> pd.DataFrame:
    """Recurrent unattributed detections = candidate new (or mislocated) sources.

    DBSCAN (haversine metric, eps = candidate_eps_km, min_samples = 2) on the
    unattributed detections; clusters seen on >= candidate_min_orbits distinct
    (instrument, orbit) pairs are kept. Position = normalised mean unit vector.
    """
    from sklearn.cluster import DBSCAN

    empty = typed_empty(tables.CANDIDATE_COLUMNS)
    if detections_all is None or len(detections_all) < 2:
        return empty
    d = detections_all
    sid = _ids(d["source_id"]) if "source_id" in d.columns else pd.Series("", index=d.index)
    lat, lon = _col(d, "latitude"), _col(d, "longitude")
    d = d.loc[(sid == "").to_numpy() & np.isfinite(lat) & np.isfinite(lon)].copy()
    if len(d) < 2:
        return empty
    lat, lon = _col(d, "latitude"), _col(d, "longitude")
    labels = DBSCAN(eps=cfg.candidate_eps_km / physics.EARTH_RADIUS_KM, min_samples=2, metric="haversine",
                    algorithm="ball_tree").fit_predict(np.radians(np.column_stack([lat, lon])))
    d["_label"] = labels
    d = d.loc[labels >= 0]
    if d.empty:
        return empty
    inst = d["instrument"].astype(str) if "instrument" in d.columns else pd.Series("", index=d.index)
    d["_orbit"] = inst + ":" + d["orbit"].astype(str) if "orbit" in d.columns else d.index.astype(str)
    xyz = _xyz(_col(d, "latitude"), _col(d, "longitude"))
    d["_x"], d["_y"], d["_z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    d["_t"] = _times(d["time_utc"]).to_numpy() if "time_utc" in d.columns else pd.NaT
    d["_e"] = _col(d, "emission_kg_s")
    d["_id"] = d["detection_id"].astype(str) if "detection_id" in d.columns else d.index.astype(str)
    g = d.sort_values("_t", kind="stable").groupby("_label")
    agg = pd.DataFrame({
        "n_detections": g.size(), "n_orbits": g["_orbit"].nunique(),
        "detection_ids": g["_id"].agg("|".join), "mean_emission_kg_s": g["_e"].mean(),
        "first_time_utc": g["_t"].min(), "last_time_utc": g["_t"].max(),
        "_x": g["_x"].mean(), "_y": g["_y"].mean(), "_z": g["_z"].mean(),
    })
    agg = agg.loc[agg["n_orbits"] >= cfg.candidate_min_orbits]
    if agg.empty:
        return empty
    clat, clon = _latlon(agg[["_x", "_y", "_z"]].to_numpy())
    agg["latitude"], agg["longitude"] = clat, clon
    ids = pd.Series([candidate_id(a, b) for a, b in zip(clat, clon)], index=agg.index)
    dup = ids.groupby(ids).cumcount()
    agg["candidate_id"] = np.where(dup > 0, ids + "-" + (dup + 1).astype(str), ids)
    agg["first_time_utc"] = pd.to_datetime(agg["first_time_utc"], utc=True)
    agg["last_time_utc"] = pd.to_datetime(agg["last_time_utc"], utc=True)
    out = agg[tables.CANDIDATE_COLUMNS].sort_values(["n_orbits", "n_detections", "candidate_id"],
                                                   ascending=[False, False, True], kind="stable")
    return out.reset_index(drop=True)
