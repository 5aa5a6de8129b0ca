"""The offline basemap: a light world layer for world views, and finer 10-degree
cells loaded only where the map is zoomed in.

- ``assets/basemap/world.geojson``: Natural Earth 1:110m countries (~190 kB),
  drawn below zoom :data:`FINE_MIN_ZOOM` (home, candidates).
- ``assets/basemap/cells/<lon>_<lat>.json``: Natural Earth 1:50m countries cut
  into :data:`CELL_DEG`-degree cells, each ``{"fill": [geometries], "lines":
  [geometries]}``: land without outline (so the cuts do not show) plus the
  country outlines as lines. A zoomed map (source and detection pages) loads
  the few cells in view (assets/atlas-map.js), not the 1.7 MB world at 1:50m.

Both are split at the antimeridian (builder.render.antimeridian). Coordinates
are rounded to 3 decimals (~100 m). Built once per process and copied.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from builder.render.antimeridian import split_feature

WORLD_SOURCE = ("world-atlas", "countries-110m.json")
FINE_SOURCE = ("world-atlas", "countries-50m.json")
#: Cell size [degrees] of the fine basemap.
CELL_DEG = 10
#: Zoom from which maps draw the fine cells instead of the world layer (kept in step with atlas-map.js).
FINE_MIN_ZOOM = 6
_DIGITS = re.compile(r"(-?\d+\.\d{3})\d+")


def _compact(obj) -> str:
    return _DIGITS.sub(r"\1", json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


def _countries(path: Path) -> list[dict]:
    from builder.render.assets import topojson_to_geojson

    geo = topojson_to_geojson(json.loads(path.read_text(encoding="utf-8")), "countries")
    return [split_feature(f) for f in geo["features"]]


@lru_cache(maxsize=2)
def world_text(path: str, mtime: float) -> str:
    """The world layer as compact GeoJSON text."""
    return _compact({"type": "FeatureCollection", "features": _countries(Path(path))})


@lru_cache(maxsize=2)
def cell_texts(path: str, mtime: float) -> dict[str, str]:
    """'<lon>_<lat>' -> compact JSON of that cell, for every cell of the globe (empty ones too,
    so the browser never asks for a missing file)."""
    from shapely.geometry import box, mapping, shape
    from shapely.strtree import STRtree

    shapes = []
    for f in _countries(Path(path)):
        s = shape(f["geometry"])
        shapes.append(s if s.is_valid else s.buffer(0))
    tree = STRtree(shapes)
    out = {}
    for lon in range(-180, 180, CELL_DEG):
        for lat in range(-90, 90, CELL_DEG):
            cell = box(lon, lat, lon + CELL_DEG, lat + CELL_DEG)
            fill, lines = [], []
            for i in sorted(tree.query(cell)):
                part = shapes[i].intersection(cell)
                if part.is_empty or part.area == 0:
                    continue
                fill.append(mapping(part))
                edge = shapes[i].boundary.intersection(cell)
                if not edge.is_empty:
                    lines.append(mapping(edge))
            out[f"{lon}_{lat}"] = _compact({"fill": fill, "lines": lines})
    return out


def write_basemap(node_modules: Path, out_dir: Path) -> None:
    """Write world.geojson and cells/ under ``out_dir``/assets/basemap/."""
    from builder.errors import AssetError

    world, fine = (node_modules / pkg / name for pkg, name in (WORLD_SOURCE, FINE_SOURCE))
    for src in (world, fine):
        if not src.exists():
            raise AssetError(f"{src} is missing: run `npm ci --no-audit --no-fund` in the repository root")
    dest = out_dir / "assets" / "basemap"
    (dest / "cells").mkdir(parents=True, exist_ok=True)
    (dest / "world.geojson").write_text(world_text(str(world), world.stat().st_mtime), encoding="utf-8")
    for name, text in cell_texts(str(fine), fine.stat().st_mtime).items():
        (dest / "cells" / f"{name}.json").write_text(text, encoding="utf-8")
