"""Basemap polygons that Leaflet can draw: split where they cross the antimeridian.

Natural Earth (world-atlas) rings of Russia, Fiji and Antarctica jump from
+180 to -180 degrees of longitude; drawn as they are, each jump becomes an edge
across the whole map (a line at 17 deg S through Fiji, a band across the
Arctic, Antarctica's edge). :func:`split_feature` unwraps each ring so it is
continuous, closes rings that go round a pole along that pole, and cuts the
result into its parts west and east of 180 deg, so that no edge spans more than
180 deg of longitude (tested).
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon, box, mapping
from shapely.affinity import translate

WORLD = box(-180.0, -90.0, 180.0, 90.0)


def _unwrap(ring: list) -> list:
    """A ring with longitudes made continuous (no step larger than 180 deg)."""
    xy = np.asarray(ring, dtype=float)
    lon = xy[:, 0].copy()
    step = (np.diff(lon) + 180.0) % 360.0 - 180.0
    lon[1:] = lon[0] + np.cumsum(step)
    out = np.column_stack([lon, xy[:, 1]])
    drift = out[-1, 0] - out[0, 0]
    if abs(drift) > 180.0:   # the ring goes round a pole: close it along that pole
        pole = -90.0 if out[:, 1].mean() < 0 else 90.0
        out = np.vstack([out, [[out[-1, 0], pole], [out[0, 0], pole]], out[:1]])
    return out.tolist()


def crosses(rings: list) -> bool:
    """Does any edge of these rings span more than 180 deg of longitude?"""
    return any(abs(b[0] - a[0]) > 180.0 for ring in rings for a, b in zip(ring, ring[1:]))


def _valid(shape):
    return shape if shape.is_valid else shape.buffer(0)


def split_polygon(rings: list) -> list[list]:
    """One GeoJSON polygon (exterior + holes) -> polygons within [-180, 180]."""
    if not crosses(rings):
        return [rings]
    shape = _valid(Polygon(_unwrap(rings[0])))
    for ring in rings[1:]:   # a hole inside the outer ring, else (Antarctica) another piece of the same land
        other = _valid(Polygon(_unwrap(ring)))
        shape = shape.difference(other) if shape.contains(other) else shape.union(other)
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        piece = translate(shape, xoff=shift).intersection(WORLD)
        for geom in getattr(piece, "geoms", [piece]):
            if isinstance(geom, Polygon) and not geom.is_empty and geom.area > 0:
                parts.append(mapping(geom)["coordinates"])
    return [[_along_poles([[round(v, 6) for v in pt] for pt in ring]) for ring in poly] for poly in parts]


def _along_poles(ring: list) -> list:
    """Edges that run along a pole from +180 to -180 get a point every 90 deg (same shape, short edges)."""
    out = ring[:1]
    for a, b in zip(ring, ring[1:]):
        if abs(b[0] - a[0]) > 180.0 and abs(a[1]) >= 89.9 and abs(b[1]) >= 89.9:
            n = int(abs(b[0] - a[0]) // 90.0) + 1
            out += [[a[0] + (b[0] - a[0]) * k / n, a[1]] for k in range(1, n)]
        out.append(b)
    return out


def split_feature(feature: dict) -> dict:
    """A GeoJSON (Multi)Polygon feature with its antimeridian crossings split."""
    geom = feature["geometry"]
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    if not any(crosses(p) for p in polys):
        return feature
    out = [part for p in polys for part in split_polygon(p)]
    return dict(feature, geometry={"type": "MultiPolygon", "coordinates": out})


