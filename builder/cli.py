"""Command line: ``atlas build | serve | detect | validate | train | simulate | fetch | check``.

Every command reads one ``atlas.toml`` (``--config``), prints one clear line
per problem, and exits with a status that says which kind of problem it was
(builder.errors.EXIT_CODES, listed in ``atlas --help``); bad inputs never show a
traceback. Anything else is a bug: "internal error", exit 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import logging
import sys
import time
from pathlib import Path

from builder.config import Config, load_config
from builder.errors import (EXIT_CODES, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PROBLEMS, EXIT_SYSTEM,
                            AtlasError, Problems, UsageError)
from builder.fetch import configure_parser, main_fetch
from builder.results import printable

log = logging.getLogger("atlas")


class PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped: a file name cannot forge a line (tracebacks, with
    -v, keep their own line breaks)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="atlas: %(message)s",
                        stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        if type(handler.formatter) is logging.Formatter and handler.formatter._fmt == "atlas: %(message)s":
            handler.setFormatter(PrintableFormatter("atlas: %(message)s"))
    for noisy in ("distributed", "fsspec", "urllib3", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("earthaccess").setLevel(logging.CRITICAL)  # our fetch prints its own one-line errors


def _print_skipped(skipped) -> None:
    for s in skipped:
        print(printable(f"skipped [{s.stage}] {s.item}: {s.reason}"), file=sys.stderr)


def cmd_build(args, cfg) -> int:
    from builder.uptodate import saved_report

    t = time.perf_counter()
    saved = None if args.no_cache else saved_report(cfg, args.oco2, args.out)
    if saved is not None:  # nothing the build reads or writes changed since the last one
        return _print_up_to_date(args, cfg, saved, time.perf_counter() - t)
    from builder.build import build

    report = build(cfg, oco2_dir=args.oco2, site_dir=args.out, scheduler=args.scheduler,
                   use_cache=not args.no_cache)
    s = report.result.summary
    _print_skipped(report.result.skipped)
    pages = report.render_stats.get("n_pages", 0)
    what = "site up to date" if report.render_stats.get("skipped_render") else f"{pages} pages"
    if "n_carried" in report.render_stats:
        what += f" ({report.render_stats['n_rendered']} rendered, {report.render_stats['n_carried']} unchanged)"
    print(f"built {report.site_dir}: {what} from {s['n_files']} files, {s['n_orbits']} orbits, "
          f"{s['n_soundings']:,} soundings, {s['n_detections']} detections ({s['n_attributed']} attributed), "
          f"{s['n_candidates']} candidate sources; {report.core.n_processed} files processed, "
          f"{report.core.n_cached} from cache; {len(report.result.skipped)} inputs skipped"
          f"{' [SIMULATED observations]' if s.get('simulated') else ''} in {time.perf_counter() - t:.1f} s")
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
    print(f"timing: {timing}")
    if s.get("validation"):
        from builder.validate import format_validation

        print(format_validation(s["validation"]))
    if args.strict and report.result.skipped:
        print(f"--strict: {len(report.result.skipped)} inputs were skipped", file=sys.stderr)
        return EXIT_PROBLEMS
    return 0


def _print_up_to_date(args, cfg, saved: dict, seconds: float) -> int:
    from builder.results import SkippedItem

    s, skipped = saved["summary"], [SkippedItem(**x) for x in saved["skipped"]]
    _print_skipped(skipped)
    print(f"built {args.out or cfg.path('site')}: site up to date (inputs, code, configuration and outputs unchanged "
          f"since the last build) from {s['n_files']} files, {s['n_orbits']} orbits, {s['n_soundings']:,} soundings, "
          f"{s['n_detections']} detections ({s['n_attributed']} attributed), {s['n_candidates']} candidate sources; "
          f"0 files processed; {len(skipped)} inputs skipped"
          f"{' [SIMULATED observations]' if s.get('simulated') else ''} in {seconds:.1f} s")
    if saved.get("validation_text"):
        print(saved["validation_text"])
    if args.strict and skipped:
        print(f"--strict: {len(skipped)} inputs were skipped", file=sys.stderr)
        return 3
    return 0


def cmd_detect(args, cfg) -> int:
    from builder.build import load_sources
    from builder.withheld import SIMULATOR_TABLES, detector_sources
    from builder.pipeline import run_core, write_tables
    from builder.soundings import find_input_files

    from builder.outdir import check_table_folder

    files = [f for f in find_input_files(args.oco2) if f.name not in SIMULATOR_TABLES]
    if not files:
        raise UsageError(f"no OCO Lite (.nc4) or CSV archive files under {args.oco2}")
    check_table_folder(args.out, inputs=[args.oco2], cache=cfg.path("cache"))
    skipped = Problems()
    sources, profiles = load_sources(cfg, skipped)
    sources, _ = detector_sources(sources, Path(args.oco2))   # simulated folders: withheld sources dropped
    core = run_core(cfg, files, sources, profiles.emission_kg_s, skipped, scheduler=args.scheduler,
                    use_cache=not args.no_cache)
    written = write_tables(core.result, args.out)
    _print_skipped(core.result.skipped)
    s = core.result.summary
    print(f"{s['n_detections']} detections ({s['n_attributed']} attributed), {s['n_overpasses']} overpasses, "
          f"{s['n_candidates']} candidates from {len(files)} files -> {', '.join(str(w) for w in written[:3])} ...")
    return EXIT_PROBLEMS if (args.strict and core.result.skipped) else 0


def cmd_validate(args, cfg) -> int:
    from builder.validate import format_validation, validate

    res = validate(Path(args.truth), Path(args.detections), cfg)
    print(format_validation(res))
    out = Path(args.json) if args.json else Path(args.detections) / "validation.json"
    out.write_text(json.dumps(res, indent=2, sort_keys=True, default=str))
    print(f"figures written to {out}")
    return 0


def cmd_train(args, cfg) -> int:
    """atlas train: the anomaly classifier (builder.classifier) from simulated months."""
    from builder.classifier import load_model, save_model, train

    months = []
    for spec in args.month:
        truth, _, det = spec.partition(":")
        if not det:
            raise UsageError(f"--month {spec!r}: expected TRUTH_DIR:DETECTIONS_DIR")
        months.append((Path(truth), Path(det)))
    model, card = train(months)
    card["months"] = [f"{Path(t).name}:{Path(d).name}" for t, d in months]   # names only: no local paths
    out = save_model(model, Path(args.out), card)
    load_model(out)   # the file just written must load (a ModelError here is reported like any other)
    print(f"model written to {out}: {card['n_anomalies']} anomalies ({card['n_plumes']} plumes) "
          f"from {len(months)} months")
    return 0


def cmd_simulate(args, cfg) -> int:
    from builder.build import load_sources
    from builder.simulate import simulate

    sources, profiles = load_sources(cfg, Problems())   # the simulator reports the sources it cannot use
    out = Path(args.out) if args.out else cfg.path("simulated")
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    region = tuple(args.region) if args.region else None
    import numpy as np

    emission = (lambda src, t: np.zeros(len(src))) if args.no_plumes else profiles.emission_kg_s
    res = simulate(cfg, sources, emission, out, days=args.days, start=args.start, seed=args.seed, region=region)
    print(f"simulated {len(res.files)} files into {out} in {time.perf_counter() - t:.1f} s; truth: {res.truth_path}")
    return 0


def cmd_serve(args, cfg) -> int:
    from builder.build import build, check_output, site_stamp
    from builder.render.serve import serve

    site = Path(args.out) if args.out else cfg.path("site")
    check_output(cfg, site, args.oco2, site_stamp(cfg, site))  # never serve (or rebuild into) an unsafe folder

    def rebuild() -> None:
        fresh = load_config(args.config)
        try:
            build(fresh, oco2_dir=args.oco2, site_dir=site)
        except Exception as exc:  # keep serving the previous site; say why
            log.error("rebuild failed: %s", exc)

    if not (site / "index.html").exists() or args.rebuild:
        rebuild()
    root = cfg.path("root")
    watch = [root / "templates", root / "content", cfg.path("oco2"), cfg.path("dataset"), root / "atlas.toml"]
    serve(cfg, site, args.port, rebuild, watch)
    return 0


def cmd_fetch(args, cfg) -> int:
    return main_fetch(args, cfg)


def cmd_check(args, cfg) -> int:
    """atlas check SITE: builder.linkcheck over a built site; exit 3 if anything is broken or external."""
    from builder.linkcheck import check_site, print_report

    base_url = args.base_url if args.base_url is not None else cfg.site.base_url
    report = check_site(args.site, base_url=base_url, fragments=not args.no_fragments)
    print_report(report, as_json=args.json)
    return 0 if report.ok else EXIT_PROBLEMS


def _inventory_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inventory", action="append", default=[], metavar="KIND:PATH",
                   help="an extra inventory file (repeatable); KIND in coco2, gppd, gcpt, edgar, cities, csv, odiac")
    p.add_argument("--only-inventories", action="store_true",
                   help="use only the --inventory files, not the embedded CoCO2 catalogue and cities")


def with_inventories(cfg: Config, args) -> Config:
    """``cfg`` with the command line's --inventory files (and --only-inventories) applied;
    paths given on the command line are relative to the current folder."""
    given = tuple(_absolute_entry(g) for g in (getattr(args, "inventory", None) or ()))
    if getattr(args, "only_inventories", False):
        if not given:
            raise UsageError("--only-inventories needs at least one --inventory KIND:PATH")
        paths = dataclasses.replace(cfg.paths, coco2=Path(""), extra_inventories=given)
    elif given:
        paths = dataclasses.replace(cfg.paths, extra_inventories=tuple(cfg.paths.extra_inventories) + given)
    else:
        return cfg
    return dataclasses.replace(cfg, paths=paths)


def _absolute_entry(entry: str) -> str:
    kind, sep, path = str(entry).partition(":")
    return f"{kind}:{Path(path).resolve()}" if sep and path.strip() else str(entry)


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="atlas", description="CO2 emissions atlas from OCO-2/OCO-3 observations",
                                epilog=exit_status_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="atlas.toml", help="configuration file (default: atlas.toml)")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="run the pipeline over all orbits and render the site")
    b.add_argument("--oco2", type=Path, help="folder of Lite/CSV files (default: dataset/oco2, else simulated)")
    b.add_argument("--out", type=Path, help="site output folder (default: site/)")
    b.add_argument("--scheduler", help='"local" (LocalCluster) or tcp://host:port (default from atlas.toml)')
    b.add_argument("--no-cache", action="store_true", help="ignore the per-file result cache and re-render the site")
    b.add_argument("--strict", action="store_true", help="exit non-zero when any input was skipped (for CI)")
    _inventory_options(b)
    b.set_defaults(func=cmd_build)

    d = sub.add_parser("detect", help="detect, quantify and attribute; write detections/overpasses/candidates CSV")
    d.add_argument("--oco2", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--scheduler")
    d.add_argument("--no-cache", action="store_true")
    d.add_argument("--strict", action="store_true")
    _inventory_options(d)
    d.set_defaults(func=cmd_detect)

    v = sub.add_parser("validate", help="score detections against a simulator truth table")
    v.add_argument("--truth", required=True, help="folder with truth.csv and tracks.csv (or truth.csv itself)")
    v.add_argument("--detections", required=True, help="folder with detections.csv")
    v.add_argument("--json", help="where to write the figures (default: DETECTIONS/validation.json)")
    v.set_defaults(func=cmd_validate)

    t = sub.add_parser("train", help="train the anomaly classifier on simulated months (builder.classifier)")
    t.add_argument("--month", action="append", required=True, metavar="TRUTH_DIR:DETECTIONS_DIR",
                   help="a simulated month: the simulator's folder and the `atlas detect` output (repeat)")
    t.add_argument("--out", required=True, help="model file to write")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("simulate", help="write simulated OCO-2 Lite files and a truth table")
    s.add_argument("--out", type=Path)
    s.add_argument("--days", type=int)
    s.add_argument("--start")
    s.add_argument("--seed", type=int)
    s.add_argument("--region", type=float, nargs=4, metavar=("LON_MIN", "LAT_MIN", "LON_MAX", "LAT_MAX"))
    s.add_argument("--no-plumes", action="store_true",
                   help="a plume-free world (noise, clouds and biases only): calibrates false detections")
    s.set_defaults(func=cmd_simulate)

    sv = sub.add_parser("serve", help="preview the site on 127.0.0.1, rebuilding and reloading on change")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--out", type=Path)
    sv.add_argument("--oco2", type=Path)
    sv.add_argument("--rebuild", action="store_true", help="build once before serving")
    sv.set_defaults(func=cmd_serve)

    f = sub.add_parser("fetch", help="download OCO-2/OCO-3 Lite files (NASA Earthdata) or public inventories")
    configure_parser(f)
    f.set_defaults(func=cmd_fetch)

    c = sub.add_parser("check", help="check a built site: every local link and asset resolves, nothing external")
    c.add_argument("site", type=Path, help="the site folder (e.g. site/)")
    c.add_argument("--base-url", default=None, help="the URL path the site is served under (default: [site] base_url)")
    c.add_argument("--no-fragments", action="store_true", help="do not check #fragments against page ids")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=cmd_check)
    return p


def exit_status_help() -> str:
    """The exit statuses of ``atlas`` (builder.errors.EXIT_CODES) as a --help epilog."""
    return "exit status:\n" + "\n".join(f"  {code:>3}  {what}" for code, what in EXIT_CODES.items())


def main(argv: list[str] | None = None) -> int:
    """Run one command; one line per problem and the exit status of its kind (exit_status_help)."""
    parser = make_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        cfg = with_inventories(load_config(args.config), args)
        return int(args.func(args, cfg) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AtlasError as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return exc.exit_code
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        return _system_error(exc, args)
    except Exception as exc:  # noqa: BLE001
        return _internal_error(exc, args)


def _system_error(exc: OSError, args) -> int:
    """A full disk or a busy port: one line saying what to do; any other OS error is a bug."""
    if exc.errno == errno.EADDRINUSE:
        print(f"error: port {getattr(args, 'port', '')} is already in use (another atlas serve?); stop it or "
              "choose another with --port", file=sys.stderr)
        return EXIT_SYSTEM
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" while writing {Path(exc.filename).name}" if exc.filename else ""
        print(printable(f"error: disk full{where}: free some space and run again (the previous site is kept)"),
              file=sys.stderr)
        return EXIT_SYSTEM
    return _internal_error(exc, args)


def _internal_error(exc: BaseException, args) -> int:
    """A bug, not bad input: one line, the traceback only with -v."""
    if args.verbose:
        log.exception("internal error")
    print(printable(f"error: internal error in atlas {args.command}: {type(exc).__name__}: {exc} "
                    f"(the previous site is kept; run with -v for the traceback)"), file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
