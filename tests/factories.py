"""Shared test builders: small real-format inputs (Lite NetCDF4 columns, CSV archives),
synthetic tracks, plume files, configs and inputs for whole-build tests, truth/detection rows.
Test modules import these from here, never from each other."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from builder import fetch, physics
from builder.config import load_config
from builder.errors import Problems
from builder.litefmt import lite_filename, write_lite
from builder.soundings import TRACK_COLUMNS, Track


def lite_columns(n_frames: int = 200, *, start: str = "2018-08-01T12:00:00", orbit: int = 21500,
                 lat0: float = 10.0, lon0: float = 5.0, xco2_ppm: float = 405.0, seed: int = 0,
                 noise_ppm: float = 0.0, bad_every: int = 0) -> dict[str, np.ndarray]:
    """One northbound track of ``n_frames`` 8-footprint frames, 3 frames/s."""
    rng = np.random.default_rng(seed)
    n = n_frames * 8
    frame = np.repeat(np.arange(n_frames), 8)
    fp = np.tile(np.arange(1, 9), n_frames)
    t0 = pd.Timestamp(start, tz="UTC").value / 1e9
    t = t0 + frame / 3.0
    ts = pd.to_datetime(t, unit="s")
    stamp = ts.strftime("%Y%m%d%H%M%S").astype(np.int64).to_numpy()
    sid = stamp * 100 + ((ts.microsecond // 100000).to_numpy()) * 10 + fp
    lat = lat0 + frame / 3.0 * 6.76 / 111.195
    lon = lon0 + (fp - 4.5) * 1.25 / (111.195 * np.cos(np.radians(lat)))
    qf = np.zeros(n, dtype=int)
    if bad_every:
        qf[::bad_every] = 1
    return dict(
        sounding_id=sid, latitude=lat, longitude=lon, time=t,
        xco2=xco2_ppm + noise_ppm * rng.standard_normal(n), xco2_uncertainty=np.full(n, 0.6),
        xco2_quality_flag=qf, orbit=np.full(n, orbit), footprint=fp, operation_mode=np.zeros(n),
        land_water_indicator=np.zeros(n), land_fraction=np.full(n, 100.0), altitude=np.full(n, 100.0),
        windspeed_u_met=np.full(n, 3.0), windspeed_v_met=np.full(n, -1.0),
        psurf_apriori_o2a=np.full(n, 1001.0), psurf=np.full(n, 1000.0), tcwv=np.full(n, 20.0),
        tcwv_apriori=np.full(n, 20.0), tcwv_uncertainty=np.full(n, 1.0),
    )


def write_lite_file(folder: Path, day: str = "2018-08-01", version: str = "11.1r", instrument: str = "OCO-2",
                    columns: dict | None = None, **kw) -> Path:
    cols = columns if columns is not None else lite_columns(start=f"{day}T12:00:00", **kw)
    return write_lite(Path(folder) / lite_filename(day, instrument, version), cols, version=version,
                      instrument=instrument)


def seed_csv_frame(cols: dict[str, np.ndarray], with_flag: bool = True) -> pd.DataFrame:
    """The volunteer team's CSV archive columns from Lite-style arrays."""
    df = pd.DataFrame({
        "sounding_id": cols["sounding_id"], "latitude": cols["latitude"], "longitude": cols["longitude"],
        "xco2": cols["xco2"], "xco2_uncert": cols["xco2_uncertainty"], "orbit": cols["orbit"],
        "windspeed_u": cols["windspeed_u_met"], "windspeed_v": cols["windspeed_v_met"],
        "surface_pressure_apriori": cols["psurf_apriori_o2a"], "surface_pressure": cols["psurf"],
        "altitude": cols["altitude"], "land_water_indicator": cols["land_water_indicator"],
        "land_fraction": cols["land_fraction"], "tcwv": cols["tcwv"], "tcwv_apriori": cols["tcwv_apriori"],
        "tcwv_uncertainty": cols["tcwv_uncertainty"],
    })
    if with_flag:
        df["flag"] = cols["xco2_quality_flag"]
    return df


# --------------------------------------------------------------------------- from test_faults.py

ROOT = Path(__file__).resolve().parents[1]


