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
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from builder.config import Config
from builder.pipeline import CoreRun, _atomic_write, inventory_fingerprint, run_core, write_tables
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


def load_sources(cfg: Config, skipped: list[SkippedItem]):
    from builder.inventory import load_inventory

    return load_inventory(cfg, skipped)


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
    marker = sim_dir / ".atlas-sim-key"
    if marker.exists() and marker.read_text().strip() == key:
        return sim_dir
    for stale in sim_dir.parent.glob(f".{sim_dir.name}.*-*"):  # leftovers of a killed simulation
        try:  # untouched for 10 min: not another build's simulation in progress (it writes a file a day)
            if time.time() - stale.stat().st_mtime > 600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    tmp = sim_dir.with_name(f".{sim_dir.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    log.info("simulating %s days of %s observations into %s", days or cfg.simulate.days, cfg.simulate.instrument, sim_dir)
    t = time.perf_counter()
    simulate(cfg, sources, profiles.emission_kg_s, tmp, days=days)
    (tmp / ".atlas-sim-key").write_text(key)
    _swap_into_place(tmp, sim_dir)
    log.info("simulation done in %.1f s", time.perf_counter() - t)
    return sim_dir


def observation_files(cfg: Config, oco2_dir: Path | None, sources, profiles) -> tuple[list[Path], bool, Path | None]:
    """(files, simulated, truth_dir): real files if any, else the simulated default month."""
    folder = Path(oco2_dir) if oco2_dir else cfg.path("oco2")
    files = find_input_files(folder)
    if files:
        truth = folder if (folder / "truth.csv").exists() else None
        files = [f for f in files if f.name not in SIMULATOR_TABLES]
        return files, truth is not None, truth
    if oco2_dir:
        log.warning("no OCO Lite (.nc4) or CSV archive files under %s", folder)
        return [], False, None
    sim_dir = ensure_simulation(cfg, sources, profiles)
    return sorted(sim_dir.glob("*.nc4")), True, sim_dir


def publish_site(cfg: Config, result: BuildResult, site_dir: Path, *, progress: bool | None = None) -> dict:
    """Render into a temporary sibling folder, then swap it in."""
    from builder.render import render_site

    site_dir = Path(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with _publish_lock(site_dir.parent):
        return _publish(cfg, result, site_dir, render_site, progress)


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


def _publish(cfg: Config, result: BuildResult, site_dir: Path, render_site, progress) -> dict:
    # leftovers of a killed build; a build killed between the two renames of the fallback swap
    # left no site but the previous one in .old-*: put it back first
    olds = sorted(site_dir.parent.glob(f".{site_dir.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not site_dir.exists() and olds:
        os.replace(olds[-1], site_dir)
    for stale in site_dir.parent.glob(f".{site_dir.name}.*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = site_dir.with_name(f".{site_dir.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        stats = render_site(cfg, result, tmp, progress=bool(progress))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap_into_place(tmp, site_dir)
    return stats


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Make the complete folder ``tmp`` become ``dest``: one atomic exchange where the OS
    offers it, else two renames (a kill between them is repaired by the next publish)."""
    if dest.exists() and _exchange(tmp, dest):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous version
    elif dest.exists():
        old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(dest, old)
        os.replace(tmp, dest)
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
    """The whole build. Returns the report; never raises for bad inputs (they are in result.skipped)."""
    times = {}
    t = time.perf_counter()
    skipped: list[SkippedItem] = []
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
    # every downloadable row says what it was computed from
    provenance = "simulated" if simulated else "observed"
    for name in ("detections", "overpasses", "candidates", "candidate_overpasses"):
        table = getattr(result, name)
        if table is None:
            continue
        setattr(result, name, table.assign(observations=pd.Series(provenance, index=table.index, dtype=object)))
    result.summary.update({
        "simulated": bool(simulated),
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
            _atomic_write(work / "validation.json", json.dumps(result.summary["validation"], indent=2, sort_keys=True,
                                                              default=str).encode())
        except (OSError, ValueError, KeyError) as exc:
            why = " ".join(str(exc).replace(str(truth_dir), truth_dir.name).split())  # one line, no build paths
            skipped.append(SkippedItem(item=f"{truth_dir.name}/truth.csv", reason=f"validation failed: {why}",
                                       stage="validate"))
        times["validate"] = time.perf_counter() - t
        write_tables(result, work)
    stats = {}
    out = Path(site_dir) if site_dir else cfg.path("site")
    if render:
        t = time.perf_counter()
        stamp = cfg.path("cache") / "site-stamps" / hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
        stamp.parent.mkdir(parents=True, exist_ok=True)
        fp = site_fingerprint(cfg, result, work)
        if use_cache and (out / "index.html").exists() and stamp.exists() and stamp.read_text() == fp:
            stats = {"n_pages": 0, "skipped_render": True}  # same data, templates, content, code: nothing to redo
            log.info("site is up to date (same data, templates, content and renderer); not re-rendered")
        else:
            stamp.unlink(missing_ok=True)
            stats = publish_site(cfg, result, out, progress=progress)
            _atomic_write(stamp, fp.encode())
        times["render"] = time.perf_counter() - t
    return BuildReport(result=result, site_dir=out if render else None, core=core, seconds=times,
                       render_stats=stats)


def content_problems(cfg: Config) -> list[SkippedItem]:
    """Malformed content/*.md pages (the renderer leaves them out) as skipped inputs, so they are
    listed on the data page, in summary.json and fail ``--strict`` like any other bad input."""
    import re

    from builder.render.content import load_pages
    from builder.render.pages import RESERVED, site_path

    folder = site_path(cfg, cfg.site.content)
    pages, errors = load_pages(folder)
    errors = list(errors) + [f"{p.source}: the name {p.slug!r} is reserved for a generated section"
                             for p in pages if p.slug in RESERVED]
    files = sorted(folder.glob("*.md"), key=lambda f: -len(str(f))) if folder.is_dir() else []
    out = []
    for text in errors:
        f = next((f for f in files if text.startswith(str(f))), None)
        if f is None:
            out.append(SkippedItem(item="content", reason=text, stage="content"))
            continue
        m = re.match(r":(\d+)?:?\s*(.*)", text[len(str(f)):], re.S)
        line, reason = (m.group(1), m.group(2)) if m else (None, text)
        out.append(SkippedItem(item=f.name + (f":line {line}" if line else ""), reason=" ".join(reason.split()),
                               stage="content"))
    return out


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
