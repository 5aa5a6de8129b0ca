"""Country pages and their static source lists (builder.render.countries)."""

from __future__ import annotations

import math

import pytest

from builder.compare import SYSTEMATIC_REL
from builder.render import countries as cr


def test_combined_ratio_keeps_the_shared_systematic_once():
    u = math.sqrt(0.3 ** 2 + SYSTEMATIC_REL ** 2)
    r, unc, n = cr.combined_ratio([dict(ratio=1.0, ratio_unc=u), dict(ratio=0.5, ratio_unc=u),
                                   dict(ratio=None, ratio_unc=0.1), dict(ratio=2.0, ratio_unc=None)])
    assert n == 2 and r == pytest.approx(0.75)
    assert unc == pytest.approx(math.sqrt(0.3 ** 2 / 2 + SYSTEMATIC_REL ** 2))
    assert cr.combined_ratio([]) == (None, None, 0)


def test_list_pages_and_anchors():
    assert cr.list_page("pol", 1) == "countries/pol/" and cr.list_page("usa", 3) == "countries/usa/3/"
    assert cr.country_page("USA-AL") == "countries/usa/" and cr.country_page("") == "countries/unknown/"
    assert cr.anchor("coco2-15522") == "s-coco2-15522"


# --------------------------------------------------------------------------- on the demo site

from html.parser import HTMLParser  # noqa: E402
from pathlib import Path  # noqa: E402

from builder.config import load_config  # noqa: E402
from builder.render import render_site, urls  # noqa: E402
from tests.site_fixture import demo_result  # noqa: E402
from tests.browserkit import crawl  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo site with one source per list page, so the country lists paginate."""
    out = tmp_path_factory.mktemp("site")
    mp = pytest.MonkeyPatch()
    mp.setattr(cr, "PAGE_SIZE", 1)
    try:
        render_site(load_config(REPO / "atlas.toml", site={"search": False}), demo_result(), out)
    finally:
        mp.undo()
    return out


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if a.get("id"):
            self.ids.add(a["id"])


def _parse(path: Path) -> _Hrefs:
    p = _Hrefs()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_country_pages_list_every_source(site):
    r = demo_result()
    assert (site / "countries/index.html").exists()
    pol = (site / "countries/pol/index.html").read_text(encoding="utf-8")
    assert "<h1>Poland" in pol and 'href="../../sources/coco2-1001/"' in pol and 'id="s-coco2-1001"' in pol
    zaf = _parse(site / "countries/zaf/index.html").ids | _parse(site / "countries/zaf/2/index.html").ids
    assert {"s-coco2-1002", "s-coco2-1003"} <= zaf
    for sid, country in zip(r.sources.source_id, r.sources.country):
        ids = set().union(*(_parse(p).ids for p in (site / cr.country_page(country)).rglob("index.html")))
        assert "s-" + urls.slugify(sid) in ids, sid


def test_no_javascript_crawl_from_home_reaches_every_source_page(site):
    pages = {p.relative_to(site).as_posix() for p in site.glob("sources/*/index.html")}
    assert pages and pages <= crawl(site, "index.html")
    # the country lists alone link every source page, through their pagination
    seen = crawl(site, "countries/index.html", within="countries/")
    assert pages <= seen, sorted(pages - seen)
    assert {"countries/zaf/index.html", "countries/zaf/2/index.html"} <= seen


def test_source_page_names_its_plant_and_says_where_the_name_comes_from(site):
    html = (site / "sources/coco2-1001/index.html").read_text(encoding="utf-8")
    assert "<h1>Bełchatów — coal, 5,472 MW (POL) <small class=\"page-id\">coco2-1001</small></h1>" in html
    assert "GPPD v1.2.0: “Bełchatów”, the nearest coal plant, 0.21 km from this unit" in html
    assert 'href="../../countries/pol/">Poland</a>' in html
    quiet = (site / "countries/usa/index.html").read_text(encoding="utf-8")
    assert "<th scope=\"col\">State</th>" in quiet and "<td>Kansas</td>" in quiet
