"""Validation of the forced overpass measurements and targeted detections
against the simulator's truth (builder.validate handles the blind scan).

Rules (used by every figure here):

- An overpass row (site representative ``source_id``, orbit) takes the truth of
  the site crossing of that orbit that holds its source (builder.validate.
  merge_sites sums co-located units). Where the true wind does not carry the
  plume across the track within the simulator's 200 km, the truth is still the
  source's emission at that hour: the inventory at the overpass hour, since
  the default world is simulated from the inventory.
- Per-overpass pull = (estimate - truth) / reported 1-sigma, over every
  measured overpass (finite estimate), detected or not.
- A targeted detection is *right* when its site crossing has a true peak of at
  least builder.validate.MIN_PEAK_PPM (a plume is there to be seen), or when
  a crossing of a *withheld* source (builder.withheld: simulated, not in the
  detector's inventory) with such a peak lies within builder.validate.MATCH_KM
  of it in the same orbit: a real plume, named after the wrong (listed)
  source because the right one is unlisted (counted in ``n_right_withheld``).
- Headline recall uses builder.validate's headline set of site crossings.
- Per-source ratio: sources_summary.csv rows with n_measured >= 1 and an
  inventory >= PER_SOURCE_MIN_MT_YR; the true ratio is the mean of truth /
  inventory over the source's measured overpasses (1 when simulated from the
  inventory); inside 1 sigma when |ratio - true| <= ratio_unc.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder import physics
from builder.attribute import column

PER_SOURCE_MIN_MT_YR = 5.0
TARGETS = {"ratio_median": (0.90, 1.10), "ratio_inside_1sigma": (0.60, 0.75), "pull_mean": (-0.10, 0.10),
           "pull_sd": (0.9, 1.2), "plume_precision": 0.90, "targeted_headline_recall": 0.40,
           "targeted_fp_per_1000km": 0.1}


def truthy(values) -> np.ndarray:
    """Boolean array of a CSV column written as True/False (also 1, yes, t)."""
    return pd.Series(values).astype(str).str.strip().str.lower().isin(["true", "1", "1.0", "yes", "t"]).to_numpy()


def overpass_truth(overpasses: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """``overpasses`` with truth_kg_s, true_peak_ppm and site (row of ``sites`` or -1)."""
    key = sites["orbit"].astype("int64").astype(str)
    if "instrument" in sites.columns:
        key = sites["instrument"].astype(str) + ":" + key
    members = pd.DataFrame({"key": key.to_numpy(), "site": np.arange(len(sites)),
                            "source_id": sites["source_ids"].map(sorted).to_numpy()}).explode("source_id")
    members = members.drop_duplicates(["key", "source_id"])
    okey = pd.to_numeric(overpasses["orbit"], errors="coerce").fillna(-1).astype("int64").astype(str)
    if "instrument" in sites.columns and "instrument" in overpasses.columns:
        okey = overpasses["instrument"].astype(str) + ":" + okey
    q = pd.DataFrame({"key": okey.to_numpy(), "source_id": overpasses["source_id"].fillna("").astype(str).to_numpy(),
                      "row": np.arange(len(overpasses))}).merge(members, on=["key", "source_id"], how="left")
    q = q.sort_values("row", kind="stable").drop_duplicates("row")
    site = q["site"].fillna(-1).astype(int).to_numpy()
    e = column(sites, "emission_kg_s")
    peak = column(sites, "peak_ppm")
    truth = np.where(site >= 0, e[np.maximum(site, 0)], column(overpasses, "inventory_kg_s"))
    return overpasses.assign(truth_kg_s=truth, true_peak_ppm=np.where(site >= 0, peak[np.maximum(site, 0)], 0.0),
                             site=site)


def _near_withheld(o: pd.DataFrame, sites: pd.DataFrame, rows: np.ndarray, min_peak_ppm: float,
                   match_km: float) -> np.ndarray:
    """For overpass rows ``rows``: a withheld site crossing with a visible peak lies within
    ``match_km`` of the overpass's crossing in the same orbit (module rules)."""
    out = np.zeros(len(rows), dtype=bool)
    if "withheld" not in sites.columns or not len(rows) or "cross_latitude" not in o.columns:
        return out
    w = sites.loc[truthy(sites["withheld"]) & (column(sites, "peak_ppm") >= min_peak_ppm)]
    if w.empty:
        return out
    wkey = w["orbit"].astype("int64").astype(str).to_numpy()
    okey = pd.to_numeric(o["orbit"], errors="coerce").fillna(-1).astype("int64").astype(str).to_numpy()[rows]
    wlat, wlon = column(w, "cross_latitude"), column(w, "cross_longitude")
    olat, olon = column(o, "cross_latitude")[rows], column(o, "cross_longitude")[rows]
    for k in range(len(rows)):
        same = wkey == okey[k]
        if same.any():
            out[k] = bool((physics.haversine_km(olat[k], olon[k], wlat[same], wlon[same]) <= match_km).any())
    return out


