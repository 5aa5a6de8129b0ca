"""Plant names for the CoCO2 catalogue: a crosswalk to the WRI Global Power Plant Database.

CoCO2 units have no names, only ids ("CoCO2_15522"). The crosswalk matches
each unit to a GPPD plant by distance and fuel (:func:`match`) and is shipped as
``dataset/coco2/plant_names.csv`` (``scripts/derive_plant_names.py`` writes it
from the GPPD v1.2.0 fossil subset). :func:`name_units` applies it to the
loaded catalogue: a matched unit is shown as "Bełchatów — coal, 5,472 MW (POL)"
and keeps its catalogue id; an unmatched one keeps its descriptive name.

When a full GPPD is configured (``gppd:PATH`` in ``[paths] extra_inventories``,
as ``atlas fetch inventories`` downloads it), the same :func:`match` runs on it
at build time instead of the shipped crosswalk.

Matching rule (one unit at a time; several units may share one plant):

1. the nearest GPPD plant of the same fuel family (:data:`FUEL_FAMILIES`)
   within :data:`MAX_KM`;
2. else the nearest plant of any fuel within :data:`MAX_KM_OTHER_FUEL` (mixed
   sites, where GPPD records another primary fuel); ``fuel_agrees`` says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from builder.errors import InputError, Problems
from builder.physics import EARTH_RADIUS_KM, unit_xyz

#: Largest distance [km] between a CoCO2 unit and a GPPD plant of the same fuel family.
MAX_KM = 1.0
#: Largest distance [km] for a plant whose GPPD primary fuel differs.
MAX_KM_OTHER_FUEL = 0.5
#: GPPD primary fuels (lower case) that agree with a CoCO2 fuel.
FUEL_FAMILIES = {
    "coal": {"coal", "petcoke"},
    "natural gas": {"gas", "cogeneration"},
    "oil": {"oil", "cogeneration"},
}
#: GPPD primary fuels a CoCO2 (thermal) unit may be matched to.
FOSSIL_FUELS = {"coal", "gas", "oil", "petcoke", "cogeneration"}
#: Where a matched name comes from (shown on source pages, credited on the data page).
GPPD_CREDIT = ("Global Energy Observatory, Google, KTH Royal Institute of Technology in Stockholm, Enipedia, "
               "World Resources Institute. 2019. Global Power Plant Database v1.2.0. Published on Resource Watch "
               "and Google Earth Engine. CC BY 4.0.")
CROSSWALK_FILE = "plant_names.csv"
CROSSWALK_COLUMNS = ["source_id", "gppd_idnr", "name", "capacity_mw", "primary_fuel", "match_km", "fuel_agrees"]
#: Columns :func:`name_units` adds to the Source table.
NAME_COLUMNS = ["plant_name", "plant_capacity_mw", "plant_fuel", "name_source", "name_match_km"]
_K = 8  # plants examined per unit


def read_plants(path: str | Path) -> pd.DataFrame:
    """A GPPD CSV (the v1.2.0 fossil subset, or a full v1.2/v1.3 CSV or its zip) as
    fossil plants (:data:`FOSSIL_FUELS`): gppd_idnr ("" when the file has none), name,
    primary_fuel (lower case), capacity_mw, latitude, longitude. Rows without a name
    or position are dropped."""
    from builder.inventory.common import clean_text, read_csv  # reuse the tolerant CSV / zip reader

    raw = read_csv(Path(path))
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    out = pd.DataFrame({
        "gppd_idnr": clean_text(raw["gppd_idnr"]) if "gppd_idnr" in raw else "",
        "name": clean_text(raw["name"]),
        "primary_fuel": clean_text(raw["primary_fuel"]).str.lower(),
        "capacity_mw": pd.to_numeric(raw["capacity_mw"], errors="coerce"),
        "latitude": pd.to_numeric(raw["latitude"], errors="coerce"),
        "longitude": pd.to_numeric(raw["longitude"], errors="coerce"),
    })
    ok = (out["name"] != "") & out["latitude"].between(-90, 90) & out["longitude"].between(-180, 180)
    ok &= out["primary_fuel"].isin(FOSSIL_FUELS)   # a full GPPD also lists hydro, solar, wind ...
    return out.loc[ok].reset_index(drop=True)


def match(units: pd.DataFrame, plants: pd.DataFrame, max_km: float = MAX_KM,
          max_km_other_fuel: float = MAX_KM_OTHER_FUEL) -> pd.DataFrame:
    """Crosswalk (:data:`CROSSWALK_COLUMNS`) of ``units`` (source_id, fuel, latitude,
    longitude) to ``plants`` (:func:`read_plants`); one row per matched unit, sorted by id."""
    from scipy.spatial import cKDTree

    if len(units) == 0 or len(plants) == 0:
        return pd.DataFrame(columns=CROSSWALK_COLUMNS)
    tree = cKDTree(unit_xyz(plants["latitude"], plants["longitude"]))
    k = min(_K, len(plants))
    chord, idx = tree.query(unit_xyz(units["latitude"], units["longitude"]), k=k)
    chord, idx = chord.reshape(len(units), k), idx.reshape(len(units), k)
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    pfuel = plants["primary_fuel"].to_numpy(dtype=object)
    ufuel = units["fuel"].fillna("").astype(str).str.lower().to_numpy(dtype=object)
    same = np.array([[pfuel[j] in FUEL_FAMILIES.get(f, ()) for j in row] for f, row in zip(ufuel, idx)])
    ok_same = same & (km <= max_km)
    ok_other = km <= max_km_other_fuel
    has_same, has_other = ok_same.any(axis=1), ok_other.any(axis=1)
    col = np.where(has_same, ok_same.argmax(axis=1), ok_other.argmax(axis=1))  # neighbours come sorted by distance
    hit = has_same | has_other
    rows = np.arange(len(units))[hit]
    j = idx[rows, col[hit]]
    out = pd.DataFrame({
        "source_id": units["source_id"].to_numpy(dtype=object)[rows],
        "gppd_idnr": plants["gppd_idnr"].to_numpy(dtype=object)[j],
        "name": plants["name"].to_numpy(dtype=object)[j],
        "capacity_mw": plants["capacity_mw"].to_numpy(dtype=float)[j],
        "primary_fuel": pfuel[j],
        "match_km": np.round(km[rows, col[hit]], 3),
        "fuel_agrees": has_same[hit],
    })
    return out.sort_values("source_id", kind="stable").reset_index(drop=True)


def read_crosswalk(path: str | Path) -> pd.DataFrame:
    """The shipped crosswalk CSV; missing file -> an empty crosswalk."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=CROSSWALK_COLUMNS)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in ("capacity_mw", "match_km"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df["fuel_agrees"] = df["fuel_agrees"].str.lower().isin(["true", "1", "yes"])
    return df


