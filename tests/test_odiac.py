"""ODIAC (builder/odiac.py): real-layout fixtures written here, small.

GeoTIFF: ODIAC's 1 km layout - one float32 band, EPSG:4326, 30 arc-second cells on
the global grid (origin on a multiple of 1/120 degree), north up, tiled, a nodata
value, file name odiacVER_1km_excl_intl_YYMM.tif - cut to a 1 x 1 degree window.
NetCDF: the 1 x 1 degree yearly file, variables land / intl_bunker (month, lat,
lon) in g C m-2 d-1, global 360 x 180.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builder import fetch, odiac
from builder.errors import EXIT_FETCH, EXIT_INPUT, Problems
from builder.config import load_config
from builder.inventory import load_inventory
from builder.soundings import InputError
from tests.factories import fetch_args, fetch_config, Route

# affine's "use @ instead of *" notice, raised inside rasterio and rioxarray (not our code)
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")

RES = 1.0 / 120.0                      # 30 arc-seconds
NODATA = -999.0
PLANT = (51.266, 19.331)               # Bełchatów
CITY = (51.77, 19.46)                  # Łódź, a 5 x 5 block of cells


def _pixel(lat: float, lon: float, lat0: float, lon0: float) -> tuple[int, int]:
    return int((lat0 - lat) / RES), int((lon - lon0) / RES)


def write_odiac_tif(path: Path, *, lon0=19.0, lat0=52.0, n=120, plant_t_c=2.0e5, city_t_c=4000.0,
                    background_t_c=1.0, cells: dict | None = None) -> Path:
    """A 1 x 1 degree cut of an ODIAC 1 km GeoTIFF (t C per cell per month)."""
    import rasterio
    from rasterio.transform import from_origin

    data = np.full((n, n), background_t_c, dtype="float32")
    data[:10, -10:] = NODATA                               # a corner without data
    r, c = _pixel(*PLANT, lat0, lon0)
    data[r, c] = plant_t_c
    r, c = _pixel(*CITY, lat0, lon0)
    data[r - 2: r + 3, c - 2: c + 3] = city_t_c
    for (rr, cc), v in (cells or {}).items():
        data[rr, cc] = v
    profile = dict(driver="GTiff", width=n, height=n, count=1, dtype="float32", crs="EPSG:4326",
                   transform=from_origin(lon0, lat0, RES, RES), nodata=NODATA, tiled=True,
                   blockxsize=64, blockysize=64)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def write_odiac_nc(path: Path, cell=(51.5, 19.5), jan=20.0, rest=10.0) -> Path:
    """The ODIAC 1 x 1 degree NetCDF layout with one emitting cell."""
    import netCDF4

    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("month", 12), ds.createDimension("lat", 180), ds.createDimension("lon", 360)
        ds.createVariable("month", "i4", ("month",))[:] = np.arange(1, 13)
        ds.createVariable("lat", "f4", ("lat",))[:] = np.arange(-89.5, 90.0, 1.0)
        ds.createVariable("lon", "f4", ("lon",))[:] = np.arange(-179.5, 180.0, 1.0)
        for name in ("land", "intl_bunker"):
            v = ds.createVariable(name, "f4", ("month", "lat", "lon"))
            v.units = "gC/m2/d"
            vals = np.zeros((12, 180, 360), dtype="f4")
            if name == "land":
                i, j = int(cell[0] + 90), int(cell[1] + 180)
                vals[:, i, j] = rest
                vals[0, i, j] = jan
            else:
                vals[:, 100, 10] = 50.0   # a ship lane: must not become a source
            v[:] = vals
    return path


# ------------------------------------------------------------------------------- reader

def test_geotiff_cell_converts_to_hand_computed_rate(tmp_path):
    # 100 t C in February 2019 (28 days): 100 x 44.01/12.011 = 366.414 t CO2 in 28 days,
    # per year (365.25 d): 366.414 x 365.25 / 28 = 4779.74 t CO2/yr.
    path = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif", plant_t_c=100.0)
    grid = odiac.read_odiac_grid(path)
    r, c = _pixel(*PLANT, 52.0, 19.0)
    assert grid.emission_t_yr[r, c] == pytest.approx(4779.74, rel=1e-5)
    assert grid.period == "2019-02" and grid.version == "ODIAC2023" and grid.emission_t_yr.shape == (120, 120)
    assert grid.lat[r] == pytest.approx(52.0 - (r + 0.5) * RES) and grid.lon[c] == pytest.approx(19.0 + (c + 0.5) * RES)
    assert np.all(grid.emission_t_yr[:10, -10:] == 0)          # nodata counts as no emission
    # the same t C in a 31-day month is a lower rate
    jan = odiac.read_odiac_grid(write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1901.tif", plant_t_c=100.0))
    assert jan.emission_t_yr[r, c] == pytest.approx(4779.74 * 28 / 31, rel=1e-5)


def test_decimated_and_strip_reads_keep_the_total(tmp_path, monkeypatch):
    path = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif")
    full = odiac.read_odiac_grid(path)
    import rasterio.io

    windows = []
    read = rasterio.io.DatasetReader.read
    monkeypatch.setattr(rasterio.io.DatasetReader, "read",
                        lambda self, *a, **k: windows.append(k.get("window")) or read(self, *a, **k))
    monkeypatch.setattr(odiac, "STRIP_PIXELS", 1000)          # many windowed reads of a few rows
    coarse = odiac.read_odiac_grid(path, max_cells=1000)      # 120 x 120 -> blocks of 4 x 4
    # never the whole file at once: strips of 8 rows (the largest multiple of 4 within 1000 pixels)
    sizes = [(w[0][1] - w[0][0]) * (w[1][1] - w[1][0]) for w in windows]
    assert len(windows) == 15 and max(sizes) == 8 * 120
    assert coarse.emission_t_yr.shape == (30, 30) and coarse.resolution_deg == pytest.approx(4 * RES)
    assert coarse.emission_t_yr.sum() == pytest.approx(full.emission_t_yr.sum(), rel=1e-9)
    assert coarse.cell_km2.sum() * 30 == pytest.approx(full.cell_km2.sum() * 120, rel=1e-6)
    # block sums keep each hot spot where its 1 km cells are, not at the block centre
    fine, blocks = odiac.read_odiac(path), odiac.grid_sources(coarse)
    assert np.allclose(np.sort(blocks["latitude"]), np.sort(fine["latitude"]), atol=1e-9)
    assert np.allclose(np.sort(blocks["longitude"]), np.sort(fine["longitude"]), atol=1e-9)
    r, c = _pixel(*PLANT, 52.0, 19.0)
    assert fine["latitude"].min() == pytest.approx(52.0 - (r + 0.5) * RES)      # the plant's cell centre
    part = odiac.read_odiac_grid(path, bbox=(19.2, 51.2, 19.4, 51.4))
    assert part.emission_t_yr.shape == (24, 24) and part.lon.min() > 19.2 and part.lat.max() < 51.4


def test_netcdf_land_cell_converts_to_hand_computed_rate(tmp_path):
    path = write_odiac_nc(tmp_path / "odiac2023_1x1d_2019.nc")
    grid = odiac.read_odiac_grid(path)
    # day-weighted mean flux (20 x 31 + 10 x 334) / 365 = 10.8493 g C m-2 d-1 over the cell
    # 51-52N x 1 degree: 6371.0088^2 x (pi/180) x (sin 52 - sin 51) = 7696.89 km2;
    # 10.8493 g/m2/d x 7696.89e6 m2 = 83.505e9 g C/d = 83,505 t C/d x 3.66414 x 365.25 = 111.758 Mt CO2/yr
    i, j = np.searchsorted(grid.lat, 51.5), np.searchsorted(grid.lon, 19.5)
    assert grid.emission_t_yr[i, j] == pytest.approx(111.758e6, rel=1e-4)
    assert grid.emission_t_yr.sum() == pytest.approx(grid.emission_t_yr[i, j])  # intl_bunker not used
    jan = odiac.read_odiac_grid(path, month=1)
    assert jan.emission_t_yr[i, j] == pytest.approx(111.758e6 * 20 / 10.8493, rel=1e-4) and jan.period == "2019-01"
    src = odiac.read_odiac(path)
    assert len(src) == 1 and src["kind"].iat[0] == "odiac_cluster" and src["inventory_year"].iat[0] == 2019
    assert src["latitude"].iat[0] == pytest.approx(51.5) and src["sigma_km"].iat[0] > 20


def test_bad_files_are_one_line_input_errors(tmp_path):
    bad_name = write_odiac_tif(tmp_path / "emissions.tif")
    with pytest.raises(InputError, match="not an ODIAC file name"):
        odiac.read_odiac(bad_name)
    junk = tmp_path / "odiac2023_1km_excl_intl_1902.tif"
    junk.write_bytes(b"II*\x00 not really a tiff")
    with pytest.raises(InputError, match="not a readable GeoTIFF") as err:
        odiac.read_odiac(junk)
    assert "\n" not in str(err.value)
    import netCDF4
    with netCDF4.Dataset(tmp_path / "odiac2023_1x1d_2019.nc", "w") as ds:
        ds.createDimension("lat", 2)
        ds.createVariable("emissions", "f4", ("lat",))[:] = [1, 2]
    with pytest.raises(InputError, match="no variable 'land'"):
        odiac.read_odiac(tmp_path / "odiac2023_1x1d_2019.nc")


# ------------------------------------------------------------------------------- sources

def test_clusters_have_weighted_centroid_extent_and_emission(tmp_path):
    path = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif")
    grid = odiac.read_odiac_grid(path)
    src = odiac.read_odiac(path)
    assert len(src) == 2                                      # the plant and the city; background is below threshold
    city = src.loc[src["emission_t_yr"].idxmin()]
    plant = src.loc[src["emission_t_yr"].idxmax()]
    assert plant["emission_t_yr"] == pytest.approx(9_559_483, rel=1e-5)   # 2e5 t C in Feb 2019, by hand
    assert city["emission_t_yr"] == pytest.approx(25 * 4000 * 4779.74 / 100, rel=1e-5)
    assert abs(city["latitude"] - CITY[0]) < RES and abs(city["longitude"] - CITY[1]) < RES
    # 5 x 5 cells of ~0.58 x 0.93 km: per-axis rms of a 5-cell-wide uniform block is ~1.4 cells
    assert 0.5 < city["sigma_km"] < 2.0 and 1.5 < city["radius_km"] < 4.0
    assert plant["radius_km"] < 1.0
    assert (src["kind"] == "odiac_cluster").all() and src["inventory"].str.startswith("ODIAC2023 2019-02").all()
    assert grid.emission_t_yr.sum() > src["emission_t_yr"].sum()  # the background stays out


def _plants_csv(path: Path, rows: list[tuple[str, str, float, float, float]]) -> Path:
    df = pd.DataFrame(rows, columns=["source_id", "name", "latitude", "longitude", "emission_t_yr"])
    df.assign(kind="power_plant").to_csv(path, index=False)
    return path


def test_catalogued_plant_is_subtracted_or_the_cluster_dropped(tmp_path):
    tif = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif")
    plants = _plants_csv(tmp_path / "coco2like.csv", [("p-bel", "Belchatow", *PLANT, 8.0e6),
                                                       ("p-far", "Far away", 10.0, 10.0, 5.0e6)])
    cfg = load_config(None, paths={"coco2": "", "extra_inventories": [f"csv:{plants}", f"odiac:{tif}"]})
    skipped = Problems()
    src, _ = load_inventory(cfg, skipped)
    clusters = src[src["kind"] == "odiac_cluster"].set_index("name")
    near = clusters.loc[clusters["latitude"].sub(PLANT[0]).abs().idxmin()]
    assert near["emission_t_yr"] == pytest.approx(9_559_483 - 8.0e6, rel=1e-5)   # 1.56 Mt left: kept, reduced
    assert len(clusters) == 2
    far = clusters.loc[clusters["latitude"].sub(CITY[0]).abs().idxmin()]
    assert far["emission_t_yr"] == pytest.approx(25 * 4000 * 4779.74 / 100, rel=1e-5)  # no plant inside: unchanged
    assert any("1 of 2 clusters held catalogued power plants: 8 Mt" in s.reason and "0 clusters dropped" in s.reason
               for s in skipped)
    # a second catalogue lists the same plant at 9 Mt: the larger catalogue total is subtracted once
    # (not 8 + 9), leaving 0.56 Mt < 1 Mt: the cluster is dropped
    gppd = _plants_csv(tmp_path / "gppdlike.csv", [("g-bel", "Belchatow", PLANT[0] + 0.001, PLANT[1], 9.0e6)])
    cfg2 = load_config(None, paths={"coco2": "", "extra_inventories": [f"csv:{plants}", f"csv:{gppd}", f"odiac:{tif}"]})
    skipped2 = Problems()
    src2, _ = load_inventory(cfg2, skipped2)
    assert (src2["kind"] == "odiac_cluster").sum() == 1
    assert any("9 Mt CO2/yr of plant emission subtracted, 1 clusters dropped" in s.reason for s in skipped2)
    # without any catalogue both clusters keep their full emission
    src3, _ = load_inventory(load_config(None, paths={"coco2": "", "extra_inventories": [f"odiac:{tif}"]}), Problems())
    assert src3["emission_t_yr"].max() == pytest.approx(9_559_483, rel=1e-5)


def test_unreadable_odiac_entry_is_one_skipped_line_and_the_build_goes_on(tmp_path):
    plants = _plants_csv(tmp_path / "p.csv", [("p1", "P", 1.0, 1.0, 2.0e6)])
    cfg = load_config(None, paths={"coco2": "", "extra_inventories": [
        f"csv:{plants}", f"odiac:{tmp_path / 'odiac2023_1km_excl_intl_1913.tif'}"]})
    skipped = Problems()
    src, _ = load_inventory(cfg, skipped)
    assert list(src["source_id"]) == ["p1"]
    assert [s.reason for s in skipped] == ["file not found"]


# ------------------------------------------------------------------------------- fetch

def _odiac_server(server, tmp_path, months=(2,), md5_override: dict | None = None):  # noqa: F811
    """Serve ODIAC's layout: /odiac2023/1km_tiff/2019/odiac2023_1km_excl_intl_19MM.tif.gz + md5 list."""
    bodies, lines = {}, []
    for mm in months:
        name = f"odiac2023_1km_excl_intl_19{mm:02d}.tif"
        raw = write_odiac_tif(tmp_path / name).read_bytes()
        body = gzip.compress(raw, mtime=0)
        bodies[name + ".gz"] = (body, raw)
        server["routes"][f"/odiac2023/1km_tiff/2019/{name}.gz"] = Route(body)
        md5 = (md5_override or {}).get(name + ".gz", hashlib.md5(body).hexdigest())
        lines.append(f"{md5}  {name}.gz")
    server["routes"]["/odiac2023/1km_tiff/2019/odiac2023_1km_checksum_2019.md5.txt"] = Route(
        ("\n".join(lines) + "\n").encode(), content_type="text/plain")
    base = server["base"] + "/{version}/1km_tiff/{year}/"
    cfg = fetch_config(server, odiac_version="odiac2023", odiac_url=base + "{version}_1km_excl_intl_{yymm}.tif.gz",
               odiac_md5_url=base + "{version}_1km_checksum_{year}.md5.txt")
    return cfg, bodies


