"""OCO-2 / OCO-3 Lite files from NASA GES DISC: Earthdata login, CMR granule search
(``earthaccess``) and the download of the granules through :mod:`builder.fetch.http`."""

from __future__ import annotations

import calendar
import datetime as dt
import fnmatch
import os
import warnings
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urlparse

import requests

from builder.config import Config, Fetch
from builder.errors import ConfigError, CredentialsError, FetchError, UsageError, one_line
from builder.fetch.http import FetchReport, RemoteFile, download_files

EARTHDATA_HELP = (
    "set EARTHDATA_USERNAME and EARTHDATA_PASSWORD (or EARTHDATA_TOKEN), or add "
    "'machine urs.earthdata.nasa.gov login USER password PASS' to ~/.netrc; see docs/fetching.md"
)
EARTHDATA_AUTH_HINT = (
    "check the Earthdata credentials and that the 'NASA GESDISC DATA ARCHIVE' application is "
    "authorised in your Earthdata profile (docs/fetching.md)"
)


def collection(instrument: str, settings: Fetch) -> tuple[str, str]:
    """(CMR short name, version) of the Lite collection of "OCO-2" or "OCO-3"."""
    key = instrument.upper().replace("-", "").replace("_", "")
    if key == "OCO2":
        return settings.oco2_short_name, settings.oco2_version
    if key == "OCO3":
        return settings.oco3_short_name, settings.oco3_version
    raise UsageError(f"unknown instrument {instrument!r} (use OCO-2 or OCO-3)")


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
        raise ConfigError(f"[fetch] login_strategies: {bad[0]!r} is not 'environment' or 'netrc'")
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
            raise FetchError(f"cannot reach Earthdata Login: {one_line(exc, 300)}") from None
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
        raise UsageError(f"bad date {start!r}/{end!r}: use YYYY-MM-DD or YYYY-MM") from None
    if last < first:
        raise UsageError(f"--end {last} is before --start {first}")
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
        raise FetchError(f"granule search for {short_name} v{version} failed: {one_line(exc, 300)}") from None
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
