"""Tests of ``atlas fetch`` (builder/fetch.py) against a local HTTP server only.

The server on 127.0.0.1 plays both NASA CMR (granule search, UMM-JSON) and the
file hosts: it serves real-format files (a Lite NetCDF from builder.litefmt,
a GPPD CSV zip, an EDGAR-like NetCDF zip), honours Range requests and can drop
a connection mid-body, demand a bearer token (401) or miss a file (404).
earthaccess runs for real (login from EARTHDATA_TOKEN, search_data, DataGranule,
Auth.get_session); only its Store, which contacts NASA and AWS when created, is
stubbed.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from builder import fetch
from builder.errors import EXIT_CREDENTIALS, EXIT_FETCH, EXIT_INPUT, UsageError
from builder.config import load_config
from builder.litefmt import lite_filename, write_lite
from builder.soundings import read_lite
from tests.factories import LAST_MODIFIED, fetch_args, fetch_config, Route

TOKEN = "good-token"


@pytest.fixture
def earthdata(monkeypatch, tmp_path):
    """A fresh earthaccess login state with no credentials anywhere; its Store (network on creation) stubbed."""
    import earthaccess
    import earthaccess.api

    monkeypatch.setattr(earthaccess, "_auth", earthaccess.Auth())
    monkeypatch.setattr(earthaccess, "__store__", None, raising=False)
    monkeypatch.setattr(earthaccess.api, "Store", lambda auth: None)
    for var in ("EARTHDATA_USERNAME", "EARTHDATA_PASSWORD", "EARTHDATA_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-such-netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


def _lite_bytes(tmp_path: Path, day: str, n: int = 40) -> tuple[str, bytes]:
    """A tiny real-format OCO-2 Lite file for ``day``: (file name, bytes)."""
    name = lite_filename(day)
    t0 = np.datetime64(f"{day}T12:00:00", "s")
    times = t0 + (np.arange(n) // 8).astype("timedelta64[s]")
    stamp = np.array([int(str(t).replace("-", "").replace("T", "").replace(":", "")) for t in times], dtype=np.int64)
    cols = {
        "sounding_id": stamp * 100 + np.arange(n) % 8 + 1,
        "latitude": np.linspace(10, 10.5, n), "longitude": np.linspace(20, 20.1, n),
        "time": times.astype("int64").astype(float), "xco2": np.full(n, 410.0), "xco2_uncertainty": np.full(n, 0.5),
        "xco2_quality_flag": np.zeros(n), "orbit": np.full(n, 21000), "footprint": np.arange(n) % 8 + 1,
        "operation_mode": np.zeros(n), "land_water_indicator": np.zeros(n),
        "windspeed_u_met": np.full(n, 3.0), "windspeed_v_met": np.full(n, 1.0), "altitude": np.zeros(n),
        "land_fraction": np.full(n, 100.0), "psurf_apriori_o2a": np.full(n, 1000.0), "psurf": np.full(n, 1000.0),
        "tcwv": np.full(n, 20.0), "tcwv_apriori": np.full(n, 20.0), "tcwv_uncertainty": np.full(n, 1.0),
    }
    path = write_lite(tmp_path / name, cols)
    data = path.read_bytes()
    path.unlink()
    return name, data


def _umm(name: str, url: str, day: str, size: int, md5: str) -> dict:
    """A CMR UMM-JSON granule record in the shape GES DISC publishes for Lite files."""
    return {
        "meta": {"concept-id": f"G{abs(hash(name)) % 10**10}-GES_DISC", "provider-id": "GES_DISC",
                 "native-id": f"OCO2_L2_Lite_FP.11.1r:{name}", "revision-id": 1},
        "umm": {
            "GranuleUR": f"OCO2_L2_Lite_FP.11.1r:{name}",
            "CollectionReference": {"ShortName": "OCO2_L2_Lite_FP", "Version": "11.1r"},
            "TemporalExtent": {"RangeDateTime": {"BeginningDateTime": f"{day}T00:00:00.000Z",
                                                 "EndingDateTime": f"{day}T23:59:59.999Z"}},
            "SpatialExtent": {"HorizontalSpatialDomain": {"Geometry": {"BoundingRectangles": [
                {"WestBoundingCoordinate": -180.0, "EastBoundingCoordinate": 180.0,
                 "NorthBoundingCoordinate": 90.0, "SouthBoundingCoordinate": -90.0}]}}},
            "DataGranule": {
                "DayNightFlag": "Unspecified", "ProductionDateTime": "2025-01-01T00:00:00.000Z",
                "ArchiveAndDistributionInformation": [{
                    "Name": name, "SizeInBytes": size, "Size": round(size / 2**20, 3), "SizeUnit": "MB",
                    "Format": "netCDF-4", "Checksum": {"Value": md5, "Algorithm": "MD5"}}]},
            "RelatedUrls": [
                {"URL": url, "Type": "GET DATA", "Description": "Download " + name},
                {"URL": f"s3://gesdisc-cumulus-prod-protected/OCO2_DATA/OCO2_L2_Lite_FP.11.1r/{name}",
                 "Type": "GET DATA VIA DIRECT ACCESS"},
                {"URL": f"https://opendap.example/{name}", "Type": "USE SERVICE API", "Subtype": "OPENDAP DATA"},
            ],
        },
    }


def _publish_lite(server, tmp_path, days, *, token=TOKEN, bad_md5=(), missing=()):
    """Serve Lite files for ``days`` and list them in the fake CMR; returns {name: bytes}."""
    files = {}
    for day in days:
        name, data = _lite_bytes(tmp_path, day)
        path = f"/data/OCO2_DATA/OCO2_L2_Lite_FP.11.1r/{day[:4]}/{name}"
        if day not in missing:
            server["routes"][path] = Route(data, token=token)
        md5 = "0" * 32 if day in bad_md5 else hashlib.md5(data).hexdigest()
        server["granules"].append(_umm(name, server["base"] + path, day, len(data), md5))
        files[name] = data
    return files


def _file_requests(server) -> list:
    return [entry for entry in server["log"] if entry[0].startswith("/data/")]


DAYS = ["2018-08-01", "2018-08-02", "2018-08-03"]


# ------------------------------------------------------------------------------- OCO via earthaccess

def test_oco_fetch_with_earthaccess_downloads_verified_lite_files_then_nothing(server, earthdata, tmp_path):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    files = _publish_lite(server, tmp_path, DAYS)
    out = tmp_path / "oco2"
    report = fetch.fetch_oco("OCO-2", "2018-08-01", "2018-08-03", out, fetch_config(server), progress=False)
    assert report.ok and report.count("downloaded") == 3, report.results
    for name, data in files.items():
        assert (out / name).read_bytes() == data
        assert read_lite(out / name)[0].n > 0           # a readable Lite file
    assert not list(out.glob("*.part"))
    search = [q for p, _, q in server["log"] if p == "/search/granules.umm_json"]
    assert search and search[-1]["short_name"] == ["OCO2_L2_Lite_FP"] and search[-1]["version"] == ["11.1r"]
    assert search[-1]["temporal[]"] == ["2018-08-01T00:00:00Z,2018-08-03T23:59:59Z"]
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, h, _ in _file_requests(server))
    n_requests = len(_file_requests(server))
    again = fetch.fetch_oco("OCO-2", "2018-08", None, out, fetch_config(server), progress=False)
    assert again.ok and again.count("present") == 3 and again.count("downloaded") == 0
    assert len(_file_requests(server)) == n_requests    # idempotent: no file requested again


def test_interrupted_download_is_resumed_with_a_range_request(server, earthdata, tmp_path):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    files = _publish_lite(server, tmp_path, DAYS[:1])
    (name, data), = files.items()
    route = next(iter(server["routes"].values()))
    route.cut = 1
    out = tmp_path / "oco2"
    first = fetch.fetch_oco("OCO-2", DAYS[0], None, out, fetch_config(server), progress=False)
    assert not first.ok and "connection lost after" in first.failed[0].error
    part = out / (name + ".part")
    assert not (out / name).exists() and 0 < part.stat().st_size < len(data)
    offset = part.stat().st_size
    second = fetch.fetch_oco("OCO-2", DAYS[0], None, out, fetch_config(server), progress=False)
    assert second.ok and second.count("downloaded") == 1
    assert _file_requests(server)[-1][1].get("Range") == f"bytes={offset}-"
    assert (out / name).read_bytes() == data and not part.exists()


def test_dropped_connection_is_retried_within_one_run(server, earthdata, tmp_path):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    files = _publish_lite(server, tmp_path, DAYS[:1])
    next(iter(server["routes"].values())).cut = 1
    out = tmp_path / "oco2"
    report = fetch.fetch_oco("OCO-2", DAYS[0], None, out, fetch_config(server, retries=2), progress=False)
    assert report.ok and report.results[0].nbytes == len(next(iter(files.values())))
    assert len(_file_requests(server)) == 2


def test_checksum_mismatch_and_404_fail_alone_and_exit_nonzero(server, earthdata, tmp_path, capsys):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    files = _publish_lite(server, tmp_path, DAYS, bad_md5=[DAYS[0]], missing=[DAYS[1]])
    names = sorted(files)
    out = tmp_path / "oco2"
    code = fetch.main_fetch(fetch_args("oco2", "--start", DAYS[0], "--end", DAYS[2], "--out", str(out)), fetch_config(server))
    err = capsys.readouterr().err
    assert code == EXIT_FETCH
    assert f"FAILED {names[0]}: MD5 checksum mismatch" in err and f"FAILED {names[1]}: HTTP 404" in err
    assert not (out / names[0]).exists() and not (out / (names[0] + ".part")).exists()
    assert (out / names[2]).read_bytes() == files[names[2]]
    assert "Traceback" not in err


def test_rejected_token_gives_a_clear_credentials_error(server, earthdata, tmp_path, capsys):
    earthdata.setenv("EARTHDATA_TOKEN", "expired-token")
    _publish_lite(server, tmp_path, DAYS)
    code = fetch.main_fetch(fetch_args("oco2", "--start", DAYS[0], "--end", DAYS[2], "--out", str(tmp_path / "o"),
                                  "--threads", "1"), fetch_config(server, retries=3))
    out, err = capsys.readouterr()
    assert code == EXIT_CREDENTIALS and "HTTP 401" in err and "NASA GESDISC DATA ARCHIVE" in err
    assert err.count("FAILED") == 1 and "0 downloaded, 0 already present, 3 failed" in out
    assert len(_file_requests(server)) == 1             # not retried, and the other files not attempted


def test_missing_credentials_stop_before_any_request(server, earthdata, tmp_path, capsys):
    _publish_lite(server, tmp_path, DAYS[:1])
    (tmp_path / "netrc").write_text("machine example.org login a password b\n")
    earthdata.setenv("NETRC", str(tmp_path / "netrc"))   # a netrc without urs.earthdata.nasa.gov
    code = fetch.main_fetch(fetch_args("oco3", "--start", "2021-12"), fetch_config(server))
    err = capsys.readouterr().err
    assert code == EXIT_CREDENTIALS and len(err.strip().splitlines()) == 1
    assert "no Earthdata credentials" in err and "EARTHDATA_USERNAME" in err and "Traceback" not in err
    assert server["log"] == []


def test_no_granules_is_not_an_error_and_bad_arguments_are_one_line_errors(server, earthdata, tmp_path, capsys):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    cfg = fetch_config(server)
    assert fetch.main_fetch(fetch_args("oco2", "--start", "2018-08-01", "--out", str(tmp_path)), cfg) == 0
    assert "no OCO2_L2_Lite_FP v11.1r granules from 2018-08-01 to 2018-08-01" in capsys.readouterr().err
    assert fetch.main_fetch(fetch_args("oco2"), cfg) == EXIT_INPUT
    assert fetch.main_fetch(fetch_args("oco2", "--start", "2018-13-01"), cfg) == EXIT_INPUT
    assert fetch.main_fetch(fetch_args("oco2", "--start", "2018-08-05", "--end", "2018-08-01"), cfg) == EXIT_INPUT
    assert fetch.main_fetch(fetch_args("inventories", "--only", "odiac"), cfg) == EXIT_INPUT
    assert fetch.main_fetch(fetch_args("oco2", "--start", "2018-08", "--threads", "0"), cfg) == EXIT_INPUT
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("atlas fetch: ") for line in lines)
    assert "--start" in lines[0] and "bad date" in lines[1] and "before --start" in lines[2]
    assert "unknown inventory 'odiac'" in lines[3] and "--threads" in lines[4]


def test_date_range_and_collections():
    assert fetch.date_range("2018-08") == ("2018-08-01", "2018-08-31")
    assert fetch.date_range("2020-02-03", "2020-03") == ("2020-02-03", "2020-03-31")
    assert fetch.collection("OCO-3", load_config(None).fetch) == ("OCO3_L2_Lite_FP", "11r")
    with pytest.raises(UsageError):
        fetch.collection("GOSAT", load_config(None).fetch)


# ------------------------------------------------------------------------------- inventories

def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _inventory_server(server, tmp_path):
    """Serve a GPPD-like CSV zip and an EDGAR-like emissions NetCDF zip; returns (cfg keys, bodies)."""
    import netCDF4

    csv = ("country,country_long,name,gppd_idnr,capacity_mw,latitude,longitude,primary_fuel\n"
           "POL,Poland,Belchatow,WRI1019887,5102,51.266,19.331,Coal\n"
           "DEU,Germany,Niederaussem,WRI1005110,3827,50.996,6.671,Coal\n").encode()
    gppd = _zip({"global_power_plant_database.csv": csv, "README.txt": b"GPPD v1.3.0"})
    nc = tmp_path / "v8.0_FT2022_GHG_CO2_2021_TOTALS_emi.nc"
    with netCDF4.Dataset(nc, "w") as ds:
        ds.createDimension("lat", 2), ds.createDimension("lon", 3)
        ds.createVariable("lat", "f4", ("lat",))[:] = [51.25, 51.35]
        ds.createVariable("lon", "f4", ("lon",))[:] = [19.25, 19.35, 19.45]
        v = ds.createVariable("emissions", "f4", ("lat", "lon"))
        v.units = "Tonnes"
        v[:] = np.arange(6, dtype="f4").reshape(2, 3)
    edgar = _zip({nc.name: nc.read_bytes()})
    server["routes"]["/manual/global_power_plant_database_v_1_3.zip"] = Route(gppd, content_type="application/zip")
    server["routes"]["/EDGAR/CO2/TOTALS/v8.0_FT2022_GHG_CO2_2021_TOTALS_emi_nc.zip"] = Route(edgar)
    keys = {"gppd_url": server["base"] + "/manual/global_power_plant_database_v_1_3.zip",
            "gppd_sha256": hashlib.sha256(gppd).hexdigest(), "edgar_year": 2021,
            "edgar_url": server["base"] + "/EDGAR/CO2/TOTALS/v8.0_FT2022_GHG_CO2_{year}_TOTALS_emi_nc.zip"}
    return keys, {"gppd": gppd, "edgar": edgar}


def test_inventories_are_verified_with_provenance_and_fetched_once(server, tmp_path, capsys):
    keys, bodies = _inventory_server(server, tmp_path)
    out = tmp_path / "inv"
    cfg = fetch_config(server, **keys)
    assert fetch.main_fetch(fetch_args("inventories", "--out", str(out)), cfg) == 0
    err = capsys.readouterr().err
    edgar_sha = hashlib.sha256(bodies["edgar"]).hexdigest()
    assert f"edgar: sha256 not pinned ([fetch] edgar_sha256); computed {edgar_sha}" in err
    gppd = out / "global_power_plant_database_v_1_3.zip"
    assert zipfile.ZipFile(gppd).read("global_power_plant_database.csv").startswith(b"country,")
    prov = json.loads((out / (gppd.name + ".provenance.json")).read_text())
    assert prov["source_url"] == keys["gppd_url"] and prov["licence"] == "CC BY 4.0"
    assert prov["sha256"] == keys["gppd_sha256"] and prov["sha256_pinned"] is True
    assert prov["http_last_modified"] == LAST_MODIFIED and prov["last_modified_utc"] == "2021-06-02T10:20:30+00:00"
    assert "Global Power Plant Database" in prov["attribution"]
    eprov = json.loads((out / "v8.0_FT2022_GHG_CO2_2021_TOTALS_emi_nc.zip.provenance.json").read_text())
    assert eprov["sha256"] == edgar_sha and eprov["sha256_pinned"] is False and "EDGAR" in eprov["attribution"]
    n_requests = len(server["log"])
    again = fetch.fetch_inventories(cfg, out, progress=False)
    assert again.ok and again.count("present") == 2 and len(server["log"]) == n_requests


def test_inventory_with_wrong_pinned_sha256_is_not_published(server, tmp_path):
    keys, _ = _inventory_server(server, tmp_path)
    out = tmp_path / "inv"
    cfg = fetch_config(server, **{**keys, "gppd_sha256": "ab" * 32})
    report = fetch.fetch_inventories(cfg, out, progress=False)
    assert [r.status for r in report.results] == ["failed", "downloaded"]
    assert "sha256 checksum mismatch" in report.failed[0].error
    assert not list(out.glob("global_power_plant*"))


def test_resume_restarts_when_the_server_ignores_range(server, tmp_path):
    keys, bodies = _inventory_server(server, tmp_path)
    route = server["routes"]["/manual/global_power_plant_database_v_1_3.zip"]
    route.cut, route.ignore_range = 1, True
    out = tmp_path / "inv"
    report = fetch.fetch_inventories(fetch_config(server, **keys, retries=1), out, ["gppd"], progress=False)
    assert report.ok
    assert (out / "global_power_plant_database_v_1_3.zip").read_bytes() == bodies["gppd"]


def test_progress_bar_on_a_terminal_and_log_lines_otherwise(server, tmp_path, capsys):
    keys, _ = _inventory_server(server, tmp_path)
    cfg = fetch_config(server, **keys)
    fetch.fetch_inventories(cfg, tmp_path / "a", ["gppd"], progress=False)
    assert "inventories: downloaded global_power_plant_database_v_1_3.zip" in capsys.readouterr().err
    fetch.fetch_inventories(cfg, tmp_path / "b", ["gppd"], progress=True)
    err = capsys.readouterr().err
    assert re.search(r"inventories: [0-9.]+k?B \[.*B/s\]", err)


def _fake_edl(earthdata, code: int, token: str = TOKEN):
    """Answer earthaccess's token request (the one call it makes to urs.earthdata.nasa.gov) locally."""
    import earthaccess
    import requests

    def find_or_create_token(self):
        r = requests.Response()
        r.status_code = code
        r._content = json.dumps({"access_token": token, "token_type": "Bearer",
                                 "expiration_date": "12/31/2099"} if code == 200
                                else {"error": "invalid_credentials"}).encode()
        return r

    earthdata.setattr(earthaccess.Auth, "_find_or_create_token", find_or_create_token)


