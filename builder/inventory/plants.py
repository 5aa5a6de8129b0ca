"""Power-plant inventories besides CoCO2: the WRI Global Power Plant Database (CO2
from generation and IPCC fuel factors) and GEM's Global Coal Plant Tracker."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from builder.errors import InputError, Problems, one_line
from builder.physics import SECONDS_PER_YEAR
from builder.inventory.common import STAGE, clean_text, safe_id, find_column, read_csv, num, validate_rows, finish, empty_sources

#: CO2 per MWh of electricity by GPPD primary fuel: IPCC (2006) Guidelines Vol. 2
#: ch. 2 default CO2 factors per TJ of fuel (sub-bituminous/bituminous coal
#: ~94.6, natural gas 56.1, residual fuel oil 77.4, petroleum coke 97.5 t/TJ)
#: divided by typical net plant efficiencies (coal 37 %, gas 45 %, oil 35 %,
#: petcoke 35 %): EF = t/TJ * 0.0036 TJ/MWh / efficiency.
GPPD_FUELS = {
    "coal": ("coal", 94.6 * 0.0036 / 0.37),
    "gas": ("natural gas", 56.1 * 0.0036 / 0.45),
    "oil": ("oil", 77.4 * 0.0036 / 0.35),
    "petcoke": ("petcoke", 97.5 * 0.0036 / 0.35),
}
#: Capacity factors used when GPPD has no (reported or estimated) generation:
#: rough global fleet averages (coal ~0.5-0.6, gas ~0.4, oil peakers ~0.2;
#: e.g. GEM/IEA statistics). Documented assumption, not plant data.
GPPD_CAPACITY_FACTORS = {"coal": 0.55, "gas": 0.40, "oil": 0.20, "petcoke": 0.55}
HOURS_PER_YEAR = SECONDS_PER_YEAR / 3600.0


def read_gppd(path: str | Path, problems: Problems | None = None) -> pd.DataFrame:
    """WRI Global Power Plant Database v1.3 CSV -> fossil power plants.

    CO2 = generation x fuel emission factor (:data:`GPPD_FUELS`). Generation is
    the latest reported ``generation_gwh_YYYY`` >= 0, else the latest
    ``estimated_generation_gwh_YYYY``, else ``capacity_mw`` x capacity factor
    (:data:`GPPD_CAPACITY_FACTORS`) x 8766 h; ``inventory_year`` is that year
    (``year_of_capacity_data`` for the capacity route). Non-fossil plants are
    not used (one summary SkippedItem per file).
    """
    path = Path(path)
    problems = Problems.of(problems)
    raw = read_csv(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    need = ["gppd_idnr", "name", "latitude", "longitude", "primary_fuel", "capacity_mw"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise InputError(path.name, f"missing GPPD columns {', '.join(missing)}")
    rows = np.arange(len(raw)) + 2
    fuel_key = clean_text(raw["primary_fuel"]).str.lower()
    fossil = fuel_key.isin(GPPD_FUELS).to_numpy()
    if (~fossil).any():
        counts = fuel_key[~fossil].replace("", "(empty)").value_counts()
        problems.add(path.name, f"{int((~fossil).sum())} non-fossil plants not used ("
                     + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")", STAGE)
    raw, rows, fuel_key = raw.loc[fossil].reset_index(drop=True), rows[fossil], fuel_key[fossil].reset_index(drop=True)

    def year_cols(prefix):
        cols = [(int(m.group(1)), c) for c in raw.columns if (m := re.fullmatch(prefix + r"(\d{4})", c))]
        return [c for _, c in sorted(cols, reverse=True)], [y for y, _ in sorted(cols, reverse=True)]

    rep_cols, rep_years = year_cols("generation_gwh_")
    est_cols, est_years = year_cols("estimated_generation_gwh_")
    cols, years = rep_cols + est_cols, rep_years + est_years
    gen_gwh = np.full(len(raw), np.nan)
    year = np.full(len(raw), np.nan)
    if cols:
        g = raw[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        usable = np.isfinite(g) & (g >= 0)
        first = usable.argmax(axis=1)
        has = usable.any(axis=1)
        gen_gwh[has] = g[has, first[has]]
        year[has] = np.asarray(years)[first[has]]
    cap = num(raw["capacity_mw"])
    cf = fuel_key.map(GPPD_CAPACITY_FACTORS).to_numpy(dtype=float)
    need_cap = ~np.isfinite(gen_gwh)
    gen_gwh = np.where(need_cap, cap * cf * HOURS_PER_YEAR / 1000.0, gen_gwh)
    if "year_of_capacity_data" in raw:
        year = np.where(need_cap, num(raw["year_of_capacity_data"]), year)
    pre = np.where(need_cap & ~(np.isfinite(cap) & (cap >= 0)),
                   "no usable generation_gwh_* value and capacity_mw missing, non-numeric or negative", "")
    ef = fuel_key.map({k: v[1] for k, v in GPPD_FUELS.items()}).to_numpy(dtype=float)
    df = pd.DataFrame({
        "source_id": ("gppd-" + safe_id(raw["gppd_idnr"])).where(safe_id(raw["gppd_idnr"]) != "", ""),
        "name": raw["name"], "latitude": raw["latitude"], "longitude": raw["longitude"],
        "emission_t_yr": gen_gwh * 1000.0 * ef,
        "fuel": fuel_key.map({k: v[0] for k, v in GPPD_FUELS.items()}),
        "country": raw["country"] if "country" in raw else "",
        "inventory_year": year,
    })
    kept = validate_rows(df, path.name, rows, problems, pre_reason=pre)
    return finish(kept, kind="power_plant", inventory="WRI GPPD v1.3")


def _read_table(path: Path, sheet_hint: str) -> pd.DataFrame:
    """CSV, or an xlsx sheet whose name contains ``sheet_hint`` (needs openpyxl)."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        if not path.exists():
            raise InputError(path.name, "file not found")
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise InputError(path.name, "reading xlsx needs openpyxl (pip install openpyxl) or export the sheet as CSV") from None
        try:
            book = pd.ExcelFile(path)
            sheet = next((s for s in book.sheet_names if sheet_hint in s.lower()), None)
            if sheet is None:
                raise InputError(path.name, f"no sheet named like {sheet_hint!r} (sheets: {', '.join(book.sheet_names)})")
            return pd.read_excel(book, sheet_name=sheet, dtype=str)
        except InputError:
            raise
        except Exception as exc:  # zipfile / openpyxl errors vary by version
            raise InputError(path.name, f"not a readable xlsx file: {one_line(exc)}") from None
    return read_csv(path)


