"""Static assets: vendored JS/CSS from node_modules, our own CSS/JS, the basemap.

Third-party files are never committed: ``npm ci`` (package.json at the repo
root) installs them into node_modules/ and the build copies the few files the
site needs into site/assets/vendor/<package>/ together with each licence.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from builder.errors import AssetError

#: npm package -> files copied into assets/vendor/<package>/ (paths inside the package).
VENDOR = {
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png", "dist/images/layers-2x.png",
                "dist/images/marker-icon.png", "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png",
                "LICENSE"],
    "leaflet.markercluster": ["dist/leaflet.markercluster.js", "dist/MarkerCluster.css",
                              "dist/MarkerCluster.Default.css", "MIT-LICENCE.txt"],
    "leaflet.fullscreen": ["Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg", "LICENSE"],
}
STATIC_DIR = Path(__file__).parent / "static"


def _dest_name(rel: str) -> str:
    return rel[len("dist/"):] if rel.startswith("dist/") else rel


def copy_vendor(node_modules: Path, out_dir: Path) -> list[dict]:
    """Copy vendored files; return a manifest (package, version, licence, files)."""
    manifest = []
    for pkg, files in VENDOR.items():
        pkg_dir = node_modules / pkg
        meta_file = pkg_dir / "package.json"
        if not meta_file.exists():
            raise AssetError(f"{pkg_dir} is missing: run `npm ci --no-audit --no-fund` in the repository root")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        copied = []
        for rel in files:
            src = pkg_dir / rel
            if not src.exists():
                if "LICEN" in rel:
                    continue
                raise AssetError(f"{src} is missing (unexpected {pkg} version?)")
            dst = out_dir / "assets" / "vendor" / pkg / _dest_name(rel)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied.append(_dest_name(rel))
        manifest.append(dict(package=pkg, version=meta.get("version", ""), license=meta.get("license", ""),
                             files=copied))
    return manifest


def copy_static(out_dir: Path) -> None:
    """Copy our own CSS/JS (builder/render/static) into assets/."""
    for src in sorted(STATIC_DIR.iterdir()):
        if src.is_file():
            dst = out_dir / "assets" / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)


def _decode_arcs(topo: dict) -> list[list[list[float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append([round(x * sx + tx, 3), round(y * sy + ty, 3)])
        arcs.append(pts)
    return arcs


def _ring(arcs, indexes) -> list[list[float]]:
    out: list[list[float]] = []
    for i in indexes:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(pts if not out else pts[1:])
    return out


def topojson_to_geojson(topo: dict, obj: str) -> dict:
    """Decode one TopoJSON object (Polygon/MultiPolygon geometries) into a GeoJSON FeatureCollection."""
    arcs = _decode_arcs(topo)
    features = []
    for g in topo["objects"][obj]["geometries"]:
        if g["type"] == "Polygon":
            coords = [_ring(arcs, r) for r in g["arcs"]]
        elif g["type"] == "MultiPolygon":
            coords = [[_ring(arcs, r) for r in poly] for poly in g["arcs"]]
        else:
            continue
        features.append({"type": "Feature", "properties": {"name": g.get("properties", {}).get("name", "")},
                         "geometry": {"type": g["type"], "coordinates": coords}})
    return {"type": "FeatureCollection", "features": features}


def write_basemap(node_modules: Path, out_dir: Path) -> None:
    """Natural Earth countries (world-atlas, public domain data) under assets/basemap/ (builder.render.basemap)."""
    from builder.render import basemap

    basemap.write_basemap(node_modules, out_dir)
