"""Incremental rendering (builder/render/pagekeys.py): a rebuild renders only the pages whose
inputs changed, carries the rest over from the published site, and the result is byte for
byte the tree a from-scratch build writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from builder import uptodate
from builder.build import build, page_records_path, publish_site, site_stamp
from builder.config import load_config
from tests.site_fixture import demo_result
from tests.factories import plume_file, site_config, two_plume_days

REPO = Path(__file__).resolve().parents[1]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_same_tree(got: Path, want: Path) -> None:
    a, b = _tree(got), _tree(want)
    assert sorted(a) == sorted(b), f"file lists differ: {sorted(set(a) ^ set(b))[:5]}"
    differ = [rel for rel in a if a[rel] != b[rel]]
    assert differ == [], f"incremental output differs from a full build: {differ[:5]}"


def test_new_day_renders_few_pages_and_equals_full_build(tmp_path):
    data = two_plume_days(tmp_path)
    cfg = site_config(tmp_path)
    site = cfg.path("site")
    first = build(cfg, oco2_dir=data)
    n_pages = first.render_stats["n_pages"]
    assert first.render_stats["n_rendered"] == n_pages and first.render_stats["n_carried"] == 0

    plume_file(data, "2018-08-03", seed=7, orbit=21530)
    more = build(cfg, oco2_dir=data)
    stats = more.render_stats
    assert stats["n_pages"] == stats["n_rendered"] + stats["n_carried"]
    assert stats["n_carried"] > 0 and 0 < stats["n_rendered"] < stats["n_pages"]

    scratch = build(cfg, oco2_dir=data, site_dir=tmp_path / "scratch")  # no published site there: full render
    assert scratch.render_stats["n_carried"] == 0
    _assert_same_tree(site, tmp_path / "scratch")  # manifest included


def test_unchanged_inputs_render_no_page(tmp_path):
    data = tmp_path / "oco2"
    data.mkdir()
    plume_file(data, "2018-08-01", seed=3, orbit=21500)
    cfg = site_config(tmp_path)
    build(cfg, oco2_dir=data)
    before = _tree(cfg.path("site"))
    site_stamp(cfg, cfg.path("site")).unlink()  # defeat the whole-site shortcut: every page is checked
    again = build(cfg, oco2_dir=data)
    assert not again.render_stats.get("skipped_render")
    assert again.render_stats["n_rendered"] == 0 and again.render_stats["n_carried"] == again.render_stats["n_pages"]
    assert _tree(cfg.path("site")) == before


def _render(cfg, result, site: Path, incremental: bool = True) -> dict:
    return publish_site(cfg, result, site, incremental=incremental)


def _site_cfg(tmp_path):
    return load_config(REPO / "atlas.toml", site={"search": False}, paths={"cache": str(tmp_path / "cache")})


def test_changed_source_renders_its_pages_only(tmp_path):
    cfg = _site_cfg(tmp_path)
    result = demo_result()
    site = tmp_path / "site"
    _render(cfg, result, site)
    changed = demo_result()
    ovp = changed.overpasses
    sid = str(ovp["source_id"].iloc[0])
    rows = np.flatnonzero(ovp["source_id"].to_numpy() == sid)
    ovp.loc[ovp.index[rows], "emission_kg_s"] = ovp["emission_kg_s"].iloc[rows] * 1.5 + 1.0
    stats = _render(cfg, changed, site)
    assert 0 < stats["n_rendered"] < stats["n_pages"] / 2
    page = f"sources/{sid}/index.html"
    records = json.loads(page_records_path(cfg, site).read_text(encoding="utf-8"))["pages"]
    assert page in records
    _render(cfg, changed, tmp_path / "full", incremental=False)
    _assert_same_tree(site, tmp_path / "full")


def test_summary_values_a_page_reads_are_its_inputs(tmp_path):
    """The footer of the home page reads the period from the run summary: a new end date must
    re-render it, while a source page (which does not read it) is carried over."""
    cfg = _site_cfg(tmp_path)
    site = tmp_path / "site"
    _render(cfg, demo_result(), site)
    result = demo_result()
    result.summary["period_end"] = "2018-09-30"
    stats = _render(cfg, result, site)
    assert stats["n_carried"] > 0
    assert b"2018-09-30" in (site / "index.html").read_bytes()
    _render(cfg, result, tmp_path / "full", incremental=False)
    _assert_same_tree(site, tmp_path / "full")


def test_damaged_or_old_site_renders_everything(tmp_path):
    cfg = _site_cfg(tmp_path)
    site = tmp_path / "site"
    _render(cfg, demo_result(), site)
    page = site / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>edited by hand</p></body>"))
    stats = _render(cfg, demo_result(), site)  # an edited published file is never carried over
    assert stats["n_carried"] == 0 and b"edited by hand" not in page.read_bytes()

    assert _render(cfg, demo_result(), site)["n_carried"] > 0  # repaired: carried again
    page_records_path(cfg, site).unlink()  # no page keys (cache cleared, or a site of an older atlas)
    assert _render(cfg, demo_result(), site)["n_carried"] == 0


def test_keys_are_stable_across_processes(tmp_path):
    """Each `atlas build` is a new process with its own hash seed: keys must not depend on it."""
    import subprocess
    import sys

    data = tmp_path / "oco2"
    data.mkdir()
    plume_file(data, "2018-08-01", seed=5, orbit=21500)
    cfg = site_config(tmp_path)
    toml = tmp_path / "atlas.toml"
    for seed in ("1", "2"):
        site_stamp(cfg, cfg.path("site")).unlink(missing_ok=True)  # a forced render every time
        uptodate.forget(cfg, cfg.path("site"))
        proc = subprocess.run([sys.executable, "-m", "builder", "--config", str(toml), "build", "--oco2", str(data),
                               "--out", str(cfg.path("site"))], capture_output=True, text=True, cwd=tmp_path,
                              env={**__import__("os").environ, "PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
    assert "(0 rendered, " in proc.stdout, proc.stdout
