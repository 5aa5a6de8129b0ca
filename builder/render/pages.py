"""Every page of the atlas: context building and template rendering.

Each ``*_pages`` function takes plain data (the Model) and writes its pages
and files through the SiteWriter. Links are site paths turned into relative
URLs by the template helper ``url()``; only 404.html and sitemap.xml use the
absolute base URL.
"""

from __future__ import annotations

import math
import posixpath
from pathlib import Path

import jinja2
import numpy as np
from markupsafe import Markup

from builder import countries, physics
from builder.config import Config
from builder.render import charts, countries as country_render, fmt, maps, pagekeys, search, urls
from builder.render.coverage import other_inventories
from builder.render.validation_view import validation_sections
from builder.render.content import load_pages
from builder.render.datafiles import write_data_files
from builder.render.model import (Model, build_model, day_number, iso_day, kg_s_to_t_yr,
                                  parse_alternatives, source_scatter_point, t_yr_to_kg_s, wind_text)
from builder.published import published_detections
from builder.render.writer import SiteWriter, geojson, iso_times, overpass_geojson
from builder.results import BuildResult

#: Site sections that content pages may not shadow.
RESERVED = {"sources", "countries", "detections", "candidates", "downloads", "search", "assets", "pagefind", "404",
            "index"}


def site_path(cfg: Config, folder: str) -> Path:
    """A [site] folder resolved against the config's root."""
    return cfg.resolve(folder)


# --------------------------------------------------------------------------- formatting

_finite = fmt.finite
num, pm, big = fmt.num, fmt.pm, fmt.big


