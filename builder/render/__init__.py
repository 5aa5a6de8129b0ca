"""The static HTML atlas: render a BuildResult into a folder of pages and data.

``render_site(cfg, result, out_dir)`` writes the whole site (the caller swaps
folders atomically). Pages are Jinja2 templates (autoescape on) sharing one
layout; maps are folium (self-contained, see maps.py); charts inline SVG (see
charts.py); search is Pagefind (see search.py). Output is deterministic: the
same input gives a byte-identical site.
"""

from __future__ import annotations

import time
from pathlib import Path

from builder.config import Config
from builder.render import assets, pages, search
from builder.render.writer import SiteWriter
from builder.results import BuildResult

__all__ = ["render_site"]


def render_site(cfg: Config, result: BuildResult, out_dir: Path, *, progress: bool = False) -> dict:
    """Write the site for ``result`` into ``out_dir``; return build statistics.

    Stats: n_pages, n_files, n_bytes, seconds, pages_per_s (HTML pages only,
    without the search indexing), search_seconds, skipped (errors of content
    files that were skipped), vendor (asset manifest).
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = SiteWriter(out_dir)
    node_modules = pages.site_path(cfg, cfg.site.node_modules)
    vendor = assets.copy_vendor(node_modules, out_dir)
    assets.copy_static(out_dir)
    assets.write_basemap(node_modules, out_dir)
    skipped, records = pages.write_all(cfg, result, writer, vendor, progress=progress)
    t_pages = time.perf_counter() - t0
    t1 = time.perf_counter()
    if cfg.site.search:
        search.build_index(out_dir, records)
    t_search = time.perf_counter() - t1
    n_bytes = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    n_files = sum(1 for p in out_dir.rglob("*") if p.is_file())
    return dict(n_pages=len(writer.pages), n_files=n_files, n_bytes=n_bytes,
                seconds=round(time.perf_counter() - t0, 3), pages_seconds=round(t_pages, 3),
                pages_per_s=round(len(writer.pages) / max(t_pages, 1e-9), 1), search_seconds=round(t_search, 3),
                skipped=skipped, vendor=vendor)
