"""Markdown tables of bench/results.json (``python -m bench report``), pasted
into docs/performance.md after a measurement."""

from __future__ import annotations

import json
from pathlib import Path


def _md(rows, header) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _rate(s):
    return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})"


def _cpu(x):
    c = x.get("soundings_per_cpu_s")
    return f"; CPU {c['median']:,.0f}" if c else ""


def _recall(m):
    if not m:
        return "n/a"
    r = m["recall"]
    return (f"{r['peak>=2ppm']['found']}/{r['peak>=2ppm']['truth']} · {r['peak>=1ppm']['found']}/"
            f"{r['peak>=1ppm']['truth']} · {r['peak>=0ppm']['found']}/{r['peak>=0ppm']['truth']}; "
            f"{m['n_distinct_detections']} distinct dets, {m['n_detections_unmatched']} unmatched")


def markdown(results: dict) -> str:
    parts = []
    mach = results.get("machines", {})
    d = results.get("detect")
    if d:
        m = mach.get("detect", {})
        parts.append(f"**Detection** — measured {m.get('date_utc')} on {m.get('processor')}, {m.get('cpu_count')} cores "
                     f"(shared; load average at start {', '.join(f'{x:.1f}' for x in m.get('loadavg_at_start', []))}, when written {', '.join(f'{x:.1f}' for x in m.get('loadavg_when_written', []))}), "
                     f"OPENBLAS_CORETYPE={m.get('OPENBLAS_CORETYPE')}, commit {m.get('git_commit')}. "
                     f"Input: {d['input']['kind']}, {d['input']['n_orbits']} orbits, "
                     f"{d['input']['n_soundings']:,} soundings, {d['input']['n_crossings']:,} true plume crossings.\n")
        rows = []
        for key in ("simulated", "synthetic", "dense_synthetic"):
            x = d.get(key)
            if not x:
                continue
            f = x.get("reference")
            rows.append((x["label"], len(x["orbits"]), f"{x['n_soundings']:,}",
                         _rate(x["ours"]["soundings_per_s"]) + _cpu(x["ours"]),
                         (_rate(f["soundings_per_s"]) + _cpu(f)) if f else "n/a",
                         (f"**{x['ratio_median']:,.0f}×** ({x['ratio_range'][0]:,.0f}–{x['ratio_range'][1]:,.0f}); "
                          f"CPU {x.get('ratio_cpu_median', float('nan')):,.0f}×") if f else "n/a",
                         f"{x.get('reference_windows_fitted', 'n/a')}/{x.get('reference_windows_tried', 'n/a')}",
                         _recall(x.get("truth_ours")), _recall(x.get("truth_reference"))))
            a = x.get("ours_all_orbits")
            if a:
                rows.append((f"ours only, all {a['n_orbits']} orbits", a["n_orbits"], f"{a['n_soundings']:,}",
                             _rate(a["soundings_per_s"]) + _cpu(a), "", "", "", _recall(a["truth"]), ""))
        parts.append(_md(rows, ("orbits", "n", "soundings", "ours soundings/s median (min–max); per CPU s", "reference soundings/s; per CPU s",
                                "ratio", "ref. windows fitted/tried",
                                "ours: found ≥2 · ≥1 · all ppm", "reference: found ≥2 · ≥1 · all ppm")))
    for key in ("e2e", "e2e_year"):
        e = results.get(key)
        if not e:
            continue
        m = mach.get(key, {})
        parts.append(f"\n**End to end: {e['label']}** — {e['n_files']} files ({e['input_bytes'] / 2**20:,.0f} MB), "
                     f"{e['n_orbits']} orbits, {e['n_soundings']:,} soundings, {e['n_detections']} detections, "
                     f"{e.get('n_pages')} pages; {len(e['runs'])} run(s) of `build()` in a fresh process, no result cache; "
                     f"measured {m.get('date_utc')}, load average at start "
                     f"{', '.join(f'{x:.1f}' for x in m.get('loadavg_at_start', []))}, when written "
                     f"{', '.join(f'{x:.1f}' for x in m.get('loadavg_when_written', []))}, commit {m.get('git_commit')}.\n")
        from bench.e2e import stage_rows

        parts.append(_md(stage_rows(e), ("stage", "wall median s", "wall range s", "spread", "CPU median s")))
        slope = e.get("memory_per_file_mb", {}).get("mb_per_file")
        slope_txt = "n/a" if slope is None else f"{slope:.2f}"
        parts.append(f"\nPeak RSS {e['peak_rss_mb']['median']:,.0f} MB (range {e['peak_rss_mb']['min']:,.0f}–"
                     f"{e['peak_rss_mb']['max']:,.0f}); RSS growth per file after the first quarter: {slope_txt} MB.")
        if e.get("render_pages_per_s"):
            parts.append(f"Rendering: {_rate(e['render_pages_per_s'])} HTML pages/s (search index excluded).")
        f = e.get("io_floor")
        if f:
            rows = [(k, f"{f[k]['median']:.2f}", f"{f['n_soundings'] / f[k]['median']:,.0f}")
                    for k in ("netcdf4_needed_vars", "xarray_needed_vars", "read_file_full", "detect")]
            parts.append(f"\nI/O floor over {f['n_files']} files ({f['bytes'] / 2**20:,.0f} MB; {f['note']}):\n")
            parts.append(_md(rows, ("step", "median s (3 runs)", "soundings/s")))
        if e.get("dask"):
            rows = [(x["workers"], x["n_files"], f"{x['cluster_startup_seconds']:.1f}", f"{x['files_seconds']:.1f}",
                     f"{x['soundings_per_s']:,.0f}" + (f" ({x['soundings_per_s_stats']['min']:,.0f}–"
                                                      f"{x['soundings_per_s_stats']['max']:,.0f})"
                                                      if x.get("soundings_per_s_stats") else ""),
                     f"{x['soundings_per_s_per_worker']:,.0f}",
                     f"{x['orbits_per_hour_per_worker']:,.0f}") for x in e["dask"]]
            parts.append("\nDask `LocalCluster` (`run_core(..., scheduler=\"local\")`, 1 thread per worker, no cache; "
                         "rates exclude the separately measured start-up):\n")
            parts.append(_md(rows, ("workers", "files", "start-up s", "run_core files s", "soundings/s median (range)",
                                    "soundings/s/worker", "orbits/h/worker")))
        y = e.get("extrapolation_year")
        if y and key == "e2e":
            vals = "; ".join(f"{k.replace('_', ' ')}: {v:,.0f}" for k, v in y.items() if isinstance(v, float))
            parts.append(f"\nYear, extrapolated ({y['method']}): {y['orbits']:,} orbits, ~{y['soundings']:,} "
                         f"simulated soundings; {vals}.")
    return "\n".join(parts) + "\n"


def main(path: Path) -> int:
    """Print ``path`` (and the year run in results-year.json beside it, if any) as Markdown."""
    results = json.loads(Path(path).read_text()) if Path(path).exists() else {}
    year = Path(path).with_name("results-year.json")
    if year.exists() and year != Path(path):
        extra = json.loads(year.read_text())
        for key in ("e2e_year",):
            if key in extra and key not in results:
                results[key] = extra[key]
                results.setdefault("machines", {})[key] = extra.get("machines", {}).get(key, {})
    print(markdown(results))
    return 0
