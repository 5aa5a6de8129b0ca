"""ODIAC, the Open-source Data Inventory for Anthropogenic CO2 (Oda and Maksyutov
2011, ACP 11, 543, doi:10.5194/acp-11-543-2011; Oda et al. 2018, ESSD 10, 87-107,
doi:10.5194/essd-10-87-2018; data: Oda and Maksyutov 2015, doi:10.17595/20170411.001,
CC BY 4.0 per https://db.cger.nies.go.jp/dataset/ODIAC/data_policy.html).

Formats read (ODIAC README, e.g. readme_2023_20240605.txt on db.cger.nies.go.jp):

- **1 km monthly GeoTIFF** ``odiac<VER>_1km_excl_intl_<YYMM>.tif`` (or ``.tif.gz``
  as distributed): one band, float32, EPSG:4326, 30 arc-second cells, global
  43200 x 21600, north up. Values: **tonnes of carbon per cell per month**, land
  only (international aviation and marine bunkers excluded). Cells equal to the
  file's nodata value (or NaN) count as no emission.
- **1 x 1 degree NetCDF** ``odiac<VER>_1x1d_<YYYY>.nc``: variables ``land`` and
  ``intl_bunker`` (month, lat, lon) in **g C m-2 day-1** (monthly means). Only
  ``land`` is used: bunker emissions are ship and aircraft tracks, not sources a
  plume can be traced to (and the 1 km product leaves them out as well).

Unit conversion (explicit, one place each):

- carbon to CO2: x 44.01 / 12.011 (molar masses, :data:`C_TO_CO2`);
- GeoTIFF: t C per cell per month -> kg CO2/s = v x C_TO_CO2 x 1000 / (days in that
  month x 86400); NetCDF: g C m-2 d-1 -> kg CO2/s per cell = v x cell area [m2] x
  C_TO_CO2 / 1000 / 86400, with the spherical cell area R^2 dlon (sin lat1 - sin lat0);
- the Source table holds t CO2/yr: the rate x SECONDS_PER_YEAR / 1000, i.e. one
  month's file is that month's rate expressed per year (flat temporal profile).

A real 1 km file is 3.7 GB of float32: it is read through rioxarray (lazy, windowed)
in strips of rows and summed into blocks of ``factor`` x ``factor`` cells so the
result has at most ``max_cells`` cells; it never sits in memory whole.

Sources: output cells whose emission density is at least ``min_density_t_km2_yr``
(default 2,000 t CO2 km-2 yr-1 = 2 kg m-2 yr-1, the order of urban cores and of any
cell holding a power plant) are joined into 8-connected clusters (scipy.ndimage.label);
clusters emitting at least ``min_t_yr`` (default 1 Mt CO2/yr, the floor used for EDGAR
cells, builder.inventory.EDGAR_MIN_T_YR; OCO-2 plume studies quantify sources of ~4-40
Mt/yr, e.g. Nassar et al. 2017, GRL 44, 10045, so smaller hot spots are rarely seen) become
``odiac_cluster`` area sources at their emission-weighted centroid, with ``sigma_km``
(the rms distance per axis of their emission, cell width included) and ``radius_km``
(farthest cell centre plus half a cell diagonal). Clusters crossing the 180th meridian
are not joined across it.

De-duplication (:func:`deduplicate`): ODIAC places power plants at their coordinates in
a point-source database (CARMA-based; Oda et al. 2018), so a cluster holding a catalogued plant (``kind == power_plant``, any
other inventory) within ``radius_km`` + ``match_km`` (2 km: a catalogue's coordinates and
ODIAC's placement of one plant may differ by a cell or two) of its centroid would count
that plant twice.
Rule: the cluster's emission is reduced by the catalogued plants inside it - per
catalogue the sum of its plants there, and the largest of those sums (two catalogues
listing the same plant are not subtracted twice); a cluster left with less than
``min_t_yr`` is dropped. One summary line in the Problems report gives the effect.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from builder import physics
from builder.errors import InputError, Problems, one_line
from builder.physics import EARTH_RADIUS_KM, SECONDS_PER_YEAR

STAGE = "inventory"
KIND = "odiac_cluster"
C_TO_CO2 = 44.01 / 12.011             #: t CO2 per t C (molar masses of CO2 and C)
MIN_T_YR = 1.0e6                       #: smallest cluster kept [t CO2/yr]
MIN_DENSITY_T_KM2_YR = 2.0e3           #: hot-spot threshold [t CO2 km-2 yr-1]
MATCH_KM = 2.0                         #: plant-to-cluster tolerance beyond radius_km (= [attribute] site_km)
MAX_CELLS = 8_000_000                  #: output cells of a GeoTIFF read (decimation bound)
STRIP_PIXELS = 4_000_000               #: pixels per windowed read (~40 MB in flight: float32 + mask)
TIF_NAME = re.compile(r"^odiac(\d{4}[a-z]?)_1km_excl_intl_(\d{2})(\d{2})\.tiff?(\.gz)?$", re.I)
NC_NAME = re.compile(r"^odiac(\d{4}[a-z]?)_1x1d_(\d{4})\.nc(\.gz)?$", re.I)
ATTRIBUTION = ("ODIAC Fossil Fuel CO2 Emissions Dataset, Tomohiro Oda, Shamil Maksyutov (2015), Center for "
               "Global Environmental Research, National Institute for Environmental Studies, "
               "doi:10.17595/20170411.001; Oda, Maksyutov and Andres (2018), ESSD 10, 87-107, "
               "doi:10.5194/essd-10-87-2018. CC BY 4.0.")


@dataclass
class OdiacGrid:
    """An ODIAC field on a regular lat/lon grid (cell centres), as annual rates."""

    emission_t_yr: np.ndarray   #: [n_lat, n_lon] t CO2/yr per cell
    lat: np.ndarray             #: [n_lat] cell-centre latitudes, degrees
    lon: np.ndarray             #: [n_lon] cell-centre longitudes, degrees
    cell_km2: np.ndarray        #: [n_lat] area of one cell per row
    resolution_deg: float       #: cell size after decimation
    version: str                #: e.g. "ODIAC2025"
    period: str                 #: "YYYY-MM" (one month) or "YYYY" (annual mean)
    year: int
    n_negative: int = 0         #: native cells < 0, counted as 0
    #: emission-weighted offset of each cell's native 1 km cells from the cell centre, in
    #: degrees north / east (decimated GeoTIFF reads; None = at the centre)
    dlat: np.ndarray | None = None
    dlon: np.ndarray | None = None


def cell_area_km2(lat_south: np.ndarray, lat_north: np.ndarray, dlon_deg: float) -> np.ndarray:
    """Area [km2] of lat/lon cells on a sphere of radius EARTH_RADIUS_KM: R^2 dlon (sin n - sin s)."""
    s, n = np.radians(lat_south), np.radians(lat_north)
    return EARTH_RADIUS_KM ** 2 * np.radians(dlon_deg) * np.abs(np.sin(n) - np.sin(s))


def t_c_per_month_to_t_co2_yr(values, year: int, month: int) -> np.ndarray:
    """ODIAC 1 km cells [t C per cell per month] -> t CO2/yr at that month's rate."""
    seconds = calendar.monthrange(year, month)[1] * 86400.0
    return np.asarray(values, dtype=float) * C_TO_CO2 * SECONDS_PER_YEAR / seconds