def test_netrc_credentials_are_used_when_the_environment_has_none(server, earthdata, tmp_path):
    _fake_edl(earthdata, 200)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine urs.earthdata.nasa.gov login alice password secret\n")
    netrc.chmod(0o600)
    earthdata.setenv("NETRC", str(netrc))
    files = _publish_lite(server, tmp_path, DAYS[:2])
    report = fetch.fetch_oco("OCO-2", DAYS[0], DAYS[1], tmp_path / "o", fetch_config(server), progress=False)
    assert report.ok and report.count("downloaded") == len(files)


def test_rejected_password_is_a_one_line_credentials_error(server, earthdata, tmp_path, capsys):
    _fake_edl(earthdata, 401)
    earthdata.setenv("EARTHDATA_USERNAME", "alice")
    earthdata.setenv("EARTHDATA_PASSWORD", "wrong")
    code = fetch.main_fetch(fetch_args("oco2", "--start", "2018-08"), fetch_config(server))
    err = capsys.readouterr().err
    assert code == EXIT_CREDENTIALS and err.count("\n") == 1 and "rejected the credentials from environment" in err
    assert server["log"] == []


def test_a_corrupt_existing_file_is_replaced(server, earthdata, tmp_path):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    (name, data), = _publish_lite(server, tmp_path, DAYS[:1]).items()
    out = tmp_path / "oco2"
    out.mkdir()
    (out / name).write_bytes(b"\x89HDF truncated")
    report = fetch.fetch_oco("OCO-2", DAYS[0], None, out, fetch_config(server), progress=False)
    assert report.count("downloaded") == 1 and (out / name).read_bytes() == data