def test_fetch_odiac_month_is_verified_decompressed_recorded_and_readable(server, tmp_path, capsys):  # noqa: F811
    cfg, bodies = _odiac_server(server, tmp_path)
    out = tmp_path / "inv"
    assert fetch.main_fetch(fetch_args("inventories", "--odiac", "2019-02", "--out", str(out)), cfg) == 0
    assert "odiac: 1 downloaded, 0 already present, 0 failed" in capsys.readouterr().out
    gz = out / "odiac2023_1km_excl_intl_1902.tif.gz"
    body, raw = bodies[gz.name]
    assert gz.read_bytes() == body and (out / "odiac2023_1km_excl_intl_1902.tif").read_bytes() == raw
    prov = json.loads((out / (gz.name + ".provenance.json")).read_text())
    assert prov["md5"] == hashlib.md5(body).hexdigest() and prov["md5_verified"] is True
    assert prov["sha256"] == hashlib.sha256(body).hexdigest() and prov["licence"] == "CC BY 4.0"
    assert "Oda" in prov["attribution"] and prov["source_url"].endswith("/odiac2023/1km_tiff/2019/" + gz.name)
    assert len(odiac.read_odiac(out / "odiac2023_1km_excl_intl_1902.tif")) == 2
    n_file_requests = sum(p.endswith(".tif.gz") for p, _, _ in server["log"])
    again = fetch.fetch_odiac(cfg, "2019-02", out, progress=False)
    assert again.ok and again.count("present") == 1
    assert sum(p.endswith(".tif.gz") for p, _, _ in server["log"]) == n_file_requests


