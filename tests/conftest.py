"""Shared fixtures: the local HTTP server (fetch tests), headless Chromium (browser tests) and a
small simulated month around Belchatow (CLI tests). Plain builders live in tests/factories.py."""

import os
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("CI", os.environ.get("CI", ""))


# The cache key (builder/cachesign.py) lives in the user's config folder; tests use their own,
# so running the suite never writes into the real home folder.
if "XDG_CONFIG_HOME" not in os.environ:
    import tempfile

    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="atlas-test-config-")

from builder.cli import main  # noqa: E402  (after sys.path and the config folder are set)
from tests.factories import RouteHandler  # noqa: E402


# --------------------------------------------------------------------------- from test_fetch.py

@pytest.fixture
def server(monkeypatch):
    """A threaded HTTP server on 127.0.0.1: ``state`` holds routes, CMR granules and the request log."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), RouteHandler)
    httpd.daemon_threads = True
    httpd.state = {"routes": {}, "granules": [], "log": [], "lock": threading.Lock(),
                   "base": f"http://127.0.0.1:{httpd.server_address[1]}"}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd.state
    httpd.shutdown()
    httpd.server_close()


# --------------------------------------------------------------------------- browsers

@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright (skips when either is missing)."""
    from tests.browserkit import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _context_page(browser, **options):
    from tests.browserkit import Watch

    ctx = browser.new_context(**options)
    pg = ctx.new_page()
    pg.set_default_timeout(30000)
    return ctx, pg, Watch(pg)


@pytest.fixture
def page(browser):
    """A desktop page (1200 x 900) and its Watch (console errors, failed and foreign requests)."""
    ctx, pg, watch = _context_page(browser, viewport={"width": 1200, "height": 900})
    yield pg, watch
    ctx.close()


@pytest.fixture
def phone(browser):
    """A 390 px touch phone page and its Watch."""
    from tests.browserkit import PHONE

    ctx, pg, watch = _context_page(browser, **PHONE)
    yield pg, watch
    ctx.close()


@pytest.fixture(scope="session")
def default_site(tmp_path_factory):
    """The default build (`bash scripts/build.sh`: the simulated month over the whole CoCO2
    catalogue) into a temporary folder, once per session (~2 min on 2 cores). The simulated month
    and the detection cache go to a temporary folder too, or to $ATLAS_TEST_DEFAULT_CACHE when
    set (a developer's shortcut: later sessions reuse the month and the per-file cache; the site
    is always rendered anew by the code under test)."""
    from builder.build import build
    from builder.config import load_config

    tmp = tmp_path_factory.mktemp("default-build")
    keep = Path(os.environ.get("ATLAS_TEST_DEFAULT_CACHE", "") or tmp)
    (tmp / "no-observations").mkdir()
    cfg = load_config(ROOT / "atlas.toml", paths={
        "oco2": str(tmp / "no-observations"), "simulated": str(keep / "simulated"), "cache": str(keep / "cache"),
        "work": str(tmp / "work"), "site": str(tmp / "site")})
    report = build(cfg, progress=False)
    assert report.result.summary["simulated"] and len(report.result.sources) > 15_000
    return report.site_dir


@pytest.fixture(scope="session")
def default_url(default_site):
    """The default build served on 127.0.0.1 by the preview server (no rebuilds)."""
    from tests.browserkit import preview

    with preview(default_site) as url:
        yield url


# --------------------------------------------------------------------------- from test_cli.py

# Central Europe around Belchatow (51.27 N, 19.33 E), the catalogue's largest emitter.
BELCHATOW_REGION = ["10", "47", "26", "55"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    cfg = root / "atlas.toml"
    cfg.write_text(f'[paths]\ncache = "{root / "cache"}"\nwork = "{root / "work"}"\n'
                   f'coco2 = "{(__import__("pathlib").Path(__file__).parents[1] / "dataset" / "coco2")}"\n')
    sim = root / "sim"
    assert main(["--config", str(cfg), "simulate", "--out", str(sim), "--days", "3", "--region", *BELCHATOW_REGION]) == 0
    return root, cfg, sim
