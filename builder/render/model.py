"""Plain per-page data extracted from a BuildResult (no HTML here).

Which sources get a page: every source with at least one overpass or one
attributed detection. The others (most of a 16k inventory) appear in the
sources index and on the home map only, which keeps the site small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from builder import physics
from builder.render import urls
from builder.results import BuildResult


def clean(value):
    """A JSON/template-friendly scalar: NaN/NaT -> None, numpy -> python."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as dicts of plain Python scalars (NaN -> None), vectorised per column."""
    cols = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            col = col.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        values = col.astype(object).where(col.notna(), None).tolist()
        if col.dtype == object:
            values = [clean(v) for v in values]
        cols[c] = values
    names = list(cols)
    return [dict(zip(names, row)) for row in zip(*cols.values())] if names else [{} for _ in range(len(df))]


def day_number(time_utc) -> float | None:
    """Days since 1970-01-01 of an ISO time (for time axes)."""
    if time_utc is None:
        return None
    t = pd.Timestamp(time_utc)
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    return (t - pd.Timestamp(0, tz="UTC")).total_seconds() / 86400.0


def wind_text(u, v) -> str:
    """'4.9 m/s from 204°' (meteorological direction: where the wind comes from)."""
    if u is None or v is None:
        return "—"
    speed = math.hypot(u, v)
    frm = (math.degrees(math.atan2(-u, -v)) + 360.0) % 360.0
    return f"{speed:.1f} m/s from {frm:.0f}°"


def parse_alternatives(text) -> list[tuple[str, float | None]]:
    """'id:score|id:score' -> [(id, score)] (ids may contain ':')."""
    out = []
    for part in str(text or "").split("|"):
        if not part:
            continue
        sid, _, score = part.rpartition(":")
        try:
            out.append((sid, float(score)))
        except ValueError:
            out.append((part, None))
    return out


@dataclass
class Model:
    """Lookups shared by all pages."""

    result: BuildResult
    sources: list[dict]
    source_by_id: dict[str, dict]
    summary_by_id: dict[str, dict]
    detections: list[dict]
    detection_by_id: dict[str, dict]
    overpasses_by_source: dict[str, list[dict]]
    detections_by_source: dict[str, list[dict]]
    profiles: dict[str, list[dict]]
    candidates: list[dict]
    candidate_of_detection: dict[str, str] = field(default_factory=dict)
    page_sources: list[str] = field(default_factory=list)
    page_set: set[str] = field(default_factory=set)

    def source_href(self, source_id: str) -> str | None:
        """Site path of a source's page, or None when it has none."""
        return urls.source_page(source_id) if source_id in self.page_set else None


def build_model(result: BuildResult) -> Model:
    """Index the result tables for page rendering (stable, sorted order everywhere)."""
    src = result.sources.sort_values("source_id", kind="stable")
    sources = records(src)
    by_id = {s["source_id"]: s for s in sources}
    summ = {s["source_id"]: s for s in records(result.source_summary)}
    dets = records(result.detections.sort_values(["time_utc", "detection_id"], kind="stable"))
    for d in dets:
        d["source_id"] = d.get("source_id") or ""
    det_by_id = {d["detection_id"]: d for d in dets}
    ovp: dict[str, list[dict]] = {}
    for o in records(result.overpasses.sort_values(["time_utc", "overpass_id"], kind="stable")):
        o["detection_id"] = o.get("detection_id") or ""
        ovp.setdefault(o["source_id"], []).append(o)
    det_by_src: dict[str, list[dict]] = {}
    for d in dets:
        if d["source_id"]:
            det_by_src.setdefault(d["source_id"], []).append(d)
    profiles: dict[str, list[dict]] = {}
    if len(result.profiles):
        for p in records(result.profiles.sort_values(["detection_id", "along_km"], kind="stable")):
            profiles.setdefault(p["detection_id"], []).append(p)
    cands = records(result.candidates.sort_values("candidate_id", kind="stable"))
    cand_of = {}
    cand_ovp: dict[str, list[dict]] = {}
    co = getattr(result, "candidate_overpasses", None)
    if co is not None and len(co):
        for o in records(co.sort_values(["source_id", "time_utc"], kind="stable")):
            cand_ovp.setdefault(o["source_id"], []).append(o)
    for c in cands:
        c["overpasses"] = cand_ovp.get(c["candidate_id"], [])
        ids = [x for x in str(c.get("nearest_source_ids") or "").split("|") if x]
        kms = [x for x in str(c.get("nearest_source_km") or "").split("|") if x]
        c["nearest"] = list(zip(ids, kms))
        c["members"] = [x for x in str(c.get("detection_ids") or "").split("|") if x]
        for did in c["members"]:
            cand_of[did] = c["candidate_id"]
    page_sources = sorted(s for s in by_id if ovp.get(s) or det_by_src.get(s))
    return Model(result, sources, by_id, summ, dets, det_by_id, ovp, det_by_src, profiles, cands, cand_of,
                 page_sources, set(page_sources))


def kg_s_to_t_yr(v):
    return None if v is None else v * physics.SECONDS_PER_YEAR / 1e3


def t_yr_to_kg_s(v):
    return None if v is None else v * 1e3 / physics.SECONDS_PER_YEAR


def source_scatter_point(model: Model, source_id: str) -> dict | None:
    """Combined observed/inventory of one source over all its measured overpasses (builder.compare)."""
    s = model.summary_by_id.get(source_id)
    if not s or not s.get("n_measured") or s.get("ratio") is None or s.get("inventory_kg_s") is None:
        return None
    return dict(inventory=s["inventory_kg_s"], observed=s.get("observed_kg_s"), observed_unc=s.get("observed_unc_kg_s"),
                ratio=s["ratio"], ratio_unc=s.get("ratio_unc"), n_measured=s["n_measured"],
                n_detected=s.get("n_detected") or 0, label=model.source_by_id[source_id]["name"], source_id=source_id,
                inventory_name=model.source_by_id[source_id].get("inventory") or "")


def iso_day(time_utc) -> str:
    """'2018-08-03' from an ISO time."""
    return str(time_utc or "")[:10]
