"""Observed vs inventory, per source, over **every measured overpass**.

Each overpass carries a forced measurement (builder.overpass): an emission
estimate with its 1-sigma whether or not a plume was detected, small, zero or
negative. Combining all of them has no selection bias; combining only the
detected ones (as the atlas once did) keeps the crossings that noise pushed up
and gave a median observed/inventory of 1.5 where the truth was 1.

Per overpass i (inventory already at the overpass hour, so like is compared
with like): r_i = Q_i / I_i, s_i = sigma_i / I_i. Then::

    ratio = sum(v r) / sum(v),
    ratio_unc**2 = sum(v**2 s**2) / sum(v)**2 + SYSTEMATIC_REL**2,
    ratio_chi2 = sum((r - ratio)**2 / s**2) / (n - 1)     (NaN for n < 2)

The weights v_i must not correlate with the errors of r_i, or the mean is
biased. The inverse variances 1/s_i**2 do: Q_i = A_i k_i with k_i = L1 u sin
from the *file* wind, whose speed and direction errors scale the estimate and
its statistical sigma alike, so 1/s_i**2 favours the overpasses whose wind
is too slow, i.e. the low estimates (by E[1/f]/E[1/f**2] = 0.83 for a 25 %
speed error f; measured 0.84 on the simulated months, docs/validation.md).
So the statistical part of v_i uses the source's *typical* conversion K (the
geometric mean of k_i over its measured overpasses) with each overpass's
area error:  1/v_i = ((sigma_A,i K)**2 + sigma_rel,i**2) / I_i**2,  where
sigma_rel,i is the part of sigma_i that is relative to the inventory
(builder.forcedfit.emission_unc_kg_s). Without the area columns (older
tables) v_i = 1/s_i**2. ratio_unc is the variance of this weighted mean with
the reported s_i, so it stays honest when v is not the inverse variance.

The per-overpass sigma_i holds the noise and the wind and plume-structure
errors of that day, which average down over independent overpasses; the
systematic term is the part that does not: a bias of the model wind at plume
height (10 %, the order of the mean ERA5/GEOS speed bias in the boundary
layer; science-notes 5.4), relative to the inventory like every other error
term. Neither the weights nor ratio_unc depend on the estimates, so a
selection on ratio_unc (the home chart) selects nothing by their values.
observed_kg_s = ratio x inventory_kg_s (the mean inventory at the measured
overpasses' hours), with the same relative uncertainty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder import tables
from builder.attribute import column, typed_empty

#: Relative wind-speed error that does not average down over overpasses.
SYSTEMATIC_REL = 0.10


def _num(df: pd.DataFrame, name: str) -> pd.Series:
    """builder.attribute.column as a Series on the table's index."""
    return pd.Series(column(df, name), index=df.index)


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
    s2 = ((unc / inv) ** 2).where(measured, np.inf)
    v = (1.0 / _weight_var(overpasses, sid, measured, unc, inv)).where(measured, 0.0)
    detected = overpasses["detected"].fillna(False).astype(bool) if "detected" in overpasses else False
    work = pd.DataFrame({"source_id": sid, "measured": measured.astype(int), "detected": (detected & measured)
                         .astype(int), "v": v, "vr": v * r, "v2s2": (v ** 2 * s2).where(measured, 0.0), "r": r,
                         "s2": s2, "inv_m": inv.where(measured)})
    work = work.loc[work["source_id"] != ""]
    if work.empty:
        return typed_empty(tables.SOURCE_SUMMARY_COLUMNS)
    g = work.groupby("source_id", sort=True)
    sv = g["v"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (g["vr"].sum() / sv).where(sv > 0)
        ratio_unc = np.sqrt(g["v2s2"].sum() / sv ** 2 + SYSTEMATIC_REL ** 2).where(sv > 0)
    dev2 = ((work["r"] - work["source_id"].map(ratio)) ** 2 / work["s2"]).where(work["measured"] > 0, 0.0)
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


def _weight_var(ovp: pd.DataFrame, sid: pd.Series, measured: pd.Series, unc: pd.Series,
                inv: pd.Series) -> pd.Series:
    """1/v_i of the module docstring: the variance in ratio units with the statistical part
    at the source's typical wind conversion K, so the weights do not follow the wind errors."""
    stat, area_unc = _num(ovp, "emission_stat_unc_kg_s"), _num(ovp, "area_unc_ppm_km")
    with np.errstate(invalid="ignore", divide="ignore"):
        k = stat / area_unc                                    # kg/s per ppm km, this overpass's wind
        ok = measured & np.isfinite(k) & (k > 0) & (stat <= unc)
        log_k = np.log(k.where(ok))
        big_k = np.exp(log_k.groupby(sid).transform("mean"))   # typical conversion of the source
        var = ((area_unc * big_k) ** 2 + (unc ** 2 - stat ** 2)) / inv ** 2
    return var.where(ok, (unc / inv) ** 2)
