"""The CoCO2 global point-source catalogue v1.1 (Guevara et al. 2024, ESSD 16, 337,
doi:10.5194/essd-16-337-2024): sources, temporal profiles, and the compact copy
embedded in ``dataset/coco2``."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from builder.errors import InputError, Problems
from builder.inventory.common import STAGE, clean_text, safe_id, read_csv, num, validate_rows, finish
from builder.inventory.profiles import FLAT, HOUR_COLUMNS, MONTH_COLUMNS, WEEK_COLUMNS, TemporalProfiles

COCO2_INVENTORY = "CoCO2 v1.1"
COCO2_YEAR = 2018
#: Credit lines per ``inventory`` value, for the site's data page and downloads.
ATTRIBUTION = {
    COCO2_INVENTORY: "Power-plant emissions: CoCO2 global point-source catalogue v1.1 (Guevara et al., 2024, "
                     "ESSD 16, 337-373, doi:10.5194/essd-16-337-2024; data doi:10.24380/mxjo-nram), CC BY 4.0. "
                     "Reduced to the CO2 columns and an effective emission height by the atlas.",
    "WRI GPPD v1.3": "Global Power Plant Database v1.3.0, World Resources Institute and partners (2021), CC BY 4.0; "
                     "CO2 estimated by the atlas from generation and IPCC 2006 fuel factors.",
    "GEM Global Coal Plant Tracker": "Global Coal Plant Tracker, Global Energy Monitor, CC BY 4.0.",
    "EDGAR v8.0": "EDGAR v8.0 Community GHG Database, European Commission JRC / IEA (2023), CC BY 4.0.",
}
COCO2_CATALOGUE_COLUMNS = ["ID", "ISO3", "fuel", "longitude", "latitude", "co2_emis_ty",
                           "ID_MonthFact", "ID_WeekFact", "ID_HourFact"]
#: Mid-heights [m] of the 16 CoCO2 vertical layers (0-100 ... 1400-1500 m, >1500 m).
#: The open top layer is counted at 1600 m (a lower bound).
COCO2_LAYER_MID_M = np.append(np.arange(50.0, 1500.0, 100.0), 1600.0)


def _one_file(folder: Path, pattern: str) -> Path:
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not found:
        raise InputError(folder, f"no file matching {pattern}")
    if len(found) > 1:
        raise InputError(folder, f"several files match {pattern}: {', '.join(p.name for p in found)}")
    return found[0]


def read_profile_table(path: Path, columns: list[str], total: float, problems: list) -> pd.DataFrame:
    """One CoCO2 profile table -> DataFrame indexed by profile id; rows with
    non-numeric / negative factors or a sum off by > 0.5 % are reported and dropped."""
    raw = read_csv(path)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise InputError(path.name, f"missing columns {', '.join(missing)}")
    ids = clean_text(raw.iloc[:, 0])
    vals = raw[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    sums = vals.sum(axis=1)
    bad = ~np.all(np.isfinite(vals) & (vals >= 0), axis=1) | (np.abs(sums - total) > 0.005 * total) | (ids == "").to_numpy()
    for i in np.flatnonzero(bad):
        problems.add(f"{path.name}:row {i + 2}",
                     f"profile {ids.iloc[i]!r}: factors must be >= 0 and sum to {total:g} (got {sums[i]:.4g})",
                     STAGE)
    table = pd.DataFrame(vals[~bad], index=pd.Index(ids[~bad].to_numpy(), name="profile_id"), columns=columns)
    table = table[~table.index.duplicated(keep="first")]
    flat = pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=columns)
    return pd.concat([table.drop(index=FLAT, errors="ignore"), flat])


def read_coco2_profiles(folder: str | Path, problems: Problems | None = None) -> TemporalProfiles:
    """The monthly / weekly / hourly CoCO2 profile tables in ``folder``."""
    folder = Path(folder)
    problems = Problems.of(problems)
    return TemporalProfiles(
        month=read_profile_table(_one_file(folder, "coco2_ps_monthly_profiles*.csv*"), MONTH_COLUMNS, 12.0, problems),
        week=read_profile_table(_one_file(folder, "coco2_ps_weekly_profiles*.csv*"), WEEK_COLUMNS, 7.0, problems),
        hour=read_profile_table(_one_file(folder, "coco2_ps_hourly_profiles*.csv*"), HOUR_COLUMNS, 24.0, problems),
    )


def read_coco2(folder: str | Path, problems: Problems | None = None,
               with_height: bool = False) -> tuple[pd.DataFrame, TemporalProfiles]:
    """CoCO2 catalogue + profiles from ``folder`` (the original v1.1 CSVs or the
    compact embedded copy) -> (sources, profiles).

    Plants have no names in CoCO2; a readable one is built from fuel, id and
    country ("Coal power plant CoCO2_15522 (POL)"). ``source_id`` = "coco2-<n>".
    ``with_height`` adds ``emission_height_m`` (only in the compact copy).
    Plants whose profile id is unknown keep the flat profile and are reported.
    """
    folder = Path(folder)
    problems = Problems.of(problems)
    if not folder.is_dir():
        raise InputError(folder, "CoCO2 folder not found")
    cat_path = _one_file(folder, "coco2_ps_catalogue*.csv*")
    raw = read_csv(cat_path)
    missing = [c for c in COCO2_CATALOGUE_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(cat_path.name, f"missing columns {', '.join(missing)}")
    profiles = read_coco2_profiles(folder, problems)
    cid = clean_text(raw["ID"])
    df = pd.DataFrame({
        "source_id": ("coco2-" + safe_id(cid.str.replace(r"^CoCO2_", "", regex=True))).where(cid != "", ""),
        "latitude": raw["latitude"], "longitude": raw["longitude"], "emission_t_yr": raw["co2_emis_ty"],
    })
    fuel = clean_text(raw["fuel"]).str.lower()
    iso3 = clean_text(raw["ISO3"]).str.upper()
    df["name"] = fuel.str.capitalize().replace("", "Thermal") + " power plant " + cid + " (" + iso3 + ")"
    df["fuel"], df["country"] = fuel, iso3
    for col, src, table in (("profile_month", "ID_MonthFact", profiles.month),
                            ("profile_week", "ID_WeekFact", profiles.week),
                            ("profile_hour", "ID_HourFact", profiles.hour)):
        ids = clean_text(raw[src])
        unknown = ~ids.isin(table.index)
        for i in np.flatnonzero(unknown.to_numpy()):
            problems.add(f"{cat_path.name}:row {i + 2}",
                         f"{src} {ids.iloc[i]!r} not in the profile table; flat profile used", STAGE)
        df[col] = ids.where(~unknown, FLAT)
    if with_height:
        df["emission_height_m"] = num(raw["emission_height_m"]) if "emission_height_m" in raw else np.nan
    kept = validate_rows(df, cat_path.name, np.arange(len(df)) + 2, problems)
    out = finish(kept, kind="power_plant", inventory=COCO2_INVENTORY, inventory_year=COCO2_YEAR)
    if with_height:
        out["emission_height_m"] = kept["emission_height_m"].to_numpy()
    return out, profiles


def write_compact_coco2(src_folder: str | Path, dest_folder: str | Path) -> list[Path]:
    """Write the compact embedded copy of the original CoCO2 v1.1 folder.

    Keeps the CO2 catalogue columns (rounded: 5 decimals of degree ~1 m, 0.1 t)
    plus ``emission_height_m``, the emission-weighted mean height of the plant's
    vertical profile (layer mid-heights, top layer at 1600 m), and gzips the three
    temporal profile tables unchanged. Gzip mtime is fixed so output is reproducible.
    """
    src, dest = Path(src_folder), Path(dest_folder)
    dest.mkdir(parents=True, exist_ok=True)
    cat = pd.read_csv(_one_file(src, "coco2_ps_catalogue_v*.csv"))
    vert = pd.read_csv(_one_file(src, "coco2_ps_vertical_profiles_v*.csv")).set_index("ID_VertProf")
    w = vert.iloc[:, :16].to_numpy(dtype=float)
    height = pd.Series(w @ COCO2_LAYER_MID_M / w.sum(axis=1), index=vert.index)
    out = cat[COCO2_CATALOGUE_COLUMNS].copy()
    out["longitude"] = out["longitude"].round(5)
    out["latitude"] = out["latitude"].round(5)
    out["co2_emis_ty"] = out["co2_emis_ty"].round(1)
    out["emission_height_m"] = cat["ID_VertProf"].map(height).round(0).astype("Int64")
    written = [_write_gz(out, dest / "coco2_ps_catalogue_v1.1_co2.csv.gz")]
    for kind in ("monthly", "weekly", "hourly"):
        table = pd.read_csv(_one_file(src, f"coco2_ps_{kind}_profiles_v*.csv"))
        written.append(_write_gz(table, dest / f"coco2_ps_{kind}_profiles_v1.1.csv.gz"))
    return written


def _write_gz(df: pd.DataFrame, path: Path) -> Path:
    text = df.to_csv(index=False, lineterminator="\n")
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode("utf-8"))
    return path
