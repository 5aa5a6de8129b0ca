"""Render tests on the demo fixture: pages, escaping, links, self-containment, determinism."""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from builder.config import load_config
from builder.render import charts, render_site, urls
from builder.render.content import ContentError, parse_front_matter
from tests.site_fixture import EVIL_NAME, demo_result
from builder.render.model import parse_alternatives
from builder.render.serve import RELOAD_TAG, start

REPO = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".html", ".js", ".json", ".geojson", ".xml", ".txt", ".css", ".csv"}


def config(**site):
    return load_config(REPO / "atlas.toml", site=site) if site else load_config(REPO / "atlas.toml")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    stats = render_site(config(), demo_result(), out)
    return out, stats


def own_text_files(root: Path):
    """Files we generate (not vendored third-party code, not the binary search index)."""
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and p.suffix in TEXT_SUFFIXES and not rel.startswith(("assets/vendor/", "pagefind/")):
            yield p, rel


class Links(HTMLParser):
    """Collects href/src attributes and element ids of one page."""

    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attr, value)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src", "data-src", "data-bundle") and v is not None:
                self.refs.append((tag, k, v))
            if k == "id" and v:
                self.ids.add(v)


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


# --------------------------------------------------------------------------- pages


def test_pages_exist(site):
    out, stats = site
    r = demo_result()
    with_page = set(r.overpasses.source_id) | set(r.detections.source_id[r.detections.source_id != ""])
    for sid in r.sources.source_id:
        page = out / urls.source_page(sid) / "index.html"
        assert page.exists() == (sid in with_page), sid
    for did in r.detections.detection_id:
        assert (out / urls.detection_page(did) / "index.html").exists()
    for page in ["index.html", "sources/index.html", "detections/index.html", "candidates/index.html",
                 "methods/index.html", "data/index.html", "about/index.html", "limitations/index.html",
                 "downloads/index.html", "search/index.html", "404.html", "pagefind/pagefind-ui.js"]:
        assert (out / page).exists(), page
    for name in ["detections", "sources", "overpasses", "candidates"]:
        assert (out / "downloads" / f"{name}.csv").exists() and (out / "downloads" / f"{name}.geojson").exists()
    summary = json.loads((out / "downloads" / "summary.json").read_text())
    assert summary["simulated"] is True and summary["n_detections"] == len(r.detections)
    assert stats["n_pages"] == len(list(out.rglob("*.html"))) - len(list((out / "pagefind").rglob("*.html")))
    assert stats["skipped"] == []
    assert not (out / "sitemap.xml").exists()  # no site_url configured


def test_simulated_banner_on_every_page(site):
    out, _ = site
    for path, rel in own_text_files(out):
        if path.suffix == ".html":
            assert "Simulated observations." in path.read_text(encoding="utf-8"), rel


def test_banner_absent_for_real_data(tmp_path):
    r = demo_result()
    r.summary["simulated"] = False
    render_site(config(search=False), r, tmp_path)
    assert "Simulated observations." not in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_source_page_content(site):
    out, _ = site
    html = (out / "sources/coco2-1001/index.html").read_text(encoding="utf-8")
    r = demo_result()
    ovp = r.overpasses[r.overpasses.source_id == "coco2-1001"]
    body = html.split("Every overpass", 1)[1].split("</table>", 1)[0]
    assert body.count("<tr") == len(ovp) + 1  # header + one row per overpass, detected or not
    ul = ovp.upper_limit_kg_s.dropna().iloc[0]
    assert f"&lt; {charts.sig(ul)}" in body  # non-detection shown as an upper limit
    det = r.detections[r.detections.source_id == "coco2-1001"].iloc[0]
    assert f"{charts.sig(det.gp_emission_kg_s)} ±" in html and f"{charts.sig(det.emission_kg_s)} ±" in html  # both methods
    assert '<svg class="chart"' in html and 'href="../../detections/' in html
    assert (out / "sources/coco2-1001/coco2-1001-overpasses.csv").read_text().count("\n") == len(ovp) + 1


def test_detection_page_profile(site):
    out, _ = site
    r = demo_result()
    did = r.detections.detection_id.iloc[0]
    html = (out / urls.detection_page(did) / "index.html").read_text(encoding="utf-8")
    svg = re.search(r'<svg class="chart profile".*?</svg>', html, re.S).group(0)
    root = ET.fromstring(svg)
    n = (r.profiles.detection_id == did).sum()
    circles = root.findall(".//{http://www.w3.org/2000/svg}circle[@class='snd']")
    assert len(circles) == n
    assert "fit-line" in svg and "Attribution candidates" in html and "coco2-1001" in html


