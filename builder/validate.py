"""Validation of a build against the simulator's truth: recall, false positives,
emission error, uncertainty coverage and attribution accuracy.

Inputs: ``truth_dir/truth.csv`` (one row per simulated plume crossing of a
track), ``truth_dir/tracks.csv`` (track_km per orbit) and
``detections_dir/detections.csv`` (the build's public detections table).

Matching rules (documented, used by every figure):

- A detection matches a truth crossing of the same instrument and orbit whose
  ``cross_latitude/cross_longitude`` lies within ``max(MATCH_KM, 2 *
  sigma_along_km)`` of it (the fitted centre of a wide plume may shift by
  up to ~2 sigma). Only crossings with a *meaningful* true peak
  (``peak_ppm >= MIN_PEAK_PPM``) can be matched: a 4-sigma along-track
  detection needs ~0.5 ppm at 0.7 ppm noise and sigma 5 km, so a detection on
  a 0.2 ppm plume is mostly noise. Each detection takes the nearest such
  crossing; a detection matching none is a false positive.
- A crossing is *observed* when ``n_soundings_20km >= min_soundings`` (the
  overpass rule of builder.attribute, ``[attribute] overpass_min_soundings``);
  recall counts observed crossings only, and a crossing is detected when at
  least one detection matched it.
- Emission error and 1-sigma coverage use, per detected crossing, the nearest
  matched detection, and only when it is attributed to the true source.
- Co-located sources (units of one plant) cannot be told apart by a plume:
  truth crossings of the same orbit within ``site_km`` of each other (and
  within ``site_km`` in downwind distance) are merged into one *site
  crossing* with the summed emission, like builder.attribute's sites. A
  detection names the right source when its source_id (or any of its
  site_source_ids) is one of the site's sources.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from builder import physics
from builder.errors import InputError
from builder.validate_candidates import candidate_lines, validate_candidates
from builder.validate_overpasses import meets as meets_overpasses
from builder.attribute import column
from builder.validate_overpasses import truthy, validate_overpasses

MATCH_KM = 15.0
MIN_PEAK_PPM = 0.2
DEFAULT_MIN_SOUNDINGS = 30
DEFAULT_SITE_KM = 2.0
EMISSION_BINS_MT_YR = [("<5", 0.0, 5.0), ("5-10", 5.0, 10.0), ("10-20", 10.0, 20.0), (">20", 20.0, math.inf)]
DOWNWIND_BINS_KM = [("0-10", -math.inf, 10.0), ("10-20", 10.0, 20.0), ("20-40", 20.0, 40.0), ("40-80", 40.0, 80.0),
                    (">80", 80.0, math.inf)]
HEADLINE = {"min_emission_mt_yr": 10.0, "max_downwind_km": 40.0, "min_wind_m_s": 2.0}
TARGETS = {"headline_recall": 0.90, "fp_per_1000km": 0.1, "median_abs_rel_err": 0.30,
           "inside_1sigma": (0.60, 0.75), "isolated_attribution": 0.95}

TRUTH_COLUMNS = ["crossing_id", "source_id", "orbit", "emission_kg_s", "wind_u_m_s", "wind_v_m_s",
                 "cross_latitude", "cross_longitude", "downwind_km", "peak_ppm", "sigma_along_km",
                 "n_soundings_20km", "isolated"]
DETECTION_COLUMNS = ["detection_id", "orbit", "latitude", "longitude", "emission_kg_s", "emission_unc_kg_s",
                     "source_id"]


class ValidationInputError(InputError, ValueError):
    """A truth/detections file is missing or malformed (one line: which file, why)."""


def _read(path: Path, required: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise ValidationInputError(path, "file not found")
    try:
        df = pd.read_csv(path, low_memory=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ValidationInputError(path, f"not a readable CSV ({type(exc).__name__}: {str(exc)[:100]})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValidationInputError(path, f"missing column(s) {', '.join(missing)}")
    return df


def _ids(series: pd.Series) -> np.ndarray:
    return series.fillna("").astype(str).replace({"nan": "", "None": ""}).to_numpy()


def _ratio(k: int, n: int):
    return (k / n) if n else None


def _clean(x):
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    return x


def _orbit_keys(truth: pd.DataFrame, other: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Join keys "instrument:orbit" (or "orbit" when either table lacks instruments) for
    the truth rows and the rows of ``other``; unreadable orbits never match (-1)."""
    key_t = truth["orbit"].astype("int64").astype(str)
    key_o = pd.to_numeric(other["orbit"], errors="coerce").fillna(-1).astype("int64").astype(str)
    if "instrument" in truth.columns and "instrument" in other.columns:
        key_t = truth["instrument"].astype(str) + ":" + key_t
        key_o = other["instrument"].astype(str) + ":" + key_o
    return key_t, key_o


