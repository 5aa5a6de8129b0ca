"""Run the core over input files: per-file work (in-process or on a Dask
cluster) with an on-disk cache, then the global stages.

Per file (independent, cacheable, parallel)::

    read tracks -> detect -> quantify -> attribute -> Gaussian-plume fit -> overpasses

Global (cheap, over all files)::

    candidate new sources (clustering) -> candidate overpasses (a second, cached per-file pass:
    builder.candidates) -> compare per source -> validation (simulated truth)

A bad file never stops the build: it becomes a :class:`SkippedItem` naming the
file and the reason. Cache entries are keyed by the file's content hash, the
algorithm version and the configuration and inventory fingerprints; each entry
is written atomically and checked (key + table checksums) before it is
trusted, so a corrupt or foreign entry is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from builder import tables
from builder.tables import concat_tables, empty_table, sort_table
from builder.config import Config
from builder.csvsafe import safe_text_columns
from builder.events import stage
from builder.dedupe import dedupe_files, drop_repeated_orbits, renumber_detections, unique_overpass_ids
from builder.plausible import apply_bounds, flag_implausible, plausible_only
from builder.published import classify_anomalies, published_detections
from builder.backends import InProcess, make_backend, progress_iter  # noqa: F401 (progress_iter: re-exported)
from builder.results import BuildResult, SkippedItem
from builder.errors import InputError, exc_line
from builder.outdir import atomic_write
from builder.resultcache import ALGORITHM_VERSION, TABLE_NAMES, ResultCache  # noqa: F401 (re-exported)
from builder.soundings import Track, read_file

log = logging.getLogger("atlas")

TRACK_SUMMARY_COLUMNS = ["instrument", "orbit", "source_file", "n_soundings", "track_km", "time_start", "time_end",
                         "simulated"]


@dataclass
class FileResult:
    """Everything one input file contributes to the atlas."""

    file: str
    detections: pd.DataFrame
    profiles: pd.DataFrame
    overpasses: pd.DataFrame
    tracks: pd.DataFrame
    errors: list[SkippedItem] = field(default_factory=list)
    cached: bool = False
    #: per track (lat_min, lat_max, lon_min, lon_max) when computed in this run (not cached):
    #: lets the candidate pass skip files whose tracks pass nowhere near a candidate
    track_boxes: np.ndarray | None = None


# ----------------------------------------------------------------------------- hashing


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def inventory_fingerprint(sources: pd.DataFrame) -> str:
    """Hash of the inventory table: a changed inventory changes attribution."""
    cols = [c for c in ("source_id", "latitude", "longitude", "emission_t_yr", "profile_month",
                        "profile_week", "profile_hour") if c in sources]
    h = hashlib.sha256(pd.util.hash_pandas_object(sources[cols], index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


#: Modules whose code determines per-file results: their source is part of the cache key,
#: so changing the algorithm can never serve stale results.
_CORE_MODULES = ("soundings", "ingestcheck", "dedupe", "detect", "quantify", "attribute", "overpass", "forcedfit",
                 "trackgeom", "plumetemplate", "physics", "scan",
                 "litefmt", "tables", "errors", "pipeline", "backends", "resultcache")


def code_fingerprint() -> str:
    h = hashlib.sha256(ALGORITHM_VERSION.encode())
    here = Path(__file__).parent
    for name in _CORE_MODULES:
        h.update((here / f"{name}.py").read_bytes())
    return h.hexdigest()[:16]


def cache_key(file_hash: str, cfg: Config, inv_fp: str) -> str:
    text = "|".join([code_fingerprint(), file_hash, inv_fp,
                     cfg.fingerprint("ingest", "detect", "quantify", "attribute")])
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- per-file work


def process_tracks(tracks: Iterable[Track], file_name: str, cfg: Config, sources: pd.DataFrame,
                   emission_kg_s: Callable) -> FileResult:
    """Blind scan and quantification per track, then for the whole file at once: attribute the
    anomalies and the Gaussian-plume fit (row-wise stages: one call per file, not per track, so
    the inventory is looked up once per distinct time of the file) and every overpass
    (builder.overpass.measure_overpasses, one table per file)."""
    from builder.attribute import attribute
    from builder.candidates import track_boxes
    from builder.overpass import measure_overpasses
    from builder.detect import detect_track
    from builder.quantify import fit_gaussian_plume, quantify

    tracks = list(tracks)
    # fewer soundings than a detection window or an overpass needs: nothing to measure (thousands of
    # one-sounding "orbits" in a file cost no detection work)
    too_few = min(max(cfg.detect.min_soundings_window, 6), cfg.attribute.overpass_min_soundings)
    busy = [t.n >= too_few for t in tracks]
    dets, profs = [], []
    for track, ok in zip(tracks, busy):
        if ok:
            with stage("detect"):
                det, prof = detect_track(track, cfg.detect)
            # quantify per track: its direction-error quadrature is a matrix product (BLAS) whose
            # last bits depend on the number of rows, and outputs must not depend on the batching
            with stage("quantify"):
                dets.append(quantify(det, cfg.quantify))
            profs.append(prof)
    found = [d for d in dets if len(d)]
    det = pd.concat(found, ignore_index=True) if found else (dets[0] if dets else None)
    prof = concat_tables(profs, tables.PROFILE_COLUMNS)
    if det is not None:
        with stage("attribute"):
            det = attribute(det, sources, emission_kg_s, cfg.attribute)
        with stage("gaussian_plume_fit"):
            det = fit_gaussian_plume(det, prof, sources, cfg)
    with stage("overpasses"):
        ovp = measure_overpasses([t for t, ok in zip(tracks, busy) if ok], det, sources, emission_kg_s, cfg)
    return FileResult(
        file=file_name,
        detections=det if found else empty_table(tables.DETECTION_FIT_COLUMNS),
        profiles=prof,
        overpasses=ovp if len(ovp) else empty_table(tables.OVERPASS_COLUMNS),
        tracks=_track_summary(tracks, file_name),
        track_boxes=track_boxes(tracks),
    )


def _track_summary(tracks: list[Track], file_name: str) -> pd.DataFrame:
    """One row per track: orbit, soundings, covered km, first and last time."""
    summ = []
    for track in tracks:
        s = track.soundings
        t = s["time_utc"]
        summ.append({"instrument": track.instrument, "orbit": track.orbit, "source_file": file_name,
                     "n_soundings": track.n, "track_km": _covered_km(s["along_km"].to_numpy()),
                     "time_start": t.min(), "time_end": t.max(),
                     "simulated": bool(getattr(track, "simulated", False))})
    return pd.DataFrame(summ, columns=TRACK_SUMMARY_COLUMNS)


def _covered_km(along_km: np.ndarray, gap_km: float = 10.0) -> float:
    """Track length actually covered by good soundings (gaps > gap_km excluded)."""
    if len(along_km) < 2:
        return 0.0
    d = np.diff(np.sort(along_km))
    return float(d[d <= gap_km].sum())


def process_file(path: str | Path, cfg: Config, sources: pd.DataFrame, emission_kg_s: Callable) -> FileResult:
    """One input file -> FileResult. Bad input becomes an error entry, not an exception: any failure
    while reading or processing this file is one skip line naming it; the build goes on."""
    path = Path(path)
    notes: list[str] = []
    try:
        with stage("read"):
            tracks = read_file(path, cfg.ingest, notes)
        res = process_tracks(tracks, path.name, cfg, sources, emission_kg_s)
    except InputError as exc:
        return _failed(path, exc.reason)
    except Exception as exc:  # noqa: BLE001 - isolation (MemoryError too): one file never stops the build
        log.debug("processing %s failed", path.name, exc_info=True)
        return _failed(path, f"could not be processed ({exc_line(exc, path)})")
    res.errors.extend(SkippedItem(item=path.name, reason=n, stage="ingest") for n in notes)
    if not tracks:
        res.errors.append(SkippedItem(item=path.name, reason="no good-quality soundings after screening",
                                      stage="ingest"))
    return res


def _failed(path: Path, reason: str) -> FileResult:
    return FileResult(file=path.name, detections=empty_table(tables.DETECTION_FIT_COLUMNS),
                      profiles=empty_table(tables.PROFILE_COLUMNS), overpasses=empty_table(tables.OVERPASS_COLUMNS),
                      tracks=empty_table(TRACK_SUMMARY_COLUMNS),
                      errors=[SkippedItem(item=path.name, reason=reason, stage="ingest")])


# ----------------------------------------------------------------------------- core run


@dataclass
class CoreRun:
    result: BuildResult
    n_processed: int = 0     # files computed this run (not from cache)
    n_cached: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def run_core(cfg: Config, files: list[Path], sources: pd.DataFrame, emission_kg_s: Callable,
             skipped: list[SkippedItem], *, scheduler: str | None = None, use_cache: bool = True,
             progress: bool | None = None) -> CoreRun:
    """Per-file work (cached; in-process or on Dask, builder.backends) for ``files``, then the
    global stages (the candidate pass on the same backend)."""
    from builder.compare import compare

    t0 = time.perf_counter()
    cache = ResultCache(cfg.path("cache")) if use_cache else None
    if cache:
        cache.clean_stale()
    inv_fp = inventory_fingerprint(sources)
    todo, results, keys = [], {}, {}
    for path, h in dedupe_files(files, skipped, file_sha256):
        key = keys[path] = cache_key(h, cfg, inv_fp)
        hit = cache.get(key) if cache else None
        if hit is not None:
            results[path] = hit
        else:
            todo.append(path)
    sched = scheduler if scheduler is not None else cfg.compute.scheduler
    backend = make_backend(sched, cfg.compute.workers) if todo else InProcess()
    try:
        for p, res in backend.map(process_file, [str(p) for p in todo], cfg, sources, emission_kg_s,
                                  desc="detect", progress=progress):
            results[Path(p)] = res
            if cache:
                cache.put(keys[Path(p)], res)
        t1 = time.perf_counter()
        ordered, detections, profiles, overpasses, tracks_df = _combine(results, cfg, skipped)
        t_c = time.perf_counter()
        plausible = detections.loc[~detections["flag_implausible"].to_numpy(bool)]
        candidates, cand_ovp = _candidate_pass(plausible, results, keys, sources, emission_kg_s, cfg, use_cache,
                                               progress, backend)
        t_c = time.perf_counter() - t_c
    finally:
        backend.close()
    detections = classify_anomalies(detections, candidates)
    summary_table = compare(plausible_only(overpasses, cfg.plausible))
    t2 = time.perf_counter()
    result = BuildResult(sources=sources, detections=detections, profiles=profiles, overpasses=overpasses,
                         candidates=candidates, source_summary=summary_table,
                         summary=_summary(ordered, detections, overpasses, candidates, tracks_df), skipped=skipped)
    result.tracks = tracks_df  # type: ignore[attr-defined]
    result.candidate_overpasses = cand_ovp
    n_cached = sum(r.cached for r in ordered)
    return CoreRun(result=result, n_processed=len(ordered) - n_cached, n_cached=n_cached,
                   seconds={"files": t1 - t0, "global": t2 - t1, "candidates": t_c})


def _combine(results: dict, cfg: Config, skipped: list[SkippedItem]):
    """The files' tables as one: repeated orbits once, detections renumbered, sorted, plausibility
    bounds applied. Returns (ordered results, detections, profiles, overpasses, tracks)."""
    repeats = drop_repeated_orbits(results)  # one orbit in two files: counted once (builder/dedupe.py)
    ordered = [results[p] for p in sorted(results, key=lambda p: (p.name, str(p)))]
    renumber_detections(ordered)
    for r in ordered:
        skipped.extend(r.errors)
    skipped.extend(repeats)
    detections = sort_table(concat_tables([r.detections for r in ordered], tables.DETECTION_FIT_COLUMNS), ["detection_id"])
    profiles = sort_table(concat_tables([r.profiles for r in ordered], tables.PROFILE_COLUMNS), ["detection_id", "along_km"])
    overpasses = sort_table(unique_overpass_ids(concat_tables([r.overpasses for r in ordered], tables.OVERPASS_COLUMNS)),
                       ["overpass_id"])
    tracks_df = sort_table(concat_tables([r.tracks for r in ordered], TRACK_SUMMARY_COLUMNS), ["instrument", "orbit", "source_file"])
    detections, overpasses = apply_bounds(detections, overpasses, cfg.plausible)  # implausible: never a plume
    return ordered, detections, profiles, overpasses, tracks_df


def _candidate_pass(plausible: pd.DataFrame, results: dict, keys: dict, sources: pd.DataFrame,
                    emission_kg_s: Callable, cfg: Config, use_cache: bool, progress, backend):
    """Candidates: every unexplained anomaly is a seed measured at every overpass (a second, cached
    pass over the files, on ``backend``); returns (candidates, their overpasses)."""
    from builder.candidates import find_candidates, measure_candidates, select_candidates, summarise_candidates

    seeds = find_candidates(plausible, cfg.attribute, min_days=1)      # every unexplained anomaly
    cand_cache = ResultCache(cfg.path("cache") / "candidates") if use_cache else None   # apart from file entries
    boxes = {p: r.track_boxes for p, r in results.items()}
    seed_ovp = measure_candidates(seeds, keys, sources, emission_kg_s, cfg, cand_cache, progress, boxes, backend)
    seed_ovp = flag_implausible(seed_ovp, cfg.plausible) if seed_ovp is not None else None
    candidates, cand_ovp = select_candidates(seeds, seed_ovp, plausible, cfg.attribute)
    candidates = summarise_candidates(candidates, plausible_only(cand_ovp, cfg.plausible), sources)
    return candidates, cand_ovp


def _summary(ordered, detections, overpasses, candidates, tracks_df) -> dict:
    """summary.json's counts and period."""
    have = len(tracks_df) > 0
    return {
        "n_files": len(ordered),
        "n_orbits": int(tracks_df[["instrument", "orbit"]].drop_duplicates().shape[0]) if have else 0,
        "n_soundings": int(pd.to_numeric(tracks_df["n_soundings"]).sum()) if have else 0,
        "track_km": float(pd.to_numeric(tracks_df["track_km"]).sum()) if have else 0.0,
        "n_detections": int(len(detections)),        # blind-scan anomalies (all kinds)
        "n_targeted": int(overpasses["detected"].fillna(False).astype(bool).sum()) if len(overpasses) else 0,
        "n_measured": int(np.isfinite(pd.to_numeric(overpasses["emission_kg_s"], errors="coerce")).sum())
        if len(overpasses) else 0,
        "n_attributed": int((detections.get("source_id", pd.Series(dtype=object)).fillna("").astype(str) != "").sum()),
        "n_overpasses": int(len(overpasses)),
        "n_candidates": int(len(candidates)),
        "instruments": sorted(tracks_df["instrument"].dropna().unique().tolist()) if have else [],
        "period_start": _iso_date(tracks_df["time_start"].min()) if have else None,
        "period_end": _iso_date(tracks_df["time_end"].max()) if have else None,
    }


