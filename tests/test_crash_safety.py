"""Crash safety: ``atlas build`` killed with SIGKILL at several points (during
detection, during rendering, during a cache write, during the simulation)
leaves the previous site byte-for-byte intact, and the next build succeeds and
publishes exactly the site of an uninterrupted build. Corrupt or foreign cache
entries are detected and recomputed, never trusted.

Kill points are found by polling the file system from the test (no hook in
the production code): a new complete cache entry (detection under way), the
temporary site folder ``.site.tmp-*`` filling up (rendering), a ``.tmp-*``
folder in the cache (an entry being written), ``.simulated.tmp-*``
(simulation). The cache-write window is milliseconds wide: it is tried on the
real command first; if no attempt lands inside it, the build runs under a tiny
test-side wrapper that slows the writes of cache entries, so the point is hit
every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import (PLUMES, ROOT, make_content, make_small_inputs, run_cli, tree_diff, write_cities,
                             write_config, write_plume_files)

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable

#: Test-side wrapper: the real CLI, with each cache table write followed by a pause.
SLOW_CACHE_WRITES = r"""
import pathlib, sys, time
_write = pathlib.Path.write_bytes
def _slow(self, data):
    n = _write(self, data)
    if self.parent.name.startswith(".tmp-"):
        time.sleep(1.0)
    return n
pathlib.Path.write_bytes = _slow
from builder.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


# ----------------------------------------------------------------------------- helpers


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def complete_entries(cache: Path) -> list[Path]:
    """meta.json of published entries (pathlib's glob also matches the hidden .tmp-* folders)."""
    return sorted(m for m in cache.glob("*/*/meta.json") if not m.parent.name.startswith(".")) \
        if cache.exists() else []


def tmp_entries(cache: Path) -> list[Path]:
    out = []
    try:
        for d in os.scandir(cache):
            if d.is_dir():
                try:
                    out += [Path(e.path) for e in os.scandir(d.path) if e.name.startswith(".tmp-")]
                except OSError:
                    pass
    except OSError:
        pass
    return out


def start(cfg: Path, *args: str, wrapper: str | None = None) -> subprocess.Popen:
    cmd = [PY, "-c", wrapper] if wrapper else [PY, "-m", "builder"]
    log = open(cfg.parent / f"build-{time.monotonic_ns()}.log", "wb")
    env = dict(os.environ, CI="1")
    return subprocess.Popen(cmd + ["--config", str(cfg), "build", *args], cwd=str(cfg.parent), stdout=log,
                            stderr=subprocess.STDOUT, env=env)


def kill_when(proc: subprocess.Popen, condition, timeout: float = 120.0, interval: float = 0.0) -> bool:
    """SIGKILL ``proc`` as soon as ``condition()`` holds; False if it ended (or timed out) first."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if condition():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            return True
        if proc.poll() is not None:
            return False
        if interval:
            time.sleep(interval)
    proc.kill()
    proc.wait(30)
    return False


def assert_cache_trustworthy(cfg_path: Path):
    """Every complete entry left in the cache passes verification."""
    from builder.pipeline import ResultCache

    cache = cfg_path.parent / "cache"
    rc = ResultCache(cache)
    for meta in complete_entries(cache):
        key = json.loads(meta.read_text())["key"]
        assert rc.get(key) is not None, f"cache entry {meta.parent.name[:12]} left by the kill is not valid"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Inputs, the uninterrupted reference build, and a template folder holding a previous site."""
    base = tmp_path_factory.mktemp("crash")
    inputs = make_small_inputs(base / "inputs")
    n_files = len(list(inputs.glob("*.nc4")))
    cities = base / "cities.csv"
    write_cities(cities, with_bad=False)
    entries = [f"cities:{cities}"]
    ref = base / "ref"
    ref.mkdir()
    code, _, err = run_cli(["--config", str(write_config(ref, extra_inventories=entries)), "build", "--oco2",
                            str(inputs)])
    assert code == 0, err
    # previous site: built from the first plume file only (so the kill builds have files left to detect)
    first = base / "first"
    first.mkdir()
    plume = sorted(p for p in inputs.glob("*250101000000s.nc4"))[0]
    shutil.copy(plume, first / plume.name)
    template = base / "template"
    template.mkdir()
    code, _, err = run_cli(["--config", str(write_config(template, extra_inventories=entries)), "build",
                            "--oco2", str(first)])
    assert code == 0, err
    return dict(base=base, inputs=inputs, n_files=n_files, entries=entries, ref=ref / "site", template=template)


