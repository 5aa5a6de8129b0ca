"""Detection throughput: the atlas's detector vs the reference (oco2peak 0.0.4)
on the same orbits, in one run, plus how many true plume crossings each finds."""

from __future__ import annotations

import logging
import time
from pathlib import Path
import warnings

import numpy as np
import pandas as pd

from bench import data
from bench.common import stats

log = logging.getLogger("bench")


def time_ours(tracks, cfg_detect, repeat: int = 3):
    """Time ``detect_track`` per track, ``repeat`` times (after one warm-up track).

    Returns (per-run {orbit: seconds} dicts, detections of the last run)."""
    from builder.detect import detect_track

    runs, dets = [], []
    cpu_runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tracks:
            detect_track(tracks[0], cfg_detect)          # warm-up: imports, FFT plans, kernel cache
        for r in range(repeat):
            per, cpu = {}, {}
            last = []
            for tr in tracks:
                t, c = time.perf_counter(), time.process_time()
                det, _ = detect_track(tr, cfg_detect)
                per[tr.orbit] = per.get(tr.orbit, 0.0) + time.perf_counter() - t
                cpu[tr.orbit] = cpu.get(tr.orbit, 0.0) + time.process_time() - c
                last.append(det)
            runs.append(per)
            cpu_runs.append(cpu)
            dets = last
    frames = [d for d in dets if len(d)]
    det = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["orbit", "latitude", "longitude"])
    return runs, det, cpu_runs


def _sps(n_soundings: int, seconds: list[float], cpu: list[float] | None = None) -> dict:
    st = stats(seconds)
    rates = [n_soundings / s if s > 0 else float("inf") for s in seconds]
    out = {"seconds": st, "soundings_per_s": stats(rates), "n_soundings": int(n_soundings)}
    if cpu:
        out["cpu_seconds"] = stats(cpu)
        out["soundings_per_cpu_s"] = stats([n_soundings / s if s > 0 else float("inf") for s in cpu])
    return out


def compare(tracks, truth, cfg, *, orbits: int, budget_s: float, repeat: int, ref_repeat: int,
            label: str, all_tracks=None) -> dict:
    """Both detectors on the same ``orbits`` tracks (the reference within ``budget_s``)."""
    from bench import reference

    sel = data.select_orbits(tracks, truth, orbits)
    out: dict = {"label": label, "n_orbits_selected": len(sel)}
    ok, ver = reference.available()
    out["reference_version"] = ver
    runs, det_ours, cpu_runs = time_ours(sel, cfg.detect, repeat)
    if ok and ref_repeat > 0:
        ref_runs = []
        ref_orbits = None
        for r in range(ref_repeat):
            use = sel if ref_orbits is None else [tr for tr in sel if tr.orbit in ref_orbits]
            res = reference.run_reference(use, budget_s=budget_s if ref_orbits is None else float("inf"))
            ref_orbits = set(res["orbits"])
            ref_runs.append(res)
            log.info("reference run %d: %d orbits, %d soundings, %.1f s", r + 1, len(res["orbits"]),
                     res["n_soundings"], res["seconds"])
        common = [tr for tr in sel if tr.orbit in ref_orbits]
        n_common = sum(tr.n for tr in common)
        ours_s = [sum(per[tr.orbit] for tr in common) for per in runs]
        ours_c = [sum(per[tr.orbit] for tr in common) for per in cpu_runs]
        ref_s = [r["seconds"] for r in ref_runs]
        ref_c = [r["cpu_seconds"] for r in ref_runs]
        o, f = _sps(n_common, ours_s, ours_c), _sps(n_common, ref_s, ref_c)
        first = ref_runs[0]
        out.update({
            "orbits": sorted(ref_orbits), "n_soundings": n_common,
            "ours": o, "reference": f,
            "reference_windows_tried": first["n_windows"], "reference_windows_fitted": first["n_fits"],
            "reference_s_per_window_tried": first["seconds"] / max(first["n_windows"], 1),
            "reference_prep_seconds": first["prep_seconds"],
            "ratio_median": o["soundings_per_s"]["median"] / f["soundings_per_s"]["median"],
            "ratio_range": [o["soundings_per_s"]["min"] / f["soundings_per_s"]["max"],
                            o["soundings_per_s"]["max"] / f["soundings_per_s"]["min"]],
            "ratio_cpu_median": o["soundings_per_cpu_s"]["median"] / f["soundings_per_cpu_s"]["median"],
            "truth_ours": data.match(truth, det_ours, ref_orbits),
            "truth_reference": data.match(truth, ref_runs[-1]["peaks"], ref_orbits),
        })
    else:
        n_sel = sum(tr.n for tr in sel)
        out.update({"orbits": [tr.orbit for tr in sel], "n_soundings": n_sel,
                    "ours": _sps(n_sel, [sum(per.values()) for per in runs], [sum(c.values()) for c in cpu_runs]),
                    "reference": None, "reference_skipped": ver if not ok else "ref_repeat=0",
                    "truth_ours": data.match(truth, det_ours, [tr.orbit for tr in sel])})
    if all_tracks is not None and len(all_tracks) > len(sel):
        runs_all, det_all, cpu_all = time_ours(all_tracks, cfg.detect, repeat)
        n_all = sum(tr.n for tr in all_tracks)
        out["ours_all_orbits"] = _sps(n_all, [sum(p.values()) for p in runs_all], [sum(c.values()) for c in cpu_all])
        out["ours_all_orbits"]["n_orbits"] = len(all_tracks)
        out["ours_all_orbits"]["truth"] = data.match(truth, det_all, [tr.orbit for tr in all_tracks])
    return out


