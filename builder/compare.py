"""Observed vs inventory, per source, over **every measured overpass**.

Each overpass carries a forced measurement (builder.overpass): an emission
estimate with its 1-sigma whether or not a plume was detected, small, zero or
negative. Combining all of them has no selection bias; combining only the
detected ones (as the atlas once did) keeps the crossings that noise pushed up
and gave a median observed/inventory of 1.5 where the truth was 1.

Per overpass i (inventory already at the overpass hour, so like is compared
with like): r_i = Q_i / I_i, s_i = sigma_i / I_i. Then::

    w_i = 1 / s_i**2,   ratio = sum(w r) / sum(w),
    ratio_unc**2 = 1 / sum(w) + SYSTEMATIC_REL**2,
    ratio_chi2 = sum(w (r - ratio)**2) / (n - 1)     (NaN for n < 2)

The per-overpass sigma_i holds the noise and the wind and plume-structure
errors of that day, which average down over independent overpasses; the
systematic term is the part that does not: a bias of the model wind at plume
height (10 %, the order of the mean ERA5/GEOS speed bias in the boundary
layer; science-notes 5.4), relative to the inventory like every other error
term. Neither the weights nor ratio_unc depend on the estimates
(builder.forcedfit.emission_unc_kg_s), so the weighted mean stays unbiased and a
selection on ratio_unc (the home chart) selects nothing by the estimates' values.
observed_kg_s = ratio x inventory_kg_s (the mean inventory at the measured
overpasses' hours), with the same relative uncertainty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder import tables
from builder.attribute import typed_empty

#: Relative wind-speed error that does not average down over overpasses.
SYSTEMATIC_REL = 0.10


def _num(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=df.index, dtype=float)


def compare(overpasses: pd.DataFrame) -> pd.DataFrame:
    """tables.SOURCE_SUMMARY_COLUMNS, one row per source with overpass rows (module
    docstring), sorted by source_id."""
    if overpasses is None or len(overpasses) == 0:
        return typed_empty(tables.SOURCE_SUMMARY_COLUMNS)
    sid = overpasses["source_id"].fillna("").astype(str)
    q, unc, inv = _num(overpasses, "emission_kg_s"), _num(overpasses, "emission_unc_kg_s"), \
        _num(overpasses, "inventory_kg_s")
    measured = np.isfinite(q) & np.isfinite(unc) & (unc > 0) & np.isfinite(inv) & (inv > 0)
    r = (q / inv).where(measured, 0.0)
    w = ((inv / unc) ** 2).where(measured, 0.0)
    detected = overpasses["detected"].fillna(False).astype(bool) if "detected" in overpasses else False
    work = pd.DataFrame({"source_id": sid, "measured": measured.astype(int), "detected": (detected & measured)
                         .astype(int), "w": w, "wr": w * r, "r": r, "inv_m": inv.where(measured)})
    work = work.loc[work["source_id"] != ""]
    if work.empty:
        return typed_empty(tables.SOURCE_SUMMARY_COLUMNS)
    g = work.groupby("source_id", sort=True)
    sw = g["w"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (g["wr"].sum() / sw).where(sw > 0)
        ratio_unc = np.sqrt(1.0 / sw + SYSTEMATIC_REL ** 2).where(sw > 0)
    dev2 = (work["w"] * (work["r"] - work["source_id"].map(ratio)) ** 2).where(work["measured"] > 0, 0.0)
    n_meas = g["measured"].sum()
    chi2 = (dev2.groupby(work["source_id"], sort=True).sum() / (n_meas - 1)).where(n_meas >= 2)
    inv_mean = g["inv_m"].mean()
    out = pd.DataFrame({
        "n_overpasses": g.size().astype(int), "n_measured": n_meas.astype(int),
        "n_detected": g["detected"].sum().astype(int),
        "observed_kg_s": ratio * inv_mean, "observed_unc_kg_s": ratio_unc * inv_mean,
        "inventory_kg_s": inv_mean, "ratio": ratio, "ratio_unc": ratio_unc, "ratio_chi2": chi2,
    }).reset_index()
    return out[tables.SOURCE_SUMMARY_COLUMNS]