def match(truth: pd.DataFrame, detections: pd.DataFrame) -> pd.DataFrame:
    """Nearest meaningful truth crossing for each detection (module rules).

    Returns one row per detection: det (row position), truth (row position or -1), distance_km.
    """
    n = len(detections)
    out = pd.DataFrame({"det": np.arange(n), "truth": -1, "distance_km": np.nan})
    if n == 0 or len(truth) == 0:
        return out
    key_t, key_d = _orbit_keys(truth, detections)
    t = pd.DataFrame({"key": key_t.to_numpy(), "truth": np.arange(len(truth))})
    t = t.loc[column(truth, "peak_ppm") >= MIN_PEAK_PPM]
    d = pd.DataFrame({"key": key_d.to_numpy(), "det": np.arange(n)})
    pairs = d.merge(t, on="key")
    if pairs.empty:
        return out
    i, j = pairs["det"].to_numpy(), pairs["truth"].to_numpy()
    dist = physics.haversine_km(column(detections, "latitude")[i], column(detections, "longitude")[i],
                                column(truth, "cross_latitude")[j], column(truth, "cross_longitude")[j])
    radius = np.fmax(MATCH_KM, 2.0 * np.nan_to_num(column(truth, "sigma_along_km")[j]))
    pairs["distance_km"] = dist
    pairs = pairs.loc[dist <= radius].sort_values(["det", "distance_km"], kind="stable").drop_duplicates("det")
    out.loc[pairs["det"].to_numpy(), "truth"] = pairs["truth"].to_numpy()
    out.loc[pairs["det"].to_numpy(), "distance_km"] = pairs["distance_km"].to_numpy()
    return out


def merge_sites(truth: pd.DataFrame, site_km: float) -> pd.DataFrame:
    """One row per site crossing (module rules); ``source_ids`` is a frozenset of member ids.

    Position, downwind, wind and time come from the largest member; emission,
    area and peak are summed; sigma and soundings are the members' maximum;
    a site is isolated when any member is.
    """
    t = truth.reset_index(drop=True)
    n = len(t)
    key = t["orbit"].astype(str)
    if "instrument" in t.columns:
        key = t["instrument"].astype(str) + ":" + key
    labels = np.arange(n)
    if n and site_km > 0:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial import cKDTree

        lat, lon = np.radians(column(t, "cross_latitude")), np.radians(column(t, "cross_longitude"))
        xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        ok = np.isfinite(xyz).all(axis=1)
        rows = np.flatnonzero(ok)
        pairs = cKDTree(xyz[ok]).query_pairs(2 * np.sin(site_km / (2 * physics.EARTH_RADIUS_KM)),
                                             output_type="ndarray") if len(rows) else np.zeros((0, 2), int)
        a, b = rows[pairs[:, 0]], rows[pairs[:, 1]]
        down = column(t, "downwind_km")
        same = (key.to_numpy()[a] == key.to_numpy()[b]) & (np.abs(down[a] - down[b]) <= site_km)
        if same.any():
            g = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
            labels = connected_components(g, directed=False)[1]
    t["_site"] = labels
    t["_e"] = column(t, "emission_kg_s")
    t["_iso"] = truthy(t["isolated"])
    lead = t.sort_values(["_site", "_e"], ascending=[True, False], kind="stable").drop_duplicates("_site")
    g = t.groupby("_site")
    out = lead.set_index("_site").copy()
    out["emission_kg_s"] = g["_e"].sum()
    out["peak_ppm"] = g["peak_ppm"].apply(lambda x: pd.to_numeric(x, errors="coerce").sum())
    out["sigma_along_km"] = g["sigma_along_km"].apply(lambda x: pd.to_numeric(x, errors="coerce").max())
    out["n_soundings_20km"] = g["n_soundings_20km"].apply(lambda x: pd.to_numeric(x, errors="coerce").max())
    out["isolated"] = g["_iso"].any()
    out["source_ids"] = g["source_id"].apply(lambda x: frozenset(x.fillna("").astype(str)))
    out["n_members"] = g.size()
    # a site crossing is withheld (builder.withheld) when all its members are: no inventory names it
    out["withheld"] = g["withheld"].apply(lambda x: bool(truthy(x).all())) if "withheld" in t.columns else False
    return out.reset_index(drop=True).drop(columns=["_e", "_iso"])


