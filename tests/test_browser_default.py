"""Issue 12's "Done when" on the default build (`bash scripts/build.sh`: the simulated month over
the whole CoCO2 catalogue), built once per session into a temporary folder (conftest.default_site)
and browsed in headless Chromium: axe-core, page weight, search, a no-JavaScript crawl, phones.

All tests of the default build live in this one file: `pytest -n 2 --dist loadfile` then builds it
once, on one worker, while the other runs the rest of the suite.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builder.render import urls
from tests.browserkit import assert_charts_fit, assert_search_finds, AXE, axe_violations, crawl, shot, transferred

pytestmark = pytest.mark.browser
BELCHATOW = "coco2-15522"   # the largest plant of the inventory (Bełchatów, Poland)


def _a_detection_page(site: Path) -> str:
    """The first detection page (by id)."""
    pages = sorted(p.parent.name for p in site.glob("detections/*/index.html"))
    assert pages, "the default build publishes detections"
    return f"detections/{pages[0]}/"


def _heaviest_source_page(site: Path) -> str:
    """The source page with the most bytes of its own (HTML + data files in its folder)."""
    sizes = {p.name: sum(f.stat().st_size for f in p.iterdir() if f.is_file())
             for p in site.glob("sources/*/") if (p / "index.html").is_file()}
    return max(sizes, key=sizes.get)


@pytest.mark.parametrize("width", [1200, 390])
def test_axe_finds_no_violations_on_the_default_build(browser, default_site, default_url, width):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    paths = ["", "sources/", urls.source_page(BELCHATOW), _a_detection_page(default_site), "search/?q=Poland",
             "candidates/", "countries/", "countries/pol/"]
    assert all((default_site / p.split("?")[0] / "index.html").is_file() for p in paths)
    assert axe_violations(browser, default_url, paths, width) == {}


def test_home_page_weight_budget(page, default_url):
    pg, watch = page
    total, loaded = transferred(pg, default_url)
    assert any(u.endswith("/assets/data/map-sources.json") for u in loaded)
    assert total <= 1_200_000, (total, loaded)
    watch.check()


@pytest.mark.parametrize("which", ["belchatow", "heaviest"])
def test_source_page_weight_budget(page, default_site, default_url, which):
    pg, watch = page
    sid = BELCHATOW if which == "belchatow" else _heaviest_source_page(default_site)
    total, loaded = transferred(pg, default_url + urls.source_page(sid))
    assert pg.locator("h1").count() == 1
    assert total <= 600_000, (sid, total, loaded)
    watch.check()


@pytest.mark.parametrize("query,expected", [
    ("Belchatow", "Bełchatów"), ("Bełchatów", "Bełchatów"), ("coco2-15522", "Bełchatów"),
    ("Poland", "(POL)"), ("South Africa", "(ZAF)")])
def test_search_finds_sources_of_the_default_build(page, default_url, query, expected):
    pg, watch = page
    assert_search_finds(pg, default_url, query, expected)
    watch.check()


def test_no_javascript_crawl_from_home_reaches_every_source_page(default_site):
    pages = {p.relative_to(default_site).as_posix() for p in default_site.glob("sources/*/index.html")}
    assert len(pages) > 1000
    missing = pages - crawl(default_site, "index.html")
    assert not missing, (len(missing), sorted(missing)[:10])


@pytest.mark.parametrize("path", ["", "source"])
def test_phone_zoom_buttons_are_clickable(phone, default_url, path):
    pg, watch = phone
    pg.goto(default_url + (urls.source_page(BELCHATOW) if path else ""))
    zoom = pg.locator(".leaflet-control-zoom-in").first
    zoom.wait_for()
    map_id = zoom.evaluate("b => b.closest('.leaflet-container').id")
    layers = pg.locator(f"#{map_id} .leaflet-control-layers-expanded")
    assert layers.count() == 0   # a layer list, if any, starts collapsed on phones
    zoom.scroll_into_view_if_needed()
    box = zoom.bounding_box()
    hit = pg.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.leaflet-control-zoom-in') !== null",
                      [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert hit   # nothing (the layer list) covers the "+" button
    zoom_of = f"() => Object.values(window).find(v => v instanceof L.Map && v.getContainer().id === '{map_id}').getZoom()"
    z0 = pg.evaluate(zoom_of)
    zoom.tap()
    pg.wait_for_timeout(800)
    assert pg.evaluate(zoom_of) == z0 + 1
    shot(pg, f"default-phone-{path or 'home'}")
    watch.check()


@pytest.mark.parametrize("path", ["", "source", "detection", "country"])
def test_phone_no_chart_is_cut_off(phone, default_site, default_url, path):
    """At 390 px a chart either fits the screen or lies whole in a figure that scrolls sideways
    with a visible cue; the page itself never scrolls sideways."""
    pg, watch = phone
    target = {"": "", "source": urls.source_page(BELCHATOW), "detection": _a_detection_page(default_site),
              "country": "countries/pol/"}[path]
    pg.goto(default_url + target)
    pg.wait_for_load_state("networkidle")
    n_charts = assert_charts_fit(pg, path)
    width = pg.evaluate("() => window.innerWidth")
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= width + 1
    if path in ("", "source", "detection"):
        assert n_charts > 0, path
    watch.check()


NEXT_5 = """() => { const next = document.getElementById('page-next'), t = performance.now();
    for (let i = 0; i < 5; i++) next.click();
    return performance.now() - t; }"""


def test_sources_list_is_paged_and_late_pages_cost_what_early_ones_do(page, default_url):
    """16k rows: the table never holds more than one page of rows, and five pages turned far
    down the list take about as long as the first five (the old "Show more" grew with every click)."""
    pg, watch = page
    pg.goto(default_url + "sources/")
    pg.wait_for_selector("#sources-table tbody tr")
    rows = pg.locator("#sources-table tbody tr")
    total = int(pg.locator("#source-count").inner_text().split(" of ")[1].split()[0].replace(",", ""))
    assert rows.count() == 100 and total > 16_000
    early = [pg.evaluate(NEXT_5) for _ in range(3)]          # pages 1 -> 16
    assert rows.count() == 100 and "page 16 of" in pg.locator("#source-count").inner_text()
    pg.goto(default_url + "sources/?page=140")
    pg.wait_for_selector("#sources-table tbody tr")
    assert "page 140 of" in pg.locator("#source-count").inner_text()
    late = [pg.evaluate(NEXT_5) for _ in range(3)]           # pages 140 -> 155
    assert rows.count() == 100 and "page 155 of" in pg.locator("#source-count").inner_text()
    assert sorted(late)[1] <= 4 * max(sorted(early)[1], 1.0), (early, late)   # medians; 1 ms: the timer's grain
    pg.fill("#f-text", "belchatow")                           # filtering folds accents like the search does
    assert rows.count() >= 1 and all("Bełchatów" in t for t in rows.all_inner_texts())
    watch.check()


def test_sources_filters_live_in_the_url(page, default_url):
    pg, watch = page
    pg.goto(default_url + "sources/?country=Poland&q=coal&sort=name&dir=asc&page=2")
    pg.wait_for_selector("#sources-table tbody tr")
    assert pg.input_value("#f-country") == "Poland" and pg.input_value("#f-text") == "coal"
    assert pg.locator("th:has(button[data-key=name])").get_attribute("aria-sort") == "ascending"
    assert "page 2 of" in pg.locator("#source-count").inner_text()
    countries = pg.locator("#sources-table tbody tr td:nth-child(2)").all_inner_texts()
    assert countries and set(countries) == {"Poland"}
    names = pg.locator("#sources-table tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    pg.select_option("#f-kind", "power_plant")               # a new filter: back to page 1, in the URL
    assert "kind=power_plant" in pg.url and "page=" not in pg.url and "country=Poland" in pg.url
    shared = pg.url
    pg.goto("about:blank")
    pg.goto(shared)                                           # the shared address opens the same view
    pg.wait_for_selector("#sources-table tbody tr")
    assert pg.input_value("#f-kind") == "power_plant" and pg.input_value("#f-country") == "Poland"
    assert pg.locator("#sources-table tbody tr td:nth-child(3)").all_inner_texts()[0] == "power plant"
    watch.check()


def _cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)]


def test_counts_agree_one_detection_per_source_and_orbit(default_site):
    """Every source page: one overpass row per orbit, the facts box counts exactly the rows marked
    as plumes and all rows; the home page's plume count is the sum over the source pages."""
    total = 0
    for page in default_site.glob("sources/*/index.html"):
        html = page.read_text(encoding="utf-8")
        facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", html, re.S))
        table = html.split('id="ovp-h"')[1].split("</table>")[0]
        rows = [_cells(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.S)]
        orbits = [r[1] for r in rows]
        assert len(orbits) == len(set(orbits)), (page, orbits)
        n_plumes = sum(r[8].startswith("plume") for r in rows)
        assert int(facts["Plumes detected"]) == n_plumes, page
        assert facts["Overpasses measured"].endswith(f" of {len(rows)}"), (page, facts["Overpasses measured"])
        total += n_plumes
    home = (default_site / "index.html").read_text(encoding="utf-8")
    assert f"<dt>Plumes detected</dt><dd>{total:,}</dd>" in home, total
