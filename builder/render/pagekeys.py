"""Incremental rendering: a content hash of each page's inputs, so a rebuild renders only the
pages whose inputs changed and carries the others over from the published site.

A page is the pure function ``template(values, lookups)`` of

* its **values**: the whole context the renderer hands to the template (data rows, rendered
  charts and map parts, title, links, ``[site]`` settings ...). They are pickled and hashed
  together with the *renderer version* (templates, renderer code, Jinja2/MarkupSafe versions)
  into the page's **input key**;
* its **lookups**: site-wide objects a template consults only in part: the run summary (a
  page's footer reads its period, the home page its counts) and ``source_url`` (which sources
  have a page). Hashing them whole would tie every page to every change; instead each render
  *records* what the template read (summary keys, source ids asked for), and the rebuild asks
  the same questions again: the page is carried over only when the answers are unchanged.

Carried-over pages are hard links to (or copies of) the published files, checked against the
manifest's sha256 first, so the result is byte-identical to a full render (tests/test_incremental.py
compares the trees). The records are kept in the cache (builder/build.py page_records_path); none
there means a full render.
"""

from __future__ import annotations

import hashlib
import io
import marshal
import os
import pickle
import types
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

#: Bump when the way keys are computed changes (old keys then never match).
KEY_FORMAT = "1"


def renderer_version(templates: Path) -> str:
    """Hash of everything that turns a page's inputs into HTML: the templates, the renderer
    code (filters, macros' helpers) and the template engine's version."""
    from importlib import metadata

    h = hashlib.sha256(f"{KEY_FORMAT}|{metadata.version('jinja2')}|{metadata.version('markupsafe')}".encode())
    here = Path(__file__).parent
    files = sorted(here.glob("*.py")) + [here.parent / "physics.py"]
    if Path(templates).is_dir():
        files += sorted(p for p in Path(templates).rglob("*") if p.is_file())
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def digest(obj: Any) -> str:
    """Hash of a value tree. Pickle is exact (floats, NaN, types, str vs Markup); two equal
    trees pickled differently only cost a needless re-render, never a wrong carry-over.
    Functions in the tree (a template helper such as ``href=lambda c: ...``) count by their
    compiled code, defaults and closure values."""
    buf = io.BytesIO()
    pickler = _KeyPickler(buf, protocol=5)
    pickler.fast = True  # no memo: the bytes depend on the values only, not on which objects are shared
    pickler.dump(obj)
    return hashlib.sha256(buf.getbuffer()).hexdigest()[:32]


def _function(*parts):  # stands for a function inside a pickled key (never called)
    return parts


def _set(*items):  # stands for a set inside a pickled key, items sorted (never called)
    return items


class _KeyPickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, (set, frozenset)):  # iteration order varies between processes (hash seed)
            return _set, tuple(sorted(obj, key=repr))
        if isinstance(obj, types.FunctionType) and obj not in (_function, _set):
            cells = tuple(c.cell_contents for c in obj.__closure__ or ())
            return _function, (obj.__module__, obj.__qualname__, marshal.dumps(obj.__code__), obj.__defaults__,
                               cells)
        return NotImplemented


class RecordedMapping:
    """Read-only view of a mapping that notes every key a template reads (``.get``, ``[]``,
    ``in``, attribute access through Jinja); iterating it notes the whole mapping."""

    def __init__(self, data: dict):
        self._data, self.keys_read = data, set()

    def get(self, key, default=None):
        self.keys_read.add(key)
        return self._data.get(key, default)

    def __getitem__(self, key):
        self.keys_read.add(key)
        return self._data[key]

    def __contains__(self, key):
        self.keys_read.add(key)
        return key in self._data

    def __iter__(self):
        self.keys_read.add(ALL)
        return iter(self._data)

    def __len__(self):
        self.keys_read.add(ALL)
        return len(self._data)

    def items(self):
        self.keys_read.add(ALL)
        return self._data.items()


class RecordedCall:
    """A function of one hashable argument that notes every argument it is called with."""

    def __init__(self, fn: Callable):
        self._fn, self.args = fn, set()

    def __call__(self, arg):
        self.args.add(arg)
        return self._fn(arg)


