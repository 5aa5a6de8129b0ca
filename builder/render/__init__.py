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
from builder.render.pagekeys import PageKeys, PreviousSite, carry_tree, digest, renderer_version
from builder.render.writer import SiteWriter
from builder.results import BuildResult

__all__ = ["render_site"]


def render_site(cfg: Config, result: BuildResult, out_dir: Path, *, progress: bool = False,
                previous: PreviousSite | None = None) -> dict:
    """Write the site for ``result`` into ``out_dir``; return build statistics.

    With ``previous`` (the published site and its manifest's page records), pages whose inputs
    are unchanged are carried over instead of rendered (builder/render/pagekeys.py), and the
    search index too when no page or search record changed.

    Stats: n_pages, n_files, n_bytes, seconds, pages_per_s (HTML pages only,
    without the search indexing), search_seconds, skipped (errors of content
    files that were skipped), vendor (asset manifest); n_rendered, n_carried (pages),
    search ("indexed", "carried" or "off"), and for the manifest page_records, search_key.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = PageKeys(renderer_version(pages.site_path(cfg, cfg.site.templates)), previous)
    writer = SiteWriter(out_dir, keys)
    node_modules = pages.site_path(cfg, cfg.site.node_modules)
    vendor = assets.copy_vendor(node_modules, out_dir)
    assets.copy_static(out_dir)
    assets.write_basemap(node_modules, out_dir)
    skipped, records = pages.write_all(cfg, result, writer, vendor, progress=progress)
    t_pages = time.perf_counter() - t0
    t1 = time.perf_counter()
    search_key, how = "", "off"
    if cfg.site.search:
        search_key = digest((search.pagefind_version(), records,
                             sorted((rel, r.key, r.answers) for rel, r in keys.records.items())))
        old_index = previous.folder / "pagefind" if previous else None
        if old_index is not None and previous.search_key == search_key and old_index.is_dir():
            carry_tree(old_index, out_dir / "pagefind")  # no indexed page or record changed
            how = "carried"
        else:
            search.build_index(out_dir, records)
            how = "indexed"
    t_search = time.perf_counter() - t1
    n_bytes = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    n_files = sum(1 for p in out_dir.rglob("*") if p.is_file())
    return dict(n_pages=len(writer.pages), n_files=n_files, n_bytes=n_bytes,
                seconds=round(time.perf_counter() - t0, 3), pages_seconds=round(t_pages, 3),
                pages_per_s=round(len(writer.pages) / max(t_pages, 1e-9), 1), search_seconds=round(t_search, 3),
                skipped=skipped, vendor=vendor, n_rendered=len(keys.rendered), n_carried=len(keys.carried),
                search=how, page_records={rel: r.to_json() for rel, r in sorted(keys.records.items())},
                search_key=search_key)
