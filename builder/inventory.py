"""Inventory of known CO2 sources: one Source table (``tables.SOURCE_COLUMNS``)
plus temporal profiles, so attribution and the simulator can ask "how much does
this source emit at this UTC time?".

Inventories
-----------
- CoCO2 global point-source catalogue v1.1 (Guevara et al. 2024, ESSD 16, 337,
  doi:10.5194/essd-16-337-2024; data doi:10.24380/mxjo-nram): 16,461 thermal
  power plants, CO2 2018, with monthly / weekday / hourly profiles. Embedded in
  ``dataset/coco2`` (see ``dataset/README.md``); the default inventory.
- Optional extra files, listed in ``[paths] extra_inventories`` as ``kind:path``:
  ``gppd`` (WRI Global Power Plant Database v1.3 CSV), ``gcpt`` (GEM Global Coal
  Plant Tracker units table, CSV or xlsx), ``edgar`` (EDGAR v8 0.1-degree annual
  ``_emi.nc``), ``cities`` (a CSV of cities), ``coco2`` (another catalogue folder) and
  ``odiac`` (ODIAC 1 km GeoTIFF or 1-degree NetCDF hot-spot clusters, :mod:`builder.odiac`).

Invalid rows are skipped and reported as :class:`builder.results.SkippedItem`
(``item="file:row N"`` with N the spreadsheet row, header = row 1); a file that
cannot be used at all raises :class:`builder.soundings.InputError`.

Temporal profiles follow the CoCO2 conventions: monthly factors sum to 12,
weekday factors (Monday..Sunday) to 7 and hourly factors (local hours 0..23)
to 24, so each averages 1 and the rate at time t is::

    emission_kg_s = emission_t_yr * 1000 / SECONDS_PER_YEAR * f_month * f_weekday * f_hour

Local time is approximated by the solar offset ``longitude / 15`` hours from UTC
(no time-zone database; differs from civil time by up to ~1-3 h in wide
single-zone countries, and ignores daylight saving). Month, weekday and hour
are all taken in that local time.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from builder.config import Config
from builder import cityids, names, physics
from builder.physics import SECONDS_PER_YEAR
from builder.results import SkippedItem
from builder.errors import InputError, one_line
from builder.tables import SOURCE_COLUMNS

STAGE = "inventory"
FLAT = "flat"  #: id of the default flat profile, present in every profile table

MONTH_COLUMNS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEK_COLUMNS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HOUR_COLUMNS = [f"H{h}" for h in range(24)]

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

#: Direct (scope-1) CO2 per person of a city of one million, used for cities
#: without a CO2 value, through the sublinear urban scaling of
#: :func:`builder.physics.city_emission_t_yr` (power plants are in the plant
#: catalogues and not counted again). A model: every page labels it an estimate.
CITY_CO2_T_PER_CAPITA = physics.CITY_PER_CAPITA_T_YR

#: EDGAR cells emitting at least this much become grid_cell sources by default.
EDGAR_MIN_T_YR = 1.0e6

# C0/C1 controls plus zero-width and bidirectional-override characters.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SEP = "\ue000"
_ODD_SPACE = re.compile(r"[^\S ]")  # whitespace other than a plain space
_DIRTY = re.compile(_CONTROL.pattern + r"|[^\S ]|\s\s|^\s|\s$|\ue000\s|\s\ue000")  # what clean_text changes
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


# --------------------------------------------------------------------------- profiles

@dataclass
class TemporalProfiles:
    """Month / weekday / hour factor tables keyed by profile id (index).

    ``month`` has columns Jan..Dec, ``week`` Monday..Sunday, ``hour`` H0..H23
    (local hours). Each table holds a flat profile under id ``FLAT``.
    """

    month: pd.DataFrame
    week: pd.DataFrame
    hour: pd.DataFrame

    @classmethod
    def flat(cls) -> "TemporalProfiles":
        """Only the flat profiles (factor 1 everywhere), for inventories without profiles."""
        return cls(
            month=pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=MONTH_COLUMNS),
            week=pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=WEEK_COLUMNS),
            hour=pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=HOUR_COLUMNS),
        )

    def merge(self, other: "TemporalProfiles") -> "TemporalProfiles":
        """Union of two profile sets; on an id clash the first wins."""
        def cat(a, b):
            out = pd.concat([a, b])
            return out[~out.index.duplicated(keep="first")]
        return TemporalProfiles(cat(self.month, other.month), cat(self.week, other.week), cat(self.hour, other.hour))

    def factors(self, sources: pd.DataFrame, time_utc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(f_month, f_weekday, f_hour) per source at ``time_utc`` (local solar time).

        ``time_utc``: one time (Timestamp/str/datetime64) or an array aligned with
        ``sources``; naive times are taken as UTC. Unknown or missing profile ids
        use the flat profile; NaT gives NaN.
        """
        n = len(sources)
        lon = np.asarray(sources["longitude"], dtype=float)
        lon = (lon + 180.0) % 360.0 - 180.0
        t = pd.to_datetime(time_utc, utc=True)
        if isinstance(t, pd.Timestamp) or t is pd.NaT:
            ns = np.full(n, np.iinfo(np.int64).min if t is pd.NaT else t.as_unit("ns").value, dtype=np.int64)
        else:
            idx = pd.DatetimeIndex(t).as_unit("ns")
            if len(idx) != n:
                raise ValueError(f"time_utc has {len(idx)} values for {n} sources")
            ns = idx.asi8
        nat = ns == np.iinfo(np.int64).min
        offset_ns = np.nan_to_num(lon / 15.0 * 3600e9).astype(np.int64)
        local = pd.DatetimeIndex(np.where(nat, 0, ns + offset_ns).astype("datetime64[ns]"))
        month = local.month.to_numpy() - 1
        wday = local.day_of_week.to_numpy()
        hour = local.hour.to_numpy()
        def ids(col):  # hand-made tables without profile columns get flat profiles
            return sources[col] if col in sources else np.full(n, FLAT, dtype=object)
        fm = _lookup(self.month, ids("profile_month"), month)
        fw = _lookup(self.week, ids("profile_week"), wday)
        fh = _lookup(self.hour, ids("profile_hour"), hour)
        for f in (fm, fw, fh):
            f[nat] = np.nan
        return fm, fw, fh

    def emission_kg_s(self, sources: pd.DataFrame, time_utc) -> np.ndarray:
        """Each source's inventory emission rate [kg/s] at ``time_utc`` (vectorised)."""
        fm, fw, fh = self.factors(sources, time_utc)
        annual_kg_s = np.asarray(sources["emission_t_yr"], dtype=float) * 1000.0 / SECONDS_PER_YEAR
        return annual_kg_s * fm * fw * fh