def test_a_complete_part_file_is_published_without_downloading_again(server, earthdata, tmp_path):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    (name, data), = _publish_lite(server, tmp_path, DAYS[:1]).items()
    out = tmp_path / "oco2"
    out.mkdir()
    (out / (name + ".part")).write_bytes(data)    # a run killed between the last byte and the rename
    report = fetch.fetch_oco("OCO-2", DAYS[0], None, out, fetch_config(server), progress=False)
    assert report.ok and report.results[0].nbytes == 0 and (out / name).read_bytes() == data
    assert _file_requests(server)[-1][1].get("Range") == f"bytes={len(data)}-"


def test_an_html_login_page_is_not_taken_for_the_file(server, earthdata, tmp_path):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    (name, _), = _publish_lite(server, tmp_path, DAYS[:1]).items()
    route = next(iter(server["routes"].values()))
    route.body, route.content_type = b"<html>Approve application</html>", "text/html; charset=utf-8"
    report = fetch.fetch_oco("OCO-2", DAYS[0], None, tmp_path / "o", fetch_config(server), progress=False)
    assert "HTML page instead of the file" in report.failed[0].error
    assert not (tmp_path / "o" / name).exists()


def test_size_is_checked_when_cmr_gives_no_checksum(server, earthdata, tmp_path):
    earthdata.setenv("EARTHDATA_TOKEN", TOKEN)
    files = _publish_lite(server, tmp_path, DAYS[:2])
    for granule in server["granules"]:
        info = granule["umm"]["DataGranule"]["ArchiveAndDistributionInformation"][0]
        del info["Checksum"]
    server["granules"][0]["umm"]["DataGranule"]["ArchiveAndDistributionInformation"][0]["SizeInBytes"] += 1
    report = fetch.fetch_oco("OCO-2", DAYS[0], DAYS[1], tmp_path / "o", fetch_config(server), progress=False)
    assert [r.status for r in report.results] == ["failed", "downloaded"]
    name = sorted(files)[0]
    assert report.failed[0].error == f"size {len(files[name])} B, expected {len(files[name]) + 1} B; file not kept"


