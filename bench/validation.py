"""``python -m bench validation``: the validation figures on the default simulated
month and on other simulated months (other seeds), per month and pooled.

Each month: ``atlas simulate --seed N`` -> ``atlas detect`` -> ``atlas validate``
(the build's own commands, run as subprocesses, two at a time). Pooled figures
come from ``builder.validate.validate`` on the months' tables concatenated, with
``instrument`` and ``source_id`` tagged by seed so that months never mix.
Writes bench/results-validation.json and docs/validation.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from bench.common import ROOT, WORK

RESULTS = ROOT / "bench" / "results-validation.json"
DOC = ROOT / "docs" / "validation.md"
ATLAS = [sys.executable, "-m", "builder"]
TABLES = ("truth.csv", "tracks.csv", "detections.csv", "overpasses.csv", "sources_summary.csv")
#: candidate figures (builder.validate_candidates) are pooled by summing the months' counts

#: (label, path into the validate() result, format)
ROWS = [
    ("per-source observed/inventory, median (>= 5 Mt/yr)", ("overpasses", "per_source", "median_ratio"), "{:.3f}"),
    ("sources >= 5 Mt/yr with a measurement", ("overpasses", "per_source", "n"), "{:d}"),
    ("  same, detected overpasses only (selection-biased)", ("overpasses", "per_source", "median_ratio_detected_only"),
     "{:.3f}"),
    ("per-source truth inside 1 sigma", ("overpasses", "per_source", "inside_1sigma"), "{:.0%}"),
    ("per-overpass pulls, mean", ("overpasses", "pulls", "mean"), "{:+.3f}"),
    ("per-overpass pulls, sd", ("overpasses", "pulls", "sd"), "{:.3f}"),
    ("overpasses measured", ("overpasses", "n_measured"), "{:d}"),
    ("precision of plumes (targeted)", ("overpasses", "targeted", "precision"), "{:.1%}"),
    ("targeted detections", ("overpasses", "targeted", "n"), "{:d}"),
    ("headline recall, targeted", ("overpasses", "targeted", "headline_recall"), "{:.0%}"),
    ("false targeted detections / 1000 km", ("overpasses", "targeted", "fp_per_1000km"), "{:.3f}"),
    ("blind scan: false detections / 1000 km", ("fp_per_1000km",), "{:.3f}"),
    ("blind scan: share of anomalies that are plumes", ("_blind_precision",), "{:.0%}"),
    ("blind scan: headline recall", ("headline", "recall"), "{:.0%}"),
    ("withheld sources >= 5 Mt/yr (not in the detector's inventory)", ("candidates", "n_ge5"), "{:d}"),
    ("candidate recall of withheld >= 5 Mt/yr within 10 km", ("candidates", "recall_ge5"), "{:.0%}"),
    ("  same, withheld >= 10 Mt/yr", ("candidates", "recall_ge10"), "{:.0%}"),
    ("  same, >= 5 Mt/yr with a visible plume on >= 2 days", ("candidates", "recall_seen_ge5"), "{:.0%}"),
    ("candidates", ("candidates", "n_candidates"), "{:d}"),
    ("candidate precision (a simulated source within 10 km)", ("candidates", "precision"), "{:.0%}"),
    ("  same, a withheld source within 10 km", ("candidates", "precision_new"), "{:.0%}"),
    ("false candidates per million km2", ("candidates", "false_per_mkm2"), "{:.3f}"),
]


def run(cmd: list[str]) -> None:
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:])} failed:\n{p.stderr[-2000:]}")


def one_month(seed: int | None, days: int, work: Path) -> Path:
    """Simulate (unless seed is None: the build's default month), detect, validate; returns the month folder."""
    d = work / ("default" if seed is None else f"seed-{seed}")
    sim = ROOT / "dataset" / "simulated" if seed is None else d / "sim"
    if seed is not None and not (sim / "truth.csv").exists():
        run(ATLAS + ["simulate", "--out", str(sim), "--seed", str(seed), "--days", str(days)])
    run(ATLAS + ["detect", "--oco2", str(sim), "--out", str(d / "det")])
    run(ATLAS + ["validate", "--truth", str(sim), "--detections", str(d / "det"), "--json", str(d / "validation.json")])
    for name in ("truth.csv", "tracks.csv"):
        (d / "det" / f"_{name}").write_bytes((sim / name).read_bytes())
    return d


def null_month(days: int, work: Path) -> dict:
    """The default month's world without plumes (``atlas simulate --no-plumes``): the share of
    plume-free crossings that the targeted detection flags (its false-detection rate)."""
    d = work / "plume-free"
    if not (d / "sim" / "truth.csv").exists():
        run(ATLAS + ["simulate", "--out", str(d / "sim"), "--no-plumes", "--days", str(days)])
    run(ATLAS + ["detect", "--oco2", str(d / "sim"), "--out", str(d / "det")])
    o = pd.read_csv(d / "det" / "overpasses.csv")
    det = o["detected"].astype(str).str.lower().isin(["true", "1"])
    return {"n_crossings": int(len(o)), "n_false_targeted": int(det.sum()),
            "false_targeted_share": float(det.mean()) if len(o) else None,
            "n_false_anomalies": int(len(pd.read_csv(d / "det" / "detections.csv")))}


def _tag(df: pd.DataFrame, tag: str) -> pd.DataFrame:
    df = df.copy()
    if "instrument" in df.columns:
        df["instrument"] = df["instrument"].astype(str) + "@" + tag
    if "source_id" in df.columns:
        ids = df["source_id"].fillna("").astype(str)
        df["source_id"] = ids.where(ids == "", ids + "@" + tag)
    if "site_source_ids" in df.columns:
        df["site_source_ids"] = df["site_source_ids"].fillna("").astype(str).map(
            lambda v: "|".join(f"{x}@{tag}" for x in v.split("|") if x))
    return df


def pooled(months: list[Path], work: Path) -> dict:
    """validate() on the months' tables concatenated (tagged per month)."""
    from builder.config import load_config
    from builder.validate import validate

    out = work / "pooled"
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        src = [(m.name, m / "det" / (f"_{name}" if name in ("truth.csv", "tracks.csv") else name)) for m in months]
        frames = [_tag(pd.read_csv(p, low_memory=False), tag) for tag, p in src]
        pd.concat(frames, ignore_index=True).to_csv(out / name, index=False)
    return validate(out, out, load_config(ROOT / "atlas.toml"))


def _get(r: dict, path: tuple):
    if path == ("_blind_precision",):
        c = r["counts"]
        return c["n_matched_detections"] / c["n_detections"] if c["n_detections"] else None
    for k in path:
        r = r.get(k) if isinstance(r, dict) else None
    return r


def table(results: dict[str, dict]) -> list[str]:
    names = list(results)
    lines = ["| figure | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, path, fmt in ROWS:
        cells = []
        for n in names:
            v = _get(results[n], path)
            cells.append("n/a" if v is None else fmt.format(v))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main(seeds: list[int], days: int = 31) -> int:
    work = WORK / "validation"
    work.mkdir(parents=True, exist_ok=True)
    jobs = [None] + seeds
    with ThreadPoolExecutor(2) as pool:
        months = list(pool.map(lambda s: one_month(s, days, work), jobs))
    results = {m.name: json.loads((m / "validation.json").read_text()) for m in months}
    results["pooled"] = pooled(months, work)
    from builder.validate_candidates import pool

    results["pooled"]["candidates"] = pool([results[m.name].get("candidates") for m in months])
    null = null_month(days, work)
    lines = table(results) + ["", f"Plume-free world (default month without plumes): {null['n_false_targeted']} of "
                              f"{null['n_crossings']} crossings flagged as targeted detections "
                              f"({100 * (null['false_targeted_share'] or 0):.2f} %, target <= 1 %); "
                              f"{null['n_false_anomalies']} blind-scan anomalies."]
    print("\n".join(lines))
    RESULTS.write_text(json.dumps({"seeds": seeds, "days": days, "results": results, "plume_free": null}, indent=2,
                                  sort_keys=True,
                                  default=str))
    old = DOC.read_text() if DOC.exists() else ""
    notes = old.split("\n## Notes", 1)[1] if "\n## Notes" in old else ""     # hand-written, kept
    DOC.write_text("\n".join([
        "# Validation on simulated months", "",
        "Produced by `bash scripts/bench.sh validation` (default month = the build's; other months: "
        f"`atlas simulate --seed N`, {days} days from the configured start). Each month is simulated from "
        "the inventory, so the true observed/inventory ratio is 1. Pooled: all months' tables together. "
        "Definitions: `builder/validate.py`, `builder/validate_overpasses.py`; figures in "
        "`bench/results-validation.json`.", "", *lines, ""]) + ("\n## Notes" + notes if notes else ""))
    print(f"written: {RESULTS}, {DOC}")
    return 0
