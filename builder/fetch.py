"""``atlas fetch``: download real OCO-2/OCO-3 Lite files (NASA GES DISC, found
with ``earthaccess``) and the public inventories, resumable and verified.

Both go through one downloader (:func:`download_files`): each file streams to
``<name>.part`` (resumed with an HTTP Range request after an interruption), is
checked against the expected size and checksum, and only then renamed to its
final name - a file under its real name is always complete. A file already
present and verified is skipped, so a second run downloads nothing. A failed
file never stops the others; the :class:`FetchReport` lists it and the exit
status is non-zero. Endpoints (CMR, download URLs) come from ``[fetch]`` in
atlas.toml, so tests point them at a local server.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import email.utils
import fnmatch
import hashlib
import json
import os
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import unquote, urlparse

import requests
import urllib3

from builder.config import Config, Fetch

CHUNK_BYTES = 1 << 16  # small reads: an interruption loses at most this much

EARTHDATA_HELP = (
    "set EARTHDATA_USERNAME and EARTHDATA_PASSWORD (or EARTHDATA_TOKEN), or add "
    "'machine urs.earthdata.nasa.gov login USER password PASS' to ~/.netrc; see docs/fetching.md"
)
EARTHDATA_AUTH_HINT = (
    "check the Earthdata credentials and that the 'NASA GESDISC DATA ARCHIVE' application is "
    "authorised in your Earthdata profile (docs/fetching.md)"
)


class FetchError(Exception):
    """A fetch that cannot start or search (bad arguments, no granules). ``str()`` is one line."""


class CredentialsError(FetchError):
    """Earthdata credentials are missing or rejected; raised before any download."""


@dataclass(frozen=True)
class RemoteFile:
    """One file to download: its URL, local name and what it must match."""

    url: str
    name: str
    size: int | None = None       #: exact size in bytes, None = unknown
    checksum: str = ""            #: expected hex digest, "" = unknown
    algorithm: str = "sha256"     #: hash of ``checksum`` (CMR names such as "MD5", "SHA-256" accepted)


@dataclass
class FileResult:
    """What happened to one file."""

    name: str
    status: str                   #: "downloaded", "present" (already there and verified) or "failed"
    path: Path | None = None
    nbytes: int = 0               #: bytes transferred in this run
    digest: str = ""              #: computed digest in the file's algorithm ("" if not computed)
    last_modified: str = ""       #: HTTP Last-Modified of the server's answer, "" if none
    error: str = ""
    denied: bool = False          #: failed with HTTP 401/403


@dataclass
class FetchReport:
    """Results of one fetch; ``ok`` is False if any file failed."""

    label: str
    results: list[FileResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    def summary(self) -> str:
        """One line: how many files were downloaded, already present, failed."""
        return (f"{self.label}: {self.count('downloaded')} downloaded, {self.count('present')} already present, "
                f"{len(self.failed)} failed")


# --------------------------------------------------------------------------- downloader

class _Retryable(Exception):
    """A transfer error worth another attempt (dropped connection, timeout, HTTP 5xx)."""

    def __init__(self, message: str, received: int = 0):
        super().__init__(message)
        self.received = received  #: bytes appended to the .part before the error


class _Fatal(Exception):
    """A transfer error that another attempt will not fix (HTTP 4xx, wrong content)."""

    def __init__(self, message: str, denied: bool = False):
        super().__init__(message)
        self.denied = denied  #: HTTP 401/403: the credentials are not accepted


def _hasher(algorithm: str):
    """A hashlib object for a CMR/hashlib algorithm name, or None if unsupported."""
    name = algorithm.lower().replace("-", "").replace("_", "")
    return hashlib.new(name) if name in hashlib.algorithms_available else None


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file ("" if the algorithm is not supported)."""
    h = _hasher(algorithm)
    if h is None:
        return ""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            h.update(block)
    return h.hexdigest()