def _lookup(table: pd.DataFrame, ids, position: np.ndarray) -> np.ndarray:
    """table[id, position] per row; unknown/missing ids -> the flat row."""
    row = table.index.get_indexer(pd.Index(pd.Series(ids, dtype=object).fillna(FLAT).astype(str)))
    row = np.where(row < 0, table.index.get_loc(FLAT), row)
    return table.to_numpy(dtype=float)[row, position].copy()


def emission_at(sources: pd.DataFrame, profiles: TemporalProfiles, time_utc) -> np.ndarray:
    """Inventory emission [kg/s] of every source at ``time_utc`` (see :class:`TemporalProfiles`)."""
    return profiles.emission_kg_s(sources, time_utc)


# --------------------------------------------------------------------------- helpers

def clean_text(values) -> pd.Series:
    """Strip control / zero-width / bidi characters, collapse whitespace. HTML is kept
    as data (escaping is the renderer's job)."""
    s = pd.Series(values, dtype=object).fillna("").astype(str)
    # Fast path: one regex over all values joined by a private-use separator.
    joined = _SEP + _SEP.join(s.tolist()) + _SEP
    if not (_CONTROL.search(joined) or _ODD_SPACE.search(joined) or "  " in joined
            or _SEP + " " in joined or " " + _SEP in joined):
        return s
    dirty = s.str.contains(_DIRTY, regex=True).to_numpy(dtype=bool)
    if dirty.any():
        fixed = s[dirty].str.replace(_CONTROL, " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
        s = s.astype(object)
        s[dirty] = fixed.to_numpy(dtype=object)
    return s


def _safe_id(values) -> pd.Series:
    """Ids usable in URLs and file names: [A-Za-z0-9_.-], other runs -> '-'."""
    s = clean_text(values)
    if _ID_UNSAFE.search("".join(s.tolist())):
        s = s.str.replace(_ID_UNSAFE, "-", regex=True)
    return s.str.strip("-")


def _ascii(values: pd.Series) -> pd.Series:
    """Accents dropped (NFKD, combining marks removed), for readable ASCII slugs."""
    return values.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)


def _norm(col: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(col).lower())


def _find_column(columns, *candidates: str, contains: tuple[str, ...] = ()) -> str | None:
    """A column by normalised exact name (first candidate wins), else by substring."""
    norm = {_norm(c): c for c in columns}
    for cand in candidates:
        if _norm(cand) in norm:
            return norm[_norm(cand)]
    for sub in contains:
        for key, col in norm.items():
            if _norm(sub) in key:
                return col
    return None