def run_detect(*, orbits: int = 4, source: str = "simulated", days: int = 31, budget_s: float = 60.0,
               repeat: int = 3, ref_repeat: int = 3, dense: bool = False, dense_budget_s: float = 30.0,
               synthetic_orbits: int | None = None, synthetic_length_km: float = 6000.0,
               input_dir=None) -> dict:
    """The detection benchmark. ``source`` = "simulated" (builder.simulate, ``days`` days, cached)
    or "synthetic" (bench.synth; no simulator needed). ``dense`` adds a comparison on
    synthetic tracks with a clear-sky sounding density, where the reference fits most windows."""
    from bench.synth import synthetic_orbits as synth

    cfg = data.bench_config()
    result: dict = {"match_km": data.MATCH_KM, "source": source}
    if source == "simulated":
        if input_dir is not None:
            sim_dir, sim_s, kind = Path(input_dir), 0.0, f"Lite files in {input_dir}"
        else:
            sources, profiles, _ = data.inventory(cfg)
            sim_dir, sim_s = data.simulated_days(cfg, days, sources, profiles)
            kind = f"simulated {days} days (builder.simulate)"
        files = data.lite_files(sim_dir)
        tracks, read_s = data.read_tracks(files, cfg)
        truth = data.load_truth(sim_dir / "truth.csv")
        result["input"] = {"kind": kind, "folder": str(sim_dir),
                           "n_files": len(files), "n_orbits": len(tracks),
                           "n_soundings": int(sum(tr.n for tr in tracks)), "n_crossings": int(len(truth)),
                           "simulate_or_cache_seconds": sim_s, "read_seconds": read_s}
        result["simulated"] = compare(tracks, truth, cfg, orbits=orbits, budget_s=budget_s, repeat=repeat,
                                      ref_repeat=ref_repeat, label="simulated orbits", all_tracks=tracks)
    else:
        tracks, truth_raw = synth(synthetic_orbits or orbits, length_km=synthetic_length_km)
        truth = data.load_truth(truth_raw)
        result["input"] = {"kind": "synthetic (bench.synth)", "n_orbits": len(tracks),
                           "n_soundings": int(sum(tr.n for tr in tracks)), "n_crossings": int(len(truth))}
        result["synthetic"] = compare(tracks, truth, cfg, orbits=orbits, budget_s=budget_s, repeat=repeat,
                                      ref_repeat=ref_repeat, label="synthetic orbits")
    if dense and source == "simulated":
        tracks, truth_raw = synth(max(orbits, 3))
        truth = data.load_truth(truth_raw)
        result["dense_synthetic"] = compare(tracks, truth, cfg, orbits=orbits, budget_s=dense_budget_s,
                                            repeat=repeat, ref_repeat=ref_repeat,
                                            label="dense synthetic orbits (clear-sky density)")
    return result


def summary_rows(result: dict) -> list[tuple]:
    rows = []
    for key in ("simulated", "synthetic", "dense_synthetic"):
        r = result.get(key)
        if not r:
            continue
        o, f = r["ours"], r.get("reference")
        rows.append((r["label"], len(r["orbits"]), f"{r['n_soundings']:,}",
                     f"{o['soundings_per_s']['median']:,.0f} (±{o['soundings_per_s']['spread_pct']:.0f}%)",
                     f"{f['soundings_per_s']['median']:,.0f} (±{f['soundings_per_s']['spread_pct']:.0f}%)" if f else "n/a",
                     f"{r['ratio_median']:,.0f}x (CPU {r['ratio_cpu_median']:,.0f}x)" if f else "n/a",
                     _recall_text(r.get("truth_ours")), _recall_text(r.get("truth_reference"))))
        if r.get("ours_all_orbits"):
            a = r["ours_all_orbits"]
            rows.append(("  ours, all orbits", a["n_orbits"], f"{a['n_soundings']:,}",
                         f"{a['soundings_per_s']['median']:,.0f} (±{a['soundings_per_s']['spread_pct']:.0f}%)",
                         "", "", _recall_text(a["truth"]), ""))
    return rows


def _recall_text(m: dict | None) -> str:
    if not m:
        return "n/a"
    r1 = m["recall"].get("peak>=1ppm", {})
    r0 = m["recall"].get("peak>=0ppm", {})
    return (f"{r1.get('found', 0)}/{r1.get('truth', 0)} (>=1ppm), {r0.get('found', 0)}/{r0.get('truth', 0)} all; "
            f"{m['n_distinct_detections']} dets, {m['n_detections_unmatched']} unmatched")


DETECT_HEADER = ("orbits", "n", "soundings", "ours snd/s", "reference snd/s", "ratio",
                 "ours: crossings found", "reference: crossings found")
