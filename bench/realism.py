"""``python -m bench realism [--input DIR] [--days N] [--jobs J]``: realism of the simulated observations.

oco2peak 0.0.4 (:func:`bench.reference.run_reference`, unchanged) on every orbit of a folder of Lite files
(default: the build's simulated month); statistics of its fits and of the soundings beside its fits on real
OCO-2 data (August 2018). Writes bench/results-realism.json and docs/realism.md."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import ROOT, table, write_results

log = logging.getLogger("bench")

#: The real-data target: the project's shared folder beside the repository (shared/data/seed-real-peaks).
REAL_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "seed-real-peaks" / "peaks_out_1808.csv"
REAL_SOURCE = ("peaks_out_1808.csv: every fit that passed the volunteer team's filters on real NASA OCO-2 L2 Lite v9 "
               "data, August 2018 (29 days; 10 and 11 August missing); copied unchanged from their public repository "
               "dataforgoodfr/batch7_satellite_ges (dataset/output/peaks_out_1808.csv, Apache-2.0)")
REAL_DAYS, MONTH_DAYS = 29, 31
RESULTS = Path(__file__).resolve().parent / "results-realism.json"
DOC = ROOT / "docs" / "realism.md"
Q = (5, 25, 50, 75, 95)
WINDOW_KM = 200.0     #: running-median window of the sounding residuals (the reference's fit window)
MIN_IN_WINDOW = 20    #: fewer soundings in that window: no residual (the median would follow the sounding)
PEAK_COLUMNS = ["orbit", "sounding_id", "latitude", "longitude", "slope", "intercept", "amplitude", "sigma",
                "delta", "R"]


def quantiles(x) -> list[float] | None:
    """The 5/25/50/75/95 % quantiles of the finite values (None when there are none)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return [float(v) for v in np.percentile(x, Q)] if len(x) else None


def _median(x) -> float | None:
    x = np.asarray(x, float)
    return float(np.median(x)) if len(x) else None


def fit_statistics(peaks: pd.DataFrame, days: float | None = None, orbits: float | None = None,
                   good_soundings: int | None = None) -> dict:
    """Statistics of oco2peak fits (columns orbit, latitude, slope, intercept, sigma, delta, R,
    land_water_indicator). Rates need ``days`` / ``orbits`` / ``good_soundings`` (else None)."""
    n = len(peaks)
    lat = peaks["latitude"].to_numpy(float)
    b = peaks["intercept"].to_numpy(float)
    north, tropics = _median(b[(lat >= 45) & (lat <= 60)]), _median(b[np.abs(lat) <= 15])
    with_fit = int(peaks["orbit"].nunique())
    return {
        "n_fits": n, "fits_per_day": n / days if days else None, "fits_per_orbit": n / orbits if orbits else None,
        "orbits_with_fits": with_fit, "fits_per_orbit_with_fit": n / with_fit if with_fit else None,
        "fits_per_1000_good": 1000.0 * n / good_soundings if good_soundings else None,
        "delta_ppm": quantiles(peaks["delta"]),
        "abs_sigma_km": quantiles(np.abs(peaks["sigma"].to_numpy(float))),
        "R": quantiles(peaks["R"]),
        "abs_slope_x200km_ppm": quantiles(200.0 * np.abs(peaks["slope"].to_numpy(float))),
        "intercept_ppm": quantiles(b),
        "water_share": float(np.mean(peaks["land_water_indicator"].to_numpy() == 1)) if n else None,
        "latitude_deg": quantiles(lat),
        "intercept_45_60N_ppm": north, "intercept_15S_15N_ppm": tropics,
        "pole_equator_contrast_ppm": north - tropics if north is not None and tropics is not None else None,
        "intercept_mean_ppm": float(np.mean(b)) if n else None,
    }


