"""The rendered fixture site in headless Chromium: maps, tables, charts, search,
no console errors, no failed requests and no request leaving 127.0.0.1.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builder.config import load_config
from builder.render import render_site, urls
from tests.site_fixture import demo_result
from tests.browserkit import preview, assert_charts_fit, assert_search_finds, AXE, PHONE, REPO, Watch, axe_violations, serve_under, shot, transferred

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-site")
    render_site(load_config(REPO / "atlas.toml"), demo_result(), out)
    return out


@pytest.fixture(scope="module")
def base_url(demo_site):
    with preview(demo_site) as url:
        yield url


def test_home_map_shows_sources_and_detections(page, base_url):
    pg, watch = page
    pg.goto(base_url)
    r = demo_result()
    container = pg.locator("#map_home_001")
    pg.wait_for_selector("#map_home_001[data-source-count][data-detection-count][data-candidate-count]")
    assert container.get_attribute("data-source-count") == str(len(r.sources))
    assert container.get_attribute("data-detection-count") == str(len(r.detections))
    pg.wait_for_selector(".marker-cluster, .leaflet-overlay-pane canvas")
    assert pg.locator(".leaflet-control-layers-overlays label").count() == 3
    assert pg.locator(".leaflet-control-zoom-fullscreen, .leaflet-control-fullscreen").count() >= 1
    assert pg.locator("svg.chart circle.obs").count() >= 3
    assert "Simulated observations" in pg.locator(".banner").inner_text()
    pg.wait_for_timeout(500)
    shot(pg, "home")
    watch.check()


def test_source_page_map_table_chart(page, base_url):
    pg, watch = page
    pg.goto(base_url + urls.source_page("coco2-1001"))
    pg.wait_for_selector(".leaflet-container .leaflet-overlay-pane canvas, .leaflet-container svg")
    rows = pg.locator("section:has(#ovp-h) tbody tr")
    r = demo_result()
    assert rows.count() == int((r.overpasses.source_id == "coco2-1001").sum())
    assert pg.locator("svg.chart circle.obs").count() == 2 and pg.locator("svg.chart circle.obs-nd").count() == 1
    pg.locator("svg.chart circle.obs").first.hover()
    assert pg.locator(".chart-tip").is_visible() and "kg/s" in pg.locator(".chart-tip").inner_text()
    pg.wait_for_timeout(500)
    shot(pg, "source")
    watch.check()


def test_evil_source_page_runs_no_script(page, base_url):
    pg, watch = page
    dialogs = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.goto(base_url + urls.source_page("coco2-1002"))
    pg.wait_for_selector(".leaflet-container")
    pg.wait_for_load_state("networkidle")   # no basemap cell still loading when we leave (an aborted request)
    assert pg.locator("h1").inner_text().startswith('<script>alert(1)</script>"onmouseover=')
    pg.goto(base_url + "sources/")
    pg.wait_for_selector("#sources-table tbody tr")
    pg.fill("#f-text", "alert")
    assert pg.locator("#sources-table tbody tr").count() == 1
    pg.wait_for_timeout(300)
    assert dialogs == []
    watch.check()


def test_detection_page_profile_chart(page, base_url):
    pg, watch = page
    did = demo_result().detections.detection_id.iloc[0]
    pg.goto(base_url + urls.detection_page(did))
    pg.wait_for_selector(".leaflet-container")
    assert pg.locator("svg.chart.profile").is_visible()
    assert pg.locator("svg.chart.profile circle.snd").count() > 20
    pg.wait_for_timeout(500)
    shot(pg, "detection")
    watch.check()


@pytest.mark.parametrize("query,expected", [
    ("Matimba", "Matimba"), ("coco2-1001", "Bełchatów"), ("1001", "Bełchatów"), ("JPN", "Tokyo"),
    ("Belchatow", "Bełchatów"), ("Bełchatów", "Bełchatów"), ("Poland", "Poland"), ("South Africa", "South Africa"),
    ("Japan", "Tokyo"), ("oil", "Quiet Creek"),
    ("OCO-2-22001-2018080711300044", "orbit 22001"), ("2018-08-07", "orbit 22001"), ("22001", "orbit 22001")])
def test_search_finds_sources(page, base_url, query, expected):
    pg, watch = page
    assert_search_finds(pg, base_url, query, expected)
    watch.check()


def test_search_result_of_a_source_without_page_opens_its_row(page, base_url):
    """Quiet Creek (coco2-1004) has no page of its own: its result leads to its row on the country list."""
    pg, watch = page
    pg.goto(base_url + "search/?q=Quiet")
    pg.wait_for_selector(".pagefind-ui__result-link")
    link = pg.locator(".pagefind-ui__result-link", has_text="Quiet Creek").first
    assert "countries/usa/#s-coco2-1004" in link.get_attribute("href")
    link.click()
    pg.wait_for_url("**/countries/usa/#s-coco2-1004")
    assert pg.locator("#s-coco2-1004").is_visible() and "Quiet Creek" in pg.locator("#s-coco2-1004").inner_text()
    watch.check()


def test_phone_layer_list_collapsed_and_zoom_button_clickable(browser, base_url):
    ctx = browser.new_context(**PHONE)
    pg = ctx.new_page()
    watch = Watch(pg)
    pg.goto(base_url)
    pg.wait_for_selector("#map_home_001[data-source-count]")
    assert pg.locator(".leaflet-control-layers").get_attribute("class").count("leaflet-control-layers-expanded") == 0
    zoom = pg.locator("#map_home_001 .leaflet-control-zoom-in")
    zoom.scroll_into_view_if_needed()
    box = zoom.bounding_box()
    hit = pg.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.leaflet-control-zoom-in') !== null",
                      [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert hit   # nothing (the layer list) covers the "+" button
    before = pg.evaluate("() => document.querySelector('#map_home_001 .leaflet-map-pane').style.transform")
    zoom.click()
    pg.wait_for_timeout(600)
    assert pg.evaluate("() => document.querySelector('#map_home_001 .leaflet-map-pane').style.transform") != before \
        or pg.locator("#map_home_001 .leaflet-zoom-animated").count() > 0
    shot(pg, "home-phone")
    watch.check()
    ctx.close()


@pytest.mark.parametrize("path", ["", "source", "detection"])
def test_phone_charts_fit_the_screen(browser, base_url, path):
    """At 390 px no chart is cut off: a chart either fits the screen, or lies whole inside a
    figure that scrolls sideways (text kept legible) and shows a visible cue; the page itself
    never scrolls sideways."""
    ctx = browser.new_context(**PHONE)
    pg = ctx.new_page()
    target = {"": "", "source": urls.source_page("coco2-1001"),
              "detection": urls.detection_page(demo_result().detections["detection_id"].iloc[0])}[path]
    pg.goto(base_url + target)
    assert assert_charts_fit(pg, path) > 0
    width = pg.evaluate("() => window.innerWidth")
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= width + 1
    ctx.close()


def test_wheel_scrolls_the_page_until_the_map_is_clicked(page, base_url):
    pg, watch = page
    pg.goto(base_url + urls.source_page("coco2-1001"))
    pg.wait_for_selector(".leaflet-container")
    zoom_of = "() => Object.values(window).find(v => v && v instanceof L.Map).getZoom()"
    z0 = pg.evaluate(zoom_of)
    pg.locator(".leaflet-container").first.scroll_into_view_if_needed()
    box = pg.locator(".leaflet-container").first.bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.mouse.wheel(0, -400)
    pg.wait_for_timeout(600)
    assert pg.evaluate(zoom_of) == z0          # the wheel did not zoom the map
    pg.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.75)   # empty map, not a marker
    pg.mouse.wheel(0, -400)
    pg.wait_for_timeout(800)
    assert pg.evaluate(zoom_of) > z0           # after a click it does
    watch.check()


def test_source_page_weight_budget_and_fine_basemap_cells(page, base_url):
    """A zoomed map loads only the few fine basemap cells in view, not a world at 1:50m:
    the whole page stays under 600 kB (the issue's budget)."""
    pg, watch = page
    total, loaded = transferred(pg, base_url + urls.source_page("coco2-1001"))
    cells = [u for u in loaded if "/assets/basemap/cells/" in u]
    assert 0 < len(cells) <= 12 and not any(u.endswith("world.geojson") for u in loaded)
    assert any(u.endswith("/cells/10_50.json") for u in cells)   # Bełchatów at 51.3 N, 19.3 E
    assert total <= 600_000, total
    watch.check()


def test_home_weight_budget_world_basemap(page, base_url):
    pg, watch = page
    total, loaded = transferred(pg, base_url)
    assert any(u.endswith("/assets/basemap/world.geojson") for u in loaded)
    assert not any("/assets/basemap/cells/" in u for u in loaded)
    # the map's light points file, not the full sources table (fetched on first use of a marker)
    assert any(u.endswith("/assets/data/map-sources.json") for u in loaded)
    assert not any(u.endswith("/assets/data/sources.json") for u in loaded)
    name = pg.evaluate("""() => new Promise(done => {
        const group = Object.values(window).find(v => v && v instanceof L.MarkerClusterGroup);
        const marker = group.getLayers().find(m => Math.abs(m.getLatLng().lat - 35.68) < 0.01);
        marker.fire("mouseover");
        setTimeout(() => done(marker.getTooltip().getContent().textContent), 1500);
    })""")
    assert name == "Tokyo"   # row i of map-sources.json is row i of sources.json
    assert total <= 1_200_000, total
    watch.check()


AXE_PAGES = ["", "sources/", "sources/coco2-1001/", "detections/OCO-2-22001-2018080711300044/", "search/?q=Poland",
             "candidates/", "countries/", "countries/pol/"]


@pytest.mark.parametrize("width", [1200, 390])
def test_axe_finds_no_accessibility_violations(browser, base_url, width):
    """axe-core (npm, installed by setup) on the main kinds of page, at desktop and phone widths."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    assert axe_violations(browser, base_url, AXE_PAGES, width) == {}


def test_map_view_lives_in_the_url(page, base_url):
    """A view in the address (#map=ZOOM/LAT/LON) opens there; moving the map writes it."""
    pg, watch = page
    zoom_of = "() => Object.values(window).find(v => v && v instanceof L.Map).getZoom()"
    centre_of = "() => Object.values(window).find(v => v && v instanceof L.Map).getCenter()"
    pg.goto(base_url + urls.source_page("coco2-1001") + "#map=5/48.5/10.25")
    pg.wait_for_selector(".leaflet-container")
    pg.wait_for_timeout(300)
    assert pg.evaluate(zoom_of) == 5
    c = pg.evaluate(centre_of)
    assert abs(c["lat"] - 48.5) < 0.01 and abs(c["lng"] - 10.25) < 0.01
    pg.locator(".leaflet-control-zoom-in").first.click()
    pg.wait_for_function("() => location.hash.startsWith('#map=6/')")
    watch.check()
    home = pg.context.new_page()                             # without a view in the address: the page's own
    home.goto(base_url)
    home.wait_for_selector("#map_home_001[data-source-count]")
    assert home.evaluate(zoom_of) == 2 and "#map=" not in home.url


@pytest.fixture(scope="module")
def sub_path_site(tmp_path_factory):
    """The demo site built for a project-site host: [site] base_url = "/atlas/"."""
    out = tmp_path_factory.mktemp("sub-path-site")
    render_site(load_config(REPO / "atlas.toml", site={"base_url": "/atlas/"}), demo_result(), out)
    return out


def test_search_results_and_404_page_work_under_a_sub_path(browser, sub_path_site):
    """Served under /atlas/ by a plain static host: search results link into /atlas/, and the
    404 page (served at any depth) loads its stylesheet and links back into the site."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    watch = Watch(pg)
    with serve_under(sub_path_site, "atlas") as base:
        pg.goto(base + "search/?q=Bełchatów")
        pg.wait_for_selector(".pagefind-ui__result-link")
        hrefs = pg.eval_on_selector_all(".pagefind-ui__result-link", "as => as.map(a => a.href)")
        assert hrefs and all(h.startswith(base) for h in hrefs), hrefs
        pg.locator(".pagefind-ui__result-link", has_text="Bełchatów").first.click()
        pg.wait_for_selector("h1:has-text('Bełchatów')")
        pg.wait_for_load_state("networkidle")
        response = pg.goto(base + "sources/no-such-source/")
        assert response.status == 404
        assert "status of 404" in watch.errors.pop()      # Chromium logs the missing page itself
        pg.wait_for_load_state("networkidle")
        assert pg.evaluate("() => getComputedStyle(document.querySelector('.site-header')).display") != "inline"
        assert pg.evaluate("() => [...document.styleSheets].some(s => s.href && s.href.endsWith('/atlas/assets/atlas.css'))")
        links = pg.eval_on_selector_all("main a, nav a", "as => as.map(a => a.href)")
        assert links and all(h.startswith(base) for h in links), links
        pg.locator("main a", has_text="list of sources").click()
        pg.wait_for_selector("#sources-table tbody tr")
        watch.check()
    ctx.close()


@pytest.mark.parametrize("path", ["source", "country", "detection"])
def test_cite_this_page_gives_the_data_version_address_and_date(page, base_url, path):
    pg, watch = page
    target = {"source": urls.source_page("coco2-1001"), "country": "countries/pol/",
              "detection": urls.detection_page(demo_result().detections["detection_id"].iloc[0])}[path]
    pg.goto(base_url + target)
    text = pg.locator(".cite .citation").inner_text()
    assert re.search(r"Page data version [0-9a-f]{12} \(", text), text   # a digest of the page's figures
    assert base_url + target in text                       # the address the reader sees
    assert re.search(r"accessed \d{4}-\d\d-\d\d\)", text), text
    if path == "source":
        assert "Bełchatów" in text
    watch.check()