def test_methods_validation_and_data_skipped(site):
    out, _ = site
    methods = (out / "methods/index.html").read_text(encoding="utf-8")
    assert "How good is it?" in methods and "Median absolute relative error" in methods and "28.0%" in methods
    data = (out / "data/index.html").read_text(encoding="utf-8")
    for item in demo_result().skipped:
        assert item.item in data and item.reason in data


# --------------------------------------------------------------------------- safety


def test_hostile_name_is_escaped_everywhere(site):
    out, _ = site
    assert EVIL_NAME == '<script>alert(1)</script>"onmouseover='
    seen_html = seen_js = seen_json = False
    for path, rel in own_text_files(out):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".csv":
            continue  # CSV is data, not markup: the raw name is the correct value there
        assert "<script>alert(1)" not in text, rel
        assert '"onmouseover=' not in text.replace('\\"onmouseover=', ""), rel
        seen_html |= "&lt;script&gt;alert(1)&lt;/script&gt;&#34;onmouseover=" in text and path.suffix == ".html"
        seen_js |= "\\u003cscript\\u003ealert(1)" in text and path.suffix == ".js"
        seen_json |= "\\u003cscript\\u003ealert(1)" in text and path.suffix in (".json", ".geojson")
    assert seen_html and seen_js and seen_json  # the name is shown, escaped, on pages, map tooltips and data


def test_template_syntax_in_data_is_not_evaluated(tmp_path):
    r = demo_result()
    r.sources.loc[r.sources.source_id == "coco2-1003", "name"] = "{{ 7*7 }} {% raw %}"
    render_site(config(search=False), r, tmp_path)
    page = (tmp_path / "sources/coco2-1003/index.html").read_text(encoding="utf-8")
    js = (tmp_path / "sources/coco2-1003/map.js").read_text(encoding="utf-8")
    assert "{{ 7*7 }} {% raw %}" in page and "{{ 7*7 }} {% raw %}" in js


def broken_links(out: Path) -> tuple[list, int]:
    """(broken internal references, number checked) over every generated HTML page."""
    broken, n = [], 0
    for path, rel in own_text_files(out):
        if path.suffix != ".html" or rel == "404.html":
            continue
        page = parse(path)
        for tag, attr, ref in page.refs:
            target, _, frag = ref.partition("#")
            target = target.split("?", 1)[0]
            n += 1
            if ref.startswith(("http://", "https://", "//", "/")):
                broken.append((rel, ref))  # internal links must be relative
            elif not target:
                if frag and frag not in page.ids:
                    broken.append((rel, ref))
            elif attr == "data-bundle":
                if not ((path.parent / target) / "pagefind-ui.js").is_file():
                    broken.append((rel, ref))
            else:
                dest = (path.parent / target).resolve()
                if ref.endswith("/") or dest.is_dir():
                    dest = dest / "index.html"
                if not dest.is_file() or (frag and dest.suffix == ".html" and frag not in parse(dest).ids):
                    broken.append((rel, ref))
    return broken, n


def test_internal_links_resolve(site):
    broken, n = broken_links(site[0])
    assert broken == [] and n > 200


def test_no_external_requests(site):
    out, _ = site
    for path, rel in own_text_files(out):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            for tag, attr, ref in parse(path).refs:
                if tag in ("script", "link", "img", "iframe", "source"):
                    assert "://" not in ref and not ref.startswith("//"), (rel, ref)
        elif path.suffix in (".js", ".css"):
            assert not re.search(r"https?://", text), rel
    for css in (out / "assets/vendor").rglob("*.css"):
        assert not re.search(r"url\((['\"]?)(https?:)?//", css.read_text(encoding="utf-8")), css


def test_deterministic(site, tmp_path):
    out, _ = site
    render_site(config(), demo_result(), tmp_path)
    a = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []


# --------------------------------------------------------------------------- config and content


