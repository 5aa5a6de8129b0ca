"""One typed configuration, read from ``atlas.toml`` and passed explicitly.

Every field has a documented default, so an empty ``atlas.toml`` is valid.
Unknown sections or keys are errors (a typo must not silently fall back to a
default). Relative paths are resolved against the folder of ``atlas.toml``.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import ConfigError


@dataclass(frozen=True)
class Paths:
    root: Path = Path(".")            #: folder of atlas.toml; other paths are relative to it
    dataset: Path = Path("dataset")   #: embedded data (inventories, simulated default)
    oco2: Path = Path("dataset/oco2")  #: real Lite/CSV files dropped here are used instead of simulation
    simulated: Path = Path("dataset/simulated")  #: where the default simulated month is written
    coco2: Path = Path("dataset/coco2")  #: CoCO2 catalogue + profile tables
    #: extra inventory files ("kind:path", e.g. "gppd:dataset/gppd.csv"); default: the embedded cities
    extra_inventories: tuple[str, ...] = ("cities:dataset/cities/worldcities_basic_300k.csv",)
    site: Path = Path("site")         #: build output
    cache: Path = Path(".cache/atlas")  #: per-file result cache
    work: Path = Path("build")        #: result tables of the last build


@dataclass(frozen=True)
class Ingest:
    max_quality_flag: int = 0         #: keep soundings with xco2_quality_flag <= this (0 = good only)
    operation_modes: tuple[int, ...] = (0, 1)  #: nadir, glint (target/SAM snapshots are not along-track scans)
    land_only: bool = False           #: drop water soundings (land_water_indicator != 0)
    max_xco2_unc_ppm: float = 3.0     #: drop soundings with a larger posterior uncertainty
    orbit_gap_km: float = 250.0       #: not used (tracks are split by orbit number only); accepted so existing files stay valid
    max_soundings_per_file: int = 5_000_000  #: a file declaring more is refused before reading (a real daily Lite file holds ~0.1-1 M)


@dataclass(frozen=True)
class Detect:
    window_km: float = 200.0          #: fit window centred on each candidate (Zheng et al. 2020)
    centre_step_km: float = 1.5       #: spacing of candidate centres along the track
    sigma_km: tuple[float, ...] = (2.0, 3.0, 4.5, 6.5, 9.0, 13.0, 18.0)  #: plume widths scanned
    min_sigma_km: float = 2.0         #: narrower = single-footprint artefact
    max_sigma_km: float = 33.0        #: wider = synoptic feature (3 sigma <= window/2)
    min_significance: float = 2.5     #: A / se(A), se honest (chi2 + correlated-noise inflation); 2.5 gives ~0.08 false/1000 km on simulated noise
    min_r2: float = 0.25              #: goodness of fit within +-4 sigma
    min_soundings_window: int = 30    #: soundings required in the fit window (>= 40 km; sparse cloudy tracks)
    min_soundings_core: int = 3       #: soundings within +-1 sigma of the centre (+-2 km may hold one 8-footprint frame, half cloudy)
    min_flank_soundings: int = 4      #: soundings in each of [-3s,-2s] and [2s,3s]
    min_flank_km: float = 5.0         #: flank intervals are [2s, 2s + max(s, this)] (frames are 2.25 km apart)
    merge_km: float = 20.0            #: detections closer than this (and overlapping) are one plume
    refine: bool = True               #: nonlinear refinement of retained candidates
    scan_significance_margin: float = -0.5  #: refine scan candidates with z >= min_significance - this (the refined se is ~25% larger; -0.5 lost no plume in tests)
    default_noise_inflation: float = 1.5   #: se(A) inflation for correlated noise when a track is too short to measure it
    window_sigmas: float = 5.0        #: >0: fit window half-length = this x sigma, within [min_window_km, window_km] (0: always window_km)
    min_window_km: float = 40.0       #: shortest fit window when window_sigmas > 0
    wide_min_significance: float = 1.0  #: with a local window, significance also required in the full window_km
    footprint_debias: bool = True     #: subtract track-median per-footprint offsets (striping) before the scan


@dataclass(frozen=True)
class Quantify:
    wind_speed_rel_unc: float = 0.25  #: 1-sigma relative error of the file wind speed
    wind_dir_unc_deg: float = 20.0    #: 1-sigma error of the wind direction
    background_rel_unc: float = 0.0   #: extra background error; 0: already in se(A) (builder/quantify.py)
    turbulence_rel_unc: float = 0.45  #: one transect of an instantaneous plume vs Q/u (Kuhlmann et al. 2021)
    min_wind_track_angle_deg: float = 20.0  #: below: wind nearly parallel to track, flagged
    min_wind_m_s: float = 1.0         #: below: calm, flux estimate flagged
    gp_optimise_direction: bool = True  #: Gaussian-plume fit rotates the wind within +-2 wind_dir_unc_deg
    gp_direction_steps: int = 17      #: rotation angles tried by that search


@dataclass(frozen=True)
class Attribute:
    reach_km: float = 150.0           #: max source-to-detection distance along the wind
    axis_tolerance_km: float = 8.0    #: base half-width around the plume axis
    angle_unc_deg: float = 35.0       #: half-angle of the upwind cone (~2 sigma of a 17-20 deg wind-direction error)
    overpass_min_downwind_km: float = 0.0  #: overpass counted if the track crosses the axis beyond this
    candidate_eps_km: float = 25.0    #: DBSCAN radius for recurrent unattributed detections
    candidate_min_orbits: int = 2     #: distinct orbits needed for a candidate new source
    max_upwind_km: float = 4.0        #: a source may lie this far downwind of the detection (location error)
    calm_wind_m_s: float = 0.5        #: below: wind direction meaningless, any source within axis_tolerance_km
    min_flux_fraction: float = 0.05   #: inventory must explain >= this share of the observed enhancement
    overpass_min_mt_yr: float = 1.0   #: sources with a smaller annual inventory get no overpass rows
    overpass_min_soundings: int = 30  #: good soundings within +-20 km of the axis crossing for an overpass
    upper_limit_sigma: float = 3.0    #: non-detection upper limit = this x the matched-filter flux error
    site_km: float = 2.0              #: sources closer than this are one site (units of a plant): inventory summed
    min_score: float = 1e-3           #: best candidate scoring below this: detection left unattributed (-> candidates)
    targeted_min_significance: float = 2.6  #: scan statistic near the predicted crossing: targeted detection
    targeted_min_expected_snr: float = 1.0  #: ... and the inventory's expected signal at least this many sigma


@dataclass(frozen=True)
class Plausible:
    """Bounds beyond which a figure is not published as a measurement (builder/plausible.py)."""

    max_inventory_t_yr: float = 1e8   #: inventory rows above (100 Mt/yr) are rejected; the largest plant emits ~40
    max_wind_m_s: float = 30.0        #: estimates made with a faster wind are flagged implausible
    max_emission_t_yr: float = 6e7    #: implied emissions above (60 Mt/yr, or the multiple below of the inventory) are flagged
    max_inventory_multiple: float = 4.0  #: ... whichever is larger (a source of 30 Mt/yr may be seen at 100)


@dataclass(frozen=True)
class Simulate:
    seed: int = 20180801
    start: str = "2018-08-01"         #: first simulated day (UTC)
    days: int = 31                    #: number of simulated days
    instrument: str = "OCO-2"
    noise_ppm: tuple[float, float] = (0.5, 1.0)  #: per-sounding noise range
    wind_error_rel: float = 0.25      #: written wind differs from the true wind by this (1 sigma)
    wind_dir_error_deg: float = 17.0  #: 1-sigma direction error of the written wind (smooth over ~600 km)
    min_emission_t_yr: float = 1e5    #: sources below this emit no simulated plume (invisible anyway)
    lat_band: tuple[float, float] = (-60.0, 75.0)  #: latitudes with soundings
    lite_version: str = "11.1r"
    withheld_share: float = 0.10      #: share of plants >= 1 Mt/yr emitted but withheld from the detector (builder.withheld)


@dataclass(frozen=True)
class Compute:
    scheduler: str = ""               #: "" = in-process; "local" = LocalCluster; "tcp://host:port" = existing cluster
    workers: int = 0                  #: LocalCluster workers (0 = one per core)


@dataclass(frozen=True)
class Site:
    title: str = "CO2 Emissions Atlas from Space"
    base_url: str = "/"               #: URL path the site is served under, e.g. "/co2-atlas/"
    site_url: str = ""                #: absolute origin for sitemap.xml, e.g. "https://example.org"
    max_sources_home: int = 20000     #: inventory markers on the home map
    templates: str = "templates"      #: Jinja2 templates folder (relative to atlas.toml's folder)
    content: str = "content"          #: Markdown pages folder (relative to atlas.toml's folder)
    node_modules: str = "node_modules"  #: npm assets installed by `npm ci` (relative to atlas.toml's folder)
    search: bool = True               #: build the Pagefind search index after the pages


@dataclass(frozen=True)
class Fetch:
    oco2_short_name: str = "OCO2_L2_Lite_FP"  #: CMR collection of OCO-2 Lite files (GES DISC)
    oco2_version: str = "11.1r"
    oco3_short_name: str = "OCO3_L2_Lite_FP"
    oco3_version: str = "11r"
    cmr_url: str = ""                 #: "" = NASA's operational CMR; tests point it at a local server
    login_strategies: tuple[str, ...] = ("environment", "netrc")  #: earthaccess strategies, in order (never interactive)
    threads: int = 4                  #: parallel downloads
    retries: int = 3                  #: extra attempts per file after a dropped connection or HTTP 5xx
    backoff_s: float = 2.0            #: wait before retry n is n x this
    timeout_s: float = 60.0           #: connect/read timeout of one request
    inventories: Path = Path("dataset/inventories")  #: where `atlas fetch inventories` writes
    gppd_url: str = "https://wri-dataportal-prod.s3.amazonaws.com/manual/global_power_plant_database_v_1_3.zip"
    gppd_sha256: str = ""             #: "" = not pinned: the computed sha256 is reported, not verified
    edgar_year: int = 2022            #: EDGAR v8.0 covers 1970-2022
    edgar_url: str = ("https://jeodpp.jrc.ec.europa.eu/ftp/jrc-opendata/EDGAR/datasets/v80_FT2022_GHG/CO2/"
                      "TOTALS/emi_nc/v8.0_FT2022_GHG_CO2_{year}_TOTALS_emi_nc.zip")  #: {year} = edgar_year
    edgar_sha256: str = ""
    #: ODIAC release and its 1 km GeoTIFF / md5-list URL templates on the NIES CGER server
    #: (`atlas fetch inventories --odiac YEAR[-MONTH]`; builder.odiac). ODIAC2025 covers 2000-2024.
    odiac_version: str = "odiac2025"
    odiac_url: str = ("https://db.cger.nies.go.jp/nies_data/10.17595/20170411.001/{version}/1km_tiff/{year}/"
                      "{version}_1km_excl_intl_{yymm}.tif.gz")
    odiac_md5_url: str = ("https://db.cger.nies.go.jp/nies_data/10.17595/20170411.001/{version}/1km_tiff/{year}/"
                          "{version}_1km_checksum_{year}.md5.txt")


@dataclass(frozen=True)
class Config:
    paths: Paths = field(default_factory=Paths)
    ingest: Ingest = field(default_factory=Ingest)
    detect: Detect = field(default_factory=Detect)
    quantify: Quantify = field(default_factory=Quantify)
    attribute: Attribute = field(default_factory=Attribute)
    plausible: Plausible = field(default_factory=Plausible)
    simulate: Simulate = field(default_factory=Simulate)
    compute: Compute = field(default_factory=Compute)
    site: Site = field(default_factory=Site)
    fetch: Fetch = field(default_factory=Fetch)

    def path(self, name: str) -> Path:
        """An absolute path from [paths], resolved against the config's root."""
        return self.resolve(getattr(self.paths, name))

    def resolve(self, folder: str | Path) -> Path:
        """Any configured path (e.g. a [site] folder) resolved against the config's root."""
        p = Path(folder)
        return p if p.is_absolute() else (Path(self.paths.root) / p).resolve()

    def fingerprint(self, *sections: str) -> str:
        """A stable text of the named sections, for cache keys."""
        return repr([(s, dataclasses.asdict(getattr(self, s))) for s in sections])


