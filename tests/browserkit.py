"""Shared helpers of the browser tests (tests/test_browser*.py): a watcher of console errors and
requests, page weight, axe-core, a static-link crawler and a plain static server for a site
served under a sub-path. Fixtures (the browser, the default build) are in conftest.py."""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
ARTIFACTS = REPO / "test-artifacts"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


class Watch:
    """Records console errors, page errors, failed requests and requested hosts."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.hosts: set[str] = set()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))
        page.on("request", lambda r: self.hosts.add(urlparse(r.url).hostname or r.url.split(":", 1)[0]))

    def check(self):
        assert self.errors == [], self.errors
        assert self.failed == [], self.failed
        assert self.hosts <= {"127.0.0.1", "data"}, self.hosts


def shot(pg, name: str) -> None:
    """A full-page screenshot into test-artifacts/ (git-ignored), for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def transferred(pg, url: str) -> tuple[int, list[str]]:
    """Bytes of every response the page loads (uncompressed bodies, shared assets included)."""
    sizes: dict[str, int] = {}
    pg.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.status == 200 else None)
    pg.goto(url)
    pg.wait_for_load_state("networkidle")
    pg.wait_for_timeout(800)
    return sum(sizes.values()), sorted(sizes)


def assert_charts_fit(pg, label) -> int:
    """Every chart on ``pg`` fits the viewport's width, or sits in a figure that scrolls sideways
    (its whole width reachable) with a visible cue; returns the number of charts."""
    width = pg.evaluate("() => window.innerWidth")
    charts = pg.locator("svg.chart")
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        if box["x"] >= 0 and box["x"] + box["width"] <= width + 1:
            continue
        fig = charts.nth(i).evaluate("""c => { const f = c.closest('figure'), r = f.getBoundingClientRect();
            return {overflow: getComputedStyle(f).overflowX, scroll: f.scrollWidth, right: r.right,
                    cue: getComputedStyle(f, '::before').content}; }""")
        assert fig["overflow"] in ("auto", "scroll") and fig["right"] <= width + 1, (label, i, fig)
        assert fig["scroll"] >= box["width"] - 1, (label, i, fig, box)      # the whole chart is reachable
        assert "Scroll sideways" in fig["cue"], (label, fig)
    return charts.count()


def assert_search_finds(pg, base_url: str, query: str, expected: str, timeout_ms: int = 20000) -> None:
    """The search page for ``query`` lists a result whose title contains ``expected``. Pagefind UI
    renders results one fragment at a time (the first link on screen need not be the best), so
    wait for that result, up to ``timeout_ms``, before reading all titles."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    pg.goto(base_url + "search/?q=" + query)
    pg.wait_for_selector(".pagefind-ui__result-link")
    try:
        pg.locator(".pagefind-ui__result-link", has_text=expected).first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        pass
    titles = pg.locator(".pagefind-ui__result-link").all_inner_texts()
    assert any(expected in t for t in titles), titles


@contextlib.contextmanager
def preview(site: Path):
    """``site`` served on 127.0.0.1 by atlas's preview server (no rebuilds); yields the base URL."""
    from builder.render.serve import start

    server, stop = start(site, 0, lambda: None, [], interval=3600)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def axe_violations(browser, base_url: str, paths: list[str], width: int) -> dict[str, list[str]]:
    """axe-core (npm, installed by setup) run on each page at one viewport width: {page: [rule: targets]}."""
    ctx = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)  # to inject axe
    pg = ctx.new_page()
    pg.set_default_timeout(30000)
    found = {}
    for path in paths:
        pg.goto(base_url + path)
        pg.wait_for_load_state("networkidle")
        if path.startswith("search/"):
            pg.wait_for_selector(".pagefind-ui__result-link")
        pg.add_script_tag(path=str(AXE))
        violations = pg.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                                 ".map(v => v.id + ': ' + v.nodes.slice(0, 5).map(n => n.target.join(' '))"
                                 ".join(', '))")
        if violations:
            found[path or "home"] = violations
    ctx.close()
    return found


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def crawl(site: Path, start: str, within: str = "") -> set[str]:
    """Pages reached from ``start`` by plain <a href> links (what a crawler or a no-JS reader
    can follow), entering only pages under ``within``."""
    site = site.resolve()
    seen, todo = set(), [start]
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        if not rel.startswith(within):
            continue
        parser = _Hrefs()
        parser.feed((site / rel).read_text(encoding="utf-8"))
        for href in parser.hrefs:
            path = href.split("#")[0]
            if re.match(r"^[a-z]+:|^/", href) or not path:
                continue
            target = (site / rel).parent / path
            target = target / "index.html" if path.endswith("/") else target
            if target.suffix == ".html" and target.exists():
                todo.append(target.resolve().relative_to(site).as_posix())
    return seen


class _SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """A plain static host (no atlas code) serving the site under /<prefix>/, with its 404 page
    for missing files, as GitHub Pages serves a project site."""

    def __init__(self, *args, root: Path, prefix: str, **kwargs):
        self.prefix = prefix
        super().__init__(*args, directory=str(root), **kwargs)

    def log_message(self, format, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / self.prefix / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve_under(site: Path, prefix: str):
    """Serve ``site`` at http://127.0.0.1:PORT/<prefix>/ (a symlink in a temporary root); yields the base URL."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="atlas-subpath-") as root:
        (Path(root) / prefix).symlink_to(site.resolve(), target_is_directory=True)
        handler = functools.partial(_SubPathHandler, root=Path(root), prefix=prefix)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/{prefix}/"
        finally:
            server.shutdown()
            server.server_close()
