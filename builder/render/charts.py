"""Charts as small inline SVG, generated in Python.

Why no chart library: the charts are few and simple (scatter with error bars,
time series, a profile with its fit), inline SVG needs no script (works under a
strict Content-Security-Policy), is byte-reproducible, prints, and is tiny.
Every data point carries a ``<title>`` (native tooltip, read by screen readers)
and a ``data-tip`` flag: assets/atlas.js shows that title as a hover/focus tooltip; pages
add the same numbers as a table (the text alternative).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import escape

from builder.render.fmt import sig

W, H = 640, 360
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 16, 48


def _f(v: float) -> str:
    """Deterministic coordinate text (0.1 px is plenty)."""
    return f"{v:.1f}"


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 2.5, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 10) for i in range(int((hi - start) / step + 1e-9) + 1)]


def _tick_label(v: float) -> str:
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-2):
        return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")
    return f"{v:g}"


@dataclass
class Axis:
    """One axis: data range -> pixel range, linear or log10."""

    lo: float
    hi: float
    p0: float
    p1: float
    log: bool = False
    label: str = ""
    fmt: object = None  # optional callable tick value -> label

    def __post_init__(self):
        if self.log:
            self.lo, self.hi = math.log10(self.lo), math.log10(self.hi)
        if self.hi - self.lo < 1e-12:
            self.lo, self.hi = self.lo - 1, self.hi + 1

    def __call__(self, v: float) -> float:
        t = math.log10(max(v, 1e-300)) if self.log else v
        return self.p0 + (t - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0)

    def ticks(self) -> list[float]:
        if self.log:
            return [10.0 ** e for e in range(math.ceil(self.lo - 1e-9), math.floor(self.hi + 1e-9) + 1)]
        return _nice_ticks(self.lo, self.hi)


def padded(values, frac: float = 0.06, log: bool = False) -> tuple[float, float]:
    """Range of finite (positive, for log) values with a margin."""
    vals = [v for v in values if v is not None and math.isfinite(v) and (v > 0 or not log)]
    if not vals:
        return (1.0, 10.0) if log else (0.0, 1.0)
    lo, hi = min(vals), max(vals)
    if log:
        return lo / 10 ** (frac * 8), hi * 10 ** (frac * 8)
    span = (hi - lo) or abs(hi) or 1.0
    return lo - frac * span, hi + frac * span


@dataclass
class Svg:
    """Accumulates SVG elements for one chart."""

    title: str
    desc: str
    width: int = W
    height: int = H
    parts: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)

    def axes(self, x: Axis, y: Axis, top: float = PAD_T, bottom: float = H - PAD_B) -> None:
        """Frame, grid, tick labels and axis titles."""
        left, right = PAD_L, self.width - PAD_R
        self.add(f'<rect class="frame" x="{left}" y="{_f(top)}" width="{right - left}" height="{_f(bottom - top)}"/>')
        for t in x.ticks():
            px = x(t)
            if left - 0.5 <= px <= right + 0.5:
                label = x.fmt(t) if x.fmt else _tick_label(t)
                self.add(f'<line class="grid" x1="{_f(px)}" y1="{_f(top)}" x2="{_f(px)}" y2="{_f(bottom)}"/>'
                         f'<text class="tick" x="{_f(px)}" y="{_f(bottom + 16)}" text-anchor="middle">{escape(label)}</text>')
        for t in y.ticks():
            py = y(t)
            if top - 0.5 <= py <= bottom + 0.5:
                self.add(f'<line class="grid" x1="{left}" y1="{_f(py)}" x2="{right}" y2="{_f(py)}"/>'
                         f'<text class="tick" x="{left - 6}" y="{_f(py + 4)}" text-anchor="end">{escape(_tick_label(t))}</text>')
        if x.label:
            self.add(f'<text class="axis-label" x="{_f((left + right) / 2)}" y="{_f(bottom + 36)}" '
                     f'text-anchor="middle">{escape(x.label)}</text>')
        if y.label:
            cy = (top + bottom) / 2
            self.add(f'<text class="axis-label" transform="translate(14 {_f(cy)}) rotate(-90)" '
                     f'text-anchor="middle">{escape(y.label)}</text>')

    def point(self, px: float, py: float, tip: str, cls: str, shape: str = "circle", href: str = "") -> None:
        """A focusable data point with a tooltip (and optional link)."""
        tip_e = escape(tip)
        if shape == "down":  # upper limit: downward triangle
            geom = (f'<path class="{cls}" d="M{_f(px - 6)} {_f(py - 4)}H{_f(px + 6)}L{_f(px)} {_f(py + 6)}Z" '
                    f'tabindex="0" data-tip=""><title>{tip_e}</title></path>')
        elif shape == "square":
            geom = (f'<rect class="{cls}" x="{_f(px - 4.5)}" y="{_f(py - 4.5)}" width="9" height="9" '
                    f'tabindex="0" data-tip=""><title>{tip_e}</title></rect>')
        else:
            geom = (f'<circle class="{cls}" cx="{_f(px)}" cy="{_f(py)}" r="5" tabindex="0" data-tip="">'
                    f'<title>{tip_e}</title></circle>')
        if href:
            geom = geom.replace(' tabindex="0"', "")
            geom = f'<a href="{escape(href)}">{geom}</a>'
        self.add(geom)

    def errorbar(self, px: float, y0: float, y1: float, cls: str = "err") -> None:
        self.add(f'<path class="{cls}" d="M{_f(px)} {_f(y0)}V{_f(y1)}M{_f(px - 4)} {_f(y0)}H{_f(px + 4)}'
                 f'M{_f(px - 4)} {_f(y1)}H{_f(px + 4)}"/>')

    def polyline(self, pts: list[tuple[float, float]], cls: str) -> None:
        if pts:
            d = "M" + "L".join(f"{_f(a)} {_f(b)}" for a, b in pts)
            self.add(f'<path class="{cls}" d="{d}"/>')

    def legend(self, items: list[tuple[str, str]]) -> None:
        """Legend entries (css class, label) in rows below the plot (the SVG grows to fit)."""
        x, y = PAD_L, self.height + 6
        self.height += 22
        for cls, label in items:
            width = 26 + 7.2 * len(label)
            if x + width > self.width - PAD_R and x > PAD_L:
                x, y = PAD_L, y + 18
                self.height += 18
            self.add(f'<rect class="{cls} legend-key" x="{_f(x)}" y="{_f(y)}" width="10" height="10"/>'
                     f'<text class="legend" x="{_f(x + 15)}" y="{_f(y + 9)}">{escape(label)}</text>')
            x += width

    def render(self, css_class: str = "chart") -> str:
        # a chart with links is a group of them (an "img" may not hold focusable content)
        role = "group" if any("<a " in part for part in self.parts) else "img"
        return (f'<svg class="{css_class}" viewBox="0 0 {self.width} {self.height}" role="{role}" '
                f'aria-label="{escape(self.title)}" xmlns="http://www.w3.org/2000/svg">'
                f'<title>{escape(self.title)}</title><desc>{escape(self.desc)}</desc>'
                + "".join(self.parts) + "</svg>")


def _ok(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


#: Range of the ratio axis of :func:`observed_vs_inventory` (points beyond sit at its edge).
RATIO_AXIS = (-3.0, 4.0)


def observed_vs_inventory(points: list[dict]) -> str:
    """Observed/inventory ratio of every source with a combined estimate (all its measured
    overpasses, detected or not) against its inventory emission (log axis), 1-sigma bars,
    the ratio-1 line and the median ratio.

    points: dicts with inventory, ratio, ratio_unc, n_measured, n_detected, label, href.
    """
    pts = [p for p in points if _ok(p.get("inventory")) and _ok(p.get("ratio")) and p["inventory"] > 0]
    n_det = sum(1 for p in pts if (p.get("n_detected") or 0) > 0)
    svg = Svg("Observed / inventory per source",
              f"Scatter of {len(pts)} sources ({n_det} with at least one detected plume): the weighted mean "
              "observed/inventory ratio over all measured overpasses, detected or not, against the inventory "
              "emission at the overpass hours (kg/s, log scale), with 1-sigma error bars and the line ratio = 1.")
    lo, hi = padded([p["inventory"] for p in pts], log=True)
    ys = sorted(p["ratio"] for p in pts)
    med = ys[len(ys) // 2] if ys else 1.0
    def clip(v):   # the axis spans at most -3..4: values beyond are drawn at its edge
        return min(max(v, RATIO_AXIS[0]), RATIO_AXIS[1])
    ylo, yhi = padded([clip(p["ratio"] - (p.get("ratio_unc") or 0)) for p in pts]
                      + [clip(p["ratio"] + (p.get("ratio_unc") or 0)) for p in pts] + [0.0, 2.0])
    x = Axis(lo, hi, PAD_L, W - PAD_R, log=True, label="Inventory at overpass hours [kg/s]")
    y = Axis(ylo, yhi, H - PAD_B, PAD_T, label="Observed / inventory")
    svg.axes(x, y)
    svg.polyline([(x(lo), y(1.0)), (x(hi), y(1.0))], "one-to-one")
    svg.polyline([(x(lo), y(med)), (x(hi), y(med))], "median-line")
    for p in pts:
        px, r = x(p["inventory"]), p["ratio"]
        unc = p.get("ratio_unc")
        if _ok(unc) and unc > 0:
            svg.errorbar(px, y(max(r - unc, ylo)), y(min(r + unc, yhi)))
        tip = (f'{p["label"]}: observed/inventory {r:.2f}' + (f' ± {unc:.2f}' if _ok(unc) else "")
               + f' from {p.get("n_measured") or 0} overpasses ({p.get("n_detected") or 0} detected), '
               f'inventory {sig(p["inventory"])} kg/s')
        svg.point(px, y(min(max(r, ylo), yhi)), tip, "obs" if (p.get("n_detected") or 0) else "obs-nd",
                  href=p.get("href", ""))
    svg.legend([("obs", "Source with a detected plume (±1σ)"), ("obs-nd", "No plume detected"),
                ("one-to-one", "Ratio 1"), ("median-line", f"Median {med:.2f}")])
    return svg.render()


def _date_axis_fmt(t0: float):
    import datetime as dt

    def fmt(v: float) -> str:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(days=v)).strftime("%Y-%m-%d")
    return fmt


def emission_timeseries(rows: list[dict]) -> str:
    """Every overpass's forced estimate (±1σ; filled when a plume was detected, hollow when
    not), the Gaussian-plume inversion where a plume was attributed, and the inventory at the
    overpass hour, over time.

    rows: dicts with day (days since 1970), date, observed, observed_unc, detected, gp, gp_unc,
    inventory (kg/s).
    """
    svg = Svg("Emission per overpass over time",
              "The satellite estimate at every overpass (±1σ; filled: plume detected, hollow: not detected, "
              "still measured), the Gaussian-plume inversion where available and the inventory emission at the "
              "overpass hour, in kg/s.")
    days = [r["day"] for r in rows]
    ys = []
    for r in rows:
        for k, ku in (("observed", "observed_unc"), ("gp", "gp_unc")):
            if _ok(r.get(k)):
                ys += [r[k] + (r.get(ku) or 0 if _ok(r.get(ku)) else 0), r[k] - (r[ku] if _ok(r.get(ku)) else 0)]
        ys += [r.get("inventory")]
    ylo, yhi = padded([v for v in ys if _ok(v)] + [0.0])
    ylo = min(0.0, ylo)
    pad = max(0.08 * (max(days) - min(days)), 3.0) if days else 3.0
    xlo, xhi = (min(days) - pad, max(days) + pad) if days else (0.0, 1.0)
    x = Axis(xlo, xhi, PAD_L, W - PAD_R, label="Overpass date (UTC)", fmt=_date_axis_fmt(xlo))
    y = Axis(ylo, yhi, H - PAD_B, PAD_T, label="Emission [kg/s]")
    svg.axes(x, y)
    inv = sorted((r["day"], r["inventory"]) for r in rows if _ok(r.get("inventory")))
    svg.polyline([(x(a), y(b)) for a, b in inv], "inventory-line")
    for r in rows:
        px = x(r["day"])
        if _ok(r.get("inventory")):
            svg.point(px, y(r["inventory"]), f'{r["date"]}: inventory {sig(r["inventory"])} kg/s', "inv", shape="square")
        if _ok(r.get("observed")):
            unc = r["observed_unc"] if _ok(r.get("observed_unc")) else 0.0
            state = "plume detected" if r.get("detected") else "not detected"
            svg.errorbar(px - 5, y(max(r["observed"] - unc, ylo)), y(r["observed"] + unc))
            svg.point(px - 5, y(r["observed"]), f'{r["date"]}: {sig(r["observed"])} ± {sig(unc, 2)} kg/s ({state})',
                      "obs" if r.get("detected") else "obs-nd")
        if _ok(r.get("gp")):
            unc = r["gp_unc"] if _ok(r.get("gp_unc")) else 0.0
            svg.errorbar(px + 5, y(max(r["gp"] - unc, ylo)), y(r["gp"] + unc), "err gp-err")
            svg.point(px + 5, y(r["gp"]), f'{r["date"]}: Gaussian plume {sig(r["gp"])} ± {sig(unc, 2)} kg/s', "gp")
    present = {k for r in rows for k in ("gp", "inventory") if _ok(r.get(k))}
    present |= {"obs" if r.get("detected") else "obs-nd" for r in rows if _ok(r.get("observed"))}
    svg.legend([(cls, text) for key, cls, text in (
        ("obs", "obs", "Estimate, plume detected (±1σ)"), ("obs-nd", "obs-nd", "Estimate, not detected (±1σ)"),
        ("gp", "gp", "Gaussian plume ±1σ"), ("inventory", "inv", "Inventory at overpass hour"))
        if key in present])
    return svg.render()


def xco2_profile(soundings: list[dict], fit: dict) -> str:
    """Along-track XCO2 with the fitted Gaussian + linear background, and residuals below.

    soundings: dicts with x (km from the plume centre), xco2, unc.
    fit: centre-relative model parameters amplitude_ppm, sigma_km, slope_ppm_km, intercept_ppm.
    """
    h = 460
    svg = Svg("Along-track XCO2 profile and fitted plume",
              f"{len(soundings)} soundings (XCO2 in ppm against along-track distance from the plume centre in km), "
              "the fitted Gaussian plus linear background, the background alone, and residuals (data minus fit).",
              height=h)

    def model(xk: float, with_plume: bool = True) -> float:
        bg = fit["intercept_ppm"] + fit["slope_ppm_km"] * xk
        if not with_plume:
            return bg
        return bg + fit["amplitude_ppm"] * math.exp(-0.5 * (xk / fit["sigma_km"]) ** 2)

    xs = [s["x"] for s in soundings] or [-100.0, 100.0]
    xlo, xhi = padded(xs, frac=0.02)
    top_b, res_t = 300.0, 330.0
    ys = [s["xco2"] for s in soundings] + [model(v) for v in xs]
    ylo, yhi = padded(ys)
    x_top = Axis(xlo, xhi, PAD_L, W - PAD_R, label="")
    y_top = Axis(ylo, yhi, top_b, PAD_T, label="XCO2 [ppm]")
    svg.axes(x_top, y_top, top=PAD_T, bottom=top_b)
    res = [s["xco2"] - model(s["x"]) for s in soundings]
    rmax = max([abs(r) for r in res] + [0.5]) * 1.1
    x_bot = Axis(xlo, xhi, PAD_L, W - PAD_R, label="Along-track distance from plume centre [km]")
    y_bot = Axis(-rmax, rmax, h - PAD_B, res_t, label="Residual")
    svg.axes(x_bot, y_bot, top=res_t, bottom=h - PAD_B)
    svg.polyline([(x_bot(xlo), y_bot(0)), (x_bot(xhi), y_bot(0))], "zero-line")
    grid = [xlo + (xhi - xlo) * i / 120 for i in range(121)]
    svg.polyline([(x_top(v), y_top(model(v, False))) for v in grid], "bg-line")
    svg.polyline([(x_top(v), y_top(model(v))) for v in grid], "fit-line")
    for s, r in zip(soundings, res):
        tip = f'{s["x"]:+.1f} km: XCO2 {s["xco2"]:.2f} ± {s["unc"]:.2f} ppm, residual {r:+.2f} ppm'
        svg.add(f'<circle class="snd" cx="{_f(x_top(s["x"]))}" cy="{_f(y_top(s["xco2"]))}" r="2.6" data-tip="">'
                f'<title>{escape(tip)}</title></circle>')
        svg.add(f'<circle class="res" cx="{_f(x_bot(s["x"]))}" cy="{_f(y_bot(r))}" r="2"/>')
    svg.legend([("snd", "Soundings"), ("fit-line", "Gaussian + linear background"), ("bg-line", "Background")])
    return svg.render("chart profile")
