"""Checks on one input file before and while it is read (issue 13).

* :func:`preflight_lite` opens a Lite file's header only (netCDF4, no data read) and refuses it,
  with one :class:`~builder.soundings.InputError` line, if it declares more soundings than
  ``[ingest] max_soundings_per_file`` (a 25 kB file may declare 400 M), or if a variable the reader
  needs is not numeric, has the wrong shape, or carries a non-numeric ``scale_factor``,
  ``add_offset``, ``_FillValue`` or ``missing_value`` attribute.
* :func:`file_day` is the date in a Lite file name; :func:`outside_day` marks sounding times more
  than one day away from it (times in 1970 or 2100 in a file named 180801).
* :func:`dedupe_soundings` keeps one row per valid ``sounding_id`` (the first); invalid ids
  (zero, negative, not a time stamp) are never merged.
* :func:`is_simulated` reads the file's own ``simulated`` global attribute (the simulator writes
  ``simulated="true"``): provenance comes from the data, not from a ``truth.csv`` beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

#: Variables the Lite reader needs: (group, name, required).
LITE_NEEDED = [
    ("", "sounding_id", True), ("", "latitude", True), ("", "longitude", True), ("", "xco2", True),
    ("", "xco2_uncertainty", True), ("", "xco2_quality_flag", True), ("", "time", False),
    ("Sounding", "orbit", True), ("Sounding", "footprint", False), ("Sounding", "operation_mode", False),
    ("Sounding", "land_water_indicator", False), ("Sounding", "altitude", False),
    ("Meteorology", "windspeed_u_met", True), ("Meteorology", "windspeed_v_met", True),
    ("Meteorology", "psurf_apriori_o2a", False), ("Meteorology", "psurf_apriori_sco2", False),
    ("Meteorology", "psurf_apriori_wco2", False), ("Meteorology", "psurf_apriori", False),
    ("Retrieval", "psurf", False), ("Retrieval", "tcwv", False),
]
_NUMERIC_ATTRS = ("scale_factor", "add_offset", "_FillValue", "missing_value")
_TRUE = {"true", "1", "yes"}


def preflight_lite(path: Path, max_soundings: int) -> tuple[int, bool]:
    """Header checks of a Lite file; returns (declared soundings, simulated). Raises InputError."""
    import netCDF4

    from builder.errors import InputError, exc_line

    try:
        ds = netCDF4.Dataset(path, "r")
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError(path, f"not a readable NetCDF4/HDF5 file ({exc_line(exc, path)})") from None
    try:
        ds.set_auto_maskandscale(False)
        if "sounding_id" not in ds.variables:
            raise InputError(path, "variable sounding_id missing (not an OCO Lite file?)")
        sid = ds.variables["sounding_id"]
        n = int(np.prod(sid.shape)) if sid.shape else 1
        if n > max_soundings:
            raise InputError(path, f"declares {n:,} soundings, more than [ingest] max_soundings_per_file "
                                   f"= {max_soundings:,}; not read")
        for group, name, required in LITE_NEEDED:
            g = ds.groups.get(group) if group else ds
            if g is None or name not in g.variables:
                continue  # a missing group or variable is reported by the reader itself
            v = g.variables[name]
            where = f"{group + '/' if group else ''}{name}"
            kind = np.dtype(v.dtype).kind if not isinstance(v.dtype, type) else "O"
            if kind not in "iuf":
                raise InputError(path, f"variable {where} is stored as {_dtype_name(v.dtype)}, not as numbers")
            if tuple(v.shape) != (n,):
                raise InputError(path, f"variable {where} has shape {tuple(v.shape)}, expected ({n},)")
            for attr in _NUMERIC_ATTRS:
                if attr in v.ncattrs():
                    value = np.asarray(v.getncattr(attr))
                    if value.dtype.kind not in "iuf" or value.size != 1:
                        raise InputError(path, f"variable {where} has a non-numeric {attr} attribute "
                                               f"({str(v.getncattr(attr))[:30]!r})")
        simulated = str(ds.__dict__.get("simulated", "")).strip().lower() in _TRUE
        return n, simulated
    except InputError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise InputError(path, f"header unreadable, file corrupt? ({exc_line(exc, path)})") from None
    finally:
        ds.close()


def _dtype_name(dtype) -> str:
    if dtype is str or isinstance(dtype, type):
        return "text"
    kind = np.dtype(dtype).kind
    return {"S": "text", "U": "text", "O": "text"}.get(kind, str(dtype))


def is_simulated(attrs: dict) -> bool:
    return str(attrs.get("simulated", "")).strip().lower() in _TRUE


_DAY = re.compile(r"_LtCO2_(\d{6})_", re.IGNORECASE)


def file_day(path: str | Path) -> pd.Timestamp | None:
    """The UTC date in a Lite file name (``oco2_LtCO2_180801_...`` -> 2018-08-01), else None."""
    m = _DAY.search(Path(path).name)
    if not m:
        return None
    t = pd.to_datetime(m.group(1), format="%y%m%d", utc=True, errors="coerce")
    return None if pd.isna(t) else t


def outside_day(time_utc, day: pd.Timestamp | None) -> np.ndarray:
    """True where a (non-missing) time lies more than one day before or after the file's date."""
    t = pd.to_datetime(pd.Series(time_utc), utc=True)
    if day is None:
        return np.zeros(len(t), dtype=bool)
    lo, hi = day - pd.Timedelta(days=1), day + pd.Timedelta(days=2)
    return (t.notna() & ((t < lo) | (t >= hi))).to_numpy()


def valid_ids(sounding_id: np.ndarray) -> np.ndarray:
    """Ids that can be a sounding's: YYYYMMDDhhmmss + 2 digits, a plausible year."""
    sid = np.asarray(sounding_id, dtype=np.int64)
    year = sid // 10**12
    return (sid > 0) & (year >= 1990) & (year <= 2100)


def dedupe_soundings(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop repeated soundings (same valid ``sounding_id``; the first is kept). Returns (df, n_dropped)."""
    sid = df["sounding_id"].to_numpy(np.int64)
    dup = pd.Series(sid).duplicated().to_numpy() & valid_ids(sid)
    n = int(dup.sum())
    return (df.loc[~dup] if n else df), n
