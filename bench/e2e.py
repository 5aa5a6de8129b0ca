"""End-to-end benchmark: a simulated month (or year) through ``builder.build.build``
with per-stage wall time, peak memory, the I/O floor and Dask throughput per worker.

Each measured build runs in a fresh child process (``python -m bench _child ...``)
so its peak RSS (``ru_maxrss``) is the build's own and caches are cold in
memory (the OS page cache is warm: files were just simulated or read).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from bench import data
from bench.common import ROOT, WORK, peak_rss_mb, rss_mb, stats

log = logging.getLogger("bench")

#: OCO-2 revolutions per day (233 per 16-day repeat cycle).
ORBITS_PER_DAY = 233.0 / 16.0

# Variables builder.soundings.read_lite needs, by group.
NEEDED = {
    None: ["sounding_id", "latitude", "longitude", "time", "xco2", "xco2_uncertainty", "xco2_quality_flag"],
    "Sounding": ["orbit", "footprint", "operation_mode", "land_water_indicator", "altitude"],
    "Meteorology": ["windspeed_u_met", "windspeed_v_met", "psurf_apriori_o2a"],
    "Retrieval": ["psurf", "tcwv"],
}


# ----------------------------------------------------------------------------- child: one timed build


class StageTimer:
    """Wall and CPU seconds per pipeline stage, from builder.events (subscribed, not wrapped)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.rss_after_file: list[float] = []

    def on_stage(self, name: str, wall_s: float, cpu_s: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + wall_s
        self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + cpu_s
        self.calls[name] = self.calls.get(name, 0) + 1
        if name == "read":
            self.rss_after_file.append(rss_mb())

    def install(self):
        from builder import events

        events.subscribe(self)
        return self

    def uninstall(self):
        from builder import events

        events.unsubscribe(self)


def child_build(sim_dir: Path, out_json: Path, work: Path, render: bool = True) -> None:
    """One full build of ``sim_dir`` (no result cache), timed by stage; JSON to ``out_json``."""
    warnings.simplefilter("ignore")
    from builder.build import build

    t_import = time.perf_counter()
    cfg = data.bench_config(work)
    if work.exists():
        shutil.rmtree(work, ignore_errors=True)
    timer = StageTimer().install()
    rss0 = rss_mb()
    t, c = time.perf_counter(), time.process_time()
    rep = build(cfg, oco2_dir=sim_dir, site_dir=work / "site", render=render, use_cache=False, progress=False)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    s = rep.result.summary
    out = {
        "wall_seconds": wall, "cpu_seconds": cpu, "build_seconds": rep.seconds, "stage_seconds": timer.seconds,
        "stage_cpu_seconds": timer.cpu_seconds,
        "stage_calls": timer.calls, "render_stats": {k: v for k, v in (rep.render_stats or {}).items()
                                                     if k not in ("vendor", "skipped")},
        "peak_rss_mb": peak_rss_mb(), "rss_start_mb": rss0, "rss_after_file_mb": timer.rss_after_file,
        "n_files": s.get("n_files"), "n_orbits": s.get("n_orbits"), "n_soundings": s.get("n_soundings"),
        "n_detections": s.get("n_detections"), "n_attributed": s.get("n_attributed"),
        "n_overpasses": s.get("n_overpasses"), "n_skipped": len(rep.result.skipped),
        "validation": _small_validation(s.get("validation")), "setup_seconds": t - t_import,
    }
    Path(out_json).write_text(json.dumps(out, default=str))
    shutil.rmtree(work, ignore_errors=True)


def _small_validation(v):
    if not isinstance(v, dict):
        return v
    return {k: v[k] for k in list(v)[:40] if not isinstance(v[k], (list, dict)) or k in ("recall", "targets")}


def child_dask(sim_dir: Path, out_json: Path, work: Path, workers: int, n_files: int) -> None:
    """run_core on a LocalCluster with ``workers`` single-threaded worker processes."""
    warnings.simplefilter("ignore")
    from dask.distributed import Client, LocalCluster

    from builder.pipeline import run_core

    cfg = data.bench_config(work, compute={"workers": workers, "scheduler": "local"})
    sources, profiles, _ = data.inventory(cfg)
    files = data.lite_files(Path(sim_dir))[:n_files]
    # cluster start-up alone, to separate it from the throughput
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    client.run(lambda: 1)
    startup = time.perf_counter() - t
    client.close()
    cluster.close()
    t = time.perf_counter()
    core = run_core(cfg, files, sources, profiles.emission_kg_s, [], scheduler="local", use_cache=False,
                    progress=False)
    wall = time.perf_counter() - t
    s = core.result.summary
    Path(out_json).write_text(json.dumps({
        "workers": workers, "n_files": len(files), "wall_seconds": wall, "files_seconds": core.seconds.get("files"),
        "cluster_startup_seconds": startup, "n_soundings": s["n_soundings"], "n_orbits": s["n_orbits"],
        "n_detections": s["n_detections"]}))
    shutil.rmtree(work, ignore_errors=True)


def _run_child(args: list[str], timeout: float) -> dict:
    out = WORK / f"child-{os.getpid()}-{time.time_ns()}.json"
    cmd = [sys.executable, "-m", "bench", "_child", *args, "--json", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"child {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    res = json.loads(out.read_text())
    out.unlink()
    return res


# ----------------------------------------------------------------------------- I/O floor


def read_needed_netcdf4(path: Path) -> int:
    """Just read the variables the reader needs (netCDF4, no screening, no pandas)."""
    import netCDF4

    n = 0
    with netCDF4.Dataset(path) as ds:
        for group, names in NEEDED.items():
            g = ds if group is None else ds.groups.get(group)
            if g is None:
                continue
            for name in names:
                if name in g.variables:
                    n += g.variables[name][:].size
    return n


def read_needed_xarray(path: Path) -> int:
    import xarray as xr

    n = 0
    for group, names in NEEDED.items():
        with xr.open_dataset(path, group=group, engine="netcdf4", decode_times=False, cache=False) as ds:
            for name in names:
                if name in ds.variables:
                    n += ds[name].values.size
    return n


def io_floor(files: list[Path], cfg, repeat: int = 3) -> dict:
    """Wall time to read the needed variables (netCDF4 and xarray) vs the full reader
    (builder.soundings.read_file: read + screen + tracks) vs detection, over ``files``."""
    from builder.detect import detect_track
    from builder.soundings import read_file

    out = {}
    for label, fn in (("netcdf4_needed_vars", read_needed_netcdf4), ("xarray_needed_vars", read_needed_xarray),
                      ("read_file_full", lambda p: read_file(p, cfg.ingest))):
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            for f in files:
                fn(f)
            times.append(time.perf_counter() - t)
        out[label] = stats(times)
    tracks = [tr for f in files for tr in read_file(f, cfg.ingest)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detect_track(tracks[0], cfg.detect)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            for tr in tracks:
                detect_track(tr, cfg.detect)
            times.append(time.perf_counter() - t)
    out["detect"] = stats(times)
    out["n_files"] = len(files)
    out["n_soundings"] = int(sum(tr.n for tr in tracks))
    out["bytes"] = int(sum(f.stat().st_size for f in files))
    out["note"] = "OS page cache warm (files just written/read); a cold read from network storage is slower"
    return out


# ----------------------------------------------------------------------------- driver


def run_e2e(*, days: int = 31, repeat: int = 3, workers=(1, 2), dask_files: int | None = None,
            floor: bool = True, render: bool = True, timeout: float = 3600.0, label: str | None = None,
            input_dir=None) -> dict:
    cfg = data.bench_config()
    if input_dir is not None:
        sim_dir, sim_s = Path(input_dir), 0.0
        label = label or f"Lite files in {input_dir}"
    else:
        sources, profiles, inv_s = data.inventory(cfg)
        sim_dir, sim_s = data.simulated_days(cfg, days, sources, profiles)
    files = data.lite_files(sim_dir)
    days = len(files)
    res: dict = {"label": label or f"simulated {days} days", "days": days, "n_files": len(files),
                 "input_bytes": int(sum(f.stat().st_size for f in files)), "simulate_or_cache_seconds": sim_s,
                 "sim_dir": str(sim_dir)}
    runs = []
    for r in range(repeat):
        log.info("e2e build %d/%d of %d files", r + 1, repeat, len(files))
        runs.append(_run_child(["build", str(sim_dir), str(WORK / "e2e-work"), "1" if render else "0"], timeout))
    res["runs"] = runs
    res["stages"] = _stage_stats(runs)
    last = runs[-1]
    for k in ("n_orbits", "n_soundings", "n_detections", "n_attributed", "n_overpasses", "n_skipped", "validation"):
        res[k] = last.get(k)
    res["peak_rss_mb"] = stats([r["peak_rss_mb"] for r in runs])
    res["memory_per_file_mb"] = _rss_slope(last["rss_after_file_mb"])
    rp = [r["render_stats"].get("pages_per_s") for r in runs if r.get("render_stats")]
    if rp:
        res["render_pages_per_s"] = stats([x for x in rp if x is not None])
        res["n_pages"] = last["render_stats"].get("n_pages")
    if floor:
        log.info("I/O floor over %d files", len(files))
        res["io_floor"] = io_floor(files, cfg, repeat=3)
    res["dask"] = run_dask(sim_dir, files, workers, dask_files, repeat, timeout)
    res["extrapolation_year"] = _extrapolate_year(res)
    return res


def run_dask(sim_dir: Path, files: list, workers, dask_files: int | None, repeat: int, timeout: float) -> list[dict]:
    """run_core on a LocalCluster of each size, ``repeat`` times each (interleaved), medians."""
    n = dask_files or len(files)
    raw: dict[int, list[dict]] = {k: [] for k in workers}
    for r in range(repeat):
        for k in workers:
            log.info("dask LocalCluster with %d worker(s) on %d files (run %d/%d)", k, n, r + 1, repeat)
            raw[k].append(_run_child(["dask", str(sim_dir), str(WORK / f"dask-work-{k}"), str(k), str(n)], timeout))
    out = []
    for k, runs in raw.items():
        for d in runs:
            busy = max(d["files_seconds"] - d["cluster_startup_seconds"], 1e-9)
            d["soundings_per_s"] = d["n_soundings"] / busy
        sps = stats([d["soundings_per_s"] for d in runs])
        first = runs[0]
        med = sps["median"]
        out.append({"workers": k, "n_files": first["n_files"], "n_soundings": first["n_soundings"],
                    "n_orbits": first["n_orbits"], "runs": runs,
                    "cluster_startup_seconds": stats([d["cluster_startup_seconds"] for d in runs])["median"],
                    "files_seconds": stats([d["files_seconds"] for d in runs])["median"],
                    "soundings_per_s": med, "soundings_per_s_stats": sps,
                    "soundings_per_s_per_worker": med / k,
                    "orbits_per_hour_per_worker": first["n_orbits"] / (first["n_soundings"] / med) * 3600 / k})
    return out


def _stage_stats(runs: list[dict]) -> dict:
    keys = sorted({k for r in runs for k in r["stage_seconds"]})
    out = {k: stats([r["stage_seconds"].get(k, 0.0) for r in runs]) for k in keys}
    for k in sorted({k for r in runs for k in r["build_seconds"]}):
        out[f"build.{k}"] = stats([r["build_seconds"].get(k, 0.0) for r in runs])
    out["wall"] = stats([r["wall_seconds"] for r in runs])
    if all("cpu_seconds" in r for r in runs):
        out["cpu.total"] = stats([r["cpu_seconds"] for r in runs])
        for k in sorted({k for r in runs for k in r.get("stage_cpu_seconds", {})}):
            out[f"cpu.{k}"] = stats([r["stage_cpu_seconds"].get(k, 0.0) for r in runs])
    # derived: quantify + attribute + Gaussian-plume fit + overpasses
    out["quantify_attribute"] = stats([sum(r["stage_seconds"].get(k, 0.0) for k in
                                           ("quantify", "attribute", "gaussian_plume_fit", "overpasses"))
                                       for r in runs])
    if all("stage_cpu_seconds" in r for r in runs):
        out["cpu.quantify_attribute"] = stats([sum(r["stage_cpu_seconds"].get(k, 0.0) for k in
                                                   ("quantify", "attribute", "gaussian_plume_fit", "overpasses"))
                                               for r in runs])
    out["render_search"] = stats([(r.get("render_stats") or {}).get("search_seconds", 0.0) for r in runs])
    return out


def _rss_slope(rss: list[float]) -> dict:
    """RSS growth per file after the first few files (streaming: ~0)."""
    if len(rss) < 6:
        return {"mb_per_file": None, "n": len(rss)}
    y = np.asarray(rss[len(rss) // 4:], float)
    x = np.arange(len(y), dtype=float)
    slope = float(np.polyfit(x, y, 1)[0])
    return {"mb_per_file": slope, "first_mb": rss[0], "last_mb": rss[-1], "max_mb": max(rss), "n": len(rss)}


def _extrapolate_year(res: dict) -> dict:
    """A year (365 daily files, ~5,315 orbits) from the measured per-file figures. Linear in files."""
    n_files = max(res["n_files"], 1)
    st = res["stages"]
    per_file = {k: st[k]["median"] / n_files for k in ("read", "detect", "quantify_attribute") if k in st}
    year_files = 365
    scale = year_files / n_files
    core = st.get("build.core_files", {}).get("median")
    out = {"method": "measured per-file medians x 365 files (linear); render scales with the "
                     "number of pages, not files, and is not extrapolated",
           "orbits": round(365 * ORBITS_PER_DAY),
           "soundings": int((res.get("n_soundings") or 0) / n_files * year_files),
           "per_file_seconds": per_file}
    if scale <= 1.0:
        out["method"] = "measured (the input is a year or more)"
    if core:
        out["core_files_seconds_1_process"] = core / n_files * year_files
    mem = res.get("memory_per_file_mb", {}).get("mb_per_file")
    if mem is not None:
        out["peak_rss_mb_estimate"] = res["peak_rss_mb"]["median"] + max(mem, 0.0) * (year_files - n_files)
    for d in res.get("dask", []):
        out[f"core_seconds_{d['workers']}_workers"] = out["soundings"] / d["soundings_per_s"] if d["soundings_per_s"] else None
    return out


def stage_rows(res: dict) -> list[tuple]:
    st = res["stages"]
    rows = []
    order = [("build.inventory", "inventory"), ("read", "read (xarray + screening)"), ("detect", "detect"),
             ("quantify", "quantify"), ("attribute", "attribute"), ("gaussian_plume_fit", "Gaussian-plume fit"),
             ("overpasses", "overpasses"), ("quantify_attribute", "= quantify+attribute+fit+overpasses"),
             ("build.core_files", "per-file stages total"), ("build.core_global", "global (candidates, compare)"),
             ("write_tables", "write tables"), ("build.validate", "validate"), ("build.render", "render (incl. search)"),
             ("render_search", "  of which search index"), ("wall", "WALL (build())")]
    cpu_key = {"wall": "cpu.total"}
    for key, name in order:
        if key in st:
            s = st[key]
            c = st.get(cpu_key.get(key, f"cpu.{key}"))
            rows.append((name, f"{s['median']:.2f}", f"{s['min']:.2f}-{s['max']:.2f}", f"{s['spread_pct']:.0f}%",
                         f"{c['median']:.2f}" if c else ""))
    return rows
