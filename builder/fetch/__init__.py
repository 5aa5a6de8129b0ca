"""``atlas fetch``: download real OCO-2/OCO-3 Lite files (NASA GES DISC, found
with ``earthaccess``) and the public inventories, resumable and verified.

One job per module: :mod:`builder.fetch.http` (the resumable, checksummed
downloader), :mod:`builder.fetch.cmr` (Earthdata login, CMR search, Lite files),
:mod:`builder.fetch.inventories` (GPPD, EDGAR), :mod:`builder.fetch.odiac` (ODIAC
GeoTIFFs); this module is the command line. Endpoints (CMR, download URLs) come
from ``[fetch]`` in atlas.toml, so tests point them at a local server. A failed
file never stops the others, and the exit status says it (builder.errors).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from builder.errors import EXIT_CREDENTIALS, EXIT_FETCH, EXIT_INTERRUPTED, AtlasError, UsageError

#: Public names of the submodules, imported on first use (PEP 562): ``atlas`` builds its argument
#: parser from this module, and a no-op ``atlas build`` must not pay for requests and pandas.
_LAZY = {
    "CredentialsError": "builder.errors", "FetchError": "builder.errors",
    "EARTHDATA_AUTH_HINT": "builder.fetch.cmr", "EARTHDATA_HELP": "builder.fetch.cmr",
    "collection": "builder.fetch.cmr", "date_range": "builder.fetch.cmr", "earthdata_login": "builder.fetch.cmr",
    "fetch_oco": "builder.fetch.cmr", "granule_files": "builder.fetch.cmr",
    "DownloadResult": "builder.fetch.http", "FetchReport": "builder.fetch.http", "RemoteFile": "builder.fetch.http",
    "download_files": "builder.fetch.http", "file_digest": "builder.fetch.http",
    "INVENTORIES": "builder.fetch.inventories", "fetch_inventories": "builder.fetch.inventories",
    "fetch_odiac": "builder.fetch.odiac",
}
__all__ = sorted([*_LAZY, "configure_parser", "main_fetch"])


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def main_fetch(args: argparse.Namespace, cfg) -> int:
    """Run ``atlas fetch``; returns the exit status (builder.errors.EXIT_CODES): 0 all files there
    and verified, 2 bad arguments, 4 bad [fetch] settings, 6 a download or search failed, 7 the
    Earthdata credentials are missing or rejected, 130 interrupted (run again to resume)."""
    try:
        report = _fetch(args, cfg)
    except AtlasError as exc:
        print(f"atlas fetch: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("atlas fetch: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    for note in report.notes:
        print(f"{report.label}: {note}", file=sys.stderr)
    print(report.summary() + (" (failures listed above)" if report.failed else ""))
    if report.ok:
        return 0
    return EXIT_CREDENTIALS if any(r.denied for r in report.failed) else EXIT_FETCH


def _fetch(args: argparse.Namespace, cfg):
    """The downloads ``args`` ask for (a builder.fetch.http.FetchReport); raises an AtlasError for
    bad arguments or a failed search."""
    from builder.fetch.cmr import fetch_oco
    from builder.fetch.inventories import fetch_inventories
    from builder.fetch.odiac import fetch_odiac

    only = [p.strip() for item in (args.only or []) for p in item.split(",") if p.strip()]
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    if getattr(args, "odiac", None) and args.what != "inventories":
        raise UsageError("--odiac goes with 'atlas fetch inventories'")
    if args.what == "inventories" and getattr(args, "odiac", None):
        report = fetch_odiac(cfg, args.odiac, args.out, threads=args.threads)
        if only:
            more = fetch_inventories(cfg, args.out, only, threads=args.threads)
            report.results += more.results
            report.notes += more.notes
        return report
    if args.what == "inventories":
        return fetch_inventories(cfg, args.out, only or None, threads=args.threads)
    if not args.start:
        raise UsageError(f"fetch {args.what} needs --start (e.g. --start 2018-08 for a month)")
    instrument = "OCO-3" if args.what == "oco3" else "OCO-2"
    return fetch_oco(instrument, args.start, args.end, args.out or cfg.path("oco2"), cfg,
                     threads=args.threads, only=only)
