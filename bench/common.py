"""Timing, memory and reporting helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results.json"
WORK = ROOT / ".cache" / "bench"


def stats(values: list[float]) -> dict:
    """Median and spread of repeated measurements (spread = (max - min) / median)."""
    v = sorted(float(x) for x in values)
    med = statistics.median(v)
    return {"median": med, "min": v[0], "max": v[-1], "n": len(v),
            "spread_pct": (100.0 * (v[-1] - v[0]) / med) if med else 0.0, "values": v}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far [MB].

    On Linux this is ``VmHWM`` from /proc/self/status: ``ru_maxrss`` is *not*
    used there because the kernel carries it across fork/vfork + exec, so a
    child started by a big parent would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def machine() -> dict:
    """What the figures were measured on (they are only comparable on one machine)."""
    info = {
        "python": platform.python_version(), "platform": platform.platform(),
        "cpu_count": os.cpu_count(), "processor": _cpu_model(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "loadavg_at_start": list(os.getloadavg()),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                            text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "builder"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        info["builder_uncommitted_changes"] = bool(dirty)
    except (OSError, subprocess.SubprocessError):
        pass
    import numpy
    import scipy

    info["numpy"], info["scipy"] = numpy.__version__, scipy.__version__
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_results(section: str, data: dict, path: Path = RESULTS, machine_key: str | None = None,
                  machine_info: dict | None = None) -> Path:
    """Merge ``data`` under ``section`` into results.json (other sections kept); the machine
    description goes under ``machines[machine_key or section]``."""
    path = Path(path)
    try:
        current = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, json.JSONDecodeError):
        current = {}
    current[section] = data
    info = dict(machine_info or machine())
    info["date_utc_written"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    info["loadavg_when_written"] = list(os.getloadavg())
    current.setdefault("machines", {})[machine_key or section] = info
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True, default=_jsonable) + "\n")
    tmp.replace(path)
    return path


def _jsonable(o):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def fmt_rate(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.0f}"


def table(rows: list[tuple], header: tuple) -> str:
    """A plain text table."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells[1:]]
    return "\n".join(out)