def _verify(path: Path, remote: RemoteFile) -> tuple[bool, str, str]:
    """(matches, digest, reason): check size and checksum against what ``remote`` expects."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        return False, "", f"size {size} B, expected {remote.size} B"
    digest = file_digest(path, remote.algorithm)
    if remote.checksum and digest and digest.lower() != remote.checksum.lower():
        return False, digest, f"{remote.algorithm} checksum mismatch: got {digest}, expected {remote.checksum}"
    return True, digest, ""


def _known(remote: RemoteFile) -> bool:
    """True if a file can be verified (a size or a supported checksum is expected)."""
    return remote.size is not None or bool(remote.checksum and _hasher(remote.algorithm))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


class _Progress:
    """A tqdm byte bar on a terminal, plain log lines otherwise; thread-safe."""

    def __init__(self, label: str, files: list[RemoteFile], enabled: bool | None, stream=None):
        self.stream = stream or sys.stderr
        self.label = label
        self.lock = threading.Lock()
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = None
        if enabled:
            from tqdm import tqdm

            sizes = [f.size for f in files]
            total = sum(sizes) if sizes and all(s is not None for s in sizes) else None
            self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
                            file=self.stream, leave=True)

    def advance(self, nbytes: int) -> None:
        if self.bar is not None:
            with self.lock:
                self.bar.update(nbytes)

    def log(self, line: str) -> None:
        with self.lock:
            if self.bar is not None:
                self.bar.write(f"{self.label}: {line}", file=self.stream)
            else:
                print(f"{self.label}: {line}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _size_text(nbytes: int) -> str:
    return f"{nbytes / 1e6:.1f} MB" if nbytes >= 1e5 else f"{nbytes / 1e3:.1f} kB"


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total) from a Content-Range header such as ``bytes 100-199/200`` or ``bytes */200``."""
    if not value or not value.startswith("bytes "):
        return None, None
    span, _, total = value[6:].partition("/")
    first = int(span.split("-")[0]) if span[:1].isdigit() else None
    return first, int(total) if total.isdigit() else None


def _body_chunks(r: requests.Response):
    """The response body as it arrives: ``read1`` hands over every byte received before a
    dropped connection (``iter_content`` would discard a partly filled chunk)."""
    if not hasattr(r.raw, "read1"):  # urllib3 < 2.3
        yield from r.iter_content(CHUNK_BYTES)
        return
    while chunk := r.raw.read1(CHUNK_BYTES, decode_content=True):
        yield chunk


def _transfer(remote: RemoteFile, part: Path, session: requests.Session, timeout_s: float,
              progress: _Progress, auth_hint: str, stop: threading.Event) -> tuple[int, str]:
    """One HTTP attempt appending to ``part`` from its current size: (bytes received, Last-Modified)."""
    offset = part.stat().st_size if part.exists() else 0
    if remote.size is not None and offset > remote.size:
        part.unlink()
        offset = 0
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    received = 0
    try:
        with session.get(remote.url, headers=headers, stream=True, timeout=(timeout_s, timeout_s),
                         allow_redirects=True) as r:
            modified = r.headers.get("Last-Modified", "")
            code = r.status_code
            if code == 416 and offset:
                if _content_range(r.headers.get("Content-Range"))[1] == offset:
                    return 0, modified  # the .part already holds the whole file
                part.unlink()
                raise _Retryable("server refused to resume; restarting from the first byte")
            if code in (401, 403):
                hint = f"; {auth_hint}" if auth_hint else ""
                raise _Fatal(f"HTTP {code} {r.reason}: access denied{hint}", denied=True)
            if code == 429 or code >= 500:
                raise _Retryable(f"HTTP {code} {r.reason}")
            if code >= 400 or code not in (200, 206):
                raise _Fatal(f"HTTP {code} {r.reason} for {remote.url}")
            if "text/html" in r.headers.get("Content-Type", "") and not remote.name.endswith((".html", ".htm")):
                hint = f"; {auth_hint}" if auth_hint else ""
                raise _Fatal(f"the server sent an HTML page instead of the file (a login or approval page?){hint}")
            if code == 206:
                first, _ = _content_range(r.headers.get("Content-Range"))
                if first != offset:
                    part.unlink(missing_ok=True)
                    raise _Retryable(f"server resumed at byte {first}, not {offset}; restarting")
            else:
                offset = 0  # the server ignored the Range header: start over
            length = r.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            with open(part, "ab" if offset else "wb") as f:
                for chunk in _body_chunks(r):
                    if stop.is_set():  # Ctrl-C in the main thread: keep the .part for the next run
                        raise KeyboardInterrupt
                    f.write(chunk)
                    received += len(chunk)
                    progress.advance(len(chunk))
            if expected is not None and received != expected:
                raise _Retryable(f"connection lost after {received} of {expected} bytes", received)
            return received, modified
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError, urllib3.exceptions.HTTPError) as exc:
        raise _Retryable(f"connection lost after {received} bytes ({_one_line(exc)})", received) from None