def display_name(plant: str, fuel: str, capacity_mw, country: str) -> str:
    """'Bełchatów — coal, 5,472 MW (POL)' (parts that are missing are left out)."""
    detail = ", ".join(p for p in (fuel, f"{capacity_mw:,.0f} MW" if pd.notna(capacity_mw) and capacity_mw > 0 else "")
                       if p)
    text = f"{plant} — {detail}" if detail else plant
    return f"{text} ({country})" if country else text


def name_units(sources: pd.DataFrame, crosswalk: pd.DataFrame, credit: str = "GPPD v1.2.0") -> pd.DataFrame:
    """``sources`` with matched units renamed and :data:`NAME_COLUMNS` added
    (empty / NaN for unmatched units, which keep their descriptive name). A
    ``credit`` column of the crosswalk, where present, overrides ``credit`` per row."""
    out = sources.copy()
    cw = crosswalk.drop_duplicates("source_id").set_index("source_id")
    sid = out["source_id"]
    hit = sid.isin(cw.index).to_numpy()
    m = cw.reindex(sid)
    country = out["country"].fillna("").astype(str).str.split("-").str[0]
    out["plant_name"] = np.where(hit, m["name"].fillna("").to_numpy(dtype=object), "")
    out["plant_capacity_mw"] = np.where(hit, pd.to_numeric(m["capacity_mw"], errors="coerce").to_numpy(dtype=float),
                                        np.nan)
    out["plant_fuel"] = np.where(hit, m["primary_fuel"].fillna("").to_numpy(dtype=object), "")
    row_credit = m["credit"].fillna(credit).to_numpy(dtype=object) if "credit" in m else credit
    out["name_source"] = np.where(hit, row_credit, "")
    out["name_match_km"] = np.where(hit, pd.to_numeric(m["match_km"], errors="coerce").to_numpy(dtype=float), np.nan)
    names = [display_name(p, f, c, k) if h else n for h, p, f, c, k, n in
             zip(hit, out["plant_name"], out["fuel"], out["plant_capacity_mw"], country, out["name"])]
    out["name"] = np.array(names, dtype=object)
    return out


def named_share(sources: pd.DataFrame, min_t_yr: float = 1e6) -> float:
    """Share of sources emitting at least ``min_t_yr`` that carry a real plant name."""
    big = sources["emission_t_yr"] >= min_t_yr
    if not big.any() or "plant_name" not in sources:
        return 0.0
    return float((sources.loc[big, "plant_name"].fillna("") != "").mean())


def gppd_entries(extra_inventories) -> list[str]:
    """Paths of the ``gppd:PATH`` entries of ``[paths] extra_inventories``."""
    out = []
    for entry in extra_inventories:
        kind, sep, path = str(entry).partition(":")
        if sep and kind.strip().lower() == "gppd" and path.strip():
            out.append(path.strip())
    return out


def apply_names(sources: pd.DataFrame, coco2_folder: Path, extra_inventories, root: Path,
                problems: Problems) -> pd.DataFrame:
    """Name the CoCO2 units: matched now against each configured GPPD file (a full
    GPPD, as ``atlas fetch inventories`` downloads it), then, for units still
    unnamed, from the crosswalk shipped beside the catalogue. Never fatal: an
    unreadable GPPD file is reported once, by the inventory loader that reads it
    too; an unreadable crosswalk is reported in ``problems``."""

    parts = []
    for raw in gppd_entries(extra_inventories):
        path = Path(raw) if Path(raw).is_absolute() else (Path(root) / raw).resolve()
        try:
            parts.append(match(sources, read_plants(path)).assign(credit=f"GPPD ({path.name})"))
        except (InputError, OSError, ValueError, KeyError):
            pass   # the inventory loader reads the same file and reports why it cannot (one line per problem)
    try:
        parts.append(read_crosswalk(Path(coco2_folder) / CROSSWALK_FILE).assign(credit="GPPD v1.2.0"))
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
        problems.add(CROSSWALK_FILE, f"plant names not used: {exc}", "inventory")
    parts = [p for p in parts if len(p)]
    cw = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CROSSWALK_COLUMNS)
    return name_units(sources, cw)  # first match of a unit wins (drop_duplicates keeps the first)