def _recall_bins(values: np.ndarray, detected: np.ndarray, bins) -> list[dict]:
    rows = []
    for name, lo, hi in bins:
        sel = (values >= lo) & (values < hi)
        n, k = int(sel.sum()), int(detected[sel].sum())
        rows.append({"bin": name, "n": n, "n_detected": k, "recall": _ratio(k, n)})
    return rows


def _emission_stats(det_e: np.ndarray, det_unc: np.ndarray, true_e: np.ndarray) -> dict:
    ok = np.isfinite(det_e) & np.isfinite(true_e) & (true_e > 0)
    rel = det_e[ok] / true_e[ok] - 1.0
    inside = np.abs(det_e[ok] - true_e[ok]) <= np.where(np.isfinite(det_unc[ok]), det_unc[ok], 0.0)
    n = int(ok.sum())
    return {
        "n": n,
        "median_rel_err": float(np.median(rel)) if n else None,
        "median_abs_rel_err": float(np.median(np.abs(rel))) if n else None,
        "within_30pct": _ratio(int((np.abs(rel) <= 0.3 + 1e-12).sum()), n),
        "within_50pct": _ratio(int((np.abs(rel) <= 0.5 + 1e-12).sum()), n),
        "inside_1sigma": _ratio(int(inside.sum()), n),
    }