def _coerce(cls, section: str, values: dict[str, Any]):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"[{section}] unknown key {key!r} (known: {', '.join(sorted(fields))})")
        default = fields[key].default
        if isinstance(default, tuple):
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"[{section}] {key} must be a list")
            value = tuple(value)
        elif isinstance(default, Path):
            value = Path(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"[{section}] {key} must be true or false")
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"[{section}] {key} must be a number, got {value!r}")
            value = type(default)(value) if isinstance(default, float) or float(value).is_integer() else value
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"[{section}] {key} must be a string")
        out[key] = value
    return cls(**out)


def load_config(path: str | Path | None = None, **overrides: dict[str, Any]) -> Config:
    """Read ``atlas.toml`` (or defaults if ``path`` is None / absent).

    ``overrides`` maps a section name to a dict of keys, applied on top of the file,
    e.g. ``load_config("atlas.toml", paths={"site": "/tmp/out"})``.
    """
    data: dict[str, Any] = {}
    root = Path.cwd()
    if path is not None:
        path = Path(path)
        root = path.resolve().parent
        if path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    sections = {f.name: f.type for f in dataclasses.fields(Config)}
    kwargs = {}
    for section, values in data.items():
        if section not in sections:
            raise ConfigError(f"unknown section [{section}] (known: {', '.join(sections)})")
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table")
        cls = type(getattr(Config(), section))
        kwargs[section] = _coerce(cls, section, values)
    paths = kwargs.get("paths", Paths())
    if "root" not in data.get("paths", {}):
        paths = dataclasses.replace(paths, root=root)
    kwargs["paths"] = paths
    return Config(**kwargs)
