"""Stage events: timing and progress hooks, subscribed explicitly (as MkDocs plugin events),
instead of wrapping stage functions from the outside.

The runner reports each stage it runs (``with stage("detect"):``); a subscriber's
``on_stage(name, wall_s, cpu_s)`` is called after it. With no subscriber the cost is one
clock read pair per stage. Subscribers live in this process: on a Dask cluster the workers'
stages are not reported to the client.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Protocol


class StageHook(Protocol):
    def on_stage(self, name: str, wall_s: float, cpu_s: float) -> None: ...


_HOOKS: list[StageHook] = []


def subscribe(hook: StageHook) -> None:
    """Call ``hook.on_stage`` after every stage from now on."""
    _HOOKS.append(hook)


def unsubscribe(hook: StageHook) -> None:
    if hook in _HOOKS:
        _HOOKS.remove(hook)


@contextmanager
def stage(name: str):
    """Time the enclosed stage and report it to the subscribers (also when it raises)."""
    if not _HOOKS:
        yield
        return
    t, c = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        for hook in list(_HOOKS):
            hook.on_stage(name, wall, cpu)
