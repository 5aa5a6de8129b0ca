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
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from builder import tables
from builder.cachesign import cache_secret, sign, verify
from builder.config import Config
from builder.csvsafe import safe_text_columns
from builder.dedupe import dedupe_files, drop_repeated_orbits, renumber_detections, unique_overpass_ids
from builder.plausible import apply_bounds, flag_implausible, plausible_only
from builder.published import classify_anomalies, published_detections
from builder.results import BuildResult, SkippedItem
from builder.soundings import InputError, Track, _exc_line, read_file

log = logging.getLogger("atlas")

#: Bump when detection/quantification/attribution change their outputs; invalidates the cache.
ALGORITHM_VERSION = "1"
TABLE_NAMES = ("detections", "profiles", "overpasses", "tracks")
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
                 "trackgeom", "plumetemplate", "physics",
                 "litefmt", "tables", "pipeline")


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


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


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
            det, prof = detect_track(track, cfg.detect)
            # quantify per track: its direction-error quadrature is a matrix product (BLAS) whose
            # last bits depend on the number of rows, and outputs must not depend on the batching
            dets.append(quantify(det, cfg.quantify))
            profs.append(prof)
    found = [d for d in dets if len(d)]
    det = pd.concat(found, ignore_index=True) if found else (dets[0] if dets else None)
    prof = _concat(profs, tables.PROFILE_COLUMNS)
    if det is not None:
        det = attribute(det, sources, emission_kg_s, cfg.attribute)
        det = fit_gaussian_plume(det, prof, sources, cfg)
    ovp = measure_overpasses([t for t, ok in zip(tracks, busy) if ok], det, sources, emission_kg_s, cfg)
    return FileResult(
        file=file_name,
        detections=det if found else _empty(tables.DETECTION_FIT_COLUMNS),
        profiles=prof,
        overpasses=ovp if len(ovp) else _empty(tables.OVERPASS_COLUMNS),
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


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return _empty(columns)
    return pd.concat(frames, ignore_index=True)


def process_file(path: str | Path, cfg: Config, sources: pd.DataFrame, emission_kg_s: Callable) -> FileResult:
    """One input file -> FileResult. Bad input becomes an error entry, not an exception: any failure
    while reading or processing this file is one skip line naming it; the build goes on."""
    path = Path(path)
    notes: list[str] = []
    try:
        tracks = read_file(path, cfg.ingest, notes)
        res = process_tracks(tracks, path.name, cfg, sources, emission_kg_s)
    except InputError as exc:
        return _failed(path, exc.reason)
    except Exception as exc:  # noqa: BLE001 - isolation (MemoryError too): one file never stops the build
        log.debug("processing %s failed", path.name, exc_info=True)
        return _failed(path, f"could not be processed ({_exc_line(exc, path)})")
    res.errors.extend(SkippedItem(item=path.name, reason=n, stage="ingest") for n in notes)
    if not tracks:
        res.errors.append(SkippedItem(item=path.name, reason="no good-quality soundings after screening",
                                      stage="ingest"))
    return res


def _failed(path: Path, reason: str) -> FileResult:
    return FileResult(file=path.name, detections=_empty(tables.DETECTION_FIT_COLUMNS),
                      profiles=_empty(tables.PROFILE_COLUMNS), overpasses=_empty(tables.OVERPASS_COLUMNS),
                      tracks=_empty(TRACK_SUMMARY_COLUMNS),
                      errors=[SkippedItem(item=path.name, reason=reason, stage="ingest")])


# ----------------------------------------------------------------------------- cache


class ResultCache:
    """Per-file results on disk: ``<cache>/<key[:2]>/<key>/`` with meta.json + CSV tables.

    Entries are written into a temporary folder and renamed into place, so a
    killed build leaves either a complete entry or none. Reading verifies the
    stored key and each table's sha256; anything off is discarded and recomputed.
    """

    def __init__(self, root: Path, secret: bytes | None = None):
        self.root = Path(root)
        self.secret = secret if secret is not None else cache_secret()  # kept outside the cache (cachesign.py)

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> FileResult | None:
        d = self._dir(key)
        meta_path = d / "meta.json"
        if not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("key") != key or meta.get("version") != ALGORITHM_VERSION:
                raise ValueError("foreign entry")
            if not verify(self.secret, meta):
                raise ValueError("not signed with this cache's key")
            frames = {}
            for name in TABLE_NAMES:
                raw = (d / f"{name}.json").read_bytes()
                if hashlib.sha256(raw).hexdigest() != meta["sha256"][name]:
                    raise ValueError(f"{name}.json checksum mismatch")
                frames[name] = _read_typed(raw, meta["dtypes"][name])
            errors = [SkippedItem(**e) for e in meta.get("errors", [])]
            return FileResult(file=meta["file"], errors=errors, cached=True, **frames)
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError, pd.errors.ParserError) as exc:
            log.warning("cache entry %s is corrupt or foreign (%s); recomputing", key[:12], exc)
            shutil.rmtree(d, ignore_errors=True)
            return None

    def clean_stale(self, max_age_s: float = 3600.0) -> int:
        """Remove half-written entries (``.tmp-*``) left by killed builds; younger ones may belong to
        a build running now. Returns how many were removed."""
        n, now = 0, time.time()
        for tmp in self.root.glob("*/.tmp-*"):
            try:
                if now - tmp.stat().st_mtime > max_age_s:
                    shutil.rmtree(tmp, ignore_errors=True)
                    n += 1
            except OSError:
                pass
        return n

    def put(self, key: str, res: FileResult) -> None:
        """Store ``res``; the cache is optional: a full or unwritable cache only warns."""
        try:
            self._put(key, res)
        except OSError as exc:  # no half entry left behind either
            log.warning("cache not written (%s); the build goes on without it", exc.strerror or exc)
            for tmp in self.root.glob(f"{key[:2]}/.tmp-{key}-*"):
                shutil.rmtree(tmp, ignore_errors=True)

    def _put(self, key: str, res: FileResult) -> None:
        d = self._dir(key)
        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = d.parent / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        meta = {"key": key, "version": ALGORITHM_VERSION, "file": res.file, "sha256": {}, "dtypes": {},
                "errors": [e.__dict__ for e in res.errors]}
        for name in TABLE_NAMES:
            df = getattr(res, name)
            enc = df.copy()
            for c in enc.columns:  # datetimes as exact int64 nanoseconds (NaT -> int64 min -> NaT)
                if str(enc[c].dtype).startswith("datetime64"):
                    enc[c] = enc[c].dt.as_unit("ns").astype("int64")
            raw = _encode_split(enc)
            (tmp / f"{name}.json").write_bytes(raw)
            meta["sha256"][name] = hashlib.sha256(raw).hexdigest()
            meta["dtypes"][name] = {c: str(t) for c, t in df.dtypes.items()}
        meta["mac"] = sign(self.secret, meta)
        with open(tmp / "meta.json", "w", encoding="utf-8") as f:
            json.dump(meta, f)
            f.flush()
            os.fsync(f.fileno())
        if d.exists():
            shutil.rmtree(d, ignore_errors=True)
        try:
            os.replace(tmp, d)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)