def test_fetch_odiac_resumes_an_interrupted_download(server, tmp_path):  # noqa: F811
    cfg, bodies = _odiac_server(server, tmp_path)
    server["routes"]["/odiac2023/1km_tiff/2019/odiac2023_1km_excl_intl_1902.tif.gz"].cut = 1
    out = tmp_path / "inv"
    first = fetch.fetch_odiac(cfg, "2019-02", out, progress=False)          # retries = 0: fails, .part kept
    assert not first.ok and (out / "odiac2023_1km_excl_intl_1902.tif.gz.part").exists()
    second = fetch.fetch_odiac(cfg, "2019-02", out, progress=False)
    assert second.ok and second.count("downloaded") == 1
    ranges = [h.get("Range") for p, h, _ in server["log"] if p.endswith(".tif.gz")]
    assert ranges[0] is None and ranges[-1] and ranges[-1].startswith("bytes=")
    assert (out / "odiac2023_1km_excl_intl_1902.tif.gz").read_bytes() == bodies["odiac2023_1km_excl_intl_1902.tif.gz"][0]


def test_fetch_odiac_md5_mismatch_is_not_kept(server, tmp_path):  # noqa: F811
    cfg, _ = _odiac_server(server, tmp_path, md5_override={"odiac2023_1km_excl_intl_1902.tif.gz": "0" * 32})
    out = tmp_path / "inv"
    report = fetch.fetch_odiac(cfg, "2019-02", out, progress=False)
    assert not report.ok and "md5 checksum mismatch" in report.failed[0].error
    assert not list(out.glob("odiac2023_1km_excl_intl_1902.tif*"))