#: "The template iterated the whole mapping."
ALL = "\0all"


def answers(lookups: dict[str, Any], asked: dict[str, list]) -> str:
    """Hash of what ``lookups`` answer now to the questions a page asked (``asked``: lookup name
    -> keys or arguments, in sorted order)."""
    out = []
    for name in sorted(asked):
        obj = lookups.get(name)
        if obj is None:
            return "missing"
        for q in asked[name]:
            if callable(obj):
                out.append((name, q, obj(q)))
            elif q == ALL:
                out.append((name, q, sorted(obj.items(), key=lambda kv: str(kv[0]))))
            else:
                out.append((name, q, obj.get(q, _ABSENT)))
    return digest(out)


_ABSENT = "\0absent"


@dataclass
class PageRecord:
    """What a page was rendered from: input key, the lookups it asked and their answers' hash."""

    key: str
    asked: dict[str, list]
    answers: str

    def to_json(self) -> dict:
        return {"key": self.key, "asked": self.asked, "answers": self.answers}

    @classmethod
    def from_json(cls, d) -> "PageRecord | None":
        try:
            asked = {str(k): list(v) for k, v in d["asked"].items()}
            return cls(key=str(d["key"]), asked=asked, answers=str(d["answers"]))
        except (KeyError, TypeError, AttributeError, ValueError):
            return None


@dataclass
class PreviousSite:
    """The published site a render may carry pages over from: its folder, the page records and
    file hashes of its manifest (builder/outdir.py)."""

    folder: Path
    pages: dict[str, PageRecord]
    files: dict[str, str]
    search_key: str = ""


@dataclass
class PageKeys:
    """Decides, page by page, whether to render or to carry over; collects the new records."""

    version: str
    previous: PreviousSite | None = None
    records: dict[str, PageRecord] = field(default_factory=dict)
    rendered: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)

    def key(self, template: str, values: dict) -> str:
        return digest((self.version, template, values))

    def try_carry(self, rel: str, key: str, lookups: dict, dest: Path) -> bool:
        """Link the published page ``rel`` into ``dest`` when its record matches ``key`` and the
        lookups still answer the same; False when it must be rendered."""
        prev = self.previous
        record = prev.pages.get(rel) if prev else None
        if record is None or record.key != key or answers(lookups, record.asked) != record.answers:
            return False
        src = prev.folder / rel
        if not _matches(src, prev.files.get(rel)):
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(src, dest)
        self.records[rel] = record
        self.carried.append(rel)
        return True

    def rendered_page(self, rel: str, key: str, lookups: dict, recorders: dict) -> None:
        asked = {name: sorted(_asked(r), key=str) for name, r in recorders.items()}
        asked = {k: v for k, v in asked.items() if v}
        if not all(q is None or isinstance(q, (str, int, float, bool)) for v in asked.values() for q in v):
            key = ""  # a question the manifest (JSON) cannot store: never carried, rendered every time
        self.records[rel] = PageRecord(key=key, asked=asked, answers=answers(lookups, asked))
        self.rendered.append(rel)


def _asked(recorder) -> set:
    return recorder.keys_read if isinstance(recorder, RecordedMapping) else recorder.args


def recorders(lookups: dict) -> dict:
    """Recording stand-ins for the lookups handed to one template render."""
    return {name: RecordedCall(obj) if callable(obj) else RecordedMapping(obj) for name, obj in lookups.items()}


def _matches(path: Path, sha: str | None) -> bool:
    """The published file is still what the manifest says (a user may have edited it)."""
    if not sha:
        return False
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
    except OSError:
        return False
    return h.hexdigest() == sha


def link_or_copy(src: Path, dest: Path) -> None:
    """Hard-link ``src`` to ``dest`` (same file system: no bytes copied), else copy it. Nothing
    ever writes into a linked file in place: SiteWriter replaces files by unlinking first."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def carry_tree(src: Path, dest: Path) -> None:
    """Carry a whole published folder (the search index) over, file by file."""
    for root, _dirs, files in os.walk(src):
        out = dest / Path(root).relative_to(src)
        out.mkdir(parents=True, exist_ok=True)
        for name in files:
            link_or_copy(Path(root) / name, out / name)
