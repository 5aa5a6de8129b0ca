"""The JSON data files read by the site's scripts (assets/data/): the sources table, the home
map's points, detections, candidates and ODIAC hot spots.

sources.json is compact (issue 12: 16,461 rows were 2.8 MB): repeated texts (country, region,
kind, fuel, inventory) are stored once in ``lookups`` and referenced by index, numbers are
rounded to what the pages show, and positions live only in map-sources.json. Row i of
sources.json is row i of map-sources.json. ``Atlas.loadSources`` in static/atlas.js is the one
reader of this format.
"""

from __future__ import annotations

from builder import countries
from builder.render import fmt, urls
from builder.render.model import Model, iso_day
from builder.render.writer import SiteWriter

#: sources.json columns; those in LOOKUP_COLUMNS hold an index into ``lookups[column]``.
SOURCE_COLUMNS = ["id", "name", "country", "region", "kind", "fuel", "emission_t_yr", "inventory", "n_overpasses",
                  "n_detected", "ratio", "href", "site_units"]
LOOKUP_COLUMNS = ["country", "region", "kind", "fuel", "inventory"]


def _round(v, digits: int):
    """A JSON-compact number: rounded, integers without '.0', None when missing."""
    if not fmt.finite(v):
        return None
    v = round(float(v), digits)
    return int(v) if digits == 0 or v == int(v) else v


def _by_emission(model: Model) -> list[dict]:
    """Sources sorted by emission, largest first (the order of both sources files)."""
    return sorted(model.sources, key=lambda s: (-(s.get("emission_t_yr") or 0), s["source_id"]))


def source_rows(model: Model, site_units: dict[str, dict]) -> dict:
    """The sources table: columns, lookups and one row per source (see the module docstring).
    ``site_units`` maps a source to its site when other catalogue units share it: the ratio
    then compares the observations with the whole site's inventory (the page says so)."""
    lookups: dict[str, dict[str, int]] = {c: {} for c in LOOKUP_COLUMNS}

    def code(column: str, text) -> int:
        return lookups[column].setdefault(str(text or ""), len(lookups[column]))
    rows = []
    for s in _by_emission(model):
        sid = s["source_id"]
        sm = model.summary_by_id.get(sid, {})
        site = site_units.get(sid)
        rows.append([sid, s.get("name") or "", code("country", countries.country_name(s.get("country"))),
                     code("region", countries.region_name(s.get("country"))), code("kind", s.get("kind")),
                     code("fuel", s.get("fuel")), _round(s.get("emission_t_yr"), 0), code("inventory", s.get("inventory")),
                     sm.get("n_overpasses") or 0, sm.get("n_detected") or 0, _round(sm.get("ratio"), 3),
                     model.source_href(sid) or "", len(site["units"]) if site else 1])
    return dict(columns=SOURCE_COLUMNS, lookups={c: list(v) for c, v in lookups.items()}, rows=rows)


def write_data_files(model: Model, writer: SiteWriter, site_units: dict[str, dict]) -> None:
    """JSON files read by the home map and the sources table (assets/data/)."""
    ordered = _by_emission(model)
    writer.json("assets/data/sources.json", source_rows(model, site_units))
    # The home map's light copy (row i = row i of sources.json, which is fetched only when a marker is used)
    writer.json("assets/data/map-sources.json", dict(
        columns=["lat", "lon", "emission_kt_yr", "n_overpasses", "n_detected", "has_page"],
        rows=[[_round(s.get("latitude"), 3), _round(s.get("longitude"), 3),
               _round((s.get("emission_t_yr") or 0) / 1e3, 0),
               model.summary_by_id.get(s["source_id"], {}).get("n_overpasses") or 0,
               model.summary_by_id.get(s["source_id"], {}).get("n_detected") or 0,
               1 if model.source_href(s["source_id"]) else 0] for s in ordered]))
    hot = [s for s in model.sources if s.get("kind") == "odiac_cluster"]
    if hot:  # the home map's hidden ODIAC layer: id, lat, lon, radius_km, emission_t_yr, name, href
        writer.json("assets/data/odiac.json", dict(
            columns=["id", "lat", "lon", "radius_km", "emission_t_yr", "name", "href"],
            rows=[[s["source_id"], s.get("latitude"), s.get("longitude"), s.get("radius_km"), s.get("emission_t_yr"),
                   s.get("name") or "", model.source_href(s["source_id"]) or ""] for s in hot]))
    det_rows = [[d["detection_id"], d["latitude"], d["longitude"], 1 if d["source_id"] else 0,
                 d.get("source_name") or "", d.get("emission_kg_s"), d.get("emission_unc_kg_s"),
                 iso_day(d.get("time_utc")), urls.detection_page(d["detection_id"])] for d in model.detections]
    writer.json("assets/data/detections.json", dict(
        columns=["id", "lat", "lon", "attributed", "source_name", "emission_kg_s", "emission_unc_kg_s", "date",
                 "href"], rows=det_rows))
    cand_rows = [[c["candidate_id"], c["latitude"], c["longitude"], c.get("n_detections"), c.get("n_orbits"),
                  c.get("mean_emission_kg_s"), "candidates/#" + urls.slugify(c["candidate_id"])]
                 for c in model.candidates]
    writer.json("assets/data/candidates.json", dict(
        columns=["id", "lat", "lon", "n_detections", "n_orbits", "mean_emission_kg_s", "href"], rows=cand_rows))