def test_fetch_odiac_404_is_one_clear_line(server, tmp_path, capsys, monkeypatch):  # noqa: F811
    import socketserver

    # the test server's own traceback when the client closes without reading a 404 body
    # (connection reset) is not the program's output
    monkeypatch.setattr(socketserver.BaseServer, "handle_error", lambda self, request, address: None)
    cfg, _ = _odiac_server(server, tmp_path)
    out = tmp_path / "inv"
    assert fetch.main_fetch(fetch_args("inventories", "--odiac", "2019-03", "--out", str(out)), cfg) == EXIT_FETCH
    err = [line for line in capsys.readouterr().err.splitlines() if "404" in line]
    assert err == [f"odiac: FAILED odiac2023_1km_excl_intl_1903.tif.gz: HTTP 404 Not Found for "
                   f"{server['base']}/odiac2023/1km_tiff/2019/odiac2023_1km_excl_intl_1903.tif.gz"]
    # a year the release does not cover: its md5 list is missing -> one line, nothing fetched
    assert fetch.main_fetch(fetch_args("inventories", "--odiac", "2031", "--out", str(out)), cfg) == EXIT_FETCH
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("atlas fetch: no ODIAC odiac2023 1 km files for 2031") and "404" in err[0]
    assert fetch.main_fetch(fetch_args("inventories", "--odiac", "2019-13"), cfg) == EXIT_INPUT
    assert "use YEAR or YEAR-MONTH" in capsys.readouterr().err
    assert fetch.main_fetch(fetch_args("oco2", "--odiac", "2019"), cfg) == EXIT_INPUT
    assert capsys.readouterr().err.strip() == "atlas fetch: --odiac goes with 'atlas fetch inventories'"


