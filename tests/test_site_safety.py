"""Safe pages: every externally sourced string (inventory names, ids, countries)
is escaped wherever it lands; each page declares a Content-Security-Policy
without external origins that the page itself satisfies (no inline event
handlers, no un-hashed inline scripts); no broken internal link and no asset
from another host (builder.linkcheck); and a real browser loading the pages
reports no CSP violation, runs no injected script and contacts no other host.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from builder.linkcheck import check_site
from tests.factories import HOSTILE_NAMES, PLUMES, plume_source, run_cli, write_config, write_plume_files

#: GPPD payloads (id, name, country) beside the city names.
GPPD_PAYLOADS = ["<img src=x onerror=alert(2)>", "<script>alert(2)</script>", "<b onclick=alert(3)>NZL</b>"]
#: Strings that must never appear raw in a page or script (the hostile names and GPPD fields).
PAYLOADS = [n for n in HOSTILE_NAMES if any(c in n for c in "<>\"'")] + GPPD_PAYLOADS + ['"onmouseover=alert(1)']


# ----------------------------------------------------------------------------- link checker on hand-made sites


def _site(tmp: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp


GOOD_SITE = {
    "index.html": '<html><head><link rel="stylesheet" href="assets/a.css"><link rel="canonical" '
                  'href="https://example.org/"></head><body id="top"><a href="sources/">s</a>'
                  '<a href="sources/x/#h2">x</a><a href="#top">top</a><a href="https://doi.org/10.1/x">doi</a>'
                  '<a href="mailto:a@b.c">mail</a><img src="assets/i.png"><img src="data:image/png;base64,AAAA">'
                  '<a href="downloads/d.csv?v=1">csv</a><script src="assets/a.js"></script></body></html>',
    "sources/index.html": '<a href="../">home</a><a href="x/">x</a><a href="/sources/x/">abs</a>',
    "sources/x/index.html": '<h2 id="h2">H</h2><a href="../../index.html#top">back</a>'
                            '<img srcset="../../assets/i.png 1x, ../../assets/i.png 2x">',
    "assets/a.css": "body{background:url(i.png)} @font-face{src:url('f.woff2')}",
    "assets/a.js": "fetch('data/x.json').then(function(r){return r.json();});",
    "assets/i.png": "png",
    "assets/f.woff2": "font",
    "assets/data/x.json": "{}",
    "downloads/d.csv": "a\n1\n",
}


def test_linkcheck_clean_site(tmp_path):
    report = check_site(_site(tmp_path, GOOD_SITE))
    assert report.ok, "\n".join(p.line() for p in report.problems)
    assert report.n_pages == 3 and report.n_refs >= 15


@pytest.mark.parametrize("page,kind,needle", [
    ('<a href="nowhere/">x</a>', "broken", "nowhere/"),
    ('<a href="sources/x/#missing">x</a>', "broken", "#missing"),
    ('<a href="../../etc/passwd">x</a>', "broken", "../../etc/passwd"),
    ('<a href="/elsewhere/">x</a>', "broken", "/elsewhere/"),
    ('<img src="assets/missing.png">', "broken", "missing.png"),
    ('<script src="https://cdn.example.com/x.js"></script>', "external", "cdn.example.com"),
    ('<script src="//cdn.example.com/x.js"></script>', "external", "//cdn.example.com"),
    ('<link rel="stylesheet" href="https://cdn.example.com/x.css">', "external", "x.css"),
    ('<img src="http://tile.example.com/1/2/3.png">', "external", "3.png"),
    ('<img srcset="a.png 1x, https://x.example.com/b.png 2x">', "external", "b.png"),
    ('<iframe src="https://evil.example.com/"></iframe>', "external", "evil"),
    ('<form action="https://evil.example.com/post"></form>', "external", "evil"),
    ('<div style="background:url(https://x.example.com/bg.png)"></div>', "external", "bg.png"),
    ('<style>@import "https://fonts.example.com/css";</style>', "external", "fonts"),
    ("<script>fetch('https://api.example.com/data.json')</script>", "external", "api.example.com"),
    ("<script>L.tileLayer('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png').addTo(m)</script>", "external",
     "openstreetmap"),
    ('<a href="javascript:alert(1)">x</a>', "unsafe", "javascript:"),
])
def test_linkcheck_finds_problems(tmp_path, page, kind, needle):
    files = dict(GOOD_SITE)
    files["bad/index.html"] = page
    report = check_site(_site(tmp_path, files))
    hits = [p for p in report.problems if p.kind == kind and needle in p.ref and p.file == "bad/index.html"]
    assert hits, f"expected a {kind} problem for {needle!r}, got {[p.line() for p in report.problems]}"
    assert all(p.file == "bad/index.html" for p in report.problems), report.problems


def test_linkcheck_css_and_js_files(tmp_path):
    files = dict(GOOD_SITE)
    files["assets/a.css"] = "@import url('https://fonts.example.com/x.css'); body{background:url(nope.png)}"
    files["assets/a.js"] = "var u = 'https://{s}.tiles.example.com/{z}/{x}/{y}.png'; fetch('https://api.example.com/');"
    report = check_site(_site(tmp_path, files))
    kinds = sorted((p.file, p.kind) for p in report.problems)
    assert ("assets/a.css", "external") in kinds and ("assets/a.css", "broken") in kinds
    assert sum(1 for f, k in kinds if f == "assets/a.js" and k == "external") == 2


def test_linkcheck_json_hrefs(tmp_path):
    """Links that scripts build from JSON data (relative to the site root) are checked too."""
    files = dict(GOOD_SITE)
    files["assets/data/t.json"] = json.dumps({"columns": ["id", "href"], "rows": [["a", "sources/x/"], ["b", ""],
                                                                                   ["c", "sources/gone/"]]})
    files["assets/data/g.geojson"] = json.dumps({"features": [{"properties": {"href": "sources/x/#h2"}},
                                                              {"properties": {"href": "sources/x/#nope"}}]})
    report = check_site(_site(tmp_path, files))
    refs = sorted(p.ref for p in report.problems)
    assert refs == ["sources/gone/", "sources/x/#nope"], [p.line() for p in report.problems]


def test_linkcheck_base_url(tmp_path):
    files = dict(GOOD_SITE)
    files["sources/index.html"] = '<a href="/co2-atlas/sources/x/">abs</a>'
    site = _site(tmp_path, files)
    assert check_site(site, base_url="/co2-atlas/").ok
    assert not check_site(site, base_url="/").ok


def test_atlas_check_command(tmp_path, capsys):
    """`atlas check SITE` (builder.linkcheck): 0 for a clean site, 3 with broken/external references
    (one line each, or JSON), 2 and one line for a folder that is not there."""
    from builder.cli import main

    site = _site(tmp_path / "ok", GOOD_SITE)
    assert main(["check", str(site)]) == 0
    assert "0 broken, 0 external" in capsys.readouterr().out
    bad = _site(tmp_path / "bad", dict(GOOD_SITE, **{"x.html": '<script src="https://cdn.example.com/a.js"></script>'}))
    assert main(["check", str(bad)]) == 3
    assert "x.html: external" in capsys.readouterr().out
    assert main(["check", str(bad), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["ok"] is False
    assert main(["check", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "missing" in err


# ----------------------------------------------------------------------------- the hostile build


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    obs = tmp / "oco2"
    write_plume_files(obs)
    rows = []
    # the three plume sources carry hostile names, so they are rendered on source and detection pages
    for i, (_, _, _, lat0, lon0, _) in enumerate(PLUMES):
        lat, lon = plume_source(lat0, lon0)
        rows.append((HOSTILE_NAMES[i], lat, lon, 3e7, "<i>XX</i>"))
    for i, name in enumerate(HOSTILE_NAMES[len(PLUMES):]):
        rows.append((name, -40.0 + i, 150.0 + i, 2e6, "YY"))
    pd.DataFrame(rows, columns=["name", "latitude", "longitude", "co2_t_yr", "country"]).to_csv(tmp / "cities.csv",
                                                                                             index=False)
    pd.DataFrame({"gppd_idnr": [GPPD_PAYLOADS[0], "OK-1"], "name": [GPPD_PAYLOADS[1], "Fine"],
                  "latitude": [-45.0, -46.0], "longitude": [170.0, 171.0], "primary_fuel": ["Coal", "Gas"],
                  "capacity_mw": [800, 900], "country": [GPPD_PAYLOADS[2], "NZL"]}).to_csv(tmp / "gppd.csv",
                                                                                           index=False)
    cfg = write_config(tmp, extra_inventories=[f"cities:{tmp / 'cities.csv'}", f"gppd:{tmp / 'gppd.csv'}"],
                       search=True)
    code, out, err = run_cli(["--config", str(cfg), "build", "--oco2", str(obs)])
    assert code == 0, err
    det = pd.read_csv(tmp / "work" / "detections.csv")
    assert set(HOSTILE_NAMES[: len(PLUMES)]) <= set(det["source_name"].dropna()), \
        "the hostile-named sources must be attributed, so their pages exist"
    return tmp / "site"


def _text_files(site: Path):
    for p in sorted(site.rglob("*")):
        if p.is_file() and p.suffix.lower() in (".html", ".js", ".json", ".geojson", ".xml", ".svg", ".txt", ".css"):
            yield p, p.read_text(encoding="utf-8", errors="replace")


def test_payloads_never_appear_raw(hostile_site):
    """Pages and scripts: no payload verbatim. JSON data: no raw '<' '>' of a payload (JSON quotes
    are escaped by JSON itself; a ' inside a JSON string is harmless)."""
    raw = []
    for p, text in _text_files(hostile_site):
        is_json = p.suffix.lower() in (".json", ".geojson")
        is_js = p.suffix.lower() in (".js", ".mjs")
        if is_json or is_js:  # \" inside a JSON/JS string literal is an escaped quote: harmless
            text = text.replace('\\"', "\x00")
        for payload in PAYLOADS:
            if is_json and not any(c in payload for c in "<>"):
                continue
            if is_js and not any(c in payload for c in '<>"'):
                continue
            if payload in text:
                raw.append(f"{p.relative_to(hostile_site)}: {payload!r}")
    assert not raw, "unescaped hostile strings:\n" + "\n".join(raw[:30])


def test_json_data_holds_the_names_json_escaped(hostile_site):
    """Data files parse, hold the hostile names exactly (so escaping did not mangle them) and
    escape '<' so that no JSON file can become markup."""
    found = set()
    for p in sorted(hostile_site.rglob("*.json")) + sorted(hostile_site.rglob("*.geojson")):
        if "pagefind" in p.parts:
            continue
        text = p.read_text(encoding="utf-8")
        data = json.dumps(json.loads(text), ensure_ascii=False)
        found |= {n for n in HOSTILE_NAMES if json.dumps(n, ensure_ascii=False)[1:-1] in data}
        if "<" in text or ">" in text:
            pytest.fail(f"{p.relative_to(hostile_site)} has a raw '<' or '>' (write \\u003c / \\u003e)")
    assert set(HOSTILE_NAMES[: len(PLUMES)]) <= found, "hostile names missing from the JSON data"


def test_payloads_are_published_escaped(hostile_site):
    """The hostile names are really on the pages (escaped), not silently dropped."""
    pages = "\n".join(t for p, t in _text_files(hostile_site) if p.suffix == ".html")
    for name in HOSTILE_NAMES[: len(PLUMES)]:
        assert html.escape(name) in pages or html.escape(name, quote=False) in pages or \
            name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") \
            .replace("'", "&#39;") in pages, f"{name!r} is not on any page"


class _Attrs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.handlers, self.inline_scripts, self.style_attrs, self.csp = [], [], 0, []
        self._script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k, v in attrs:
            if k.lower().startswith("on"):
                self.handlers.append(f"<{tag} {k}={v!r}>")
        if "style" in a:
            self.style_attrs += 1
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(a.get("content") or "")
        if tag == "script" and "src" not in a and (a.get("type") or "text/javascript") in (
                "text/javascript", "module", "application/javascript"):
            self._script = []

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.inline_scripts.append("".join(self._script))
            self._script = None


def parse_csp(text: str) -> dict[str, list[str]]:
    out = {}
    for part in text.split(";"):
        tokens = part.split()
        if tokens:
            out.setdefault(tokens[0].lower(), tokens[1:])
    return out


def csp_problems(page_html: str) -> list[str]:
    """Why the page's own CSP is missing, allows other origins, or is violated by the page."""
    a = _Attrs()
    a.feed(page_html)
    probs = [f"inline event handler {h}" for h in a.handlers]
    if len(a.csp) != 1:
        return probs + [f"{len(a.csp)} <meta http-equiv=Content-Security-Policy> tags (need exactly 1)"]
    csp = parse_csp(a.csp[0])
    default = csp.get("default-src")
    if default is None:
        probs.append("no default-src")
    for directive, sources in csp.items():
        for s in sources:
            s_low = s.lower().strip("'")
            if re.match(r"^(https?:|wss?:|\*|[a-z0-9.-]+\.[a-z]{2,}|//)", s_low) and s_low not in ("self",):
                probs.append(f"{directive} allows another origin: {s}")
    script_src = csp.get("script-src", default or [])
    if "'unsafe-inline'" in script_src and not any(s.startswith(("'sha", "'nonce")) for s in script_src):
        probs.append("script-src allows 'unsafe-inline'")
    if "'unsafe-eval'" in script_src:
        probs.append("script-src allows 'unsafe-eval'")
    for script in a.inline_scripts:
        digest = "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"
        if digest not in script_src and "'unsafe-inline'" not in script_src:
            probs.append(f"inline <script> without its hash {digest} in script-src")
    style_src = csp.get("style-src", default or [])
    if a.style_attrs and "'unsafe-inline'" not in style_src and "'unsafe-hashes'" not in style_src:
        probs.append(f"{a.style_attrs} style= attributes but style-src forbids inline styles")
    if "object-src" not in csp and "'none'" not in (default or []):
        probs.append("object-src not restricted")
    if "base-uri" not in csp:
        probs.append("base-uri not restricted")
    return probs


def test_csp_checker_itself():
    ok = ('<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; object-src \'none\'; '
          'base-uri \'self\'"><script src="a.js"></script>')
    assert csp_problems(ok) == []
    assert any("another origin" in p for p in csp_problems(ok.replace("'self';", "'self' https://cdn.x.org;", 1)))
    assert any("event handler" in p for p in csp_problems(ok + '<img src=x onerror="alert(1)">'))
    assert any("hash" in p for p in csp_problems(ok + "<script>alert(1)</script>"))
    h = "'sha256-" + base64.b64encode(hashlib.sha256(b"alert(1)").digest()).decode() + "'"
    assert csp_problems(ok.replace("default-src 'self'", f"default-src 'self'; script-src 'self' {h}") +
                        "<script>alert(1)</script>") == []
    assert csp_problems("<p>no csp</p>")


def test_every_page_declares_a_csp_it_satisfies(hostile_site):
    problems = []
    pages = sorted(hostile_site.rglob("*.html"))
    assert len(pages) >= 10
    for p in pages:
        for why in csp_problems(p.read_text(encoding="utf-8")):
            problems.append(f"{p.relative_to(hostile_site)}: {why}")
    assert not problems, f"{len(problems)} CSP problems, e.g.:\n" + "\n".join(problems[:25])


def test_no_inline_event_handlers(hostile_site):
    found = []
    for p in sorted(hostile_site.rglob("*.html")):
        a = _Attrs()
        a.feed(p.read_text(encoding="utf-8"))
        found += [f"{p.relative_to(hostile_site)}: {h}" for h in a.handlers]
    assert not found, "\n".join(found[:20])


def test_no_broken_links_and_no_external_assets(hostile_site):
    report = check_site(hostile_site)
    assert report.n_pages >= 10
    assert report.ok, report.summary() + "\n" + "\n".join(p.line() for p in report.problems[:30])


# ----------------------------------------------------------------------------- in a browser


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(hostile_site):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(hostile_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


RECORDER = """
window.__csp = []; window.__alerts = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
window.alert = function (m) { window.__alerts.push(String(m)); };
"""


def test_pages_in_chromium_have_no_csp_violation(hostile_site, served):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no /usr/bin/chromium")
    det_pages = sorted(hostile_site.glob("detections/*/index.html"))
    src_pages = sorted(hostile_site.glob("sources/*/index.html"))
    assert det_pages and src_pages
    urls = ["", "sources/", "data/", det_pages[0].parent.relative_to(hostile_site).as_posix() + "/",
            src_pages[0].parent.relative_to(hostile_site).as_posix() + "/", "search/?q=alert"]
    report = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page()
            page.add_init_script(RECORDER)
            console, errors, outside = [], [], []
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((served, "data:", "blob:"))
                    else None)
            for u in urls:
                page.goto(served + u, wait_until="load")
                assert page.evaluate(
                    "document.querySelectorAll('meta[http-equiv=\"Content-Security-Policy\"]').length") == 1, \
                    f"{u or 'index'}: no CSP <meta>, so the browser enforces nothing"
                page.wait_for_timeout(1200 if "?q=" in u else 300)  # ?q= runs a Pagefind (WebAssembly) search
                if "?q=" in u:  # the results list the hostile names: rendered as text, not markup
                    page.wait_for_selector(".pagefind-ui__result", timeout=10000)
                csp = page.evaluate("window.__csp")
                alerts = page.evaluate("window.__alerts")
                report.append((u, csp, alerts))
        finally:
            browser.close()
    csp_console = [c for c in console if "Content Security Policy" in c or "Content-Security-Policy" in c]
    violations = [f"{u}: {v}" for u, csp, _ in report for v in csp]
    assert not violations and not csp_console, "CSP violations:\n" + "\n".join(violations + csp_console)
    assert not [a for _, _, al in report for a in al], "an injected script ran (alert called)"
    assert not outside, f"requests to other hosts: {outside[:10]}"
    assert not errors, f"JavaScript errors: {errors[:5]}"