def _download_one(remote: RemoteFile, out_dir: Path, session: requests.Session, settings: Fetch,
                  progress: _Progress, auth_hint: str, stop: threading.Event) -> FileResult:
    """Fetch one file into ``out_dir`` unless it is already there and verified."""
    dest = out_dir / remote.name
    if dest.is_file() and _known(remote):
        ok, digest, _ = _verify(dest, remote)
        if ok:
            progress.advance(dest.stat().st_size)  # counts towards the bar's total
            return FileResult(remote.name, "present", dest, digest=digest)
    part = dest.with_name(dest.name + ".part")
    total, modified = 0, ""
    if part.exists():
        progress.advance(part.stat().st_size)
    for attempt in range(settings.retries + 1):
        if attempt:
            time.sleep(settings.backoff_s * attempt)
        if part.exists():
            progress.log(f"resuming {remote.name} at byte {part.stat().st_size}")
        try:
            received, modified = _transfer(remote, part, session, settings.timeout_s, progress, auth_hint, stop)
            total += received
            break
        except _Fatal as exc:
            return FileResult(remote.name, "failed", nbytes=total, error=str(exc), denied=exc.denied)
        except _Retryable as exc:
            total += exc.received
            error = str(exc)
    else:
        kept = f"; {part.name} kept, rerun to resume" if part.exists() else ""
        return FileResult(remote.name, "failed", nbytes=total,
                          error=f"{error} (gave up after {settings.retries + 1} attempts{kept})")
    ok, digest, reason = _verify(part, remote)
    if not ok:
        part.unlink(missing_ok=True)
        return FileResult(remote.name, "failed", nbytes=total, digest=digest, error=f"{reason}; file not kept")
    os.replace(part, dest)
    return FileResult(remote.name, "downloaded", dest, nbytes=total, digest=digest, last_modified=modified)


