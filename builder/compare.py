"""Observed vs inventory, per source: weighted mean ratio and its consistency.

For each source with overpasses, the observed/inventory ratios r_i of the
detected overpasses (inventory already taken at the overpass hour, so the
ratio compares like with like) are combined by inverse-variance weighting::

    w_i = 1 / ratio_unc_i**2,   ratio_mean = sum(w r) / sum(w),
    ratio_unc = 1 / sqrt(sum(w)),
    ratio_chi2 = sum(w (r - ratio_mean)**2) / (n - 1)   (reduced chi2; NaN for n < 2)

ratio_unc_i = emission_unc_i / inventory_i treats the inventory as exact (its
own error is what the comparison tests). A reduced chi2 near 1 means the
overpasses agree within their errors; >> 1
means real variability (or underestimated errors). Non-detections carry no
ratio (their upper limits are in the overpass table); the mean is therefore
conditional on detection and biased high for sources near the detection limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder import physics, tables
from builder.attribute import typed_empty


def _ids(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).replace({"nan": "", "None": ""})


def _num(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=df.index, dtype=float)


def _rows_from_detections(overpasses: pd.DataFrame, detections: pd.DataFrame) -> pd.DataFrame:
    """Detected overpass rows for attributed detections the overpass table lacks."""
    if detections is None or len(detections) == 0 or "source_id" not in detections.columns:
        return pd.DataFrame(columns=["source_id", "detected", "emission_kg_s", "emission_unc_kg_s",
                                     "inventory_kg_s", "ratio", "ratio_unc", "detection_id"])
    d = detections.loc[_ids(detections["source_id"]) != ""]
    known = set(overpasses["detection_id"].dropna().astype(str)) if "detection_id" in overpasses else set()
    if "detection_id" in d.columns:
        d = d.loc[~d["detection_id"].astype(str).isin(known)]
    if {"instrument", "orbit"} <= set(d.columns) and len(d):
        # one estimate per (source, orbit): an overpass row already holds that orbit's chosen
        # detection; several unlisted detections of one source in one orbit count once (the most
        # significant), so a plume split into two fits is not two overpasses
        key = _ids(d["source_id"]) + "-" + d["instrument"].astype(str) + "-" + \
            pd.to_numeric(d["orbit"], errors="coerce").astype("Int64").astype(str)
        listed = set(overpasses["overpass_id"].dropna().astype(str)) if "overpass_id" in overpasses else set()
        order = _num(d, "significance").fillna(-np.inf) if "significance" in d.columns else pd.Series(0.0, index=d.index)
        d = d.assign(_key=key.to_numpy(), _order=order.to_numpy()).loc[~key.isin(listed).to_numpy()]
        d = d.sort_values(["_key", "_order"], ascending=[True, False], kind="stable").drop_duplicates("_key")
    inv = _num(d, "inventory_kg_s")
    good = inv > 0
    out = pd.DataFrame({
        "source_id": _ids(d["source_id"]),
        "detected": True,
        "emission_kg_s": _num(d, "emission_kg_s"),
        "emission_unc_kg_s": _num(d, "emission_unc_kg_s"),
        "inventory_kg_s": inv,
        "ratio": (_num(d, "emission_kg_s") / inv).where(good),
        "ratio_unc": (_num(d, "emission_unc_kg_s") / inv).where(good),
        "detection_id": d["detection_id"].astype(str) if "detection_id" in d.columns else "",
    })
    return out


def compare(overpasses: pd.DataFrame, detections: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """tables.SOURCE_SUMMARY_COLUMNS, one row per source with overpasses (module docstring).

    Detections attributed to a source but missing from ``overpasses`` count as
    detected overpasses. Missing inventory_kg_s falls back to the annual mean of
    ``sources`` (emission_t_yr). Sorted by source_id.
    """
    empty = typed_empty(tables.SOURCE_SUMMARY_COLUMNS)
    ovp = overpasses if overpasses is not None else pd.DataFrame()
    if len(ovp):
        ovp = ovp.assign(source_id=_ids(ovp["source_id"]))
    else:
        ovp = pd.DataFrame(columns=["source_id", "detected", "emission_kg_s", "emission_unc_kg_s", "inventory_kg_s",
                                    "ratio", "ratio_unc", "detection_id"])
    extra = _rows_from_detections(ovp, detections)
    frames = [f for f in (ovp, extra) if len(f)]
    if not frames:
        return empty
    allp = pd.concat(frames, ignore_index=True)
    allp = allp.loc[allp["source_id"] != ""]
    if allp.empty:
        return empty
    inv = _num(allp, "inventory_kg_s")
    if sources is not None and len(sources) and "emission_t_yr" in sources.columns:
        annual = pd.to_numeric(sources["emission_t_yr"], errors="coerce").to_numpy(float) / 1e6 \
            * physics.KG_S_PER_MT_YR
        annual = pd.Series(annual, index=_ids(sources["source_id"]))
        annual = annual[~annual.index.duplicated()]
        inv = inv.fillna(allp["source_id"].map(annual))
    detected = allp["detected"].fillna(False).astype(bool)
    ratio, unc = _num(allp, "ratio"), _num(allp, "ratio_unc")
    use = detected & np.isfinite(ratio) & np.isfinite(unc) & (unc > 0)
    w = (1.0 / unc ** 2).where(use, 0.0)
    obs = _num(allp, "emission_kg_s").where(detected)
    work = pd.DataFrame({"source_id": allp["source_id"], "detected": detected.astype(int), "inv": inv, "obs": obs,
                         "w": w, "wr": w * ratio.where(use, 0.0), "n_ratio": use.astype(int), "ratio": ratio,
                         "use": use})
    g = work.groupby("source_id", sort=True)
    out = pd.DataFrame({
        "n_overpasses": g.size(),
        "n_detections": g["detected"].sum(),
        "mean_inventory_kg_s": g["inv"].mean(),
        "mean_observed_kg_s": g["obs"].mean(),
    })
    sw = g["w"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (g["wr"].sum() / sw).where(sw > 0)
        out["ratio_mean"] = mean
        out["ratio_unc"] = (1.0 / np.sqrt(sw)).where(sw > 0)
    work["dev2"] = (work["w"] * (work["ratio"] - work["source_id"].map(mean)) ** 2).where(work["use"], 0.0)
    n = g["n_ratio"].sum()
    out["ratio_chi2"] = (work.groupby("source_id", sort=True)["dev2"].sum() / (n - 1)).where(n >= 2)
    out = out.reset_index()
    out["n_overpasses"] = out["n_overpasses"].astype(int)
    out["n_detections"] = out["n_detections"].astype(int)
    return out[tables.SOURCE_SUMMARY_COLUMNS]