def running_median(along_km, y, window_km: float = WINDOW_KM, min_count: int = MIN_IN_WINDOW) -> np.ndarray:
    """Median of ``y`` over the centred ``window_km`` along track (``along_km`` sorted); NaN where
    the window holds fewer than ``min_count`` values. pandas' offset window, 1 km -> 1 s."""
    t = np.round(np.asarray(along_km, float) * 1e9).astype("int64").view("datetime64[ns]")
    s = pd.Series(np.asarray(y, float), index=pd.DatetimeIndex(t))
    return s.rolling(pd.Timedelta(seconds=window_km), center=True, closed="both",
                     min_periods=min_count).median().to_numpy()


def sounding_parts(tracks) -> dict:
    """What :func:`sounding_statistics` needs, small enough to send between processes: residuals around the
    running median, and differences of adjacent footprints of one frame (same time) on the same surface."""
    res = [pd.DataFrame({"resid": np.float32([]), "lw": np.int8([])})]
    pairs = [pd.DataFrame({"diff": np.float32([]), "lw": np.int8([])})]
    for tr in tracks:
        s = tr.soundings
        y, lw = s["xco2_ppm"].to_numpy(float), s["land_water"].to_numpy(np.int8)
        res.append(pd.DataFrame({"resid": (y - running_median(s["along_km"], y)).astype(np.float32), "lw": lw}))
        frame, fp = s["sounding_id"].to_numpy(np.int64) // 10, s["footprint"].to_numpy(int)
        same = (frame[1:] == frame[:-1]) & (np.abs(fp[1:] - fp[:-1]) == 1) & (lw[1:] == lw[:-1])
        pairs.append(pd.DataFrame({"diff": (y[1:] - y[:-1])[same].astype(np.float32), "lw": lw[1:][same]}))
    return {"resid": pd.concat(res, ignore_index=True), "pairs": pd.concat(pairs, ignore_index=True)}


def scatter(resid, diff) -> dict:
    """Scatter of one surface: std of the residuals, tail indicator std / (1.4826 MAD) (1 for a
    Gaussian), white part sqrt(var(diff) / 2), correlated part sqrt(max(std^2 - white^2, 0))."""
    r, d = np.asarray(resid, float), np.asarray(diff, float)
    r = r[np.isfinite(r)]
    sd = float(np.std(r)) if len(r) >= 2 else None
    mad = float(np.median(np.abs(r - np.median(r)))) if len(r) >= 2 else 0.0
    white = math.sqrt(float(np.var(d)) / 2) if len(d) >= 2 else None
    corr = math.sqrt(max(sd ** 2 - white ** 2, 0.0)) if sd is not None and white is not None else None
    return {"n_residuals": int(len(r)), "n_pairs": int(len(d)), "std_ppm": sd,
            "tail": sd / (1.4826 * mad) if mad > 0 else None, "white_ppm": white, "correlated_ppm": corr,
            "correlated_over_white": corr / white if corr is not None and white else None}


def summarize_soundings(parts: list[dict], days: int | None = None, scale_days: int | None = None) -> dict:
    """Good soundings (scaled to ``scale_days`` if given), water share, and :func:`scatter` for land
    (land_water 0) and water (1)."""
    res = pd.concat([p["resid"] for p in parts], ignore_index=True)
    pairs = pd.concat([p["pairs"] for p in parts], ignore_index=True)
    n, lw, plw = len(res), res["lw"].to_numpy(), pairs["lw"].to_numpy()
    month = n * scale_days / days if (scale_days and days) else n
    out = {"n_good": n, "days": days, "good_month": month, "good_month_scaled": bool(scale_days and days),
           "water_share": float(np.mean(lw == 1)) if n else None}
    for name, code in (("land", 0), ("water", 1)):
        out[name] = scatter(res["resid"].to_numpy()[lw == code], pairs["diff"].to_numpy()[plw == code])
    return out


def sounding_statistics(tracks, days: int | None = None, scale_days: int | None = None) -> dict:
    """:func:`summarize_soundings` of these tracks' good soundings."""
    return summarize_soundings([sounding_parts(tracks)], days, scale_days)


