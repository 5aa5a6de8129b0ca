"""Validation of the candidate new sources (builder.candidates) against the simulated world.

Inputs: ``truth_dir/withheld.csv`` (the plants the simulator emitted but withheld from the
detector's inventory, builder.withheld), ``truth_dir/truth.csv`` and
``detections_dir/candidates.csv``.

Rules (used by every figure here):

- *True source positions*: a withheld source's position is in withheld.csv. Every other
  emitting source's position is recovered from its truth crossings: the crossing minus
  downwind_km along the true wind (the simulator's plume frame), the median over its crossings.
  Only sources with at least one crossing in truth.csv (a plume across a track) count.
- A withheld source is *found* when a candidate lies within ``RADIUS_KM`` (10 km) of it.
  Recall = found / all withheld sources of the size class (>= 5, >= 10 Mt/yr), whether or not
  their plume was ever visible; ``seen`` restricts it to withheld sources with a visible plume
  (true peak >= builder.validate.MIN_PEAK_PPM, >= min soundings) on at least two different days.
- A candidate is *right* when a withheld source, or any other source with a plume in truth.csv,
  lies within RADIUS_KM of it (a real emitter is there: new, or listed but not attributed);
  ``precision_new`` counts only withheld sources. A candidate that is not right is *false*.
- False candidates per million km2: over the simulated latitude band (simulation.json
  ``parameters.lat_band``, or its region), the area searched for candidates.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from builder import physics
from builder.attribute import column

RADIUS_KM = 10.0
SIZE_CLASSES_MT_YR = (("all >= 1", 1.0), (">= 5", 5.0), (">= 10", 10.0))
MIN_PEAK_PPM = 0.2
TARGETS = {"recall_ge5": 0.40, "precision": 0.90}


def true_source_positions(truth: pd.DataFrame) -> pd.DataFrame:
    """source_id, latitude, longitude of every source with a truth crossing (module rules)."""
    if truth.empty:
        return pd.DataFrame(columns=["source_id", "latitude", "longitude"])
    lat, lon = column(truth, "cross_latitude"), column(truth, "cross_longitude")
    u, v, x = column(truth, "wind_u_m_s"), column(truth, "wind_v_m_s"), column(truth, "downwind_km")
    sp = np.hypot(u, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        de, dn = -x * u / sp, -x * v / sp                    # east/north km from crossing to source
    slat = lat + dn / 111.195
    slon = lon + de / (111.195 * np.cos(np.radians(lat)))
    df = pd.DataFrame({"source_id": truth["source_id"].astype(str), "latitude": slat, "longitude": slon})
    return df.dropna().groupby("source_id", as_index=False).median()


def _area_mkm2(meta: dict) -> float | None:
    """Area [million km2] of the simulated band or region."""
    r2 = physics.EARTH_RADIUS_KM ** 2
    region = meta.get("region")
    if region:
        lon0, lat0, lon1, lat1 = region
        return r2 * math.radians(lon1 - lon0) * (math.sin(math.radians(lat1)) - math.sin(math.radians(lat0))) / 1e6
    band = (meta.get("parameters") or {}).get("lat_band")
    if not band:
        return None
    return 2 * math.pi * r2 * (math.sin(math.radians(band[1])) - math.sin(math.radians(band[0]))) / 1e6


def _within(lat_a, lon_a, lat_b, lon_b, km: float) -> np.ndarray:
    """For each point a: is any point b within km (brute force on small tables)."""
    if len(lat_a) == 0 or len(lat_b) == 0:
        return np.zeros(len(lat_a), dtype=bool)
    d = physics.haversine_km(np.asarray(lat_a)[:, None], np.asarray(lon_a)[:, None],
                             np.asarray(lat_b)[None, :], np.asarray(lon_b)[None, :])
    return (d <= km).any(axis=1)


def pool(results: list[dict | None]) -> dict | None:
    """Figures over several months: counts summed, then the same ratios."""
    rs = [r for r in results if r]
    if not rs:
        return None
    keys = [k for k in rs[0] if k.startswith("n_")] + ["area_mkm2"]
    out = {k: sum((r.get(k) or 0) for r in rs) for k in keys}
    for key in ("ge1", "ge5", "ge10"):
        out[f"recall_{key}"] = out[f"n_found_{key}"] / out[f"n_{key}"] if out[f"n_{key}"] else None
        out[f"recall_seen_{key}"] = (out[f"n_seen_found_{key}"] / out[f"n_seen_{key}"]) if out[f"n_seen_{key}"] \
            else None
    n_c = out["n_candidates"]
    out["precision"] = out["n_right"] / n_c if n_c else None
    out["precision_new"] = out["n_right_withheld"] / n_c if n_c else None
    out["false_per_mkm2"] = out["n_false"] / out["area_mkm2"] if out["area_mkm2"] else None
    return out


def validate_candidates(truth_dir: Path, detections_dir: Path, min_soundings: int = 30) -> dict | None:
    """Figures of the module docstring, or None without withheld.csv or candidates.csv."""
    truth_dir, detections_dir = Path(truth_dir), Path(detections_dir)
    w_path, c_path = truth_dir / "withheld.csv", detections_dir / "candidates.csv"
    if not (w_path.exists() and c_path.exists()):
        return None
    withheld = pd.read_csv(w_path, dtype={"source_id": str})
    cands = pd.read_csv(c_path, low_memory=False)
    truth = pd.read_csv(truth_dir / "truth.csv", low_memory=False)
    meta_path = truth_dir / "simulation.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    clat, clon = column(cands, "latitude"), column(cands, "longitude")
    wlat, wlon = column(withheld, "latitude"), column(withheld, "longitude")
    found = _within(wlat, wlon, clat, clon, RADIUS_KM)
    # seen: a visible plume on >= 2 different days
    t = truth.loc[(column(truth, "peak_ppm") >= MIN_PEAK_PPM) & (column(truth, "n_soundings_20km") >= min_soundings)]
    days = pd.to_datetime(t["time_utc"], utc=True).dt.floor("D")
    n_days = days.groupby(t["source_id"].astype(str)).nunique()
    seen = withheld["source_id"].astype(str).map(n_days).fillna(0).to_numpy() >= 2
    mt = column(withheld, "emission_t_yr") / 1e6
    by_size = []
    for name, lo in SIZE_CLASSES_MT_YR:
        sel = mt >= lo
        n, k = int(sel.sum()), int((found & sel).sum())
        ns, ks = int((sel & seen).sum()), int((found & sel & seen).sum())
        by_size.append({"size": name, "n": n, "n_found": k, "recall": k / n if n else None,
                        "n_seen": ns, "n_seen_found": ks, "recall_seen": ks / ns if ns else None})
    pos = true_source_positions(truth)
    right_new = _within(clat, clon, wlat, wlon, RADIUS_KM)
    right = right_new | _within(clat, clon, column(pos, "latitude"), column(pos, "longitude"), RADIUS_KM)
    n_c = len(cands)
    area = _area_mkm2(meta)
    n_false = int((~right).sum())
    recall5 = next(r["recall"] for r in by_size if r["size"] == ">= 5")
    precision = int(right.sum()) / n_c if n_c else None
    flat = {}
    for r, key in zip(by_size, ("ge1", "ge5", "ge10")):
        flat.update({f"n_{key}": r["n"], f"n_found_{key}": r["n_found"], f"recall_{key}": r["recall"],
                     f"n_seen_{key}": r["n_seen"], f"n_seen_found_{key}": r["n_seen_found"],
                     f"recall_seen_{key}": r["recall_seen"]})
    return {
        **flat,
        "rules": {"radius_km": RADIUS_KM, "min_peak_ppm": MIN_PEAK_PPM, "min_soundings_20km": min_soundings},
        "n_withheld": int(len(withheld)), "n_candidates": n_c, "n_right": int(right.sum()),
        "n_right_withheld": int(right_new.sum()), "n_false": n_false,
        "precision": precision, "precision_new": int(right_new.sum()) / n_c if n_c else None,
        "recall_by_size": by_size, "area_mkm2": area,
        "false_per_mkm2": n_false / area if area else None,
        "targets": TARGETS,
        "meets": {"recall_ge5": None if recall5 is None else recall5 >= TARGETS["recall_ge5"],
                  "precision": None if precision is None else precision >= TARGETS["precision"]},
    }


def candidate_lines(v: dict | None) -> list[str]:
    """The candidate part of builder.validate.format_validation."""
    if not v:
        return []

    def pct(x):
        return "n/a" if x is None else f"{100 * x:.0f}%"

    def mark(key):
        m = v.get("meets", {}).get(key)
        return "n/a" if m is None else ("OK" if m else "MISS")
    return [
        f"Validation against simulator truth: candidate new sources ({v['n_withheld']} sources withheld from "
        f"the detector's inventory; radius {v['rules']['radius_km']:g} km)",
        f"  {'candidate recall, withheld >= 5 Mt/yr':<46}{pct(v['recall_ge5']):>10}  {'>= 40%':<12}"
        f"{mark('recall_ge5')}  ({v['n_found_ge5']}/{v['n_ge5']}; with a visible plume on >= 2 days: "
        f"{v['n_seen_found_ge5']}/{v['n_seen_ge5']})",
        f"  {'candidate recall, withheld >= 10 Mt/yr':<46}{pct(v['recall_ge10']):>10}  "
        f"{'':<12}     ({v['n_found_ge10']}/{v['n_ge10']})",
        f"  {'candidate precision (a simulated source near)':<46}{pct(v['precision']):>10}  {'>= 90%':<12}"
        f"{mark('precision')}  ({v['n_right']}/{v['n_candidates']}; a withheld one: {v['n_right_withheld']})",
        f"  {'false candidates per million km2':<46}"
        f"{'n/a' if v['false_per_mkm2'] is None else format(v['false_per_mkm2'], '.3f'):>10}",
        "",
    ]
