"""Link and asset checker for a built site (no network, no browser).

``check_site(site_dir)`` reads every HTML page (and every CSS, JS and SVG
file) of a built site and reports:

* **broken** internal references: an ``href``/``src``/``srcset``/``url()``/
  ``@import``/``fetch("...")`` that resolves to no file of the site, that leaves
  the site folder (``../`` past the root), or whose ``#fragment`` names no
  ``id``/``name`` in the target page;
* **external** asset references: anything the browser would *load* from
  another host -- ``<script src>``, stylesheets and other ``<link>`` resources,
  images, media, frames, ``<object>``, ``<form action>``, CSS ``url()`` and
  ``@import``, ``fetch``/``import()``/``importScripts`` and map tile templates
  (``https://{s}.tile...{z}/{x}/{y}``) in scripts. Plain navigation links
  (``<a href="https://doi.org/...">``) and ``<link rel="canonical">`` /
  ``rel="alternate"`` are allowed;
* **unsafe** URLs: ``javascript:`` in a link or resource attribute.

Links carried in JSON data for the site's scripts (``"href"`` keys, or an
``href`` column of ``{"columns": [...], "rows": [...]}`` tables) are checked
too, resolved against the site root as the scripts do.

Command line (builder/cli.py)::

    atlas check SITE_DIR [--base-url /co2-atlas/] [--no-fragments] [--json]

prints one line per problem and exits 3 when there is any, 2 when SITE_DIR is
not a folder, 0 when the site is clean.

Absolute-path links (``/x/y``) are resolved against ``--base-url`` (default
``/``); ``http(s)://`` and ``//host`` references are always external.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Attributes that make the browser load something (tag -> attributes); ``*`` = any tag.
RESOURCE_ATTRS: dict[str, tuple[str, ...]] = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),   # SVG
    "use": ("href", "xlink:href"),     # SVG
    "feimage": ("href", "xlink:href"),  # SVG
    "form": ("action",),
    "body": ("background",),
}
#: <link rel=...> values that are navigation/metadata, not loaded resources.
NAV_LINK_RELS = {"canonical", "alternate", "author", "license", "help", "next", "prev", "search", "bookmark",
                 "me", "external", "nofollow", "noopener", "noreferrer", "tag"}
#: Namespace URIs that look like URLs but are never fetched.
NAMESPACE_URIS = ("http://www.w3.org/", "https://www.w3.org/")

_CSS_URL = re.compile(r"""url\(\s*(?P<q>['"]?)(?P<u>[^'")]*?)(?P=q)\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?P<q>['"])(?P<u>[^'"]+)(?P=q)""", re.IGNORECASE)
_JS_LOAD = re.compile(
    r"""(?:\bfetch|\bimportScripts|\bimport|\bnew\s+(?:Worker|EventSource|WebSocket|SharedWorker))\s*\(\s*"""
    r"""(?P<q>['"`])(?P<u>[^'"`]+)(?P=q)""")
_JS_IMPORT_FROM = re.compile(r"""\bimport\s+(?:[\w*{}\s,]+\s+from\s+)?(?P<q>['"])(?P<u>[^'"]+)(?P=q)""")
_JS_XHR = re.compile(r"""\.open\(\s*['"][A-Za-z]+['"]\s*,\s*(?P<q>['"`])(?P<u>[^'"`]+)(?P=q)""")
_JS_SRC_ASSIGN = re.compile(r"""\.(?:src|href)\s*=\s*(?P<q>['"`])(?P<u>(?:https?:)?//[^'"`]+)(?P=q)""")
_JS_TILE = re.compile(r"""(?P<q>['"`])(?P<u>(?:https?:)?//[^'"`\s]*\{[zxys]\}[^'"`\s]*)(?P=q)""")
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


@dataclass
class Problem:
    file: str     # site-relative path of the page/file holding the reference
    ref: str      # the reference as written
    kind: str     # "broken", "external" or "unsafe"
    reason: str

    def line(self) -> str:
        return f"{self.file}: {self.kind}: {self.ref!r}: {self.reason}"


@dataclass
class LinkReport:
    site_dir: str
    n_pages: int = 0
    n_files_scanned: int = 0
    n_refs: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def broken(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "broken"]

    @property
    def external(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "external"]

    @property
    def unsafe(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "unsafe"]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (f"{self.site_dir}: {self.n_pages} pages, {self.n_files_scanned} files scanned, {self.n_refs} "
                f"references; {len(self.broken)} broken, {len(self.external)} external, {len(self.unsafe)} unsafe")


# ----------------------------------------------------------------------------- HTML parsing


@dataclass
class _Ref:
    url: str
    resource: bool     # loaded by the browser (vs navigation)
    where: str         # e.g. "<script src>"


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[_Ref] = []
        self.ids: set[str] = set()
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self.base_href: str | None = None
        self._in: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs)
        if tag in ("script", "style"):
            self._in, self._buf = tag, []

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == self._in:
            (self.inline_scripts if tag == "script" else self.inline_styles).append("".join(self._buf))
            self._in, self._buf = None, []

    def handle_data(self, data):
        if self._in:
            self._buf.append(data)

    def _tag(self, tag: str, attrs):
        a = {k.lower(): (v if v is not None else "") for k, v in attrs}
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "base" and a.get("href"):
            self.base_href = a["href"]
            self.refs.append(_Ref(a["href"], True, "<base href>"))
        if tag == "a" or tag == "area":
            if "href" in a:
                self.refs.append(_Ref(a["href"], False, f"<{tag} href>"))
        elif tag == "link" and "href" in a:
            rels = set(a.get("rel", "").lower().split())
            self.refs.append(_Ref(a["href"], not rels or not rels <= NAV_LINK_RELS, f"<link rel={' '.join(sorted(rels))}>"))
        elif tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\";]+)", a.get("content", ""), re.IGNORECASE)
            if m:
                self.refs.append(_Ref(m.group(1).strip(), False, "<meta refresh>"))
        for attr in RESOURCE_ATTRS.get(tag, ()):
            if attr in a:
                if attr == "srcset":
                    for cand in a[attr].split(","):
                        u = cand.strip().split()[0] if cand.strip() else ""
                        if u:
                            self.refs.append(_Ref(u, True, f"<{tag} srcset>"))
                elif tag == "form" and attr == "action" and not a[attr]:
                    continue
                else:
                    self.refs.append(_Ref(a[attr], True, f"<{tag} {attr}>"))
        if tag in ("a", "link") and "xlink:href" in a:
            self.refs.append(_Ref(a["xlink:href"], False, f"<{tag} xlink:href>"))
        if "style" in a:
            for u in _css_refs(a["style"]):
                self.refs.append(_Ref(u, True, f"<{tag} style> url()"))


def _css_refs(text: str) -> list[str]:
    return [m.group("u").strip() for m in _CSS_URL.finditer(text)] + \
           [m.group("u").strip() for m in _CSS_IMPORT.finditer(text)]


def _js_refs(text: str) -> list[tuple[str, bool]]:
    """(url, is_tile_template) loaded by a script. Relative ones are resolved at run time, so only
    literal absolute/external ones are meaningful; callers check those."""
    out = []
    for rx in (_JS_LOAD, _JS_IMPORT_FROM, _JS_XHR, _JS_SRC_ASSIGN):
        out += [(m.group("u"), False) for m in rx.finditer(text)]
    out += [(m.group("u"), True) for m in _JS_TILE.finditer(text)]
    return out


# ----------------------------------------------------------------------------- resolution


def _is_external(url: str) -> bool:
    return bool(_EXTERNAL.match(url.strip()))


def _strip_base(path: str, base_url: str) -> str | None:
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    if path.startswith(base):
        return path[len(base):]
    if path + "/" == base:
        return ""
    return None


def _resolve(from_file: str, url: str, base_url: str) -> tuple[str | None, str, str]:
    """(site-relative target path or None if outside the site, fragment, reason if unresolvable)."""
    parts = urlsplit(url)
    path, frag = unquote(parts.path), unquote(parts.fragment)
    if not path:
        return from_file, frag, ""
    if path.startswith("/"):
        rel = _strip_base(path, base_url)
        if rel is None:
            return None, frag, f"absolute path outside base URL {base_url!r}"
        target = posixpath.normpath(rel) if rel else ""
    else:
        joined = posixpath.join(posixpath.dirname(from_file), path)
        target = posixpath.normpath(joined)
    if target in (".", ""):
        target = ""
    if target == ".." or target.startswith("../"):
        return None, frag, "leaves the site folder"
    if path.endswith("/") and target:
        target += "/"
    return target, frag, ""


def _target_file(site: Path, target: str) -> Path | None:
    """The file a browser would get for site path ``target`` from a static server."""
    if target == "" or target.endswith("/"):
        f = site / target / "index.html"
        return f if f.is_file() else None
    p = site / target
    if p.is_file():
        return p
    if p.is_dir() and (p / "index.html").is_file():
        return p / "index.html"
    return None


# ----------------------------------------------------------------------------- the check


def check_site(site_dir: str | Path, *, base_url: str = "/", fragments: bool = True) -> LinkReport:
    """Check every page and asset of ``site_dir``; see the module doc for the rules."""
    site = Path(site_dir)
    if not site.is_dir():
        raise NotADirectoryError(f"{site}: not a folder")
    checker = _Checker(site, base_url, fragments)
    for f in sorted(p for p in site.rglob("*") if p.is_file()):
        checker.check_file(f)
    return checker.report


class _Checker:
    """One site's check: parsed pages (kept for #fragment lookups) and the report being filled."""

    def __init__(self, site: Path, base_url: str, fragments: bool):
        self.site, self.base_url, self.fragments = site, base_url, fragments
        self.report = LinkReport(site_dir=str(site))
        self.parsed: dict[str, _PageParser] = {}

    def page(self, rel: str) -> _PageParser | None:
        """The parsed HTML/SVG file ``rel`` (parsed once), or None if unreadable."""
        if rel not in self.parsed:
            try:
                text = (self.site / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
            pp = _PageParser()
            try:
                pp.feed(text)
                pp.close()
            except Exception:  # html.parser is lenient; be safe anyway
                pass
            self.parsed[rel] = pp
        return self.parsed[rel]

    def add(self, file: str, ref: str, kind: str, reason: str) -> None:
        self.report.problems.append(Problem(file=file, ref=ref, kind=kind, reason=reason))

    def check_ref(self, rel: str, url: str, resource: bool, where: str, *, check_frag: bool = True) -> None:
        """One reference of file ``rel``: external (if loaded), unsafe, or resolving to a site file."""
        self.report.n_refs += 1
        u = url.strip()
        if not u:
            return
        scheme = _SCHEME.match(u)
        if _is_external(u) or (scheme and scheme.group(1).lower() in ("http", "https")):
            if resource:
                self.add(rel, url, "external", f"{where} loads from another host")
            return
        if scheme:
            if scheme.group(1).lower() == "javascript":
                self.add(rel, url, "unsafe", f"{where}: javascript: URL")
            return  # mailto:, tel:, data:, blob:, ... are not site files
        target, frag, why = _resolve(rel, u, self.base_url)
        if target is None:
            self.add(rel, url, "broken", f"{where}: {why}")
            return
        f = _target_file(self.site, target)
        if f is None:
            self.add(rel, url, "broken", f"{where}: no such file {target or 'index.html'!r} in the site")
            return
        if self.fragments and check_frag and frag and f.suffix.lower() in (".html", ".htm"):
            tp = self.page(f.relative_to(self.site).as_posix())
            if tp is not None and frag not in tp.ids:
                self.add(rel, url, "broken", f"{where}: no id/name {frag!r} in {f.relative_to(self.site).as_posix()}")

    def check_js(self, rel: str, text: str, where: str) -> None:
        """URLs a script loads (fetch, import, tile templates): external or javascript: is a problem."""
        for u, tile in _js_refs(text):
            if any(u.startswith(ns) for ns in NAMESPACE_URIS):
                continue
            if _is_external(u) or u.lower().startswith(("http:", "https:")):
                self.add(rel, u, "external",
                         f"{where}: {'map tile template' if tile else 'script loads'} from another host")
            elif u.lower().startswith("javascript:"):
                self.add(rel, u, "unsafe", f"{where}: javascript: URL")
            self.report.n_refs += 1

    def check_file(self, f: Path) -> None:
        """Every reference of one site file, by its type (HTML/SVG, CSS, JS, JSON data)."""
        rel = f.relative_to(self.site).as_posix()
        suffix = f.suffix.lower()
        if suffix in (".html", ".htm", ".svg"):
            self._check_page(rel, suffix)
        elif suffix == ".css":
            self.report.n_files_scanned += 1
            for u in _css_refs(f.read_text(encoding="utf-8", errors="replace")):
                self.check_ref(rel, u, True, "CSS url()", check_frag=False)
        elif suffix in (".js", ".mjs"):
            self.report.n_files_scanned += 1
            self.check_js(rel, f.read_text(encoding="utf-8", errors="replace"), "script")
        elif suffix in (".json", ".geojson") and "pagefind" not in f.relative_to(self.site).parts:
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.add(rel, "", "broken", "not valid JSON")
                return
            self.report.n_files_scanned += 1
            for href in _json_hrefs(data):
                # the site's scripts resolve data hrefs against the site root
                self.check_ref("index.html", href, False, f"href in {rel}")

    def _check_page(self, rel: str, suffix: str) -> None:
        pp = self.page(rel)
        if pp is None:
            return
        self.report.n_files_scanned += 1
        if suffix in (".html", ".htm"):
            self.report.n_pages += 1
        for r in pp.refs:
            self.check_ref(rel, r.url, r.resource, r.where)
        for css in pp.inline_styles:
            for u in _css_refs(css):
                self.check_ref(rel, u, True, "<style> url()")
        for js in pp.inline_scripts:
            self.check_js(rel, js, "inline <script>")


def _json_hrefs(data) -> list[str]:
    """Values of "href" keys, and of an "href" column in {"columns": [...], "rows": [...]} tables."""
    out, stack = [], [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("href"), str) and node["href"]:
                out.append(node["href"])
            cols, rows = node.get("columns"), node.get("rows")
            if isinstance(cols, list) and "href" in cols and isinstance(rows, list):
                i = cols.index("href")
                out += [r[i] for r in rows if isinstance(r, list) and len(r) > i and isinstance(r[i], str) and r[i]]
            stack.extend(v for k, v in node.items() if k != "rows")
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return out


def print_report(report: "LinkReport", as_json: bool = False) -> None:
    """Print ``report`` for ``atlas check``: one line per problem and a summary, or JSON."""
    if as_json:
        d = asdict(report)
        d["ok"] = report.ok
        print(json.dumps(d, indent=2))
        return
    for prob in report.problems:
        print(prob.line())
    print(report.summary())
