"""Where per-file work runs: in this process, or on a Dask cluster.

A backend maps a function over input files (``fn(path, *shared)``) and yields ``(path, result)``
as results arrive. On Dask, workers open the files themselves (the path string crosses the
wire, never the soundings), there is one task per file, and the shared arguments (the
configuration, the inventory, its temporal profiles) are scattered to every worker once per
backend, not shipped with each task. The per-file pass and the candidate pass use the same
backend, so a cluster is started once per run.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable, Iterable, Iterator

log = logging.getLogger("atlas")


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


class InProcess:
    """Run each file in this process, one after the other (streamed: one file in memory)."""

    def map(self, fn: Callable, items: Iterable, *shared, desc: str = "files",
            progress: bool | None = None) -> Iterator[tuple]:
        items = list(items)
        for item in progress_iter(items, desc, enabled=progress):
            yield item, fn(item, *shared)

    def close(self) -> None:
        pass


class DaskBackend:
    """One task per file on a dask.distributed cluster; shared arguments scattered once."""

    def __init__(self, client, owns_cluster: bool):
        self.client, self.owns_cluster = client, owns_cluster
        self._scattered: dict[int, tuple] = {}

    def _shared(self, obj):
        """A future of ``obj`` on every worker, scattered on first use (kept with the object so its
        id is not reused while the backend lives)."""
        hit = self._scattered.get(id(obj))
        if hit is None:
            hit = self._scattered[id(obj)] = (obj, self.client.scatter(obj, broadcast=True, hash=False))
        return hit[1]

    def map(self, fn: Callable, items: Iterable, *shared, desc: str = "files",
            progress: bool | None = None) -> Iterator[tuple]:
        from dask.distributed import as_completed

        args = [self._shared(o) for o in shared]
        futures = {self.client.submit(fn, item, *args, pure=False): item for item in items}
        for fut in progress_iter(as_completed(futures), f"{desc} (dask)", total=len(futures), enabled=progress):
            yield futures[fut], fut.result()
            fut.release()

    def close(self) -> None:
        cluster = getattr(self.client, "cluster", None)
        self.client.close()
        if cluster is not None and self.owns_cluster:
            cluster.close()   # ours to close; an external scheduler's cluster is left running


def make_backend(scheduler: str | None, workers: int | None = None) -> InProcess | DaskBackend:
    """"" / "none" / "serial" / None -> in-process; "local" -> a LocalCluster of ``workers``
    single-threaded processes (default: the machine's cores); an address -> that cluster."""
    if scheduler in ("", "none", "serial", None):
        return InProcess()   # distributed is not even imported (~0.5 s)
    from dask.distributed import Client, LocalCluster

    if scheduler == "local":
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        return DaskBackend(Client(cluster), owns_cluster=True)
    return DaskBackend(Client(scheduler), owns_cluster=False)
