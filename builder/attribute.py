"""Attribution of detections to inventory sources (candidate new sources:
builder.candidates; overpasses: builder.overpass).

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

from builder import physics, tables
from builder.config import Attribute
from builder.errors import InputError

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

def unit_xyz(lat, lon) -> np.ndarray:
    """Unit vectors on the sphere, shape (n, 3)."""
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def latlon_of(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = xyz / np.linalg.norm(xyz, axis=-1, keepdims=True)
    return np.degrees(np.arcsin(np.clip(n[..., 2], -1, 1))), np.degrees(np.arctan2(n[..., 1], n[..., 0]))


def chord(km: float) -> float:
    """Chord length on the unit sphere of a great-circle distance [km]."""
    return 2.0 * np.sin(min(km, np.pi * physics.EARTH_RADIUS_KM) / (2.0 * physics.EARTH_RADIUS_KM))


def column(df: pd.DataFrame, name: str, default=np.nan) -> np.ndarray:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").to_numpy(float)
    return np.full(len(df), default, dtype=float)


def as_times(values) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(values), utc=True, errors="coerce"))


def clean_ids(series: pd.Series) -> pd.Series:
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
    t = as_times(times)
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


def usable_sources(sources: pd.DataFrame) -> pd.DataFrame:
    if sources is None or len(sources) == 0:
        return pd.DataFrame(columns=tables.SOURCE_COLUMNS)
    for c in ("source_id", "latitude", "longitude"):
        if c not in sources.columns:
            raise InputError("sources", f"missing column {c!r}")
    lat, lon = column(sources, "latitude"), column(sources, "longitude")
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
            pairs = cKDTree(unit_xyz(column(sources, "latitude"), column(sources, "longitude"))).query_pairs(
                chord(site_km), output_type="ndarray") if site_km > 0 else np.zeros((0, 2), dtype=int)
            if len(pairs):
                graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
                self.labels = connected_components(graph, directed=False)[1]
            else:
                self.labels = np.arange(n)
        emis = np.nan_to_num(column(sources, "emission_t_yr"), nan=0.0)
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
        t = pd.DatetimeIndex(as_times(times))
        vals = inventory_at(self.sources.iloc[rows], t[k], emission_kg_s, round_min)
        out = np.bincount(k, weights=np.nan_to_num(vals), minlength=len(site))
        bad = np.bincount(k, weights=~np.isfinite(vals), minlength=len(site)) > 0
        return np.where(bad, np.nan, out)

    def member_ids(self, site: np.ndarray) -> np.ndarray:
        """'id|id|...' of each requested site's members (representative first)."""
        k, rows = self.members(site)
        sid = clean_ids(self.sources["source_id"]).to_numpy()
        rep_first = rows != self.rep[np.asarray(site, dtype=int)][k]
        df = pd.DataFrame({"k": k, "r": rep_first, "sid": sid[rows]}).sort_values(["k", "r", "sid"], kind="stable")
        joined = df.groupby("k")["sid"].agg("|".join)
        out = np.full(len(site), "", dtype=object)
        out[joined.index.to_numpy()] = joined.to_numpy()
        return out


_STR_COLUMNS = {"overpass_id", "source_id", "instrument", "detection_id", "candidate_id", "detection_ids",
                "nearest_source_ids", "nearest_source_km"}
_INT_COLUMNS = {"orbit", "n_soundings", "n_detections", "n_orbits", "n_overpasses", "n_days"}


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