def validate_overpasses(overpasses: pd.DataFrame, summary: pd.DataFrame, sites: pd.DataFrame,
                        headline: np.ndarray, track_km: float, min_peak_ppm: float,
                        match_km: float = 15.0) -> dict:
    """Figures of the module docstring; ``headline`` flags rows of ``sites``."""
    o = overpass_truth(overpasses, sites)
    est, unc = column(o, "emission_kg_s"), column(o, "emission_unc_kg_s")
    meas = np.isfinite(est) & np.isfinite(unc) & (unc > 0) & np.isfinite(o["truth_kg_s"].to_numpy(float))
    pull = (est - o["truth_kg_s"].to_numpy(float))[meas] / unc[meas]
    det = truthy(o["detected"]) & meas
    right = det & (o["true_peak_ppm"].to_numpy(float) >= min_peak_ppm)
    wrong = np.flatnonzero(det & ~right)
    by_withheld = _near_withheld(o, sites, wrong, min_peak_ppm, match_km)
    right[wrong[by_withheld]] = True
    n_det, n_right = int(det.sum()), int(right.sum())
    det_sites = set(o["site"].to_numpy()[det & (o["site"].to_numpy() >= 0)])
    head_idx = np.flatnonzero(headline)
    head_found = sum(1 for i in head_idx if i in det_sites)
    per_source = _per_source(o, meas, summary)
    return {
        "n_overpasses": int(len(o)), "n_measured": int(meas.sum()),
        "pulls": {"n": int(len(pull)), "mean": float(np.mean(pull)) if len(pull) else None,
                  "sd": float(np.std(pull, ddof=1)) if len(pull) > 1 else None,
                  "inside_1sigma": float(np.mean(np.abs(pull) <= 1)) if len(pull) else None},
        "targeted": {"n": n_det, "n_right": n_right, "n_right_withheld": int(by_withheld.sum()), "precision": n_right / n_det if n_det else None,
                     "fp_per_1000km": 1000.0 * (n_det - n_right) / track_km if track_km > 0 else None,
                     "headline_n": int(len(head_idx)), "headline_detected": int(head_found),
                     "headline_recall": head_found / len(head_idx) if len(head_idx) else None},
        "per_source": per_source,
        "targets": {k: list(v) if isinstance(v, tuple) else v for k, v in TARGETS.items()},
    }


def _per_source(o: pd.DataFrame, meas: np.ndarray, summary: pd.DataFrame) -> dict:
    """Median ratio and 1-sigma coverage over sources >= PER_SOURCE_MIN_MT_YR (module rules)."""
    m = o.loc[meas]
    true_r = (m["truth_kg_s"] / pd.to_numeric(m["inventory_kg_s"], errors="coerce")).groupby(m["source_id"]).mean()
    s = summary.loc[pd.to_numeric(summary["n_measured"], errors="coerce").fillna(0) >= 1].set_index("source_id")
    big = pd.to_numeric(s["inventory_kg_s"], errors="coerce") >= PER_SOURCE_MIN_MT_YR * physics.KG_S_PER_MT_YR
    s = s.loc[big]
    ratio = pd.to_numeric(s["ratio"], errors="coerce")
    tr = true_r.reindex(s.index)
    inside = (ratio - tr).abs() <= pd.to_numeric(s["ratio_unc"], errors="coerce")
    ok = ratio.notna() & tr.notna()
    # the old, selection-biased way, for comparison: mean ratio over the detected overpasses only
    d = m.loc[truthy(m["detected"])]
    det_only = (pd.to_numeric(d["emission_kg_s"], errors="coerce") / pd.to_numeric(d["inventory_kg_s"], errors="coerce")
                ).groupby(d["source_id"]).mean().reindex(s.index).dropna()
    return {"n": int(ok.sum()), "median_ratio": float(ratio[ok].median()) if ok.any() else None,
            "inside_1sigma": float(inside[ok].mean()) if ok.any() else None,
            "median_true_ratio": float(tr[ok].median()) if ok.any() else None,
            "n_detected_only": int(len(det_only)),
            "median_ratio_detected_only": float(det_only.median()) if len(det_only) else None}


def meets(r: dict) -> dict:
    """Pass/fail per target (None when not measurable)."""
    def within(v, lim):
        return None if v is None else bool(lim[0] <= v <= lim[1])
    t = r["targeted"]
    return {
        "ratio_median": within(r["per_source"]["median_ratio"], TARGETS["ratio_median"]),
        "ratio_inside_1sigma": within(r["per_source"]["inside_1sigma"], TARGETS["ratio_inside_1sigma"]),
        "pull_mean": within(r["pulls"]["mean"], TARGETS["pull_mean"]),
        "pull_sd": within(r["pulls"]["sd"], TARGETS["pull_sd"]),
        "plume_precision": None if t["precision"] is None else t["precision"] >= TARGETS["plume_precision"],
        "targeted_headline_recall": None if t["headline_recall"] is None
        else t["headline_recall"] >= TARGETS["targeted_headline_recall"],
        "targeted_fp_per_1000km": None if t["fp_per_1000km"] is None
        else t["fp_per_1000km"] <= TARGETS["targeted_fp_per_1000km"],
    }
