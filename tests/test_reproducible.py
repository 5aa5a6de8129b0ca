"""Reproducibility: the same inputs and configuration give a byte-identical site,
whatever the output folder, the hash seed, the time zone, and whether per-file
results came from the cache or were computed. Differences are listed file by
file (first differing line and column) to make them easy to fix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.factories import ROOT, make_small_inputs, run_cli, tree_diff, write_cities, write_config



@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    inputs = make_small_inputs(tmp_path_factory.mktemp("inputs"))
    cities = inputs.parent / "cities.csv"
    write_cities(cities, with_bad=False)
    out = {}
    for name in ("a", "b"):
        tmp = tmp_path_factory.mktemp(f"build-{name}")
        cfg = write_config(tmp, extra_inventories=[f"cities:{cities}"], search=True)
        out[name] = (tmp, cfg)
    # a: in-process; b: another process with another hash seed, time zone and locale
    code, _, err = run_cli(["--config", str(out["a"][1]), "build", "--oco2", str(inputs)])
    assert code == 0, err
    env = dict(os.environ, PYTHONHASHSEED="4242", TZ="Pacific/Chatham", LC_ALL="C", LANG="C")
    proc = subprocess.run([sys.executable, "-m", "builder", "--config", str(out["b"][1]), "build", "--oco2",
                           str(inputs)], cwd=str(out["b"][0]), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return inputs, out


def test_two_builds_in_different_folders_are_byte_identical(two_builds):
    _, out = two_builds
    a, b = out["a"][0] / "site", out["b"][0] / "site"
    n = sum(1 for p in a.rglob("*") if p.is_file())
    assert n > 30 and (a / "index.html").is_file()
    diff = tree_diff(a, b)
    assert not diff, "sites differ:\n" + "\n".join(diff)


def test_result_tables_are_byte_identical(two_builds):
    _, out = two_builds
    diff = tree_diff(out["a"][0] / "work", out["b"][0] / "work")
    assert not diff, "work tables differ:\n" + "\n".join(diff)


def test_rebuild_from_cache_is_byte_identical(two_builds):
    """The second build reads every file's results from the cache: same site as a fresh build."""
    inputs, out = two_builds
    tmp, cfg = out["a"]
    code, stdout, err = run_cli(["--config", str(cfg), "build", "--oco2", str(inputs), "--out", str(tmp / "site2")])
    assert code == 0, err
    assert "0 files processed" in stdout, stdout
    diff = tree_diff(out["b"][0] / "site", tmp / "site2")
    assert not diff, "site built from the cache differs from a fresh one:\n" + "\n".join(diff)


def test_site_holds_no_build_machine_paths(two_builds):
    """Output folder, cache and input paths must not leak into the published files."""
    inputs, out = two_builds
    tmp = out["a"][0]
    leaks = []
    for p in (tmp / "site").rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for needle in (str(tmp), str(inputs), str(ROOT)):
                if needle.encode() in data:
                    leaks.append(f"{p.relative_to(tmp)} contains {needle}")
    assert not leaks, "\n".join(leaks[:20])


def test_dask_build_is_byte_identical(two_builds, tmp_path):
    """Per-file work on a Dask LocalCluster (results pickled back from worker processes) gives the
    same site as the in-process build."""
    inputs, out = two_builds
    cities = inputs.parent / "cities.csv"
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{cities}"], search=True,
                       compute={"scheduler": "local", "workers": 2})
    code, _, err = run_cli(["--config", str(cfg), "build", "--oco2", str(inputs)])
    assert code == 0, err
    diff = tree_diff(out["a"][0] / "site", tmp_path / "site")
    assert not diff, "Dask build differs from the in-process build:\n" + "\n".join(diff)