#: Hostile / odd source names (cities CSV): they are valid rows and must be published escaped.
HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    '"onmouseover=alert(1) x="',
    "<img src=x onerror=alert(1)>",
    "</textarea></title><svg/onload=alert(1)>",
    "'; alert(1); var x='",
    "L" * 3000,
    "北京 Zürich Łódź",
]


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def write_config(tmp: Path, *, extra_inventories=(), content: Path | None = None, search: bool = False,
                 name: str = "atlas.toml", **sections) -> Path:
    """An atlas.toml in ``tmp`` whose caches and outputs all live in ``tmp``; the embedded CoCO2
    catalogue, templates and npm assets come from the repository."""
    tmp = Path(tmp)
    cfg = {
        "paths": {"dataset": str(ROOT / "dataset"), "coco2": str(ROOT / "dataset" / "coco2"),
                  "oco2": str(tmp / "oco2"), "simulated": str(tmp / "simulated"), "site": str(tmp / "site"),
                  "cache": str(tmp / "cache"), "work": str(tmp / "work"),
                  "extra_inventories": [str(e) for e in extra_inventories]},
        "site": {"templates": str(ROOT / "templates"), "content": str(content or ROOT / "content"),
                 "node_modules": str(ROOT / "node_modules"), "search": search},
    }
    for sec, values in sections.items():
        cfg.setdefault(sec, {}).update(values)
    text = "".join(f"[{sec}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in vals.items()) + "\n"
                   for sec, vals in cfg.items())
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


#: Plume files: (day, instrument, orbit, lat0, lon0, seed). Track runs north from (lat0, lon0);
#: the plume sits 1014 km along track, its source 33 km upwind (wind u=3, v=-1 m/s).
PLUMES = [
    ("2018-08-01", "OCO-2", 21500, 10.0, 5.0, 1),
    ("2018-08-02", "OCO-2", 21515, -20.0, 30.0, 2),
    ("2018-08-03", "OCO-3", 3500, 25.0, -60.0, 3),
]


PLUME_ALONG_KM = 1014.0


def plume_columns(day: str, orbit: int, lat0: float, lon0: float, seed: int, n_frames: int = 900) -> dict:
    cols = lite_columns(n_frames=n_frames, start=f"{day}T12:00:00", orbit=orbit, lat0=lat0, lon0=lon0,
                        noise_ppm=0.5, seed=seed)
    along = np.repeat(np.arange(n_frames), 8) / 3.0 * 6.76
    area, sigma = 40.0, 5.0
    cols["xco2"] = cols["xco2"] + area / (sigma * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((along - PLUME_ALONG_KM) / sigma) ** 2)
    return cols


def plume_source(lat0: float, lon0: float) -> tuple[float, float]:
    """Where the source of the plume of a track starting at (lat0, lon0) lies (33 km upwind)."""
    return lat0 + PLUME_ALONG_KM / 111.195 + 0.1, lon0 - 0.3 / np.cos(np.radians(lat0 + 9.1))


