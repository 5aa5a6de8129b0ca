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
page, records it and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor


#: Generated sections a page may ask for with ``include:``.
INCLUDES = {"", "validation", "skipped"}


class ContentError(ValueError):
    """A content file has malformed front matter."""


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
        raise ContentError(f"{path}: missing front matter (the file must start with a '---' line)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentError(f"{path}: front matter is not closed by a '---' line") from None
    meta: dict[str, str] = {}
    for n, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip().isidentifier():
            raise ContentError(f"{path}:{n}: front matter line is not 'key: value': {line!r}")
        meta[key.strip()] = value.strip().strip('"').strip("'")
    if not meta.get("title"):
        raise ContentError(f"{path}: front matter has no title")
    if meta.get("include", "") not in INCLUDES:
        raise ContentError(f"{path}: include must be one of {sorted(INCLUDES - {''})}, got {meta['include']!r}")
    if "order" in meta:
        try:
            int(meta["order"])
        except ValueError:
            raise ContentError(f"{path}: order must be an integer, got {meta['order']!r}") from None
    return meta, "\n".join(lines[end + 1:])


class _NoRawHtml(Extension):
    """Raw HTML in Markdown is dropped (except a few plain inline tags such as
    <sub>), and links/images keep only safe URLs.

    Content files are repository content, but a page must still never carry a
    live script, event handler or javascript: link; images must be local (no
    request may leave the site).
    """

    def extendMarkdown(self, md):
        md.preprocessors.register(_StripTags(md), "strip_tags", 22)  # after fenced_code (25), before html_block (20)
        md.treeprocessors.register(_SafeUrls(md), "safe_urls", 0)


_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^>]*>", re.S)
_PLAIN_TAG = re.compile(r"</?(sub|sup|br|em|strong|b|i|small|abbr|kbd|var)\s*/?>", re.I)


def _strip(segment: str) -> str:
    return _TAG.sub(lambda m: m.group(0) if _PLAIN_TAG.fullmatch(m.group(0)) else "", segment)


class _StripTags(Preprocessor):
    """Remove HTML tags outside `code spans` (fenced blocks are already stashed)."""

    def run(self, lines):
        text = "\n".join(lines)
        parts = re.split(r"(`+[^`]*`+)", text)
        return "".join(p if i % 2 else _strip(p) for i, p in enumerate(parts)).split("\n")


class _SafeUrls(Treeprocessor):
    def run(self, root):
        for el in root.iter():
            for attr in ("href", "src"):
                url = el.get(attr)
                if url is None:
                    continue
                scheme = urlsplit(url.strip()).scheme.lower()
                if (attr == "src" and scheme) or scheme not in ("", "http", "https", "mailto"):
                    el.set(attr, "#")


def render_markdown(text: str) -> str:
    """Markdown -> HTML (tables, fenced code, heading ids, footnotes), raw HTML escaped."""
    return markdown.markdown(text, extensions=["tables", "fenced_code", "toc", "footnotes", "sane_lists", _NoRawHtml()],
                             extension_configs={"toc": {"permalink": False}}, output_format="html")


def load_pages(content_dir: Path) -> tuple[list[ContentPage], list[str]]:
    """All valid pages sorted by (order, slug), and the errors of skipped files."""
    pages, errors = [], []
    if not content_dir.is_dir():
        return pages, errors
    for path in sorted(content_dir.glob("*.md")):
        try:
            meta, body = parse_front_matter(path.read_text(encoding="utf-8"), path)
        except (ContentError, UnicodeDecodeError) as exc:
            errors.append(str(exc) if isinstance(exc, ContentError) else f"{path}: not UTF-8 text")
            continue
        pages.append(ContentPage(slug=path.stem, title=meta["title"], order=int(meta.get("order", 100)),
                                 html=render_markdown(body), source=path, include=meta.get("include", "")))
    pages.sort(key=lambda p: (p.order, p.slug))
    return pages, errors
