"""Folium maps for the atlas pages, made self-contained and reproducible.

- Every folium class used here is subclassed with ``default_js``/``default_css``
  pointing at the vendored copies under assets/ (no CDN; jQuery, Bootstrap and
  awesome-markers are dropped: nothing here needs them). ``render_map`` refuses
  any remaining absolute URL.
- No tile server: the basemap is a Natural Earth country layer served from
  assets/ (so no request leaves the site); big point sets (16k inventory
  sources) are loaded from JSON files by assets/atlas-map.js into a marker
  cluster, never one JS statement per marker.
- Element ids are renumbered before rendering (folium uses random ids), so the
  same input gives byte-identical output.
- Labels are plain text in markup-safe JSON, set with textContent in the browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MarkerCluster
from folium.template import Template

from markupsafe import escape

from builder.render.writer import dumps

LEAFLET_JS = ("leaflet", "assets/vendor/leaflet/leaflet.js")
LEAFLET_CSS = ("leaflet_css", "assets/vendor/leaflet/leaflet.css")
ATLAS_MAP_JS = ("atlas_map", "assets/atlas-map.js")
BASEMAP = "assets/basemap/"   # world.geojson + cells/ (builder.render.basemap)

COLORS = {"source": "#5b3f8c", "attributed": "#c0392b", "unattributed": "#d68910", "candidate": "#117a65",
          "track": "#2471a3", "track_nodet": "#7f8c8d", "wind": "#1b2631"}


class AtlasMap(folium.Map):
    """A folium Map using only local assets."""

    default_js = [LEAFLET_JS, ATLAS_MAP_JS]
    default_css = [LEAFLET_CSS]


class ResponsiveLayerControl(folium.LayerControl):
    """The layer list, open on wide screens and collapsed behind its button on phones
    (decided in the browser by AtlasMap.smallScreen)."""

    _template = Template("""
{% macro script(this, kwargs) %}
let {{ this.get_name() }} = L.control.layers(
    { {%- for key, val in this.base_layers.items() %}{{ key|tojson }}: {{ val }},{% endfor %} },
    { {%- for key, val in this.overlays.items() %}{{ key|tojson }}: {{ val }},{% endfor %} },
    Object.assign({{ this.options|tojavascript }}, {collapsed: AtlasMap.smallScreen()})
).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")


class AtlasFullscreen(Fullscreen):
    default_js = [("Control.Fullscreen.js", "assets/vendor/leaflet.fullscreen/Control.FullScreen.js")]
    default_css = [("Control.FullScreen.css", "assets/vendor/leaflet.fullscreen/Control.FullScreen.css")]


def _script(body: str) -> Template:
    """A folium template with only a script macro (compiled once per class)."""
    return Template("{% macro script(this, kwargs) %}" + body + "{% endmacro %}")


class _Macro(MacroElement):
    """A MacroElement carrying a few values for its class-level template."""

    def __init__(self, name: str, **values):
        super().__init__()
        self._name = name
        self.values = values


class Basemap(_Macro):
    """Country polygons from a local GeoJSON file (replaces web tiles)."""

    _template = _script("AtlasMap.basemap({{ this._parent.get_name() }}, {{ this.values.url|tojson }});")


