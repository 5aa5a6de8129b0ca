"""Benchmark inputs: the simulated month (via :mod:`builder.simulate`, cached
under ``.cache/bench``) or synthetic tracks, the truth table, and matching of
detections to true plume crossings."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import ROOT, WORK
from builder.errors import Problems
from builder.withheld import SIMULATOR_TABLES

log = logging.getLogger("bench")

MATCH_KM = 15.0
#: Recall is reported for true crossings with a peak enhancement at least this large [ppm].
PEAK_BINS_PPM = (0.0, 0.5, 1.0, 2.0)


def bench_config(work: Path | None = None, **sections):
    """The repository's atlas.toml with every output path moved under the bench work folder."""
    from builder.config import load_config

    work = Path(work or WORK)
    paths = {"cache": str(work / "cache"), "work": str(work / "build"), "site": str(work / "site"),
             "simulated": str(work / "sim-default")}
    paths.update(sections.pop("paths", {}))
    return load_config(ROOT / "atlas.toml", paths=paths, **sections)


def inventory(cfg):
    from builder.inventory import load_inventory

    skipped = Problems()
    t = time.perf_counter()
    sources, profiles = load_inventory(cfg, skipped)
    return sources, profiles, time.perf_counter() - t


def simulated_days(cfg, days: int, sources=None, profiles=None, name: str | None = None) -> tuple[Path, float]:
    """A simulated ``days``-day OCO-2 record in ``.cache/bench/sim-<days>d`` (re-simulated only if
    the [simulate] config, the inventory or the simulator version changed). Returns (folder, seconds spent)."""
    from builder.build import ensure_simulation

    if sources is None:
        sources, profiles, _ = inventory(cfg)
    sim_dir = WORK / (name or f"sim-{days}d")
    t = time.perf_counter()
    ensure_simulation(cfg, sources, profiles, sim_dir, days=days)
    return sim_dir, time.perf_counter() - t


def read_tracks(files, cfg) -> tuple[list, float]:
    from builder.soundings import read_file

    t = time.perf_counter()
    tracks = [tr for f in files for tr in read_file(f, cfg.ingest)]
    return tracks, time.perf_counter() - t


def lite_files(folder: Path) -> list[Path]:
    """The Lite (.nc4/.nc) and CSV-archive input files of a folder (as the build finds them)."""
    from builder.soundings import find_input_files

    return [f for f in find_input_files(folder) if f.name not in SIMULATOR_TABLES]


def load_truth(path) -> pd.DataFrame:
    """truth.csv of builder.simulate (or the synthetic truth) as orbit, latitude, longitude, peak_ppm.
    No truth file (real data): an empty table."""
    if not isinstance(path, pd.DataFrame) and not Path(path).exists():
        return pd.DataFrame({"orbit": pd.Series(dtype="int64"), "latitude": pd.Series(dtype=float),
                             "longitude": pd.Series(dtype=float), "peak_ppm": pd.Series(dtype=float)})
    t = pd.read_csv(path) if not isinstance(path, pd.DataFrame) else path
    out = pd.DataFrame({
        "orbit": pd.to_numeric(t["orbit"]).astype(np.int64),
        "latitude": pd.to_numeric(t["cross_latitude"] if "cross_latitude" in t else t["latitude"]),
        "longitude": pd.to_numeric(t["cross_longitude"] if "cross_longitude" in t else t["longitude"]),
        "peak_ppm": pd.to_numeric(t["peak_ppm"] if "peak_ppm" in t else t["amplitude_ppm"]),
    })
    return out


def select_orbits(tracks: list, truth: pd.DataFrame, n: int, min_peak_ppm: float = 1.0) -> list:
    """The ``n`` tracks with the most true crossings >= ``min_peak_ppm`` (then the most soundings):
    the reference is slow, so it gets the orbits where there is something to find."""
    strong = truth[truth["peak_ppm"] >= min_peak_ppm].groupby("orbit").size()
    anyc = truth.groupby("orbit").size()
    ranked = sorted(tracks, key=lambda tr: (-int(strong.get(tr.orbit, 0)), -max_window_count(tr),
                                            -int(anyc.get(tr.orbit, 0))))
    return ranked[:n]


def max_window_count(track, window_km: float = 200.0) -> int:
    """Most soundings in any ``window_km`` stretch of the track (the reference fits a window only
    when it holds >= 400)."""
    x = track.soundings["along_km"].to_numpy(float)
    if len(x) == 0:
        return 0
    return int((np.searchsorted(x, x + window_km, side="right") - np.arange(len(x))).max())


def _haversine_km(lat1, lon1, lat2, lon2):
    from builder.physics import EARTH_RADIUS_KM

    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def distinct(det: pd.DataFrame, km: float = MATCH_KM) -> int:
    """Detections after merging those of one orbit closer than ``km`` (the
    reference reports one peak per fitted window, several per plume)."""
    if det is None or not len(det):
        return 0
    n = 0
    for _, g in det.groupby("orbit"):
        g = g.sort_values("latitude")
        lat, lon = g["latitude"].to_numpy(float), g["longitude"].to_numpy(float)
        n += 1 + int(np.sum(_haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]) > km))
    return n


def match(truth: pd.DataFrame, det: pd.DataFrame, orbits, km: float = MATCH_KM) -> dict:
    """How many true crossings on ``orbits`` have a detection of the same orbit within ``km``,
    by peak-enhancement bin; and how many detections match no true crossing."""
    orbits = set(int(o) for o in orbits)
    t = truth[truth["orbit"].isin(orbits)].reset_index(drop=True)
    d = det[det["orbit"].astype(np.int64).isin(orbits)].reset_index(drop=True) if len(det) else det
    found = np.zeros(len(t), bool)
    d_matched = np.zeros(len(d), bool)
    for orbit, ti in t.groupby("orbit").groups.items():
        if not len(d):
            break
        di = d.index[d["orbit"].astype(np.int64) == orbit]
        if not len(di):
            continue
        dist = _haversine_km(t.loc[ti, "latitude"].to_numpy(float)[:, None], t.loc[ti, "longitude"].to_numpy(float)[:, None],
                             d.loc[di, "latitude"].to_numpy(float)[None, :], d.loc[di, "longitude"].to_numpy(float)[None, :])
        close = dist <= km
        found[np.asarray(ti)] = close.any(axis=1)
        d_matched[np.asarray(di)] = close.any(axis=0)
    recall = {}
    for lo in PEAK_BINS_PPM:
        sel = t["peak_ppm"].to_numpy() >= lo
        recall[f"peak>={lo:g}ppm"] = {"truth": int(sel.sum()), "found": int(found[sel].sum())}
    # crossings are per (source, orbit): sources a few km apart give several at one place;
    # count distinct places too
    return {"recall": recall, "n_detections": int(len(d)), "n_distinct_detections": distinct(d, km),
            "n_detections_matching_a_crossing": int(d_matched.sum()),
            "n_detections_unmatched": int((~d_matched).sum())}
