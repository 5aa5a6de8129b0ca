"""Incremental builds: nothing new -> no detection and no re-render; a template change
re-renders without re-running detection; a new file is the only one processed."""

import shutil
from pathlib import Path

from builder.build import build
from tests.factories import plume_file, site_config, two_plume_days



def test_incremental_rebuilds(tmp_path):
    data = two_plume_days(tmp_path)
    cfg = site_config(tmp_path)

    first = build(cfg, oco2_dir=data)
    assert first.core.n_processed == 2 and first.render_stats["n_pages"] > 0
    index = (cfg.path("site") / "index.html").read_bytes()

    again = build(cfg, oco2_dir=data)
    assert again.core.n_processed == 0 and again.core.n_cached == 2
    assert again.render_stats.get("skipped_render") is True
    assert (cfg.path("site") / "index.html").read_bytes() == index

    base = tmp_path / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</footer>", "<p>template edit</p></footer>"),
                    encoding="utf-8")
    edited = build(cfg, oco2_dir=data)
    assert edited.core.n_processed == 0  # detection not re-run
    assert not edited.render_stats.get("skipped_render") and edited.render_stats["n_pages"] > 0
    assert b"template edit" in (cfg.path("site") / "index.html").read_bytes()

    plume_file(data, "2018-08-03", seed=7, orbit=21530)
    more = build(cfg, oco2_dir=data)
    assert more.core.n_processed == 1 and more.core.n_cached == 2
    assert not more.render_stats.get("skipped_render")

    shutil.rmtree(cfg.path("site"))  # a missing site is always re-rendered
    assert build(cfg, oco2_dir=data).render_stats["n_pages"] > 0