@pytest.fixture
def victim(world, tmp_path):
    """A copy of the template folder (previous site + its cache) with its own config."""
    folder = tmp_path / "victim"
    shutil.copytree(world["template"], folder, ignore=shutil.ignore_patterns("atlas.toml", "*.log"))
    cfg = write_config(folder, extra_inventories=world["entries"])
    return cfg, snapshot(folder / "site")


def _after_kill_checks(world, cfg: Path, before: dict[str, str]):
    site = cfg.parent / "site"
    assert snapshot(site) == before, "the previous site changed after the build was killed"
    assert_cache_trustworthy(cfg)
    # the next build succeeds and publishes exactly the uninterrupted build's site
    code, out, err = run_cli(["--config", str(cfg), "build", "--oco2", str(world["inputs"])])
    assert code == 0, err
    diff = tree_diff(world["ref"], site)
    assert not diff, "site after kill + rebuild differs from an uninterrupted build:\n" + "\n".join(diff)
    leftovers = [p.name for p in cfg.parent.iterdir() if p.name.startswith(".site.")]
    assert not leftovers, f"temporary site folders left behind: {leftovers}"


# ----------------------------------------------------------------------------- kill points


def test_kill_during_detection(world, victim):
    cfg, before = victim
    cache = cfg.parent / "cache"
    n0 = len(complete_entries(cache))
    for attempt in range(3):
        proc = start(cfg, "--oco2", str(world["inputs"]))
        hit = kill_when(proc, lambda: len(complete_entries(cache)) > n0, interval=0.002)
        assert hit, "the build ended before writing any new cache entry"
        if len(complete_entries(cache)) < world["n_files"]:
            break  # killed with files still to detect
        for m in complete_entries(cache)[n0:]:
            shutil.rmtree(m.parent)
    else:
        pytest.fail("could not kill the build while files were still being detected")
    assert proc.returncode == -signal.SIGKILL
    assert not list(cfg.parent.glob(".site.tmp-*")), "rendering must not have started"
    _after_kill_checks(world, cfg, before)


def test_kill_during_rendering(world, victim):
    cfg, before = victim
    parent = cfg.parent

    def rendering() -> bool:
        try:
            tmp = list(parent.glob(".site.tmp-*"))
            return bool(tmp) and sum(1 for _ in tmp[0].rglob("*")) >= 15
        except OSError:  # the folder was swapped in or removed while we looked
            return False

    for attempt in range(3):
        proc = start(cfg, "--oco2", str(world["inputs"]))
        assert kill_when(proc, rendering, interval=0.005), "the build ended before rendering was seen"
        if list(parent.glob(".site.tmp-*")):
            break  # killed while the temporary site was still being written
    else:
        pytest.fail("could not kill the build during rendering")
    assert proc.returncode == -signal.SIGKILL
    _after_kill_checks(world, cfg, before)


def test_kill_during_cache_write(world, victim):
    cfg, before = victim
    cache = cfg.parent / "cache"
    how = None
    for attempt, wrapper in enumerate([None, None, SLOW_CACHE_WRITES]):
        for m in complete_entries(cache):
            shutil.rmtree(m.parent)
        proc = start(cfg, "--oco2", str(world["inputs"]), wrapper=wrapper)
        kill_when(proc, lambda: bool(tmp_entries(cache)))
        if tmp_entries(cache):  # a half-written entry is on disk: the kill landed inside put()
            how = "slowed writes (test wrapper)" if wrapper else f"real command, attempt {attempt + 1}"
            break
    assert how, "no kill landed inside a cache write"
    print(f"cache-write kill point hit with: {how}")
    half = tmp_entries(cache)
    assert half, "the half-written entry should still be on disk"
    live = half[0].parent / ".tmp-live-entry-of-a-running-build"
    live.mkdir()
    for h in half:  # an hour later ...
        os.utime(h, (time.time() - 7200, time.time() - 7200))
    _after_kill_checks(world, cfg, before)
    assert tmp_entries(cache) == [live], "old half-written cache entries must be cleaned, a live one kept"