#: key, label, number format, target: ("rel", x) = within +-x of real (the median of quantiles),
#: ("range", lo, hi), ("pm", x) = within +-x of real.
ROWS = [
    ("fits_per_day", "fits per day", "{:.1f}", ("rel", 0.30)),
    ("fits_per_orbit", "fits per orbit (all orbits)", "{:.2f}", None),
    ("fits_per_orbit_with_fit", "fits per orbit with >= 1 fit", "{:.2f}", None),
    ("fits_per_1000_good", "fits per 1000 good soundings", "{:.3f}", None),
    ("delta_ppm", "delta [ppm] q5/25/50/75/95", "{:.2f}", ("rel", 0.25)),
    ("abs_sigma_km", "|sigma| [km] q5/25/50/75/95", "{:.1f}", ("rel", 0.25)),
    ("R", "R q5/25/50/75/95", "{:.2f}", ("rel", 0.25)),
    ("abs_slope_x200km_ppm", "|slope| x 200 km [ppm] q5/../95", "{:.2f}", None),
    ("intercept_ppm", "intercept [ppm] q5/../95", "{:.1f}", None),
    ("water_share", "fits over water", "{:.0%}", ("range", 0.50, 0.80)),
    ("latitude_deg", "fit latitude [deg] q5/../95", "{:.0f}", None),
    ("intercept_45_60N_ppm", "median intercept 45-60 N [ppm]", "{:.1f}", ("pm", 1.0)),
    ("intercept_15S_15N_ppm", "median intercept 15 S-15 N [ppm]", "{:.1f}", None),
    ("pole_equator_contrast_ppm", "pole-equator contrast [ppm]", "{:+.1f}", None),
    ("intercept_mean_ppm", "month mean of intercepts [ppm]", "{:.1f}", None),
    ("soundings.good_month", "good soundings in the month", "{:,.0f}", ("range", 2.2e6, 2.9e6)),
    ("plumes.within_30pct", "noise-free single crossings within ±30 % of the emission", "{:.0%}",
     ("range", 0.35, 0.70)),
    ("soundings.water_share", "good soundings over water", "{:.0%}", None),
] + [(f"soundings.{s}.{k}", f"{s}: {label}", fmt, None) for s in ("land", "water") for k, label, fmt in (
    ("std_ppm", "residual std [ppm]", "{:.2f}"), ("tail", "std / (1.4826 MAD)", "{:.2f}"),
    ("white_ppm", "white scatter [ppm]", "{:.2f}"), ("correlated_ppm", "correlated scatter [ppm]", "{:.2f}"),
    ("correlated_over_white", "correlated / white", "{:.2f}"))]


def _get(d: dict | None, key: str):
    for part in key.split("."):
        d = d.get(part) if isinstance(d, dict) else None
    return d


def _text(v, fmt: str) -> str:
    if v is None:
        return "n/a"
    return " / ".join(fmt.format(x) for x in v) if isinstance(v, list) else fmt.format(v)


def _bounds(spec, real) -> tuple[float, float] | None:
    if spec[0] == "range":
        return spec[1], spec[2]
    if real is None:
        return None
    real = real[2] if isinstance(real, list) else real
    return (real * (1 - spec[1]), real * (1 + spec[1])) if spec[0] == "rel" else (real - spec[1], real + spec[1])


def compare(sim: dict, real: dict) -> list[dict]:
    """One row per :data:`ROWS` entry: both values, the target and whether the simulation meets it
    (quantile rows are judged on their median)."""
    rows = []
    for key, label, fmt, spec in ROWS:
        s, r = _get(sim, key), _get(real, key)
        row = {"key": key, "label": label, "simulated": s, "real": r, "simulated_text": _text(s, fmt),
               "real_text": _text(r, fmt), "target": "", "pass": None, "verdict": ""}
        lim = _bounds(spec, r) if spec else None
        if lim:
            what = "" if spec[0] == "range" else ("median " if isinstance(r, list) else "") + "±" + (
                f"{spec[1]:.0%}" if spec[0] == "rel" else f"{spec[1]:g}") + " of real: "
            tfmt = fmt if spec[0] == "range" else re.sub(r"\.(\d)", lambda m: f".{int(m[1]) + 1}", fmt)  # 1 more digit
            row["target"] = what + f"{tfmt.format(lim[0])} – {tfmt.format(lim[1])}"
            v = s[2] if isinstance(s, list) else s
            row["pass"] = None if v is None else bool(lim[0] <= v <= lim[1])
            row["verdict"] = {None: "", True: "pass", False: "FAIL"}[row["pass"]]
        rows.append(row)
    return rows


