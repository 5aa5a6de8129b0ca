"""Site search with Pagefind: a post-build index over the written HTML.

Pages mark what is indexed with ``data-pagefind-body`` (source, detection,
candidate and text pages); Pagefind writes its UI bundle and a chunked index
into pagefind/, loaded on demand by the search page (search/).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


class SearchIndexError(RuntimeError):
    """Pagefind failed."""


def build_index(site_dir: Path) -> None:
    """Run Pagefind (the PyPI ``pagefind[bin]`` package) over ``site_dir``."""
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site_dir), "--silent", "--force-language", "en"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not (site_dir / "pagefind" / "pagefind-ui.js").exists():
        raise SearchIndexError(f"pagefind failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