def test_kill_during_simulation(tmp_path):
    """The default build (no observations) simulates first; killed there, no half month is trusted
    and the next simulation cleans the leftovers."""
    cfg = write_config(tmp_path, simulate={"days": 1})
    proc = start(cfg)
    sim_tmp = lambda: list(tmp_path.glob(".simulated.tmp-*"))  # noqa: E731
    assert kill_when(proc, lambda: bool(sim_tmp()), interval=0.005), "simulation was not seen"
    assert not (tmp_path / "simulated" / ".atlas-sim-key").exists(), "a killed simulation must not be marked done"
    assert not (tmp_path / "site").exists()
    from builder.build import ensure_simulation, load_sources
    from builder.config import load_config
    from builder.errors import Problems

    c = load_config(cfg)
    sources, profiles = load_sources(c, Problems())
    for left in sim_tmp():  # an old leftover (untouched for an hour) ...
        os.utime(left, (time.time() - 3600, time.time() - 3600))
    live = tmp_path / ".simulated.tmp-live0000"  # ... and another build's simulation in progress
    live.mkdir()
    out = ensure_simulation(c, sources, profiles)
    assert (out / ".atlas-sim-key").exists() and list(out.glob("*.nc4"))
    assert sim_tmp() == [live], "old leftovers of the killed simulation must go, a live one must stay"


# ----------------------------------------------------------------------------- swap and cache


def test_publish_swap_never_leaves_the_site_missing(world, victim, monkeypatch):
    """Killed between 'move the old site away' and 'move the new one in', a two-rename swap leaves
    no site at all; the swap must be one atomic step (or recover the old site on the next run)."""
    import builder.build as bb
    from builder.config import load_config
    from builder.results import BuildResult

    cfg, before = victim
    site = cfg.parent / "site"
    real_replace = os.replace

    class Killed(BaseException):
        pass

    def replace(src, dst):
        real_replace(src, dst)
        if Path(src) == site:
            raise Killed()  # the process dies right after moving the old site away

    monkeypatch.setattr(bb.os, "replace", replace)
    monkeypatch.setattr("builder.render.render_site", lambda c, r, out, progress=False, **_kw: (Path(out) / "x").write_text("new") and {})
    empty = BuildResult(*(None,) * 6)
    try:
        bb.publish_site(load_config(cfg), empty, site)
    except Killed:
        pass
    assert site.is_dir(), "the site folder vanished: the swap is not atomic"
    monkeypatch.setattr(bb.os, "replace", real_replace)
    # the recovery path: a site moved away by a killed two-step swap comes back before the next render
    real_replace(site, cfg.parent / ".site.old-deadbeef")

    def failing_render(c, r, out, progress=False, **_kw):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("builder.render.render_site", failing_render)
    with pytest.raises(RuntimeError):
        bb.publish_site(load_config(cfg), empty, site)
    assert site.is_dir(), "the previous site was not recovered from .site.old-*"