def test_base_url_and_sitemap(tmp_path):
    cfg = config(search=False, base_url="/co2-atlas/", site_url="https://example.org")
    render_site(cfg, demo_result(), tmp_path)
    nf = (tmp_path / "404.html").read_text(encoding="utf-8")
    assert 'href="/co2-atlas/assets/atlas.css"' in nf and 'href="/co2-atlas/sources/"' in nf
    locs = [e.text for e in ET.parse(tmp_path / "sitemap.xml").getroot().iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://example.org/co2-atlas/" in locs
    assert "https://example.org/co2-atlas/sources/coco2-1001/" in locs
    assert not any("404" in loc for loc in locs)
    home = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="assets/atlas.css"' in home and '"/co2-atlas/' not in home   # links stay relative
    # link previews: the absolute page URL only in the canonical link and Open Graph tags
    assert '<link rel="canonical" href="https://example.org/co2-atlas/">' in home
    src = (tmp_path / "sources/coco2-1001/index.html").read_text(encoding="utf-8")
    assert '<meta property="og:url" content="https://example.org/co2-atlas/sources/coco2-1001/">' in src
    assert '<meta property="og:title" content="Bełchatów — coal, 5,472 MW (POL)">' in src
    assert '<meta property="og:description" content="Bełchatów (Poland): satellite-observed' in src
    assert "og:url" not in nf


def test_malformed_content_is_skipped_and_reported(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "good.md").write_text("---\ntitle: Good page\norder: 1\n---\nHello *world*.\n")
    (content / "broken.md").write_text("---\ntitle Broken\n---\ntext\n")
    (content / "unclosed.md").write_text("---\ntitle: X\ntext\n")
    out = tmp_path / "site"
    stats = render_site(config(search=False, content=str(content)), demo_result(), out)
    assert (out / "good/index.html").exists() and "<em>world</em>" in (out / "good/index.html").read_text()
    assert not (out / "broken").exists() and not (out / "unclosed").exists()
    assert len(stats["skipped"]) == 2
    assert any("broken.md" in s for s in stats["skipped"]) and any("unclosed.md" in s for s in stats["skipped"])


def test_front_matter_parser():
    meta, body = parse_front_matter("---\ntitle: T\norder: 3\n---\nBody", Path("x.md"))
    assert meta == {"title": "T", "order": "3"} and body == "Body"
    for bad in ["no front matter", "---\norder: 1\n---\n", "---\ntitle: T\norder: x\n---\n", "---\ntitle: T\n"]:
        with pytest.raises(ContentError, match="x.md"):
            parse_front_matter(bad, Path("x.md"))


# --------------------------------------------------------------------------- units


def test_slugify_is_safe_stable_and_unique():
    assert urls.slugify("coco2-1001") == "coco2-1001"
    evil = urls.slugify(EVIL_NAME)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", evil) and evil == urls.slugify(EVIL_NAME)
    assert urls.slugify("a/b") != urls.slugify("a-b") and urls.slugify("../x") != urls.slugify("x")
    assert urls.slugify("") and "/" not in urls.slugify("..")


def test_relative_links():
    assert urls.relative("sources/a/", "detections/b/") == "../../detections/b/"
    assert urls.relative("", "sources/a/") == "sources/a/"
    assert urls.relative("sources/a/", "") == "../../"
    assert urls.root_prefix("404.html") == "" and urls.root_prefix("sources/x/") == "../../"


def test_parse_alternatives():
    assert parse_alternatives("a:0.5|city/x:y:0.25") == [("a", 0.5), ("city/x:y", 0.25)]
    assert parse_alternatives("") == [] and parse_alternatives(None) == []


def test_ratio_chart_has_every_combined_source_error_bars_and_ratio_one():
    """Sources with and without a detected plume are both drawn (filled / hollow); negative
    ratios are shown, not dropped; the median line is drawn."""
    pts = [dict(inventory=10.0, ratio=1.2, ratio_unc=0.3, n_measured=3, n_detected=1, label="A <b>",
                href="sources/a/"),
           dict(inventory=100.0, ratio=-0.2, ratio_unc=None, n_measured=2, n_detected=0, label="B", href=""),
           dict(inventory=None, ratio=0.5, ratio_unc=0.1, n_measured=1, n_detected=0, label="C", href="")]
    svg = charts.observed_vs_inventory(pts)
    root = ET.fromstring(svg)  # well-formed XML, labels escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{ns}circle[@class='obs']")) == 1
    assert len(root.findall(f".//{ns}circle[@class='obs-nd']")) == 1
    assert len(root.findall(f".//{ns}path[@class='err']")) == 1
    assert root.findall(f".//{ns}path[@class='one-to-one']") and root.findall(f".//{ns}path[@class='median-line']")
    text = "".join(root.itertext())
    assert "A <b>" in text and "-0.20" in text and "1 with at least one detected plume" in text


def test_serve_injects_reload_and_rebuilds(site, tmp_path):
    out, _ = site
    watched = tmp_path / "templates"
    watched.mkdir()
    calls = []
    server, stop = start(out, 0, lambda: calls.append(1), [watched], interval=0.1)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = urllib.request.urlopen(base + "/sources/coco2-1001/").read()
        assert RELOAD_TAG in page and RELOAD_TAG not in (out / "sources/coco2-1001/index.html").read_bytes()
        v0 = urllib.request.urlopen(base + "/__atlas_version").read()
        (watched / "x.html").write_text("changed")
        for _ in range(50):
            if urllib.request.urlopen(base + "/__atlas_version").read() != v0:
                break
            stop.wait(0.1)
        assert calls and urllib.request.urlopen(base + "/__atlas_version").read() != v0
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "/no/such/page/")
        assert err.value.code == 404 and b"Page not found" in err.value.read()
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_config_site_fields_documented():
    names = {f.name for f in dataclasses.fields(config().site)}
    assert {"templates", "content", "node_modules", "search"} <= names


