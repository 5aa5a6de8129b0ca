"""Ingestion: OCO-2/OCO-3 L2 Lite FP NetCDF4 files and the volunteer team's
CSV archive -> one quality-screened, along-track-sorted :class:`Track` per orbit.

Files are streamed one at a time (:func:`iter_tracks`); nothing loads a year.
A file that cannot be read raises :class:`InputError` naming the file and the
reason, so the pipeline can skip it, report it and carry on.

Track table columns (units in the names)::

    sounding_id (int64), time_utc (datetime64[ns, UTC]), latitude, longitude (deg),
    xco2_ppm, xco2_unc_ppm, footprint, operation_mode, land_water,
    altitude_m, wind_u_m_s, wind_v_m_s, psurf_hpa, tcwv_kg_m2, along_km
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from builder.config import Ingest
from builder.errors import InputError, exc_line
from builder.ingestcheck import dedupe_soundings, file_day, outside_day, preflight_lite
from builder.litefmt import PSURF_APRIORI_NAMES

TRACK_COLUMNS = [
    "sounding_id", "time_utc", "latitude", "longitude", "xco2_ppm", "xco2_unc_ppm", "footprint",
    "operation_mode", "land_water", "altitude_m", "wind_u_m_s", "wind_v_m_s", "psurf_hpa",
    "tcwv_kg_m2", "along_km",
]

#: Nominal OCO-2/OCO-3 ground-track speed, used when a track is too short to measure it.
GROUND_SPEED_KM_S = 6.76

LITE_PATTERN = re.compile(r"^oco([23])_LtCO2_(\d{6})_.*\.nc4?$", re.IGNORECASE)
CSV_SUFFIXES = (".csv", ".csv.bz2", ".csv.gz")

SEED_CSV_COLUMNS = [
    "sounding_id", "latitude", "longitude", "xco2", "xco2_uncert", "orbit", "windspeed_u", "windspeed_v",
    "surface_pressure_apriori", "surface_pressure", "altitude", "land_water_indicator", "land_fraction",
    "tcwv", "tcwv_apriori", "tcwv_uncertainty",
]


@dataclass
class Track:
    """Good soundings of one orbit, sorted along track."""

    orbit: int
    instrument: str          # "OCO-2" or "OCO-3"
    source_file: str         # file name (not path), for provenance and cache keys
    soundings: pd.DataFrame  # TRACK_COLUMNS
    simulated: bool = False  # the file says so (global attribute simulated="true")

    @property
    def n(self) -> int:
        return len(self.soundings)

    @property
    def length_km(self) -> float:
        a = self.soundings["along_km"].to_numpy()
        return float(a[-1] - a[0]) if len(a) else 0.0


def instrument_of(path: str | Path) -> str:
    m = LITE_PATTERN.match(Path(path).name)
    return f"OCO-{m.group(1)}" if m else "OCO-2"


def find_input_files(folder: str | Path) -> list[Path]:
    """Lite (.nc4/.nc) and CSV archive files under ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.exists():
        return []
    root = folder.resolve()
    out = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
           and (p.suffix.lower() in (".nc4", ".nc") or p.name.lower().endswith(CSV_SUFFIXES))]
    inside = [p for p in out if root in p.resolve().parents]  # symlinks out of the data folder are not followed
    if len(inside) < len(out):
        import logging

        logging.getLogger("atlas").warning("not following %d symlink(s) that lead out of %s", len(out) - len(inside),
                                           folder.name)
    return sorted(inside, key=lambda p: (p.name, str(p)))


