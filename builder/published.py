"""What the atlas publishes as a detection, and of which kind.

- ``targeted``: the forced measurement at a known source's predicted plume
  crossing (builder.overpass) passed the targeted-detection thresholds; this is
  what the site calls a *plume*.
- ``anomaly``: a bump found by the blind along-track scan (builder.detect).
  With a source upwind it carries that source's id; without one it is an
  *unexplained anomaly*: on realistic data most of these are retrieval
  artefacts, so they are listed as anomalies, never as plumes.
- ``candidate``: an unexplained anomaly that recurs at one place over several
  orbits (builder.candidates.find_candidates): a candidate new source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder import tables


def classify_anomalies(detections: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """``detections`` (blind scan) with ``detection_kind`` = candidate | anomaly."""
    ids: set[str] = set()
    if candidates is not None and len(candidates) and "detection_ids" in candidates.columns:
        for v in candidates["detection_ids"].fillna("").astype(str):
            ids.update(x for x in v.split("|") if x)
    kind = np.where(detections["detection_id"].astype(str).isin(ids), "candidate", "anomaly") \
        if len(detections) else np.array([], dtype=object)
    return detections.assign(detection_kind=kind)


def targeted_detections(overpasses: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """One detections.csv row per overpass flagged ``detected`` (targeted)."""
    if overpasses is None or len(overpasses) == 0:
        return pd.DataFrame(columns=tables.DETECTIONS_CSV_LEAD)
    o = overpasses.loc[overpasses["detected"].fillna(False).astype(bool)]
    names = pd.Series(dtype=object)
    if sources is not None and len(sources):
        names = sources.drop_duplicates("source_id").set_index("source_id")["name"]
    return pd.DataFrame({
        "detection_id": o["overpass_id"].astype(str), "detection_kind": "targeted",
        "orbit": o["orbit"], "instrument": o["instrument"], "time_utc": o["time_utc"],
        "latitude": o["cross_latitude"], "longitude": o["cross_longitude"],
        "emission_kg_s": o["emission_kg_s"], "emission_unc_kg_s": o["emission_unc_kg_s"],
        "wind_u_m_s": o["wind_u_m_s"], "wind_v_m_s": o["wind_v_m_s"],
        "source_id": o["source_id"], "source_name": o["source_id"].map(names).fillna(""),
        "source_downwind_km": o["downwind_km"], "inventory_kg_s": o["inventory_kg_s"],
        "significance": o["significance"], "blended_with": o["blended_with"],
        "flag_parallel_wind": o["flag_parallel_wind"], "flag_water": o["flag_water"],
        "anomaly_id": o["detection_id"],
    }).assign(**({"observations": o["observations"]} if "observations" in o else {}))


def published_detections(detections: pd.DataFrame, overpasses: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """detections.csv: targeted detections then blind-scan anomalies and candidates,
    the public lead columns first (tables.DETECTIONS_CSV_LEAD), then the rest."""
    blind = detections if "detection_kind" in detections.columns else classify_anomalies(detections, None)
    frames = [f for f in (targeted_detections(overpasses, sources), blind) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=tables.DETECTIONS_CSV_LEAD)
    for c in tables.DETECTIONS_CSV_LEAD:
        if c not in out.columns:
            out[c] = np.nan
    rest = [c for c in out.columns if c not in tables.DETECTIONS_CSV_LEAD]
    return out[tables.DETECTIONS_CSV_LEAD + rest]