def load_real(path: Path = REAL_CSV) -> tuple[pd.DataFrame, dict]:
    """The real fits with R >= 0 (oco2peak 0.0.4 rejects R < 0) and the month's orbits: orbit numbers are
    consecutive, so their span over the calendar days spanned gives orbits per day; x 29 days with data."""
    path = Path(path)
    raw = pd.read_csv(path)
    day = pd.to_datetime((raw["sounding_id"] // 10**8).astype(str), format="%Y%m%d")
    per_day = (raw["orbit"].max() - raw["orbit"].min() + 1) / ((day.max() - day.min()).days + 1)
    info = {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "source": REAL_SOURCE,
            "n_rows": int(len(raw)), "n_rows_R_ge_0": int((raw["R"] >= 0).sum()), "days": REAL_DAYS,
            "orbits_per_day": float(per_day), "orbits_derived": float(per_day * REAL_DAYS)}
    return raw[raw["R"] >= 0].reset_index(drop=True), info


def fit_file(task) -> dict:
    """Worker: one Lite file -> oco2peak fits on each of its orbits (with the land_water flag of the
    centre sounding), its orbits and :func:`sounding_parts`."""
    from bench import reference
    from builder.soundings import read_lite

    path, ingest = task
    tracks = read_lite(path, ingest)
    t = time.perf_counter()
    found = reference.run_reference(tracks, budget_s=math.inf)["peaks"] if tracks else None
    peaks = found[[c for c in PEAK_COLUMNS if c in found.columns]].copy() if found is not None \
        else pd.DataFrame(columns=PEAK_COLUMNS)
    lw = pd.concat([pd.Series(dtype=int)] + [tr.soundings.set_index("sounding_id")["land_water"] for tr in tracks])
    peaks["land_water_indicator"] = peaks["sounding_id"].astype(np.int64).map(lw[~lw.index.duplicated()])
    return {"file": Path(path).name, "orbits": sorted({tr.orbit for tr in tracks}), "peaks": peaks,
            "n_soundings": int(sum(tr.n for tr in tracks)), "seconds": time.perf_counter() - t,
            "parts": sounding_parts(tracks)}


def default_input(cfg=None) -> Path:
    """The build's simulated month (``[paths] simulated``), simulated as the build does if absent."""
    from builder.build import ensure_simulation, load_sources
    from builder.config import load_config
    from builder.errors import Problems

    cfg = cfg or load_config(ROOT / "atlas.toml")
    folder = cfg.path("simulated")
    if not any(folder.glob("*.nc4")):
        sources, profiles = load_sources(cfg, Problems())
        ensure_simulation(cfg, sources, profiles)
    return folder


def _run_files(files: list[Path], jobs: int) -> list[dict]:
    """:func:`fit_file` on each file, ``jobs`` processes, one file per task (in file order)."""
    from builder.config import load_config

    ingest = load_config(ROOT / "atlas.toml").ingest
    out = []
    with multiprocessing.Pool(max(1, min(jobs, len(files)))) as pool:
        for r in pool.imap(fit_file, [(f, ingest) for f in files], chunksize=1):
            out.append(r)
            log.info("%s: %d orbits, %d good soundings, %d fits in %.0f s (%d/%d files)", r["file"],
                     len(r["orbits"]), r["n_soundings"], len(r["peaks"]), r["seconds"], len(out), len(files))
    return out


def simulated_statistics(out: list[dict], scale_days: int | None) -> dict:
    """:func:`fit_statistics` and :func:`summarize_soundings` over the per-file results."""
    peaks = pd.concat([r["peaks"] for r in out], ignore_index=True)
    n_good, orbits = sum(r["n_soundings"] for r in out), set().union(*(r["orbits"] for r in out))
    sim = fit_statistics(peaks, days=len(out), orbits=len(orbits), good_soundings=n_good)
    sim["n_orbits"] = len(orbits)
    sim["soundings"] = summarize_soundings([r["parts"] for r in out], days=len(out), scale_days=scale_days)
    return sim


def run_realism(folder: Path, days: int | None = None, jobs: int = 2, real_path: Path = REAL_CSV) -> dict:
    """oco2peak on the first ``days`` Lite files (one a day) of ``folder``, its statistics beside the
    real fits'. With ``days``, the good soundings are scaled to a 31-day month."""
    from bench.reference import available
    from builder.soundings import find_input_files

    ok, version = available()
    if not ok:
        raise SystemExit(f"oco2peak is not installed ({version}): run bash scripts/bench.sh realism")
    files = [f for f in find_input_files(folder) if f.suffix.lower() in (".nc4", ".nc")][:days or None]
    if not files:
        raise SystemExit(f"no OCO Lite (.nc4) files under {folder}")
    t = time.perf_counter()
    out = _run_files(files, jobs)
    sim = simulated_statistics(out, MONTH_DAYS if days else None)
    sim["plumes"] = plume_statistics(folder)
    real_peaks, info = load_real(real_path)
    real = fit_statistics(real_peaks, days=REAL_DAYS, orbits=info["orbits_derived"])
    meta = folder / "simulation.json"
    made = json.loads(meta.read_text()) if meta.exists() else {}
    made = {k: made.get(k) for k in ("simulator_version", "seed", "start", "days")} if made else None
    return {"input": str(folder), "input_simulation": made, "files": [f.name for f in files], "days": len(files),
            "days_option": days, "jobs": jobs, "oco2peak": version, "seconds": time.perf_counter() - t,
            "simulated": sim, "real": real, "real_info": info, "rows": compare(sim, real),
            "per_file": [{"file": r["file"], "n_soundings": r["n_soundings"], "seconds": r["seconds"],
                          "n_fits": len(r["peaks"])} for r in out]}


def plume_statistics(folder: Path) -> dict:
    """Share of truth crossings whose noise-free flux (line density x normal wind = Q x line_factor,
    builder.simplume) is within +-30 % of the emission; None without a truth.csv."""
    path = folder / "truth.csv"
    if not path.exists():
        return {"within_30pct": None, "n": 0}
    f = pd.read_csv(path, usecols=["line_factor"])["line_factor"].to_numpy(float)
    f = f[np.isfinite(f)]
    return {"within_30pct": float(np.mean(np.abs(f - 1.0) < 0.3)) if len(f) else None, "n": int(len(f))}


def notes(r: dict) -> list[str]:
    i, s = r["real_info"], r["simulated"]
    sim = r.get("input_simulation") or {}
    out = [f"simulated: {r['input']}, {r['days']} day-files, {s['n_orbits']} orbits, "
           f"{s['soundings']['n_good']:,} good soundings (quality flag 0, [ingest] screening), {s['n_fits']} fits"
           + ("; written by " + ", ".join(f"{k} {v}" for k, v in sim.items()) if sim else "")
           + ("; builder/ had uncommitted changes" if r.get("builder_uncommitted_changes") else ""),
           f"real: the {i['n_rows_R_ge_0']:,} of {i['n_rows']:,} fits with R >= 0, since oco2peak 0.0.4 rejects R < 0 "
           f"(all rows: {i['n_rows'] / REAL_DAYS:.1f} fits/day); 'all orbits' = {i['orbits_derived']:.0f}, derived: "
           f"{i['orbits_per_day']:.2f} orbits/day from the file's consecutive orbit numbers x {REAL_DAYS} days",
           f"real source: {i['source']}; sha256 {i['sha256'][:16]}…",
           "n/a: not derivable from the real fits file (it holds fits, no soundings)"]
    if s["soundings"]["good_month_scaled"]:
        out.append(f"good soundings in the month: SCALED from {r['days']} days to {MONTH_DAYS} "
                   f"(--days {r['days_option']})")
    return out


def print_report(r: dict) -> None:
    rows = [(x["label"], x["simulated_text"], x["real_text"], x["target"], x["verdict"]) for x in r["rows"]]
    print(f"\nREALISM: oco2peak {r['oco2peak']} fits on simulated vs real OCO-2 data ({r['seconds']:.0f} s, "
          f"{r['jobs']} processes)")
    print(table(rows, ("quantity", "simulated", "real", "target", "")))
    print("\n".join("  " + n for n in notes(r)))


#: (part of a row key, explanation); the first row matching each is explained
EXPLAIN = [
    ("fits_per_day", "fits that pass oco2peak's filters, per day of data (one Lite file a day)."),
    ("fits_per_orbit", "fits / orbits in the data (real: derived orbit count, see notes), and / orbits with a fit."),
    ("fits_per_1000", "fits per 1000 good (quality flag 0) soundings."),
    ("_ppm", "5/25/50/75/95 % quantiles over the fits: delta = peak height, |sigma| = Gaussian width, R = "
             "correlation of fit and data within ±4 sigma, |slope| x 200 km = background change across the "
             "window, intercept = background level."),
    ("water_share", "share of the fits whose centre sounding has land_water_indicator 1 (simulated: joined on "
                    "sounding_id to the soundings read)."),
    ("intercept_45_60N", "median background of the fits at 45-60 N (real: the northern summer drawdown); "
                         "contrast = that minus the median at 15 S-15 N."),
    ("good_month", "good soundings kept by the build's [ingest] screening; then the share with land_water 1."),
    ("land.std", "soundings minus their 200 km running median along the orbit (windows with >= 20 soundings), "
                 "land (land_water 0) and water (1) apart; tail indicator std / (1.4826 MAD) = 1 if Gaussian."),
    ("land.white", "white: from adjacent footprints of one frame (same time, same surface), var(difference) / 2; "
                   "correlated: sqrt(max(residual variance − white variance, 0)), what neighbours share."),
]


def markdown(r: dict, command: str) -> str:
    lines = ["# Realism of the simulated observations", "",
             "The volunteer team's detector (PyPI `oco2peak` 0.0.4, unchanged: every 15th good sounding a "
             "centre, 200 km window, >= 400 soundings, `curve_fit`, their filters) run on our simulated "
             "orbits, beside its fits on real OCO-2 data. Most of these fits are not plumes: they show what "
             "noise, correlated errors and background gradients look like to a Gaussian fitter.", "",
             f"Produced by `{command}` (= `.venv/bin/python -m bench {command.split(' ', 2)[-1]}`) in "
             f"{r['seconds']:.0f} s; figures in `bench/results-realism.json`.", "",
             "| quantity | simulated | real | target | |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(x[k].replace("|", "\\|") for k in ("label", "simulated_text", "real_text", "target",
                                                                    "verdict")) + " |" for x in r["rows"]]
    lines += ["", "Notes:", ""] + [f"- {n}" for n in notes(r)] + ["", "Rows:", ""]
    for part, text in EXPLAIN:
        label = next(x["label"] for x in r["rows"] if part in x["key"])
        lines.append(f"- **{label.replace('land: ', 'land / water: ')}**: {text}")
    return "\n".join(lines) + "\n"


def main(a, machine_info: dict, argv: list[str]) -> int:
    """``python -m bench realism``: run, print, write the JSON (``a.out``) and docs/realism.md."""
    r = run_realism(Path(a.input or default_input()), days=a.days, jobs=a.jobs, real_path=a.real or REAL_CSV)
    r["builder_uncommitted_changes"] = machine_info.get("builder_uncommitted_changes")
    print_report(r)
    write_results("realism", r, a.out, machine_info=machine_info)
    DOC.write_text(markdown(r, "bash scripts/bench.sh " + " ".join(argv)))
    print(f"\nwritten: {a.out}, {DOC}")
    return 0
