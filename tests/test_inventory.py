"""Tests of builder.inventory: every loader on small real-format files, invalid-row
reporting, emission at a UTC time with local-time profiles, and the embedded
CoCO2 catalogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builder.errors import Problems
from builder import inventory as inv
from builder.config import load_config
from builder.physics import SECONDS_PER_YEAR
from builder.soundings import InputError
from builder.names import NAME_COLUMNS
from builder.tables import SOURCE_COLUMNS

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "dataset" / "coco2"


def _csv(path: Path, header: list[str], rows: list[list]) -> Path:
    """Write a CSV with every field quoted, like the CoCO2 files."""
    def q(v):
        return '"' + str(v).replace('"', '""') + '"'
    lines = [",".join(q(h) for h in header)] + [",".join(q(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _profiles(folder: Path, month=None, week=None, hour=None) -> None:
    """CoCO2-format profile tables with a flat FM/FW/FH_001 and optional test rows."""
    def table(name, idcol, cols, total, extra):
        prefix = {"ID_MonthFact": "FM", "ID_WeekFact": "FW", "ID_HourFact": "FH"}[idcol]
        rows = [[f"{prefix}_001"] + [1.0] * len(cols) + [total]]
        rows += [[pid] + list(vals) + [sum(vals)] for pid, vals in (extra or {}).items()]
        _csv(folder / f"coco2_ps_{name}_profiles_v1.1.csv", [idcol] + cols + ["tot"], rows)
    table("monthly", "ID_MonthFact", inv.MONTH_COLUMNS, 12, month)
    table("weekly", "ID_WeekFact", inv.WEEK_COLUMNS, 7, week)
    table("hourly", "ID_HourFact", inv.HOUR_COLUMNS, 24, hour)


CAT_HEADER = ["ID", "ISO3", "fuel", "longitude", "latitude", "co2_emis_ty", "nox_emis_ty", "sox_emis_ty",
              "co_emis_ty", "ch4_emis_ty", "ID_MonthFact", "ID_WeekFact", "ID_HourFact", "ID_VertProf"]


def _cat_row(pid, iso, fuel, lon, lat, co2, fm="FM_001", fw="FW_001", fh="FH_001"):
    return [pid, iso, fuel, lon, lat, co2, 1, 1, 1, 1, fm, fw, fh, "VP_00001"]


# ----------------------------------------------------------------- emission at time

def test_emission_kg_s_local_time_across_date_boundary(tmp_path):
    # Jan 0.5, Feb 1.5 (sum 12); Mon 1.4, Tue 1.2, Sun 0.4 (sum 7); H0 0.5, H1 0.5, H23 2 (sum 24)
    month = {"FM_T": [0.5, 1.5] + [1.0] * 10}
    week = {"FW_T": [1.4, 1.2, 1.0, 1.0, 1.0, 1.0, 0.4]}
    hour = {"FH_T": [0.5, 0.5] + [1.0] * 21 + [2.0]}
    _profiles(tmp_path, month, week, hour)
    _csv(tmp_path / "coco2_ps_catalogue_v1.1.csv", CAT_HEADER, [
        _cat_row("CoCO2_00001", "AUS", "coal", 150.0, -30.0, 3.15576e6, "FM_T", "FW_T", "FH_T"),
        _cat_row("CoCO2_00002", "USA", "coal", -150.0, 60.0, 3.15576e6, "FM_T", "FW_T", "FH_T"),
        _cat_row("CoCO2_00003", "GBR", "natural gas", 0.0, 51.0, 3.15576e6, "FM_001", "FW_001", "FH_001"),
    ])
    skipped = Problems()
    sources, profiles = inv.read_coco2(tmp_path, skipped)
    assert skipped == []
    annual_kg_s = 3.15576e6 * 1000.0 / SECONDS_PER_YEAR  # = 100 kg/s
    # Monday 2018-12-31 14:30 UTC. +150 deg = +10 h -> Tue 2019-01-01 00:30 local: Jan, Tue, H0.
    # -150 deg = -10 h -> Mon 2018-12-31 04:30 local: Dec, Mon, H4.
    t = pd.Timestamp("2018-12-31T14:30:00Z")
    got = profiles.emission_kg_s(sources, t)
    expected = annual_kg_s * np.array([0.5 * 1.2 * 0.5, 1.0 * 1.4 * 1.0, 1.0])
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # A time array aligned with the sources (naive = UTC), and the bound method used by other stages.
    times = pd.to_datetime(["2019-02-03T13:10", "2018-12-31T14:30", "2018-06-01T00:00"])
    got2 = profiles.emission_kg_s(sources, times)
    # +10 h -> Sun 2019-02-03 23:10 local: Feb 1.5, Sun 0.4, H23 2.0
    np.testing.assert_allclose(got2, annual_kg_s * np.array([1.5 * 0.4 * 2.0, 1.4, 1.0]), rtol=1e-9)
    with pytest.raises(ValueError):
        profiles.emission_kg_s(sources, times[:2])


def test_flat_profiles_for_tables_without_profile_columns():
    src = pd.DataFrame({"latitude": [10.0], "longitude": [20.0], "emission_t_yr": [SECONDS_PER_YEAR / 1000.0]})
    got = inv.TemporalProfiles.flat().emission_kg_s(src, "2020-03-01T10:00Z")
    np.testing.assert_allclose(got, [1.0])


# ----------------------------------------------------------------- CoCO2 loader

def test_coco2_invalid_rows_are_reported(tmp_path):
    _profiles(tmp_path, month={"FM_BAD": [2.0] * 12})  # sums to 24: rejected
    _csv(tmp_path / "coco2_ps_catalogue_v1.1.csv", CAT_HEADER, [
        _cat_row("CoCO2_00001", "POL", "coal", 19.3, 51.3, 1.0e6),
        _cat_row("CoCO2_00002", "POL", "coal", 19.3, 95.0, 1.0e6),       # row 3: latitude
        _cat_row("CoCO2_00003", "POL", "coal", "abc", 51.0, 1.0e6),      # row 4: longitude
        _cat_row("CoCO2_00004", "POL", "coal", 19.0, 51.0, -5),          # row 5: negative
        _cat_row("CoCO2_00005", "POL", "coal", 19.0, 51.0, ""),          # row 6: missing
        _cat_row("CoCO2_00001", "POL", "oil", 18.0, 50.0, 2.0e6),        # row 7: duplicate
        _cat_row("CoCO2_00007", "DEU", "natural gas", 8.0, 50.0, 3.0e5, fm="FM_BAD"),  # row 8: flat month
    ])
    skipped = Problems()
    sources, profiles = inv.read_coco2(tmp_path, skipped)
    assert list(sources.columns) == SOURCE_COLUMNS
    assert sources["source_id"].tolist() == ["coco2-00001", "coco2-00007"]
    assert sources["name"].tolist() == ["Coal power plant CoCO2_00001 (POL)",
                                        "Natural gas power plant CoCO2_00007 (DEU)"]
    assert sources["profile_month"].tolist() == ["FM_001", inv.FLAT]
    items = {s.item: s.reason for s in skipped}
    assert all(s.stage == "inventory" for s in skipped)
    cat = "coco2_ps_catalogue_v1.1.csv"
    assert "latitude" in items[f"{cat}:row 3"]
    assert "longitude" in items[f"{cat}:row 4"]
    assert "negative" in items[f"{cat}:row 5"]
    assert "missing" in items[f"{cat}:row 6"]
    assert "duplicate" in items[f"{cat}:row 7"] and "row 2" in items[f"{cat}:row 7"]
    assert "flat" in items[f"{cat}:row 8"]
    assert any(k.startswith("coco2_ps_monthly_profiles_v1.1.csv:row") and "FM_BAD" in v for k, v in items.items())
    assert "FM_BAD" not in profiles.month.index


def test_coco2_missing_folder_or_columns(tmp_path):
    with pytest.raises(InputError, match="not found"):
        inv.read_coco2(tmp_path / "nope")
    _profiles(tmp_path)
    _csv(tmp_path / "coco2_ps_catalogue_v1.1.csv", ["ID", "latitude"], [["CoCO2_1", 1.0]])
    with pytest.raises(InputError, match="missing columns"):
        inv.read_coco2(tmp_path)


def test_embedded_catalogue():
    skipped = Problems()
    sources, profiles = inv.read_coco2(EMBEDDED, skipped, with_height=True)
    assert skipped == []
    assert len(sources) == 16461
    assert sources["source_id"].is_unique
    assert list(sources.columns[: len(SOURCE_COLUMNS)]) == SOURCE_COLUMNS
    total_gt = sources["emission_t_yr"].sum() / 1e9
    assert 13.4 < total_gt < 13.6
    top = sources.loc[sources["emission_t_yr"].idxmax()]
    assert top["country"] == "POL" and top["fuel"] == "coal"
    assert 37.5e6 < top["emission_t_yr"] < 39.5e6  # Belchatow, ~38 Mt/yr in 2018
    assert abs(top["latitude"] - 51.27) < 0.1 and abs(top["longitude"] - 19.33) < 0.1
    assert sources["emission_height_m"].between(0, 1600).all()
    assert set(sources["kind"]) == {"power_plant"}
    assert (sources["inventory_year"] == 2018).all()
    # Over a whole year of hours the profiles average to ~1 (monthly factors x days differ slightly).
    big = sources.nlargest(20, "emission_t_yr")
    hours = pd.date_range("2018-01-01", "2018-12-31T23:00", freq="h", tz="UTC")
    rep = big.loc[big.index.repeat(len(hours))]
    rate = profiles.emission_kg_s(rep, np.tile(hours, len(big))).reshape(len(big), len(hours))
    ratio = rate.mean(axis=1) / (big["emission_t_yr"].to_numpy() * 1000 / SECONDS_PER_YEAR)
    assert np.all(np.abs(ratio - 1) < 0.03), ratio
    assert rate.std(axis=1).min() > 0  # real, non-flat profiles


def test_compact_copy_matches_original(tmp_path):
    original = Path("/tmp/ddeq/ddeq/data/coco2_ps_database")
    if not original.is_dir():
        pytest.skip("original CoCO2 v1.1 folder (ddeq 1.1 wheel) not unpacked")
    inv.write_compact_coco2(original, tmp_path)
    a, _ = inv.read_coco2(tmp_path)
    b, _ = inv.read_coco2(original)
    assert (a["source_id"] == b["source_id"]).all()
    np.testing.assert_allclose(a["emission_t_yr"], b["emission_t_yr"], atol=0.06)
    np.testing.assert_allclose(a["latitude"], b["latitude"], atol=1e-5)
    assert [p.read_bytes() for p in sorted(tmp_path.iterdir())] == \
        [p.read_bytes() for p in sorted(EMBEDDED.glob("coco2_ps_*"))]  # reproducible embedded copy


# ----------------------------------------------------------------- GPPD

GPPD_HEADER = (["country", "country_long", "name", "gppd_idnr", "capacity_mw", "latitude", "longitude",
                "primary_fuel", "other_fuel1", "other_fuel2", "other_fuel3", "commissioning_year", "owner",
                "source", "url", "geolocation_source", "wepp_id", "year_of_capacity_data"]
               + [f"generation_gwh_{y}" for y in range(2013, 2020)] + ["generation_data_source"]
               + [f"estimated_generation_gwh_{y}" for y in range(2013, 2018)]
               + [f"estimated_generation_note_{y}" for y in range(2013, 2018)])


def _gppd_row(idnr, name, fuel, lat, lon, cap, gen=None, est=None, country="POL"):
    gen = gen or {}
    est = est or {}
    row = {h: "" for h in GPPD_HEADER}
    row.update(country=country, country_long="Poland", name=name, gppd_idnr=idnr, capacity_mw=cap,
               latitude=lat, longitude=lon, primary_fuel=fuel, year_of_capacity_data=2019)
    row.update({f"generation_gwh_{y}": v for y, v in gen.items()})
    row.update({f"estimated_generation_gwh_{y}": v for y, v in est.items()})
    return [row[h] for h in GPPD_HEADER]


def test_read_gppd(tmp_path):
    path = _csv(tmp_path / "global_power_plant_database.csv", GPPD_HEADER, [
        _gppd_row("WRI1", "Big <b>Coal</b>\x07 Plant", "Coal", 51.2, 19.3, 5000, gen={2017: 30000, 2019: 1000}),
        _gppd_row("WRI2", "Gas CCGT", "Gas", 52.0, 20.0, 800, gen={2019: -5}, est={2016: 2000, 2017: 1000}),
        _gppd_row("WRI3", "Oil peaker", "Oil", 53.0, 21.0, 100),
        _gppd_row("WRI4", "Dam", "Hydro", 50.0, 20.0, 300, gen={2019: 900}),
        _gppd_row("WRI5", "No coords", "Coal", "", 20.0, 300, gen={2019: 900}),
        _gppd_row("WRI6", "No capacity", "Coal", 50.0, 20.0, "n/a"),
        _gppd_row("WRI1", "Dup id", "Coal", 50.0, 20.0, 300, gen={2019: 900}),
    ])
    skipped = Problems()
    df = inv.read_gppd(path, skipped)
    assert list(df.columns) == SOURCE_COLUMNS
    assert df["source_id"].tolist() == ["gppd-WRI1", "gppd-WRI2", "gppd-WRI3"]
    coal, gas, oil = df["emission_t_yr"].to_numpy()
    assert 0.85e6 < coal < 1.0e6          # latest year (2019: 1000 GWh) x ~0.9 t/MWh
    assert 0.4e6 < gas < 0.5e6            # negative 2019 ignored -> estimated 2017 (1000 GWh) x ~0.45
    assert df["inventory_year"].tolist() == [2019, 2017, 2019]
    # capacity route: 100 MW x 0.20 x 8766 h = 175 GWh x ~0.8 t/MWh
    assert 0.12e6 < oil < 0.16e6
    assert df["name"].iat[0] == "Big <b>Coal</b> Plant"   # HTML kept, control character stripped
    assert df["fuel"].tolist() == ["coal", "natural gas", "oil"]
    reasons = {s.item: s.reason for s in skipped}
    assert "non-fossil" in reasons["global_power_plant_database.csv"] and "hydro: 1" in reasons["global_power_plant_database.csv"]
    assert "latitude" in reasons["global_power_plant_database.csv:row 6"]
    assert "capacity_mw" in reasons["global_power_plant_database.csv:row 7"]
    assert "duplicate" in reasons["global_power_plant_database.csv:row 8"]


# ----------------------------------------------------------------- GCPT

GCPT_HEADER = ["GEM unit/phase ID", "GEM location ID", "Country/Area", "Plant name", "Unit name", "Owner",
               "Capacity (MW)", "Status", "Start year", "Latitude", "Longitude",
               "Annual CO2 (million tonnes / annum)"]
GCPT_ROWS = [
    ["G1", "L100", "Poland", "Bełchatów power station", "1", "PGE", 370, "operating", 1981, 51.266, 19.33, 2.5],
    ["G2", "L100", "Poland", "Bełchatów power station", "2", "PGE", 370, "Operating", 1982, 51.266, 19.33, 2.7],
    ["G3", "L100", "Poland", "Bełchatów power station", "3", "PGE", 370, "retired", 1982, 51.266, 19.33, 2.7],
    ["G4", "L200", "India", "Some plant", "1", "X", 600, "operating", 2010, 24.0, 82.0, 4.0],
    ["G5", "L200", "India", "Some plant", "2", "X", 600, "operating", 2011, 24.0, 82.0, "n/a"],
    ["G6", "", "India", "Orphan", "1", "X", 600, "operating", 2011, 24.0, 82.0, 1.0],
]


def _check_gcpt(df, skipped, fname):
    assert list(df.columns) == SOURCE_COLUMNS
    df = df.set_index("source_id")
    assert sorted(df.index) == ["gcpt-L100", "gcpt-L200"]
    assert df.loc["gcpt-L100", "emission_t_yr"] == pytest.approx(5.2e6)   # 2 operating units
    assert df.loc["gcpt-L200", "emission_t_yr"] == pytest.approx(4.0e6)
    assert df.loc["gcpt-L100", "name"] == "Bełchatów power station"
    assert df.loc["gcpt-L100", "country"] == "Poland"
    reasons = {s.item: s.reason for s in skipped}
    assert "retired: 1" in reasons[fname]
    assert "emission" in reasons[f"{fname}:row 6"]
    assert "location" in reasons[f"{fname}:row 7"]


def test_read_gcpt_csv(tmp_path):
    path = _csv(tmp_path / "gcpt.csv", GCPT_HEADER, GCPT_ROWS)
    skipped = Problems()
    _check_gcpt(inv.read_gcpt(path, skipped), skipped, "gcpt.csv")


def test_read_gcpt_xlsx(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "Global-Coal-Plant-Tracker.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"About": ["GEM Global Coal Plant Tracker"]}).to_excel(xw, sheet_name="About", index=False)
        pd.DataFrame(GCPT_ROWS, columns=GCPT_HEADER).to_excel(xw, sheet_name="Units", index=False)
    skipped = Problems()
    _check_gcpt(inv.read_gcpt(path, skipped), skipped, path.name)


def test_read_gcpt_missing_columns(tmp_path):
    path = _csv(tmp_path / "gcpt.csv", ["Plant name", "Status"], [["A", "operating"]])
    with pytest.raises(InputError, match="missing GCPT columns"):
        inv.read_gcpt(path)


# ----------------------------------------------------------------- EDGAR

def _edgar(path: Path, values: np.ndarray, units="Tonnes", var="emissions") -> Path:
    import xarray as xr
    lat = np.round(50.05 + 0.1 * np.arange(values.shape[0]), 2)
    lon = np.round(19.05 + 0.1 * np.arange(values.shape[1]), 2)
    da = xr.DataArray(values, dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                      attrs={"units": units, "substance": "CO2", "year": 2022, "long_name": "Emissions"})
    xr.Dataset({var: da}).to_netcdf(path)
    return path


def test_read_edgar(tmp_path):
    grid = np.full((4, 5), 1.0e4)
    grid[1, 2] = 3.0e6
    grid[3, 4] = 1.5e6
    grid[0, 0] = -7.0
    grid[2, 2] = np.nan
    path = _edgar(tmp_path / "v8.0_FT2022_GHG_CO2_2022_ENE_emi.nc", grid)
    skipped = Problems()
    df = inv.read_edgar(path, skipped, min_t_yr=1.0e6)
    assert list(df.columns) == SOURCE_COLUMNS
    assert len(df) == 2
    df = df.sort_values("emission_t_yr", ascending=False)
    np.testing.assert_allclose(df["emission_t_yr"], [3.0e6, 1.5e6])
    np.testing.assert_allclose(df["latitude"], [50.15, 50.35])
    np.testing.assert_allclose(df["longitude"], [19.25, 19.45])
    assert df["source_id"].iat[0] == "edgar-50.15N019.25E"
    assert set(df["kind"]) == {"grid_cell"} and set(df["inventory_year"]) == {2022}
    assert any("negative" in s.reason for s in skipped)
    assert len(inv.read_edgar(path, min_t_yr=5.0e3)) == 18  # 20 cells - negative - NaN


def test_read_edgar_refuses_flux_files(tmp_path):
    path = _edgar(tmp_path / "x_flx.nc", np.ones((2, 2)), units="kg m-2 s-1", var="fluxes")
    with pytest.raises(InputError, match="emissions"):
        inv.read_edgar(path)
    path = _edgar(tmp_path / "y_emi.nc", np.ones((2, 2)), units="kg m-2 s-1")
    with pytest.raises(InputError, match="Tonnes"):
        inv.read_edgar(path)
    (tmp_path / "z.nc").write_bytes(b"not netcdf")
    with pytest.raises(InputError, match="NetCDF"):
        inv.read_edgar(tmp_path / "z.nc")


# ----------------------------------------------------------------- cities

def test_read_cities(tmp_path):
    path = _csv(tmp_path / "cities.csv", ["name", "country", "latitude", "longitude", "population", "co2_t_yr"], [
        ["Riyadh", "SAU", 24.71, 46.68, 7000000, 5.0e7],
        ["Lagos", "NGA", 6.52, 3.38, 1.5e7, ""],
        ["Nowhere", "", 10.0, 10.0, "", ""],
        ["Bad lat", "", -91, 10.0, 1000, ""],
        ["Neg", "", 1, 1, 1000, -3],
    ])
    skipped = Problems()
    df = inv.read_cities(path, skipped)
    assert list(df.columns) == SOURCE_COLUMNS
    assert df["source_id"].tolist() == ["city-riyadh-sau", "city-lagos-nga"]
    # sublinear urban scaling: 3 t per person at 1 million, exponent 0.93 (builder.physics)
    np.testing.assert_allclose(df["emission_t_yr"], [5.0e7, 3.0 * 1.5e7 * 15.0 ** -0.07])
    assert "population" in df["inventory"].iat[1] and "population" not in df["inventory"].iat[0]
    reasons = {s.item: s.reason for s in skipped}
    assert "population" in reasons["cities.csv:row 4"]
    assert "latitude" in reasons["cities.csv:row 5"]
    assert "negative" in reasons["cities.csv:row 6"]


def test_read_cities_short_names_and_slugs(tmp_path):
    path = _csv(tmp_path / "c.csv", ["name", "lat", "lon", "population"], [
        ["A\u202eB", 1.0, 2.0, 10], ["São Paulo", -23.55, -46.63, 1], ["東京", 35.68, 139.69, 1], ["", 0, 0, 1]])
    skipped = Problems()
    df = inv.read_cities(path, skipped)
    assert df["name"].tolist() == ["A B", "São Paulo", "東京"]   # bidi override stripped, non-ASCII kept
    assert df["source_id"].tolist() == ["city-a-b", "city-sao-paulo", "city-35.68_139.69"]
    assert df["latitude"].iat[0] == 1.0
    assert [(s.item, s.reason) for s in skipped] == [("c.csv:row 5", "missing name")]


# ----------------------------------------------------------------- unified

def test_load_inventory_with_extras(tmp_path):
    _csv(tmp_path / "gppd.csv", GPPD_HEADER, [
        _gppd_row("WRI1", "Coal A", "Coal", 51.2679, 19.3265, 5000, gen={2019: 1000})])
    _edgar(tmp_path / "edgar_emi.nc", np.full((2, 2), 2.0e6))
    (tmp_path / "broken.csv").write_bytes(b"\x00\x01garbage")
    extras = ["gppd:gppd.csv", "edgar:edgar_emi.nc", "cities:missing.csv", "foo:bar.csv", "gppd:broken.csv",
              "gppd:" + str(tmp_path / "gppd.csv")]
    cfg = load_config(None, paths={"root": str(tmp_path), "coco2": str(EMBEDDED), "extra_inventories": extras})
    skipped = Problems()
    sources, profiles = inv.load_inventory(cfg, skipped)
    assert list(sources.columns) == SOURCE_COLUMNS + NAME_COLUMNS
    assert sources["source_id"].is_unique
    assert len(sources) == 16461 + 1 + 4
    # CoCO2 units are named from the configured GPPD first, then from the shipped crosswalk
    by_id = sources.set_index("source_id")
    assert by_id.at["coco2-15522", "name"] == "Coal A — coal, 5,000 MW (POL)"
    assert by_id.at["coco2-15522", "name_source"] == "GPPD (gppd.csv)"
    assert by_id.at["coco2-14972", "name_source"] == "GPPD v1.2.0"
    assert set(sources["inventory"]) == {"CoCO2 v1.1", "WRI GPPD v1.3", "EDGAR v8.0"}
    items = " | ".join(f"{s.item}: {s.reason}" for s in skipped)
    assert "missing.csv: file not found" in items
    assert "foo:bar.csv" in items
    assert "broken.csv" in items
    assert "already loaded" in items       # the same GPPD file twice
    rate = profiles.emission_kg_s(sources, "2018-08-01T13:30Z")
    assert np.all(np.isfinite(rate)) and np.all(rate >= 0)


def test_clean_text():
    s = inv.clean_text(["<script>alert(1)</script>", "a\tb\nc\x00d", None, "x" * 500])
    assert s.tolist() == ["<script>alert(1)</script>", "a b c d", "", "x" * 500]


def test_zipped_downloads_are_read(tmp_path):
    """`atlas fetch inventories` stores the GPPD and EDGAR zips as downloaded."""
    import zipfile
    csv = _csv(tmp_path / "global_power_plant_database.csv", GPPD_HEADER, [
        _gppd_row("WRI9", "Coal Z", "Coal", 10.0, 10.0, 100, gen={2018: 500})])
    nc = _edgar(tmp_path / "v8.0_FT2022_GHG_CO2_2021_TOTALS_emi.nc", np.full((2, 3), 2.0e6))
    gz = tmp_path / "global_power_plant_database_v_1_3.zip"
    with zipfile.ZipFile(gz, "w") as zf:
        zf.write(csv, "global_power_plant_database.csv")
        zf.writestr("README.txt", "readme")
    ez = tmp_path / "v8.0_FT2022_GHG_CO2_2021_TOTALS_emi_nc.zip"
    with zipfile.ZipFile(ez, "w") as zf:
        zf.write(nc, nc.name)
        zf.writestr("_readme.html", "<p>x</p>")
    assert inv.read_gppd(gz)["source_id"].tolist() == ["gppd-WRI9"]
    edgar = inv.read_edgar(ez)
    assert len(edgar) == 6 and set(edgar["inventory_year"]) == {2022}  # attrs year wins over the name
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("README.txt", "no data")
    with pytest.raises(InputError, match="expected exactly one"):
        inv.read_gppd(empty)
    (tmp_path / "bad.zip").write_bytes(b"PK not really")
    with pytest.raises(InputError, match="zip"):
        inv.read_edgar(tmp_path / "bad.zip")


def test_generic_csv_inventory_with_hostile_rows(tmp_path):
    """kind 'csv': source_id,name,latitude,longitude,emission_t_yr[,kind,country,fuel]; one line per bad row."""
    path = _csv(tmp_path / "mine.csv", ["source_id", "name", "latitude", "longitude", "emission_t_yr", "kind", "country"], [
        ["P1", "Plant One", 51.0, 19.0, 2.5e7, "power_plant", "POL"],
        ["P2", "", 51.0, 19.0, 1e6, "", ""],                          # row 3: no name
        ["P3", "=HYPERLINK(\"x\")", 91.0, 19.0, 1e6, "", ""],       # row 4: bad latitude
        ["P1", "again", 50.0, 19.0, 1e6, "", ""],                   # row 5: duplicate id
        ["P4", "Nan emission", 50.0, 19.0, "lots", "", ""],         # row 6: non-numeric
        ["P5", "<script>alert(1)</script>", 50.2, 19.1, 3e6, "steelworks", "POL"],   # unknown kind -> other
        ["P6", "Negative", 50.2, 19.1, -5, "city", ""],             # row 8: negative
    ])
    skipped = Problems()
    df = inv.read_generic_csv(path, skipped)
    assert list(df.columns) == SOURCE_COLUMNS
    assert df["source_id"].tolist() == ["P1", "P5"]
    assert df["kind"].tolist() == ["power_plant", "other"]
    assert df["name"].iat[1] == "<script>alert(1)</script>"        # kept verbatim; the renderer escapes it
    reasons = {s.item: s.reason for s in skipped}
    assert set(reasons) == {f"mine.csv:row {r}" for r in (3, 4, 5, 6, 8)}
    assert "name" in reasons["mine.csv:row 3"] and "latitude" in reasons["mine.csv:row 4"]
    assert "duplicate" in reasons["mine.csv:row 5"] and "emission" in reasons["mine.csv:row 6"]
    assert "negative" in reasons["mine.csv:row 8"]
    bad = _csv(tmp_path / "bad.csv", ["id", "name"], [["a", "b"]])
    with pytest.raises(InputError, match="missing column"):
        inv.read_generic_csv(bad, Problems())
