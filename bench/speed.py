"""``python -m bench speed`` (the default of ``bash scripts/bench.sh``): detection against the
I/O floor and against the volunteer team's detector, in one run (issue 15).

For each input set:

* (a) **I/O floor**: bare ``netCDF4`` read of the variables the reader needs (bench.e2e.NEEDED);
* (b) **ours**: ``atlas detect --no-cache`` as a whole process (subprocess, wall: imports,
  inventory, read, detect, overpasses, candidates, tables written);
* (c) **oco2peak** 0.0.4 (``gaussian_fit_on_df``) on the tracks of the first files of the same
  set until a time budget is spent (it runs at a few thousand soundings/s): soundings/s on
  that documented subset, compared per sounding with (b).

(a) and (b) alternate within each repeat (the machine is shared: ratios are taken side by side).
Sets: the default simulated month (``.cache/bench/sim-31d``) and a **dense short-track set**:
``builder.simulate`` with ``region`` = Central Europe (tracks clipped to the region as real
granules over a country look), one day's pass or two per day, packed 8 tracks to a file
(:func:`dense_set`). With ``--workers 2`` the month is also run with ``--scheduler local``
(a LocalCluster of that many single-threaded workers) beside the in-process run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

from bench.common import ROOT, WORK, stats

log = logging.getLogger("bench")

#: Central Europe (lon_min, lat_min, lon_max, lat_max): Germany, Poland, Czechia, Austria and neighbours.
DENSE_REGION = (2.0, 45.0, 24.0, 55.0)
DENSE_TRACKS_PER_FILE = 8
DENSE_START = "2018-08-01"
#: A pass counts as a track of the pack with at least this many good soundings (shorter ones ride along).
MIN_TRACK_SOUNDINGS = 100


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def write_config(path: Path, workers: int | None = None) -> Path:
    """The repository's atlas.toml with absolute paths and the cache under the bench folder."""
    cfg = tomllib.loads((ROOT / "atlas.toml").read_text(encoding="utf-8"))
    paths = cfg.setdefault("paths", {})
    for key, val in list(paths.items()):
        if isinstance(val, str):
            paths[key] = str((ROOT / val).resolve())
    paths["extra_inventories"] = [e.split(":", 1)[0] + ":" + str((ROOT / e.split(":", 1)[1]).resolve())
                                  for e in paths.get("extra_inventories", [])]
    paths["cache"] = str(WORK / "speed-cache")
    if workers:
        cfg.setdefault("compute", {})["workers"] = int(workers)
    text = "".join(f"[{sec}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in vals.items()) + "\n"
                   for sec, vals in cfg.items())
    path.write_text(text, encoding="utf-8")
    return path


def dense_set(cfg, days: int, sources=None, profiles=None) -> Path:
    """``days`` simulated days over DENSE_REGION, packed DENSE_TRACKS_PER_FILE tracks to a Lite file
    (cached in ``.cache/bench/dense-ce-<days>d``; the simulator's truth and withheld tables copied
    beside them so ``atlas detect`` drops the withheld sources as for any simulated folder)."""
    from bench.data import inventory
    from builder.simulate import simulate

    out = WORK / f"dense-ce-{days}d"
    marker = out / "packed.json"
    if marker.exists():
        return out
    if sources is None:
        sources, profiles, _ = inventory(cfg)
    raw = WORK / f"dense-ce-{days}d-days"
    shutil.rmtree(raw, ignore_errors=True)
    t = time.perf_counter()
    simulate(cfg, sources, profiles.emission_kg_s, raw, days=days, start=DENSE_START, region=DENSE_REGION)
    log.info("dense set: %d days simulated in %.0f s", days, time.perf_counter() - t)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    n_files, n_tracks = _pack(sorted(raw.glob("*.nc4")), tmp)
    for name in ("truth.csv", "withheld.csv", "tracks.csv", "simulation.json"):
        if (raw / name).exists():
            shutil.copy2(raw / name, tmp / name)
    (tmp / "packed.json").write_text(json.dumps({"region": DENSE_REGION, "days": days, "start": DENSE_START,
                                                 "files": n_files, "tracks": n_tracks}))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    shutil.rmtree(raw, ignore_errors=True)
    return out


def _read_all(path: Path) -> dict[str, np.ndarray]:
    import netCDF4

    from builder.litefmt import LITE_VARIABLES

    cols = {}
    with netCDF4.Dataset(path) as ds:
        for group, name in LITE_VARIABLES:
            g = ds if group == "" else ds.groups.get(group)
            if g is not None and name in g.variables:
                v = g.variables[name]
                v.set_auto_mask(False)
                a = np.asarray(v[:])
                fill = getattr(v, "_FillValue", None)
                if a.dtype.kind == "f" and fill is not None:
                    a = np.where(a == fill, np.nan, a)
                cols[name] = a
    return cols