def download_files(files: Iterable[RemoteFile], out_dir: str | Path, settings: Fetch, *,
                   session_factory: Callable[[], requests.Session] = requests.Session,
                   threads: int | None = None, progress: bool | None = None, label: str = "fetch",
                   auth_hint: str = "", stop_when_denied: bool = False) -> FetchReport:
    """Download ``files`` into ``out_dir`` in parallel: resumable, verified, atomic.

    ``session_factory`` makes one HTTP session per worker thread (e.g. an
    Earthdata-authenticated one). ``progress`` None = a bar on a terminal, log
    lines otherwise; failures are logged as they happen. ``auth_hint`` is
    appended to 401/403 errors; with ``stop_when_denied`` (one server, one login)
    the files not yet started after a 401/403 are not attempted.
    """
    files = list(files)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = _Progress(label, files, progress)
    local = threading.local()
    sessions: list[requests.Session] = []
    denied = threading.Event()
    stop = threading.Event()  # set on Ctrl-C: running transfers end at their next chunk

    def work(remote: RemoteFile) -> FileResult:
        if stop.is_set():
            return FileResult(remote.name, "failed", error="not attempted: interrupted")
        if denied.is_set():
            return FileResult(remote.name, "failed", error="not attempted: access was denied for another file",
                              denied=True)
        if not hasattr(local, "session"):
            local.session = session_factory()
            sessions.append(local.session)
        try:
            result = _download_one(remote, out_dir, local.session, settings, bar, auth_hint, stop)
        except KeyboardInterrupt:
            stop.set()
            raise
        except OSError as exc:  # disk full, permissions: this file fails, the others go on
            result = FileResult(remote.name, "failed", error=_one_line(exc))
        if result.status == "failed":
            bar.log(f"FAILED {result.name}: {result.error}")
            if result.denied and stop_when_denied:
                denied.set()
        elif result.status == "downloaded":
            bar.log(f"downloaded {result.name} ({_size_text(result.path.stat().st_size)})")
        return result

    pool = ThreadPoolExecutor(max_workers=max(1, threads or settings.threads))
    try:
        results = list(pool.map(work, files))
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # files not started are not started
        bar.close()
        for s in sessions:
            s.close()
    return FetchReport(label, results)


# --------------------------------------------------------------------------- OCO-2 / OCO-3

def collection(instrument: str, settings: Fetch) -> tuple[str, str]:
    """(CMR short name, version) of the Lite collection of "OCO-2" or "OCO-3"."""
    key = instrument.upper().replace("-", "").replace("_", "")
    if key == "OCO2":
        return settings.oco2_short_name, settings.oco2_version
    if key == "OCO3":
        return settings.oco3_short_name, settings.oco3_version
    raise FetchError(f"unknown instrument {instrument!r} (use OCO-2 or OCO-3)")


def _earthdata_system(settings: Fetch):
    """earthaccess's production system, with the CMR endpoint replaced if ``cmr_url`` is set."""
    import earthaccess
    from earthaccess.system import System

    if not settings.cmr_url:
        return earthaccess.PROD
    url = settings.cmr_url if settings.cmr_url.endswith("/") else settings.cmr_url + "/"
    p = earthaccess.PROD
    return System(url, p.status_url, p.status_api_url, p.edl_hostname)


def earthdata_login(settings: Fetch):
    """Log in with earthaccess trying ``settings.login_strategies`` in order; returns its Auth.

    Never prompts. Raises :class:`CredentialsError` (one line) if no strategy
    has credentials or Earthdata Login rejects them.
    """
    import earthaccess
    from earthaccess.exceptions import LoginAttemptFailure, LoginStrategyUnavailable

    bad = [s for s in settings.login_strategies if s not in ("environment", "netrc")]
    if bad:
        raise FetchError(f"[fetch] login_strategies: {bad[0]!r} is not 'environment' or 'netrc'")
    system = _earthdata_system(settings)
    for strategy in settings.login_strategies:
        try:
            auth = earthaccess.login(strategy=strategy, system=system)
        except LoginStrategyUnavailable:
            continue
        except LoginAttemptFailure:
            raise CredentialsError(f"Earthdata Login rejected the credentials from {strategy}; "
                                   f"{EARTHDATA_HELP}") from None
        except (requests.RequestException, OSError) as exc:
            raise FetchError(f"cannot reach Earthdata Login: {_one_line(exc)}") from None
        if auth is not None and auth.authenticated:
            return auth
    halves = [v for v in ("EARTHDATA_USERNAME", "EARTHDATA_PASSWORD") if not os.environ.get(v)]
    if "environment" in settings.login_strategies and len(halves) == 1:
        raise CredentialsError(f"{halves[0]} is not set (EARTHDATA_USERNAME and EARTHDATA_PASSWORD go together); "
                               f"{EARTHDATA_HELP}")
    raise CredentialsError(f"no Earthdata credentials found: {EARTHDATA_HELP}")


