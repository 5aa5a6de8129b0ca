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


def _geoms_rings(geom):
    if geom["type"] in ("Polygon", "MultiLineString"):
        return geom["coordinates"]
    if geom["type"] == "MultiPolygon":
        return [ring for poly in geom["coordinates"] for ring in poly]
    if geom["type"] == "LineString":
        return [geom["coordinates"]]
    if geom["type"] == "GeometryCollection":
        return [r for g in geom["geometries"] for r in _geoms_rings(g)]
    return []


def test_basemap_has_no_edge_longer_than_180_degrees(tmp_path):
    node_modules = REPO / "node_modules"
    if not (node_modules / "world-atlas").is_dir():
        pytest.skip("npm ci has not been run")
    assets.write_basemap(node_modules, tmp_path)
    folder = tmp_path / "assets/basemap"
    world = json.loads((folder / "world.geojson").read_text(encoding="utf-8"))
    geoms = [("world " + f["properties"]["name"], f["geometry"]) for f in world["features"]]
    for cell in sorted((folder / "cells").glob("*.json")):
        c = json.loads(cell.read_text(encoding="utf-8"))
        geoms += [(cell.stem, g) for g in c["fill"] + c["lines"]]
    assert len(list((folder / "cells").glob("*.json"))) == 36 * 18   # every cell, empty ones too
    for name, geom in geoms:
        for ring in _geoms_rings(geom):
            for a, b in zip(ring, ring[1:]):
                assert abs(b[0] - a[0]) <= 180.0, (name, a, b)
    by_name = {f["properties"]["name"]: f for f in world["features"]}
    # nothing lost: Fiji still on both sides of the date line, Antarctica and Russia whole
    fiji = [pt[0] for ring in _rings(by_name["Fiji"]) for pt in ring]
    assert min(fiji) < -179 and max(fiji) > 179
    assert shape(by_name["Antarctica"]["geometry"]).area == pytest.approx(6050, rel=0.02)
    assert shape(by_name["Russia"]["geometry"]).area == pytest.approx(2927.5, rel=0.02)
    fine = json.loads((folder / "cells/10_50.json").read_text(encoding="utf-8"))   # Poland's cell
    assert sum(shape(g).area for g in fine["fill"]) > 40 and fine["lines"]


def test_split_feature_leaves_ordinary_countries_alone():
    f = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                           "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}
    assert antimeridian.split_feature(f) is f
