"""Candidate new sources: recurrent unexplained anomalies, then measured at every overpass.

Flow (one-way): blind scan -> inventory overpasses -> attribution -> :func:`find_candidates`
(clustering of the unattributed anomalies) -> :func:`measure_candidates` (a second pass over
the input files: every overpass of each candidate, measured like an inventory source by
builder.overpass.measure_overpasses) -> :func:`summarise_candidates` (emission +- 1 sigma over all
those overpasses, builder.compare; nearest inventory sources).

A *seed* is a cluster (DBSCAN, haversine metric, eps = ``[attribute] candidate_eps_km``,
default 25 km; Ester et al. 1996) of unattributed blind-scan anomalies, one anomaly or more.
Its anomalies lie downwind of the emitter, a few km to a few tens of km: each is moved upwind
by the distance its fitted width implies (:func:`upwind_shift_km`), and the seed's position is
the normalised mean unit vector of the moved anomalies. Every seed is measured at every
overpass (below). A seed is a *candidate* when it recurs: a plume was seen there on at least
``candidate_min_orbits`` (default 2) different UTC days and orbits, counting its anomalies and
the targeted detections of its own overpasses (:func:`select_candidates`). The blind scan alone
sees 4 % of the crossings of 5-10 Mt/yr sources (docs/validation.md), so requiring two blind
anomalies finds almost nothing in a month; the forced measurement at a known position is the
more sensitive test of recurrence, and its false-detection rate is measured (<= 1 % of
plume-free crossings).

Measurement: each candidate is a pseudo-source (kind "candidate", a point source) at that
position. Its reference emission (the "inventory" of builder.overpass, which sets the relative
wind and turbulence error terms and the expected-signal test of a targeted detection) is the mean
emission of its anomalies, so ratio = observed/reference and emission_kg_s = ratio x reference is
the inverse-variance combination of builder.compare over every measured overpass, detected or
not. Inventory sites >= ``overpass_min_mt_yr`` within ``reach_km`` of a candidate (but farther
than ``site_km``) are measured alongside so that builder.forcedfit deblends their plumes; only the
candidates' rows are kept. Caveat: the anomalies that made a candidate are among its overpasses,
so the first estimate of a candidate seen on few overpasses is biased high (a selection effect).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from builder import physics, tables
from builder.attribute import as_times, clean_ids, column, latlon_of, typed_empty
from builder.config import Attribute, Config
from builder.physics import chord, unit_xyz

#: Inventory sources listed with each candidate (nearest first).
N_NEAREST = 3
#: The upwind distance estimated from an anomaly's width is clipped to this [km].
MAX_UPWIND_KM = 40.0


def upwind_shift_km(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) [km] from each anomaly to where its plume most likely started.

    The fitted along-track width, less the footprint smoothing
    (builder.attribute.FOOTPRINT_SIGMA_KM) and times the sine of the wind-track angle (floored at
    20 deg), is the plume's cross-wind sigma_y; inverting the Pasquill-Gifford law sigma_y = a x^0.894
    (Martin 1976; physics.sigma_y_m, stability from the file wind speed) gives the downwind distance
    x, clipped to [0, MAX_UPWIND_KM], and the source lies x upwind along the file wind.
    Without a wind or a width: no shift."""
    from builder.attribute import FOOTPRINT_SIGMA_KM

    u, v = column(d, "wind_u_m_s"), column(d, "wind_v_m_s")
    speed = np.hypot(u, v)
    sig = column(d, "sigma_km")
    az = np.radians(column(d, "track_azimuth_deg"))
    with np.errstate(invalid="ignore", divide="ignore"):
        sin_t = np.abs(np.sin(np.arctan2(u, v) - az))
        sin_t = np.clip(np.where(np.isfinite(sin_t), sin_t, 1.0), np.sin(np.radians(20.0)), 1.0)
        sig_y_m = np.sqrt(np.fmax(sig ** 2 - FOOTPRINT_SIGMA_KM ** 2, 0.0)) * sin_t * 1e3
        a = physics.sigma_y_m(1.0, physics.pg_stability_class(np.nan_to_num(speed, nan=3.0)))
        x = np.clip((sig_y_m / a) ** (1.0 / physics.PG_EXPONENT), 0.0, MAX_UPWIND_KM)
        ok = np.isfinite(x) & (speed > 0)
        east = np.where(ok, -x * u / speed, 0.0)
        north = np.where(ok, -x * v / speed, 0.0)
    return east, north


