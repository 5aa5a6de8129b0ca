"""Plausibility bounds (issue 13): figures no real source or wind can produce are never published
as if they were measurements. Bounds are in ``[plausible]`` of atlas.toml (builder/config.py).

* Inventory rows above ``max_inventory_t_yr`` (default 1e8 t/yr = 100 Mt/yr; the largest power
  plant on Earth emits about 40 Mt/yr, the largest city in the embedded list about 83) are
  rejected, one skip line each (:func:`reject_implausible_sources`).
* Detections and overpasses measured with a wind above ``max_wind_m_s`` (default 30 m/s), or
  implying an emission (less its 1-sigma) above ``max_emission_t_yr`` (default 6e7 t/yr = 60 Mt/yr; or
  ``max_inventory_multiple`` (4) times the source's inventory at that hour, if larger) get ``flag_implausible = True`` and a reason
  (:func:`flag_implausible`). They stay in the downloads with the flag, but are never targeted
  detections (plumes), nor candidate new sources. The per-source comparison drops only the
  overpasses whose *wind* is implausible (a fault of the input, whatever the estimate): dropping
  the large estimates would cut the upper tail of the noise and bias every ratio low, the
  selection bias that the comparison over every overpass exists to avoid (builder.compare).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder.attribute import column
from builder.config import Plausible
from builder.errors import Problems

SECONDS_PER_YEAR = 365.25 * 86400.0
EMISSION_COLUMNS = ("emission_kg_s", "gp_emission_kg_s")


def reject_implausible_sources(sources: pd.DataFrame, cfg: Plausible, problems: Problems) -> pd.DataFrame:
    """``sources`` without rows whose emission exceeds ``cfg.max_inventory_t_yr`` (one skip line each)."""
    if sources is None or not len(sources):
        return sources
    e = column(sources, "emission_t_yr")
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(e) & (e > cfg.max_inventory_t_yr) | np.isinf(e)
    if not bad.any():
        return sources
    inv = sources["inventory"].astype(str).str.split(" (CO2 ", regex=False).str[0].to_numpy() if "inventory" in sources \
        else np.full(len(sources), "inventory")
    sid = sources["source_id"].astype(str).to_numpy()
    for i in np.flatnonzero(bad):
        problems.add(f"{inv[i]}:{sid[i]}", f"emission {e[i]:.3g} t/yr is above the plausible maximum "
                     f"([plausible] max_inventory_t_yr = {cfg.max_inventory_t_yr:.3g}); row rejected", "inventory")
    return sources.loc[~bad].reset_index(drop=True)


def flag_implausible(df: pd.DataFrame, cfg: Plausible) -> pd.DataFrame:
    """``df`` with ``flag_implausible`` (bool) and ``implausible_reason`` (text, "" if plausible)."""
    if df is None:
        return df
    n = len(df)
    wind = np.hypot(column(df, "wind_u_m_s"), column(df, "wind_v_m_s"))
    limit = np.full(n, cfg.max_emission_t_yr / SECONDS_PER_YEAR * 1000.0)  # kg/s
    inv = column(df, "inventory_kg_s")
    limit = np.where(np.isfinite(inv), np.maximum(limit, cfg.max_inventory_multiple * inv), limit)
    # the estimate minus its 1-sigma: only an emission *clearly* above the bound is
    # implausible (a noisy 4.5 +- 1.5 x inventory is an ordinary detection, not an impossible one)
    unc = np.nan_to_num(np.fmax(column(df, "emission_unc_kg_s"), 0.0), nan=0.0)
    gp_unc = np.nan_to_num(np.fmax(column(df, "gp_emission_unc_kg_s"), 0.0), nan=0.0)
    q = np.fmax(column(df, "emission_kg_s") - unc, column(df, "gp_emission_kg_s") - gp_unc) if n \
        else np.zeros(0)
    with np.errstate(invalid="ignore"):
        windy = np.isfinite(wind) & (wind > cfg.max_wind_m_s)
        huge = np.isfinite(q) & (q > limit)
    reason = np.where(windy, np.char.mod(f"wind %.0f m/s above {cfg.max_wind_m_s:g}", np.nan_to_num(wind)), "")
    q_raw = np.fmax.reduce([column(df, c) for c in EMISSION_COLUMNS]) if n else np.zeros(0)
    big = np.char.mod(f"implied emission %.3g Mt/yr above the plausible maximum",
                      np.nan_to_num(q_raw) * SECONDS_PER_YEAR / 1e9)
    reason = np.where(huge, np.where(windy, np.char.add(np.char.add(reason, "; "), big), big), reason)
    return df.assign(flag_implausible=windy | huge, implausible_reason=reason.astype(object))


def apply_bounds(detections: pd.DataFrame, overpasses: pd.DataFrame, cfg: Plausible):
    """Both tables flagged (:func:`flag_implausible`); an implausible overpass is never ``detected``."""
    detections, overpasses = flag_implausible(detections, cfg), flag_implausible(overpasses, cfg)
    detected = overpasses["detected"].astype(object).fillna(False).astype(bool).to_numpy()
    return detections, overpasses.assign(detected=detected & ~overpasses["flag_implausible"].to_numpy(bool))


def plausible_only(overpasses: pd.DataFrame, cfg: Plausible) -> pd.DataFrame:
    """Overpasses for the per-source comparison: those measured with an implausible wind have
    their estimates hidden (a selection on the input, not on the estimate; module doc)."""
    if overpasses is None or not len(overpasses):
        return overpasses
    wind = np.hypot(column(overpasses, "wind_u_m_s"), column(overpasses, "wind_v_m_s"))
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(wind) & (wind > cfg.max_wind_m_s)
    if not bad.any():
        return overpasses
    out = overpasses.copy()
    for c in ("emission_kg_s", "emission_unc_kg_s"):
        if c in out:
            out.loc[bad, c] = np.nan
    out.loc[bad, "detected"] = False
    return out