def _same_day(cols: dict, first: dict) -> None:
    """Move a later day's soundings to the pack's first day (whole days: time of day, orbit and
    footprint kept), as the reader drops soundings dated outside a file's day."""
    day0 = int(first["sounding_id"][0]) // 10**8                   # YYYYMMDD of the pack
    day = int(cols["sounding_id"][0]) // 10**8
    shift = (np.datetime64(f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}")
             - np.datetime64(f"{day0 // 10000:04d}-{day0 // 100 % 100:02d}-{day0 % 100:02d}")).astype(int)
    cols["time"] = cols["time"] - shift * 86400.0
    cols["sounding_id"] = day0 * 10**8 + cols["sounding_id"] % 10**8


def _pack(day_files: list[Path], out: Path) -> tuple[int, int]:
    """Concatenate day files until a file holds DENSE_TRACKS_PER_FILE tracks (passes with
    >= MIN_TRACK_SOUNDINGS good soundings); named by its first day, all soundings moved to it."""
    from builder.litefmt import write_lite

    buf, orbits, n_files, n_tracks = [], set(), 0, 0

    def flush():
        nonlocal buf, orbits, n_files, n_tracks
        if buf:
            cols = {k: np.concatenate([b[1][k] for b in buf]) for k in buf[0][1]}
            write_lite(out / buf[0][0], cols, attrs={"simulated": "true", "simulator": "bench.speed dense pack"})
            n_files += 1
            n_tracks += len(orbits)
        buf, orbits = [], set()

    for f in day_files:
        cols = _read_all(f)
        if buf:
            _same_day(cols, buf[0][1])
        buf.append((f.name, cols))
        good = cols["xco2_quality_flag"] == 0
        orb, cnt = np.unique(cols["orbit"][good], return_counts=True)
        orbits |= set(orb[cnt >= MIN_TRACK_SOUNDINGS].tolist())
        if len(orbits) >= DENSE_TRACKS_PER_FILE:
            flush()
    flush()
    return n_files, n_tracks


# ----------------------------------------------------------------------------- measurements


def floor_seconds(files: list[Path]) -> float:
    """(a): bare netCDF4 read of the needed variables of ``files``."""
    from bench.e2e import read_needed_netcdf4

    t = time.perf_counter()
    for f in files:
        read_needed_netcdf4(f)
    return time.perf_counter() - t


def detect_process(config: Path, folder: Path, scheduler: str | None = None) -> dict:
    """(b): ``atlas detect --no-cache`` in a fresh process; wall seconds and its summary.json."""
    out = Path(tempfile.mkdtemp(prefix="speed-out-", dir=WORK))
    cmd = [sys.executable, "-m", "builder", "--config", str(config), "detect", "--oco2", str(folder),
           "--out", str(out / "tables"), "--no-cache"] + (["--scheduler", scheduler] if scheduler else [])
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=7200)
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"atlas detect failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary = json.loads((out / "tables" / "summary.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": wall, "n_soundings": int(summary["n_soundings"]), "n_files": int(summary["n_files"]),
            "n_orbits": int(summary["n_orbits"]), "n_detections": int(summary["n_detections"]),
            "n_overpasses": int(summary["n_overpasses"])}


def reference_rate(files: list[Path], cfg, budget_s: float) -> dict | None:
    """(c): oco2peak on the tracks of ``files`` in order until ``budget_s`` is spent."""
    from bench.reference import available, run_reference
    from builder.soundings import read_file

    ok, why = available()
    if not ok:
        log.warning("oco2peak not available (%s): (c) skipped", why)
        return None
    tracks, used = [], []
    for f in files:      # enough tracks for the budget (~4,000 soundings/s): read lazily
        tr = read_file(f, cfg.ingest)
        tracks += tr
        used.append(f.name)
        if sum(t.n for t in tracks) > 8000 * budget_s:
            break
    r = run_reference(tracks, budget_s=budget_s)
    return {"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"], "n_soundings": r["n_soundings"],
            "n_orbits": len(r["orbits"]), "files": used, "soundings_per_s": r["n_soundings"] / r["seconds"]}


def measure_set(label: str, folder: Path, cfg, config: Path, *, repeat: int, budget_s: float,
                dask_config: Path | None = None) -> dict:
    """(a), (b) [and (b) on a LocalCluster] alternating ``repeat`` times, then (c)."""
    from bench.data import lite_files

    files = lite_files(folder)
    floor, ours, dask = [], [], []
    run = None
    for i in range(repeat):
        floor.append(floor_seconds(files))
        run = detect_process(config, folder)
        ours.append(run["seconds"])
        if dask_config is not None:
            dask.append(detect_process(dask_config, folder, scheduler="local")["seconds"])
        log.info("%s repeat %d: floor %.2f s, detect %.1f s%s", label, i + 1, floor[-1], ours[-1],
                 f", dask {dask[-1]:.1f} s" if dask else "")
    ref = reference_rate(files, cfg, budget_s) if budget_s > 0 else None
    n = run["n_soundings"]
    res = {"label": label, "folder": str(folder), "n_files": len(files), "n_orbits": run["n_orbits"],
           "n_soundings": n, "n_detections": run["n_detections"], "n_overpasses": run["n_overpasses"],
           "floor_s": stats(floor), "detect_s": stats(ours), "reference": ref,
           "ratio_detect_floor": [o / f for o, f in zip(ours, floor)],
           "detect_soundings_per_s": n / float(np.median(ours))}
    if ref:
        res["ratio_ours_reference"] = res["detect_soundings_per_s"] / ref["soundings_per_s"]
    if dask:
        res["dask_s"] = stats(dask)
        res["ratio_inprocess_dask"] = [o / d for o, d in zip(ours, dask)]
    return res