def test_raw_html_in_markdown_is_not_live():
    from builder.render.content import render_markdown
    html = render_markdown("Hi <script>alert(1)</script> <img src=x onerror=alert(2)> CO<sub>2</sub>\n\n"
                           "[a](javascript:alert(3)) [b](https://doi.org/10.5194/x) ![c](https://example.org/i.png)\n\n"
                           "`<b>code</b>`\n")
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "CO<sub>2</sub>" in html and 'href="https://doi.org/10.5194/x"' in html
    assert 'src="https://example.org' not in html and "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html


def test_empty_result_renders(tmp_path):
    """A run that found nothing still gives a complete, link-clean site."""
    import pandas as pd

    from builder import tables
    from builder.results import BuildResult

    r = demo_result()
    empty = BuildResult(
        sources=r.sources, detections=r.detections.iloc[0:0], profiles=pd.DataFrame(columns=tables.PROFILE_COLUMNS),
        overpasses=pd.DataFrame(columns=tables.OVERPASS_COLUMNS), candidates=pd.DataFrame(columns=tables.CANDIDATE_COLUMNS),
        source_summary=pd.DataFrame(columns=tables.SOURCE_SUMMARY_COLUMNS), summary={"simulated": False})
    stats = render_site(config(search=False), empty, tmp_path)
    assert stats["n_pages"] == 16  # sections, content pages, countries index + 4 countries; no source/detection pages
    broken, _ = broken_links(tmp_path)
    assert broken == [] and not (tmp_path / "pagefind").exists()
    assert not (tmp_path / "sources/coco2-1001").exists()
    cand = (tmp_path / "candidates/index.html").read_text(encoding="utf-8")
    assert "No candidate new sources" in cand and "on at least 2 different orbits" in cand
    assert 'class="map"' not in cand and not (tmp_path / "candidates/map.js").exists()   # no empty map


@pytest.mark.slow
def test_render_speed_and_page_weight(tmp_path):
    """Inventory-scale render: >= 100 pages/s on an idle 2-core machine (asserted loosely), small pages."""
    from tests.site_fixture import large_result

    stats = render_site(config(search=False), large_result(16000, 500), tmp_path)
    assert stats["n_pages"] == 1011
    assert stats["pages_per_s"] > 50
    for page, budget_kb in [("sources/coco2-00001/index.html", 40), ("sources/index.html", 20)]:
        assert (tmp_path / page).stat().st_size < budget_kb * 1024, page