def line_density_per_ppm_km(psurf_hpa, tcwv_kg_m2) -> np.ndarray:
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
    dlat, dlon = column(detections, "latitude"), column(detections, "longitude")
    ok = np.isfinite(dlat) & np.isfinite(dlon)
    slat, slon = column(sources, "latitude"), column(sources, "longitude")
    det_rows = np.flatnonzero(ok)
    if not len(det_rows):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    dtree = cKDTree(unit_xyz(dlat[ok], dlon[ok]))
    stree = cKDTree(unit_xyz(slat[sites.rep], slon[sites.rep]))
    sp = dtree.sparse_distance_matrix(stree, chord(cfg.reach_km), output_type="ndarray")
    i, site = det_rows[sp["i"]], sp["j"].astype(int)
    j = sites.rep[site]
    east, north = physics.local_enu_km(dlat[i], dlon[i], slat[j], slon[j])  # detection relative to source
    dist = physics.haversine_km(slat[j], slon[j], dlat[i], dlon[i])
    u, v = column(detections, "wind_u_m_s")[i], column(detections, "wind_v_m_s")[i]
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
    q_obs = column(detections, "emission_kg_s")[i]
    area = column(detections, "area_ppm_km")[i]
    u_perp = column(detections, "wind_normal_m_s")[i]
    az = np.radians(column(detections, "track_azimuth_deg")[i])
    du, dv = column(detections, "wind_u_m_s")[i], column(detections, "wind_v_m_s")[i]
    u_perp = np.where(np.isfinite(u_perp), np.abs(u_perp), np.abs(du * np.cos(az) - dv * np.sin(az)))
    u_perp = np.fmax(u_perp, np.fmax(0.342 * speed, 0.5))  # wind within 20 deg of the track: floor
    l1 = line_density_per_ppm_km(column(detections, "psurf_hpa")[i], column(detections, "tcwv_kg_m2")[i])
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
    sig_obs = column(detections, "sigma_km")[i]
    sin_t = np.clip(np.abs(np.sin(np.arctan2(du, dv) - az)), np.sin(np.radians(20.0)), 1.0)
    sin_t = np.where(np.isfinite(sin_t), sin_t, 1.0)
    sig_y = physics.sigma_y_m(np.clip(np.nan_to_num(downwind, nan=1.0), 0.1, None),
                              physics.pg_stability_class(np.nan_to_num(speed, nan=3.0))) / 1e3
    sig_exp = np.hypot(sig_y / sin_t, FOOTPRINT_SIGMA_KM)
    rel_unc = np.nan_to_num(column(detections, "sigma_unc_km")[i] / sig_obs, nan=0.0)
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
    prepared = prepared_sources(sources, cfg.site_km)  # usable sources + sites, once per table
    src, sites = prepared.src, prepared.sites
    pairs = candidate_pairs(detections, src, emission_kg_s, cfg, sites)
    if pairs.empty:
        return out
    pairs = pairs.sort_values(["det", "score", "distance_km"], ascending=[True, False, True], kind="stable")
    sid = clean_ids(src["source_id"]).to_numpy()
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


# --------------------------------------------------------------------------- prepared sources

class PreparedSources:
    """What attribution and builder.overpass.find_overpasses need from a source table and
    ``site_km``, computed once per table (it depends on nothing else): the usable sources, their sites,
    clean ids, the member -> representative map and the representatives' positions."""

    def __init__(self, sources: pd.DataFrame, site_km: float):
        self.src = usable_sources(sources)
        self.sites = sites = Sites(self.src, site_km)
        self.sid_all = clean_ids(self.src["source_id"]).to_numpy() if len(self.src) else np.zeros(0, dtype=object)
        # detections name the site representative; map any member id to it
        rep_of = pd.Series(self.sid_all[sites.rep[sites.labels]], index=self.sid_all)
        self.rep_of = rep_of[~rep_of.index.duplicated()]
        self.rep_ids = self.sid_all[sites.rep]
        lat, lon = column(self.src, "latitude"), column(self.src, "longitude")
        self.rep_lat, self.rep_lon = lat[sites.rep], lon[sites.rep]
        self.rep_xyz = unit_xyz(self.rep_lat, self.rep_lon)
        kind = self.src["kind"].fillna("").astype(str).to_numpy() if "kind" in self.src else np.full(len(self.src), "")
        self.rep_sigma0_km = physics.initial_width_km(kind, column(self.src, "emission_t_yr"),
                                                      column(self.src, "sigma_km"))[sites.rep]  # ODIAC: own extent


#: id(sources) -> (weakref to sources, site_km, signature, PreparedSources); see prepared_sources.
_PREPARED: dict[int, tuple] = {}


def _sources_signature(sources: pd.DataFrame) -> tuple:
    """Cheap fingerprint of the columns the cache depends on, so a table edited in place
    is not served stale data (positions, emissions and ids are compared exactly)."""
    cols = tuple(sources.columns)
    parts = [len(sources), cols]
    for c in ("latitude", "longitude", "emission_t_yr"):
        parts.append(column(sources, c).tobytes() if c in sources.columns else None)
    if "source_id" in sources.columns:
        parts.append(tuple(sources["source_id"].tolist()))
    return tuple(parts)


def prepared_sources(sources: pd.DataFrame, site_km: float) -> PreparedSources:
    """:class:`PreparedSources` of ``sources``, cached per table object (weakly: the entry
    goes with the table) and checked against an in-place edit of the table."""
    import weakref

    if sources is None or len(sources) == 0:
        return PreparedSources(sources, site_km)
    key = id(sources)
    sig = _sources_signature(sources)
    hit = _PREPARED.get(key)
    if hit is not None and hit[0]() is sources and hit[1] == site_km and hit[2] == sig:
        return hit[3]
    value = PreparedSources(sources, site_km)
    try:
        ref = weakref.ref(sources, lambda _r, k=key: _PREPARED.pop(k, None))
    except TypeError:   # not weak-referenceable: do not cache
        return value
    _PREPARED[key] = (ref, site_km, sig, value)
    return value
