"""``python -m bench incremental``: what a daily rebuild costs.

1. The simulated default month (31 days, cached in ``.cache/bench/sim-31d``) with its last day
   hidden: the first 30 day-files (hard links) in ``.cache/bench/incremental/input``, built into
   a fresh site with ``build()`` (detection, full render).
2. Day 31 restored, built again: the pages re-rendered and carried over (target: <= 15 % of the
   pages re-rendered), the search index re-run or carried, the render time.
3. The same 31 days rendered from scratch into another folder (same process, result cache warm),
   the two trees compared byte for byte; then, render only, over the published site: a full render
   (what every data change cost before page keys) and an incremental one with nothing changed.
4. The no-op: ``atlas --config ... build --oco2 ...`` as a whole new process, ``--repeat`` times
   (target <= 2 s), and ``bash scripts/build.sh`` with the same arguments.

Figures are printed and merged into bench/results.json under ``incremental``.
"""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, WORK, stats, table, write_results

log = logging.getLogger("bench")

FOLDER = WORK / "incremental"
TARGET_RENDERED = 0.15
TARGET_NOOP_S = 2.0


def write_config(folder: Path) -> Path:
    """An atlas.toml whose inputs are the repository's and whose outputs are all under ``folder``
    (every other key at its default, which is the repository's atlas.toml)."""
    def q(p) -> str:
        return '"' + str(p).replace("\\", "\\\\").replace('"', '\\"') + '"'
    text = "\n".join([
        "[paths]", f"dataset = {q(ROOT / 'dataset')}", f"coco2 = {q(ROOT / 'dataset' / 'coco2')}",
        f"extra_inventories = [{q('cities:' + str(ROOT / 'dataset' / 'cities' / 'worldcities_basic_300k.csv'))}]",
        f"simulated = {q(folder / 'unused-sim')}", f"site = {q(folder / 'site')}",
        f"cache = {q(folder / 'cache')}", f"work = {q(folder / 'build')}",
        "[site]", f"templates = {q(ROOT / 'templates')}", f"content = {q(ROOT / 'content')}",
        f"node_modules = {q(ROOT / 'node_modules')}", ""])
    path = folder / "atlas.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _link(src: Path, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _month_input(days: int) -> tuple[Path, Path, list[Path]]:
    """(input folder with all but the last day, the simulated month, its day-files)."""
    from bench.data import bench_config, lite_files, simulated_days
    from builder.withheld import SIMULATOR_TABLES

    sim_dir, _ = simulated_days(bench_config(), days)
    files = sorted(lite_files(sim_dir))
    inp = FOLDER / "input"
    if inp.exists():
        shutil.rmtree(inp)
    inp.mkdir(parents=True)
    for name in SIMULATOR_TABLES:  # truth and withheld plants: validation and the detector's inventory
        if (sim_dir / name).exists():
            _link(sim_dir / name, inp / name)
    for f in files[:-1]:
        _link(f, inp / f.name)
    return inp, sim_dir, files


def _render_figures(rep) -> dict:
    r = rep.render_stats or {}
    keys = ("n_pages", "n_rendered", "n_carried", "search", "seconds", "pages_seconds", "search_seconds")
    return {k: r.get(k) for k in keys} | {"render_wall_s": rep.seconds.get("render")}


def _whole_process(cmd: list[str], repeat: int) -> dict:
    """Wall and CPU seconds of ``cmd`` as a new process, ``repeat`` times; its last output line."""
    walls, cpus, last = [], [], ""
    for _ in range(repeat):
        before = os.times()
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # same working folder
        walls.append(time.perf_counter() - t)
        after = os.times()
        cpus.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
        last = next((ln for ln in proc.stdout.splitlines() if ln.startswith("built ")), "")
    return {"wall": stats(walls), "cpu": stats(cpus), "up_to_date": "site up to date" in last, "line": last}


def run(days: int = 31, repeat: int = 3) -> dict:
    from builder.build import build
    from builder.config import load_config

    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    FOLDER.mkdir(parents=True)
    toml = write_config(FOLDER)
    inp, _sim, files = _month_input(days)
    cfg = load_config(toml)
    t = time.perf_counter()
    first = build(cfg, oco2_dir=inp)
    out = {"days": days, "first_build_s": time.perf_counter() - t, "first": _render_figures(first)}
    _link(files[-1], inp / files[-1].name)  # the new day arrives
    t = time.perf_counter()
    added = build(cfg, oco2_dir=inp)
    out |= {"add_day_build_s": time.perf_counter() - t, "add_day": _render_figures(added),
            "add_day_files_processed": added.core.n_processed}
    t = time.perf_counter()
    full = build(cfg, oco2_dir=inp, site_dir=FOLDER / "scratch-site")
    out |= {"scratch_build_s": time.perf_counter() - t, "scratch": _render_figures(full)}
    out["identical_to_scratch"] = _same_tree(cfg.path("site"), FOLDER / "scratch-site")
    out |= _publish_figures(cfg, added.result)
    a = out["add_day"]
    out["rendered_fraction"] = a["n_rendered"] / a["n_pages"] if a.get("n_pages") else None
    atlas = [str(ROOT / ".venv" / "bin" / "atlas"), "--config", str(toml), "build", "--oco2", str(inp)]
    # the render-only runs above replaced the site after the last recorded build: one real (checking)
    # rebuild first, reported apart, then the no-op proper
    out["noop_warmup"] = _whole_process(atlas, 1)
    out["noop_atlas"] = _whole_process(atlas, repeat)
    # what scripts/build.sh runs (it passes its arguments after `build`, where --config is not accepted)
    script = f'cd "{ROOT}" && bash scripts/setup.sh >/dev/null && exec .venv/bin/atlas --config "{toml}" build ' \
             f'--oco2 "{inp}"'
    out["noop_build_sh"] = _whole_process(["bash", "-c", script], repeat)
    return out