def read_gcpt(path: str | Path, problems: Problems | None = None, year: int | None = None) -> pd.DataFrame:
    """GEM Global Coal Plant Tracker unit table (CSV or xlsx "Units" sheet) ->
    operating coal plants, units grouped by GEM location ID.

    Column names are matched case/format-tolerantly ("GEM location ID",
    "Plant name", "Country/Area", "Status", "Latitude", "Longitude", "Annual CO2
    (million tonnes / annum)"). CO2 of a plant = sum over its operating units.
    Non-operating units are not used (one summary SkippedItem).
    """
    path = Path(path)
    problems = Problems.of(problems)
    raw = _read_table(path, "unit")
    cols = raw.columns
    col = {
        "loc": find_column(cols, "GEM location ID", "Location ID", contains=("locationid",)),
        "name": find_column(cols, "Plant name", "Plant", contains=("plantname",)),
        "status": find_column(cols, "Status"),
        "lat": find_column(cols, "Latitude", "lat"),
        "lon": find_column(cols, "Longitude", "lon", "lng"),
        "co2": find_column(cols, contains=("annualco2milliontonnes", "annualco2mt", "annualco2")),
    }
    missing = [k for k, v in col.items() if v is None]
    if missing:
        raise InputError(path.name, f"missing GCPT columns for {', '.join(missing)} (have: {', '.join(map(str, cols[:30]))})")
    country_col = find_column(cols, "Country/Area", "Country", contains=("country",))
    rows = np.arange(len(raw)) + 2
    status = clean_text(raw[col["status"]]).str.lower()
    operating = (status == "operating").to_numpy()
    if (~operating).any():
        counts = status[~operating].replace("", "(empty)").value_counts()
        problems.add(path.name, f"{int((~operating).sum())} non-operating units not used ("
                     + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")", STAGE)
    raw, rows = raw.loc[operating].reset_index(drop=True), rows[operating]
    unit = pd.DataFrame({
        # Validate per unit (unit rows are what the user can fix); the duplicate-id
        # check must not fire for units of one plant, so use the row as unit id.
        "source_id": np.where(clean_text(raw[col["loc"]]) != "", rows.astype(str), ""),
        "latitude": raw[col["lat"]], "longitude": raw[col["lon"]],
        "emission_t_yr": num(raw[col["co2"]]) * 1e6,
    })
    unit["emission_t_yr"] = unit["emission_t_yr"].astype(object).where(np.isfinite(num(raw[col["co2"]])), raw[col["co2"]])
    pre = np.where(clean_text(raw[col["loc"]]).to_numpy() == "", "missing GEM location ID", "")
    kept = validate_rows(unit, path.name, rows, problems, pre_reason=pre)
    if kept.empty:
        return empty_sources()
    kept["loc"] = safe_id(raw.loc[kept.index, col["loc"]]).to_numpy()
    kept["name"] = clean_text(raw.loc[kept.index, col["name"]]).to_numpy()
    kept["country"] = clean_text(raw.loc[kept.index, country_col]).to_numpy() if country_col else ""
    plants = kept.groupby("loc", sort=False).agg(
        name=("name", "first"), country=("country", "first"), latitude=("latitude", "mean"),
        longitude=("longitude", "mean"), emission_t_yr=("emission_t_yr", "sum")).reset_index()
    plants["source_id"] = "gcpt-" + plants["loc"]
    plants["name"] = plants["name"].where(plants["name"] != "", "Coal plant " + plants["loc"])
    return finish(plants, kind="power_plant", fuel="coal", inventory="GEM Global Coal Plant Tracker",
                   inventory_year=year if year is not None else pd.NA)