def granule_files(granules) -> list[RemoteFile]:
    """The HTTPS data files of earthaccess DataGranules, with the size and checksum CMR gives.

    Size and checksum come from ``umm.DataGranule.ArchiveAndDistributionInformation``
    (entry with the file's ``Name``; ``SizeInBytes``, or ``Size`` when ``SizeUnit``
    is "B" - sizes in MB are rounded and not used).
    """
    out: dict[str, RemoteFile] = {}
    for g in granules:
        infos = (g.get("umm", {}).get("DataGranule") or {}).get("ArchiveAndDistributionInformation") or []
        by_name = {i.get("Name"): i for i in infos}
        for url in g.data_links(access="external"):
            name = unquote(Path(urlparse(url).path).name)
            if not name or name in out:
                continue
            info = by_name.get(name) or (infos[0] if len(infos) == 1 else {})
            size = info.get("SizeInBytes")
            if size is None and str(info.get("SizeUnit", "")).upper() == "B":
                size = info.get("Size")
            checksum = info.get("Checksum") or {}
            out[name] = RemoteFile(url, name, int(size) if size is not None else None,
                                   str(checksum.get("Value", "")), str(checksum.get("Algorithm", "sha256")))
    return sorted(out.values(), key=lambda f: f.name)


def date_range(start: str, end: str | None = None) -> tuple[str, str]:
    """(first day, last day) as ISO dates; ``start`` "YYYY-MM" alone means that whole month."""
    try:
        if len(start) == 7:
            first = dt.date.fromisoformat(start + "-01")
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        else:
            first = last = dt.date.fromisoformat(start)
        if end:
            last = dt.date.fromisoformat(end + "-01") if len(end) == 7 else dt.date.fromisoformat(end)
            if len(end) == 7:
                last = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    except ValueError:
        raise FetchError(f"bad date {start!r}/{end!r}: use YYYY-MM-DD or YYYY-MM") from None
    if last < first:
        raise FetchError(f"--end {last} is before --start {first}")
    return first.isoformat(), last.isoformat()


def fetch_oco(instrument: str, start: str, end: str | None, out_dir: str | Path, cfg: Config, *,
              threads: int | None = None, progress: bool | None = None, only: Iterable[str] = ()) -> FetchReport:
    """Download the Lite files of ``instrument`` ("OCO-2"|"OCO-3") observed from ``start`` to ``end``.

    Logs in with earthaccess (before any download), searches CMR for the
    configured collection, then fetches every granule's HTTPS link with
    :func:`download_files` using Earthdata-authenticated sessions. ``only``:
    file-name glob patterns to keep.
    """
    import earthaccess

    short_name, version = collection(instrument, cfg.fetch)
    first, last = date_range(start, end)
    auth = earthdata_login(cfg.fetch)
    try:
        with warnings.catch_warnings():  # earthaccess's own FutureWarning about DataGranule.size
            warnings.simplefilter("ignore", FutureWarning)
            granules = earthaccess.search_data(short_name=short_name, version=version, temporal=(first, last))
    except (RuntimeError, requests.RequestException, ValueError, KeyError) as exc:
        raise FetchError(f"granule search for {short_name} v{version} failed: {_one_line(exc)}") from None
    files = granule_files(granules)
    if only:
        files = [f for f in files if any(fnmatch.fnmatch(f.name, p) for p in only)]
    label = instrument.lower().replace("-", "")
    if not files:  # not an error: Lite files appear weeks after observation, a rolling window may be empty
        return FetchReport(label, notes=[f"no {short_name} v{version} granules from {first} to {last}"
                                          + (f" matching {', '.join(only)}" if only else "")
                                          + " (nothing to fetch)"])
    report = download_files(files, out_dir, cfg.fetch, session_factory=auth.get_session, threads=threads,
                            progress=progress, label=label, auth_hint=EARTHDATA_AUTH_HINT,
                            stop_when_denied=True)
    report.notes.append(f"{len(files)} granules of {short_name} v{version} from {first} to {last} in {out_dir}")
    return report