def _publish_figures(cfg, result) -> dict:
    """Render-only times over the published site, like for like: a full render replacing it (what
    every data change cost before page keys), then an incremental one with nothing changed."""
    from builder.build import publish_site

    out = {}
    for label, incremental in (("full_over_site", False), ("unchanged_incremental", True)):
        t = time.perf_counter()
        st = publish_site(cfg, result, cfg.path("site"), incremental=incremental)
        out[label] = {k: st.get(k) for k in ("n_pages", "n_rendered", "n_carried", "search", "seconds",
                                             "pages_seconds", "search_seconds")} | {"wall_s": time.perf_counter() - t}
    return out


def _same_tree(a: Path, b: Path) -> bool:
    """Byte-for-byte equal trees (the manifest too)."""
    fa = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    if fa != fb:
        return False
    return all(filecmp.cmp(a / rel, b / rel, shallow=False) for rel in fa)


def rows(r: dict) -> list[list]:
    a, s, f, u = r["add_day"], r["scratch"], r["full_over_site"], r["unchanged_incremental"]
    frac = r["rendered_fraction"]
    na, nb = r["noop_atlas"], r["noop_build_sh"]
    return [
        ["pages re-rendered after adding day 31", f"{a['n_rendered']:,} of {a['n_pages']:,} "
         f"({100 * frac:.1f} %); {a['n_carried']:,} carried over", f"<= {100 * TARGET_RENDERED:.0f} %",
         "met" if frac <= TARGET_RENDERED else "NOT met"],
        ["search index after adding day 31", a["search"], "", ""],
        ["render wall after day 31 [s]: incremental over the site · full over the site · full into an empty folder",
         f"{a['render_wall_s']:.1f} · {f['wall_s']:.1f} · {s['render_wall_s']:.1f}", "", ""],
        ["  of which pages (context + template) [s]", f"{a['pages_seconds']:.1f} · {f['pages_seconds']:.1f} · "
         f"{s['pages_seconds']:.1f}", "", ""],
        ["  of which search index [s]", f"{a['search_seconds']:.1f} · {f['search_seconds']:.1f} · "
         f"{s['search_seconds']:.1f}", "", ""],
        ["render wall, nothing changed, forced (all pages carried) [s]",
         f"{u['wall_s']:.1f} (pages {u['pages_seconds']:.1f}, search {u['search']}: {u['search_seconds']:.1f}); "
         f"{u['n_rendered']} pages rendered", "0 pages", "met" if u["n_rendered"] == 0 else "NOT met"],
        ["incremental tree == from-scratch tree", "yes" if r["identical_to_scratch"] else "NO", "byte for byte",
         "met" if r["identical_to_scratch"] else "NOT met"],
        ["whole build: 30 days, +day 31, from scratch [s]", f"{r['first_build_s']:.1f}, {r['add_day_build_s']:.1f}, "
         f"{r['scratch_build_s']:.1f}", "", ""],
        *[[f"no-op rebuild, {label} [s]", f"{x['wall']['median']:.2f} ({x['wall']['min']:.2f}-{x['wall']['max']:.2f}); "
           f"CPU {x['cpu']['median']:.2f}", f"<= {TARGET_NOOP_S:g} s",
           ("met" if x["wall"]["median"] <= TARGET_NOOP_S else "NOT met") + ("" if x["up_to_date"] else
                                                                            " (not up to date!)")]
          for label, x in (("`atlas build` process", na), ("setup.sh + `atlas build` (= scripts/build.sh)", nb))],
        ["first rebuild after the render-only runs (checks, not a no-op) [s]",
         f"{r['noop_warmup']['wall']['median']:.1f}", "", ""],
    ]


def main(days: int = 31, repeat: int = 3) -> int:
    t = time.perf_counter()
    r = run(days, repeat)
    r["bench_seconds"] = time.perf_counter() - t
    print(f"\nINCREMENTAL BUILDS (simulated month, {days} days; no-op: {repeat} runs, median (min-max))")
    print(table(rows(r), ["measure", "figure", "target", ""]))
    path = write_results("incremental", r)
    print(f"\nwritten to {path}")
    ok = r["identical_to_scratch"] and r["rendered_fraction"] <= TARGET_RENDERED
    return 0 if ok else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s", stream=sys.stderr)
    raise SystemExit(main())