class Overlay(MacroElement):
    """A page's own features (circles, lines, wind arrows) as one JSON array drawn by atlas-map.js.

    One statement per map instead of one folium element (and Jinja render) per
    feature: faster builds, smaller map.js. Labels are plain text (set with
    textContent in the browser); hrefs are relative to the site root.
    """

    _template = _script("AtlasMap.features({{ this._parent.get_name() }}, {{ this.json() }}, {{ this.root|tojson }});")

    def __init__(self, root: str, pad_deg: float = 0.15):
        super().__init__()
        self._name = "Overlay"
        self.root, self.pad_deg = root, pad_deg
        self.items: list[dict] = []
        self.bounds: list[tuple[float, float]] = []

    def circle(self, lat: float, lon: float, color: str, radius: float, tip: str, href: str = "", link: str = "",
               fill_opacity: float = 0.75, stroke: bool = True) -> None:
        """A circle marker; with ``href`` its popup links there (``link`` = link text)."""
        item = dict(t="c", lat=round(lat, 5), lon=round(lon, 5), c=color, r=radius, o=fill_opacity, tip=tip)
        if not stroke:
            item["s"] = 0
        if href:
            item.update(href=href, link=link or tip)
        self.items.append(item)
        self.bounds.append((lat, lon))

    def line(self, coords: list[list[float]], color: str, weight: float, tip: str, dash: str = "") -> None:
        """A polyline of [lat, lon] points."""
        self.items.append(dict(t="l", xy=[[round(a, 5), round(b, 5)] for a, b in coords], c=color, w=weight,
                               d=dash, tip=tip))
        self.bounds += [tuple(p) for p in coords]

    def wind(self, lat: float, lon: float, u: float, v: float, tip: str) -> None:
        """An arrow pointing where the wind blows, length proportional to speed."""
        arrow = wind_arrow(lat, lon, u, v)
        for part in arrow or []:
            self.line(part, COLORS["wind"], 2.5, tip)

    def json(self) -> str:
        return dumps(dict(items=self.items, fit=self.fit_bounds(self.pad_deg)))

    def fit_bounds(self, pad_deg: float):
        pts = [(a, b) for a, b in self.bounds if math.isfinite(a) and math.isfinite(b)]
        if not pts:
            return None
        lats, lons = [p[0] for p in pts], [p[1] for p in pts]
        return [[round(min(lats) - pad_deg, 4), round(min(lons) - pad_deg, 4)],
                [round(max(lats) + pad_deg, 4), round(max(lons) + pad_deg, 4)]]


class JsonCluster(MarkerCluster):
    """A marker cluster filled from a JSON points file by atlas-map.js (one request, no per-marker JS)."""

    default_js = [("markerclusterjs", "assets/vendor/leaflet.markercluster/leaflet.markercluster.js")]
    default_css = [("markerclustercss", "assets/vendor/leaflet.markercluster/MarkerCluster.css"),
                   ("markerclusterdefaultcss", "assets/vendor/leaflet.markercluster/MarkerCluster.Default.css")]

    def __init__(self, name: str, url: str, kind: str, root: str, limit: int = 0, show: bool = True):
        super().__init__(name=name, show=show, options={"chunkedLoading": True, "maxClusterRadius": 50})
        self.url, self.kind, self.root, self.limit = url, kind, root, limit

    _template = _script("""
var {{ this.get_name() }} = L.markerClusterGroup({{ this.options|tojavascript }});
AtlasMap.points({{ this.get_name() }}, {{ this.url|tojson }}, {{ this.kind|tojson }}, {{ this.root|tojson }}, {{ this.limit }});
""")


class JsonLayer(folium.map.Layer):
    """A plain (unclustered) layer filled from a JSON points file."""

    def __init__(self, name: str, url: str, kind: str, root: str, show: bool = True):
        super().__init__(name=name, overlay=True, show=show)
        self._name = "JsonLayer"
        self.url, self.kind, self.root = url, kind, root

    _template = _script("""
var {{ this.get_name() }} = L.featureGroup();
AtlasMap.points({{ this.get_name() }}, {{ this.url|tojson }}, {{ this.kind|tojson }}, {{ this.root|tojson }}, 0);
""")


@dataclass
class RenderedMap:
    """A map split into the pieces a page needs."""

    div: str              # the map container
    script: str           # JS creating the map (written to a per-page .js file)
    js: list[str]         # asset paths relative to the site root, in load order
    css: list[str]


def new_map(name: str, center=(20.0, 0.0), zoom: int = 2) -> AtlasMap:
    """An empty map with the local basemap and a fullscreen button."""
    m = AtlasMap(location=list(center), zoom_start=zoom, tiles=None, prefer_canvas=True, control_scale=True,
                 world_copy_jump=True, minZoom=1, maxZoom=14)
    m._name = name
    Basemap("Basemap", url=BASEMAP).add_to(m)
    AtlasFullscreen(position="topleft").add_to(m)
    return m


