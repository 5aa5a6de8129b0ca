"""Cities (CO2 given, or estimated from population by urban scaling) and the generic
inventory CSV (source_id, name, latitude, longitude, emission_t_yr)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from builder import cityids, physics
from builder.errors import InputError, Problems
from builder.inventory.common import clean_text, safe_id, ascii_fold, find_column, read_csv, num, validate_rows, finish

#: Direct (scope-1) CO2 per person of a city of one million, used for cities
#: without a CO2 value, through the sublinear urban scaling of
#: :func:`builder.physics.city_emission_t_yr` (power plants are in the plant
#: catalogues and not counted again). A model: every page labels it an estimate.
CITY_CO2_T_PER_CAPITA = physics.CITY_PER_CAPITA_T_YR


def read_cities(path: str | Path, problems: Problems | None = None,
                per_capita_t_yr: float = CITY_CO2_T_PER_CAPITA) -> pd.DataFrame:
    """A CSV of cities: name, lat/latitude, lon/longitude, population, optional
    co2_t_yr (and optional country, year). Without a CO2 value the emission is
    estimated from the population with :func:`builder.physics.city_emission_t_yr`
    scaled to ``per_capita_t_yr`` at one million people (default
    :data:`CITY_CO2_T_PER_CAPITA`), and the row's ``inventory`` says so."""
    path = Path(path)
    problems = Problems.of(problems)
    raw = read_csv(path)
    c = {
        "name": find_column(raw.columns, "name", "city"),
        "lat": find_column(raw.columns, "lat", "latitude"),
        "lon": find_column(raw.columns, "lon", "longitude", "lng"),
    }
    missing = [k for k, v in c.items() if v is None]
    if missing:
        raise InputError(path.name, f"missing city columns for {', '.join(missing)}")
    pop_col = find_column(raw.columns, "population", "pop")
    co2_col = find_column(raw.columns, "co2_t_yr")
    country_col = find_column(raw.columns, "country", "iso3")
    year_col = find_column(raw.columns, "year")
    if pop_col is None and co2_col is None:
        raise InputError(path.name, "needs a co2_t_yr or a population column")
    rows = np.arange(len(raw)) + 2
    co2 = num(raw[co2_col]) if co2_col else np.full(len(raw), np.nan)
    co2_raw = raw[co2_col].to_numpy(dtype=object) if co2_col else np.full(len(raw), None, dtype=object)
    pop = num(raw[pop_col]) if pop_col else np.full(len(raw), np.nan)
    given = pd.notna(pd.Series(co2_raw, dtype=object)).to_numpy(dtype=bool)
    estimated = ~given
    pre = np.where(estimated & ~(np.isfinite(pop) & (pop >= 0)),
                   "no co2_t_yr and population missing, non-numeric or negative", "")
    from_pop = physics.city_emission_t_yr(np.where(np.isfinite(pop), pop, 0.0)) \
        * (per_capita_t_yr / physics.CITY_PER_CAPITA_T_YR)
    emission = np.where(estimated, from_pop, co2).astype(object)
    emission[given & ~np.isfinite(co2)] = co2_raw[given & ~np.isfinite(co2)]  # reported as non-numeric
    name = clean_text(raw[c["name"]])
    country = clean_text(raw[country_col]) if country_col else pd.Series("", index=raw.index)
    slug = safe_id(ascii_fold(name).str.lower())
    # names with no ASCII letters (e.g. CJK) get a position-based slug
    where = safe_id(raw[c["lat"]].fillna("").astype(str) + "_" + raw[c["lon"]].fillna("").astype(str))
    slug = slug.where(slug.str.contains(r"[a-z0-9]", regex=True), where)
    sid = "city-" + slug + np.where(country != "", "-" + safe_id(ascii_fold(country).str.lower()), "")
    region_col = find_column(raw.columns, *cityids.REGION_COLUMNS)  # same-named cities of one country coexist
    sid = cityids.disambiguate(sid, raw[c["lat"]], raw[c["lon"]], raw[region_col] if region_col else None,
                               lambda v: safe_id(ascii_fold(v)))
    pre = np.where((name == "").to_numpy(), "missing name", pre)
    inventory = f"Cities ({path.stem})"
    df = pd.DataFrame({
        "source_id": sid, "name": name, "latitude": raw[c["lat"]],
        "longitude": raw[c["lon"]], "emission_t_yr": emission, "country": country,
        "inventory": np.where(estimated, f"{inventory} (CO2 estimated from population: {per_capita_t_yr:g} t per "
                              f"person per year at 1 million, scaling exponent {physics.CITY_BETA:g})", inventory),
        "inventory_year": num(raw[year_col]) if year_col else np.nan,
    })
    kept = validate_rows(df, path.name, rows, problems, pre_reason=pre)
    return finish(kept, kind="city", fuel="")


#: Kinds a generic CSV may give; anything else becomes "other".
GENERIC_KINDS = ("power_plant", "city", "grid_cell", "industry", "other")


def read_generic_csv(path: str | Path, problems: Problems | None = None) -> pd.DataFrame:
    """The generic inventory CSV: source_id, name, latitude, longitude, emission_t_yr
    (t CO2/yr), optional kind (GENERIC_KINDS; default power_plant), country, fuel.
    A missing required column raises InputError; each bad row is one problems line."""
    path = Path(path)
    problems = Problems.of(problems)
    raw = read_csv(path)
    cols = {c.strip().lower(): c for c in raw.columns}
    missing = [c for c in ("source_id", "name", "latitude", "longitude", "emission_t_yr") if c not in cols]
    if missing:
        raise InputError(path.name, f"missing column(s) {', '.join(missing)} (generic CSV inventory: "
                                    "source_id,name,latitude,longitude,emission_t_yr[,kind,country,fuel])")
    df = raw.rename(columns={v: k for k, v in cols.items()})
    rows = np.arange(len(df)) + 2
    name = clean_text(df["name"]) if len(df) else pd.Series(dtype=object)
    pre = np.where((name == "").to_numpy(), "missing name", "") if len(df) else None
    kept = validate_rows(df.assign(source_id=df["source_id"]), path.name, rows, problems, pre_reason=pre)
    kind = clean_text(kept["kind"]).str.lower() if "kind" in kept else pd.Series("power_plant", index=kept.index)
    kind = kind.replace("", "power_plant").where(kind.replace("", "power_plant").isin(GENERIC_KINDS), "other")
    return finish(kept.assign(kind=kind.to_numpy(dtype=object)), inventory=f"CSV ({path.stem})",
                   inventory_year=np.nan)