@pytest.mark.filterwarnings("ignore::FutureWarning")  # earthaccess: DataGranule.size
def test_granule_files_reads_size_and_checksum_from_umm():
    from earthaccess.results import DataGranule

    rec = _umm("a.nc4", "https://h/x/a.nc4", "2018-08-01", 10, "ab" * 16)
    info = rec["umm"]["DataGranule"]["ArchiveAndDistributionInformation"][0]
    (f,) = fetch.granule_files([DataGranule(rec)])
    assert (f.url, f.name, f.size, f.checksum, f.algorithm) == ("https://h/x/a.nc4", "a.nc4", 10, "ab" * 16, "MD5")
    del info["SizeInBytes"]                                  # "Size" in MB is rounded: not an exact size
    assert fetch.granule_files([DataGranule(rec)])[0].size is None
    info.update(Size=12, SizeUnit="B")
    assert fetch.granule_files([DataGranule(rec)])[0].size == 12


def test_atlas_fetch_command_line(server, tmp_path, capsys):
    from builder.cli import main

    keys, _ = _inventory_server(server, tmp_path)
    toml = "[fetch]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items()) + 'inventories = "inv"\n'
    (tmp_path / "atlas.toml").write_text(toml)
    assert main(["--config", str(tmp_path / "atlas.toml"), "fetch", "inventories", "--only", "gppd"]) == 0
    assert (tmp_path / "inv" / "global_power_plant_database_v_1_3.zip").is_file()
    assert "inventories: 1 downloaded, 0 already present, 0 failed" in capsys.readouterr().out