def _iso_date(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v):
        return None
    return pd.Timestamp(v).strftime("%Y-%m-%d")


# ----------------------------------------------------------------------------- tables out


def write_tables(result: BuildResult, out_dir: Path) -> list[Path]:
    """Write the result tables as CSV (+ summary.json) into ``out_dir`` atomically per file."""
    with stage("write_tables"):
        return _write_tables(result, out_dir)


def _write_tables(result: BuildResult, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    named = {
        "detections.csv": published_detections(result.detections, result.overpasses, result.sources),
        "overpasses.csv": result.overpasses,
        "candidates.csv": result.candidates,
        "candidate_overpasses.csv": result.candidate_overpasses if result.candidate_overpasses is not None
        else empty_table(tables.OVERPASS_COLUMNS),
        "sources_summary.csv": result.source_summary,
        "profiles.csv": result.profiles,
    }
    tracks = getattr(result, "tracks", None)
    if tracks is not None:
        named["tracks.csv"] = tracks
    for name, df in named.items():
        written.append(atomic_write(out_dir / name, safe_text_columns(df).to_csv(index=False, float_format="%.6g")
                                     .encode()))
    summary = dict(result.summary)
    summary["skipped"] = [s.__dict__ for s in result.skipped]
    written.append(atomic_write(out_dir / "summary.json",
                                 json.dumps(summary, indent=2, sort_keys=True, default=str).encode()))
    return written


