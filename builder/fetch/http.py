"""Resumable, checksummed HTTP download (the one downloader of ``atlas fetch``).

Each file streams to ``<name>.part`` (resumed with an HTTP Range request after an
interruption), is checked against the expected size and checksum, and only then
renamed to its final name - a file under its real name is always complete. A file
already present and verified is skipped, so a second run downloads nothing. A
failed file never stops the others; the :class:`FetchReport` lists it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import requests
import urllib3

from builder.config import Fetch
from builder.errors import FetchError, one_line

CHUNK_BYTES = 1 << 16  # small reads: an interruption loses at most this much


@dataclass(frozen=True)
class RemoteFile:
    """One file to download: its URL, local name and what it must match."""

    url: str
    name: str
    size: int | None = None       #: exact size in bytes, None = unknown
    checksum: str = ""            #: expected hex digest, "" = unknown
    algorithm: str = "sha256"     #: hash of ``checksum`` (CMR names such as "MD5", "SHA-256" accepted)


@dataclass
class DownloadResult:
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
    results: list[DownloadResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[DownloadResult]:
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


class _Retryable(FetchError):
    """A transfer error worth another attempt (dropped connection, timeout, HTTP 5xx)."""

    def __init__(self, message: str, received: int = 0):
        super().__init__(message)
        self.received = received  #: bytes appended to the .part before the error


class _Fatal(FetchError):
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
        raise _Retryable(f"connection lost after {received} bytes ({one_line(exc, 300)})", received) from None


def _download_one(remote: RemoteFile, out_dir: Path, session: requests.Session, settings: Fetch,
                  progress: _Progress, auth_hint: str, stop: threading.Event) -> DownloadResult:
    """Fetch one file into ``out_dir`` unless it is already there and verified."""
    dest = out_dir / remote.name
    if dest.is_file() and _known(remote):
        ok, digest, _ = _verify(dest, remote)
        if ok:
            progress.advance(dest.stat().st_size)  # counts towards the bar's total
            return DownloadResult(remote.name, "present", dest, digest=digest)
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
            return DownloadResult(remote.name, "failed", nbytes=total, error=str(exc), denied=exc.denied)
        except _Retryable as exc:
            total += exc.received
            error = str(exc)
    else:
        kept = f"; {part.name} kept, rerun to resume" if part.exists() else ""
        return DownloadResult(remote.name, "failed", nbytes=total,
                          error=f"{error} (gave up after {settings.retries + 1} attempts{kept})")
    ok, digest, reason = _verify(part, remote)
    if not ok:
        part.unlink(missing_ok=True)
        return DownloadResult(remote.name, "failed", nbytes=total, digest=digest, error=f"{reason}; file not kept")
    os.replace(part, dest)
    return DownloadResult(remote.name, "downloaded", dest, nbytes=total, digest=digest, last_modified=modified)


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

    def work(remote: RemoteFile) -> DownloadResult:
        if stop.is_set():
            return DownloadResult(remote.name, "failed", error="not attempted: interrupted")
        if denied.is_set():
            return DownloadResult(remote.name, "failed", error="not attempted: access was denied for another file",
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
            result = DownloadResult(remote.name, "failed", error=one_line(exc, 300))
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


def provenance_path(path: Path) -> Path:
    """Where the provenance record of a downloaded file is kept (beside it)."""
    return path.with_name(path.name + ".provenance.json")


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (temporary name, then rename)."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
