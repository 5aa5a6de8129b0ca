"""The no-op check (builder/uptodate.py): a build that would change nothing is recognised from
file metadata alone, and any change to what a build reads or writes defeats it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder import uptodate
from builder.config import load_config

REPORT = {"summary": {"n_files": 1}, "skipped": [], "n_input_files": 1, "validation_text": ""}


@pytest.fixture
def project(tmp_path):
    for folder in ("dataset/oco2", "dataset/coco2", "dataset/cities", "templates", "content", "site", "build",
                   "node_modules"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "dataset/oco2/day1.nc4").write_bytes(b"observations")
    (tmp_path / "dataset/cities/worldcities_basic_300k.csv").write_text("city\n")
    (tmp_path / "templates/base.html").write_text("<html>")
    (tmp_path / "site/index.html").write_text("<h1>atlas</h1>")
    (tmp_path / "build/detections.csv").write_text("id\n")
    (tmp_path / "atlas.toml").write_text('[site]\ncontent = "content"\nnode_modules = "node_modules"\n')
    cfg = load_config(tmp_path / "atlas.toml")
    before = uptodate.input_state(cfg, None, cfg.path("site"))
    uptodate.record(cfg, None, cfg.path("site"), before, REPORT)
    return tmp_path


def _saved(root: Path, **site):
    cfg = load_config(root / "atlas.toml", site=site) if site else load_config(root / "atlas.toml")
    return uptodate.saved_report(cfg, None, None)


def _later(path: Path, text: str | None = None) -> None:
    """Rewrite ``path`` (same size when text is None) with a later modification time."""
    st = path.stat()
    if text is not None:
        path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_nothing_changed_is_up_to_date(project):
    assert _saved(project) == REPORT


@pytest.mark.parametrize("change", ["touch-observation", "new-observation", "inventory", "template", "config",
                                    "edit-site", "add-to-site", "delete-table", "content"])
def test_any_change_defeats_it(project, change):
    if change == "touch-observation":
        _later(project / "dataset/oco2/day1.nc4")  # same size, same bytes, later time: not trusted
    elif change == "new-observation":
        (project / "dataset/oco2/day2.nc4").write_bytes(b"more")
    elif change == "inventory":
        _later(project / "dataset/cities/worldcities_basic_300k.csv", "city\nlodz\n")
    elif change == "template":
        _later(project / "templates/base.html", "<html lang=en>")
    elif change == "config":
        assert _saved(project, title="Another title") is None
        return
    elif change == "edit-site":
        _later(project / "site/index.html", "<h1>defaced</h1>")
    elif change == "add-to-site":
        (project / "site/planted.html").write_text("<script>")
    elif change == "delete-table":
        (project / "build/detections.csv").unlink()
    elif change == "content":
        (project / "content/about.md").write_text("# About")
    assert _saved(project) is None


def test_input_changed_during_the_build_is_not_recorded(project):
    cfg = load_config(project / "atlas.toml")
    before = uptodate.input_state(cfg, None, cfg.path("site"))
    (project / "dataset/oco2/day2.nc4").write_bytes(b"dropped in while the build ran")
    uptodate.record(cfg, None, cfg.path("site"), before, REPORT)
    assert _saved(project) is None


def test_a_changed_cache_entry_is_the_builds_to_repair(project):
    cfg = load_config(project / "atlas.toml")
    entry = cfg.path("cache") / "ab" / "abcdef"
    entry.mkdir(parents=True)
    (entry / "meta.json").write_text("{}")
    uptodate.record(cfg, None, cfg.path("site"), uptodate.input_state(cfg, None, cfg.path("site")), REPORT)
    assert _saved(project) == REPORT  # the record itself (in the cache) does not defeat the check
    (entry / "meta.json").write_text("{corrupt")
    assert _saved(project) is None