# --------------------------------------------------------------------------- inventories

@dataclass(frozen=True)
class InventorySpec:
    """A public inventory: which [fetch] keys hold its URL and sha256, and how to credit it."""

    url_key: str
    sha_key: str
    title: str
    licence: str
    attribution: str


#: The credit each provider asks for (GPPD: the citation in its README; EDGAR: its dataset page).
INVENTORIES: dict[str, InventorySpec] = {
    "gppd": InventorySpec(
        "gppd_url", "gppd_sha256", "WRI Global Power Plant Database v1.3.0", "CC BY 4.0",
        "Global Energy Observatory, Google, KTH Royal Institute of Technology in Stockholm, Enipedia, "
        "World Resources Institute. 2019. Global Power Plant Database. Published on Resource Watch and Google "
        "Earth Engine. http://resourcewatch.org/ https://earthengine.google.com/ (version 1.3.0, 2021-06-02, "
        "https://datasets.wri.org/dataset/globalpowerplantdatabase)"),
    "edgar": InventorySpec(
        "edgar_url", "edgar_sha256", "EDGAR v8.0 gridded CO2 emissions (TOTALS, {year})", "CC BY 4.0",
        "EDGAR (Emissions Database for Global Atmospheric Research) Community GHG Database v8.0, "
        "European Commission, Joint Research Centre (JRC) / International Energy Agency (IEA), 2023. "
        "https://edgar.jrc.ec.europa.eu/dataset_ghg80"),
}


def _inventory_url(name: str, settings: Fetch) -> str:
    return getattr(settings, INVENTORIES[name].url_key).replace("{year}", str(settings.edgar_year))


def _provenance_path(path: Path) -> Path:
    return path.with_name(path.name + ".provenance.json")


def _write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (temporary name, then rename)."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _inventory_remote(name: str, settings: Fetch, out_dir: Path) -> RemoteFile:
    """The RemoteFile of an inventory; an unpinned one is checked against its provenance record."""
    url = _inventory_url(name, settings)
    filename = unquote(Path(urlparse(url).path).name)
    if not filename:
        raise FetchError(f"[fetch] {INVENTORIES[name].url_key} has no file name: {url!r}")
    sha = getattr(settings, INVENTORIES[name].sha_key).strip().lower()
    if not sha:
        try:
            recorded = json.loads(_provenance_path(out_dir / filename).read_text(encoding="utf-8"))
            if recorded.get("source_url") == url:
                sha = str(recorded.get("sha256", ""))
        except (OSError, ValueError, AttributeError):
            pass
    return RemoteFile(url, filename, None, sha, "sha256")


def _provenance(name: str, settings: Fetch, result: FileResult, url: str) -> dict:
    spec = INVENTORIES[name]
    parsed = email.utils.parsedate_to_datetime(result.last_modified) if result.last_modified else None
    return {
        "inventory": name,
        "title": spec.title.replace("{year}", str(settings.edgar_year)),
        "file": result.name,
        "source_url": url,
        "licence": spec.licence,
        "attribution": spec.attribution,
        "sha256": result.digest,
        "sha256_pinned": bool(getattr(settings, spec.sha_key).strip()),
        "size_bytes": result.path.stat().st_size,
        "http_last_modified": result.last_modified or None,
        "last_modified_utc": parsed.astimezone(dt.timezone.utc).isoformat() if parsed else None,
    }