def run_speed(*, repeat: int = 3, budget_s: float = 60.0, dense_days: int = 1200, workers: int = 2,
              month_days: int = 31) -> dict:
    from bench.data import bench_config, inventory, simulated_days

    cfg = bench_config()
    sources, profiles, _ = inventory(cfg)
    month, _ = simulated_days(cfg, month_days, sources, profiles)
    dense = dense_set(cfg, dense_days, sources, profiles)
    config = write_config(WORK / "speed-atlas.toml")
    dask_config = write_config(WORK / f"speed-atlas-{workers}w.toml", workers=workers) if workers else None
    out = {"month": measure_set(f"simulated month ({month_days} days)", month, cfg, config, repeat=repeat,
                                budget_s=budget_s, dask_config=dask_config),
           "dense": measure_set(f"dense Central Europe ({dense_days} days packed {DENSE_TRACKS_PER_FILE} "
                                "tracks/file)", dense, cfg, config, repeat=repeat, budget_s=budget_s),
           "workers": workers}
    return out


def fill_reference(r: dict, budget_s: float) -> dict:
    """(c) for the sets of an earlier run whose reference was skipped (oco2peak was not installed)."""
    from bench.data import bench_config, lite_files

    cfg = bench_config()
    for key in ("month", "dense"):
        x = r[key]
        if not x.get("reference"):
            x["reference"] = reference_rate(lite_files(Path(x["folder"])), cfg, budget_s)
            if x["reference"]:
                x["ratio_ours_reference"] = x["detect_soundings_per_s"] / x["reference"]["soundings_per_s"]
                x["reference"]["measured_later"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return r


def report_lines(r: dict) -> list[str]:
    """The figures of :func:`run_speed` as printed lines (targets of issue 15 beside them)."""
    from bench.common import fmt_rate, table

    rows = []
    for key in ("month", "dense"):
        x = r[key]
        ref = x.get("reference")
        ratios = x["ratio_detect_floor"]
        rows.append((x["label"], x["n_files"], x["n_orbits"], f"{x['n_soundings']:,}",
                     f"{x['floor_s']['median']:.2f}", f"{x['detect_s']['median']:.1f} "
                     f"({x['detect_s']['min']:.1f}-{x['detect_s']['max']:.1f})",
                     f"{np.median(ratios):.1f}x ({min(ratios):.1f}-{max(ratios):.1f})",
                     fmt_rate(x["detect_soundings_per_s"]),
                     f"{fmt_rate(ref['soundings_per_s'])} ({ref['n_soundings']:,} snd, {ref['n_orbits']} orbits, "
                     f"{len(ref['files'])} files)" if ref else "-",
                     f"{x['ratio_ours_reference']:.0f}x" if ref else "-"))
    lines = [table(rows, ("set", "files", "orbits", "soundings", "(a) netCDF4 floor s", "(b) atlas detect s",
                          "(b)/(a)", "(b) soundings/s", "(c) oco2peak soundings/s (subset)",
                          "ours/oco2peak per sounding"))]
    m, d = r["month"], r["dense"]
    lines.append(f"targets: month (b) <= 5x (a): {np.median(m['ratio_detect_floor']):.1f}x -> "
                 f"{'met' if np.median(m['ratio_detect_floor']) <= 5 else 'NOT met'}; dense >= 100,000 soundings/s: "
                 f"{d['detect_soundings_per_s']:,.0f} -> {'met' if d['detect_soundings_per_s'] >= 1e5 else 'NOT met'}"
                 + (f"; dense >= 25x oco2peak: {d['ratio_ours_reference']:.0f}x -> "
                    f"{'met' if d['ratio_ours_reference'] >= 25 else 'NOT met'}" if d.get("reference") else ""))
    if m.get("dask_s"):
        rr = m["ratio_inprocess_dask"]
        lines.append(f"Dask --scheduler local, {r['workers']} workers, month: {m['dask_s']['median']:.1f} s "
                     f"({m['dask_s']['min']:.1f}-{m['dask_s']['max']:.1f}) vs in-process "
                     f"{m['detect_s']['median']:.1f} s: speed-up {np.median(rr):.2f}x ({min(rr):.2f}-{max(rr):.2f}; "
                     f"target >= 1.5x -> {'met' if np.median(rr) >= 1.5 else 'NOT met'})")
    return lines
