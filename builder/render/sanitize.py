"""HTML sanitiser for Markdown content pages: nh3 (the Rust ``ammonia`` library, a real HTML5
parser) with an allow-list. Nothing outside the list survives: no ``script``/``style``/``meta``/
``iframe``, no ``on*`` or ``style`` attributes, links only to http(s)/mailto/relative URLs (entity-
encoded ``jav&#x61;script:`` is decoded by the parser first), images only from the site itself.
:func:`sanitize` also says what it removed, so ``atlas build --strict`` can fail on it.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "small", "span", "strong", "sub",
        "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "var"}
ATTRIBUTES = {"*": {"id", "class", "title"}, "a": {"href"}, "img": {"src", "alt", "width", "height"},
              "th": {"align", "style"}, "td": {"align", "style"}, "ol": {"start"}}
STYLE_PROPERTIES = {"text-align"}  #: the only CSS kept (Markdown tables' column alignment)
URL_SCHEMES = {"http", "https", "mailto"}


def _local_images(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src" and urlsplit(value.strip()).scheme:
        return None  # no request may leave the site
    return value


class _Inventory(HTMLParser):
    """Tags and (tag, attribute, value) triples of an HTML fragment (entities decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: Counter = Counter()

    def handle_starttag(self, tag, attrs):
        self.items[f"<{tag}>"] += 1
        for k, v in attrs:
            if k == "style":  # compared per property: the sanitiser rewrites the kept ones
                for decl in (v or "").split(";"):
                    if decl.strip():
                        self.items[f"style {decl.split(':')[0].strip().lower()!r} on <{tag}>"] += 1
            else:
                self.items[f"{k}={(v or '').strip()[:40]!r} on <{tag}>"] += 1

    handle_startendtag = handle_starttag


def _inventory(html: str) -> Counter:
    p = _Inventory()
    p.feed(html)
    p.close()
    return p.items


def sanitize(html: str) -> tuple[str, list[str]]:
    """(safe HTML, what was removed: tags and attributes, in order of first appearance)."""
    clean = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                      attribute_filter=_local_images, link_rel=None, strip_comments=True,
                      filter_style_properties=STYLE_PROPERTIES)
    removed = _inventory(html) - _inventory(clean)
    return clean, list(removed)
