"""Optimisations change no output: the core's tables on a small simulated set must be
bit-identical to a recorded reference (issue 15).

The set: 16 simulated days over South and East Asia (dense inventory; 17 anomalies, 12
attributed, 395 overpasses, 187 measured, 21 targeted, 5 seed overpasses). Every column of every core table is hashed
from its exact in-memory values (float bits, int64 nanoseconds, strings), so a change in
the last bit of one value fails the test and names the table and column.

The reference (tests/reference/core_reference.json, recorded with the code of commit 346f9e8,
before the issue-15 optimisations; the candidate pass's seed measurements included) also holds the hashes of the simulated
input files: when the *simulator* changes its output the test says so instead of blaming
the detector. Re-record only for an intended change of the outputs:
``UPDATE_REFERENCE=1 .venv/bin/python -m pytest tests/test_pipeline_reference.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).parent / "reference" / "core_reference.json"
REGION = (60.0, 5.0, 125.0, 50.0)
DAYS = 16
TABLES = ("detections", "profiles", "overpasses", "candidate_overpasses", "tracks", "source_summary",
          "seed_overpasses")


def column_digest(values: pd.Series) -> str:
    """sha256 of a column's exact values: numbers by their bits (NaN canonical), times as
    int64 ns, anything else by its repr."""
    dt = str(values.dtype)
    if dt.startswith("datetime64"):
        raw = values.dt.as_unit("ns").astype("int64").to_numpy().tobytes()
    elif values.dtype.kind in "fc":
        a = values.to_numpy().copy()
        a[np.isnan(a)] = np.nan       # one NaN bit pattern
        raw = a.tobytes()
    elif values.dtype.kind in "iub":
        raw = values.to_numpy().tobytes()
    else:
        raw = repr(values.tolist()).encode()
    return hashlib.sha256(dt.encode() + b"|" + raw).hexdigest()[:20]


def table_digest(df: pd.DataFrame | None) -> dict:
    if df is None:
        return {"rows": None}
    return {"rows": int(len(df)), "columns": {str(c): column_digest(df[c]) for c in df.columns}}


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:20]


@pytest.fixture(scope="module")
def core_run(tmp_path_factory):
    from builder import candidates
    from builder.build import load_sources
    from builder.config import load_config
    from builder.errors import Problems
    from builder.pipeline import run_core
    from builder.simulate import simulate
    from builder.withheld import detector_sources

    out = tmp_path_factory.mktemp("reference-inputs")
    cfg = load_config(None, paths={"coco2": str(ROOT / "dataset" / "coco2"), "cache": str(out / "cache")})
    sources, profiles = load_sources(cfg, Problems())
    simulate(cfg, sources, profiles.emission_kg_s, out, days=DAYS, region=REGION)
    files = sorted(out.glob("*.nc4"))
    src, _ = detector_sources(sources, out)
    seeds = []      # the candidate pass's measurement of every seed (an internal table of run_core)
    real = candidates.measure_candidates

    def keep(*args, **kwargs):
        seeds.append(real(*args, **kwargs))
        return seeds[-1]
    mp = pytest.MonkeyPatch()
    mp.setattr(candidates, "measure_candidates", keep)
    try:
        core = run_core(cfg, files, src, profiles.emission_kg_s, [], use_cache=False, progress=False)
    finally:
        mp.undo()
    core.result.seed_overpasses = seeds[0] if seeds else None
    return files, core.result


def current(files, result) -> dict:
    return {"inputs": {f.name: file_digest(f) for f in files},
            "tables": {name: table_digest(getattr(result, name, None)) for name in TABLES}}


def differences(ref: dict, now: dict) -> list[str]:
    out = []
    for name in TABLES:
        a, b = ref["tables"].get(name, {}), now["tables"][name]
        if a.get("rows") != b.get("rows"):
            out.append(f"{name}: {b.get('rows')} rows, reference {a.get('rows')}")
            continue
        ca, cb = a.get("columns") or {}, b.get("columns") or {}
        if list(ca) != list(cb):
            out.append(f"{name}: columns {list(cb)} != reference {list(ca)}")
            continue
        out += [f"{name}.{c}: values differ" for c in ca if ca[c] != cb[c]]
    return out


def test_reference_set_exercises_every_table(core_run):
    """The set is only a check if it has something to compare in each table."""
    _, r = core_run
    assert len(r.detections) >= 5 and (r.detections["source_id"].astype(str) != "").sum() >= 3
    assert np.isfinite(r.overpasses["emission_kg_s"].to_numpy(float)).sum() >= 50
    assert r.overpasses["detected"].astype(bool).sum() >= 5
    assert len(r.profiles) > 100 and len(r.source_summary) > 10
    assert r.seed_overpasses is not None and len(r.seed_overpasses) >= 5


def test_core_outputs_are_bit_identical_to_the_reference(core_run):
    files, result = core_run
    now = current(files, result)
    if os.environ.get("UPDATE_REFERENCE"):
        REFERENCE.write_text(json.dumps(now, indent=1, sort_keys=False) + "\n")
        pytest.skip("reference re-recorded")
    ref = json.loads(REFERENCE.read_text())
    assert ref["inputs"] == now["inputs"], (
        "the simulated inputs changed (simulator output), not the detector: re-record the reference "
        "on the commit that changed the simulator (UPDATE_REFERENCE=1)")
    diff = differences(ref, now)
    assert not diff, "core outputs differ from the reference:\n" + "\n".join(diff)


def test_a_one_bit_change_is_caught(core_run):
    """The comparison itself can fail: the last bit of one emission changes a digest."""
    files, result = core_run
    now = current(files, result)
    ovp = result.overpasses.copy()
    q = ovp["emission_kg_s"].to_numpy(float).copy()
    i = int(np.flatnonzero(np.isfinite(q))[0])
    q[i] = np.nextafter(q[i], np.inf)
    ovp["emission_kg_s"] = q
    assert table_digest(ovp)["columns"]["emission_kg_s"] != now["tables"]["overpasses"]["columns"]["emission_kg_s"]