# ------------------------------------------------------------------------------- site

def _result_with_other_inventories():
    from tests.site_fixture import demo_result

    result = demo_result()
    bel = result.sources.set_index("source_id").loc["coco2-1001"]
    extra = pd.DataFrame([
        dict(source_id="gppd-WRI1019887", name="Belchatow (GPPD)", kind="power_plant", latitude=bel.latitude + 0.004,
             longitude=bel.longitude, emission_t_yr=37.0e6, inventory="WRI GPPD v1.3"),
        dict(source_id="odiac-51.24N019.30E", name="ODIAC hot spot 51.24N 019.30E", kind="odiac_cluster",
             latitude=bel.latitude - 0.027, longitude=bel.longitude, emission_t_yr=1.5e6,
             inventory="ODIAC2025 2019-02 (1 km cells)", radius_km=4.0),
        dict(source_id="odiac-far", name="ODIAC far", kind="odiac_cluster", latitude=bel.latitude + 1.0,
             longitude=bel.longitude, emission_t_yr=2.0e6, inventory="ODIAC2025 2019-02 (1 km cells)", radius_km=4.0),
    ])
    result.sources = pd.concat([result.sources, extra], ignore_index=True)
    return result


def test_source_page_names_each_inventory_and_which_one_the_ratio_uses(tmp_path):
    from builder.render import render_site

    result = _result_with_other_inventories()
    out = tmp_path / "site"
    render_site(load_config(Path(__file__).resolve().parents[1] / "atlas.toml", site={"search": False}), result, out)
    pages = [p for p in (out / "sources").rglob("index.html") if "Bełchatów" in p.read_text()
             and 'id="other-inventories"' in p.read_text()]
    assert len(pages) == 1
    note = re.search(r'<p class="note" id="other-inventories">(.*?)</p>', pages[0].read_text(), re.S).group(1)
    assert "Belchatow (GPPD) (WRI GPPD v1.3, 37,000,000 t/yr, 0.4 km away, same site: summed into the ratio)" in note
    assert "ODIAC hot spot 51.24N 019.30E (ODIAC2025 2019-02 (1 km cells), 1,500,000 t/yr, 3.0 km away, not in the ratio)" in note
    assert "ODIAC far" not in note                              # 111 km away: outside its 4 km extent
    assert "compares each overpass with CoCO2 plus the other entries on this site" in note
    assert "catalogued power plants inside it already subtracted" in note
    assert "the site total counts it twice" in note              # CoCO2 + GPPD of one plant: said, not hidden
    home = (out / "index.html").read_text()       # the per-source comparison table names each value's inventory
    assert '<th scope="col">From</th>' in home and re.search(r">Bełchatów[^<]*</a></td><td>[^<]+</td><td>CoCO2</td>", home)
    hot = json.loads((out / "assets" / "data" / "odiac.json").read_text())      # the optional map layer
    assert sorted(r[0] for r in hot["rows"]) == ["odiac-51.24N019.30E", "odiac-far"] and hot["rows"][0][3] == 4.0
    script = (out / "map.js").read_text()
    layer = re.search(r"var (\w+) = L.featureGroup\(\);\nAtlasMap.points\(\1, \"assets/data/odiac.json\"", script)
    assert layer and "ODIAC hot spots" in script and f"{layer.group(1)}.addTo(" not in script   # listed, off by default
    table = json.loads((out / "assets" / "data" / "sources.json").read_text())
    inventory = table["columns"].index("inventory")   # a lookup column (builder.render.datafiles)
    by_id = {r[0]: table["lookups"]["inventory"][r[inventory]] for r in table["rows"]}
    assert by_id["odiac-far"] == "ODIAC2025 2019-02 (1 km cells)"


