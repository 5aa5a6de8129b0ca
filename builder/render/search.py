"""Site search with Pagefind: a post-build index over the written HTML, plus one
record per inventory source.

Pages mark what is indexed with ``data-pagefind-body`` (detection, candidate,
country and text pages). Every source, with a page or not, is added as a record
(:func:`source_records`, indexed through stub pages, :func:`build_index`) whose text holds its name, an accent-free
spelling of it ("Belchatow" finds "Bełchatów"), its country and state, its
catalogue ids ("coco2-15522", "15522", "CoCO2_15522"), fuel and kind; its URL
is its page, or its row on its country's list. Pagefind writes its UI bundle
and a chunked index into pagefind/, loaded on demand by the search page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

from markupsafe import escape

from builder import countries
from builder.errors import AssetError

#: Letters that Unicode does not decompose into a base letter + accent.
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae",
                       "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
                       "ħ": "h", "Ħ": "H"})


class SearchIndexError(AssetError):
    """Pagefind failed."""


def fold(text: str) -> str:
    """'Bełchatów' -> 'Belchatow': accents dropped, special letters spelled in ASCII."""
    text = unicodedata.normalize("NFKD", str(text).translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def source_records(sources: list[dict], href_of) -> list[dict]:
    """One Pagefind record per source: url (site path from ``href_of(source_id)``),
    content and meta.title. Sorted by source id (deterministic index)."""
    out = []
    for s in sorted(sources, key=lambda s: s["source_id"]):
        sid = s["source_id"]
        name = s.get("name") or sid
        number = sid.split("-", 1)[1] if sid.startswith("coco2-") else ""
        ids = [sid] + ([number, f"CoCO2_{number}"] if number else [])
        words = [name, s.get("plant_name") or "", countries.country_name(s.get("country")),
                 " ".join(countries.country_aliases(s.get("country"))),
                 countries.region_name(s.get("country")), s.get("country") or "", " ".join(ids),
                 s.get("fuel") or "", (s.get("kind") or "").replace("_", " "), s.get("inventory") or ""]
        text = " · ".join(w for w in words if w)
        folded = fold(text)
        content = text if folded == text else f"{text} · {folded}"
        out.append(dict(url="/" + href_of(sid), content=content,
                        meta=dict(title=name, place=countries.place_name(s.get("country")))))
    return out


def build_index(site_dir: Path, records: list[dict] | None = None) -> None:
    """Index ``site_dir`` with Pagefind (the PyPI ``pagefind[bin]`` package), plus ``records``.

    Each record is written as a small stub page into a temporary folder of the
    site, indexed with the rest, and removed again: the stub carries the record's
    URL as Pagefind's ``url`` meta, which the result list links instead of the
    stub's own. (Pagefind's Python API adds custom records one by one at about
    10 per second; the stubs index 16,000 sources in seconds.)"""
    site_dir = Path(site_dir)
    stubs = site_dir / STUB_DIR
    if records:
        _write_stubs(stubs, records)
    try:
        _run_cli(site_dir)
    finally:
        shutil.rmtree(stubs, ignore_errors=True)
    if not (site_dir / "pagefind" / "pagefind-ui.js").exists():
        raise SearchIndexError("pagefind wrote no UI bundle")


#: Temporary folder of the record stubs inside the site (removed after indexing).
STUB_DIR = "_search-records"


def _write_stubs(folder: Path, records: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(records):
        meta = "".join(f'<span data-pagefind-meta="{escape(k)}">{escape(v)}</span>' for k, v in r["meta"].items()
                       if k not in ("url", "title"))
        # Results are shown on search/, so a link relative to it works under any sub-path.
        url = "../" + r["url"].lstrip("/")
        (folder / f"{i}.html").write_text(
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(r["meta"]["title"])}</title>'
            f'</head><body><main data-pagefind-body><h1 data-pagefind-meta="title">{escape(r["meta"]["title"])}</h1>'
            f'<p>{escape(r["content"])}</p><a data-pagefind-meta="url[href]" href="{escape(url)}"></a>{meta}'
            f'</main></body></html>', encoding="utf-8")


def pagefind_version() -> str:
    """Installed Pagefind version (part of the search index's input key)."""
    from importlib import metadata

    for dist in ("pagefind", "pagefind-bin"):
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def _run_cli(site_dir: Path) -> None:
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site_dir), "--silent", "--force-language", "en"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SearchIndexError(f"pagefind failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