def _encode_split(df: pd.DataFrame) -> bytes:
    """``{"columns", "data"}`` JSON with exact floats (Python's shortest round-trip repr; NaN and
    Infinity kept): pandas' to_json keeps at most 15 digits, so a cached result would differ from
    a fresh one in the last digits and the site would depend on whether the cache was used."""
    def scalar(o):
        if isinstance(o, np.generic):
            return o.item()
        raise TypeError(f"cannot cache a {type(o).__name__}")

    rows = df.astype(object).to_numpy().tolist()
    return json.dumps({"columns": [str(c) for c in df.columns], "data": rows}, default=scalar,
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _read_typed(raw: bytes, dtypes: dict[str, str]) -> pd.DataFrame:
    """Inverse of the JSON "split" encoding used by :meth:`ResultCache.put` (keeps '' vs None)."""
    data = json.loads(raw)
    if data.get("columns") != list(dtypes):
        raise ValueError("column mismatch")
    df = pd.DataFrame(data["data"], columns=data["columns"])
    for col, dt in dtypes.items():
        if dt.startswith("datetime64"):
            df[col] = pd.to_datetime(df[col].astype("int64"), unit="ns", utc=True).astype(dt)
        elif dt == "object":
            df[col] = df[col].astype(object)
        elif dt in ("str", "string"):  # pandas' string dtypes: restore them, a fresh result has them
            df[col] = df[col].astype(dt)
        else:
            try:
                df[col] = df[col].astype(dt)
            except (ValueError, TypeError):
                df[col] = pd.to_numeric(df[col], errors="coerce") if dt.startswith(("float", "int")) else df[col]
    return df


# ----------------------------------------------------------------------------- progress


def progress_iter(items, desc: str, total: int | None = None, enabled: bool | None = None):
    """tqdm bar on an interactive terminal; plain log lines (every ~10%) in CI/pipes."""
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    interactive = sys.stderr.isatty() and not os.environ.get("CI") if enabled is None else enabled
    if interactive:
        from tqdm import tqdm

        yield from tqdm(items, desc=desc, total=total, leave=False)
        return
    step = max(1, (total or 10) // 10)
    for i, item in enumerate(items, 1):
        yield item
        if total and (i % step == 0 or i == total):
            log.info("%s: %d/%d", desc, i, total)


# ----------------------------------------------------------------------------- core run


@dataclass
class CoreRun:
    result: BuildResult
    n_processed: int = 0     # files computed this run (not from cache)
    n_cached: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _client(cfg: Config, scheduler: str | None):
    """A dask.distributed Client: "local" -> LocalCluster sized to the machine, an address -> that cluster."""
    sched = scheduler if scheduler is not None else cfg.compute.scheduler
    if sched in ("", "none", "serial", None):
        return None   # in-process: distributed is not even imported (~0.5 s)
    from dask.distributed import Client, LocalCluster

    if sched == "local":
        n = cfg.compute.workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        return Client(cluster)
    return Client(sched)


def run_core(cfg: Config, files: list[Path], sources: pd.DataFrame, emission_kg_s: Callable,
             skipped: list[SkippedItem], *, scheduler: str | None = None, use_cache: bool = True,
             progress: bool | None = None) -> CoreRun:
    """Per-file work (cached, optionally on Dask) for ``files``, then the global stages."""
    from builder.candidates import find_candidates, measure_candidates, select_candidates, summarise_candidates
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
            todo.append((path, key))
    client = _client(cfg, scheduler) if todo else None
    try:
        if client is not None:
            src_f = client.scatter(sources, broadcast=True)
            futures = {client.submit(process_file, str(p), cfg, src_f, emission_kg_s, key=f"file-{k}", pure=False): (p, k)
                       for p, k in todo}
            from dask.distributed import as_completed

            for fut in progress_iter(as_completed(futures), "detect (dask)", total=len(futures), enabled=progress):
                p, k = futures[fut]
                res = fut.result()
                results[p] = res
                if cache:
                    cache.put(k, res)
        else:
            for p, k in progress_iter(todo, "detect", enabled=progress):
                res = process_file(p, cfg, sources, emission_kg_s)
                results[p] = res
                if cache:
                    cache.put(k, res)
    finally:
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None and (scheduler or cfg.compute.scheduler) == "local":
                cluster.close()  # ours to close; an external scheduler's cluster is left running
    t1 = time.perf_counter()
    repeats = drop_repeated_orbits(results)  # one orbit in two files: counted once (builder/dedupe.py)
    ordered = [results[p] for p in sorted(results, key=lambda p: (p.name, str(p)))]
    renumber_detections(ordered)
    for r in ordered:
        skipped.extend(r.errors)
    skipped.extend(repeats)
    detections = _sort(_concat([r.detections for r in ordered], tables.DETECTION_FIT_COLUMNS), ["detection_id"])
    profiles = _sort(_concat([r.profiles for r in ordered], tables.PROFILE_COLUMNS), ["detection_id", "along_km"])
    overpasses = _sort(unique_overpass_ids(_concat([r.overpasses for r in ordered], tables.OVERPASS_COLUMNS)),
                       ["overpass_id"])
    tracks_df = _sort(_concat([r.tracks for r in ordered], TRACK_SUMMARY_COLUMNS), ["instrument", "orbit", "source_file"])
    detections, overpasses = apply_bounds(detections, overpasses, cfg.plausible)  # implausible: never a plume
    t_c = time.perf_counter()
    plausible = detections.loc[~detections["flag_implausible"].to_numpy(bool)]
    seeds = find_candidates(plausible, cfg.attribute, min_days=1)      # every unexplained anomaly
    cand_cache = ResultCache(cfg.path("cache") / "candidates") if use_cache else None   # apart from file entries
    boxes = {p: r.track_boxes for p, r in results.items()}
    seed_ovp = measure_candidates(seeds, keys, sources, emission_kg_s, cfg, cand_cache, progress, boxes)
    seed_ovp = flag_implausible(seed_ovp, cfg.plausible) if seed_ovp is not None else None
    candidates, cand_ovp = select_candidates(seeds, seed_ovp, plausible, cfg.attribute)
    candidates = summarise_candidates(candidates, plausible_only(cand_ovp, cfg.plausible), sources)
    t_c = time.perf_counter() - t_c
    detections = classify_anomalies(detections, candidates)
    summary_table = compare(plausible_only(overpasses, cfg.plausible))
    t2 = time.perf_counter()
    summary = {
        "n_files": len(ordered),
        "n_orbits": int(tracks_df[["instrument", "orbit"]].drop_duplicates().shape[0]) if len(tracks_df) else 0,
        "n_soundings": int(pd.to_numeric(tracks_df["n_soundings"]).sum()) if len(tracks_df) else 0,
        "track_km": float(pd.to_numeric(tracks_df["track_km"]).sum()) if len(tracks_df) else 0.0,
        "n_detections": int(len(detections)),        # blind-scan anomalies (all kinds)
        "n_targeted": int(overpasses["detected"].fillna(False).astype(bool).sum()) if len(overpasses) else 0,
        "n_measured": int(np.isfinite(pd.to_numeric(overpasses["emission_kg_s"], errors="coerce")).sum())
        if len(overpasses) else 0,
        "n_attributed": int((detections.get("source_id", pd.Series(dtype=object)).fillna("").astype(str) != "").sum()),
        "n_overpasses": int(len(overpasses)),
        "n_candidates": int(len(candidates)),
        "instruments": sorted(tracks_df["instrument"].dropna().unique().tolist()) if len(tracks_df) else [],
        "period_start": _iso_date(tracks_df["time_start"].min()) if len(tracks_df) else None,
        "period_end": _iso_date(tracks_df["time_end"].max()) if len(tracks_df) else None,
    }
    result = BuildResult(sources=sources, detections=detections, profiles=profiles, overpasses=overpasses,
                         candidates=candidates, source_summary=summary_table, summary=summary, skipped=skipped)
    result.tracks = tracks_df  # type: ignore[attr-defined]
    result.candidate_overpasses = cand_ovp
    n_cached = sum(r.cached for r in ordered)
    return CoreRun(result=result, n_processed=len(ordered) - n_cached, n_cached=n_cached,
                   seconds={"files": t1 - t0, "global": t2 - t1, "candidates": t_c})


def _iso_date(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v):
        return None
    return pd.Timestamp(v).strftime("%Y-%m-%d")


def _sort(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    keys = [k for k in keys if k in df.columns]
    if not keys or df.empty:
        return df.reset_index(drop=True)
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- tables out


def write_tables(result: BuildResult, out_dir: Path) -> list[Path]:
    """Write the result tables as CSV (+ summary.json) into ``out_dir`` atomically per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    named = {
        "detections.csv": published_detections(result.detections, result.overpasses, result.sources),
        "overpasses.csv": result.overpasses,
        "candidates.csv": result.candidates,
        "candidate_overpasses.csv": result.candidate_overpasses if result.candidate_overpasses is not None
        else _empty(tables.OVERPASS_COLUMNS),
        "sources_summary.csv": result.source_summary,
        "profiles.csv": result.profiles,
    }
    tracks = getattr(result, "tracks", None)
    if tracks is not None:
        named["tracks.csv"] = tracks
    for name, df in named.items():
        written.append(_atomic_write(out_dir / name, safe_text_columns(df).to_csv(index=False, float_format="%.6g")
                                     .encode()))
    summary = dict(result.summary)
    summary["skipped"] = [s.__dict__ for s in result.skipped]
    written.append(_atomic_write(out_dir / "summary.json",
                                 json.dumps(summary, indent=2, sort_keys=True, default=str).encode()))
    return written


def _atomic_write(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