def make_env(cfg: Config) -> jinja2.Environment:
    """The Jinja2 environment (autoescape on; strict undefined catches template typos)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(site_path(cfg, cfg.site.templates))),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=num, pm=pm, big=big, day=iso_day, file_size=fmt.file_size, mt_yr=fmt.mt_yr)
    env.globals.update(wind=wind_text, mt_yr=lambda kg_s: kg_s_to_t_yr(kg_s) / 1e6 if _finite(kg_s) else None)
    return env


class Renderer:
    """Renders templates for pages at a given site path."""

    def __init__(self, cfg: Config, env: jinja2.Environment, model: Model, nav: list[tuple[str, str]],
                 writer: SiteWriter):
        self.cfg, self.env, self.model, self.nav, self.writer = cfg, env, model, nav, writer
        summary = model.result.summary
        self.common = dict(site=cfg.site, simulated=bool(summary.get("simulated")))
        # site-wide, read only in part by most pages: recorded per page (builder/render/pagekeys.py)
        self.lookups = dict(summary=summary, source_url=model.source_href)

    def page(self, path: str, template: str, *, title: str, map_: maps.RenderedMap | None = None,
             absolute: bool = False, **ctx) -> None:
        """Render ``template`` for site path ``path`` (and its map script, if any)."""
        root = urls.absolute(self.cfg.site.base_url, "") if absolute else urls.root_prefix(path)

        def url(target: str) -> str:
            return root + target if root or target else "./"
        map_script = ""
        if map_ is not None:
            self.writer.write(posixpath.join(posixpath.dirname(urls.output_file(path)), "map.js"), map_.script)
            map_script = "map.js"
        canonical = ""
        if self.cfg.site.site_url and path != "404.html":
            canonical = self.cfg.site.site_url.rstrip("/") + urls.absolute(self.cfg.site.base_url, path)
        values = dict(**self.common, **ctx, title=title, page_path=path, root=root, nav=self.nav,
                      canonical=canonical, map=map_, map_script=map_script,
                      absolute_path=urls.absolute(self.cfg.site.base_url, path),
                      rd_threshold=f"{self.cfg.attribute.targeted_min_significance:g}")
        if template in CITED_TEMPLATES:  # the page's own data version: changes only when its figures do
            values["page_version"] = pagekeys.digest(values)[:12]

        def render(values: dict, lookups: dict) -> str:  # url: a function of root; detection_href: of code
            return self.env.get_template(template).render(**values, **lookups, url=url,
                                                          detection_href=urls.detection_page)
        self.writer.render_page(urls.output_file(path), template, values, self.lookups, render)


#: Templates with a "Cite this page" box, which quotes the page's data version.
CITED_TEMPLATES = frozenset({"source.html", "country.html", "detection.html"})

#: Sources on the home chart: inventory at the overpass hours at least this [Mt/yr] (the
#: population the validation scores). A selection on the inventory, not on the estimates,
#: so it adds no bias.
HOME_MIN_MT_YR = 5.0

#: Rows of the home scatter's data table (largest sources; all of them are in downloads/sources.csv).
HOME_TABLE_ROWS = 200

DOWNLOADS = [  # file, description
    ("detections.csv", "Every published detection, by kind: targeted (a plume at a known source), anomaly "
                       "(a bump found by the blind scan) or candidate (a recurring unexplained anomaly)."),
    ("detections.geojson", "Detections as points (same columns)."),
    ("sources.csv", "Inventory sources with overpasses measured and detected and the observed/inventory ratio "
                    "over all measured overpasses."),
    ("sources.geojson", "Sources as points (same columns)."),
    ("overpasses.csv", "Every overpass of a source, with its forced emission estimate ±1σ, detected or not."),
    ("overpasses.geojson", "Overpass track segments as lines (same columns)."),
    ("candidates.csv", "Candidate new sources: recurrent unexplained anomalies, with the emission ±1σ over "
                       "all their overpasses and the nearest inventory sources."),
    ("candidates.geojson", "Candidate new sources as points."),
    ("candidate_overpasses.csv", "Every overpass of a candidate new source, with its forced emission estimate "
                                 "±1σ, detected or not (same columns as overpasses.csv)."),
    ("summary.json", "Run summary (counts, period, validation) and the list of files, machine-readable."),
]


def write_downloads(model: Model, writer: SiteWriter) -> list[dict]:
    """Bulk downloads (CSV + GeoJSON + summary.json) under downloads/; returns the file list."""
    r = model.result
    src = r.sources.merge(r.source_summary, on="source_id", how="left").sort_values("source_id", kind="stable")
    det = iso_times(published_detections(r.detections.sort_values("detection_id", kind="stable"), r.overpasses,
                                         r.sources))
    ovp = iso_times(r.overpasses.sort_values("overpass_id", kind="stable"))
    cand = iso_times(r.candidates.sort_values("candidate_id", kind="stable"))
    for name, df in (("detections", det), ("sources", src), ("candidates", cand)):
        writer.csv(f"downloads/{name}.csv", df)
        writer.json(f"downloads/{name}.geojson", geojson(df))
    writer.csv("downloads/overpasses.csv", ovp)
    writer.json("downloads/overpasses.geojson", overpass_geojson(ovp))
    co = r.candidate_overpasses if r.candidate_overpasses is not None else r.overpasses.iloc[:0]
    writer.csv("downloads/candidate_overpasses.csv", iso_times(co.sort_values("overpass_id", kind="stable")))
    files = [dict(name=n, description=d) for n, d in DOWNLOADS]
    summary = dict(r.summary, skipped=[vars(s) for s in r.skipped], files=[f["name"] for f in files],
                   n_sources=len(r.sources), n_source_pages=len(model.page_sources))
    writer.json("downloads/summary.json", summary)
    for f in files:
        f["bytes"] = (writer.out_dir / "downloads" / f["name"]).stat().st_size
    return files


# --------------------------------------------------------------------------- pages


def home_page(rd: Renderer, model: Model) -> None:
    s = model.result.summary
    points = []
    for sid in model.page_sources:
        p = source_scatter_point(model, sid)
        if p and p["inventory"] >= HOME_MIN_MT_YR * physics.KG_S_PER_MT_YR:
            p["href"] = urls.relative("", urls.source_page(sid))
            points.append(p)
    targeted = [o for o in model.result.overpasses.to_dict("records") if o.get("detected") is True]
    latest = [dict(o, href=urls.source_page(o["source_id"]), source_name=model.source_by_id.get(
        o["source_id"], {}).get("name", o["source_id"]), time_utc=str(o.get("time_utc") or ""))
        for o in sorted(targeted, key=lambda o: (str(o.get("time_utc") or ""), o["overpass_id"]), reverse=True)[:10]]
    n_anom = sum(1 for d in model.detections if not d.get("source_id"))
    odiac = any(src.get("kind") == "odiac_cluster" for src in model.sources)
    rd.page("", "home.html", title="Home", map_=maps.home_map("", rd.cfg.site.max_sources_home, odiac=odiac),
            scatter=Markup(charts.observed_vs_inventory(points)), points=points, n_targeted=len(targeted),
            n_anomalies=n_anom, n_measured=s.get("n_measured"), latest=latest, n_sources=len(model.sources),
            n_with_plume=sum(1 for p in points if p["n_detected"]),
            median_ratio=_median([p["ratio"] for p in points]),
            table=sorted(points, key=lambda p: (-p["inventory"], p["source_id"]))[:HOME_TABLE_ROWS],
            n_candidates=len(model.candidates))


def _median(values: list[float]) -> float | None:
    v = sorted(x for x in values if _finite(x))
    return v[len(v) // 2] if v else None


def sources_index(rd: Renderer, model: Model) -> None:
    kinds = sorted({s.get("kind") or "" for s in model.sources} - {""})
    names = sorted({countries.country_name(s.get("country")) for s in model.sources} - {""})
    rd.page("sources/", "sources.html", title="Sources", kinds=kinds, countries=names,
            n_sources=len(model.sources), n_pages=len(model.page_sources), site_km=rd.cfg.attribute.site_km)


def _source_map(model: Model, source: dict, overpasses: list[dict], root: str) -> maps.RenderedMap:
    m = maps.new_map("map_source", center=(source["latitude"], source["longitude"]), zoom=8)
    ov = maps.Overlay(root)
    for o in overpasses:
        seg = [[o["track_lat0"], o["track_lon0"]], [o["track_lat1"], o["track_lon1"]]]
        if all(_finite(v) for v in sum(seg, [])):
            state = "detected" if o["detected"] else "not detected"
            ov.line(seg, maps.COLORS["track"] if o["detected"] else maps.COLORS["track_nodet"], 4,
                    f"Orbit {o['orbit']} on {iso_day(o['time_utc'])}: {state}", dash="" if o["detected"] else "6 6")
        if _finite(o.get("cross_latitude")) and _finite(o.get("cross_longitude")):
            ov.wind(o["cross_latitude"], o["cross_longitude"], _nan(o.get("wind_u_m_s")), _nan(o.get("wind_v_m_s")),
                    f"Wind at orbit {o['orbit']}: {wind_text(o.get('wind_u_m_s'), o.get('wind_v_m_s'))}")
    for d in model.detections_by_source.get(source["source_id"], []):
        ov.circle(d["latitude"], d["longitude"], maps.COLORS["attributed"], 7,
                  f"Detection on {iso_day(d.get('time_utc'))}: {pm(d.get('emission_kg_s'), d.get('emission_unc_kg_s'), unit='kg/s')}",
                  href=urls.detection_page(d["detection_id"]), link=f"Detection on {iso_day(d.get('time_utc'))}")
    ov.circle(source["latitude"], source["longitude"], maps.COLORS["source"], 10,
              f"{source['name']} ({num(source.get('emission_t_yr'), ',.0f', 't/yr')})", fill_opacity=0.9)
    ov.add_to(m)
    return maps.render_map(m, root, f"Map of {source.get('name') or source['source_id']} and its overpasses")


def _nan(v) -> float:
    return v if _finite(v) else math.nan


def _overpass_rows(model: Model, overpasses: list[dict]) -> list[dict]:
    rows = []
    for o in overpasses:
        d = model.detection_by_id.get(o["detection_id"]) if o["detection_id"] else None
        rows.append(dict(o, date=iso_day(o["time_utc"]), day=day_number(o["time_utc"]), detection=d,
                         gp=d.get("gp_emission_kg_s") if d else None, gp_unc=d.get("gp_emission_unc_kg_s") if d else None,
                         detection_href=urls.detection_page(d["detection_id"]) if d else None))
    return rows


def source_pages(rd: Renderer, model: Model, site_units: dict[str, dict], progress: bool = False) -> None:
    ids = model.page_sources
    covered = other_inventories(model.result.sources, ids, rd.cfg.attribute.site_km, model.source_href)
    if progress:
        from tqdm import tqdm
        ids = tqdm(ids, desc="source pages", unit="page")
    for sid in ids:
        source = model.source_by_id[sid]
        path = urls.source_page(sid)
        slug = urls.slugify(sid)
        overpasses = model.overpasses_by_source.get(sid, [])
        rows = _overpass_rows(model, overpasses)
        chart_rows = [dict(day=r["day"], date=r["date"], observed=r.get("emission_kg_s"),
                           observed_unc=r.get("emission_unc_kg_s"), detected=bool(r.get("detected")), gp=r["gp"],
                           gp_unc=r["gp_unc"], inventory=r.get("inventory_kg_s")) for r in rows
                      if r["day"] is not None and not r.get("flag_implausible")]  # implausible: downloads only
        dets = model.detections_by_source.get(sid, [])
        rd.writer.csv_rows(f"{path}{slug}-overpasses.csv", list(model.result.overpasses.columns), overpasses)
        rd.writer.json(f"{path}{slug}.json", dict(source=source, summary=model.summary_by_id.get(sid),
                                                  overpasses=overpasses, detections=dets))
        rd.page(path, "source.html", title=source.get("name") or sid, source=source,
                place=countries.place_name(source.get("country")),
                country_href=country_render.country_page(source.get("country")),
                ssum=model.summary_by_id.get(sid, {}), overpasses=rows, detections=dets,
                map_=_source_map(model, source, overpasses, urls.root_prefix(path)),
                chart=Markup(charts.emission_timeseries(chart_rows)) if chart_rows else None,
                inventory_kg_s=t_yr_to_kg_s(source.get("emission_t_yr")), slug=slug,
                site_group=site_units.get(sid), covered=covered.get(sid), site_km=rd.cfg.attribute.site_km)


def _site_units(model: Model, cfg: Config) -> dict[str, dict]:
    """For sources that share a site with other catalogue units (closer than
    ``[attribute] site_km``, e.g. the units of one plant): the site's members and
    total. A satellite plume cannot separate them, so attribution, the inventory at
    overpass hour and the ratios use the site total; the page must say so."""
    from builder.attribute import Sites

    src = model.result.sources
    if src is None or len(src) == 0:
        return {}
    sites = Sites(src, cfg.attribute.site_km)
    multi = np.flatnonzero(sites.counts > 1)
    k, rows = sites.members(multi)
    ids = src["source_id"].astype(str).to_numpy()
    out: dict[str, dict] = {}
    for j, label in enumerate(multi):
        members = rows[k == j]
        units = [dict(source_id=ids[r], name=model.source_by_id.get(ids[r], {}).get("name") or ids[r],
                      href=model.source_href(ids[r]), emission_t_yr=float(src["emission_t_yr"].iloc[r]))
                 for r in members]
        info = dict(units=units, total_t_yr=float(sites.annual_t_yr[label]), km=cfg.attribute.site_km)
        for u in units:
            out[u["source_id"]] = info
    return out


def _profile_points(model: Model, d: dict) -> list[dict]:
    """Soundings relative to the plume centre (profile along_km is in the detection's along-track frame)."""
    prof = model.profiles.get(d["detection_id"], [])
    centre = d.get("along_km")
    xs = [p["along_km"] for p in prof if p.get("along_km") is not None]
    if xs and _finite(centre) and not (min(xs) - 1 <= centre <= max(xs) + 1) and min(xs) <= 0 <= max(xs):
        centre = 0.0  # profile already centre-relative
    centre = centre if _finite(centre) else 0.0
    return [dict(x=p["along_km"] - centre, xco2=p["xco2_ppm"], unc=p.get("xco2_unc_ppm") or 0.0,
                 lat=p.get("latitude"), lon=p.get("longitude")) for p in prof
            if p.get("along_km") is not None and p.get("xco2_ppm") is not None]


def _attribution_candidates(model: Model, d: dict) -> list[dict]:
    out = []
    if d["source_id"]:
        out.append(dict(source_id=d["source_id"], score=d.get("attribution_score"), chosen=True))
    for sid, score in parse_alternatives(d.get("alternatives")):
        if sid != d["source_id"]:
            out.append(dict(source_id=sid, score=score, chosen=False))
    for c in out:
        s = model.source_by_id.get(c["source_id"], {})
        c.update(name=s.get("name") or c["source_id"], latitude=s.get("latitude"), longitude=s.get("longitude"),
                 emission_t_yr=s.get("emission_t_yr"), href=model.source_href(c["source_id"]))
    return out


def enhancement_color(ppm: float) -> str:
    """Diverging colour for an XCO2 enhancement over the fitted background: blue (-1 ppm), white, red (+2 ppm)."""
    t = max(-1.0, min(2.0, ppm))
    if t >= 0:
        f = t / 2.0
        rgb = (255, round(255 - 180 * f), round(255 - 200 * f))
    else:
        f = -t
        rgb = (round(255 - 200 * f), round(255 - 120 * f), 255)
    return "#%02x%02x%02x" % rgb


def _detection_map(d: dict, points: list[dict], fit: dict, cands: list[dict], root: str) -> maps.RenderedMap:
    m = maps.new_map("map_detection", center=(d["latitude"], d["longitude"]), zoom=8)
    ov = maps.Overlay(root)
    track = [p for p in points if _finite(p.get("lat")) and _finite(p.get("lon"))]
    if track:
        ov.line([[track[0]["lat"], track[0]["lon"]], [track[-1]["lat"], track[-1]["lon"]]], maps.COLORS["track"], 2,
                f"{d.get('instrument') or 'Satellite'} track, orbit {d.get('orbit')}")
        for p in track:
            enh = p["xco2"] - fit["intercept_ppm"] - fit["slope_ppm_km"] * p["x"]
            ov.circle(p["lat"], p["lon"], enhancement_color(enh), 4, f"XCO2 {p['xco2']:.2f} ppm ({enh:+.2f} over background)",
                      fill_opacity=0.9, stroke=False)
    ov.wind(d["latitude"], d["longitude"], _nan(d.get("wind_u_m_s")), _nan(d.get("wind_v_m_s")),
            f"Wind: {wind_text(d.get('wind_u_m_s'), d.get('wind_v_m_s'))}")
    color = maps.COLORS["attributed"] if d["source_id"] else maps.COLORS["unattributed"]
    ov.circle(d["latitude"], d["longitude"], color, 8, f"Plume centre ({d['latitude']:.3f}, {d['longitude']:.3f})",
              fill_opacity=0.2)
    for c in cands:
        if _finite(c.get("latitude")) and _finite(c.get("longitude")):
            ov.circle(c["latitude"], c["longitude"], maps.COLORS["source"], 9 if c["chosen"] else 6,
                      f"{c['name']} (score {num(c.get('score'), '.2f')})", href=c.get("href") or "", link=c["name"])
    ov.add_to(m)
    return maps.render_map(m, root, "Map of the plume, the satellite track, the wind and candidate sources")


def detection_pages(rd: Renderer, model: Model) -> None:
    for d in model.detections:
        path = urls.detection_page(d["detection_id"])
        points = _profile_points(model, d)
        cands = _attribution_candidates(model, d)
        fit = dict(amplitude_ppm=d.get("amplitude_ppm") or 0.0, sigma_km=d.get("sigma_km") or 1.0,
                   slope_ppm_km=d.get("slope_ppm_km") or 0.0, intercept_ppm=d.get("intercept_ppm") or 0.0)
        chart = Markup(charts.xco2_profile(points, fit)) if points else None
        cand_id = model.candidate_of_detection.get(d["detection_id"])
        rd.page(path, "detection.html", title=f"Detection {d['detection_id']}", d=d, chart=chart,
                n_points=len(points), candidates=cands, candidate_id=cand_id,
                candidate_anchor=urls.slugify(cand_id) if cand_id else "",
                map_=_detection_map(d, points, fit, cands, urls.root_prefix(path)))


def detections_index(rd: Renderer, model: Model) -> None:
    rows = [dict(d, href=urls.detection_page(d["detection_id"]), source_href=model.source_href(d["source_id"]),
                 flags=anomaly_flags(d)) for d in model.detections]
    rd.page("detections/", "detections.html", title="Anomalies", rows=rows)


#: Blind-scan bumps below this significance are flagged as weak.
LOW_SIGNIFICANCE = 4.0


def anomaly_flags(d: dict) -> list[str]:
    """Visible warnings on a blind-scan anomaly: water/glint, weak, recurring, wind geometry."""
    flags = []
    if d.get("detection_kind") == "candidate":
        flags.append("recurring (candidate)")
    water = d.get("water_fraction")
    if water is not None and _finite(water) and water > 0.5:
        flags.append("over water (glint)")
    sig = d.get("significance")
    if sig is not None and _finite(sig) and sig < LOW_SIGNIFICANCE:
        flags.append("low significance")
    if d.get("flag_parallel_wind"):
        flags.append("wind along track")
    if d.get("flag_implausible"):
        flags.append(f"implausible ({d.get('implausible_reason') or 'outside the plausible bounds'})")
    return flags


def candidates_page(rd: Renderer, model: Model) -> None:
    n_unattributed = sum(1 for d in model.detections if not d["source_id"])
    why = dict(n_unattributed=n_unattributed, eps_km=rd.cfg.attribute.candidate_eps_km,
               min_orbits=rd.cfg.attribute.candidate_min_orbits,
               n_withheld=int(model.result.summary.get("n_withheld") or 0))
    if not model.candidates:   # say why, and draw no empty map
        rd.page("candidates/", "candidates.html", title="Candidate new sources", rows=[], map_=None, **why)
        return
    root = urls.root_prefix("candidates/")
    m = maps.new_map("map_candidates")
    ov = maps.Overlay(root, pad_deg=1.0)
    for c in model.candidates:
        for did in c["members"]:
            d = model.detection_by_id.get(did)
            if d:
                ov.circle(d["latitude"], d["longitude"], maps.COLORS["unattributed"], 5,
                          f"Detection on {iso_day(d.get('time_utc'))}", href=urls.detection_page(did))
        ov.circle(c["latitude"], c["longitude"], maps.COLORS["candidate"], 10,
                  f"Candidate {c['candidate_id']}: {c.get('n_detections')} detections, {c.get('n_orbits')} orbits",
                  href="candidates/#" + urls.slugify(c["candidate_id"]), link=f"Candidate {c['candidate_id']}",
                  fill_opacity=0.35)
    ov.add_to(m)
    rows = [dict(c, anchor=urls.slugify(c["candidate_id"]),
                 members=[(did, urls.detection_page(did)) for did in c["members"]],
                 nearest=[(sid, km, model.source_href(sid) or "",
                           (model.source_by_id.get(sid) or {}).get("name") or sid) for sid, km in c["nearest"]])
            for c in model.candidates]
    rd.page("candidates/", "candidates.html", title="Candidate new sources", rows=rows,
            map_=maps.render_map(m, root, "Map of candidate new sources and their detections"), **why)


def content_pages(rd: Renderer, model: Model, pages) -> None:
    validation = model.result.summary.get("validation")
    validation = validation_sections(validation) if isinstance(validation, dict) and validation else None
    for p in pages:
        rd.page(f"{p.slug}/", "content.html", title=p.title, body=Markup(p.html), slug=p.slug,
                validation=validation if p.include == "validation" else None,
                skipped=model.result.skipped if p.include == "skipped" else None, include=p.include)


def sitemap(cfg: Config, writer: SiteWriter) -> None:
    """sitemap.xml with absolute URLs (only when site_url is configured) and robots.txt."""
    if not cfg.site.site_url:
        return
    origin = cfg.site.site_url.rstrip("/")
    locs = []
    for page in sorted(writer.pages):
        if page == "404.html":
            continue
        target = page[: -len("index.html")] if page.endswith("index.html") else page
        locs.append(f"  <url><loc>{Markup.escape(origin + urls.absolute(cfg.site.base_url, target))}</loc></url>")
    writer.write("sitemap.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(locs) + "\n</urlset>\n")
    writer.write("robots.txt", f"User-agent: *\nAllow: /\nSitemap: {origin}{urls.absolute(cfg.site.base_url, 'sitemap.xml')}\n")


def write_all(cfg: Config, result: BuildResult, writer: SiteWriter, vendor: list[dict], *,
              progress: bool = False) -> tuple[list[str], list[dict]]:
    """Write every page and data file; return the errors of skipped content files and
    the search records of the sources (builder.render.search)."""
    model = build_model(result)
    content, skipped = load_pages(site_path(cfg, cfg.site.content))
    for p in [p for p in content if p.slug in RESERVED]:
        skipped.append(f"{p.source}: the name {p.slug!r} is reserved for a generated section")
        content.remove(p)
    nav = [("", "Map"), ("sources/", "Sources"), ("countries/", "Countries"), ("detections/", "Anomalies"),
           ("candidates/", "Candidates")]
    nav += [(f"{p.slug}/", p.title) for p in content] + [("downloads/", "Downloads"), ("search/", "Search")]
    rd = Renderer(cfg, make_env(cfg), model, nav, writer)
    site_units = _site_units(model, cfg)
    write_data_files(model, writer, site_units)
    files = write_downloads(model, writer)
    home_page(rd, model)
    sources_index(rd, model)
    groups = country_render.group(model)
    country_render.country_pages(rd, model, groups, site_units)
    source_pages(rd, model, site_units, progress)
    detections_index(rd, model)
    detection_pages(rd, model)
    candidates_page(rd, model)
    content_pages(rd, model, content)
    rd.page("downloads/", "downloads.html", title="Downloads", files=files, vendor=vendor,
            n_sources=len(model.sources))
    rd.page("search/", "search.html", title="Search", search_enabled=cfg.site.search)
    rd.page("404.html", "404.html", title="Page not found", absolute=True)
    sitemap(cfg, writer)
    where = country_render.locations(groups)
    records = search.source_records(model.sources, lambda sid: model.source_href(sid) or where[sid])
    return skipped, records
