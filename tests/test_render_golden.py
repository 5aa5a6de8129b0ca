"""Golden-site test: the fixture rendered now equals the committed tree in tests/golden/.

Regenerate after an intended change with::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render_golden.py

and review the diff (git diff tests/golden) like any other change. Vendored
third-party files, the basemap, our static CSS/JS (kept in builder/render/static)
and the search index are left out; everything generated from the data is in.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from builder.config import load_config
from builder.render import render_site
from tests.site_fixture import demo_result

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
SKIP_PREFIXES = ("assets/vendor/", "assets/basemap/", "pagefind/")


def _tree(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if not p.is_file() or rel.startswith(SKIP_PREFIXES) or (rel.startswith("assets/") and rel.count("/") == 1):
            continue
        out[rel] = normalise(p.read_text(encoding="utf-8"))
    return out


def normalise(text: str) -> str:
    """Line endings and trailing spaces only: the output is deterministic, nothing else varies."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))


def test_golden_site(tmp_path):
    cfg = load_config(REPO / "atlas.toml", site={"search": False})
    render_site(cfg, demo_result(), tmp_path)
    got = _tree(tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, text in got.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(text, encoding="utf-8")
    expected = _tree(GOLDEN)
    assert sorted(got) == sorted(expected), "file list differs (UPDATE_GOLDEN=1 to accept)"
    changed = [rel for rel in got if got[rel] != expected[rel]]
    assert changed == [], f"content differs (UPDATE_GOLDEN=1 to accept): {changed[:10]}"
