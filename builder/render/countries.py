"""Country pages: one static page per country (ISO3; CoCO2's US states grouped
under the United States) with its inventory total, the sources overpassed, the
combined observed/inventory of its sources, and every source in a paginated
static list that links each source page. Together with the countries index
they make every source page reachable without JavaScript, and they give
sources without a page of their own an address (an anchor on a list page),
which search results point to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from builder import countries
from builder.compare import SYSTEMATIC_REL
from builder.render import urls
from builder.render.fmt import finite
from builder.render.model import Model

#: Sources per static list page.
PAGE_SIZE = 200


@dataclass
class Country:
    """One country's sources (largest inventory first) and its totals."""

    code: str
    name: str
    sources: list[dict] = field(default_factory=list)
    total_t_yr: float = 0.0
    n_overpassed: int = 0
    n_measured: int = 0
    ratio: float | None = None
    ratio_unc: float | None = None
    n_ratio: int = 0

    @property
    def n_pages(self) -> int:
        return max(1, math.ceil(len(self.sources) / PAGE_SIZE))

    @property
    def slug(self) -> str:
        return country_slug(self.code)


def country_slug(code) -> str:
    """'pol' for 'POL' and for 'POL-x'; 'unknown' without a code."""
    return urls.slugify(countries.country_code(code).lower() or "unknown")


def country_page(code) -> str:
    """Site path of the country page of an inventory country code."""
    return list_page(country_slug(code), 1)


def list_page(slug: str, page: int) -> str:
    """Site path of page ``page`` (1-based) of a country's source list."""
    return f"countries/{slug}/" if page <= 1 else f"countries/{slug}/{page}/"


def anchor(source_id: str) -> str:
    """The id of a source's row on its country list."""
    return "s-" + urls.slugify(source_id)


def combined_ratio(summaries: list[dict]) -> tuple[float | None, float | None, int]:
    """Combined observed/inventory of several sources from their per-source
    ratio ± ratio_unc: the inverse-variance mean of the statistical parts (each
    ratio_unc without the shared wind systematic, builder.compare.SYSTEMATIC_REL),
    whose uncertainty gets that systematic back once, since it does not average
    down over sources. Returns (ratio, ratio_unc, n_sources_used)."""
    sw = swr = 0.0
    n = 0
    for s in summaries:
        r, u = s.get("ratio"), s.get("ratio_unc")
        if not (finite(r) and finite(u) and u > 0):
            continue
        stat2 = max(u * u - SYSTEMATIC_REL ** 2, (0.01 * u) ** 2)
        sw += 1.0 / stat2
        swr += r / stat2
        n += 1
    if n == 0:
        return None, None, 0
    return swr / sw, math.sqrt(1.0 / sw + SYSTEMATIC_REL ** 2), n


def group(model: Model) -> list[Country]:
    """Countries sorted by name, each with its sources and totals."""
    by_code: dict[str, Country] = {}
    for s in model.sources:
        code = countries.country_code(s.get("country"))
        c = by_code.get(code)
        if c is None:
            c = by_code[code] = Country(code, countries.country_name(code) or "Country unknown")
        c.sources.append(s)
    for c in by_code.values():
        c.sources.sort(key=lambda s: (-(s.get("emission_t_yr") or 0.0), s["source_id"]))
        c.total_t_yr = sum(s.get("emission_t_yr") or 0.0 for s in c.sources)
        summ = [model.summary_by_id[s["source_id"]] for s in c.sources if s["source_id"] in model.summary_by_id]
        c.n_overpassed = sum(1 for m in summ if (m.get("n_overpasses") or 0) > 0)
        c.n_measured = sum(1 for m in summ if (m.get("n_measured") or 0) > 0)
        c.ratio, c.ratio_unc, c.n_ratio = combined_ratio(summ)
    return sorted(by_code.values(), key=lambda c: (c.name.lower(), c.code))


def locations(groups: list[Country]) -> dict[str, str]:
    """source_id -> site path of its row on a country list ('countries/pol/2/#s-coco2-1')."""
    out = {}
    for c in groups:
        for i, s in enumerate(c.sources):
            out[s["source_id"]] = list_page(c.slug, i // PAGE_SIZE + 1) + "#" + anchor(s["source_id"])
    return out


def country_pages(rd, model: Model, groups: list[Country], site_units: dict[str, dict]) -> None:
    """The countries index and every country's paginated source list. ``site_units``
    (builder.render.pages) marks entries whose ratio is the whole site's."""
    rd.page("countries/", "countries.html", title="Countries", countries=groups,
            n_sources=len(model.sources), href=lambda c: list_page(c.slug, 1))
    for c in groups:
        for page in range(1, c.n_pages + 1):
            rows = []
            for s in c.sources[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
                rows.append(dict(s, anchor=anchor(s["source_id"]), href=model.source_href(s["source_id"]),
                                 summary=model.summary_by_id.get(s["source_id"], {}),
                                 region=countries.region_name(s.get("country")),
                                 site_units=len(site_units[s["source_id"]]["units"]) if s["source_id"] in site_units else 1))
            pager = [(p, list_page(c.slug, p)) for p in range(1, c.n_pages + 1)]
            title = c.name if page == 1 else f"{c.name}, sources page {page}"
            rd.page(list_page(c.slug, page), "country.html", title=title, country=c, rows=rows, page=page,
                    pager=pager, first=(page - 1) * PAGE_SIZE + 1, page_size=PAGE_SIZE,
                    has_regions=any(r["region"] for r in rows), site_km=rd.cfg.attribute.site_km)
