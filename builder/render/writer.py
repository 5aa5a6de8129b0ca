"""Writing files: pages, JSON, CSV and GeoJSON, all deterministic.

JSON is written with sorted keys, no NaN (-> null) and ``<``, ``>``, ``&``
escaped as ``\\u003c`` etc., so a hostile string can never become markup even
if a JSON file is served or embedded as HTML.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from builder.csvsafe import csv_safe, safe_text_columns  # the one shared helper (also for build/*.csv)
from builder.render.model import clean, records
from builder.render.pagekeys import PageKeys, recorders


class SiteWriter:
    """Writes files under one output folder and counts them. With ``keys`` (builder/render/pagekeys.py)
    a page whose inputs are unchanged is carried over from the published site instead of rendered."""

    def __init__(self, out_dir: Path, keys: PageKeys | None = None):
        self.out_dir = Path(out_dir)
        self.n_files = 0
        self.n_bytes = 0
        self.pages: list[str] = []
        self.keys = keys

    def write(self, rel_path: str, text: str) -> Path:
        path = self.out_dir / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.unlink(missing_ok=True)  # never write through a hard link into the published site
        path.write_bytes(data)
        self.n_files += 1
        self.n_bytes += len(data)
        return path

    def page(self, rel_path: str, html: str) -> None:
        self.write(rel_path, html)
        self.pages.append(rel_path)

    def render_page(self, rel_path: str, template: str, values: dict, lookups: dict, render) -> None:
        """Write page ``rel_path``: ``render(values, lookups)`` returns its HTML. ``values`` are all the
        template's inputs except the site-wide ``lookups`` (mapping or one-argument function), of
        which only the parts the template reads count (builder/render/pagekeys.py)."""
        if self.keys is None:
            self.page(rel_path, render(values, lookups))
            return
        key = self.keys.key(template, values)
        if self.keys.try_carry(rel_path, key, lookups, self.out_dir / rel_path):
            self.pages.append(rel_path)
            return
        recs = recorders(lookups)
        self.page(rel_path, render(values, recs))
        self.keys.rendered_page(rel_path, key, lookups, recs)

    def json(self, rel_path: str, obj) -> None:
        self.write(rel_path, dumps(obj) + "\n")

    def csv(self, rel_path: str, df: pd.DataFrame) -> None:
        self.write(rel_path, safe_text_columns(df).to_csv(index=False, lineterminator="\n"))

    def csv_rows(self, rel_path: str, columns: list[str], rows: list[dict]) -> None:
        """Small CSV from plain rows (much faster than pandas for one page's table)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows([["" if r.get(c) is None else csv_safe(r.get(c)) for c in columns] for r in rows])
        self.write(rel_path, buf.getvalue())


def dumps(obj) -> str:
    """Deterministic, markup-safe JSON (NaN -> null, numpy scalars -> numbers)."""
    kw = dict(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    try:
        text = json.dumps(obj, default=clean, **kw)
    except (ValueError, TypeError):  # NaN somewhere, or an exotic type: clean the whole tree
        text = json.dumps(_clean_tree(obj), **kw)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clean_tree(obj):
    if isinstance(obj, dict):
        return {str(k): _clean_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_tree(v) for v in obj]
    return clean(obj)


def iso_times(df: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as ISO 8601 UTC text ("2018-08-01T13:36:21Z") for CSV/GeoJSON."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def geojson(df: pd.DataFrame, lat: str = "latitude", lon: str = "longitude") -> dict:
    """Point FeatureCollection with every other column as a property."""
    features = []
    for row in records(df):
        props = {k: v for k, v in row.items() if k not in (lat, lon)}
        geom = None
        if row.get(lat) is not None and row.get(lon) is not None:
            geom = {"type": "Point", "coordinates": [row[lon], row[lat]]}
        features.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def overpass_geojson(df: pd.DataFrame) -> dict:
    """Overpasses as track segments (LineString) with all columns as properties."""
    features = []
    for row in records(df):
        coords = [[row.get("track_lon0"), row.get("track_lat0")], [row.get("track_lon1"), row.get("track_lat1")]]
        geom = {"type": "LineString", "coordinates": coords} if None not in sum(coords, []) else None
        features.append({"type": "Feature", "geometry": geom, "properties": row})
    return {"type": "FeatureCollection", "features": features}
