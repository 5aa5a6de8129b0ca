"""The OCO-2/OCO-3 L2 Lite FP NetCDF4 layout, shared by the reader and the
simulator's writer so both agree on names, groups, types and fill values.

Layout after the OCO-2 Data Product User's Guide (Lite files, v10/v11) and
real granules (file name ``oco2_LtCO2_YYMMDD_B11210Ar_<production>s.nc4``):
root dimension ``sounding_id``; root variables ``sounding_id``, ``latitude``,
``longitude``, ``time`` (s since 1970-01-01), ``xco2``, ``xco2_uncertainty``,
``xco2_quality_flag``; groups ``Sounding``, ``Meteorology``, ``Retrieval``.
The a-priori surface pressure is ``Meteorology/psurf_apriori`` in v9 and
``psurf_apriori_o2a`` (plus ``_sco2``, ``_wco2``) from v10 on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FLOAT_FILL = np.float32(-999999.0)
INT_FILL = -99999

#: (group, variable) -> (dtype, units, long_name). Group "" is the root.
LITE_VARIABLES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("", "sounding_id"): ("i8", "1", "sounding ID: YYYYMMDDhhmmss, tenths of a second, footprint"),
    ("", "latitude"): ("f4", "degrees_north", "latitude at the footprint centre"),
    ("", "longitude"): ("f4", "degrees_east", "longitude at the footprint centre"),
    ("", "time"): ("f8", "seconds since 1970-01-01 00:00:00", "sounding time"),
    ("", "xco2"): ("f4", "ppm", "bias-corrected XCO2"),
    ("", "xco2_uncertainty"): ("f4", "ppm", "XCO2 posterior error"),
    ("", "xco2_quality_flag"): ("i1", "1", "0=good, 1=bad"),
    ("", "solar_zenith_angle"): ("f4", "degrees", "solar zenith angle"),
    ("Sounding", "orbit"): ("i4", "1", "orbit number"),
    ("Sounding", "footprint"): ("i1", "1", "footprint 1-8"),
    ("Sounding", "operation_mode"): ("i1", "1", "0=Nadir, 1=Glint, 2=Target, 3=Transition, 4=SAM"),
    ("Sounding", "land_water_indicator"): ("i1", "1", "0=land, 1=water, 2=inland water, 3=mixed"),
    ("Sounding", "land_fraction"): ("f4", "percent", "land fraction"),
    ("Sounding", "altitude"): ("f4", "m", "surface altitude"),
    ("Meteorology", "windspeed_u_met"): ("f4", "m s-1", "10 m eastward wind (GEOS FP-IT)"),
    ("Meteorology", "windspeed_v_met"): ("f4", "m s-1", "10 m northward wind (GEOS FP-IT)"),
    ("Meteorology", "psurf_apriori_o2a"): ("f4", "hPa", "a priori surface pressure (O2A band)"),
    ("Retrieval", "psurf"): ("f4", "hPa", "retrieved surface pressure"),
    ("Retrieval", "tcwv"): ("f4", "kg m-2", "total column water vapour"),
    ("Retrieval", "tcwv_apriori"): ("f4", "kg m-2", "a priori total column water vapour"),
    ("Retrieval", "tcwv_uncertainty"): ("f4", "kg m-2", "total column water vapour uncertainty"),
}

#: Names the a-priori surface pressure has had, newest first.
PSURF_APRIORI_NAMES = ("psurf_apriori_o2a", "psurf_apriori_sco2", "psurf_apriori_wco2", "psurf_apriori")

#: Lite version -> build id prefix used in file names.
BUILD_IDS = {"9r": "B9213Ar", "10r": "B10206Ar", "11r": "B11014Ar", "11.1r": "B11210Ar", "10.4r": "B10400Ar"}


def lite_filename(day, instrument: str = "OCO-2", version: str = "11.1r", production: str = "250101000000") -> str:
    """Real-style Lite file name, e.g. ``oco2_LtCO2_180801_B11210Ar_250101000000s.nc4``."""
    prefix = "oco3" if instrument.upper().replace("-", "") == "OCO3" else "oco2"
    d = np.datetime64(day, "D").astype(object)
    return f"{prefix}_LtCO2_{d:%y%m%d}_{BUILD_IDS.get(version, 'B11210Ar')}_{production}s.nc4"


def write_lite(path: str | Path, columns: dict[str, np.ndarray], *, version: str = "11.1r",
               instrument: str = "OCO-2", attrs: dict[str, str] | None = None) -> Path:
    """Write a Lite-format NetCDF4 file from arrays keyed by variable name.

    ``columns`` uses the Lite variable names (``xco2``, ``orbit``, ``psurf`` ...);
    NaN in float variables is written as the Lite fill value. For ``version``
    "9r" the a-priori pressure is written as ``psurf_apriori`` (the v9 name).
    The file is written to a temporary name and renamed, so a reader never sees
    half a file.
    """
    import netCDF4

    path = Path(path)
    n = len(columns["sounding_id"])
    tmp = path.with_name(path.name + ".part")
    with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
        ds.setncattr("title", f"{instrument} Level 2 bias-corrected XCO2 and other select fields from the "
                              "full-physics retrieval aggregated as daily files")
        ds.setncattr("ShortName", ("OCO3" if instrument.upper().endswith("3") else "OCO2") + "_L2_Lite_FP")
        ds.setncattr("VersionID", version)
        ds.setncattr("BuildId", BUILD_IDS.get(version, "B11210Ar"))
        for k, v in (attrs or {}).items():
            ds.setncattr(k, v)
        ds.createDimension("sounding_id", n)
        groups = {"": ds}
        for (group, name), (dtype, units, long_name) in LITE_VARIABLES.items():
            if name not in columns:
                continue
            if group not in groups:
                groups[group] = ds.createGroup(group)
            out_name = "psurf_apriori" if (name == "psurf_apriori_o2a" and version.startswith("9")) else name
            fill = FLOAT_FILL if dtype.startswith("f") and name not in ("time",) else None
            var = groups[group].createVariable(out_name, dtype, ("sounding_id",), zlib=True, complevel=1,
                                               fill_value=fill)
            var.setncattr("units", units)
            var.setncattr("long_name", long_name)
            values = np.asarray(columns[name])
            if fill is not None:
                values = np.where(np.isfinite(values), values, fill)
            var[:] = values.astype(dtype)
    tmp.replace(path)
    return path