def gc_m2_day_to_t_co2_yr(values, area_km2) -> np.ndarray:
    """ODIAC 1 degree cells [g C m-2 d-1] over ``area_km2`` -> t CO2/yr per cell."""
    g_c_per_s = np.asarray(values, dtype=float) * np.asarray(area_km2, dtype=float) * 1e6 / 86400.0
    return g_c_per_s * C_TO_CO2 * 1e-6 * SECONDS_PER_YEAR


# --------------------------------------------------------------------------- reading

def read_odiac_grid(path: str | Path, *, bbox: tuple[float, float, float, float] | None = None,
                    month: int | None = None, max_cells: int = MAX_CELLS) -> OdiacGrid:
    """An ODIAC GeoTIFF (1 km, one month) or NetCDF (1 degree, one year) as an :class:`OdiacGrid`.

    ``bbox`` = (lon_min, lat_min, lon_max, lat_max) reads only that window; ``month``
    (NetCDF only) picks one month instead of the day-weighted annual mean;
    ``max_cells`` bounds a GeoTIFF result (block sums of factor x factor cells).
    Raises InputError (one line) for a file that cannot be used.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path.name, "file not found")
    if TIF_NAME.match(path.name):
        return _read_tif(path, bbox, max_cells)
    if NC_NAME.match(path.name):
        return _read_nc(path, bbox, month)
    raise InputError(path.name, "not an ODIAC file name: odiacVERSION_1km_excl_intl_YYMM.tif[.gz] (1 km, "
                     "t C per cell per month) or odiacVERSION_1x1d_YYYY.nc (1 degree); the name gives the month")


def _window(centres: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    inside = np.flatnonzero((centres >= min(lo, hi)) & (centres <= max(lo, hi)))
    return (int(inside[0]), int(inside[-1]) + 1) if len(inside) else (0, 0)


def _gdal_cache_mb(source: str, name: str) -> int:
    """GDAL block cache [MB] for a strip-by-strip read: two rows of the file's blocks
    (so each tile is decompressed once), within 64-512 MB. GDAL's default (5 % of RAM)
    would otherwise fill with the whole file's tiles (1.6 GB peak for a global file)."""
    import rasterio

    try:
        with rasterio.open(source) as ds:
            block_h = ds.block_shapes[0][0]
            row_bytes = ds.width * np.dtype(ds.dtypes[0]).itemsize
    except Exception as exc:  # rasterio raises its own error types
        raise InputError(name, f"not a readable GeoTIFF: {one_line(exc)}") from None
    return int(np.clip(2 * block_h * row_bytes / 2 ** 20, 64, 512))


