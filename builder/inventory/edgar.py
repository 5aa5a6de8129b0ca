"""EDGAR v8 0.1-degree annual grids: one ``grid_cell`` source per cell above a threshold."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from builder.errors import InputError, Problems, one_line
from builder.inventory.common import STAGE, unzipped, validate_rows, finish

#: EDGAR cells emitting at least this much become grid_cell sources by default.
EDGAR_MIN_T_YR = 1.0e6


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


def read_edgar(path: str | Path, problems: Problems | None = None, min_t_yr: float = EDGAR_MIN_T_YR) -> pd.DataFrame:
    """EDGAR v8 0.1-degree annual ``_emi.nc`` (variable ``emissions`` in Tonnes per
    cell per year, coords lat/lon) -> one ``grid_cell`` source per cell >= ``min_t_yr``.

    Negative cells are reported (one summary item) and never kept. ``_flx.nc``
    files (kg m-2 s-1) are refused with a clear message.
    """
    import xarray as xr

    path = Path(path)
    problems = Problems.of(problems)
    with unzipped(path, (".nc", ".nc4")) as nc_path:
        values, lats, lons, year, substance = _edgar_grid(xr, nc_path, path.name)
    if year is None and (m := re.search(r"_((?:19|20)\d{2})_", path.name)):
        year = int(m.group(1))
    n_neg = int(np.sum(values < 0))
    if n_neg:
        problems.add(path.name, f"{n_neg} cells with negative emissions not used", STAGE)
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
    kept = validate_rows(df, path.name, np.arange(len(df)) + 1, problems)
    try:
        year = int(year) if year is not None else pd.NA
    except (TypeError, ValueError):
        year = pd.NA
    return finish(kept, kind="grid_cell", fuel=substance, inventory="EDGAR v8.0", inventory_year=year)