def sounding_time(sounding_id: np.ndarray) -> pd.DatetimeIndex:
    """UTC time from sounding ids (YYYYMMDDhhmmss + tenth-of-second digit + footprint digit)."""
    sid = np.asarray(sounding_id, dtype=np.int64)
    stamp = (sid // 100).astype(str)
    t = pd.to_datetime(stamp, format="%Y%m%d%H%M%S", utc=True, errors="coerce")
    tenths = (sid // 10) % 10
    return t + pd.to_timedelta(tenths * 100, unit="ms")


#: Physically possible ranges of the meteorology; values outside (e.g. fill values of another
#: convention such as -9999 without a _FillValue attribute) become NaN instead of absurd emissions.
PLAUSIBLE = {"wind_u_m_s": (-100.0, 100.0), "wind_v_m_s": (-100.0, 100.0), "psurf_hpa": (250.0, 1150.0),
             "tcwv_kg_m2": (0.0, 150.0), "altitude_m": (-500.0, 9000.0)}


def _screen(df: pd.DataFrame, cfg: Ingest, qflag: np.ndarray | None) -> pd.DataFrame:
    """Quality screening; returns the kept rows (implausible meteorology set to NaN, longitudes
    given as 0..360 brought to -180..180)."""
    for col, (lo, hi) in PLAUSIBLE.items():
        if col in df:
            v = df[col].to_numpy(float)
            with np.errstate(invalid="ignore"):
                df[col] = np.where((v >= lo) & (v <= hi), v, np.nan)
    lon = df["longitude"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        df["longitude"] = np.where((lon > 180) & (lon <= 360), lon - 360.0, lon)
    ok = np.isfinite(df["xco2_ppm"].to_numpy()) & np.isfinite(df["latitude"].to_numpy()) \
        & np.isfinite(df["longitude"].to_numpy())
    ok &= df["latitude"].between(-90, 90).to_numpy() & df["longitude"].between(-180, 360).to_numpy()
    ok &= df["xco2_ppm"].between(300, 600).to_numpy()
    unc = df["xco2_unc_ppm"].to_numpy()
    ok &= np.isfinite(unc) & (unc > 0) & (unc <= cfg.max_xco2_unc_ppm)
    if qflag is not None:
        ok &= qflag <= cfg.max_quality_flag
    if "operation_mode" in df and cfg.operation_modes:
        ok &= np.isin(df["operation_mode"].to_numpy(), cfg.operation_modes)
    if cfg.land_only:
        ok &= df["land_water"].to_numpy() == 0
    ok &= df["time_utc"].notna().to_numpy()
    return df.loc[ok]


def along_track_km(time_utc: pd.Series, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Along-track coordinate [km] from time x the measured ground speed.

    Distances between consecutive soundings zig-zag across the 8-footprint
    swath; time does not. The ground speed is measured per orbit from frame
    pairs less than 5 s apart (median), falling back to the nominal 6.76 km/s.
    """
    from builder.physics import haversine_km

    if len(time_utc) < 2:
        return np.zeros(len(time_utc))
    t = (pd.to_datetime(time_utc, utc=True) - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()
    t0 = t.min()
    speed = GROUND_SPEED_KM_S
    # frame centres: soundings sharing a time stamp
    frame_t, inverse = np.unique(np.round(t, 1), return_inverse=True)
    if len(frame_t) >= 10:
        counts = np.bincount(inverse)
        flat = np.bincount(inverse, latitude) / counts
        flon = np.bincount(inverse, np.unwrap(np.radians(longitude))) / counts
        dt = np.diff(frame_t)
        d = haversine_km(flat[:-1], np.degrees(flon[:-1]), flat[1:], np.degrees(flon[1:]))
        sel = (dt > 1.0) & (dt < 5.0)
        if sel.sum() >= 5:
            est = float(np.median(d[sel] / dt[sel]))
            if 5.5 < est < 8.0:
                speed = est
    return (t - t0) * speed


def _tracks_from_table(df: pd.DataFrame, instrument: str, source_file: str, orbits: np.ndarray,
                       cfg: Ingest, simulated: bool = False) -> Iterator[Track]:
    orbits = np.asarray(orbits)
    if orbits.dtype.kind == "f":  # a fill value read as NaN: no orbit, no track
        ok = np.isfinite(orbits)
        df, orbits = df.loc[ok], orbits[ok]
    if df.empty:
        return
    # one stable sort by (orbit, time, footprint), then contiguous slices: no scan of the file per orbit
    t = df["time_utc"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.lexsort((df["footprint"].to_numpy(), t, orbits))
    df, orbits = df.iloc[order].reset_index(drop=True), orbits[order]
    starts = np.flatnonzero(np.r_[True, orbits[1:] != orbits[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(orbits)]):
        orbit = orbits[a]
        sub = df.iloc[a:b].reset_index(drop=True)
        sub["along_km"] = along_track_km(sub["time_utc"], sub["latitude"].to_numpy(), sub["longitude"].to_numpy())
        yield Track(orbit=int(orbit), instrument=instrument, source_file=source_file, soundings=sub[TRACK_COLUMNS],
                    simulated=simulated)


def _read_var(ds, name: str, n: int, required: bool, path: Path, group: str) -> np.ndarray:
    if name not in ds.variables:
        if required:
            raise InputError(path, f"variable {group + '/' if group else ''}{name} missing")
        return np.full(n, np.nan)
    try:
        v = _decoded(ds.variables[name])
    except (OSError, RuntimeError, ValueError, KeyError) as exc:  # corrupt chunks fail here
        raise InputError(path, f"variable {group + '/' if group else ''}{name} unreadable, file corrupt? "
                               f"({exc_line(exc, path)})") from None
    if v.shape != (n,):
        raise InputError(path, f"variable {group + '/' if group else ''}{name} has shape {v.shape}, expected ({n},)")
    return v


def _decoded(var) -> np.ndarray:
    """A netCDF4 variable's values as xarray's CF decoding (mask_and_scale) gives them: values equal
    to ``_FillValue`` / ``missing_value`` become NaN, integers with a fill value become float32
    (1-2 byte) or float64. Read with netCDF4 directly: xarray's dataset machinery cost 4x the read
    itself per file. A variable with packing attributes (scale_factor, add_offset, _Unsigned;
    not used by Lite files) is decoded by xarray itself, so the rules stay xarray's."""
    attrs = set(var.ncattrs())
    if attrs & {"scale_factor", "add_offset", "_Unsigned"}:
        import xarray as xr

        return xr.conventions.decode_cf_variable(var.name, xr.Variable(var.dimensions, _raw(var),
                                                                       {a: var.getncattr(a) for a in attrs}),
                                                 decode_times=False).values
    raw = _raw(var)
    fills = [np.asarray(var.getncattr(a)).ravel() for a in ("_FillValue", "missing_value") if a in attrs]
    if not fills:
        return raw
    if raw.dtype.kind in "iu":
        raw = raw.astype(np.float32 if raw.dtype.itemsize <= 2 else np.float64)
    elif raw.dtype.kind != "f":
        return raw
    else:
        raw = raw.copy()
    bad = np.zeros(raw.shape, bool)
    for f in np.concatenate(fills).astype(raw.dtype):
        bad |= np.isnan(raw) if np.isnan(f) else raw == f
    raw[bad] = np.nan
    return raw


def _raw(var) -> np.ndarray:
    var.set_auto_maskandscale(False)
    return np.asarray(var[:])


def _open_group(path: Path, opened: list, group: str | None, required: bool = True):
    """The file's root (``group`` None; opened once into ``opened``) or one of its groups; a
    missing or unreadable one is an InputError (None for an optional group)."""
    import netCDF4

    try:
        if not opened:
            opened.append(netCDF4.Dataset(path, "r"))
        ds = opened[0]
        if group:
            ds = ds.groups.get(group)
            if ds is None:
                raise OSError(f"no group {group!r}")
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if group and not required:
            return None
        what = f"group {group!r} missing or unreadable" if group else "not a readable NetCDF4/HDF5 file"
        raise InputError(path, f"{what} ({exc_line(exc, path)})") from None
    return ds


def read_lite(path: str | Path, cfg: Ingest | None = None, notes: list[str] | None = None) -> list[Track]:
    """Read one OCO-2/OCO-3 L2 Lite FP NetCDF4 file (v9/v10/v11/v11.1) with netCDF4 (decoded as xarray would).

    Returns the file's quality-screened tracks, one per orbit (usually ~14).
    Raises :class:`InputError` for anything that is not a readable Lite file; the header is
    checked first (builder/ingestcheck.py). Soundings dropped for a reason the user should know
    (repeated ids, times outside the file's date) are described in ``notes``.
    """
    cfg = cfg or Ingest()
    path = Path(path)
    _, simulated = preflight_lite(path, cfg.max_soundings_per_file)
    opened = []

    def open_group(group: str | None, required: bool = True):
        return _open_group(path, opened, group, required)

    try:
        root = open_group(None)
        if "sounding_id" not in root.variables:
            raise InputError(path, "variable sounding_id missing (not an OCO Lite file?)")
        try:
            sid = np.asarray(_decoded(root.variables["sounding_id"]), dtype=np.int64).ravel()
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            raise InputError(path, f"variable sounding_id unreadable, file corrupt? ({type(exc).__name__})") from None
        df, orbit, qf = _lite_table(root, open_group("Sounding"), open_group("Meteorology"),
                                    open_group("Retrieval"), sid, path)
    finally:
        for ds in opened:
            ds.close()
    qf = np.where(np.isfinite(qf), qf, 99)
    df = _check_rows(df, path, notes)
    keep = _screen(df, cfg, qf[df.index.to_numpy()])
    return list(_tracks_from_table(keep, instrument_of(path), path.name, orbit[keep.index.to_numpy()], cfg,
                                   simulated))


def _lite_table(root, snd, met, ret, sid: np.ndarray, path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The soundings of an opened Lite file (root and its Sounding, Meteorology, Retrieval
    groups) as one table, with each sounding's orbit and quality flag."""
    n = len(sid)
    lat = _read_var(root, "latitude", n, True, path, "")
    lon = _read_var(root, "longitude", n, True, path, "")
    xco2 = _read_var(root, "xco2", n, True, path, "")
    unc = _read_var(root, "xco2_uncertainty", n, True, path, "")
    qf = _read_var(root, "xco2_quality_flag", n, True, path, "")
    if "time" in root.variables:
        secs = _read_var(root, "time", n, True, path, "").astype(float)
        time = pd.to_datetime(np.where(np.isfinite(secs), secs, np.nan), unit="s", utc=True, errors="coerce")
    else:
        time = sounding_time(sid)
    orbit = _read_var(snd, "orbit", n, True, path, "Sounding")
    fp = _read_var(snd, "footprint", n, False, path, "Sounding")
    fp = np.where(np.isfinite(fp), fp, sid % 10)
    psurf = _read_var(ret, "psurf", n, False, path, "Retrieval")
    if not np.isfinite(psurf).any():
        for name in PSURF_APRIORI_NAMES:
            if name in met.variables:
                psurf = _read_var(met, name, n, True, path, "Meteorology")
                break
    df = pd.DataFrame({
        "sounding_id": sid,
        "time_utc": time,
        "latitude": lat.astype(float),
        "longitude": lon.astype(float),
        "xco2_ppm": xco2.astype(float),
        "xco2_unc_ppm": unc.astype(float),
        "footprint": fp.astype(int),
        "operation_mode": np.nan_to_num(_read_var(snd, "operation_mode", n, False, path, "Sounding"), nan=0).astype(int),
        "land_water": np.nan_to_num(_read_var(snd, "land_water_indicator", n, False, path, "Sounding"), nan=0).astype(int),
        "altitude_m": _read_var(snd, "altitude", n, False, path, "Sounding").astype(float),
        "wind_u_m_s": _read_var(met, "windspeed_u_met", n, True, path, "Meteorology").astype(float),
        "wind_v_m_s": _read_var(met, "windspeed_v_met", n, True, path, "Meteorology").astype(float),
        "psurf_hpa": psurf.astype(float),
        "tcwv_kg_m2": _read_var(ret, "tcwv", n, False, path, "Retrieval").astype(float),
    })
    return df, np.asarray(orbit), qf


def _check_rows(df: pd.DataFrame, path: Path, notes: list[str] | None) -> pd.DataFrame:
    """Repeated soundings counted once; times outside the file's date (+-1 day) dropped; both said in ``notes``."""
    df, n_dup = dedupe_soundings(df)
    if n_dup and notes is not None:
        notes.append(f"{n_dup:,} repeated soundings (same sounding_id) counted once")
    day = file_day(path)
    bad = outside_day(df["time_utc"], day)
    if bad.any():
        n_t = int(df["time_utc"].notna().sum())
        if bad.sum() == n_t:
            raise InputError(path, f"all {n_t:,} sounding times lie outside the file's date {day:%Y-%m-%d} (+-1 day)")
        df = df.copy()
        df.loc[bad, "time_utc"] = pd.NaT
        if notes is not None:
            notes.append(f"{int(bad.sum()):,} soundings with times outside the file's date {day:%Y-%m-%d} "
                         "(+-1 day) dropped")
    return df


def read_seed_csv(path: str | Path, cfg: Ingest | None = None, notes: list[str] | None = None) -> list[Track]:
    """Read the volunteer team's ``;``-separated CSV archive (optionally .bz2/.gz).

    Columns: sounding_id;latitude;longitude;xco2;xco2_uncert;orbit;windspeed_u;
    windspeed_v;surface_pressure_apriori;surface_pressure;altitude;
    land_water_indicator;land_fraction;tcwv;tcwv_apriori;tcwv_uncertainty
    and optionally ``flag`` (xco2_quality_flag; absent = already screened).
    """
    cfg = cfg or Ingest()
    path = Path(path)
    try:
        raw = pd.read_csv(path, sep=";", low_memory=False, nrows=cfg.max_soundings_per_file + 1)
    except (OSError, EOFError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(path, f"not a readable ';'-separated CSV ({exc_line(exc, path)})") from None
    missing = [c for c in ("sounding_id", "latitude", "longitude", "xco2", "xco2_uncert", "orbit",
                           "windspeed_u", "windspeed_v") if c not in raw.columns]
    if missing:
        hint = " (wrong separator? expected ';')" if len(raw.columns) == 1 else ""
        raise InputError(path, f"missing columns {', '.join(missing)}{hint}")
    if raw.empty:
        return []
    if len(raw) > cfg.max_soundings_per_file:
        raise InputError(path, f"holds more than [ingest] max_soundings_per_file = {cfg.max_soundings_per_file:,} "
                               "soundings; not read")
    num = raw.apply(pd.to_numeric, errors="coerce")
    sid = num["sounding_id"]
    bad_id = sid.isna()
    num = num.loc[~bad_id]
    sid = num["sounding_id"].astype(np.int64).to_numpy()
    psurf = num["surface_pressure"] if "surface_pressure" in num else num.get("surface_pressure_apriori")
    df = pd.DataFrame({
        "sounding_id": sid,
        "time_utc": sounding_time(sid),
        "latitude": num["latitude"].to_numpy(float),
        "longitude": num["longitude"].to_numpy(float),
        "xco2_ppm": num["xco2"].to_numpy(float),
        "xco2_unc_ppm": num["xco2_uncert"].to_numpy(float),
        "footprint": (sid % 10).astype(int),
        "operation_mode": np.zeros(len(sid), dtype=int),
        "land_water": num.get("land_water_indicator", pd.Series(0, index=num.index)).fillna(0).to_numpy(int),
        "altitude_m": num.get("altitude", pd.Series(np.nan, index=num.index)).to_numpy(float),
        "wind_u_m_s": num["windspeed_u"].to_numpy(float),
        "wind_v_m_s": num["windspeed_v"].to_numpy(float),
        "psurf_hpa": (psurf.to_numpy(float) if psurf is not None else np.full(len(sid), np.nan)),
        "tcwv_kg_m2": num.get("tcwv", pd.Series(np.nan, index=num.index)).to_numpy(float),
    })
    qf = num["flag"].fillna(99).to_numpy() if "flag" in num else None
    df = _check_rows(df, path, notes)
    keep = _screen(df, cfg, qf[df.index.to_numpy()] if qf is not None else None)
    orbit = num["orbit"].to_numpy()[keep.index.to_numpy()]
    ok = np.isfinite(orbit)
    keep, orbit = keep.loc[ok], orbit[ok].astype(np.int64)
    return list(_tracks_from_table(keep.reset_index(drop=True), "OCO-2", path.name, orbit, cfg))


def read_file(path: str | Path, cfg: Ingest | None = None, notes: list[str] | None = None) -> list[Track]:
    """Dispatch on the file name: CSV archive or Lite NetCDF4."""
    path = Path(path)
    if path.name.lower().endswith(CSV_SUFFIXES):
        return read_seed_csv(path, cfg, notes)
    return read_lite(path, cfg, notes)


def iter_tracks(paths, cfg: Ingest | None = None, errors: list | None = None) -> Iterator[Track]:
    """Stream tracks file by file. Bad files are appended to ``errors`` (as
    :class:`InputError`) and skipped; without ``errors`` they raise."""
    for p in paths:
        try:
            tracks = read_file(p, cfg)
        except InputError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        yield from tracks