def _read_tif(path: Path, bbox, max_cells: int) -> OdiacGrid:
    import rasterio

    source = f"/vsigzip/{path}" if path.name.lower().endswith(".gz") else str(path)
    with rasterio.Env(GDAL_CACHEMAX=_gdal_cache_mb(source, path.name)):
        return _read_tif_strips(path, source, bbox, max_cells)


def _read_tif_strips(path: Path, source: str, bbox, max_cells: int) -> OdiacGrid:
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    m = TIF_NAME.match(path.name)
    version, yy, mm = m.group(1), int(m.group(2)), int(m.group(3))
    year = 2000 + yy if yy < 80 else 1900 + yy
    if not 1 <= mm <= 12:
        raise InputError(path.name, f"month {mm:02d} in the file name is not 01-12")
    try:
        da = rioxarray.open_rasterio(source, masked=True, cache=False)
    except Exception as exc:  # rasterio raises its own error types
        raise InputError(path.name, f"not a readable GeoTIFF: {one_line(exc)}") from None
    try:
        crs = da.rio.crs
        if crs is None or crs.to_epsg() != 4326:
            raise InputError(path.name, f"CRS {crs}, expected EPSG:4326 (ODIAC's 30 arc-second lat/lon grid)")
        if da.sizes.get("band", 1) != 1:
            raise InputError(path.name, f"{da.sizes['band']} bands, expected 1")
        da = da.isel(band=0, drop=True) if "band" in da.dims else da
        x, y = np.asarray(da["x"].values, dtype=float), np.asarray(da["y"].values, dtype=float)
        dx, dy = abs(float(da.rio.resolution()[0])), abs(float(da.rio.resolution()[1]))
        c0, c1 = (0, len(x)) if bbox is None else _window(x, bbox[0], bbox[2])
        r0, r1 = (0, len(y)) if bbox is None else _window(y, bbox[1], bbox[3])
        if c1 <= c0 or r1 <= r0:
            raise InputError(path.name, f"no cells inside bbox {bbox}")
        factor = max(1, math.ceil(math.sqrt((r1 - r0) * (c1 - c0) / max(1, max_cells))))
        factor = min(factor, r1 - r0, c1 - c0)
        # partial blocks at the south/east edges are summed too (zero-padded): no cell is left out
        n_lat, n_lon = -(-(r1 - r0) // factor), -(-(c1 - c0) // factor)
        strip = max(1, STRIP_PIXELS // (n_lon * factor * factor)) * factor
        out = np.zeros((n_lat, n_lon))
        wy = np.zeros((n_lat, n_lon), dtype=np.float32)    # sum of v x (row offset from the block centre)
        wx = np.zeros((n_lat, n_lon), dtype=np.float32)
        offset = np.arange(factor, dtype=np.float32) - (factor - 1) / 2.0
        n_neg = 0
        for s in range(0, r1 - r0, strip):  # one windowed read per strip of rows
            e = min(s + strip, r1 - r0)
            block = np.asarray(da.isel(y=slice(r0 + s, r0 + e), x=slice(c0, c1)).values, dtype=np.float32)
            block[~np.isfinite(block)] = 0.0
            n_neg += int(np.count_nonzero(block < 0))
            np.maximum(block, 0.0, out=block)
            pad = (-block.shape[0] % factor, -block.shape[1] % factor)
            if any(pad):
                block = np.pad(block, ((0, pad[0]), (0, pad[1])))
            cells = block.reshape(-1, factor, n_lon, factor)
            rows_sum = cells.sum(axis=3, dtype=float)                    # (block row, row in block, block column)
            o0, o1 = s // factor, s // factor + cells.shape[0]
            out[o0:o1] = rows_sum.sum(axis=1)
            if factor > 1:  # where in each block the emission sits (for 1 km-precise centroids)
                wy[o0:o1] = np.einsum("afb,f->ab", rows_sum, offset)
                wx[o0:o1] = np.einsum("abc,c->ab", cells.sum(axis=1, dtype=float), offset)
    except InputError:
        raise
    except Exception as exc:  # a truncated or corrupt file fails on the read, not the open
        raise InputError(path.name, f"unreadable GeoTIFF data: {one_line(exc)}") from None
    finally:
        da.close()
    step_y = float(y[1] - y[0]) if len(y) > 1 else -dy   # negative: rows run north to south
    step_x = float(x[1] - x[0]) if len(x) > 1 else dx
    lat = (y[r0] + step_y * np.arange(n_lat * factor)).reshape(n_lat, factor).mean(axis=1)
    lon = (x[c0] + step_x * np.arange(n_lon * factor)).reshape(n_lon, factor).mean(axis=1)
    res = dy * factor
    area = cell_area_km2(lat - res / 2, lat + res / 2, dx * factor)   # an edge block's padding counts as area
    with np.errstate(invalid="ignore", divide="ignore"):
        dlat = dlon = None
        if factor > 1:  # offsets in degrees, float32 in place (a global grid has 8 M cells)
            denom = np.maximum(out, 1e-30).astype(np.float32)
            wy /= denom
            wy *= step_y
            wx /= denom
            wx *= step_x
            del denom
            dlat, dlon = wy, wx
    return OdiacGrid(t_c_per_month_to_t_co2_yr(out, year, mm), lat, lon, area, res, f"ODIAC{version}",
                     f"{year}-{mm:02d}", year, n_neg, dlat, dlon)


def _read_nc(path: Path, bbox, month: int | None) -> OdiacGrid:
    import xarray as xr

    m = NC_NAME.match(path.name)
    version, year = m.group(1), int(m.group(2))
    if path.name.lower().endswith(".gz"):
        raise InputError(path.name, "gzipped NetCDF: decompress it first (gunzip)")
    try:
        ds = xr.open_dataset(path)
    except Exception as exc:  # engines raise different types
        raise InputError(path.name, f"not a readable NetCDF file: {one_line(exc)}") from None
    with ds:
        if "land" not in ds.variables:
            raise InputError(path.name, f"no variable 'land' (have: {', '.join(map(str, ds.data_vars))})")
        da = ds["land"]
        units = str(da.attrs.get("units", "")).lower().replace(" ", "")
        if units and not ("gc" in units or "g(c)" in units or "gramcarbon" in units):
            raise InputError(path.name, f"land units {da.attrs.get('units')!r}, expected g C m-2 day-1")
        lat_name = next((d for d in da.dims if str(d).lower() in ("lat", "latitude")), None)
        lon_name = next((d for d in da.dims if str(d).lower() in ("lon", "longitude")), None)
        t_dims = [d for d in da.dims if d not in (lat_name, lon_name)]
        if lat_name is None or lon_name is None or len(t_dims) != 1 or da.sizes[t_dims[0]] != 12:
            raise InputError(path.name, f"land has dims {dict(da.sizes)}; expected (month: 12, lat, lon)")
        values = np.asarray(da.transpose(t_dims[0], lat_name, lon_name).values, dtype=float)
        lat = np.asarray(da[lat_name].values, dtype=float)
        lon = (np.asarray(da[lon_name].values, dtype=float) + 180.0) % 360.0 - 180.0
    values[~np.isfinite(values)] = 0.0
    n_neg = int((values < 0).sum())
    values = np.maximum(values, 0.0)
    days = np.array([calendar.monthrange(year, k)[1] for k in range(1, 13)], dtype=float)
    if month is not None:
        if not 1 <= month <= 12:
            raise InputError(path.name, f"month {month} is not 1-12")
        flux, period = values[month - 1], f"{year}-{month:02d}"
    else:
        flux, period = np.tensordot(days, values, axes=1) / days.sum(), str(year)  # day-weighted annual mean
    if bbox is not None:
        r = (lat >= bbox[1]) & (lat <= bbox[3])
        c = (lon >= bbox[0]) & (lon <= bbox[2])
        flux, lat, lon = flux[np.ix_(r, c)], lat[r], lon[c]
    res = float(np.median(np.abs(np.diff(lat)))) if len(lat) > 1 else 1.0
    area = cell_area_km2(lat - res / 2, lat + res / 2, res)
    return OdiacGrid(gc_m2_day_to_t_co2_yr(flux, area[:, None]), lat, lon, area, res, f"ODIAC{version}",
                     period, year, n_neg)


# --------------------------------------------------------------------------- sources

def grid_sources(grid: OdiacGrid, *, min_density_t_km2_yr: float = MIN_DENSITY_T_KM2_YR,
                 min_t_yr: float = MIN_T_YR) -> pd.DataFrame:
    """Hot-spot clusters of ``grid`` (see the module docstring) as rows with source_id,
    name, latitude, longitude, emission_t_yr, sigma_km, radius_km, n_cells; vectorised."""
    from scipy import ndimage

    e = grid.emission_t_yr
    hot = e >= min_density_t_km2_yr * grid.cell_km2[:, None]
    hot &= e > 0
    labels, n = ndimage.label(hot, structure=np.ones((3, 3), dtype=bool))
    rows, cols = np.nonzero(labels)
    lab = labels[rows, cols] - 1
    w = e[rows, cols]
    lat, lon = grid.lat[rows], grid.lon[cols]
    if grid.dlat is not None:   # a decimated read: each cell's emission-weighted position
        lat, lon = lat + grid.dlat[rows, cols], lon + grid.dlon[rows, cols]
    total = np.bincount(lab, weights=w, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        lat_c = np.bincount(lab, weights=w * lat, minlength=n) / total
        lon_c = np.bincount(lab, weights=w * lon, minlength=n) / total
    k = math.pi / 180.0 * EARTH_RADIUS_KM
    dx_km = (lon - lon_c[lab]) * k * np.cos(np.radians(lat_c[lab]))
    dy_km = (lat - lat_c[lab]) * k
    r2 = dx_km ** 2 + dy_km ** 2
    cell_km = np.sqrt(grid.cell_km2[rows])
    with np.errstate(invalid="ignore", divide="ignore"):
        # per-axis variance: half the mean squared distance, plus a uniform cell's side^2 / 12
        var = np.bincount(lab, weights=w * (r2 / 2.0 + cell_km ** 2 / 12.0), minlength=n) / total
    radius = np.zeros(n)
    np.maximum.at(radius, lab, np.sqrt(r2) + cell_km / math.sqrt(2.0))
    n_cells = np.bincount(lab, minlength=n)
    keep = np.flatnonzero(total >= min_t_yr)
    la, lo = lat_c[keep], lon_c[keep]
    lat_txt = pd.Series(np.abs(la)).map("{:05.2f}".format).to_numpy(dtype=object) + np.where(la >= 0, "N", "S")
    lon_txt = pd.Series(np.abs(lo)).map("{:06.2f}".format).to_numpy(dtype=object) + np.where(lo >= 0, "E", "W")
    return pd.DataFrame({
        "source_id": "odiac-" + lat_txt + lon_txt,
        "name": "ODIAC hot spot " + lat_txt + " " + lon_txt,
        "latitude": la, "longitude": lo, "emission_t_yr": total[keep],
        "sigma_km": np.sqrt(var[keep]), "radius_km": radius[keep], "n_cells": n_cells[keep],
    })


def read_odiac(path: str | Path, problems: Problems | None = None, *, bbox=None, month: int | None = None,
               min_t_yr: float = MIN_T_YR, min_density_t_km2_yr: float = MIN_DENSITY_T_KM2_YR,
               max_cells: int = MAX_CELLS) -> pd.DataFrame:
    """An ODIAC GeoTIFF or NetCDF -> ``odiac_cluster`` sources (the Source table's
    columns plus ``sigma_km``, ``radius_km``). Catalogued plants are subtracted later,
    when all inventories are loaded (:func:`deduplicate`)."""
    from builder.inventory.common import finish, validate_rows

    path = Path(path)
    problems = Problems.of(problems)
    grid = read_odiac_grid(path, bbox=bbox, month=month, max_cells=max_cells)
    if grid.n_negative:
        problems.add(path.name, f"{grid.n_negative} cells with negative emissions counted as 0", STAGE)
    clusters = grid_sources(grid, min_density_t_km2_yr=min_density_t_km2_yr, min_t_yr=min_t_yr)
    # two clusters rounding to one id: keep both, the second with a suffix
    dup = clusters["source_id"].duplicated()
    clusters.loc[dup, "source_id"] += "-" + pd.Series(np.arange(int(dup.sum())) + 2, index=clusters.index[dup]).astype(str)
    kept = validate_rows(clusters, path.name, np.arange(len(clusters)) + 1, problems)
    res_km = grid.resolution_deg * math.pi / 180.0 * EARTH_RADIUS_KM
    out = finish(kept, kind=KIND, fuel="fossil CO2",
                 inventory=f"{grid.version} {grid.period} ({res_km:.0f} km cells)", inventory_year=grid.year)
    out["sigma_km"] = kept["sigma_km"].to_numpy(dtype=float)
    out["radius_km"] = kept["radius_km"].to_numpy(dtype=float)
    return out


def _inside(sources: pd.DataFrame, ci: np.ndarray, rows: np.ndarray, match_km: float) -> tuple[np.ndarray, np.ndarray]:
    """(k, row) pairs: ``rows`` within radius_km + match_km of cluster ``ci[k]``."""
    from scipy.spatial import cKDTree

    if not len(ci) or not len(rows):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    lat, lon = sources["latitude"].to_numpy(dtype=float), sources["longitude"].to_numpy(dtype=float)
    radius = np.nan_to_num(sources["radius_km"].to_numpy(dtype=float)[ci]) + match_km
    hits = cKDTree(physics.unit_xyz(lat[rows], lon[rows])).query_ball_point(physics.unit_xyz(lat[ci], lon[ci]),
                                                                             physics.chord(radius))
    counts = np.array([len(h) for h in hits], dtype=int)
    if not counts.any():
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return np.repeat(np.arange(len(ci)), counts), rows[np.concatenate([np.asarray(h, dtype=int) for h in hits])]


def deduplicate(sources: pd.DataFrame, problems: Problems, min_t_yr: float = MIN_T_YR,
                match_km: float = MATCH_KM) -> pd.DataFrame:
    """Subtract catalogued plants from the ODIAC clusters that hold them (rule in the
    module docstring); drop clusters left below ``min_t_yr``. One summary line in
    ``problems`` states the effect; another counts clusters that also hold a city of a
    cities inventory (both kept: two estimates of one emission, see dataset/README.md).
    Other rows are returned unchanged."""
    kind = sources["kind"].astype(str).to_numpy() if "kind" in sources else np.zeros(0, dtype=object)
    ci = np.flatnonzero(kind == KIND)
    if not len(ci) or "radius_km" not in sources:
        return sources
    emis = sources["emission_t_yr"].to_numpy(dtype=float)
    k, prow = _inside(sources, ci, np.flatnonzero((kind == "power_plant") & np.isfinite(emis)), match_km)
    per = pd.DataFrame({"k": k, "cat": sources["inventory"].astype(str).to_numpy()[prow], "e": emis[prow]})
    sums = per.groupby(["k", "cat"])["e"].sum().groupby(level="k").max()   # largest single-catalogue total
    minus = np.zeros(len(ci))
    minus[sums.index.to_numpy(dtype=int)] = sums.to_numpy()
    out = sources.copy()
    before = emis[ci]
    after = np.maximum(before - minus, 0.0)
    out.loc[out.index[ci], "emission_t_yr"] = after
    held = minus > 0
    drop = held & (after < min_t_yr)
    if held.any():
        problems.add(
            "ODIAC clusters", f"{int(held.sum())} of {len(ci)} clusters held catalogued power plants: "
            f"{(before - after)[held].sum() / 1e6:.3g} Mt CO2/yr of plant emission subtracted, {int(drop.sum())} "
            f"clusters dropped (remainder below {min_t_yr / 1e6:g} Mt/yr)", STAGE)
    kc, _ = _inside(sources, ci[~drop], np.flatnonzero(kind == "city"), match_km)
    if len(kc):
        problems.add(
            "ODIAC clusters", f"{len(np.unique(kc))} clusters also hold a city of a cities inventory: both kept, "
            "two estimates of the same urban emission (summed where closer than [attribute] site_km); "
            "list one of them to compare with the other alone", STAGE)
    return out.drop(index=out.index[ci[drop]]).reset_index(drop=True)