def test_cluster_extent_is_the_plume_initial_width(tmp_path):
    from builder import physics
    from builder.attribute import PreparedSources

    width = physics.initial_width_km(np.array(["odiac_cluster", "city", "power_plant"]),
                                     np.array([2e6, 3e6, 1e7]), np.array([3.0, np.nan, np.nan]))
    assert width[0] == 3.0 and width[1] == pytest.approx(0.5 * physics.city_radius_km(3e6)) and width[2] == 0.0
    src = odiac.read_odiac(write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif"))
    prepared = PreparedSources(src, site_km=2.0)
    assert np.allclose(np.sort(prepared.rep_sigma0_km), np.sort(src["sigma_km"].to_numpy()))


def test_detect_with_inventory_odiac_on_the_command_line(simulated, tmp_path, capsys):  # noqa: F811
    from builder.cli import main

    root, cfg, sim = simulated
    tif = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1808.tif")
    out = tmp_path / "out"
    assert main(["--config", str(cfg), "detect", "--oco2", str(sim), "--out", str(out),
                 "--inventory", f"odiac:{tif}"]) == 0
    err = capsys.readouterr().err
    # the embedded CoCO2 catalogue holds Belchatow: its emission is subtracted from the plant's hot spot
    # (its Lodz hot spot holds a CoCO2 plant too; the Belchatow one keeps 0.93 Mt < 1 Mt and is dropped)
    assert "2 of 2 clusters held catalogued power plants: 9.47 Mt" in err and "1 clusters dropped" in err
    skipped = json.loads((out / "summary.json").read_text())["skipped"]
    assert [s["item"] for s in skipped if s["stage"] == "inventory"][-1] == "ODIAC clusters"


def test_gzipped_geotiff_reads_like_the_decompressed_one(tmp_path):
    tif = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif")
    gz = tmp_path / "gz" / (tif.name + ".gz")
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(tif.read_bytes()))
    assert np.array_equal(odiac.read_odiac_grid(gz).emission_t_yr, odiac.read_odiac_grid(tif).emission_t_yr)