def candidate_id(lat: float, lon: float) -> str:
    """Stable id from the rounded position, e.g. 'C+51.27+019.33'."""
    return f"C{lat:+06.2f}{lon:+07.2f}"


def single_linkage_labels(lat_deg: np.ndarray, lon_deg: np.ndarray, eps_km: float) -> np.ndarray:
    """Labels of the groups of points chained by great-circle steps <= ``eps_km``: what
    sklearn's DBSCAN(min_samples=1, metric="haversine") returns (every point a core point;
    labels numbered in order of each group's first point), without importing scikit-learn
    (~1.3 s per process). Neighbours by the haversine "reduced distance" against
    sin^2(eps / 2 R), as sklearn's ball tree compares them; a k-d tree on unit vectors
    (chord, with a small margin) only proposes the pairs."""
    n = len(lat_deg)
    if n == 0:
        return np.zeros(0, dtype=int)
    eps = eps_km / physics.EARTH_RADIUS_KM
    la, lo = np.radians(np.asarray(lat_deg, float)), np.radians(np.asarray(lon_deg, float))
    pairs = cKDTree(unit_xyz(lat_deg, lon_deg)).query_pairs(2.0 * np.sin(min(eps, np.pi) / 2.0) * (1 + 1e-9) + 1e-12,
                                                           output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    rdist = np.sin(0.5 * (la[i] - la[j])) ** 2 + np.cos(la[i]) * np.cos(la[j]) * np.sin(0.5 * (lo[i] - lo[j])) ** 2
    keep = rdist <= np.sin(0.5 * eps) ** 2
    graph = coo_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def find_candidates(detections_all: pd.DataFrame, cfg: Attribute, min_days: int | None = None) -> pd.DataFrame:
    """Clusters of unattributed anomalies seen on >= ``min_days`` different days (default
    ``candidate_min_orbits``): with min_days=1 every unexplained anomaly is a *seed*.

    Columns: tables.CANDIDATE_COLUMNS; the measurement columns are NaN / "" until
    :func:`summarise_candidates`.
    """
    min_days = cfg.candidate_min_orbits if min_days is None else int(min_days)

    empty = typed_empty(tables.CANDIDATE_COLUMNS)
    if detections_all is None or len(detections_all) < 2:
        return empty
    d = detections_all
    sid = clean_ids(d["source_id"]) if "source_id" in d.columns else pd.Series("", index=d.index)
    lat, lon = column(d, "latitude"), column(d, "longitude")
    d = d.loc[(sid == "").to_numpy() & np.isfinite(lat) & np.isfinite(lon)].copy()
    if len(d) < 2:
        return empty
    lat, lon = column(d, "latitude"), column(d, "longitude")
    # min_samples=1: clusters are the single-linkage groups at eps (pairs and more are the clusters
    # of min_samples=2; singletons are seeds)
    labels = single_linkage_labels(lat, lon, cfg.candidate_eps_km)
    d["_label"] = labels
    d = d.loc[labels >= 0]
    if d.empty:
        return empty
    inst = d["instrument"].astype(str) if "instrument" in d.columns else pd.Series("", index=d.index)
    d["_orbit"] = inst + ":" + d["orbit"].astype(str) if "orbit" in d.columns else d.index.astype(str)
    # the seed's position: the mean of the anomalies moved upwind to their estimated origin
    lat, lon = column(d, "latitude"), column(d, "longitude")
    east, north = upwind_shift_km(d)
    lat_s = lat + north / 111.195
    lon_s = lon + east / (111.195 * np.cos(np.radians(lat)))
    xyz = unit_xyz(lat_s, lon_s)
    d["_x"], d["_y"], d["_z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    d["_t"] = as_times(d["time_utc"]).to_numpy() if "time_utc" in d.columns else pd.NaT
    d["_day"] = pd.DatetimeIndex(d["_t"]).floor("D")
    d["_e"] = column(d, "emission_kg_s")
    d["_id"] = d["detection_id"].astype(str) if "detection_id" in d.columns else d.index.astype(str)
    g = d.sort_values("_t", kind="stable").groupby("_label")
    agg = pd.DataFrame({
        "n_detections": g.size(), "n_orbits": g["_orbit"].nunique(), "n_days": g["_day"].nunique(),
        "detection_ids": g["_id"].agg("|".join), "mean_emission_kg_s": g["_e"].mean(),
        "first_time_utc": g["_t"].min(), "last_time_utc": g["_t"].max(),
        "_x": g["_x"].mean(), "_y": g["_y"].mean(), "_z": g["_z"].mean(),
    })
    agg = agg.loc[(agg["n_orbits"] >= min_days) & (agg["n_days"] >= min_days)]
    if agg.empty:
        return empty
    clat, clon = latlon_of(agg[["_x", "_y", "_z"]].to_numpy())
    agg["latitude"], agg["longitude"] = clat, clon
    ids = pd.Series([candidate_id(a, b) for a, b in zip(clat, clon)], index=agg.index)
    dup = ids.groupby(ids).cumcount()
    agg["candidate_id"] = np.where(dup > 0, ids + "-" + (dup + 1).astype(str), ids)
    agg["first_time_utc"] = pd.to_datetime(agg["first_time_utc"], utc=True)
    agg["last_time_utc"] = pd.to_datetime(agg["last_time_utc"], utc=True)
    for c in tables.CANDIDATE_COLUMNS:
        if c not in agg.columns:
            agg[c] = "" if c.startswith("nearest_") else np.nan
    out = agg[tables.CANDIDATE_COLUMNS].sort_values(["n_orbits", "n_detections", "candidate_id"],
                                                   ascending=[False, False, True], kind="stable")
    return out.reset_index(drop=True)


def select_candidates(seeds: pd.DataFrame, overpasses: pd.DataFrame, detections: pd.DataFrame, cfg: Attribute
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeds that recur: an anomaly (rows of ``detections``) or a targeted detection of the seed's
    own overpasses (builder.overpass at the seed's position) on >= ``candidate_min_orbits``
    different UTC days and orbits. Returns (candidates with n_orbits / n_days counting both,
    their overpass rows)."""
    if seeds is None or len(seeds) == 0:
        return seeds, overpasses
    ids = seeds["candidate_id"].astype(str)
    members = pd.DataFrame({"id": ids, "did": seeds["detection_ids"].fillna("").astype(str).str.split("|")}
                           ).explode("did")
    d = detections.assign(did=detections["detection_id"].astype(str)).drop_duplicates("did").set_index("did")
    members = members.loc[members["did"].isin(d.index)]
    dm = d.loc[members["did"]]
    frames = [pd.DataFrame({"id": members["id"].to_numpy(),
                            "orbit": (dm["instrument"].astype(str) + ":" + dm["orbit"].astype(str)).to_numpy(),
                            "day": as_times(dm["time_utc"]).strftime("%Y%m%d")})]
    if len(overpasses):
        o = overpasses.loc[overpasses["detected"].fillna(False).astype(bool)]
        frames.append(pd.DataFrame({"id": o["source_id"].astype(str).to_numpy(),
                                    "orbit": (o["instrument"].astype(str) + ":" + o["orbit"].astype(str)).to_numpy(),
                                    "day": as_times(o["time_utc"]).strftime("%Y%m%d")}))
    ev = pd.concat(frames, ignore_index=True)
    n_orbits = ev.groupby("id")["orbit"].nunique().reindex(ids).fillna(0).astype(int).to_numpy()
    n_days = ev.groupby("id")["day"].nunique().reindex(ids).fillna(0).astype(int).to_numpy()
    keep = (n_orbits >= cfg.candidate_min_orbits) & (n_days >= cfg.candidate_min_orbits)
    out = seeds.assign(n_orbits=n_orbits, n_days=n_days).loc[keep].reset_index(drop=True)
    kept = set(out["candidate_id"].astype(str))
    ovp = overpasses.loc[overpasses["source_id"].astype(str).isin(kept)].reset_index(drop=True) \
        if len(overpasses) else overpasses
    return out, ovp


# --------------------------------------------------------------------------- measurement

def pseudo_sources(candidates: pd.DataFrame, sources: pd.DataFrame, cfg: Attribute) -> pd.DataFrame:
    """The candidates as point sources (emission_t_yr = mean anomaly emission) plus the inventory
    sites >= overpass_min_mt_yr within reach_km of a candidate and farther than site_km from
    every candidate (measured alongside for deblending). Column ``is_candidate`` tells them apart."""
    q = np.nan_to_num(column(candidates, "mean_emission_kg_s"), nan=0.0)
    cand = pd.DataFrame({"source_id": candidates["candidate_id"].astype(str).to_numpy(), "name": "",
                         "kind": "candidate", "latitude": column(candidates, "latitude"),
                         "longitude": column(candidates, "longitude"),
                         "emission_t_yr": q * physics.SECONDS_PER_YEAR / 1000.0, "is_candidate": True})
    if sources is None or len(sources) == 0 or len(cand) == 0:
        return cand
    slat, slon = column(sources, "latitude"), column(sources, "longitude")
    ok = np.isfinite(slat) & np.isfinite(slon) & (column(sources, "emission_t_yr") >= cfg.overpass_min_mt_yr * 1e6)
    rows = np.flatnonzero(ok)
    tree = cKDTree(unit_xyz(cand["latitude"], cand["longitude"]))
    sxyz = unit_xyz(slat[rows], slon[rows])
    d_near, _ = tree.query(sxyz, distance_upper_bound=chord(cfg.reach_km))
    d_site, _ = tree.query(sxyz, distance_upper_bound=chord(cfg.site_km))
    keep = rows[np.isfinite(d_near) & ~np.isfinite(d_site)]
    neigh = sources.iloc[keep].assign(is_candidate=False)
    return pd.concat([cand, neigh], ignore_index=True)


def pseudo_emission(pseudo: pd.DataFrame, emission_kg_s: Callable) -> Callable:
    """Emission at a time of pseudo-source rows: the candidates' constant reference, the inventory's
    profile for the neighbouring inventory sources."""
    ref = pd.Series(pseudo["emission_t_yr"].to_numpy(float) * 1000.0 / physics.SECONDS_PER_YEAR,
                    index=pseudo["source_id"].astype(str).to_numpy())
    ref = ref[~ref.index.duplicated()]

    def emission(df: pd.DataFrame, time_utc) -> np.ndarray:
        is_c = df["is_candidate"].fillna(False).astype(bool).to_numpy() if "is_candidate" in df \
            else np.zeros(len(df), bool)
        out = np.zeros(len(df))
        if is_c.any():
            out[is_c] = ref.reindex(df["source_id"].astype(str).to_numpy()[is_c]).to_numpy(float)
        if (~is_c).any():
            out[~is_c] = np.asarray(emission_kg_s(df.loc[~is_c].drop(columns=["is_candidate"]), time_utc), float)
        return out
    return emission


def measure_file(path: str | Path, cfg: Config, pseudo: pd.DataFrame, emission: Callable) -> pd.DataFrame:
    """tables.OVERPASS_COLUMNS rows of the candidates in one input file (a bad file gives none:
    the first pass already reported it)."""
    from builder.errors import InputError
    from builder.overpass import measure_overpasses
    from builder.soundings import read_file

    empty = typed_empty(tables.OVERPASS_COLUMNS)
    try:
        tracks = read_file(Path(path), cfg.ingest)
    except InputError:
        return empty
    cfg2 = dataclasses.replace(cfg, attribute=dataclasses.replace(cfg.attribute, overpass_min_mt_yr=0.0))
    cand = pseudo.loc[pseudo["is_candidate"].astype(bool)]
    clat, clon = column(cand, "latitude"), column(cand, "longitude")
    pad_deg = cfg.attribute.reach_km / 111.0
    near = [t for t, box in zip(tracks, track_boxes(tracks))
            if np.isfinite(box).all() and near_box(box, clat, clon, pad_deg).any()]
    ovp = measure_overpasses(near, None, pseudo, emission, cfg2) if near else empty
    ovp = ovp.loc[ovp["source_id"].isin(set(cand["source_id"]))]
    return ovp.reset_index(drop=True) if len(ovp) else empty


def track_boxes(tracks) -> np.ndarray:
    """(lat_min, lat_max, lon_min, lon_max) of each track's soundings (NaN: fewer than 2)."""
    out = np.full((len(tracks), 4), np.nan)
    for k, track in enumerate(tracks):
        s = track.soundings
        if s is not None and len(s) >= 2:
            lat, lon = s["latitude"].to_numpy(float), s["longitude"].to_numpy(float)
            out[k] = lat.min(), lat.max(), lon.min(), lon.max()
    return out


def near_box(box: np.ndarray, clat: np.ndarray, clon: np.ndarray, pad_deg: float) -> np.ndarray:
    """Candidates within ``pad_deg`` (longitudes widened by latitude) of a track's box: the only
    ones the track can measure (cheap prefilter before builder.overpass)."""
    lat0, lat1, lon0, lon1 = box
    pad_lon = pad_deg / max(np.cos(np.radians(min(max(abs(lat0), abs(lat1)), 85.0))), 0.05)
    near = (clat >= lat0 - pad_deg) & (clat <= lat1 + pad_deg)
    dlon = (clon - lon0 + pad_lon) % 360.0
    near &= dlon <= (lon1 - lon0) + 2 * pad_lon if (lon1 - lon0) < 180 else True
    return near


def _reaches(boxes: np.ndarray, pseudo: pd.DataFrame, cfg: Config) -> bool:
    """Whether any track box of a file comes near a candidate (as in :func:`measure_file`)."""
    cand = pseudo.loc[pseudo["is_candidate"].astype(bool)]
    clat, clon = column(cand, "latitude"), column(cand, "longitude")
    pad = cfg.attribute.reach_km / 111.0
    return any(near_box(b, clat, clon, pad).any() for b in boxes if np.isfinite(b).all())


def measurement_key(file_key: str, pseudo: pd.DataFrame) -> str:
    """Cache key of one file's candidate measurement: the file's detection key (content, code,
    config, inventory) + this module's code + the pseudo-sources."""
    h = hashlib.sha256(file_key.encode())
    h.update(Path(__file__).read_bytes())
    cols = ["source_id", "latitude", "longitude", "emission_t_yr"]
    h.update(pd.util.hash_pandas_object(pseudo[cols], index=False).to_numpy().tobytes())
    return "cand-" + h.hexdigest()


def measure_candidates(candidates: pd.DataFrame, keys: dict[Path, str], sources: pd.DataFrame,
                       emission_kg_s: Callable, cfg: Config, cache=None, progress: bool | None = None,
                       boxes: dict | None = None, backend=None) -> pd.DataFrame:
    """Second pass: every overpass of every candidate (or seed), file by file (``keys``: input file ->
    its detection cache key), cached per file (a builder.pipeline.ResultCache) under a key that adds
    the pseudo-sources to the file's detection key. ``boxes`` (input file -> :func:`track_boxes` of
    its tracks, from the first pass) lets a file none of whose tracks comes near a candidate go
    unread: :func:`measure_file` would find nothing there either. ``backend`` (builder.backends;
    default in-process): where the files are measured, one task per file."""
    from builder.backends import InProcess
    from builder.pipeline import TRACK_SUMMARY_COLUMNS, FileResult
    from builder.tables import concat_tables, empty_table, sort_table

    if candidates is None or len(candidates) == 0:
        return empty_table(tables.OVERPASS_COLUMNS)
    pseudo = pseudo_sources(candidates, sources, cfg.attribute)
    emission = pseudo_emission(pseudo, emission_kg_s)
    frames, todo, order = {}, [], sorted(keys, key=lambda p: p.name)
    for path in order:
        key = measurement_key(keys[path], pseudo)
        hit = cache.get(key) if cache else None
        if hit is not None:
            frames[path] = hit.overpasses
        elif boxes is not None and boxes.get(path) is not None and not _reaches(boxes[path], pseudo, cfg):
            frames[path] = typed_empty(tables.OVERPASS_COLUMNS)    # no track near a seed: not read again
        else:
            todo.append(path)
    backend = backend if backend is not None else InProcess()
    for p, ovp in backend.map(measure_file, [str(p) for p in todo], cfg, pseudo, emission,
                              desc="candidate overpasses", progress=progress):
        path = Path(p)
        frames[path] = ovp
        if cache:
            cache.put(measurement_key(keys[path], pseudo), FileResult(
                file=path.name, detections=empty_table(tables.DETECTION_FIT_COLUMNS), profiles=empty_table(tables.PROFILE_COLUMNS),
                overpasses=ovp, tracks=empty_table(TRACK_SUMMARY_COLUMNS)))
    frames = [frames[p] for p in order]
    return sort_table(concat_tables(frames, tables.OVERPASS_COLUMNS), ["overpass_id"])


def summarise_candidates(candidates: pd.DataFrame, overpasses: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """``candidates`` with emission_kg_s +- emission_unc_kg_s (builder.compare over every measured
    overpass), n_overpasses / n_measured / n_detected and the N_NEAREST nearest inventory sources
    ("id|id", distances "km|km")."""
    from builder.compare import compare

    out = candidates.copy()
    if len(out) == 0:
        return out
    summ = compare(overpasses).set_index("source_id") if overpasses is not None and len(overpasses) else None
    ids = out["candidate_id"].astype(str)
    for dst, src in (("emission_kg_s", "observed_kg_s"), ("emission_unc_kg_s", "observed_unc_kg_s"),
                     ("n_overpasses", "n_overpasses"), ("n_measured", "n_measured"), ("n_detected", "n_detected")):
        vals = summ[src].reindex(ids).to_numpy(float) if summ is not None else np.full(len(out), np.nan)
        out[dst] = np.nan_to_num(vals, nan=0.0).astype(int) if dst.startswith("n_") else vals
    out["nearest_source_ids"], out["nearest_source_km"] = "", ""
    if sources is not None and len(sources):
        slat, slon = column(sources, "latitude"), column(sources, "longitude")
        ok = np.flatnonzero(np.isfinite(slat) & np.isfinite(slon))
        k = min(N_NEAREST, len(ok))
        if k:
            _, j = cKDTree(unit_xyz(slat[ok], slon[ok])).query(unit_xyz(out["latitude"], out["longitude"]), k=k)
            j = ok[np.asarray(j).reshape(len(out), k)]
            dist = physics.haversine_km(column(out, "latitude")[:, None], column(out, "longitude")[:, None],
                                        slat[j], slon[j])
            sid = clean_ids(sources["source_id"]).to_numpy()
            out["nearest_source_ids"] = ["|".join(sid[r]) for r in j]
            out["nearest_source_km"] = ["|".join(f"{x:.1f}" for x in r) for r in dist]
    return out[tables.CANDIDATE_COLUMNS]