def test_validation_sections_flatten_nested_summaries():
    from builder.render.validation_view import validation_sections
    v = {"recall": 0.25, "meets": {"recall": False}, "emission": {"n": 13, "within_30pct": 0.615, "x": {"y": 2.0},
                                                                  "median_ul_over_truth": 8.47},
         "recall_by_bin": [{"bin": "0-10", "n": 4, "recall": 0.5}, {"bin": ">10", "n": 2, "extra": None}],
         "targets": {"pull_sd": [0.9, 1.2]}}
    secs = {s["title"]: s for s in validation_sections(v)}
    assert secs["Overview"]["rows"] == [("Recall", "25.0%")]
    assert secs["Meets the target"]["rows"] == [("Recall", "no")]
    assert ("Within ±30 %", "61.5%") in secs["Emission"]["rows"] and ("X · Y", "2.00") in secs["Emission"]["rows"]
    assert ("Median upper limit / truth", "8.47") in secs["Emission"]["rows"]   # not "Median ul over truth"
    assert secs["Targets"]["rows"] == [("Pull standard deviation", "0.900 to 1.20")]
    assert secs["Recall by bin"]["columns"] == ["Bin", "Count", "Recall", "Extra"]
    assert secs["Recall by bin"]["table"][1] == [">10", "2", "—", "—"]


def test_csp_ready_no_inline_script_style_or_handlers(site):
    """Pages carry no inline <script>, style attribute or on*= handler, so a strict CSP can be added."""
    out, _ = site
    for path, rel in own_text_files(out):
        if path.suffix == ".html":
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), rel
            assert not re.search(r"<[^>]+\sstyle=", text), rel
            assert not re.search(r"<[^>]+\son[a-z]+=", text, re.I), rel


def test_multi_unit_site_is_explained_on_the_source_page(tmp_path):
    """Catalogue units sharing one site: the page names the other units and the site total that the
    inventory-at-overpass and ratio columns use."""
    import pandas as pd

    result = demo_result()
    src = result.sources
    page_id = str(result.overpasses["source_id"].iloc[0])
    row = src.loc[src["source_id"] == page_id].iloc[0].copy()
    twin = row.copy()
    twin["source_id"], twin["name"], twin["emission_t_yr"] = "twin-unit-1", "Twin Unit One", 1234567.0
    result.sources = pd.concat([src, twin.to_frame().T], ignore_index=True)
    result.sources["emission_t_yr"] = result.sources["emission_t_yr"].astype(float)
    out = tmp_path / "site"
    render_site(config(), result, out)
    page = (out / urls.source_page(page_id) / "index.html").read_text(encoding="utf-8")
    assert "catalogue units on one site" in page and "Twin Unit One" in page
    total = float(row["emission_t_yr"]) + 1234567.0
    assert f"{total:,.0f}" in page
    # one rule, stated where the figures are: the entry's own inventory in the opening line beside the
    # site's, the ratio labelled as the site's, on the page, in the Sources data and on the country list
    assert (f"inventory {float(row['emission_t_yr']):,.0f} t CO2/yr" in page
            and f"for this catalogue entry; {total:,.0f} t CO2/yr for the whole site of 2 entries" in page)
    assert "<dt>Observed / inventory (whole site)</dt>" in page
    data = json.loads((out / "assets/data/sources.json").read_text(encoding="utf-8"))
    sites = {r[0]: r[data["columns"].index("site_units")] for r in data["rows"]}
    assert sites[page_id] == sites["twin-unit-1"] == 2 and set(sites.values()) == {1, 2}
    country = next(p for p in (out / "countries").rglob("index.html") if f'id="s-{page_id}"' in p.read_text("utf-8"))
    row_html = country.read_text("utf-8").split(f'id="s-{page_id}"')[1].split("</tr>")[0]
    assert "(site of 2)" in row_html


def test_csv_downloads_neutralise_spreadsheet_formulas(tmp_path):
    """A source named like a formula is published in CSV with a leading apostrophe (OWASP CSV
    injection); numbers, including negative ones, are untouched."""
    import csv as csvmod

    result = demo_result()
    i = result.sources.index[0]
    result.sources.loc[i, "name"] = '=HYPERLINK("http://evil.example","x")'
    out = tmp_path / "site"
    render_site(config(), result, out)
    rows = list(csvmod.DictReader((out / "downloads" / "sources.csv").open(encoding="utf-8")))
    names = [r["name"] for r in rows]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in names
    assert not any(n.startswith("=") for n in names)
    for col in ("latitude", "longitude", "emission_t_yr"):
        assert all(not r[col].startswith("'") and float(r[col]) == float(r[col]) for r in rows)
    from builder.render.writer import csv_safe
    assert csv_safe("-12.5") == "'-12.5" and csv_safe(-12.5) == -12.5 and csv_safe("Tokyo") == "Tokyo"