def _collect(el, parent, parts: list[str], js: dict, css: dict) -> None:
    """Render one element's script macro, then its children (folium's order).

    A lean replacement for branca's Figure.render: branca re-compiles every
    rendered snippet as a Jinja template (~1 ms each, and a template-injection
    hazard for data containing "{{"); here snippets are plain strings.
    """
    if isinstance(el, JSCSSMixin):
        for name, url in el.default_js:
            js.setdefault(name, url)
        for name, url in el.default_css:
            css.setdefault(name, url)
    if isinstance(el, folium.LayerControl):
        el.reset()
        for item in parent._children.values():
            if isinstance(item, folium.map.Layer) and item.control:
                (el.overlays if item.overlay else el.base_layers)[item.layer_name] = item.get_name()
    macro = el._template.module.__dict__.get("script")
    if macro is not None:
        parts.append(str(macro(el, {})))
    for child in el._children.values():
        _collect(child, el, parts, js, css)
    if isinstance(el, folium.map.Layer) and el.show:
        parts.append(f"{el.get_name()}.addTo({parent.get_name()});")


def _number(el: Element, counter: list[int]) -> None:
    el._id = f"{counter[0]:03d}"
    counter[0] += 1
    for child in el._children.values():
        _number(child, counter)


def render_map(m: AtlasMap, root: str, label: str = "Map") -> RenderedMap:
    """Render deterministically; return the div, the script and the asset lists.

    Element ids are renumbered in tree order (folium draws random ones).
    ``root`` is the relative prefix from the page to the site root; the
    basemap URL inside the script gets it.
    """
    _number(m, [1])
    parts: list[str] = []
    js: dict[str, str] = {}
    css: dict[str, str] = {}
    _collect(m, None, parts, js, css)
    for url in list(js.values()) + list(css.values()):
        if "://" in url or url.startswith("//"):
            raise ValueError(f"external asset in map: {url}")
    script = "\n".join(parts).replace(f'"{BASEMAP}"', f'"{root}{BASEMAP}"')
    script = "\n".join(line.strip() for line in script.splitlines() if line.strip()) + "\n"
    div = f'<div class="map" id="{m.get_name()}" role="region" aria-label="{escape(label)}"></div>'
    return RenderedMap(div=div, script=script, js=list(js.values()), css=list(css.values()))


def wind_arrow(lat: float, lon: float, u: float, v: float, km_per_m_s: float = 4.0):
    """Polyline coordinates of an arrow pointing where the wind blows, length ~ speed."""
    if not (math.isfinite(u) and math.isfinite(v)) or math.hypot(u, v) == 0:
        return None
    k = 111.32
    length = math.hypot(u, v) * km_per_m_s
    ex, ny = u / math.hypot(u, v), v / math.hypot(u, v)

    def at(east_km: float, north_km: float):
        return [lat + north_km / k, lon + east_km / (k * max(math.cos(math.radians(lat)), 0.05))]
    tip = (ex * length, ny * length)
    head = length * 0.3
    left = (tip[0] - head * (ex * 0.87 - ny * 0.5), tip[1] - head * (ny * 0.87 + ex * 0.5))
    right = (tip[0] - head * (ex * 0.87 + ny * 0.5), tip[1] - head * (ny * 0.87 - ex * 0.5))
    return [[at(0, 0), at(*tip)], [at(*left), at(*tip), at(*right)]]


def home_map(root: str, limit: int, odiac: bool = False) -> RenderedMap:
    """Global map: clustered inventory sources, detections, candidates (all from JSON files);
    with ``odiac``, the extent of the ODIAC hot spots as a layer that starts hidden."""
    m = new_map("map_home")
    JsonCluster("Inventory sources (size = emission)", "assets/data/map-sources.json", "source", root, limit).add_to(m)
    if odiac:
        JsonLayer("ODIAC hot spots (extent, shade = emission density)", "assets/data/odiac.json", "odiac", root,
                  show=False).add_to(m)
    JsonLayer("Blind-scan anomalies (red: a source upwind, orange: unexplained)", "assets/data/detections.json", "detection", root).add_to(m)
    JsonLayer("Candidate new sources", "assets/data/candidates.json", "candidate", root).add_to(m)
    ResponsiveLayerControl().add_to(m)
    return render_map(m, root, "Map of inventory sources, detections and candidate new sources")
