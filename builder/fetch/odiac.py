"""``atlas fetch inventories --odiac YEAR[-MONTH]``: ODIAC 1 km monthly GeoTIFFs from
the NIES CGER server, through builder.fetch.http's resumable, verified downloader.

Layout on the server (seen in public download scripts for ODIAC2020b-ODIAC2025, e.g.
``.../20170411.001/odiac2025/1km_tiff/2024/odiac2025_1km_excl_intl_2401.tif.gz``):
``https://db.cger.nies.go.jp/nies_data/10.17595/20170411.001/<version>/1km_tiff/<YYYY>/``
holds ``<version>_1km_excl_intl_<YYMM>.tif.gz`` (gzipped GeoTIFF) and one md5 list per
year, ``<version>_1km_checksum_<YYYY>.md5.txt`` (``md5  file.tif.gz`` lines). The
templates are ``[fetch] odiac_url`` / ``odiac_md5_url``, the release ``odiac_version``.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

from builder.errors import FetchError, UsageError, one_line
from builder.fetch.http import DownloadResult, RemoteFile, download_files, file_digest, provenance_path, write_json
from builder.odiac import ATTRIBUTION


def gunzip_atomic(src: Path, dest: Path) -> Path:
    """Decompress ``src`` (.gz) to ``dest`` through ``dest.part``; a bad gzip raises OSError."""
    part = dest.with_name(dest.name + ".part")
    try:
        with gzip.open(src, "rb") as fin, open(part, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    except (OSError, EOFError) as exc:
        part.unlink(missing_ok=True)
        raise OSError(f"{src.name}: not a complete gzip file ({one_line(exc)})") from None
    part.replace(dest)
    return dest


def parse_period(spec: str) -> tuple[int, list[int]]:
    """``YYYY`` (all twelve months) or ``YYYY-MM`` -> (year, months)."""
    m = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2}))?\s*", str(spec))
    if not m or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
        raise UsageError(f"--odiac {spec!r}: use YEAR or YEAR-MONTH, e.g. 2019 or 2019-08")
    year = int(m.group(1))
    return year, [int(m.group(2))] if m.group(2) else list(range(1, 13))


def _fill(template: str, version: str, year: int, month: int = 1) -> str:
    return template.format(version=version, year=year, yymm=f"{year % 100:02d}{month:02d}")


def _md5_list(cfg_fetch, year: int) -> tuple[dict[str, str], str]:
    """ODIAC's per-year md5 list (``md5  file.tif.gz`` lines) -> ({file: md5}, note)."""
    import requests


    url = _fill(cfg_fetch.odiac_md5_url, cfg_fetch.odiac_version, year)
    try:
        r = requests.get(url, timeout=cfg_fetch.timeout_s)
    except requests.RequestException as exc:
        return {}, f"md5 list not reachable ({one_line(exc)}); files are not verified, their sha256 is recorded"
    if r.status_code == 404:
        raise FetchError(f"no ODIAC {cfg_fetch.odiac_version} 1 km files for {year} ({url} gives HTTP 404); "
                         "set [fetch] odiac_version to a release that covers that year")
    if r.status_code != 200:
        return {}, f"md5 list: HTTP {r.status_code}; files are not verified, their sha256 is recorded"
    sums = {}
    for line in r.text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[0-9a-fA-F]{32}", parts[0]):
            sums[Path(parts[1].lstrip("*")).name] = parts[0].lower()
    return sums, f"md5 list {Path(url).name}: {len(sums)} files"


def _recorded_sha256(record: Path, url: str) -> str:
    """The sha256 a provenance record holds for ``url`` ("" if none)."""
    import json

    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        return str(data.get("sha256", "")) if data.get("source_url") == url else ""
    except (OSError, ValueError, AttributeError):
        return ""


def fetch_odiac(cfg, spec: str, out_dir: str | Path | None = None, *, threads: int | None = None,
                progress: bool | None = None):
    """Download ODIAC 1 km GeoTIFFs of ``spec`` (YYYY or YYYY-MM) from the NIES CGER server
    ([fetch] odiac_url / odiac_md5_url / odiac_version), with builder.fetch's resumable
    downloader, each .tif.gz verified against ODIAC's md5 list, then decompressed to
    .tif beside it (kept, so a rerun finds it verified). Writes ``<file>.provenance.json``.
    Returns a builder.fetch.FetchReport."""
    settings = cfg.fetch
    year, months = parse_period(spec)
    if out_dir is None:
        base = settings.inventories if settings.inventories.is_absolute() else Path(cfg.paths.root) / settings.inventories
        out_dir = base / "odiac"
    out_dir = Path(out_dir)
    md5s, note = _md5_list(settings, year)
    remotes = []
    for mm in months:
        url = _fill(settings.odiac_url, settings.odiac_version, year, mm)
        name = Path(url.split("?")[0]).name
        checksum, algorithm = md5s.get(name, ""), "md5"
        if not checksum:  # no md5 from ODIAC: the sha256 recorded at the first download, so a rerun verifies
            checksum, algorithm = _recorded_sha256(provenance_path(out_dir / name), url), "sha256"
        remotes.append(RemoteFile(url, name, None, checksum, algorithm))
    report = download_files(remotes, out_dir, settings, threads=threads, progress=progress, label="odiac")
    report.notes.append(note)
    for i, (remote, result) in enumerate(zip(remotes, report.results)):
        if result.status == "failed":
            continue
        tif = out_dir / (result.name[:-3] if result.name.endswith(".gz") else result.name + ".tif")
        try:
            if result.name.endswith(".gz") and (result.status == "downloaded" or not tif.exists()):
                gunzip_atomic(result.path, tif)
        except OSError as exc:
            result.path.unlink(missing_ok=True)
            report.results[i] = DownloadResult(result.name, "failed", error=f"{one_line(exc)}; file not kept")
            continue
        record = provenance_path(result.path)
        if result.status == "downloaded" or not record.exists():
            write_json(record, {
                "inventory": "odiac", "title": f"ODIAC {settings.odiac_version} 1 km monthly fossil CO2 "
                f"(t C per cell per month), {tif.name}", "file": result.name, "decompressed": tif.name,
                "source_url": remote.url, "licence": "CC BY 4.0", "attribution": ATTRIBUTION,
                "md5": file_digest(result.path, "md5"), "md5_verified": bool(remote.checksum),
                "sha256": file_digest(result.path, "sha256"), "size_bytes": result.path.stat().st_size,
                "http_last_modified": result.last_modified or None,
            })
    return report
