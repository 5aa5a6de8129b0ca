"""Country names for inventory country codes (ISO 3166-1 alpha-3, and CoCO2's
US-state codes such as "USA-AL").

Names come from ``pycountry`` (the ISO 3166 tables of Debian's iso-codes,
maintained upstream, so no hand-kept list goes stale), using the common name
where ISO's official one is long ("Bolivia" rather than "Bolivia,
Plurinational State of") and :data:`OVERRIDES` for the few still awkward.
A code pycountry does not know is shown as it is. CoCO2 splits the United
States into states ("USA-AL"): :func:`country_code` groups them under "USA"
and :func:`region_name` names the state ("Alabama").
"""

from __future__ import annotations

from functools import lru_cache

#: Short English names where ISO 3166's (common) name reads awkwardly in a list.
OVERRIDES = {"PSE": "Palestine", "RUS": "Russia", "COD": "Democratic Republic of the Congo", "XKX": "Kosovo"}


#: Other English names readers search for (the search index holds them; pages show country_name).
ALIASES = {"TUR": ("Turkey",), "CZE": ("Czech Republic",), "CIV": ("Ivory Coast", "Cote d'Ivoire"),
           "MMR": ("Burma",), "SWZ": ("Swaziland",), "CPV": ("Cape Verde",), "MKD": ("Macedonia",),
           "KOR": ("South Korea",), "PRK": ("North Korea",), "VNM": ("Vietnam",),
           "GBR": ("UK", "Britain", "Great Britain"), "USA": ("USA", "US", "America"),
           "COD": ("DR Congo", "Congo-Kinshasa"), "COG": ("Congo-Brazzaville",), "NLD": ("Holland",)}


def country_code(code) -> str:
    """The ISO3 country of an inventory code: "USA-AL" -> "USA", "pol" -> "POL", None -> ""."""
    return str(code or "").strip().upper().split("-")[0]


@lru_cache(maxsize=None)
def country_name(code) -> str:
    """'POL' -> 'Poland', 'USA-AL' -> 'United States'; unknown codes as given ('' -> '')."""
    iso3 = country_code(code)
    if not iso3:
        return ""
    if iso3 in OVERRIDES:
        return OVERRIDES[iso3]
    import pycountry

    c = pycountry.countries.get(alpha_3=iso3)
    if c is None:
        return iso3
    return getattr(c, "common_name", None) or c.name


@lru_cache(maxsize=None)
def region_name(code) -> str:
    """The sub-national region of a code such as 'USA-AL' ('Alabama'); '' without one."""
    text = str(code or "").strip().upper()
    iso3, sep, sub = text.partition("-")
    if not sep or not sub:
        return ""
    import pycountry

    c = pycountry.countries.get(alpha_3=iso3)
    s = pycountry.subdivisions.get(code=f"{c.alpha_2}-{sub}") if c is not None else None
    return s.name if s is not None else sub


@lru_cache(maxsize=None)
def country_aliases(code) -> tuple[str, ...]:
    """Other names of the country of ``code`` for search: :data:`ALIASES` and pycountry's
    official and ISO names ("Turkey" for Türkiye), without the shown :func:`country_name`."""
    iso3 = country_code(code)
    if not iso3:
        return ()
    import pycountry

    c = pycountry.countries.get(alpha_3=iso3)
    names = list(ALIASES.get(iso3, ()))
    if c is not None:
        names += [getattr(c, k, None) for k in ("name", "official_name", "common_name")]
    shown = country_name(code)
    return tuple(dict.fromkeys(n for n in names if n and n != shown))


def place_name(code) -> str:
    """'Alabama, United States' or 'Poland' (for a source's location line)."""
    region, country = region_name(code), country_name(code)
    return f"{region}, {country}" if region else country
