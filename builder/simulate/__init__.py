"""Simulated OCO-2 observations with a known truth: the atlas's embedded default data.

:func:`simulate` writes one OCO-2 L2 Lite-format NetCDF4 file per UTC day
(:func:`builder.litefmt.write_lite`, readable by :func:`builder.soundings.read_lite`)
plus ``truth.csv`` (every plume crossing), ``tracks.csv`` (good data per orbit
and file, the noise-only search length), ``withheld.csv`` (the plants that emit
but are withheld from the detector's inventory, :mod:`builder.withheld`) and
``simulation.json``.

Physical choices (each documented where it is made):

- Orbit and sampling (:mod:`builder.simulate.orbit`): circular sun-synchronous
  ground track, 705 km, inclination 98.2 deg, 14.5625 rev/day, ascending node
  13:36 local solar time, daylight side, solar zenith < 80 deg (OCO-2 DPUG;
  Crisp et al. 2017, AMT 10, 59); 3 frames/s x 8 footprints of 1.29 x 2.25 km.
- Sampling, clouds, quality, retrieval errors, surface biases and the XCO2
  background: :mod:`builder.simworld`, calibrated against real OCO-2 (the
  volunteer team's detector on real August 2018 data; ``bash scripts/bench.sh
  realism``). Land mask: GLOBE 30" mask (global-land-mask, Karin) averaged to
  0.05 deg land percent, shipped as ``builder/data/land_percent_0p05deg.npz``
  (see :func:`derive_land_mask`).
- Plumes (:mod:`builder.simulate.plumes`): vertically integrated Gaussian plume
  (Nassar et al. 2017, GRL 44, 10045) of each source >= cfg.simulate.min_emission_t_yr
  (cities as area sources) with the instantaneous structure of :mod:`builder.simplume`.
- Wind and weather (:mod:`builder.simulate.weather`): a smooth random daily field;
  the file wind has a smooth speed and ~17 deg direction error (Nassar et al. 2021).
- One pass of one orbit: :mod:`builder.simulate.passes`; the run's sources, land mask,
  surface and weather: :class:`builder.simulate.world.World` (no module-level state).

Everything random is drawn from generators keyed by (seed, orbit) or
(seed, day), so a rerun is byte-identical and an orbit spanning midnight is the
same in both day files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from builder import physics, simworld
from builder.config import Config
from builder.litefmt import lite_filename, write_lite
from builder.simulate.orbit import (ASCENDING_NODE_LOCAL_H, FOOTPRINT_ALONG_KM, INCLINATION_DEG, MAX_SZA_DEG,
                                    ORBIT_EPOCH, ORBITS_PER_DAY, PERIOD_S, derive_land_mask, ground_track,
                                    land_percent, load_land_mask, node_time_s, orbit_range, solar_zenith_deg)
from builder.simulate.passes import BACKGROUND_OFF_PPM, simulate_pass
from builder.simulate.weather import DayFields
from builder.simulate.world import Switches, World, valid_sources
from builder.withheld import WITHHELD_FILE, withheld_mask, withheld_table

__all__ = ["BACKGROUND_OFF_PPM", "DayFields", "INCLINATION_DEG", "PERIOD_S", "SIMULATOR_VERSION", "SimulationResult",
           "TRACKS_COLUMNS", "TRUTH_COLUMNS", "constant_emission_kg_s", "derive_land_mask", "ground_track",
           "land_percent", "load_land_mask", "node_time_s", "simulate", "solar_zenith_deg"]

#: Bump when the simulated output changes (the build caches simulations by it).
SIMULATOR_VERSION = "6"
TRACK_GAP_KM = 10.0                    #: gaps longer than this do not count as searched track

TRUTH_COLUMNS = [
    "crossing_id", "source_id", "instrument", "orbit", "time_utc", "emission_kg_s", "wind_u_m_s", "wind_v_m_s",
    "file_wind_u_m_s", "file_wind_v_m_s", "cross_latitude", "cross_longitude", "downwind_km", "peak_ppm",
    "area_ppm_km", "sigma_along_km", "n_soundings_20km", "isolated", "line_factor",
    "withheld",   # the source is withheld from the detector's inventory (builder.withheld, withheld.csv)
]
TRACKS_COLUMNS = ["instrument", "orbit", "source_file", "n_soundings", "track_km"]


@dataclass
class SimulationResult:
    """What :func:`simulate` wrote."""

    files: list[Path]
    truth_path: Path
    tracks_path: Path
    n_soundings: int = 0
    n_crossings: int = 0
    skipped: list[str] = field(default_factory=list)


def constant_emission_kg_s(sources: pd.DataFrame, time_utc) -> np.ndarray:
    """Flat temporal profile: the annual-mean emission of each source [kg/s]."""
    return np.asarray(sources["emission_t_yr"], dtype=float) * 1000.0 / physics.SECONDS_PER_YEAR


def simulate(cfg: Config, sources: pd.DataFrame,
             emission_kg_s: Callable[[pd.DataFrame, pd.Timestamp | np.ndarray], np.ndarray],
             out_dir: Path, *, days: int | None = None, start: str | None = None, seed: int | None = None,
             region: tuple[float, float, float, float] | None = None, progress: Callable | None = None,
             noise: bool = True, background: bool = True, clear_sky: bool = False,
             plume_structure: bool = True) -> SimulationResult:
    """Simulate ``days`` days of OCO-2 Lite files from ``start`` into ``out_dir`` (see module doc).

    ``region`` = (lon_min, lat_min, lon_max, lat_max) restricts the written
    soundings and truth crossings. ``noise=False`` removes random noise,
    correlated errors, footprint and surface biases; ``plume_structure=False``
    draws steady Gaussian plumes (no puffs, shear or meander);
    ``background=False`` uses a flat 400 ppm background; ``clear_sky=True`` writes every sounding (no cloud
    gaps). These switches exist for validating the plume physics.
    ``progress(done_days, total_days)`` is called after each day.
    """
    sc = cfg.simulate
    days, day0, seed, region = _run_arguments(cfg, days, start, seed, region)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src, skipped = valid_sources(sources, sc.min_emission_t_yr)
    withheld = withheld_mask(src, seed, sc.withheld_share)
    switches = Switches(noise=noise, background=background, clear_sky=clear_sky, structure=plume_structure)
    world = World(settings=sc, seed=seed, sources=src, emission=emission_kg_s, region=region, switches=switches)
    files, truths, track_rows = [], [], []
    n_sound = 0
    for d in range(days):
        path, n, day_truths, day_tracks = _simulate_day(world, day0 + np.timedelta64(d, "D"), out_dir)
        truths += day_truths
        track_rows += day_tracks
        if path is not None:
            files.append(path)
            n_sound += n
        if progress:
            progress(d + 1, days)
    truth = _write_truth(truths, src, withheld, out_dir)
    tracks_path = out_dir / "tracks.csv"
    pd.DataFrame(track_rows, columns=TRACKS_COLUMNS).to_csv(tracks_path, index=False, float_format="%.3f")
    meta = _metadata(world, day0, days, files, n_sound, truth, int(withheld.sum()), skipped)
    (out_dir / "simulation.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return SimulationResult(files=files, truth_path=out_dir / "truth.csv", tracks_path=tracks_path,
                            n_soundings=int(n_sound), n_crossings=int(len(truth)), skipped=skipped)


def _run_arguments(cfg: Config, days, start, seed, region):
    """(days, first day, seed, region) of a run, from the arguments or [simulate]; ValueError if bad."""
    sc = cfg.simulate
    if sc.instrument.upper().replace("-", "") != "OCO2":
        raise ValueError(f"[simulate] instrument {sc.instrument!r}: only the OCO-2 orbit is simulated")
    days = int(sc.days if days is None else days)
    start = str(sc.start if start is None else start)
    seed = int(sc.seed if seed is None else seed)
    try:
        day0 = np.datetime64(start, "D")
    except ValueError:
        raise ValueError(f"[simulate] start {start!r} is not a date (YYYY-MM-DD)") from None
    if days < 1:
        raise ValueError(f"[simulate] days must be >= 1, got {days}")
    if region is not None:
        region = tuple(float(v) for v in region)
        if not (len(region) == 4 and region[0] < region[2] and region[1] < region[3]):
            raise ValueError(f"region {region} must be (lon_min, lat_min, lon_max, lat_max)")
    return days, day0, seed, region


def _simulate_day(world: World, day: np.datetime64, out_dir: Path):
    """Every pass of one UTC day: (file written or None, soundings in it, truth frames, tracks.csv rows)."""
    sc = world.settings
    t_lo = float((day - ORBIT_EPOCH.astype("datetime64[D]")).astype(np.int64) * 86400)
    name = lite_filename(day, sc.instrument, sc.lite_version, production="190101000000")
    chunks, truths, track_rows = [], [], []
    for orbit in orbit_range(t_lo, t_lo + 86400.0):
        p = simulate_pass(orbit, t_lo, t_lo + 86400.0, world, TRUTH_COLUMNS)
        if p is None:
            continue
        truths.append(p.truth)
        cols = p.soundings
        if len(cols["sounding_id"]):
            chunks.append(cols)
            gq = cols["xco2_quality_flag"] == 0
            track_rows.append({"instrument": sc.instrument, "orbit": orbit, "source_file": name,
                               "n_soundings": int(gq.sum()), "track_km": _track_km(np.unique(cols["time"][gq]))})
    if not chunks:
        return None, 0, truths, track_rows
    columns = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    attrs = {"simulated": "true", "simulator": f"builder.simulate {SIMULATOR_VERSION}", "seed": str(world.seed)}
    path = write_lite(out_dir / name, columns, version=sc.lite_version, instrument=sc.instrument, attrs=attrs)
    return path, len(columns["sounding_id"]), truths, track_rows


def _track_km(frame_times: np.ndarray) -> float:
    """Along-track km covered by good data (physics.covered_track_km): steps between good
    frames shorter than TRACK_GAP_KM at the nominal ground speed, plus one frame per run."""
    speed = physics.EARTH_RADIUS_KM * 2 * np.pi / PERIOD_S   # ~6.75 km/s
    return physics.covered_track_km(frame_times, TRACK_GAP_KM, FOOTPRINT_ALONG_KM, km_per_unit=speed)


def _write_truth(truths: list[pd.DataFrame], src: pd.DataFrame, withheld: np.ndarray, out_dir: Path) -> pd.DataFrame:
    """truth.csv (every crossing, sorted by time) and withheld.csv; returns the truth table."""
    truth = pd.concat([t for t in truths if len(t)], ignore_index=True) if any(len(t) for t in truths) \
        else pd.DataFrame(columns=TRUTH_COLUMNS)
    truth["withheld"] = truth["source_id"].astype(str).isin(set(src["source_id"].astype(str)[withheld]))
    truth = truth[TRUTH_COLUMNS].sort_values(["time_utc", "source_id"], kind="stable").reset_index(drop=True)
    truth["time_utc"] = pd.to_datetime(truth["time_utc"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    truth.to_csv(out_dir / "truth.csv", index=False, float_format="%.6g")
    withheld_table(src, withheld).to_csv(out_dir / WITHHELD_FILE, index=False, float_format="%.6g")
    return truth


def _metadata(world: World, day0, days: int, files: list[Path], n_sound: int, truth: pd.DataFrame,
              n_withheld: int, skipped: list[str]) -> dict:
    """simulation.json: the run's arguments, parameters and counts."""
    sc, sw, region = world.settings, world.switches, world.region
    return {
        "simulated": True, "simulator_version": SIMULATOR_VERSION, "seed": world.seed,
        "start": str(day0), "end": str(day0 + np.timedelta64(days, "D")), "days": days, "instrument": sc.instrument,
        "lite_version": sc.lite_version, "region": list(region) if region else None,
        "noise": sw.noise, "background": sw.background, "clear_sky": sw.clear_sky, "plume_structure": sw.structure,
        "parameters": {
            "noise_ppm": list(sc.noise_ppm), "wind_error_rel": sc.wind_error_rel,
            "wind_dir_error_deg": sc.wind_dir_error_deg, "min_emission_t_yr": sc.min_emission_t_yr,
            "lat_band": list(sc.lat_band), "withheld_share": sc.withheld_share,
            "orbits_per_day": ORBITS_PER_DAY, "inclination_deg": INCLINATION_DEG,
            "ascending_node_local_h": ASCENDING_NODE_LOCAL_H, "max_sza_deg": MAX_SZA_DEG,
            "white_land_ppm": list(simworld.WHITE_LAND_PPM), "white_ocean_ppm": list(simworld.WHITE_OCEAN_PPM),
            "correlated_ppm_km": [simworld.CORR_SD_PPM, simworld.CORR_LENGTH_KM],
            "large_scale_ppm_km": [simworld.LARGE_SD_PPM, simworld.LARGE_LENGTH_KM],
            "footprint_bias_sd_ppm": simworld.FOOTPRINT_BIAS_SD_PPM,
        },
        "n_sources": int(len(world.sources)), "n_withheld": n_withheld,
        "n_files": len(files), "n_soundings": int(n_sound),
        "n_crossings": int(len(truth)), "files": [f.name for f in files], "skipped": skipped,
    }