def fetch_inventories(cfg: Config, out_dir: str | Path | None = None, names: Iterable[str] | None = None, *,
                      threads: int | None = None, progress: bool | None = None) -> FetchReport:
    """Download the public inventories (``names``, default all of :data:`INVENTORIES`).

    Verifies each against the sha256 pinned in [fetch] (if empty, the computed
    sha256 is reported and recorded instead) and writes ``<file>.provenance.json``
    next to it: source URL, licence, attribution, sha256 and HTTP Last-Modified.
    """
    settings = cfg.fetch
    names = list(dict.fromkeys(names)) if names else list(INVENTORIES)
    unknown = [n for n in names if n not in INVENTORIES]
    if unknown:
        raise FetchError(f"unknown inventory {unknown[0]!r} (known: {', '.join(INVENTORIES)})")
    if out_dir is None:
        out_dir = settings.inventories if settings.inventories.is_absolute() else \
            Path(cfg.paths.root) / settings.inventories
    out_dir = Path(out_dir)
    remotes = {n: _inventory_remote(n, settings, out_dir) for n in names}
    report = download_files(remotes.values(), out_dir, settings, threads=threads, progress=progress,
                            label="inventories")
    for name, result in zip(names, report.results):
        if result.status == "failed":
            continue
        pinned = bool(getattr(settings, INVENTORIES[name].sha_key).strip())
        record = _provenance_path(result.path)
        if result.status == "downloaded" or not record.exists():
            _write_json(record, _provenance(name, settings, result, remotes[name].url))
        if not pinned and result.status == "downloaded":
            report.notes.append(f"{name}: sha256 not pinned ([fetch] {INVENTORIES[name].sha_key}); "
                                f"computed {result.digest}")
    return report


# --------------------------------------------------------------------------- CLI

def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``atlas fetch`` arguments to ``parser`` (a subcommand parser)."""
    parser.add_argument("what", choices=("oco2", "oco3", "inventories"),
                        help="OCO-2 or OCO-3 Lite files from NASA GES DISC, or the public inventories")
    parser.add_argument("--start", help="first day, YYYY-MM-DD, or YYYY-MM for a whole month (oco2/oco3)")
    parser.add_argument("--end", help="last day, YYYY-MM-DD or YYYY-MM (default: same as --start)")
    parser.add_argument("--out", type=Path,
                        help="output folder (default: [paths] oco2, or [fetch] inventories)")
    parser.add_argument("--only", action="append", default=[],
                        help="inventory names (gppd, edgar) or Lite file-name globs; comma-separated, repeatable")
    parser.add_argument("--threads", type=int, help="parallel downloads (default: [fetch] threads)")
    parser.add_argument("--odiac", metavar="YEAR[-MONTH]",
                        help="inventories: ODIAC 1 km monthly GeoTIFFs of that year or month (instead of "
                             "gppd/edgar unless --only names them); builder.odiac")
    return parser


def main_fetch(args: argparse.Namespace, cfg: Config) -> int:
    """Run ``atlas fetch``; returns the exit status (0 ok, 1 some files failed, 2 nothing fetched)."""
    only = [p.strip() for item in (args.only or []) for p in item.split(",") if p.strip()]
    try:
        if args.threads is not None and args.threads < 1:
            raise FetchError("--threads must be at least 1")
        if getattr(args, "odiac", None) and args.what != "inventories":
            raise FetchError("--odiac goes with 'atlas fetch inventories'")
        if args.what == "inventories" and getattr(args, "odiac", None):
            from builder.odiac_fetch import fetch_odiac
            report = fetch_odiac(cfg, args.odiac, args.out, threads=args.threads)
            if only:
                more = fetch_inventories(cfg, args.out, only, threads=args.threads)
                report.results += more.results
                report.notes += more.notes
        elif args.what == "inventories":
            report = fetch_inventories(cfg, args.out, only or None, threads=args.threads)
        else:
            if not args.start:
                raise FetchError(f"fetch {args.what} needs --start (e.g. --start 2018-08 for a month)")
            instrument = "OCO-3" if args.what == "oco3" else "OCO-2"
            report = fetch_oco(instrument, args.start, args.end, args.out or cfg.path("oco2"), cfg,
                               threads=args.threads, only=only)
    except FetchError as exc:
        print(f"atlas fetch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("atlas fetch: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    for note in report.notes:
        print(f"{report.label}: {note}", file=sys.stderr)
    print(report.summary() + (" (failures listed above)" if report.failed else ""))
    return 0 if report.ok else 1
