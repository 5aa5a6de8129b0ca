"""Markdown pages from content/*.md with a small front matter block.

Format::

    ---
    title: Methods
    order: 10
    ---
    Markdown text...

Only ``key: value`` lines are allowed (title required, order an integer,
include optional: "validation" appends the "how good is it" table from the
run summary, "skipped" the list of skipped inputs). A
malformed file raises ContentError naming the file; the renderer skips that
page, records it and goes on. The Markdown's HTML goes through an allow-list
sanitiser (builder/render/sanitize.py, nh3); a page that lost anything to it is
published without it and reported like a bad input (``--strict`` fails).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import markdown

from builder.errors import ContentError
from builder.render.sanitize import sanitize


#: Generated sections a page may ask for with ``include:``.
INCLUDES = {"", "validation", "skipped"}


@dataclass
class ContentPage:
    slug: str       # file stem -> URL <slug>/
    title: str
    order: int
    html: str       # rendered body
    source: Path
    include: str = ""  # generated section appended: "validation" or "skipped"


def parse_front_matter(text: str, path: Path) -> tuple[dict[str, str], str]:
    """Split '---' front matter from the body; strict about the format."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ContentError("missing front matter (the file must start with a '---' line)", file=path)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentError("front matter is not closed by a '---' line", file=path) from None
    meta: dict[str, str] = {}
    for n, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip().isidentifier():
            raise ContentError(f"front matter line is not 'key: value': {line!r}", file=path, line=n)
        meta[key.strip()] = value.strip().strip('"').strip("'")
    if not meta.get("title"):
        raise ContentError("front matter has no title", file=path)
    if meta.get("include", "") not in INCLUDES:
        raise ContentError(f"include must be one of {sorted(INCLUDES - {''})}, got {meta['include']!r}", file=path)
    if "order" in meta:
        try:
            int(meta["order"])
        except ValueError:
            raise ContentError(f"order must be an integer, got {meta['order']!r}", file=path) from None
    return meta, "\n".join(lines[end + 1:])


def render_markdown(text: str, removed: list[str] | None = None) -> str:
    """Markdown -> HTML (tables, fenced code, heading ids, footnotes), then sanitised with an
    allow-list (builder/render/sanitize.py); what the sanitiser removed is appended to ``removed``."""
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "toc", "footnotes", "sane_lists"],
                             extension_configs={"toc": {"permalink": False}}, output_format="html")
    clean, dropped = sanitize(html)
    if removed is not None:
        removed.extend(dropped)
    return clean


def load_pages(content_dir: Path) -> tuple[list[ContentPage], list[str]]:
    """All valid pages sorted by (order, slug), and the errors of skipped files as text."""
    pages, errors = load_content(content_dir)
    return pages, [str(e) for e in errors]


def load_content(content_dir: Path) -> tuple[list[ContentPage], list[ContentError]]:
    """All valid pages sorted by (order, slug), and a :class:`ContentError` (file, line,
    reason) for each file left out or published with unsafe HTML removed."""
    pages: list[ContentPage] = []
    errors: list[ContentError] = []
    if not content_dir.is_dir():
        return pages, errors
    for path in sorted(content_dir.glob("*.md")):
        try:
            meta, body = parse_front_matter(path.read_text(encoding="utf-8"), path)
        except (ContentError, UnicodeDecodeError) as exc:
            errors.append(exc if isinstance(exc, ContentError) else ContentError("not UTF-8 text", file=path))
            continue
        removed: list[str] = []
        pages.append(ContentPage(slug=path.stem, title=meta["title"], order=int(meta.get("order", 100)),
                                 html=render_markdown(body, removed), source=path, include=meta.get("include", "")))
        if removed:  # published without it, and reported (--strict fails)
            errors.append(ContentError(f"unsafe HTML removed: {'; '.join(removed[:5])}"
                                       + (f" and {len(removed) - 5} more" if len(removed) > 5 else ""), file=path))
    pages.sort(key=lambda p: (p.order, p.slug))
    return pages, errors
