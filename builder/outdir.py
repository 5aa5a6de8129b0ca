"""Output-folder safety: atlas only ever replaces or deletes folders it wrote itself.

* :func:`check_site_folder` refuses (raises :class:`OutputFolderError`, one line) a site folder
  that is, contains or lies inside an input folder or the cache, that is or contains the project
  root (the folder of ``atlas.toml``) or a repository root (``.git``), or that exists, is not
  empty and was not written by atlas. It runs before the build touches anything.
* Every site atlas publishes holds :data:`MARKER`, a manifest (path -> sha256 of every file):
  the proof that atlas wrote the folder, and what the no-op check verifies (:func:`site_intact`).
* Temporary and backup folders beside the site are named ``.<site>.tmp-<8 hex>`` and
  ``.<site>.old-<8 hex>`` (:func:`sibling_name`); only folders matching that exact pattern *and*
  holding the marker (or empty) are ever moved back or removed (:func:`owned_siblings`). A user's
  ``.site.backup-2024/`` or ``.site.old-notes/`` is never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from typing import Iterable

from builder.errors import InputError

#: File in every folder atlas creates for a site: a JSON manifest of the published files.
MARKER = ".atlas-site.json"
#: Same, for the simulated month folder.
SIM_MARKER = ".atlas-sim-key"


class OutputFolderError(InputError):
    """The output folder is unsafe to write or replace (``item`` is the folder, ``reason`` why)."""


def sibling_name(dest: Path, kind: str) -> Path:
    """A fresh, atlas-owned temporary (``kind="tmp"``) or backup (``"old"``) name beside ``dest``."""
    return dest.with_name(f".{dest.name}.{kind}-{uuid.uuid4().hex[:8]}")


def _pattern(dest: Path, kinds: str) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(dest.name)}\.(?:{kinds})-[0-9a-f]{{8}}$")


def owned_siblings(dest: Path, kinds: str = "tmp|old", marker: str = MARKER) -> list[Path]:
    """Temporary/backup folders of ``dest`` that atlas made: exact name pattern and (for a
    populated folder) the marker inside. Anything else beside ``dest`` belongs to the user."""
    dest = Path(dest)
    pat = _pattern(dest, kinds)
    out = []
    try:
        entries = list(dest.parent.iterdir())
    except OSError:
        return []
    for p in entries:
        if not pat.match(p.name) or p.is_symlink() or not p.is_dir():
            continue
        try:
            if (p / marker).is_file() or not any(p.iterdir()) or (p / (marker + ".writing")).is_file():
                out.append(p)
        except OSError:
            continue
    return out


def claim(folder: Path, marker: str = MARKER) -> None:
    """Mark a fresh temporary folder as atlas's (before anything is written into it)."""
    (Path(folder) / (marker + ".writing")).write_text("atlas: folder being written\n", encoding="utf-8")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()
                  and p.name not in (MARKER, MARKER + ".writing"))


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: Path) -> dict[str, str]:
    """Write :data:`MARKER` (path -> sha256 of every file) into a finished site folder."""
    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): _sha(p) for p in _files(folder)}
    text = json.dumps({"written_by": "atlas build", "files": files}, indent=0, sort_keys=True) + "\n"
    (folder / MARKER).write_text(text, encoding="utf-8")
    (folder / (MARKER + ".writing")).unlink(missing_ok=True)
    return files


def read_manifest(folder: Path) -> dict[str, str] | None:
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
        files = data["files"]
        return files if isinstance(files, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def site_intact(folder: Path) -> list[str]:
    """Differences between the published tree and its manifest: missing, changed or extra files
    (empty list: intact). A site without a readable manifest is reported as such."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return ["no manifest"]
    present = {p.relative_to(folder).as_posix(): p for p in _files(folder)}
    out = [f"missing {rel}" for rel in sorted(set(manifest) - set(present))]
    out += [f"extra {rel}" for rel in sorted(set(present) - set(manifest))]
    for rel in sorted(set(manifest) & set(present)):
        try:
            if _sha(present[rel]) != manifest[rel]:
                out.append(f"changed {rel}")
        except OSError:
            out.append(f"unreadable {rel}")
    return out


def is_atlas_folder(folder: Path, legacy_stamp: Path | None = None) -> bool:
    """True if ``folder`` holds atlas's marker (or, for sites published before the marker
    existed, atlas's own stamp of that folder in the cache)."""
    folder = Path(folder)
    if (folder / MARKER).is_file():
        return True
    return bool(legacy_stamp is not None and legacy_stamp.is_file() and (folder / "index.html").is_file())


def _within(a: Path, b: Path) -> bool:
    """``a`` is ``b`` or lies inside it."""
    return a == b or b in a.parents


def repository_roots(*starts: Path) -> set[Path]:
    """Folders holding ``.git`` at or above ``starts``."""
    out = set()
    for s in starts:
        for d in (s, *s.parents):
            if (d / ".git").exists():
                out.add(d)
    return out


def check_site_folder(out: Path, *, project_root: Path, inputs: Iterable[Path], cache: Path,
                      legacy_stamp: Path | None = None) -> Path:
    """Refuse an unsafe site folder (raise :class:`OutputFolderError`); return it resolved.

    Refused: ``out`` is, contains or lies inside an input folder or file, or the cache; ``out``
    is or contains the project root or a repository root; ``out`` exists but is not a folder, or
    is a non-empty folder without atlas's marker.
    """
    given = Path(out)
    out = given.expanduser().resolve()
    name = str(given)

    def refuse(why: str):
        raise OutputFolderError(name, f"refusing to use it as the site folder: {why}")

    project_root = Path(project_root).resolve()
    if _within(project_root, out):
        refuse("it " + ("is" if out == project_root else "contains") + " the project folder (where atlas.toml is)")
    for repo in repository_roots(project_root, Path.cwd().resolve(), out):
        if _within(repo, out):
            refuse("it " + ("is" if out == repo else "contains") + " a repository root (.git)")
    _refuse_overlap(out, inputs, cache, refuse)
    if out.exists() and not out.is_dir():
        refuse("it exists and is not a folder")
    if out.is_dir():
        try:
            empty = not any(out.iterdir())
        except OSError as exc:
            refuse(f"cannot list it ({exc.strerror})")
        if not empty and not is_atlas_folder(out, legacy_stamp):
            refuse(f"it is not empty and was not written by atlas (no {MARKER}); "
                   "choose a new or empty folder")
    return out


def _refuse_overlap(out: Path, inputs: Iterable[Path], cache: Path, refuse) -> None:
    for label, p in [("the cache", Path(cache))] + [("an input", Path(i)) for i in inputs]:
        p = p.expanduser().resolve()
        if _within(out, p) or _within(p, out):
            where = "is" if out == p else ("lies inside" if _within(out, p) else "contains")
            refuse(f"it {where} {label} ({p.name or p})")


def check_table_folder(out: Path, *, inputs: Iterable[Path], cache: Path) -> Path:
    """``atlas detect --out``: tables are written, nothing is deleted, but never into (or around) an
    input folder (the CSVs would be read back as inputs) or the cache."""
    given = Path(out)
    resolved = given.expanduser().resolve()

    def refuse(why: str):
        raise OutputFolderError(str(given), f"refusing to write the tables there: {why}")

    _refuse_overlap(resolved, inputs, cache, refuse)
    return resolved


def atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a uniquely named temporary file beside it, then a
    rename, so a reader sees the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