def _corrupt_all_ways(cache: Path) -> int:
    entries = [m.parent for m in complete_entries(cache)]
    assert len(entries) >= 4
    # 1. flip bytes in a cached table
    t = entries[0] / "detections.json"
    b = bytearray(t.read_bytes())
    for i in range(len(b) // 2, min(len(b), len(b) // 2 + 8)):
        b[i] ^= 0x55
    t.write_bytes(bytes(b))
    # 2. a foreign meta.json (another entry's) -> key mismatch
    shutil.copy(entries[2] / "meta.json", entries[1] / "meta.json")
    # 3. truncated meta.json
    m = entries[2] / "meta.json"
    m.write_bytes(m.read_bytes()[:40])
    # 4. a table deleted
    (entries[3] / "overpasses.json").unlink()
    # 5. an entry of another algorithm version
    if len(entries) > 4:
        meta = json.loads((entries[4] / "meta.json").read_text())
        meta["version"] = "0-old"
        (entries[4] / "meta.json").write_text(json.dumps(meta))
        return 5
    return 4


def test_corrupt_cache_entries_are_recomputed(world, tmp_path):
    cfg = write_config(tmp_path, extra_inventories=world["entries"])
    code, out, err = run_cli(["--config", str(cfg), "build", "--oco2", str(world["inputs"])])
    assert code == 0, err
    n_bad = _corrupt_all_ways(tmp_path / "cache")
    code, out, err = run_cli(["--config", str(cfg), "build", "--oco2", str(world["inputs"])])
    assert code == 0, err
    assert f"{n_bad} files processed" in out, out
    diff = tree_diff(world["ref"], tmp_path / "site")
    assert not diff, "a corrupt cache entry changed the site:\n" + "\n".join(diff)
    assert_cache_trustworthy(cfg)
    assert len(complete_entries(tmp_path / "cache")) == world["n_files"]


def test_cache_entry_for_other_config_is_not_used(world, tmp_path):
    """A changed detection setting must not reuse entries computed with the old one."""
    cfg = write_config(tmp_path, extra_inventories=world["entries"])
    code, out, err = run_cli(["--config", str(cfg), "build", "--oco2", str(world["inputs"]), "--no-cache"])
    assert code == 0, err
    code, out, err = run_cli(["--config", str(cfg), "build", "--oco2", str(world["inputs"])])
    assert f"{world['n_files']} files processed" in out  # --no-cache wrote nothing
    cfg2 = write_config(tmp_path, extra_inventories=world["entries"], detect={"min_significance": 4.5})
    code, out, err = run_cli(["--config", str(cfg2), "build", "--oco2", str(world["inputs"])])
    assert code == 0, err
    assert f"{world['n_files']} files processed" in out, out


def test_two_concurrent_publishes_do_not_destroy_each_other(tmp_path, monkeypatch):
    """`atlas serve` rebuilding while `atlas build` runs: the second publish's cleanup of leftovers
    must not delete the first one's temporary site in the middle of its rendering."""
    import threading

    import builder.build as bb
    from builder.config import load_config
    from builder.results import BuildResult

    started = threading.Event()

    def slow_render(cfg, result, out, progress=False, **_kw):
        (Path(out) / "index.html").write_text("first half")
        started.set()
        time.sleep(0.6)
        (Path(out) / "second.html").write_text("second half")  # fails if the folder was removed meanwhile
        return {}

    monkeypatch.setattr("builder.render.render_site", slow_render)
    cfg = load_config(write_config(tmp_path))
    site = tmp_path / "site"
    errors = []

    def publish():
        try:
            bb.publish_site(cfg, BuildResult(*(None,) * 6), site)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))

    a = threading.Thread(target=publish)
    a.start()
    assert started.wait(10)
    b = threading.Thread(target=publish)
    b.start()
    a.join(30)
    b.join(30)
    assert not errors, errors
    from builder.outdir import MARKER

    assert sorted(p.name for p in site.iterdir() if p.name != MARKER) == ["index.html", "second.html"]
    assert not list(tmp_path.glob(".site.*"))


# ----------------------------------------------------------------------------- output-folder safety (issue 13)