def validate(truth_dir: Path, detections_dir: Path, cfg=None) -> dict:
    """Compare ``detections_dir/detections.csv`` with the simulator truth (module rules).

    Returns a JSON-safe dict (NaN -> None); ``format_validation`` prints it.
    Raises :class:`ValidationInputError` for a missing or malformed file.
    """
    truth_dir, detections_dir = Path(truth_dir), Path(detections_dir)
    if truth_dir.is_file():  # the truth.csv itself was given
        truth_dir = truth_dir.parent
    if detections_dir.is_file():
        detections_dir = detections_dir.parent
    min_snd = int(getattr(getattr(cfg, "attribute", None), "overpass_min_soundings", DEFAULT_MIN_SOUNDINGS))
    site_km = float(getattr(getattr(cfg, "attribute", None), "site_km", DEFAULT_SITE_KM))
    truth, tracks, dets = _read_inputs(truth_dir, detections_dir)
    n_rows = len(truth)
    truth = merge_sites(truth, site_km)
    m = match(truth, dets)
    matched = m["truth"].to_numpy() >= 0
    detected = np.zeros(len(truth), bool)
    detected[m.loc[matched, "truth"].to_numpy()] = True
    observed = column(truth, "n_soundings_20km") >= min_snd
    emis_mt = column(truth, "emission_kg_s") / physics.KG_S_PER_MT_YR
    down = column(truth, "downwind_km")
    wind = np.hypot(column(truth, "wind_u_m_s"), column(truth, "wind_v_m_s"))
    obs_det = detected[observed]
    head = observed & (emis_mt >= HEADLINE["min_emission_mt_yr"]) & (down >= 0) \
        & (down <= HEADLINE["max_downwind_km"]) & (wind >= HEADLINE["min_wind_m_s"])
    n_fp = int((~matched).sum())
    track_km = float(np.nansum(column(tracks, "track_km")))
    wh_site = truthy(truth["withheld"])
    result = {
        "rules": {"match_km": MATCH_KM, "match_sigma_factor": 2.0, "min_peak_ppm": MIN_PEAK_PPM,
                  "min_soundings_20km": min_snd, "site_km": site_km, "headline": HEADLINE},
        "counts": {"n_truth_rows": n_rows, "n_truth": len(truth), "n_observed": int(observed.sum()),
                   "n_detected": int(obs_det.sum()), "n_detections": len(dets), "n_matched_detections": int(matched.sum()),
                   "n_false_positives": n_fp, "n_tracks": len(tracks), "track_km": track_km},
        "recall": _ratio(int(obs_det.sum()), int(observed.sum())),
        "recall_by_emission": _recall_bins(emis_mt[observed], obs_det, EMISSION_BINS_MT_YR),
        "recall_by_downwind": _recall_bins(down[observed], obs_det, DOWNWIND_BINS_KM),
        "headline": {"n": int(head.sum()), "n_detected": int(detected[head].sum()),
                     "recall": _ratio(int(detected[head].sum()), int(head.sum()))},
        "fp_per_1000km": (1000.0 * n_fp / track_km) if track_km > 0 else None,
        **_matched_figures(truth, dets, m, matched, wh_site),
        "withheld": {"n_site_crossings": int(wh_site.sum()), "n_observed": int((wh_site & observed).sum()),
                     "n_detected": int((wh_site & observed & detected).sum()),
                     "n_matched_detections": int(np.isin(m.loc[matched, "truth"].to_numpy(),
                                                         np.flatnonzero(wh_site)).sum())},
        "targets": {k: list(v) if isinstance(v, tuple) else v for k, v in TARGETS.items()},
    }
    result["upper_limits"] = _upper_limit_check(detections_dir / "overpasses.csv", truth)
    result["meets"] = _meets(result)
    vo = _overpass_figures(detections_dir, truth, head & ~wh_site, track_km)
    if vo is not None:
        result["overpasses"] = vo
    result["candidates"] = validate_candidates(truth_dir, detections_dir, min_snd)
    return _clean(result)