def test_half_set_environment_is_named(server, earthdata, capsys):
    earthdata.setenv("EARTHDATA_USERNAME", "alice")
    assert fetch.main_fetch(fetch_args("oco2", "--start", "2018-08"), fetch_config(server)) == EXIT_CREDENTIALS
    assert "EARTHDATA_PASSWORD is not set" in capsys.readouterr().err and server["log"] == []


def test_ctrl_c_stops_the_run_and_starts_no_other_file(server, tmp_path):
    keys, _ = _inventory_server(server, tmp_path)
    started = []

    class Interrupted:
        def get(self, url, **kw):
            started.append(url)
            raise KeyboardInterrupt

        def close(self):
            pass

    files = [fetch.RemoteFile(f"{server['base']}/f{i}", f"f{i}") for i in range(6)]
    with pytest.raises(KeyboardInterrupt):
        fetch.download_files(files, tmp_path / "o", fetch_config(server).fetch, session_factory=Interrupted, threads=2,
                             progress=False)
    assert 1 <= len(started) <= 2 and not list((tmp_path / "o").iterdir())
    started.clear()
    with pytest.raises(KeyboardInterrupt):
        fetch.download_files(files, tmp_path / "o", fetch_config(server).fetch, session_factory=Interrupted, threads=1,
                             progress=False)
    assert len(started) == 1
