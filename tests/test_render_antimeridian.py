"""The basemap is drawable: no edge across the antimeridian (builder.render.antimeridian)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import shape

from builder.render import antimeridian, assets

REPO = Path(__file__).resolve().parents[1]


def _rings(feature):
    geom = feature["geometry"]
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    return [ring for poly in polys for ring in poly]


def test_square_across_the_date_line_is_cut_in_two():
    ring = [[179.0, -17.0], [-179.0, -17.0], [-179.0, -16.0], [179.0, -16.0], [179.0, -17.0]]
    assert antimeridian.crosses([ring])
    parts = antimeridian.split_polygon([ring])
    assert len(parts) == 2 and not any(antimeridian.crosses(p) for p in parts)
    assert sum(shape({"type": "Polygon", "coordinates": p}).area for p in parts) == pytest.approx(2.0)
    assert sorted(round(min(pt[0] for pt in p[0])) for p in parts) == [-180, 179]


def test_basemap_has_no_edge_longer_than_180_degrees(tmp_path):
    node_modules = REPO / "node_modules"
    if not (node_modules / "world-atlas").is_dir():
        pytest.skip("npm ci has not been run")
    assets.write_basemap(node_modules, tmp_path)
    geo = json.loads((tmp_path / "assets/basemap/countries.geojson").read_text(encoding="utf-8"))
    by_name = {f["properties"]["name"]: f for f in geo["features"]}
    for f in geo["features"]:
        for ring in _rings(f):
            for a, b in zip(ring, ring[1:]):
                assert abs(b[0] - a[0]) <= 180.0, (f["properties"]["name"], a, b)
    # nothing lost: Fiji still on both sides of the date line, Antarctica and Russia whole
    fiji = [pt[0] for ring in _rings(by_name["Fiji"]) for pt in ring]
    assert min(fiji) < -179 and max(fiji) > 179
    assert shape(by_name["Antarctica"]["geometry"]).area == pytest.approx(6050, rel=0.01)
    assert shape(by_name["Russia"]["geometry"]).area == pytest.approx(2927.5, rel=0.01)