def _read_inputs(truth_dir: Path, detections_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(truth, tracks, blind-scan detections); ValidationInputError for a missing or malformed file."""
    truth = _read(truth_dir / "truth.csv", TRUTH_COLUMNS)
    tracks = _read(truth_dir / "tracks.csv", ["orbit", "track_km"])
    dets = _read(detections_dir / "detections.csv", DETECTION_COLUMNS)
    if "detection_kind" in dets.columns:   # the blind scan only; targeted detections: validate_overpasses
        dets = dets.loc[dets["detection_kind"].astype(str) != "targeted"].reset_index(drop=True)
    bad = pd.to_numeric(truth["orbit"], errors="coerce").isna().to_numpy()
    if bad.any():
        raise ValidationInputError(f"{truth_dir / 'truth.csv'}:row {int(np.flatnonzero(bad)[0]) + 2}",
                                   "orbit is not a number")
    return truth, tracks, dets


def _matched_figures(truth: pd.DataFrame, dets: pd.DataFrame, m: pd.DataFrame, matched: np.ndarray,
                     wh_site: np.ndarray) -> dict:
    """Emission and attribution figures of the nearest matched detection of each detected crossing.
    Crossings of withheld sources (builder.withheld) are real plumes (a match is a true anomaly) but
    no inventory names them: they are left out of the attribution and emission figures."""
    best = m.loc[matched].sort_values(["truth", "distance_km"], kind="stable").drop_duplicates("truth")
    bi, bj = best["det"].to_numpy(), best["truth"].to_numpy()
    det_sid = _ids(dets["source_id"])
    det_site = _ids(dets["site_source_ids"]) if "site_source_ids" in dets.columns else np.full(len(dets), "")
    members = truth["source_ids"].to_numpy()
    right = np.array([bool(({det_sid[a]} | set(det_site[a].split("|"))) - {""} & members[b])
                      for a, b in zip(bi, bj)], dtype=bool)
    det_e, det_u = column(dets, "emission_kg_s")[bi], column(dets, "emission_unc_kg_s")[bi]
    true_e = column(truth, "emission_kg_s")[bj]
    flagged = np.zeros(len(bi), bool)
    for flag in ("flag_parallel_wind", "flag_low_wind"):
        if flag in dets.columns:
            flagged |= truthy(dets[flag])[bi]
    iso = truthy(truth["isolated"])[bj]
    listed = ~wh_site[bj]
    right &= listed
    return {
        "emission": _emission_stats(det_e[right], det_u[right], true_e[right]),
        "emission_unflagged": _emission_stats(det_e[right & ~flagged], det_u[right & ~flagged],
                                              true_e[right & ~flagged]),
        "n_wrong_source": int((~right & listed).sum()),
        "attribution_all": {"n": int(listed.sum()), "n_correct": int(right.sum()),
                            "n_unattributed": int((det_sid[bi][listed] == "").sum()),
                            "accuracy": _ratio(int(right.sum()), int(listed.sum()))},
        "attribution_isolated": {"n": int((iso & listed).sum()), "n_correct": int((right & iso).sum()),
                                 "accuracy": _ratio(int((right & iso).sum()), int((iso & listed).sum()))},
    }


def _overpass_figures(detections_dir: Path, truth: pd.DataFrame, headline: np.ndarray, track_km: float) -> dict | None:
    """The forced measurements' and targeted detections' scores (builder.validate_overpasses), or
    None without overpasses.csv and sources_summary.csv. The targeted detection measures listed
    sources only: ``headline`` excludes withheld crossings."""
    ovp_path, summ_path = detections_dir / "overpasses.csv", detections_dir / "sources_summary.csv"
    if not (ovp_path.exists() and summ_path.exists()):
        return None
    ovp = _read(ovp_path, ["source_id", "orbit", "detected", "emission_kg_s", "emission_unc_kg_s", "inventory_kg_s"])
    summ = _read(summ_path, ["source_id", "n_measured", "ratio", "ratio_unc", "inventory_kg_s"])
    vo = validate_overpasses(ovp, summ, truth, headline, track_km, MIN_PEAK_PPM, MATCH_KM)
    vo["meets"] = meets_overpasses(vo)
    return vo


def _upper_limit_check(path: Path, truth: pd.DataFrame) -> dict | None:
    """Honesty of the non-detection upper limits: among non-detected overpasses of a
    site with a truth crossing in that orbit, the share whose true emission exceeds the
    upper limit (ideally a few %). None when the build wrote no overpasses.csv."""
    if not path.exists():
        return None
    o = _read(path, ["source_id", "orbit", "detected", "upper_limit_kg_s"])
    nd = o.loc[~truthy(o["detected"]) & np.isfinite(column(o, "upper_limit_kg_s"))]
    key_t, key_o = _orbit_keys(truth, nd)
    members = pd.DataFrame({"key": key_t.to_numpy(), "site": np.arange(len(truth)),
                            "source_id": truth["source_ids"].map(sorted).to_numpy()}).explode("source_id")
    q = pd.DataFrame({"key": key_o.to_numpy(), "source_id": _ids(nd["source_id"]),
                      "ul": column(nd, "upper_limit_kg_s")}).merge(members, on=["key", "source_id"])
    q = q.drop_duplicates(["key", "source_id"])
    true_e = column(truth, "emission_kg_s")[q["site"].to_numpy(int)]
    ok = np.isfinite(true_e) & (true_e > 0)
    ul = q["ul"].to_numpy(float)[ok]
    above = int((true_e[ok] > ul).sum())
    n = int(ok.sum())
    return {"n": n, "n_above": above, "share_above": _ratio(above, n),
            "median_ul_over_truth": float(np.median(ul / true_e[ok])) if n else None}


def _meets(r: dict) -> dict:
    def ok(value, test):
        return None if value is None or (isinstance(value, float) and not np.isfinite(value)) else bool(test(value))
    lo, hi = TARGETS["inside_1sigma"]
    return {
        "headline_recall": ok(r["headline"]["recall"], lambda v: v >= TARGETS["headline_recall"]),
        "fp_per_1000km": ok(r["fp_per_1000km"], lambda v: v <= TARGETS["fp_per_1000km"]),
        "median_abs_rel_err": ok(r["emission"]["median_abs_rel_err"], lambda v: v <= TARGETS["median_abs_rel_err"]),
        "inside_1sigma": ok(r["emission"]["inside_1sigma"], lambda v: lo <= v <= hi),
        "isolated_attribution": ok(r["attribution_isolated"]["accuracy"],
                                   lambda v: v >= TARGETS["isolated_attribution"]),
    }


def _pct(v) -> str:
    return "   n/a" if v is None else f"{100 * v:5.1f}%"


def format_validation(result: dict) -> str:
    """A printable table of :func:`validate`'s result."""
    r = result
    c = r["counts"]
    meets = r.get("meets", {})

    def mark(key):
        v = meets.get(key)
        return "n/a" if v is None else ("OK" if v else "MISS")

    rules = r["rules"]
    lines = _overpass_lines(r.get("overpasses")) + candidate_lines(r.get("candidates")) + [
        "Validation against simulator truth: the blind scan (anomalies)",
        f"  match: same orbit, within max({rules['match_km']:g} km, {rules['match_sigma_factor']:g} sigma_along), "
        f"true peak >= {rules['min_peak_ppm']:g} ppm; observed: >= {rules['min_soundings_20km']} soundings "
        "within +-20 km",
        f"  site crossings {c['n_truth']} (of {c['n_truth_rows']} source crossings), observed {c['n_observed']}, detected {c['n_detected']}; "
        f"detections {c['n_detections']}, matched {c['n_matched_detections']}, false {c['n_false_positives']}; "
        f"track {c['track_km']:.0f} km in {c['n_tracks']} tracks",
        "",
        f"  {'metric':<46}{'value':>10}  {'target':<12}",
        f"  {'headline recall (>=10 Mt/yr, <=40 km, >=2 m/s)':<46}{_pct(r['headline']['recall']):>10}  "
        f"{'>= 90%':<12}{mark('headline_recall')}  ({r['headline']['n_detected']}/{r['headline']['n']})",
        f"  {'false positives per 1000 km':<46}"
        f"{('n/a' if r['fp_per_1000km'] is None else format(r['fp_per_1000km'], '.2f')):>10}  "
        f"{'<= 0.1':<12}{mark('fp_per_1000km')}",
        f"  {'median |relative emission error|':<46}{_pct(r['emission']['median_abs_rel_err']):>10}  "
        f"{'<= 30%':<12}{mark('median_abs_rel_err')}  (n={r['emission']['n']})",
        f"  {'median relative emission error (bias)':<46}{_pct(r['emission']['median_rel_err']):>10}",
        f"  {'within +-30% / +-50%':<46}{_pct(r['emission']['within_30pct']):>10} / "
        f"{_pct(r['emission']['within_50pct']).strip()}",
        f"  {'truth inside reported 1 sigma':<46}{_pct(r['emission']['inside_1sigma']):>10}  "
        f"{'60-75%':<12}{mark('inside_1sigma')}",
        f"  {'median |rel err|, wind flags excluded':<46}{_pct(r['emission_unflagged']['median_abs_rel_err']):>10}"
        f"  (n={r['emission_unflagged']['n']})",
        f"  {'correct attribution, isolated sources':<46}{_pct(r['attribution_isolated']['accuracy']):>10}  "
        f"{'>= 95%':<12}{mark('isolated_attribution')}  "
        f"({r['attribution_isolated']['n_correct']}/{r['attribution_isolated']['n']})",
        f"  {'correct attribution, all detected crossings':<46}{_pct(r['attribution_all']['accuracy']):>10}  "
        f"{'':<12}     ({r['attribution_all']['n_correct']}/{r['attribution_all']['n']}, "
        f"{r['attribution_all']['n_unattributed']} unattributed)",
        f"  {'overall recall (observed crossings)':<46}{_pct(r['recall']):>10}",
    ]
    ul = r.get("upper_limits")
    if ul:
        lines.append(f"  {'non-detections: truth above the upper limit':<46}{_pct(ul['share_above']):>10}  "
                     f"{'few %':<12}     ({ul['n_above']}/{ul['n']}, median UL/truth "
                     f"{'n/a' if ul['median_ul_over_truth'] is None else format(ul['median_ul_over_truth'], '.2f')})")
    lines += [
        "",
        f"  {'recall by true emission [Mt/yr]':<34}{'n':>6}{'det':>6}{'recall':>9}",
    ]
    for row in r["recall_by_emission"]:
        lines.append(f"    {row['bin']:<32}{row['n']:>6}{row['n_detected']:>6}{_pct(row['recall']):>9}")
    lines.append(f"  {'recall by downwind distance [km]':<34}{'n':>6}{'det':>6}{'recall':>9}")
    for row in r["recall_by_downwind"]:
        lines.append(f"    {row['bin']:<32}{row['n']:>6}{row['n_detected']:>6}{_pct(row['recall']):>9}")
    return "\n".join(lines)


def _overpass_lines(v: dict | None) -> list[str]:
    """The forced-measurement part of :func:`format_validation`."""
    if not v:
        return []
    m, t, ps, pu = v["meets"], v["targeted"], v["per_source"], v["pulls"]

    def mark(key):
        return "n/a" if m.get(key) is None else ("OK" if m[key] else "MISS")

    def f(x, fmt):
        return "n/a" if x is None else format(x, fmt)
    return [
        "Validation against simulator truth: every overpass measured (forced fit), targeted detections",
        f"  {v['n_measured']} of {v['n_overpasses']} overpasses measured; per-source figures over the "
        f"{ps['n']} sources >= 5 Mt/yr with a measurement",
        f"  {'per-source observed/inventory, median':<46}{f(ps['median_ratio'], '.3f'):>10}  {'0.90-1.10':<12}"
        f"{mark('ratio_median')}  (true ratio {f(ps['median_true_ratio'], '.3f')})",
        f"  {'  same, detected overpasses only (biased)':<46}{f(ps['median_ratio_detected_only'], '.3f'):>10}  "
        f"{'':<12}     (n={ps['n_detected_only']} sources)",
        f"  {'per-source truth inside reported 1 sigma':<46}{_pct(ps['inside_1sigma']):>10}  {'60-75%':<12}"
        f"{mark('ratio_inside_1sigma')}",
        f"  {'per-overpass pulls (est - truth)/sigma, mean':<46}{f(pu['mean'], '.3f'):>10}  {'+-0.10':<12}"
        f"{mark('pull_mean')}  (n={pu['n']})",
        f"  {'per-overpass pulls, standard deviation':<46}{f(pu['sd'], '.3f'):>10}  {'0.9-1.2':<12}{mark('pull_sd')}",
        f"  {'precision of plumes (targeted detections)':<46}{_pct(t['precision']):>10}  {'>= 90%':<12}"
        f"{mark('plume_precision')}  ({t['n_right']}/{t['n']})",
        f"  {'headline recall, targeted':<46}{_pct(t['headline_recall']):>10}  {'>= 40%':<12}"
        f"{mark('targeted_headline_recall')}  ({t['headline_detected']}/{t['headline_n']})",
        f"  {'false targeted detections per 1000 km':<46}{f(t['fp_per_1000km'], '.3f'):>10}  {'<= 0.1':<12}"
        f"{mark('targeted_fp_per_1000km')}",
        "",
    ]
