"""``python -m bench [speed|detect|e2e|all|realism|validation|incremental] [--orbits N] [--month] [--year] ...``

speed   (default) issue 15's figures in one run: (a) bare netCDF4 read of the needed variables,
        (b) `atlas detect --no-cache` as a whole process, (c) oco2peak on a subset of the same
        files, on the simulated month and on a dense short-track set over Central Europe;
        the month also on a Dask LocalCluster (--workers, default 2) beside in-process

detect  both detectors (ours, oco2peak 0.0.4) on the same simulated orbits:
        soundings/s, ratio, true plume crossings found (within 15 km, same orbit)
e2e     a simulated month (``--year``: 365 days) through build(): wall time per
        stage, peak memory, pages/s, I/O floor, Dask LocalCluster with 1 and 2 workers
all     both (default)
realism oco2peak 0.0.4 on every orbit of a folder of Lite files (default: the simulated month;
        --days N first N files, --jobs J processes) beside its fits on real OCO-2 data (August
        2018): fit and sounding statistics against the issue's targets; bench/results-realism.json,
        docs/realism.md
validation  atlas simulate/detect/validate on the default month and on other seeds (--seeds 1,2,3,4,5):
        every validation figure per month and pooled; bench/results-validation.json, docs/validation.md
incremental  the month built from 30 days, then day 31 added: pages re-rendered / total, search index,
        incremental vs from-scratch render; no-op rebuild wall time as a whole process (bench/incremental.py)
report  print bench/results.json (or the given file) as Markdown tables

Figures are printed and merged into bench/results.json (realism: bench/results-realism.json; ``--out``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from bench.common import RESULTS, WORK, machine, table, write_results

log = logging.getLogger("bench")


def _child(argv: list[str]) -> int:
    from bench import e2e

    kind, rest = argv[0], argv[1:]
    out = Path(rest[rest.index("--json") + 1])
    rest = rest[:rest.index("--json")]
    if kind == "build":
        e2e.child_build(Path(rest[0]), out, Path(rest[1]), render=rest[2] == "1")
    elif kind == "dask":
        e2e.child_dask(Path(rest[0]), out, Path(rest[1]), int(rest[2]), int(rest[3]))
    else:
        raise SystemExit(f"unknown child {kind}")
    return 0


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", choices=["speed", "detect", "e2e", "all", "realism", "validation",
                                               "incremental"], default="speed")
    p.add_argument("--orbits", type=int, default=4, help="orbits given to both detectors (default 4)")
    p.add_argument("--month", action="store_true", help="e2e on a simulated month (31 days; the default)")
    p.add_argument("--year", action="store_true", help="e2e on a simulated year (365 days; long)")
    p.add_argument("--days", type=int, default=None,
                   help="e2e / detect input length in days (overrides); realism: the first N day-files")
    p.add_argument("--repeat", type=int, default=3, help="repeats of each key timing (default 3)")
    p.add_argument("--ref-repeat", type=int, default=3, help="repeats of the reference run (default 3; 0 = skip)")
    p.add_argument("--budget", type=float, default=60.0, help="reference time budget per run [s] (default 60)")
    p.add_argument("--dense", action=argparse.BooleanOptionalAction, default=True,
                   help="also compare on dense synthetic tracks (default on)")
    p.add_argument("--synthetic", action="store_true", help="detect: synthetic tracks instead of builder.simulate")
    p.add_argument("--workers", default=None,
                   help="Dask LocalCluster sizes (e2e default 1,2; speed default 2; '' = skip)")
    p.add_argument("--dense-days", type=int, default=1200,
                   help="speed: simulated days over Central Europe packed into the dense set (default 1200)")
    p.add_argument("--dask-files", type=int, default=None, help="files for the Dask runs (default all)")
    p.add_argument("--input", type=Path, default=None,
                   help="use the Lite/CSV files in this folder (real or simulated; truth.csv optional) "
                        "instead of simulating (realism: Lite .nc4 files; default the build's simulated month)")
    p.add_argument("--seeds", default="1,2,3,4,5",
                   help="validation: seeds of the other simulated months (default 1,2,3,4,5)")
    p.add_argument("--jobs", type=int, default=2, help="realism: files run by oco2peak in parallel (default 2)")
    p.add_argument("--real", type=Path, default=None,
                   help="realism: the real fits CSV (default: ../shared/data/seed-real-peaks/peaks_out_1808.csv beside the repository)")
    p.add_argument("--dask-only", action="store_true",
                   help="e2e: only (re)measure the Dask runs, merged into the existing e2e results")
    p.add_argument("--reference-only", action="store_true",
                   help="speed: only run oco2peak (c) for the sets of the last results that lack it")
    p.add_argument("--no-render", action="store_true")
    p.add_argument("--no-floor", action="store_true", help="skip the I/O floor measurement")
    p.add_argument("--quick", action="store_true", help="small and fast: 3 days, 1 repeat, 15 s budget")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON (default bench/results.json; realism: bench/results-realism.json)")
    a = p.parse_args(argv)
    if a.out is None:
        from bench.realism import RESULTS as REALISM_RESULTS

        a.out = REALISM_RESULTS if a.what == "realism" else RESULTS
    return a


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_child":
        return _child(argv[1:])
    if argv and argv[0] == "report":
        from bench.report import main as report

        return report(Path(argv[1]) if len(argv) > 1 else RESULTS)
    a = parse(argv)
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s", stream=sys.stderr)
    logging.getLogger("atlas").setLevel(logging.WARNING)
    if a.quick:
        a.repeat, a.ref_repeat, a.budget = 1, 1, 15.0
        a.days = a.days or 3
    days = a.days or (365 if a.year else 31)
    WORK.mkdir(parents=True, exist_ok=True)
    m = machine()
    print(f"machine: {m['processor']}, {m['cpu_count']} cores, load {m['loadavg_at_start']}, "
          f"OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']}, numpy {m['numpy']}, python {m['python']}")
    if a.what == "speed":
        from bench.speed import report_lines, run_speed

        t = time.perf_counter()
        workers = [int(x) for x in (a.workers if a.workers is not None else "2").split(",") if x.strip()]
        if a.reference_only:       # (c) into the last speed results (oco2peak installed after the run)
            from bench.speed import fill_reference

            r = fill_reference(json.loads(a.out.read_text())["speed"], a.budget)
        else:
            r = run_speed(repeat=a.repeat, budget_s=a.budget, dense_days=40 if a.quick else a.dense_days,
                          month_days=min(days, 31), workers=workers[0] if workers else 0)
        r["bench_seconds"] = time.perf_counter() - t
        print("\nSPEED (issue 15): medians of %d alternating runs, ranges in brackets" % a.repeat)
        for line in report_lines(r):
            print(line)
        write_results("speed", r, a.out, machine_info=m)
        print(f"\nwritten: {a.out}")
        return 0
    if a.what == "validation":
        from bench.validation import main as validation

        return validation([int(x) for x in a.seeds.split(",") if x.strip()], a.days or 31)
    if a.what == "incremental":
        from bench.incremental import main as incremental

        return incremental(a.days or 31, a.repeat)
    if a.what == "realism":
        from bench.realism import main as realism

        return realism(a, m, argv)
    if a.what in ("detect", "all"):
        from bench.detect_bench import DETECT_HEADER, run_detect, summary_rows

        t = time.perf_counter()
        r = run_detect(orbits=a.orbits, source="synthetic" if a.synthetic else "simulated",
                       days=min(days, 31), budget_s=a.budget, repeat=a.repeat, ref_repeat=a.ref_repeat,
                       dense=a.dense and not a.synthetic, dense_budget_s=min(a.budget, 30.0), input_dir=a.input)
        r["bench_seconds"] = time.perf_counter() - t
        print("\nDETECTION THROUGHPUT (same orbits, one run; soundings/s median (spread = (max-min)/median "
              f"over {a.repeat} / {a.ref_repeat} runs); match within {r['match_km']:g} km, same orbit)")
        print(table(summary_rows(r), DETECT_HEADER))
        for key in ("simulated", "synthetic", "dense_synthetic"):
            x = r.get(key)
            if x and x.get("reference"):
                print(f"  {x['label']}: reference tried {x['reference_windows_tried']} windows, fitted "
                      f"{x['reference_windows_fitted']} (others < 400 soundings), "
                      f"{1000 * x['reference_s_per_window_tried']:.1f} ms per window; ratio range "
                      f"{x['ratio_range'][0]:,.0f}-{x['ratio_range'][1]:,.0f}x")
        write_results("detect", _drop_frames(r), a.out, machine_info=m)
    if a.what in ("e2e", "all"):
        from bench.e2e import run_e2e, stage_rows

        workers = tuple(int(x) for x in (a.workers if a.workers is not None else "1,2").split(",") if x.strip())
        if a.dask_only:
            return _dask_only(a, days, workers, m)
        t = time.perf_counter()
        r = run_e2e(days=days, repeat=a.repeat, workers=workers, dask_files=a.dask_files, floor=not a.no_floor,
                    render=not a.no_render, input_dir=a.input)
        r["bench_seconds"] = time.perf_counter() - t
        print(f"\nEND TO END: {r['label']}: {r['n_files']} files, {r['n_orbits']} orbits, {r['n_soundings']:,} "
              f"soundings, {r['n_detections']} detections, {r.get('n_pages')} pages; seconds over {a.repeat} runs")
        print(table(stage_rows(r), ("stage", "wall median s", "wall range", "spread", "CPU median s")))
        mem = r["memory_per_file_mb"]
        print(f"peak RSS {r['peak_rss_mb']['median']:.0f} MB (range {r['peak_rss_mb']['min']:.0f}-"
              f"{r['peak_rss_mb']['max']:.0f}); RSS growth after the first quarter of files: "
              f"{mem.get('mb_per_file') if mem.get('mb_per_file') is None else round(mem['mb_per_file'], 2)} MB/file")
        if r.get("render_pages_per_s"):
            print(f"render: {r['render_pages_per_s']['median']:,.0f} pages/s (HTML pages, without search index)")
        f = r.get("io_floor")
        if f:
            rows = [(k, f"{f[k]['median']:.2f}", f"{f['n_soundings'] / f[k]['median']:,.0f}")
                    for k in ("netcdf4_needed_vars", "xarray_needed_vars", "read_file_full", "detect")]
            print(f"I/O floor over {f['n_files']} files ({f['bytes'] / 2**20:.0f} MB, {f['note']}):")
            print(table(rows, ("step", "median s", "soundings/s")))
        _print_dask(r["dask"])
        y = r["extrapolation_year"]
        print(f"year (extrapolated, {y['method']}): {y['orbits']} orbits, ~{y['soundings']:,} soundings; "
              + ", ".join(f"{k} {v:,.0f}" for k, v in y.items() if isinstance(v, float)))
        write_results("e2e_year" if r["n_files"] >= 300 else "e2e", r, a.out, machine_info=m)
    print(f"\nwritten: {a.out}")
    return 0


def _print_dask(dask_runs):
    if not dask_runs:
        return
    rows = []
    for d in dask_runs:
        sp = d.get("soundings_per_s_stats")
        rows.append((d["workers"], d["n_files"], f"{d['cluster_startup_seconds']:.1f}", f"{d['files_seconds']:.1f}",
                     f"{d['soundings_per_s']:,.0f}" + (f" ({sp['min']:,.0f}-{sp['max']:,.0f})" if sp else ""),
                     f"{d['soundings_per_s_per_worker']:,.0f}", f"{d['orbits_per_hour_per_worker']:,.0f}"))
    print("Dask LocalCluster (run_core, no cache; 1 thread per worker; medians):")
    print(table(rows, ("workers", "files", "startup s", "run_core files s", "soundings/s (range)",
                       "snd/s/worker", "orbits/h/worker")))


def _dask_only(a, days, workers, m=None) -> int:
    from bench import data
    from bench.e2e import _extrapolate_year, run_dask

    current = json.loads(a.out.read_text()) if a.out.exists() else {}
    r = current.get("e2e")
    if not r:
        raise SystemExit("--dask-only needs an existing e2e section in " + str(a.out))
    sim_dir = Path(r["sim_dir"])
    files = data.lite_files(sim_dir)
    r["dask"] = run_dask(sim_dir, files, workers, a.dask_files, a.repeat, 3600.0)
    r["extrapolation_year"] = _extrapolate_year(r)
    _print_dask(r["dask"])
    write_results("e2e", r, a.out, machine_key="e2e_dask", machine_info=m)
    print(f"\nwritten: {a.out} (e2e.dask)")
    return 0


def _drop_frames(r):
    return json.loads(json.dumps(r, default=lambda o: None))


if __name__ == "__main__":
    raise SystemExit(main())
