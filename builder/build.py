"""`atlas build`: inventory -> observations (real, or the simulated default)
-> core pipeline -> validation -> result tables -> static site, published
atomically (a failed or killed build leaves the previous site intact).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from builder import uptodate
from builder.config import Config
from builder.outdir import (MARKER, atomic_write, SIM_MARKER, OutputFolderError, check_site_folder, claim, owned_siblings,
                            read_manifest, sibling_name, site_intact, write_manifest)
from builder.pipeline import CoreRun, inventory_fingerprint, run_core, write_tables
from builder.errors import Problems
from builder.results import BuildResult, SkippedItem
from builder.soundings import find_input_files
from builder.withheld import SIMULATOR_TABLES, detector_sources

log = logging.getLogger("atlas")


@dataclass
class BuildReport:
    result: BuildResult
    site_dir: Path | None
    core: CoreRun
    seconds: dict[str, float] = field(default_factory=dict)
    render_stats: dict = field(default_factory=dict)


def load_sources(cfg: Config, skipped: Problems):
    from builder.inventory import load_inventory
    from builder.plausible import reject_implausible_sources

    sources, profiles = load_inventory(cfg, skipped)
    return reject_implausible_sources(sources, cfg.plausible, skipped), profiles


def simulation_key(cfg: Config, sources) -> str:
    from builder import simulate as sim_mod

    text = cfg.fingerprint("simulate") + inventory_fingerprint(sources) + getattr(sim_mod, "SIMULATOR_VERSION", "1")
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def ensure_simulation(cfg: Config, sources, profiles, sim_dir: Path | None = None, *, days: int | None = None) -> Path:
    """Simulate the default month into ``sim_dir`` unless an identical one is there.

    Written into a temporary sibling folder and renamed into place, so a killed
    simulation never leaves a half month that later builds would trust.
    """
    from builder.simulate import simulate

    sim_dir = Path(sim_dir or cfg.path("simulated"))
    key = simulation_key(cfg, sources) + (f"-d{days}" if days else "")
    marker = sim_dir / SIM_MARKER
    if marker.exists() and marker.read_text().strip() == key:
        return sim_dir
    if sim_dir.is_dir() and any(sim_dir.iterdir()) and not marker.exists():
        raise OutputFolderError(sim_dir, "refusing to replace it with a simulated month: it is not empty and "
                                         f"was not written by atlas (no {SIM_MARKER})")
    # leftovers of a killed simulation: atlas-named and marked (or empty) only
    for stale in owned_siblings(sim_dir, "tmp|old", marker=SIM_MARKER):
        try:  # untouched for 10 min: not another build's simulation in progress (it writes a file a day)
            if time.time() - stale.stat().st_mtime > 600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    tmp = sibling_name(sim_dir, "tmp")
    tmp.mkdir(parents=True)
    claim(tmp, SIM_MARKER)
    log.info("simulating %s days of %s observations into %s", days or cfg.simulate.days, cfg.simulate.instrument, sim_dir)
    t = time.perf_counter()
    simulate(cfg, sources, profiles.emission_kg_s, tmp, days=days)
    (tmp / SIM_MARKER).write_text(key)
    (tmp / (SIM_MARKER + ".writing")).unlink(missing_ok=True)
    _swap_into_place(tmp, sim_dir, marker=SIM_MARKER)
    log.info("simulation done in %.1f s", time.perf_counter() - t)
    return sim_dir


def observation_files(cfg: Config, oco2_dir: Path | None, sources, profiles) -> tuple[list[Path], bool, Path | None]:
    """(files, simulated, truth_dir): real files if any, else the simulated default month."""
    folder = Path(oco2_dir) if oco2_dir else cfg.path("oco2")
    files = find_input_files(folder)
    if files:
        truth = folder if (folder / "truth.csv").exists() else None
        files = [f for f in files if f.name not in SIMULATOR_TABLES]
        return files, False, truth  # simulated or observed: each file's own attribute (label_provenance)
    if oco2_dir:
        log.warning("no OCO Lite (.nc4) or CSV archive files under %s", folder)
        return [], False, None
    sim_dir = ensure_simulation(cfg, sources, profiles)
    return sorted(sim_dir.glob("*.nc4")), True, sim_dir


def publish_site(cfg: Config, result: BuildResult, site_dir: Path, *, progress: bool | None = None,
                 incremental: bool = True) -> dict:
    """Render into a temporary sibling folder, then swap it in. ``incremental``: pages whose inputs
    are unchanged are carried over from the published site (when it is intact)."""
    from builder.render import render_site

    site_dir = Path(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with _publish_lock(site_dir.parent):
        return _publish(cfg, result, site_dir, render_site, progress, incremental)


def page_records_path(cfg: Config, site_dir: Path) -> Path:
    """Where the page input keys of the site published into ``site_dir`` are kept: in the cache,
    beside its stamp, not in the site (two builds of the same site from equal inputs held in
    different numeric types key some pages differently, and must still publish identical trees)."""
    return site_stamp(cfg, site_dir).with_suffix(".pages.json")


def previous_site(cfg: Config, site_dir: Path):
    """The published site as a source of unchanged pages (builder/render/pagekeys.py), or None:
    no site or no page records, or a tree that differs from its manifest (a damaged site is
    rendered in full). Records whose page sha256 is not the manifest's are dropped (they describe
    another publication of the folder)."""
    from builder.render.pagekeys import PageRecord, PreviousSite

    files = read_manifest(site_dir)
    try:
        data = json.loads(page_records_path(cfg, site_dir).read_text(encoding="utf-8"))
        pages = data["pages"] if isinstance(data.get("pages"), dict) else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pages = None
    if not files or not pages or site_intact(site_dir):
        return None
    keep = {str(rel): PageRecord.from_json(r) for rel, r in pages.items()
            if isinstance(r, dict) and r.get("sha") and r.get("sha") == files.get(rel)}
    index = _index_digest(files)
    return PreviousSite(folder=Path(site_dir), pages={k: v for k, v in keep.items() if v is not None}, files=files,
                        search_key=str(data.get("search_key") or "") if data.get("index") == index else "")


def _index_digest(files: dict[str, str]) -> str:
    """Hash of the search index files of a manifest (the index a search key describes)."""
    return hashlib.sha256(json.dumps(sorted((k, v) for k, v in files.items() if k.startswith("pagefind/")))
                          .encode()).hexdigest()


def _write_page_records(cfg: Config, site_dir: Path, stats: dict, files: dict[str, str]) -> None:
    pages = {rel: dict(r, sha=files.get(rel)) for rel, r in stats.pop("page_records", {}).items()}
    data = {"pages": pages, "search_key": stats.pop("search_key", ""), "index": _index_digest(files)}
    path = page_records_path(cfg, site_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(data, sort_keys=True).encode())
    except OSError as exc:
        log.warning("page keys not written (%s); the next build renders every page", exc.strerror or exc)


@contextlib.contextmanager
def _publish_lock(folder: Path):
    """One publish at a time in ``folder`` (``atlas serve`` rebuilding while ``atlas build`` runs):
    one build's cleanup of leftovers must not delete the other's temporary site. An advisory
    flock on the folder itself (no lock file); the kernel releases it when a build is killed."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _publish(cfg: Config, result: BuildResult, site_dir: Path, render_site, progress, incremental=False) -> dict:
    # leftovers of a killed build (only atlas-named, atlas-marked folders: builder/outdir.py); a build
    # killed between the two renames of the fallback swap left no site but the previous one in
    # .old-*: put it back first
    olds = sorted(owned_siblings(site_dir, "old"), key=lambda p: p.stat().st_mtime)
    if not site_dir.exists() and olds:
        os.replace(olds[-1], site_dir)
    for stale in owned_siblings(site_dir):
        shutil.rmtree(stale, ignore_errors=True)
    previous = previous_site(cfg, site_dir) if incremental else None
    with contextlib.suppress(OSError):  # the cache is optional (a file in its way, a full disk)
        page_records_path(cfg, site_dir).unlink(missing_ok=True)
    tmp = sibling_name(site_dir, "tmp")
    tmp.mkdir()
    claim(tmp)
    try:
        stats = render_site(cfg, result, tmp, progress=bool(progress), previous=previous)
        files = write_manifest(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap_into_place(tmp, site_dir)
    _write_page_records(cfg, site_dir, stats, files)
    return stats


def _swap_into_place(tmp: Path, dest: Path, marker: str = MARKER) -> None:
    """Make the complete folder ``tmp`` become ``dest``: one atomic exchange where the OS
    offers it, else two renames (a kill between them is repaired by the next publish).
    The previous ``dest`` is removed only if atlas wrote it (it holds ``marker``)."""
    if dest.exists() and _exchange(tmp, dest):
        if (tmp / marker).is_file():  # tmp now holds the previous version
            shutil.rmtree(tmp, ignore_errors=True)
    elif dest.exists():
        old = sibling_name(dest, "old")
        os.replace(dest, old)
        os.replace(tmp, dest)
        if (old / marker).is_file():
            shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 RENAME_EXCHANGE), so a reader or a
    kill never sees ``b`` missing. False where unsupported (other OS, old kernel/libc, filesystem)."""
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def build(cfg: Config, *, oco2_dir: Path | None = None, site_dir: Path | None = None, render: bool = True,
          scheduler: str | None = None, use_cache: bool = True, progress: bool | None = None) -> BuildReport:
    """The whole build. Returns the report; never raises for bad inputs (they are in result.skipped).
    An unsafe site folder raises :class:`builder.outdir.OutputFolderError` before anything is touched."""
    times = {}
    out = Path(site_dir) if site_dir else cfg.path("site")
    stamp = site_stamp(cfg, out)
    if render:  # before anything is read or written: never replace what atlas did not write
        check_output(cfg, out, oco2_dir, stamp)
        uptodate.forget(cfg, out)
    before = uptodate.input_state(cfg, oco2_dir, out) if render and use_cache else None
    t = time.perf_counter()
    skipped = Problems()
    sources, profiles = load_sources(cfg, skipped)
    times["inventory"] = time.perf_counter() - t
    t = time.perf_counter()
    files, simulated, truth_dir = observation_files(cfg, oco2_dir, sources, profiles)
    # a simulated world may hold sources withheld from the detector (builder.withheld): drop them
    sources, n_withheld = detector_sources(sources, truth_dir)
    times["observations"] = time.perf_counter() - t
    core = run_core(cfg, files, sources, profiles.emission_kg_s, skipped, scheduler=scheduler,
                    use_cache=use_cache, progress=progress)
    times.update({f"core_{k}": v for k, v in core.seconds.items()})
    result = core.result
    # every downloadable row says what it was computed from: each file's own attribute, not truth.csv
    observations = label_provenance(result, default=simulated)
    simulated = observations != "observed"
    result.summary.update({
        "simulated": bool(simulated),
        "observations": observations,
        "inventory_name": ", ".join(sorted({str(v).split(" (CO2 ")[0] for v in sources["inventory"].dropna()}))
        if len(sources) else "",
        "n_sources": int(len(sources)),
        "n_withheld": int(n_withheld),     # simulated sources the detector's inventory does not list
        "data_version": _data_version(files),
        "validation": None,
    })
    if render:
        skipped.extend(content_problems(cfg))
    work = cfg.path("work")
    write_tables(result, work)
    if truth_dir is not None:
        from builder.validate import validate

        t = time.perf_counter()
        try:
            result.summary["validation"] = validate(truth_dir, work, cfg)
            atomic_write(work / "validation.json", json.dumps(result.summary["validation"], indent=2, sort_keys=True,
                                                              default=str).encode())
        except (OSError, ValueError, KeyError) as exc:
            why = " ".join(str(exc).replace(str(truth_dir), truth_dir.name).split())  # one line, no build paths
            skipped.append(SkippedItem(item=f"{truth_dir.name}/truth.csv", reason=f"validation failed: {why}",
                                       stage="validate"))
        times["validate"] = time.perf_counter() - t
        write_tables(result, work)
    stats = {}
    if render:
        t = time.perf_counter()
        fp = site_fingerprint(cfg, result, work)
        same = use_cache and (out / "index.html").exists() and stamp.is_file() and stamp.read_text() == fp
        damage = site_intact(out) if same else []
        if same and not damage:
            stats = {"n_pages": 0, "skipped_render": True}  # same data, templates, content, code: nothing to redo
            log.info("site is up to date (same data, templates, content and renderer); not re-rendered")
        else:
            if damage:  # deleted, edited or added files in the published tree: render it again
                log.warning("the published site differs from its manifest (%s%s); rewriting it",
                            ", ".join(damage[:3]), f" and {len(damage) - 3} more" if len(damage) > 3 else "")
            _stamp(stamp, None)
            stats = publish_site(cfg, result, out, progress=progress, incremental=use_cache)
            log.info("rendered %d pages, carried %d unchanged pages over; search index %s",
                     stats.get("n_rendered", 0), stats.get("n_carried", 0), stats.get("search", "off"))
            _stamp(stamp, fp)
        times["render"] = time.perf_counter() - t
    if before is not None:
        uptodate.record(cfg, oco2_dir, out, before, printed_report(result, core))
    return BuildReport(result=result, site_dir=out if render else None, core=core, seconds=times,
                       render_stats=stats)


#: Run-summary figures the command line prints after a build.
PRINTED_SUMMARY = ("n_files", "n_orbits", "n_soundings", "n_detections", "n_attributed", "n_candidates", "simulated")


def printed_report(result: BuildResult, core: CoreRun) -> dict:
    """What ``atlas build`` prints, kept for a no-op rebuild that reads nothing (builder/uptodate.py)."""
    from builder.validate import format_validation

    s = result.summary
    return {"summary": {k: s.get(k) for k in PRINTED_SUMMARY}, "n_input_files": core.n_processed + core.n_cached,
            "skipped": [dict(item=x.item, reason=x.reason, stage=x.stage) for x in result.skipped],
            "validation_text": format_validation(s["validation"]) if s.get("validation") else ""}


def site_stamp(cfg: Config, out: Path) -> Path:
    """Where the fingerprint of the site last published into ``out`` is kept (in the cache)."""
    return cfg.path("cache") / uptodate.STAMPS / hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:16]


def _stamp(stamp: Path, fp: str | None) -> None:
    """Write (or remove, ``fp=None``) the site stamp in the cache; the cache is optional: only warn."""
    try:
        if fp is None:
            stamp.unlink(missing_ok=True)
        else:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(stamp, fp.encode())
    except OSError as exc:
        log.warning("cache not written (%s); the next build renders the site again", exc.strerror or exc)


def label_provenance(result: BuildResult, default: bool = False) -> str:
    """Column ``observations`` ("simulated"/"observed", "mixed" for a candidate seen in both) on every
    detection, overpass and candidate row, from the ``simulated`` attribute of the file each row
    comes from; returns the label of the whole build ("simulated", "observed" or "mixed";
    ``default`` when no track was read at all)."""
    label = np.array(["observed", "simulated"], dtype=object)
    tracks = getattr(result, "tracks", None)
    if tracks is None or not len(tracks) or "simulated" not in tracks:
        tracks = pd.DataFrame({"instrument": pd.Series(dtype=str), "orbit": pd.Series(dtype="int64"),
                               "source_file": pd.Series(dtype=str), "simulated": pd.Series(dtype=bool)})
    tracks = tracks.assign(simulated=tracks["simulated"].astype(object).fillna(False).astype(bool),
                           instrument=tracks["instrument"].astype(str), orbit=pd.to_numeric(tracks["orbit"]))
    by_file = tracks.groupby("source_file")["simulated"].max()
    by_orbit = tracks.groupby(["instrument", "orbit"])["simulated"].max()
    d, o, c = result.detections, result.overpasses, result.candidates
    d_sim = d["source_file"].astype(str).map(by_file).fillna(False).to_numpy(bool) if len(d) else np.zeros(0, bool)
    result.detections = d.assign(observations=label[d_sim.astype(int)])
    if len(o):
        key = pd.MultiIndex.from_arrays([o["instrument"].astype(str), pd.to_numeric(o["orbit"])])
        o_sim = by_orbit.reindex(key).fillna(False).to_numpy(bool)
    else:
        o_sim = np.zeros(0, bool)
    result.overpasses = o.assign(observations=label[o_sim.astype(int)])
    co = getattr(result, "candidate_overpasses", None)
    if co is not None:
        key = pd.MultiIndex.from_arrays([co["instrument"].astype(str), pd.to_numeric(co["orbit"])])
        co_sim = by_orbit.reindex(key).fillna(False).to_numpy(bool) if len(co) else np.zeros(0, bool)
        result.candidate_overpasses = co.assign(observations=label[co_sim.astype(int)])
    if len(c) and "detection_ids" in c and len(d):
        member = c["detection_ids"].fillna("").astype(str).str.split("|").explode()
        sim = member.map(pd.Series(d_sim, index=d["detection_id"].astype(str))).fillna(False).astype(bool)
        frac = sim.groupby(level=0).mean().reindex(c.index).fillna(0.0).to_numpy()
        result.candidates = c.assign(observations=np.where(frac == 1.0, "simulated",
                                                           np.where(frac == 0.0, "observed", "mixed")).astype(object))
    else:
        result.candidates = c.assign(observations=pd.Series("observed", index=c.index, dtype=object))
    kinds = set(tracks["simulated"].map({True: "simulated", False: "observed"}))
    if not kinds:
        return "simulated" if default else "observed"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def check_output(cfg: Config, out: Path, oco2_dir: Path | None, stamp: Path) -> Path:
    """Refuse an unsafe site folder before the build touches anything (builder/outdir.py)."""
    from builder.render.pages import site_path

    inputs = [Path(oco2_dir) if oco2_dir else cfg.path("oco2"), cfg.path("simulated"), cfg.path("work"),
              cfg.path("dataset"),
              site_path(cfg, cfg.site.templates), site_path(cfg, cfg.site.content)]
    if str(cfg.paths.coco2):
        inputs.append(cfg.path("coco2"))
    for entry in cfg.paths.extra_inventories:
        kind, sep, path = str(entry).partition(":")
        if sep and path.strip():
            p = Path(path.strip())
            inputs.append(p if p.is_absolute() else cfg.path("root") / p)
    resolved = check_site_folder(out, project_root=cfg.path("root"), inputs=inputs, cache=cfg.path("cache"),
                                 legacy_stamp=stamp)
    if resolved.is_dir() and any(resolved.iterdir()) and not (resolved / MARKER).is_file():
        write_manifest(resolved)  # a site of an atlas version before the marker (its stamp says so): adopt it
    return resolved


def content_problems(cfg: Config) -> list[SkippedItem]:
    """Malformed content/*.md pages (the renderer leaves them out) as skipped inputs, so they are
    listed on the data page, in summary.json and fail ``--strict`` like any other bad input."""
    from builder.errors import ContentError
    from builder.render.content import load_content
    from builder.render.pages import RESERVED, site_path

    pages, errors = load_content(site_path(cfg, cfg.site.content))
    errors += [ContentError(f"the name {p.slug!r} is reserved for a generated section", file=p.source)
               for p in pages if p.slug in RESERVED]
    return [SkippedItem(item=Path(e.file).name + (f":line {e.line}" if e.line else ""),
                        reason=" ".join(e.reason.split()), stage="content") for e in errors]


def site_fingerprint(cfg: Config, result: BuildResult, work: Path) -> str:
    """Everything the rendered site depends on: the result tables as written, the
    inventory, templates, content, renderer code, front-end packages and [site] config.
    Equal fingerprints mean the previous site is byte-identical to a new render."""
    from builder.render.pages import site_path

    h = hashlib.sha256(cfg.fingerprint("site", "attribute").encode())
    h.update(inventory_fingerprint(result.sources).encode())
    files = sorted(p for p in Path(work).iterdir() if p.is_file())
    for folder in (site_path(cfg, cfg.site.templates), site_path(cfg, cfg.site.content), Path(__file__).parent / "render"):
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    lock = site_path(cfg, cfg.site.node_modules) / ".package-lock.json"
    for f in files + ([lock] if lock.exists() else []):
        h.update(str(f.relative_to(f.anchor)).encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _data_version(files: list[Path]) -> str:
    """A short, reproducible id of the input set (file names and sizes, not times)."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.name):
        try:
            h.update(f"{f.name}:{f.stat().st_size};".encode())
        except OSError:
            pass
    return h.hexdigest()[:12]
