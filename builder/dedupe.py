"""Each observation counted once (issue 13).

* :func:`unique_ids` makes repeated ids unique by construction (``X``, ``X-2``, ``X-3`` ...), so two
  plumes on a track whose sounding ids are all zero never share a detection id (or a page).
* :func:`drop_repeated_orbits` finds one orbit held by two input files over overlapping times
  (v10r and v11.1r of one day, or one file name in two subfolders) and keeps it from one file only:
  the newest product version (build id in the file name), then the newest production stamp, then
  the first path. The files that lose say so in the skip report. An orbit split across two daily
  files (no overlap in time) is kept from both.
* :func:`renumber_detections` is the last guard: detection ids unique over all files.
* :func:`dedupe_files`: byte-identical copies of a file are read once (moved here from pipeline.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from builder.results import SkippedItem

_BUILD = re.compile(r"_(B(\d+)[A-Za-z]*)_(\d{12})s", re.IGNORECASE)


def dedupe_files(files: list[Path], skipped: list[SkippedItem], file_sha256) -> list[tuple[Path, str]]:
    """(path, sha256) of each distinct file; byte-identical copies and unreadable files are skipped lines."""
    seen: dict[str, Path] = {}
    out = []
    for p in files:
        try:
            h = file_sha256(p)
        except OSError as exc:
            skipped.append(SkippedItem(item=p.name, reason=f"cannot read file ({exc.strerror})", stage="ingest"))
            continue
        if h in seen:
            skipped.append(SkippedItem(item=p.name, reason=f"duplicate of {seen[h].name} (same content)",
                                       stage="ingest"))
            continue
        seen[h] = p
        out.append((p, h))
    return out


def unique_ids(ids) -> np.ndarray:
    """``ids`` with the 2nd, 3rd ... repeat of a value suffixed ``-2``, ``-3`` (first kept as is)."""
    s = pd.Series(np.asarray(ids, dtype=object)).astype(str)
    rank = s.groupby(s, sort=False).cumcount().to_numpy()
    out = s.to_numpy(dtype=object)
    if (rank > 0).any():
        rep = rank > 0
        out[rep] = s[rep] + "-" + (rank[rep] + 1).astype(str)
        if len(set(out)) < len(out):  # a suffixed id met an existing one: suffix again
            return unique_ids(out)
    return out


def unique_overpass_ids(overpasses: pd.DataFrame) -> pd.DataFrame:
    """Overpass ids unique (one source crossed in both halves of an orbit split over two files)."""
    if overpasses is None or not len(overpasses):
        return overpasses
    return overpasses.assign(overpass_id=unique_ids(overpasses["overpass_id"]))


def version_rank(path: Path) -> tuple[int, str]:
    """(build number, production stamp) from a Lite file name; larger is newer. (0, "") if unknown."""
    m = _BUILD.search(Path(path).name)
    return (int(m.group(2)), m.group(3)) if m else (0, "")


def _version_label(path: Path) -> str:
    from builder.litefmt import BUILD_IDS

    m = _BUILD.search(Path(path).name)
    if not m:
        return "unknown version"
    names = {v.upper(): k for k, v in BUILD_IDS.items()}
    return names.get(m.group(1).upper(), f"build {m.group(1)}")


def drop_repeated_orbits(results: dict) -> list[SkippedItem]:
    """Keep each observed orbit from one file only (see the module doc); ``results`` maps
    path -> FileResult and is updated in place. Returns one skip line per file that lost orbits."""
    rows = []
    for p, r in results.items():
        t = r.tracks
        if t is None or not len(t):
            continue
        rows.append(pd.DataFrame({"path": [p] * len(t), "instrument": t["instrument"].astype(str).to_numpy(),
                                  "orbit": pd.to_numeric(t["orbit"]).to_numpy(np.int64),
                                  "t0": pd.to_datetime(t["time_start"], utc=True).to_numpy(),
                                  "t1": pd.to_datetime(t["time_end"], utc=True).to_numpy()}))
    if not rows:
        return []
    df = pd.concat(rows, ignore_index=True)
    multi = df.groupby(["instrument", "orbit"])["path"].transform("nunique") > 1
    if not multi.any():
        return []
    df = df.loc[multi].copy()
    ranks = {p: version_rank(p) for p in df["path"].unique()}
    df["rank_build"] = df["path"].map(lambda p: ranks[p][0])
    df["rank_prod"] = df["path"].map(lambda p: ranks[p][1])
    df["order"] = df["path"].map(str)
    df = df.sort_values(["instrument", "orbit", "rank_build", "rank_prod", "order"],
                        ascending=[True, True, False, False, True], kind="stable")
    losers: dict[Path, dict[tuple[str, int], Path]] = {}
    for (inst, orbit), g in df.groupby(["instrument", "orbit"], sort=False):  # repeated orbits only
        kept: list[tuple] = []
        for p, t0, t1 in zip(g["path"], g["t0"], g["t1"]):
            winner = next((k for k in kept if k[1] <= t1 and t0 <= k[2]), None)
            if winner is None:
                kept.append((p, t0, t1))
            else:
                losers.setdefault(p, {})[(inst, int(orbit))] = winner[0]
    out = []
    for p, lost in losers.items():
        r = results[p]
        keys = set(lost)
        det_drop = _rows_of(r.detections, keys)
        dropped_ids = set(r.detections.loc[det_drop, "detection_id"].astype(str))
        r.detections = r.detections.loc[~det_drop].reset_index(drop=True)
        r.profiles = r.profiles.loc[~r.profiles["detection_id"].astype(str).isin(dropped_ids)].reset_index(drop=True)
        r.overpasses = r.overpasses.loc[~_rows_of(r.overpasses, keys)].reset_index(drop=True)
        r.tracks = r.tracks.loc[~_rows_of(r.tracks, keys)].reset_index(drop=True)
        by_winner: dict[Path, list[int]] = {}
        for (inst, orbit), w in sorted(lost.items()):
            by_winner.setdefault(w, []).append(orbit)
        for w, orbits in by_winner.items():
            same = w.name == Path(p).name
            where = f"{w.parent.name}/{w.name}" if same else w.name
            why = ("same file name, first by folder" if same else
                   f"{_version_label(w)} replaces {_version_label(p)}" if version_rank(w)[0] != version_rank(p)[0]
                   else "newer production" if version_rank(w) != version_rank(p) else "same version, first by name")
            what = f"orbit{'s' if len(orbits) > 1 else ''} {', '.join(map(str, orbits))}"
            out.append(SkippedItem(item=Path(p).name, reason=f"{what} also in {where} ({why}): those soundings are "
                                                             "counted once, from that file", stage="ingest"))
    return out


def _rows_of(df: pd.DataFrame, keys: set[tuple[str, int]]) -> np.ndarray:
    if df is None or not len(df):
        return np.zeros(0 if df is None else len(df), dtype=bool)
    k = pd.MultiIndex.from_arrays([df["instrument"].astype(str), pd.to_numeric(df["orbit"]).astype(np.int64)])
    return k.isin(list(keys))


def renumber_detections(ordered: list) -> None:
    """Detection ids unique over all file results (``ordered``, updated in place): a repeated id
    gets a suffix in the detections, profiles and overpasses of its file."""
    seen: set[str] = set()
    for r in ordered:
        if r.detections is None or not len(r.detections):
            continue
        ids = r.detections["detection_id"].astype(str).to_numpy()
        clash = np.isin(ids, list(seen)) if seen else np.zeros(len(ids), dtype=bool)
        if clash.any():
            new = ids.copy()
            n = 2
            for i in np.flatnonzero(clash):
                while f"{ids[i]}-f{n}" in seen:
                    n += 1
                new[i] = f"{ids[i]}-f{n}"
            mapping = dict(zip(ids[clash], new[clash]))
            r.detections = r.detections.assign(detection_id=new)
            r.profiles = r.profiles.assign(detection_id=r.profiles["detection_id"].astype(str).replace(mapping))
            if len(r.overpasses):
                r.overpasses = r.overpasses.assign(
                    detection_id=r.overpasses["detection_id"].astype(str).replace(mapping))
            ids = new
        seen.update(ids)