@contextlib.contextmanager
def _unzipped(path: Path, suffixes: tuple[str, ...]):
    """``path`` itself, or for a .zip (as ``atlas fetch`` downloads them) its one
    member ending in ``suffixes``, extracted to a temporary folder."""
    if not path.exists():
        raise InputError(path.name, "file not found")
    if path.suffix.lower() != ".zip":
        yield path
        return
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.namelist() if m.lower().endswith(suffixes)
                       and not m.startswith("__MACOSX") and not m.endswith("/")]
            if len(members) != 1:
                raise InputError(path.name, f"zip holds {len(members)} files ending in {'/'.join(suffixes)} "
                                 f"({', '.join(members[:5])}); expected exactly one")
            with tempfile.TemporaryDirectory(prefix="atlas-inv-") as tmp:
                out = Path(tmp) / Path(members[0]).name
                with zf.open(members[0]) as src, open(out, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                yield out
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(path.name, f"not a readable zip file: {one_line(exc)}") from None


def _read_csv(path: Path, **kw) -> pd.DataFrame:
    """CSV (optionally .gz/.bz2, or the one CSV inside a .zip) as strings; unreadable -> InputError."""
    if path.suffix.lower() == ".zip":
        with _unzipped(path, (".csv",)) as member:
            return _read_csv(member, **kw)
    if not path.exists():
        raise InputError(path.name, "file not found")
    for enc in ("utf-8", "latin-1"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=enc, **kw)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as exc:
            raise InputError(path.name, f"not a readable CSV file: {one_line(exc)}") from None
    raise InputError(path.name, "not UTF-8 or Latin-1 text")


def _num(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)


def _validate(df: pd.DataFrame, file: str, rows: np.ndarray, skipped: list,
              pre_reason: np.ndarray | None = None) -> pd.DataFrame:
    """Drop (and report) rows with a missing id, bad coordinates, a missing /
    non-numeric / negative emission or a duplicate id. ``df`` holds raw
    source_id, latitude, longitude, emission_t_yr; returns numeric, kept rows."""
    n = len(df)
    if n == 0:  # a header-only file is valid and contributes nothing
        out = df.iloc[0:0].copy()
        for c in ("latitude", "longitude", "emission_t_yr"):
            out[c] = pd.Series(dtype=float)
        return out
    reason = np.full(n, "", dtype=object) if pre_reason is None else pre_reason.astype(object).copy()
    sid = clean_text(df["source_id"]).to_numpy(dtype=object)
    lat, lon, emis = _num(df["latitude"]), _num(df["longitude"]), _num(df["emission_t_yr"])
    raw_lat, raw_lon, raw_em = (df[c].to_numpy(dtype=object) for c in ("latitude", "longitude", "emission_t_yr"))

    def flag(mask, make):
        sel = np.flatnonzero(mask & (reason == ""))
        for i in sel:
            reason[i] = make(i)

    flag(sid == "", lambda i: "missing id")
    flag(~np.isfinite(lat), lambda i: f"missing or non-numeric latitude {_show(raw_lat[i])}")
    flag(np.abs(lat) > 90, lambda i: f"latitude {lat[i]:g} outside [-90, 90]")
    flag(~np.isfinite(lon), lambda i: f"missing or non-numeric longitude {_show(raw_lon[i])}")
    flag(np.abs(lon) > 180, lambda i: f"longitude {lon[i]:g} outside [-180, 180]")
    flag(~np.isfinite(emis), lambda i: f"missing or non-numeric emission {_show(raw_em[i])}")
    flag(emis < 0, lambda i: f"negative emission {emis[i]:g} t/yr")
    ok = reason == ""
    dup = pd.Series(sid).where(ok).duplicated(keep="first").to_numpy() & ok
    first_row = dict(zip(sid[ok][::-1], rows[ok][::-1]))
    flag(dup, lambda i: f"duplicate id {sid[i]!r} (first at row {first_row[sid[i]]})")
    for i in np.flatnonzero(reason != ""):
        skipped.append(SkippedItem(item=f"{file}:row {rows[i]}", reason=str(reason[i]), stage=STAGE))
    keep = reason == ""
    out = df.loc[keep].copy()
    out["source_id"] = sid[keep]
    out["latitude"], out["longitude"], out["emission_t_yr"] = lat[keep], lon[keep], emis[keep]
    return out


def _show(value) -> str:
    return "(empty)" if value is None or (isinstance(value, float) and np.isnan(value)) else repr(str(value)[:40])


def _finish(df: pd.DataFrame, **defaults) -> pd.DataFrame:
    """Exactly SOURCE_COLUMNS with stable dtypes; absent columns from ``defaults``."""
    out = pd.DataFrame(index=df.index)
    for col in SOURCE_COLUMNS:
        out[col] = df[col] if col in df else defaults.get(col, "")
    for col in ("latitude", "longitude", "emission_t_yr"):
        out[col] = out[col].astype(float)
    out["inventory_year"] = pd.array(pd.to_numeric(out["inventory_year"], errors="coerce"), dtype="Int64")
    for col in ("name", "kind", "fuel", "country", "inventory"):
        out[col] = clean_text(out[col]).to_numpy(dtype=object)
    for col in ("profile_month", "profile_week", "profile_hour"):
        out[col] = clean_text(out[col]).replace("", FLAT).to_numpy(dtype=object)
    return out.reset_index(drop=True)


def _empty_sources() -> pd.DataFrame:
    return _finish(pd.DataFrame({c: pd.Series(dtype=object) for c in SOURCE_COLUMNS}))


# --------------------------------------------------------------------------- CoCO2

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


def _read_profile_table(path: Path, columns: list[str], total: float, skipped: list) -> pd.DataFrame:
    """One CoCO2 profile table -> DataFrame indexed by profile id; rows with
    non-numeric / negative factors or a sum off by > 0.5 % are reported and dropped."""
    raw = _read_csv(path)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise InputError(path.name, f"missing columns {', '.join(missing)}")
    ids = clean_text(raw.iloc[:, 0])
    vals = raw[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    sums = vals.sum(axis=1)
    bad = ~np.all(np.isfinite(vals) & (vals >= 0), axis=1) | (np.abs(sums - total) > 0.005 * total) | (ids == "").to_numpy()
    for i in np.flatnonzero(bad):
        skipped.append(SkippedItem(f"{path.name}:row {i + 2}",
                                   f"profile {ids.iloc[i]!r}: factors must be >= 0 and sum to {total:g} (got {sums[i]:.4g})",
                                   STAGE))
    table = pd.DataFrame(vals[~bad], index=pd.Index(ids[~bad].to_numpy(), name="profile_id"), columns=columns)
    table = table[~table.index.duplicated(keep="first")]
    flat = pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=columns)
    return pd.concat([table.drop(index=FLAT, errors="ignore"), flat])


def read_coco2_profiles(folder: str | Path, skipped: list | None = None) -> TemporalProfiles:
    """The monthly / weekly / hourly CoCO2 profile tables in ``folder``."""
    folder = Path(folder)
    skipped = [] if skipped is None else skipped
    return TemporalProfiles(
        month=_read_profile_table(_one_file(folder, "coco2_ps_monthly_profiles*.csv*"), MONTH_COLUMNS, 12.0, skipped),
        week=_read_profile_table(_one_file(folder, "coco2_ps_weekly_profiles*.csv*"), WEEK_COLUMNS, 7.0, skipped),
        hour=_read_profile_table(_one_file(folder, "coco2_ps_hourly_profiles*.csv*"), HOUR_COLUMNS, 24.0, skipped),
    )


def read_coco2(folder: str | Path, skipped: list | None = None,
               with_height: bool = False) -> tuple[pd.DataFrame, TemporalProfiles]:
    """CoCO2 catalogue + profiles from ``folder`` (the original v1.1 CSVs or the
    compact embedded copy) -> (sources, profiles).

    Plants have no names in CoCO2; a readable one is built from fuel, id and
    country ("Coal power plant CoCO2_15522 (POL)"). ``source_id`` = "coco2-<n>".
    ``with_height`` adds ``emission_height_m`` (only in the compact copy).
    Plants whose profile id is unknown keep the flat profile and are reported.
    """
    folder = Path(folder)
    skipped = [] if skipped is None else skipped
    if not folder.is_dir():
        raise InputError(folder, "CoCO2 folder not found")
    cat_path = _one_file(folder, "coco2_ps_catalogue*.csv*")
    raw = _read_csv(cat_path)
    missing = [c for c in COCO2_CATALOGUE_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(cat_path.name, f"missing columns {', '.join(missing)}")
    profiles = read_coco2_profiles(folder, skipped)
    cid = clean_text(raw["ID"])
    df = pd.DataFrame({
        "source_id": ("coco2-" + _safe_id(cid.str.replace(r"^CoCO2_", "", regex=True))).where(cid != "", ""),
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
            skipped.append(SkippedItem(f"{cat_path.name}:row {i + 2}",
                                       f"{src} {ids.iloc[i]!r} not in the profile table; flat profile used", STAGE))
        df[col] = ids.where(~unknown, FLAT)
    if with_height:
        df["emission_height_m"] = _num(raw["emission_height_m"]) if "emission_height_m" in raw else np.nan
    kept = _validate(df, cat_path.name, np.arange(len(df)) + 2, skipped)
    out = _finish(kept, kind="power_plant", inventory=COCO2_INVENTORY, inventory_year=COCO2_YEAR)
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


# --------------------------------------------------------------------------- GPPD

def read_gppd(path: str | Path, skipped: list | None = None) -> pd.DataFrame:
    """WRI Global Power Plant Database v1.3 CSV -> fossil power plants.

    CO2 = generation x fuel emission factor (:data:`GPPD_FUELS`). Generation is
    the latest reported ``generation_gwh_YYYY`` >= 0, else the latest
    ``estimated_generation_gwh_YYYY``, else ``capacity_mw`` x capacity factor
    (:data:`GPPD_CAPACITY_FACTORS`) x 8766 h; ``inventory_year`` is that year
    (``year_of_capacity_data`` for the capacity route). Non-fossil plants are
    not used (one summary SkippedItem per file).
    """
    path = Path(path)
    skipped = [] if skipped is None else skipped
    raw = _read_csv(path)
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
        skipped.append(SkippedItem(path.name, f"{int((~fossil).sum())} non-fossil plants not used ("
                                   + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")", STAGE))
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
    cap = _num(raw["capacity_mw"])
    cf = fuel_key.map(GPPD_CAPACITY_FACTORS).to_numpy(dtype=float)
    need_cap = ~np.isfinite(gen_gwh)
    gen_gwh = np.where(need_cap, cap * cf * HOURS_PER_YEAR / 1000.0, gen_gwh)
    if "year_of_capacity_data" in raw:
        year = np.where(need_cap, _num(raw["year_of_capacity_data"]), year)
    pre = np.where(need_cap & ~(np.isfinite(cap) & (cap >= 0)),
                   "no usable generation_gwh_* value and capacity_mw missing, non-numeric or negative", "")
    ef = fuel_key.map({k: v[1] for k, v in GPPD_FUELS.items()}).to_numpy(dtype=float)
    df = pd.DataFrame({
        "source_id": ("gppd-" + _safe_id(raw["gppd_idnr"])).where(_safe_id(raw["gppd_idnr"]) != "", ""),
        "name": raw["name"], "latitude": raw["latitude"], "longitude": raw["longitude"],
        "emission_t_yr": gen_gwh * 1000.0 * ef,
        "fuel": fuel_key.map({k: v[0] for k, v in GPPD_FUELS.items()}),
        "country": raw["country"] if "country" in raw else "",
        "inventory_year": year,
    })
    kept = _validate(df, path.name, rows, skipped, pre_reason=pre)
    return _finish(kept, kind="power_plant", inventory="WRI GPPD v1.3")


# --------------------------------------------------------------------------- GCPT

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
    return _read_csv(path)


def read_gcpt(path: str | Path, skipped: list | None = None, year: int | None = None) -> pd.DataFrame:
    """GEM Global Coal Plant Tracker unit table (CSV or xlsx "Units" sheet) ->
    operating coal plants, units grouped by GEM location ID.

    Column names are matched case/format-tolerantly ("GEM location ID",
    "Plant name", "Country/Area", "Status", "Latitude", "Longitude", "Annual CO2
    (million tonnes / annum)"). CO2 of a plant = sum over its operating units.
    Non-operating units are not used (one summary SkippedItem).
    """
    path = Path(path)
    skipped = [] if skipped is None else skipped
    raw = _read_table(path, "unit")
    cols = raw.columns
    col = {
        "loc": _find_column(cols, "GEM location ID", "Location ID", contains=("locationid",)),
        "name": _find_column(cols, "Plant name", "Plant", contains=("plantname",)),
        "status": _find_column(cols, "Status"),
        "lat": _find_column(cols, "Latitude", "lat"),
        "lon": _find_column(cols, "Longitude", "lon", "lng"),
        "co2": _find_column(cols, contains=("annualco2milliontonnes", "annualco2mt", "annualco2")),
    }
    missing = [k for k, v in col.items() if v is None]
    if missing:
        raise InputError(path.name, f"missing GCPT columns for {', '.join(missing)} (have: {', '.join(map(str, cols[:30]))})")
    country_col = _find_column(cols, "Country/Area", "Country", contains=("country",))
    rows = np.arange(len(raw)) + 2
    status = clean_text(raw[col["status"]]).str.lower()
    operating = (status == "operating").to_numpy()
    if (~operating).any():
        counts = status[~operating].replace("", "(empty)").value_counts()
        skipped.append(SkippedItem(path.name, f"{int((~operating).sum())} non-operating units not used ("
                                   + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")", STAGE))
    raw, rows = raw.loc[operating].reset_index(drop=True), rows[operating]
    unit = pd.DataFrame({
        # Validate per unit (unit rows are what the user can fix); the duplicate-id
        # check must not fire for units of one plant, so use the row as unit id.
        "source_id": np.where(clean_text(raw[col["loc"]]) != "", rows.astype(str), ""),
        "latitude": raw[col["lat"]], "longitude": raw[col["lon"]],
        "emission_t_yr": _num(raw[col["co2"]]) * 1e6,
    })
    unit["emission_t_yr"] = unit["emission_t_yr"].astype(object).where(np.isfinite(_num(raw[col["co2"]])), raw[col["co2"]])
    pre = np.where(clean_text(raw[col["loc"]]).to_numpy() == "", "missing GEM location ID", "")
    kept = _validate(unit, path.name, rows, skipped, pre_reason=pre)
    if kept.empty:
        return _empty_sources()
    kept["loc"] = _safe_id(raw.loc[kept.index, col["loc"]]).to_numpy()
    kept["name"] = clean_text(raw.loc[kept.index, col["name"]]).to_numpy()
    kept["country"] = clean_text(raw.loc[kept.index, country_col]).to_numpy() if country_col else ""
    plants = kept.groupby("loc", sort=False).agg(
        name=("name", "first"), country=("country", "first"), latitude=("latitude", "mean"),
        longitude=("longitude", "mean"), emission_t_yr=("emission_t_yr", "sum")).reset_index()
    plants["source_id"] = "gcpt-" + plants["loc"]
    plants["name"] = plants["name"].where(plants["name"] != "", "Coal plant " + plants["loc"])
    return _finish(plants, kind="power_plant", fuel="coal", inventory="GEM Global Coal Plant Tracker",
                   inventory_year=year if year is not None else pd.NA)


# --------------------------------------------------------------------------- EDGAR

def _edgar_grid(xr, nc_path: Path, name: str):
    """(values[lat, lon] t/cell/yr, lats, lons in [-180, 180), year, substance) of an EDGAR _emi.nc."""
    try:
        ds = xr.open_dataset(nc_path)
    except Exception as exc:  # engines raise different types
        raise InputError(name, f"not a readable NetCDF file: {one_line(exc)}") from None
    with ds:
        if "emissions" not in ds.variables:
            raise InputError(name, f"no variable 'emissions' (have: {', '.join(map(str, ds.data_vars))}); "
                             "use EDGAR's _emi.nc files")
        da = ds["emissions"]
        units = str(da.attrs.get("units", "")).strip()
        if not units.lower().startswith("tonne"):
            raise InputError(name, f"emissions units {units!r}, expected 'Tonnes' per cell per year")
        lat_name = next((d for d in da.dims if str(d).lower() in ("lat", "latitude")), None)
        lon_name = next((d for d in da.dims if str(d).lower() in ("lon", "longitude")), None)
        if lat_name is None or lon_name is None:
            raise InputError(name, f"emissions dims {da.dims} lack lat/lon")
        extra = [d for d in da.dims if d not in (lat_name, lon_name)]
        if any(da.sizes[d] != 1 for d in extra):
            raise InputError(name, f"emissions has extra dimensions {extra}; expected one annual grid")
        da = da.squeeze(extra, drop=True).transpose(lat_name, lon_name)
        values = np.asarray(da.values, dtype=float)
        lats = np.asarray(da[lat_name].values, dtype=float)
        lons = (np.asarray(da[lon_name].values, dtype=float) + 180.0) % 360.0 - 180.0
        year = da.attrs.get("year", ds.attrs.get("year"))
        substance = str(da.attrs.get("substance", ds.attrs.get("substance", "CO2")))
    return values, lats, lons, year, substance


def read_edgar(path: str | Path, min_t_yr: float = EDGAR_MIN_T_YR, skipped: list | None = None) -> pd.DataFrame:
    """EDGAR v8 0.1-degree annual ``_emi.nc`` (variable ``emissions`` in Tonnes per
    cell per year, coords lat/lon) -> one ``grid_cell`` source per cell >= ``min_t_yr``.

    Negative cells are reported (one summary item) and never kept. ``_flx.nc``
    files (kg m-2 s-1) are refused with a clear message.
    """
    import xarray as xr

    path = Path(path)
    skipped = [] if skipped is None else skipped
    with _unzipped(path, (".nc", ".nc4")) as nc_path:
        values, lats, lons, year, substance = _edgar_grid(xr, nc_path, path.name)
    if year is None and (m := re.search(r"_((?:19|20)\d{2})_", path.name)):
        year = int(m.group(1))
    n_neg = int(np.sum(values < 0))
    if n_neg:
        skipped.append(SkippedItem(path.name, f"{n_neg} cells with negative emissions not used", STAGE))
    ii, jj = np.nonzero(np.isfinite(values) & (values >= min_t_yr))
    lat, lon = lats[ii], lons[jj]
    ns = np.where(lat >= 0, "N", "S")
    ew = np.where(lon >= 0, "E", "W")
    lat_txt = pd.Series(np.abs(lat)).map("{:05.2f}".format).to_numpy(dtype=object) + ns
    lon_txt = pd.Series(np.abs(lon)).map("{:06.2f}".format).to_numpy(dtype=object) + ew
    df = pd.DataFrame({
        "source_id": "edgar-" + lat_txt + lon_txt,
        "name": "EDGAR grid cell " + lat_txt + " " + lon_txt,
        "latitude": lat, "longitude": lon, "emission_t_yr": values[ii, jj],
    })
    kept = _validate(df, path.name, np.arange(len(df)) + 1, skipped)
    try:
        year = int(year) if year is not None else pd.NA
    except (TypeError, ValueError):
        year = pd.NA
    return _finish(kept, kind="grid_cell", fuel=substance, inventory="EDGAR v8.0", inventory_year=year)


# --------------------------------------------------------------------------- cities

def read_cities(path: str | Path, skipped: list | None = None,
                per_capita_t_yr: float = CITY_CO2_T_PER_CAPITA) -> pd.DataFrame:
    """A CSV of cities: name, lat/latitude, lon/longitude, population, optional
    co2_t_yr (and optional country, year). Without a CO2 value the emission is
    estimated from the population with :func:`builder.physics.city_emission_t_yr`
    scaled to ``per_capita_t_yr`` at one million people (default
    :data:`CITY_CO2_T_PER_CAPITA`), and the row's ``inventory`` says so."""
    path = Path(path)
    skipped = [] if skipped is None else skipped
    raw = _read_csv(path)
    c = {
        "name": _find_column(raw.columns, "name", "city"),
        "lat": _find_column(raw.columns, "lat", "latitude"),
        "lon": _find_column(raw.columns, "lon", "longitude", "lng"),
    }
    missing = [k for k, v in c.items() if v is None]
    if missing:
        raise InputError(path.name, f"missing city columns for {', '.join(missing)}")
    pop_col = _find_column(raw.columns, "population", "pop")
    co2_col = _find_column(raw.columns, "co2_t_yr")
    country_col = _find_column(raw.columns, "country", "iso3")
    year_col = _find_column(raw.columns, "year")
    if pop_col is None and co2_col is None:
        raise InputError(path.name, "needs a co2_t_yr or a population column")
    rows = np.arange(len(raw)) + 2
    co2 = _num(raw[co2_col]) if co2_col else np.full(len(raw), np.nan)
    co2_raw = raw[co2_col].to_numpy(dtype=object) if co2_col else np.full(len(raw), None, dtype=object)
    pop = _num(raw[pop_col]) if pop_col else np.full(len(raw), np.nan)
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
    slug = _safe_id(_ascii(name).str.lower())
    # names with no ASCII letters (e.g. CJK) get a position-based slug
    where = _safe_id(raw[c["lat"]].fillna("").astype(str) + "_" + raw[c["lon"]].fillna("").astype(str))
    slug = slug.where(slug.str.contains(r"[a-z0-9]", regex=True), where)
    sid = "city-" + slug + np.where(country != "", "-" + _safe_id(_ascii(country).str.lower()), "")
    region_col = _find_column(raw.columns, *cityids.REGION_COLUMNS)  # same-named cities of one country coexist
    sid = cityids.disambiguate(sid, raw[c["lat"]], raw[c["lon"]], raw[region_col] if region_col else None,
                               lambda v: _safe_id(_ascii(v)))
    pre = np.where((name == "").to_numpy(), "missing name", pre)
    inventory = f"Cities ({path.stem})"
    df = pd.DataFrame({
        "source_id": sid, "name": name, "latitude": raw[c["lat"]],
        "longitude": raw[c["lon"]], "emission_t_yr": emission, "country": country,
        "inventory": np.where(estimated, f"{inventory} (CO2 estimated from population: {per_capita_t_yr:g} t per "
                              f"person per year at 1 million, scaling exponent {physics.CITY_BETA:g})", inventory),
        "inventory_year": _num(raw[year_col]) if year_col else np.nan,
    })
    kept = _validate(df, path.name, rows, skipped, pre_reason=pre)
    return _finish(kept, kind="city", fuel="")


# --------------------------------------------------------------------------- generic CSV

#: Kinds a generic CSV may give; anything else becomes "other".
GENERIC_KINDS = ("power_plant", "city", "grid_cell", "industry", "other")


def read_generic_csv(path: str | Path, skipped: list | None = None) -> pd.DataFrame:
    """The generic inventory CSV: source_id, name, latitude, longitude, emission_t_yr
    (t CO2/yr), optional kind (GENERIC_KINDS; default power_plant), country, fuel.
    A missing required column raises InputError; each bad row is one skipped line."""
    path = Path(path)
    skipped = [] if skipped is None else skipped
    raw = _read_csv(path)
    cols = {c.strip().lower(): c for c in raw.columns}
    missing = [c for c in ("source_id", "name", "latitude", "longitude", "emission_t_yr") if c not in cols]
    if missing:
        raise InputError(path.name, f"missing column(s) {', '.join(missing)} (generic CSV inventory: "
                                    "source_id,name,latitude,longitude,emission_t_yr[,kind,country,fuel])")
    df = raw.rename(columns={v: k for k, v in cols.items()})
    rows = np.arange(len(df)) + 2
    name = clean_text(df["name"]) if len(df) else pd.Series(dtype=object)
    pre = np.where((name == "").to_numpy(), "missing name", "") if len(df) else None
    kept = _validate(df.assign(source_id=df["source_id"]), path.name, rows, skipped, pre_reason=pre)
    kind = clean_text(kept["kind"]).str.lower() if "kind" in kept else pd.Series("power_plant", index=kept.index)
    kind = kind.replace("", "power_plant").where(kind.replace("", "power_plant").isin(GENERIC_KINDS), "other")
    return _finish(kept.assign(kind=kind.to_numpy(dtype=object)), inventory=f"CSV ({path.stem})",
                   inventory_year=np.nan)


# --------------------------------------------------------------------------- all

def _extra_loader(kind: str) -> Callable[[Path, list], tuple[pd.DataFrame, TemporalProfiles | None]]:
    return {
        "coco2": lambda p, s: read_coco2(p, s),
        "gppd": lambda p, s: (read_gppd(p, s), None),
        "gcpt": lambda p, s: (read_gcpt(p, s), None),
        "edgar": lambda p, s: (read_edgar(p, skipped=s), None),
        "cities": lambda p, s: (read_cities(p, s), None),
        "csv": lambda p, s: (read_generic_csv(p, s), None),
        "odiac": lambda p, s: (_odiac().read_odiac(p, s), None),
    }.get(kind)


def _odiac():
    from builder import odiac  # imports rasterio only when an ODIAC file is listed
    return odiac


def load_inventory(cfg: Config, skipped: list) -> tuple[pd.DataFrame, TemporalProfiles]:
    """The unified Source table and its profiles: the CoCO2 catalogue at
    ``cfg.path("coco2")`` plus every ``[paths] extra_inventories`` entry
    ("kind:path", kind in coco2|gppd|gcpt|edgar|cities|csv|odiac). A bad extra entry or
    file is reported in ``skipped`` and left out; a source_id already loaded is
    reported and the later row dropped. A missing CoCO2 folder raises InputError.
    """
    if str(cfg.paths.coco2) in ("", "."):      # --only-inventories: no embedded catalogue
        sources, profiles = _empty_sources(), TemporalProfiles.flat()
    else:
        sources, profiles = read_coco2(cfg.path("coco2"), skipped)
        sources = names.apply_names(sources, cfg.path("coco2"), cfg.paths.extra_inventories, cfg.paths.root, skipped)
    frames = [sources]
    for entry in cfg.paths.extra_inventories:
        kind, sep, raw_path = str(entry).partition(":")
        kind = kind.strip().lower()
        loader = _extra_loader(kind)
        if not sep or loader is None or not raw_path.strip():
            skipped.append(SkippedItem(str(entry), "extra_inventories entry must be 'kind:path' with kind in "
                                       "coco2, gppd, gcpt, edgar, cities, csv, odiac", STAGE))
            continue
        path = Path(raw_path.strip())
        path = path if path.is_absolute() else (Path(cfg.paths.root) / path).resolve()
        try:
            df, prof = loader(path, skipped)
        except InputError as exc:
            skipped.append(SkippedItem(exc.item, exc.reason, STAGE))
            continue
        except (OSError, ValueError, KeyError, TypeError) as exc:
            skipped.append(SkippedItem(path.name, f"unreadable {kind} inventory: {one_line(exc)}", STAGE))
            continue
        frames.append(df)
        if prof is not None:
            profiles = profiles.merge(prof)
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty_sources(), profiles
    allsrc = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if "radius_km" in allsrc:  # ODIAC clusters: catalogued plants inside are subtracted (builder.odiac)
        allsrc = _odiac().deduplicate(allsrc, skipped)
    dup = allsrc["source_id"].duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(dup):
        skipped.append(SkippedItem(f"{allsrc['inventory'].iat[i]}:{allsrc['source_id'].iat[i]}",
                                   "source_id already loaded from another inventory file", STAGE))
    return allsrc.loc[~dup].reset_index(drop=True), profiles
