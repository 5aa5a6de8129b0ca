"""Where every page and file of the site lives, and how pages link to each other.

All internal links are relative (the site works under any sub-path); only the
404 page and sitemap.xml use the configured absolute base URL.
"""

from __future__ import annotations

import hashlib
import posixpath
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slugify(identifier: str) -> str:
    """A URL- and file-safe, stable slug for an id.

    Safe ids are kept as they are (readable permalinks); anything else is
    cleaned and suffixed with a short hash of the original, so two different ids
    never share a slug and the slug never changes between builds.
    """
    text = str(identifier)
    slug = _UNSAFE.sub("-", text).strip("-.")[:80]
    if slug != text or not slug or slug.lower() in {"index", "assets"}:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug}-{digest}" if slug else digest
    return slug


def source_page(source_id: str) -> str:
    """Site path (directory URL) of a source page."""
    return f"sources/{slugify(source_id)}/"


def detection_page(detection_id: str) -> str:
    """Site path (directory URL) of a detection page."""
    return f"detections/{slugify(detection_id)}/"


def output_file(page: str) -> str:
    """File written for a site path: directory URLs get an index.html."""
    return page + "index.html" if page == "" or page.endswith("/") else page


def relative(from_page: str, target: str) -> str:
    """Relative link from the page at site path ``from_page`` to site path ``target``."""
    from_dir = posixpath.dirname(output_file(from_page))
    rel = posixpath.relpath(target or ".", from_dir or ".")
    if target.endswith("/") or target == "":
        rel = rel.rstrip("/") + "/"
        if rel == "./":
            rel = "./"
    return rel


def root_prefix(page: str) -> str:
    """Prefix leading from ``page`` back to the site root ("" or "../../")."""
    depth = output_file(page).count("/")
    return "../" * depth


def absolute(base_url: str, target: str) -> str:
    """Absolute path of ``target`` under ``base_url`` (404 page, sitemap)."""
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    return base + target
