"""Human number formats, one place for every page: "5,320 ± 2,300 kg/s", "8.3 MB".

Numbers are rounded to significant digits and written with thousands
separators, never in exponent notation. The JavaScript twin for map popups is
``fmt`` in static/atlas-map.js (same rule). Missing or non-finite values show
as an em dash.
"""

from __future__ import annotations

import math

DASH = "—"


def finite(v) -> bool:
    """A real, finite number (bool is not a number here)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def sig(v: float, n: int = 3) -> str:
    """``v`` rounded to ``n`` significant digits, without exponent notation (5321.4 -> "5,320")."""
    if not finite(v):
        return DASH
    if v == 0:
        return "0"
    digits = n - 1 - math.floor(math.log10(abs(v)))
    return f"{round(v, digits):,.{max(digits, 0)}f}"


def num(v, fmt: str = "sig3", unit: str = "") -> str:
    """A number (3 significant digits by default, or a format spec) or an em dash when missing."""
    if not finite(v):
        return DASH
    text = sig(v, 3) if fmt == "sig3" else format(v, fmt)
    return f"{text} {unit}".strip()


def pm(v, unc, fmt: str = "sig3", unit: str = "") -> str:
    """'5,320 ± 2,300 kg/s': the value, and the uncertainty to 2 significant digits."""
    if not finite(v):
        return DASH
    if not finite(unc):
        return num(v, fmt, unit)
    return f"{num(v, fmt)} ± {sig(unc, 2)} {unit}".strip()


def big(v) -> str:
    """Thousands separators: 2,345,678."""
    return f"{v:,.0f}" if finite(v) else DASH


def file_size(n_bytes) -> str:
    """'8.3 MB', '512 kB', '900 bytes' (decimal units, as browsers and disks show them)."""
    if not finite(n_bytes) or n_bytes < 0:
        return DASH
    if n_bytes < 1000:
        return f"{n_bytes:.0f} bytes"
    for unit, size in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n_bytes < size * 1000 or unit == "GB":
            value = n_bytes / size
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return DASH  # unreachable


def mt_yr(t_yr) -> str:
    """Tonnes per year as 'Mt CO2/yr' text: 38,400,000 -> '38.4 Mt/yr'."""
    return num(t_yr / 1e6, "sig3", "Mt/yr") if finite(t_yr) else DASH