def write_plume_files(folder: Path, plumes=PLUMES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for day, inst, orbit, lat0, lon0, seed in plumes:
        out.append(write_lite_file(folder, day=day, instrument=inst,
                                   columns=plume_columns(day, orbit, lat0, lon0, seed)))
    return out


def cities_frame(plumes=PLUMES, hostile: bool = True) -> pd.DataFrame:
    """One city upwind of each plume (named 'Plume N'), plus the hostile names elsewhere."""
    rows = []
    for i, (_, _, _, lat0, lon0, _) in enumerate(plumes):
        lat, lon = plume_source(lat0, lon0)
        rows.append((f"Plume {i}", lat, lon, 3e7, "XX"))
    if hostile:
        for i, name in enumerate(HOSTILE_NAMES):
            rows.append((name, -40.0 + i, 150.0 + i, 2e6, "YY"))
    return pd.DataFrame(rows, columns=["name", "latitude", "longitude", "co2_t_yr", "country"])


def plume_city_id(i: int) -> str:
    return f"city-plume-{i}-xx"


#: Small simulated set: 2 days of OCO-2 over eastern China (CoCO2 sources, ~200 truth crossings/day, a few
#: thousand soundings) plus the plume files; truth.csv makes the build validate itself.
SIM_REGION = (108.0, 28.0, 122.0, 42.0)


def make_small_inputs(folder: Path, days: int = 2) -> Path:
    """Simulated Lite files + truth.csv + the plume files in ``folder``; returns ``folder``."""
    from builder.build import load_sources
    from builder.config import load_config
    from builder.simulate import simulate

    folder = Path(folder)
    cfg = load_config(None, paths={"coco2": str(ROOT / "dataset" / "coco2")})
    sources, profiles = load_sources(cfg, Problems())
    simulate(cfg, sources, profiles.emission_kg_s, folder, days=days, region=SIM_REGION)
    write_plume_files(folder)
    return folder


def tree_diff(a: Path, b: Path, limit: int = 20) -> list[str]:
    """Files only in one tree or differing (with the first differing line), as readable lines."""
    fa = {p.relative_to(a).as_posix() for p in Path(a).rglob("*") if p.is_file()}
    fb = {p.relative_to(b).as_posix() for p in Path(b).rglob("*") if p.is_file()}
    out = [f"only in {a.name}: {x}" for x in sorted(fa - fb)] + [f"only in {b.name}: {x}" for x in sorted(fb - fa)]
    for rel in sorted(fa & fb):
        x, y = (Path(a) / rel).read_bytes(), (Path(b) / rel).read_bytes()
        if x == y:
            continue
        lx, ly = x.splitlines(), y.splitlines()
        i = next((i for i, (p, q) in enumerate(zip(lx, ly)) if p != q), min(len(lx), len(ly)))
        p = lx[i] if i < len(lx) else b"<EOF>"
        q = ly[i] if i < len(ly) else b"<EOF>"
        j = next((j for j, (u, v) in enumerate(zip(p, q)) if u != v), min(len(p), len(q)))
        out.append(f"differs: {rel} line {i + 1} col {j + 1}: {p[max(0, j - 60):j + 60]!r} != {q[max(0, j - 60):j + 60]!r}")
    return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """builder.cli.main in-process; (exit code, stdout, stderr). Any exception escaping main fails the test."""
    from builder import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


#: cities.csv rows: (name, lat, lon, co2_t_yr) -> expected reason words (None = valid row)
BAD_CITY_ROWS = [
    (("No Lat", "", 4.0, 1e6), "latitude"),
    (("Bad Lat", 999, 4.0, 1e6), "latitude"),
    (("South Pole Minus", -91, 4.0, 1e6), "latitude"),
    (("Bad Lon", 10, "abc", 1e6), "longitude"),
    (("Far Lon", 10, 540, 1e6), "longitude"),
    (("Negative", 10, 4.0, -5), "negative"),
    (("Lots", 10, 4.0, "lots"), "emission"),
    (("Empty Emission", 10, 4.0, ""), "population|emission"),
    (("Plume 0", *plume_source(PLUMES[0][3], PLUMES[0][4]), 1e6), "duplicate"),  # same name, country and place
    (("", 12, 5.0, 1e6), "name"),
]


def write_cities(path: Path, with_bad: bool = True) -> list[tuple[str, str]]:
    """cities.csv with the plume cities, hostile names and bad rows; returns [(item, reason words)]."""
    df = cities_frame()
    expected = []
    if with_bad:
        rows = []
        for (name, lat, lon, co2), why in BAD_CITY_ROWS:
            rows.append({"name": name, "latitude": lat, "longitude": lon, "co2_t_yr": co2, "country": "XX"})
            expected.append((f"{path.name}:row {len(df) + len(rows) + 1}", why))
        df = pd.concat([df.astype(object), pd.DataFrame(rows, dtype=object)], ignore_index=True)
    df.to_csv(path, index=False)
    return expected


BAD_CONTENT = {
    "nofront.md": ("# No front matter\n\ntext\n", "front matter"),
    "unclosed.md": ("---\ntitle: Unclosed\n\nbody never closes\n", "not closed"),
    "badline.md": ("---\ntitle: Bad\nthis is not a key value line\n---\nbody\n", "key: value"),
    "notitle.md": ("---\norder: 3\n---\nbody\n", "title"),
    "badorder.md": ("---\ntitle: Bad order\norder: soon\n---\nbody\n", "order"),
    "badinclude.md": ("---\ntitle: Bad include\ninclude: everything\n---\nbody\n", "include"),
    "latin1.md": ("---\ntitle: Caf\xe9\n---\ncaf\xe9\n".encode("latin-1"), "UTF-8"),
}


#: Valid page whose Markdown body holds raw HTML with script: must not reach the site as live markup.
RAW_HTML_PAGE = ("rawhtml.md", "---\ntitle: Raw HTML\norder: 99\n---\nHello <script>alert('content')</script>\n\n"
                 "<img src=x onerror=alert('content')>\n\n<a href=\"javascript:alert('content')\">click</a>\n")


def make_content(folder: Path, bad: bool = True) -> list[tuple[str, str]]:
    shutil.copytree(ROOT / "content", folder)
    if not bad:
        return []
    for name, (text, _) in BAD_CONTENT.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    (folder / RAW_HTML_PAGE[0]).write_text(RAW_HTML_PAGE[1], encoding="utf-8")
    return [(name, why) for name, (_, why) in BAD_CONTENT.items()]


# --------------------------------------------------------------------------- from test_validate.py

MT = physics.KG_S_PER_MT_YR


def truth_row(cid, source, orbit, mt, u, lat, lon, down, peak, sigma, n, isolated):
    return {"crossing_id": cid, "source_id": source, "instrument": "OCO-2", "orbit": orbit,
            "time_utc": "2018-08-01T12:00:00Z", "emission_kg_s": mt * MT, "wind_u_m_s": u, "wind_v_m_s": 0.0,
            "file_wind_u_m_s": u * 1.1, "file_wind_v_m_s": 0.0, "cross_latitude": lat, "cross_longitude": lon,
            "downwind_km": down, "peak_ppm": peak, "area_ppm_km": peak * sigma * 2.5, "sigma_along_km": sigma,
            "n_soundings_20km": n, "isolated": isolated}


def det_row(did, orbit, lat, lon, emission_kg_s, unc_kg_s, source):
    return {"detection_id": did, "orbit": orbit, "sounding_id": 1, "time_utc": "2018-08-01T12:00:00Z",
            "latitude": lat, "longitude": lon, "amplitude_ppm": 1.0, "sigma_km": 5.0,
            "emission_kg_s": emission_kg_s, "emission_unc_kg_s": unc_kg_s, "wind_u_m_s": 5.0, "wind_v_m_s": 0.0,
            "source_id": source, "source_name": "", "source_distance_km": np.nan, "inventory_kg_s": np.nan,
            "instrument": "OCO-2", "flag_parallel_wind": False, "flag_low_wind": False}


# --------------------------------------------------------------------------- from test_pipeline.py

#: Where the source of :func:`plume_file`'s plume lies (the track runs north from 10 N, 5 E).
PLUME_SOURCE_LAT, PLUME_SOURCE_LON = 10.9, 5.0


def plume_file(folder, day, seed, amplitude_ppm=3.0, sigma_km=6.0, orbit=21500):
    """A Lite file of one track with a Gaussian enhancement where it passes the source's longitude."""
    cols = lite_columns(n_frames=300, start=f"{day}T12:00:00", seed=seed, noise_ppm=0.6, orbit=orbit)
    along = (cols["latitude"] - 10.0) * 111.195
    centre = (PLUME_SOURCE_LAT - 10.0) * 111.195
    cols["xco2"] = cols["xco2"] + amplitude_ppm * np.exp(-0.5 * ((along - centre) / sigma_km) ** 2) \
        + 0.004 * along
    cols["windspeed_u_met"][:] = 4.0   # blowing east, from the source towards the track
    cols["windspeed_v_met"][:] = 0.0
    return write_lite_file(folder, day=day, columns=cols)


# --------------------------------------------------------------------------- from test_detect.py

GOOD_FRACTION = 0.8


SPEED_KM_S = 6.76


def make_track(length_km: float = 600.0, *, noise_ppm: float = 0.0, corr_ppm: float = 0.0, corr_km: float = 20.0,
               plumes=(), slope_ppm_km: float = 0.0, seed: int = 0, orbit: int = 21500,
               heading_deg: float = -10.0, wind=(3.0, -1.0), psurf_hpa: float = 1000.0, tcwv_kg_m2: float = 20.0,
               fp_bias_ppm: float = 0.0, lat0: float = 10.0, lon0: float = 5.0, unc_ppm: float = 0.6) -> Track:
    """A synthetic along-track Track. ``plumes`` = [(centre_km, area_ppm_km, sigma_km), ...]."""
    rng = np.random.default_rng(seed)
    n_frames = int(length_km / SPEED_KM_S * 3) + 1
    frame = np.repeat(np.arange(n_frames), 8)
    fp = np.tile(np.arange(1, 9), n_frames)
    t = frame / 3.0
    along = t * SPEED_KM_S
    keep = rng.random(len(frame)) < GOOD_FRACTION
    ts = pd.Timestamp("2018-08-01T12:00:00", tz="UTC") + pd.to_timedelta(t, unit="s")
    stamp = ts.strftime("%Y%m%d%H%M%S").astype(np.int64).to_numpy()
    sid = stamp * 100 + (ts.microsecond.to_numpy() // 100000) * 10 + fp
    h = np.radians(heading_deg)
    cross = (fp - 4.5) * 1.25
    north = along * np.cos(h) - cross * np.sin(h)
    east = along * np.sin(h) + cross * np.cos(h)
    lat = lat0 + north / 111.195
    lon = lon0 + east / (111.195 * np.cos(np.radians(lat)))
    y = 405.0 + slope_ppm_km * (along - length_km / 2)
    for c, area, s in plumes:
        y = y + area / (s * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((along - c) / s) ** 2)
    y = y + noise_ppm * rng.standard_normal(len(y))
    if corr_ppm:
        rho = np.exp(-SPEED_KM_S / 3 / corr_km)
        e = lfilter([np.sqrt(1 - rho ** 2)], [1, -rho], rng.standard_normal(n_frames))
        y = y + corr_ppm * e[frame]
    if fp_bias_ppm:
        y = y + fp_bias_ppm * rng.standard_normal(8)[fp - 1]
    n = len(y)
    df = pd.DataFrame(dict(sounding_id=sid, time_utc=ts, latitude=lat, longitude=lon, xco2_ppm=y,
                           xco2_unc_ppm=np.full(n, unc_ppm), footprint=fp, operation_mode=0, land_water=0,
                           altitude_m=100.0, wind_u_m_s=float(wind[0]), wind_v_m_s=float(wind[1]),
                           psurf_hpa=psurf_hpa, tcwv_kg_m2=tcwv_kg_m2, along_km=along))
    df = df.loc[keep].reset_index(drop=True)[TRACK_COLUMNS]
    return Track(orbit=orbit, instrument="OCO-2", source_file="oco2_LtCO2_180801_B11210Ar_test.nc4", soundings=df)


# --------------------------------------------------------------------------- from test_attribute.py

MERIDIAN_T0 = pd.Timestamp("2018-08-05 12:30", tz="UTC")   #: start time of meridian_track


def meridian_track(noise_ppm=0.8, orbit=100, seed=3, correlated_ppm=0.0):
    """A north-bound track along 20 E from 50 N to 52 N, 2 soundings/km, wind from the west;
    ``correlated_ppm``: add smooth errors with a ~5 km correlation length (like real XCO2)."""
    rng = np.random.default_rng(seed)
    along = np.arange(0, 222.0, 0.5)
    n = len(along)
    smooth = np.convolve(rng.standard_normal(n + 40), np.exp(-0.5 * (np.arange(-20, 21) / 10.0) ** 2), "same")[20:-20]
    noise_ppm_i = noise_ppm * rng.standard_normal(n) + correlated_ppm * smooth / smooth.std()
    s = pd.DataFrame({
        "sounding_id": np.arange(n, dtype=np.int64),
        "time_utc": MERIDIAN_T0 + pd.to_timedelta(along / 6.76, unit="s"),
        "latitude": 50.0 + along / 111.195, "longitude": np.full(n, 20.0),
        "xco2_ppm": 405.0 + noise_ppm_i, "xco2_unc_ppm": np.full(n, 0.5),
        "footprint": np.ones(n, int), "operation_mode": np.zeros(n, int), "land_water": np.zeros(n, int),
        "altitude_m": np.zeros(n), "wind_u_m_s": np.full(n, 5.0), "wind_v_m_s": np.zeros(n),
        "psurf_hpa": np.full(n, 1000.0), "tcwv_kg_m2": np.full(n, 20.0), "along_km": along,
    })[TRACK_COLUMNS]
    return Track(orbit=orbit, instrument="OCO-2", source_file="f.nc4", soundings=s)


# --------------------------------------------------------------------------- from test_fetch.py

LAST_MODIFIED = "Wed, 02 Jun 2021 10:20:30 GMT"


@dataclass
class Route:
    """What the test HTTP server (conftest ``server``) answers on one path."""

    body: bytes
    token: str | None = None        # required bearer token
    cut: int = 0                    # the next `cut` answers stop halfway through the body
    ignore_range: bool = False
    content_type: str = "application/octet-stream"


class RouteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, code: int, body: bytes = b"", headers: dict | None = None, cut: bool = False):
        self.send_response(code)
        for k, v in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        if cut:
            self.close_connection = True

    def do_GET(self):
        state = self.server.state
        url = urlsplit(self.path)
        with state["lock"]:
            state["log"].append((url.path, dict(self.headers), parse_qs(url.query)))
        if url.path == "/search/granules.umm_json":
            items = state["granules"]
            page = parse_qs(url.query).get("page_size", ["2000"])[0]
            body = json.dumps({"hits": len(items), "took": 1, "items": [] if page == "0" else items}).encode()
            return self._send(200, body, {"Content-Type": "application/json", "CMR-Hits": str(len(items))})
        route = state["routes"].get(url.path)
        if route is None:
            return self._send(404, b"not found", {"Content-Type": "text/plain"})
        if route.token and self.headers.get("Authorization") != f"Bearer {route.token}":
            return self._send(401, b"unauthorized", {"Content-Type": "text/plain"})
        body, start = route.body, 0
        rng = self.headers.get("Range")
        headers = {"Content-Type": route.content_type, "Last-Modified": LAST_MODIFIED, "Accept-Ranges": "bytes"}
        if rng and not route.ignore_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                return self._send(416, b"", {"Content-Range": f"bytes */{len(body)}"})
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        with state["lock"]:
            cut = route.cut > 0
            route.cut -= cut
        self._send(206 if start else 200, body[start:], headers, cut=cut)


def fetch_config(server, **fetch_keys):
    keys = {"cmr_url": server["base"] + "/search/", "retries": 0, "backoff_s": 0.0, "timeout_s": 20.0, "threads": 3}
    return load_config(None, fetch={**keys, **fetch_keys})


def fetch_args(*argv: str) -> argparse.Namespace:
    return fetch.configure_parser(argparse.ArgumentParser()).parse_args(list(argv))


def two_plume_days(tmp_path: Path) -> Path:
    """``tmp_path``/oco2 holding the :func:`plume_file` Lite files of 2018-08-01 and -02 (orbits
    21500 and 21515); returns that folder."""
    data = tmp_path / "oco2"
    data.mkdir()
    for i, day in enumerate(["2018-08-01", "2018-08-02"]):
        plume_file(data, day, seed=i, orbit=21500 + 15 * i)
    return data


def site_config(tmp_path: Path):
    """A loaded configuration whose templates are a copy in ``tmp_path`` (the embedded CoCO2
    catalogue, the repository's content and npm assets, no search index)."""
    import shutil

    from builder.config import load_config

    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    cfg = tmp_path / "atlas.toml"
    cfg.write_text(
        "[paths]\n"
        f'coco2 = "{ROOT / "dataset" / "coco2"}"\n'
        "[site]\n"
        f'content = "{ROOT / "content"}"\n'
        f'node_modules = "{ROOT / "node_modules"}"\n'
        "search = false\n", encoding="utf-8")
    return load_config(cfg)