def _tree_hash(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones too), with the sha256 of files."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        rel = p.relative_to(folder).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def _project(tmp: Path) -> Path:
    """A project folder: atlas.toml, one observation file, a cities list, content pages, a .git."""

    write_plume_files(tmp / "oco2", PLUMES[:1])
    write_cities(tmp / "cities.csv", with_bad=False)
    make_content(tmp / "content", bad=False)
    (tmp / ".git").mkdir()
    (tmp / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return write_config(tmp, extra_inventories=[f"cities:{tmp / 'cities.csv'}"], content=tmp / "content")


@pytest.fixture
def project(tmp_path, monkeypatch):
    cfg = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return cfg


@pytest.mark.parametrize("out,why", [
    ("oco2", "input"),           # an easy slip for --oco2
    ("{root}", "project"),       # the project folder itself
    (".", "project"),            # ... given as the current folder
    ("cache", "cache"),
    ("cache/site", "cache"),     # inside the cache
    ("content", "input"),
    ("..", "project"),           # a folder holding the project
])
def test_out_onto_inputs_or_project_is_refused_before_touching_anything(project, out, why):
    root = project.parent
    before = _tree_hash(root)
    code, stdout, err = run_cli(["--config", str(project), "build", "--out", out.format(root=root)])
    assert code != 0
    assert err.strip().count("\n") == 0 and "Traceback" not in err, err
    assert "refusing" in err and why in err, err
    assert _tree_hash(root) == before, "the refused build changed the project folder"


def test_out_at_a_repository_root_is_refused(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    proj = tmp_path / "proj"
    proj.mkdir()
    cfg = write_config(proj)
    before = _tree_hash(repo)
    code, _, err = run_cli(["--config", str(cfg), "build", "--out", str(repo)])
    assert code != 0 and "repository root" in err, err
    assert _tree_hash(repo) == before


def test_non_empty_folder_atlas_did_not_write_is_refused(project):
    root = project.parent
    mine = root / "my-notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    before = _tree_hash(root)
    code, _, err = run_cli(["--config", str(project), "build", "--out", str(mine)])
    assert code != 0 and "not written by atlas" in err, err
    assert _tree_hash(root) == before
    # an existing *file* is refused too
    code, _, err = run_cli(["--config", str(project), "build", "--out", str(mine / "thesis.tex")])
    assert code != 0 and "not a folder" in err, err
    assert _tree_hash(root) == before


def test_empty_and_atlas_written_folders_are_accepted_and_marked(project):
    from builder.outdir import MARKER

    out = project.parent / "empty-out"
    out.mkdir()
    code, _, err = run_cli(["--config", str(project), "build", "--out", str(out)])
    assert code == 0, err
    assert (out / MARKER).is_file() and (out / "index.html").is_file()
    code, _, err = run_cli(["--config", str(project), "build", "--out", str(out), "--no-cache"])
    assert code == 0, err  # its own folder: replaced


def test_users_folders_beside_the_site_are_never_moved_or_deleted(project):
    """`.site.backup-2024/` and `.site.old-notes/` are the user's, though they look like ours."""
    root = project.parent
    backup, notes = root / ".site.backup-2024", root / ".site.old-notes"
    for d in (backup, notes):
        d.mkdir()
        (d / "keep.txt").write_text(f"user data in {d.name}")
    fake = root / ".site.old-0badc0de"  # our naming pattern, but no atlas marker inside: not ours either
    fake.mkdir()
    (fake / "keep.txt").write_text("also user data")
    before = {d.name: _tree_hash(d) for d in (backup, notes, fake)}
    # no site yet: the old code "recovered" .site.old-notes as the site; then re-render twice
    for argv in (["build"], ["build", "--no-cache"], ["build", "--no-cache"]):
        code, _, err = run_cli(["--config", str(project)] + argv)
        assert code == 0, err
        assert {d.name: _tree_hash(d) for d in (backup, notes, fake)} == before
    assert not (root / "site" / "keep.txt").exists()


def test_leftovers_atlas_made_are_still_cleaned(project):
    from builder.outdir import MARKER

    root = project.parent
    code, _, err = run_cli(["--config", str(project), "build"])
    assert code == 0, err
    left = root / ".site.tmp-0123abcd"
    left.mkdir()
    (left / MARKER).write_text("{}")
    (left / "index.html").write_text("half a site")
    code, _, err = run_cli(["--config", str(project), "build", "--no-cache"])
    assert code == 0, err
    assert not left.exists(), "a marked leftover of a killed build must be removed"


def test_simulated_folder_with_user_files_is_not_replaced(tmp_path):
    sim = tmp_path / "simulated"
    sim.mkdir()
    (sim / "precious.nc4").write_bytes(b"real data I put in the wrong folder")
    cfg = write_config(tmp_path, simulate={"days": 1})
    before = _tree_hash(sim)
    code, _, err = run_cli(["--config", str(cfg), "build"])
    assert code != 0 and "not written by atlas" in err, err
    assert _tree_hash(sim) == before


# ----------------------------------------------------------------------------- self-repairing output (issue 13)


@pytest.mark.parametrize("damage", ["delete-folder", "edit-page", "add-file"])
def test_up_to_date_check_repairs_a_damaged_site(project, damage):
    root = project.parent
    code, out, err = run_cli(["--config", str(project), "build"])
    assert code == 0, err
    site = root / "site"
    good = _tree_hash(site)
    if damage == "delete-folder":
        shutil.rmtree(site / "detections")
    elif damage == "edit-page":
        (site / "index.html").write_text("<h1>defaced</h1>")
    else:
        (site / "planted.html").write_text("<script>evil()</script>")
    code, out, err = run_cli(["--config", str(project), "build"])
    assert code == 0, err
    assert "site up to date" not in out, "a damaged site must be re-rendered, not reported up to date"
    assert _tree_hash(site) == good
    code, out, err = run_cli(["--config", str(project), "build"])
    assert "site up to date" in out  # and once repaired, the no-op check holds again


# ----------------------------------------------------------------------------- a cache that cannot be poisoned (issue 13)


def _poison(cache: Path, factor: float = 1e7) -> int:
    """Scale every cached emission and move every cached plume to Paris, then recompute the entry's
    checksums as an attacker with write access to the cache (but not the key) would."""
    n = 0
    for meta_path in complete_entries(cache):
        meta = json.loads(meta_path.read_text())
        for name in ("detections", "overpasses"):
            t = meta_path.parent / f"{name}.json"
            data = json.loads(t.read_text())
            cols = data["columns"]
            for row in data["data"]:
                for c, lat, lon in (("emission_kg_s", "latitude", "longitude"), ("emission_kg_s", "cross_latitude",
                                                                                 "cross_longitude")):
                    if c in cols and isinstance(row[cols.index(c)], (int, float)):
                        row[cols.index(c)] *= factor
                    for k, v in ((lat, 48.86), (lon, 2.35)):
                        if k in cols:
                            row[cols.index(k)] = v
            raw = json.dumps(data, separators=(",", ":")).encode()
            t.write_bytes(raw)
            meta["sha256"][name] = hashlib.sha256(raw).hexdigest()
        meta_path.write_text(json.dumps(meta))
        n += 1
    return n


def test_an_edited_cache_entry_is_recomputed_not_published(project):
    root = project.parent
    code, out, err = run_cli(["--config", str(project), "build"])
    assert code == 0, err
    good = _tree_hash(root / "site")
    n = _poison(root / "cache")
    assert n >= 1
    code, out, err = run_cli(["--config", str(project), "build", "--strict"])
    assert code == 0, err
    assert f"{n} files processed" in out, out
    assert _tree_hash(root / "site") == good, "a poisoned cache entry reached the site"


def test_the_cache_key_lives_outside_the_cache(project):
    from builder.cachesign import cache_secret, key_path

    run_cli(["--config", str(project), "build"])
    secret = cache_secret()
    assert len(secret) >= 16
    cache = project.parent / "cache"
    assert cache not in key_path().resolve().parents
    assert not any(secret.hex() in p.read_text(errors="ignore") for p in cache.rglob("*") if p.is_file())


def test_a_full_or_unwritable_cache_only_warns(project, monkeypatch, caplog):
    import errno

    from builder.pipeline import ResultCache

    real = ResultCache._put

    def full(self, key, res):
        d = self.root / key[:2]
        d.mkdir(parents=True, exist_ok=True)
        (d / f".tmp-{key}-0badf00d").mkdir()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ResultCache, "_put", full)
    code, out, err = run_cli(["--config", str(project), "build", "--strict"])
    assert code == 0, err
    assert "cache not written" in caplog.text
    assert not tmp_entries(project.parent / "cache"), "a failed cache write left a half entry"
    monkeypatch.setattr(ResultCache, "_put", real)
    # a cache folder that cannot be created at all (a file in its way)
    root = project.parent
    shutil.rmtree(root / "cache")
    (root / "cache").write_text("not a folder")
    code, out, err = run_cli(["--config", str(project), "build", "--strict", "--no-cache"])
    assert code == 0, err
    code, out, err = run_cli(["--config", str(project), "build", "--strict"])
    assert code == 0 and (root / "site" / "index.html").is_file(), err


def test_cached_values_pass_the_same_plausibility_bounds(project):
    """Even an entry signed with the key (an older, buggy atlas wrote it) is bounded like a fresh one."""
    import pandas as pd

    from builder.cachesign import cache_secret, sign

    root = project.parent
    code, out, err = run_cli(["--config", str(project), "build"])
    assert code == 0, err
    assert _poison(root / "cache", factor=1e4) >= 1
    for meta_path in complete_entries(root / "cache"):
        meta = json.loads(meta_path.read_text())
        meta["mac"] = sign(cache_secret(), meta)
        meta_path.write_text(json.dumps(meta))
    code, out, err = run_cli(["--config", str(project), "build"])
    assert code == 0, err
    assert "0 files processed" in out  # served from the cache ...
    ovp = pd.read_csv(root / "work" / "overpasses.csv")
    big = ovp["emission_kg_s"] > 1e5
    assert big.any() and ovp.loc[big, "flag_implausible"].all() and not ovp.loc[big, "detected"].any()
    det = pd.read_csv(root / "work" / "detections.csv")
    assert not (det["detection_kind"] == "targeted").any()  # ... but never shown as a plume


def test_site_path_in_atlas_toml_is_checked_too(tmp_path, monkeypatch):
    cfg = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    text = cfg.read_text().replace(f'site = "{tmp_path / "site"}"', 'site = "."')
    assert 'site = "."' in text
    cfg.write_text(text)
    before = _tree_hash(tmp_path)
    code, _, err = run_cli(["--config", str(cfg), "build"])
    assert code == 2 and "project folder" in err, err
    assert _tree_hash(tmp_path) == before


def test_a_site_of_an_older_atlas_is_adopted_only_with_its_stamp(project):
    from builder.outdir import MARKER

    root = project.parent
    code, _, err = run_cli(["--config", str(project), "build"])
    assert code == 0, err
    (root / "site" / MARKER).unlink()  # as published before the marker existed; the cache's stamp knows it
    code, _, err = run_cli(["--config", str(project), "build", "--no-cache"])
    assert code == 0, err
    assert (root / "site" / MARKER).is_file()
    (root / "site" / MARKER).unlink()
    shutil.rmtree(root / "cache")  # no stamp either: atlas cannot tell it wrote this folder
    before = _tree_hash(root / "site")
    code, _, err = run_cli(["--config", str(project), "build"])
    assert code == 2 and "not written by atlas" in err, err
    assert _tree_hash(root / "site") == before


def test_serve_and_detect_refuse_unsafe_folders(project):
    root = project.parent
    before = _tree_hash(root)
    code, _, err = run_cli(["--config", str(project), "serve", "--out", str(root / "oco2"), "--port", "0"])
    assert code == 2 and "refusing" in err, err
    for out in ("oco2", "oco2/tables", "cache"):
        code, _, err = run_cli(["--config", str(project), "detect", "--oco2", str(root / "oco2"), "--out",
                                str(root / out)])
        assert code == 2 and "refusing to write the tables there" in err, (out, err)
    assert _tree_hash(root) == before


def test_cache_key_falls_back_to_a_private_temporary_file(tmp_path, monkeypatch):
    import tempfile

    from builder import cachesign

    monkeypatch.delenv("ATLAS_CACHE_KEY", raising=False)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocked))  # no usable config folder
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    a = cachesign.cache_secret()
    key = tmp_path / f"atlas-cache-key-{os.getuid()}"
    assert key.is_file() and key.stat().st_mode & 0o077 == 0
    assert cachesign.cache_secret() == a != cachesign._ONE_OFF  # stable across calls
    key.chmod(0o644)  # readable by others: not trusted as a secret
    assert cachesign.cache_secret() == cachesign._ONE_OFF
