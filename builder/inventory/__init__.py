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

Invalid rows are skipped and reported in a :class:`builder.errors.Problems`
(``item="file:row N"`` with N the spreadsheet row, header = row 1); a file that
cannot be used at all raises :class:`builder.errors.InputError`.

Temporal profiles follow the CoCO2 conventions: monthly factors sum to 12,
weekday factors (Monday..Sunday) to 7 and hourly factors (local hours 0..23)
to 24, so each averages 1 and the rate at time t is::

    emission_kg_s = emission_t_yr * 1000 / SECONDS_PER_YEAR * f_month * f_weekday * f_hour

Local time is approximated by the solar offset ``longitude / 15`` hours from UTC
(no time-zone database; differs from civil time by up to ~1-3 h in wide
single-zone countries, and ignores daylight saving). Month, weekday and hour
are all taken in that local time.

One module per job: :mod:`~builder.inventory.profiles` (temporal profiles),
:mod:`~builder.inventory.common` (cleaning, reading, validation, the Source table),
one reader module per kind (:mod:`~builder.inventory.coco2`,
:mod:`~builder.inventory.plants` for GPPD and GCPT, :mod:`~builder.inventory.edgar`,
:mod:`~builder.inventory.cities` for cities and the generic CSV, :mod:`builder.odiac`);
this module joins them (:func:`load_inventory`). A new kind: a ``read_<kind>(path,
problems)`` returning :func:`~builder.inventory.common.finish` of its rows, and one
line in :func:`_extra_loader`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from builder import names
from builder.config import Config
from builder.errors import InputError, one_line
from builder.inventory.cities import CITY_CO2_T_PER_CAPITA, GENERIC_KINDS, read_cities, read_generic_csv
from builder.inventory.coco2 import ATTRIBUTION, COCO2_INVENTORY, read_coco2, read_coco2_profiles, write_compact_coco2
from builder.inventory.common import STAGE, clean_text, empty_sources
from builder.inventory.edgar import EDGAR_MIN_T_YR, read_edgar
from builder.inventory.plants import GPPD_CAPACITY_FACTORS, GPPD_FUELS, read_gcpt, read_gppd
from builder.inventory.profiles import FLAT, HOUR_COLUMNS, MONTH_COLUMNS, WEEK_COLUMNS, TemporalProfiles

__all__ = ["ATTRIBUTION", "CITY_CO2_T_PER_CAPITA", "COCO2_INVENTORY", "EDGAR_MIN_T_YR", "FLAT", "GENERIC_KINDS",
           "GPPD_CAPACITY_FACTORS", "GPPD_FUELS", "HOUR_COLUMNS", "MONTH_COLUMNS", "TemporalProfiles", "WEEK_COLUMNS",
           "clean_text", "load_inventory", "read_cities", "read_coco2", "read_coco2_profiles", "read_edgar",
           "read_gcpt", "read_generic_csv", "read_gppd", "write_compact_coco2"]


def _extra_loader(kind: str) -> Callable[[Path, Problems], tuple[pd.DataFrame, TemporalProfiles | None]]:
    """The reader of an ``extra_inventories`` kind, as (sources, profiles or None); None if unknown."""
    return {
        "coco2": lambda p, s: read_coco2(p, s),
        "gppd": lambda p, s: (read_gppd(p, s), None),
        "gcpt": lambda p, s: (read_gcpt(p, s), None),
        "edgar": lambda p, s: (read_edgar(p, s), None),
        "cities": lambda p, s: (read_cities(p, s), None),
        "csv": lambda p, s: (read_generic_csv(p, s), None),
        "odiac": lambda p, s: (_odiac().read_odiac(p, s), None),
    }.get(kind)


def _odiac():
    from builder import odiac  # imports rasterio only when an ODIAC file is listed
    return odiac


def load_inventory(cfg: Config, problems: Problems) -> tuple[pd.DataFrame, TemporalProfiles]:
    """The unified Source table and its profiles: the CoCO2 catalogue at
    ``cfg.path("coco2")`` plus every ``[paths] extra_inventories`` entry
    ("kind:path", kind in coco2|gppd|gcpt|edgar|cities|csv|odiac). A bad extra entry or
    file is reported in ``problems`` and left out; a source_id already loaded is
    reported and the later row dropped. A missing CoCO2 folder raises InputError.
    """
    if str(cfg.paths.coco2) in ("", "."):      # --only-inventories: no embedded catalogue
        sources, profiles = empty_sources(), TemporalProfiles.flat()
    else:
        sources, profiles = read_coco2(cfg.path("coco2"), problems)
        sources = names.apply_names(sources, cfg.path("coco2"), cfg.paths.extra_inventories, cfg.paths.root, problems)
    frames = [sources]
    for entry in cfg.paths.extra_inventories:
        kind, sep, raw_path = str(entry).partition(":")
        kind = kind.strip().lower()
        loader = _extra_loader(kind)
        if not sep or loader is None or not raw_path.strip():
            problems.add(str(entry), "extra_inventories entry must be 'kind:path' with kind in "
                         "coco2, gppd, gcpt, edgar, cities, csv, odiac", STAGE)
            continue
        path = Path(raw_path.strip())
        path = path if path.is_absolute() else (Path(cfg.paths.root) / path).resolve()
        try:
            df, prof = loader(path, problems)
        except InputError as exc:
            problems.add_error(exc, STAGE)
            continue
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.add(path.name, f"unreadable {kind} inventory: {one_line(exc)}", STAGE)
            continue
        frames.append(df)
        if prof is not None:
            profiles = profiles.merge(prof)
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_sources(), profiles
    allsrc = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if "radius_km" in allsrc:  # ODIAC clusters: catalogued plants inside are subtracted (builder.odiac)
        allsrc = _odiac().deduplicate(allsrc, problems)
    dup = allsrc["source_id"].duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(dup):
        problems.add(f"{allsrc['inventory'].iat[i]}:{allsrc['source_id'].iat[i]}",
                     "source_id already loaded from another inventory file", STAGE)
    return allsrc.loc[~dup].reset_index(drop=True), profiles
