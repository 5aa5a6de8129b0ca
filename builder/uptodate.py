"""The no-op rebuild in a fraction of a second: is anything the build reads or writes different
from when the last build finished?

A build reads its configuration, the atlas code, the Python environment, the inventories, the
observation files (or the simulated month), templates, content and front-end packages; it writes
the result tables (``[paths] work``) and the site. :func:`input_state` summarises the inputs by
file metadata (path, size, mtime in ns, inode: any save, copy or replace changes one of them),
not by content, so it costs one ``stat`` per file and reads no data. After a successful build,
:func:`record` stores that state together with the same summary of the outputs and the figures
the command line prints; :func:`saved_report` returns those figures only when inputs *and*
outputs are unchanged, else None and the build runs (and its own checks repair a damaged site).

The state is taken before the build reads anything and again after it: if an input changed
while the build ran (a file dropped in mid-build), nothing is recorded and the next build runs.
The simulated month is the one input the build itself writes; it is compared as an output.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path

from builder.config import Config

#: Bump when the state's definition changes (old records then never match).
STATE_VERSION = "1"
#: Folder of the cache that holds the site stamps and these records (builder/build.py site_stamp).
STAMPS = "site-stamps"


def walk_digest(*roots: Path) -> str:
    """Hash of (relative path, size, mtime_ns, inode) of every file under ``roots`` (a file root
    counts as itself; a missing root as missing). ``__pycache__`` folders are skipped."""
    h = hashlib.sha256()
    for root in roots:
        root = Path(root)
        h.update(f"root {root}\n".encode())
        try:
            st = root.stat()
        except OSError:
            h.update(b"missing\n")
            continue
        if not root.is_dir():
            h.update(_line(".", st))
            continue
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                h.update(f"unreadable {folder}\n".encode())
                continue
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        stack.append(Path(e.path))
                else:
                    h.update(_line(os.path.relpath(e.path, root), e.stat(follow_symlinks=False)))
    return h.hexdigest()


def _line(rel: str, st: os.stat_result) -> bytes:
    return f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode()


def _environment() -> str:
    """Python and the installed distributions (their dist-info names carry the versions)."""
    names = [sys.version, sys.executable]
    for p in sys.path:
        if p.endswith("-packages") and os.path.isdir(p):
            names += sorted(os.listdir(p))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def input_state(cfg: Config, oco2_dir: Path | None, out: Path) -> dict[str, str]:
    """Digests of everything a build reads, by part (see the module docstring)."""
    root = cfg.path("root")
    sim = cfg.path("simulated")
    data_roots = [Path(oco2_dir) if oco2_dir else cfg.path("oco2"), cfg.path("coco2")]
    for entry in cfg.paths.extra_inventories:
        _kind, sep, path = str(entry).partition(":")
        if sep and path.strip():
            p = Path(path.strip())
            data_roots.append(p if p.is_absolute() else root / p)
    # the dataset folder minus the simulated month (written by the build itself)
    dataset = cfg.path("dataset")
    if dataset.is_dir():
        data_roots += [p for p in sorted(dataset.iterdir()) if p.resolve() != sim]
    return {
        "version": STATE_VERSION,
        "config": repr(dataclasses.asdict(cfg)),
        # the folder checks (builder/outdir.py) also look at the working folder's repository
        "target": f"{Path(out).resolve()}|{Path(oco2_dir).resolve() if oco2_dir else ''}|{Path.cwd()}",
        "code": walk_digest(Path(__file__).parent),
        "environment": _environment(),
        "data": walk_digest(*data_roots),
        "site_sources": walk_digest(cfg.resolve(cfg.site.templates), cfg.resolve(cfg.site.content),
                                    cfg.resolve(cfg.site.node_modules) / ".package-lock.json"),
    }


def output_state(cfg: Config, out: Path) -> dict[str, str]:
    """Digests of what a build writes: the result tables, the site, the simulated month and the
    per-file result cache (a damaged or cleared entry is the build's to repair), without the
    stamps folder where this record lives."""
    cache = cfg.path("cache")
    entries = sorted(p for p in cache.iterdir() if p.name != STAMPS) if cache.is_dir() else []
    return {"work": walk_digest(cfg.path("work")), "site": walk_digest(Path(out)),
            "simulated": walk_digest(cfg.path("simulated")), "cache": walk_digest(*entries)}


def _record_path(cfg: Config, out: Path) -> Path:
    key = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:16]
    return cfg.path("cache") / STAMPS / f"{key}.state.json"


def saved_report(cfg: Config, oco2_dir: Path | None, out: Path | None) -> dict | None:
    """The figures of the last build into ``out`` when nothing it reads or writes has changed
    since (then there is nothing to do), else None."""
    out = Path(out) if out else cfg.path("site")
    try:
        saved = json.loads(_record_path(cfg, out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("inputs") != input_state(cfg, oco2_dir, out):
        return None
    if saved.get("outputs") != output_state(cfg, out):
        return None
    report = saved.get("report")
    return report if isinstance(report, dict) else None


def record(cfg: Config, oco2_dir: Path | None, out: Path, before: dict[str, str], report: dict) -> None:
    """After a successful build: store the input state (if no input changed during the build),
    the output state and ``report`` (what the command line prints). The cache is optional."""
    path = _record_path(cfg, out)
    try:
        path.unlink(missing_ok=True)
        if input_state(cfg, oco2_dir, out) != before:
            return
        text = json.dumps({"inputs": before, "outputs": output_state(cfg, out), "report": report}, default=str)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def forget(cfg: Config, out: Path) -> None:
    """Drop the record (before a build that may fail half-way)."""
    try:
        _record_path(cfg, Path(out)).unlink(missing_ok=True)
    except OSError:
        pass
