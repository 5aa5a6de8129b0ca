"""The simulated world of one run: the sources that emit, the land mask, the surface
fields, each day's weather and the switches of the run - one explicit object
(:class:`World`) handed to every pass instead of a dict of string keys.

Everything random is drawn from generators keyed by (seed, orbit) or (seed,
day), so a rerun is byte-identical and an orbit spanning midnight is the same
in both day files. The land mask and each day's weather are built when first
needed and owned by the World (no module-level state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from builder import physics, simworld
from builder.config import Simulate
from builder.errors import InputError
from builder.simulate.orbit import N_FOOTPRINTS, load_land_mask
from builder.simulate.weather import DayFields
from builder.simworld import SurfaceFields


@dataclass(frozen=True)
class Switches:
    """What the run simulates (all on by default; off only to validate the plume physics)."""

    noise: bool = True            #: random noise, correlated errors, footprint and surface biases
    background: bool = True       #: False: a flat 400 ppm background
    clear_sky: bool = False       #: True: every sounding written (no cloud gaps)
    structure: bool = True        #: instantaneous plume structure (puffs, shear, meander)


@dataclass
class World:
    """The sources, surface, weather and switches one simulation run shares across its passes."""

    settings: Simulate                     #: cfg.simulate
    seed: int
    sources: pd.DataFrame                  #: valid sources >= min_emission_t_yr, longitudes in [-180, 180)
    emission: Callable                     #: emission_kg_s(sources, time_utc) -> kg/s
    region: tuple[float, float, float, float] | None = None
    switches: Switches = field(default_factory=Switches)
    _days: dict[int, DayFields] = field(default_factory=dict, repr=False)

    @property
    def instrument(self) -> str:
        return self.settings.instrument

    @cached_property
    def land(self) -> np.ndarray:
        """The shipped 0.05 deg land-percent grid (loaded on first use)."""
        return load_land_mask()

    @cached_property
    def src_xyz(self) -> np.ndarray:
        return physics.unit_xyz(self.sources["latitude"].to_numpy(), self.sources["longitude"].to_numpy())

    @cached_property
    def src_tree(self) -> cKDTree | None:
        return cKDTree(self.src_xyz) if len(self.sources) else None

    @cached_property
    def sigma0_km(self) -> np.ndarray:
        """Initial plume width [km] of each source (builder.physics.initial_width_km)."""
        s = self.sources
        if "kind" not in s.columns:
            return np.zeros(len(s))
        return physics.initial_width_km(s["kind"].astype(str).str.lower().to_numpy(), s["emission_t_yr"].to_numpy(float),
                                        s["sigma_km"].to_numpy(float) if "sigma_km" in s else None)

    @cached_property
    def surface(self) -> SurfaceFields:
        return SurfaceFields(self.seed)

    @cached_property
    def fp_bias(self) -> np.ndarray:
        """Per-footprint XCO2 bias [ppm] of the run."""
        return np.random.default_rng([self.seed, 3]).normal(0.0, simworld.FOOTPRINT_BIAS_SD_PPM, N_FOOTPRINTS)

    def fields(self, node_t_s: float) -> DayFields:
        """The weather of the UTC day holding ``node_t_s`` [s after ORBIT_EPOCH] (built once per day)."""
        ordinal = int(np.floor(node_t_s / 86400.0))
        if ordinal not in self._days:
            self._days[ordinal] = DayFields(self.seed, ordinal, self.settings.wind_error_rel,
                                            self.settings.wind_dir_error_deg)
        return self._days[ordinal]


def valid_sources(sources: pd.DataFrame, min_t_yr: float) -> tuple[pd.DataFrame, list[str]]:
    """Sources with a valid position and emission >= ``min_t_yr`` (longitudes wrapped to
    [-180, 180)), and one line per source left out for an invalid position or emission."""
    missing = [c for c in ("source_id", "latitude", "longitude", "emission_t_yr") if c not in sources.columns]
    if missing:
        raise InputError("sources", f"missing columns {', '.join(missing)}")
    lat = pd.to_numeric(sources["latitude"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(sources["longitude"], errors="coerce").to_numpy(float)
    emis = pd.to_numeric(sources["emission_t_yr"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & np.isfinite(emis) & (np.abs(lat) <= 90) & (np.abs(lon) <= 360))
    skipped = [f"sources:{sources['source_id'].iloc[i]}: no valid latitude/longitude/emission_t_yr, no plume simulated"
               for i in np.flatnonzero(bad)]
    keep = ~bad & (emis >= min_t_yr)
    out = sources.loc[keep].reset_index(drop=True).copy()
    out["latitude"], out["longitude"] = lat[keep], (lon[keep] + 180.0) % 360.0 - 180.0
    return out, skipped