def test_fetch_without_md5_list_records_sha256_and_a_bad_gzip_is_one_failed_file(server, tmp_path):  # noqa: F811
    cfg, bodies = _odiac_server(server, tmp_path)
    server["routes"]["/odiac2023/1km_tiff/2019/odiac2023_1km_checksum_2019.md5.txt"] = Route(b"", content_type="text/plain")
    out = tmp_path / "inv"
    report = fetch.fetch_odiac(cfg, "2019-02", out, progress=False)
    assert report.ok and "0 files" in report.notes[-1]
    prov = json.loads((out / "odiac2023_1km_excl_intl_1902.tif.gz.provenance.json").read_text())
    assert prov["md5_verified"] is False and prov["sha256"] == hashlib.sha256(bodies[prov["file"]][0]).hexdigest()
    n_requests = len(server["log"])           # a rerun verifies against the recorded sha256: no download
    again = fetch.fetch_odiac(cfg, "2019-02", out, progress=False)
    assert again.count("present") == 1 and [p for p, _, _ in server["log"][n_requests:]] == [
        "/odiac2023/1km_tiff/2019/odiac2023_1km_checksum_2019.md5.txt"]
    server["routes"]["/odiac2023/1km_tiff/2019/odiac2023_1km_excl_intl_1904.tif.gz"] = Route(b"not gzip at all")
    bad = fetch.fetch_odiac(cfg, "2019-04", out, progress=False)
    assert [r.status for r in bad.results] == ["failed"] and "not a complete gzip file" in bad.failed[0].error
    assert not list(out.glob("odiac2023_1km_excl_intl_1904.tif*"))


def test_a_city_inside_a_hot_spot_is_reported_not_subtracted(tmp_path):
    tif = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif")
    cities = tmp_path / "cities.csv"
    cities.write_text("name,lat,lon,population,country\nLodz,51.771,19.459,670000,POL\nQuito,-0.22,-78.51,2000000,ECU\n")
    skipped = Problems()
    src, _ = load_inventory(load_config(None, paths={"coco2": "", "extra_inventories": [
        f"cities:{cities}", f"odiac:{tif}"]}), skipped)
    hot = src[src["kind"] == "odiac_cluster"]
    assert len(hot) == 2 and hot["emission_t_yr"].max() == pytest.approx(9_559_483, rel=1e-5)  # nothing subtracted
    lines = [s.reason for s in skipped if s.item == "ODIAC clusters"]
    assert len(lines) == 1 and lines[0].startswith("1 clusters also hold a city of a cities inventory: both kept")


@pytest.mark.browser
def test_odiac_map_layer_starts_hidden_and_draws_on_demand(page, tmp_path):
    from builder.render import render_site
    from builder.render.serve import start

    out = tmp_path / "site"
    render_site(load_config(Path(__file__).resolve().parents[1] / "atlas.toml", site={"search": False}),
                _result_with_other_inventories(), out)
    server, stop = start(out, 0, lambda: None, [], interval=60)
    try:
        pg, watch = page
        pg.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        pg.wait_for_selector("#map_home_001[data-source-count]")
        label = pg.locator(".leaflet-control-layers-overlays label", has_text="ODIAC hot spots")
        assert label.count() == 1 and not label.locator("input").is_checked()
        assert pg.locator("#map_home_001[data-odiac-count]").count() == 0        # nothing drawn yet
        label.locator("input").check()
        pg.wait_for_selector('#map_home_001[data-odiac-count="2"]')               # both hot spots drawn
        watch.check()
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_blocks_that_do_not_divide_the_grid_lose_no_cell(tmp_path):
    path = write_odiac_tif(tmp_path / "odiac2023_1km_excl_intl_1902.tif", cells={(119, 119): 50.0, (0, 0): 70.0})
    full = odiac.read_odiac_grid(path)
    coarse = odiac.read_odiac_grid(path, max_cells=200)        # 120 / 9 -> 14 blocks, the last 3 cells wide
    assert coarse.emission_t_yr.shape == (14, 14)
    assert coarse.emission_t_yr.sum() == pytest.approx(full.emission_t_yr.sum(), rel=1e-9)
    assert coarse.emission_t_yr[-1, -1] == pytest.approx(full.emission_t_yr[117:, 117:].sum(), rel=1e-9)
    assert coarse.lat[0] == pytest.approx(52.0 - 4.5 * RES) and coarse.lon[0] == pytest.approx(19.0 + 4.5 * RES)
