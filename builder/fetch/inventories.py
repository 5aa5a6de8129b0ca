"""Public inventories (WRI GPPD, EDGAR) downloaded through :mod:`builder.fetch.http`,
each with a provenance record (source URL, licence, attribution, sha256) beside it."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urlparse

from builder.config import Config, Fetch
from builder.errors import ConfigError, UsageError
from builder.fetch.http import DownloadResult, FetchReport, RemoteFile, download_files, provenance_path, write_json


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


def _inventory_remote(name: str, settings: Fetch, out_dir: Path) -> RemoteFile:
    """The RemoteFile of an inventory; an unpinned one is checked against its provenance record."""
    url = _inventory_url(name, settings)
    filename = unquote(Path(urlparse(url).path).name)
    if not filename:
        raise ConfigError(f"[fetch] {INVENTORIES[name].url_key} has no file name: {url!r}")
    sha = getattr(settings, INVENTORIES[name].sha_key).strip().lower()
    if not sha:
        try:
            recorded = json.loads(provenance_path(out_dir / filename).read_text(encoding="utf-8"))
            if recorded.get("source_url") == url:
                sha = str(recorded.get("sha256", ""))
        except (OSError, ValueError, AttributeError):
            pass
    return RemoteFile(url, filename, None, sha, "sha256")


def _provenance(name: str, settings: Fetch, result: DownloadResult, url: str) -> dict:
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
        raise UsageError(f"unknown inventory {unknown[0]!r} (known: {', '.join(INVENTORIES)})")
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
        record = provenance_path(result.path)
        if result.status == "downloaded" or not record.exists():
            write_json(record, _provenance(name, settings, result, remotes[name].url))
        if not pinned and result.status == "downloaded":
            report.notes.append(f"{name}: sha256 not pinned ([fetch] {INVENTORIES[name].sha_key}); "
                                f"computed {result.digest}")
    return report
