"""Tests for builder.simulate: file format, determinism, orbit geometry, plume
physics against the truth table, wind errors, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from builder import physics
from builder import simulate as sim
from builder.config import Config, Ingest, load_config
from builder.soundings import InputError, read_lite, sounding_time

# grids of 10 Mt/yr sources over North America
REGION = (-112.0, 30.0, -82.0, 48.0)
WIDE = (-124.0, 27.0, -70.0, 50.0)


def grid_sources(step_lon=2.0, step_lat=2.0, emission_t_yr=1e7, region=REGION) -> pd.DataFrame:
    """Dense grid by default; a sparse one (~5 deg apart, plumes rarely overlap) for the physics test."""
    lons = np.arange(region[0] + 3, region[2] - 2, step_lon)
    lats = np.arange(region[1] + 2.5, region[3] - 2, step_lat)
    la, lo = np.meshgrid(lats, lons, indexing="ij")
    n = la.size
    return pd.DataFrame({
        "source_id": [f"SRC-{i:03d}" for i in range(n)], "name": [f"plant {i}" for i in range(n)],
        "latitude": la.ravel(), "longitude": lo.ravel(), "emission_t_yr": np.full(n, emission_t_yr),
    })


def hourly_emission(sources: pd.DataFrame, time_utc) -> np.ndarray:
    """Annual mean x (1 + 0.3 sin(UTC hour)), to check the overpass time is used."""
    h = pd.DatetimeIndex(pd.to_datetime(time_utc, utc=True)).hour.to_numpy() + \
        pd.DatetimeIndex(pd.to_datetime(time_utc, utc=True)).minute.to_numpy() / 60.0
    return sim.constant_emission_kg_s(sources, time_utc) * (1.0 + 0.3 * np.sin(2 * np.pi * h / 24.0))


SPARSE = grid_sources(6.0, 5.0, region=WIDE)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    t0 = time.process_time()
    res = sim.simulate(Config(), grid_sources(), hourly_emission, out, days=3, start="2018-08-01", seed=11,
                       region=REGION)
    res.cpu_s = time.process_time() - t0
    return res


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """Noise-free, flat background, no cloud gaps: xco2 - 400 is the plume signal."""
    out = tmp_path_factory.mktemp("clean")
    res = sim.simulate(Config(), SPARSE, hourly_emission, out, days=16, start="2018-08-01", seed=5,
                       region=WIDE, noise=False, background=False, clear_sky=True, plume_structure=False)
    return res


def read_all(path: Path) -> pd.DataFrame:
    tracks = read_lite(path, Ingest(max_quality_flag=1, max_xco2_unc_ppm=10.0))
    return pd.concat([t.soundings.assign(orbit=t.orbit) for t in tracks], ignore_index=True)


def test_files_readable_with_lite_layout(small_run):
    assert small_run.files, "no file written"
    for f in small_run.files:
        day = pd.Timestamp("20" + f.name.split("_")[2])
        assert f.name == sim.lite_filename(day.date(), "OCO-2", "11.1r", production="190101000000")
        assert pd.Timestamp("2018-08-01") <= day < pd.Timestamp("2018-08-04")
        with netCDF4.Dataset(f) as ds:
            assert set(ds.groups) >= {"Sounding", "Meteorology", "Retrieval"}
            for name in ("sounding_id", "latitude", "longitude", "time", "xco2", "xco2_uncertainty",
                         "xco2_quality_flag", "solar_zenith_angle"):
                assert name in ds.variables, name
            for g, name in (("Sounding", "orbit"), ("Sounding", "footprint"), ("Sounding", "operation_mode"),
                            ("Sounding", "land_water_indicator"), ("Sounding", "altitude"),
                            ("Meteorology", "windspeed_u_met"), ("Meteorology", "windspeed_v_met"),
                            ("Meteorology", "psurf_apriori_o2a"), ("Retrieval", "psurf"), ("Retrieval", "tcwv")):
                assert name in ds[g].variables, f"{g}/{name}"
            qf = ds["xco2_quality_flag"][:]
            good = float(np.mean(qf == 0))
            assert 0.5 < good < 0.9, f"good fraction {good}"
        tracks = read_lite(f)
        assert tracks and all(t.instrument == "OCO-2" and t.n > 0 for t in tracks)
        df = tracks[0].soundings
        assert df["xco2_ppm"].between(395, 420).all()
        assert df["psurf_hpa"].between(700, 1040).all() and df["tcwv_kg_m2"].between(1, 80).all()
        assert np.all(np.diff(df["along_km"]) >= 0)
    meta = json.loads((small_run.truth_path.parent / "simulation.json").read_text())
    assert meta["simulated"] is True and meta["seed"] == 11 and meta["start"] == "2018-08-01"
    assert meta["end"] == "2018-08-04"


def test_small_test_set_is_fast(small_run):
    """A test set (a region around a few sources, 3 days) costs well under 5 s of CPU."""
    assert small_run.cpu_s < 5.0
    assert 1000 < small_run.n_soundings < 200_000


def test_truth_and_tracks_tables(small_run):
    truth = pd.read_csv(small_run.truth_path)
    assert list(truth.columns) == sim.TRUTH_COLUMNS
    assert len(truth) >= 3
    assert truth["downwind_km"].between(0, 200).all()
    assert truth["crossing_id"].is_unique
    lon0, lat0, lon1, lat1 = REGION
    assert truth["cross_latitude"].between(lat0, lat1).all() and truth["cross_longitude"].between(lon0, lon1).all()
    # emission at the overpass time: the test profile differs from the annual mean at ~19 UTC
    annual = 1e7 * 1000 / physics.SECONDS_PER_YEAR
    t = pd.to_datetime(truth["time_utc"], utc=True)
    h = t.dt.hour + t.dt.minute / 60
    np.testing.assert_allclose(truth["emission_kg_s"], annual * (1 + 0.3 * np.sin(2 * np.pi * h / 24)), rtol=2e-3)
    # crossing lies on the plume axis at downwind_km from its source
    src = grid_sources().set_index("source_id").loc[truth["source_id"]]
    e, n = physics.local_enu_km(truth["cross_latitude"], truth["cross_longitude"], src["latitude"], src["longitude"])
    sp = np.hypot(truth["wind_u_m_s"], truth["wind_v_m_s"])
    np.testing.assert_allclose((e * truth["wind_u_m_s"] + n * truth["wind_v_m_s"]) / sp, truth["downwind_km"],
                               rtol=0.02, atol=0.5)
    np.testing.assert_allclose((-e * truth["wind_v_m_s"] + n * truth["wind_u_m_s"]) / sp, 0, atol=1.5)
    tracks = pd.read_csv(small_run.tracks_path)
    assert list(tracks.columns) == sim.TRACKS_COLUMNS
    n_good = 0
    for f in small_run.files:
        for tr in read_lite(f):
            row = tracks[(tracks.orbit == tr.orbit) & (tracks.source_file == f.name)]
            assert len(row) == 1 and int(row["n_soundings"].iloc[0]) == tr.n
            assert 0 < row["track_km"].iloc[0] <= tr.length_km + 5
            n_good += tr.n
    assert tracks["n_soundings"].sum() == n_good


def test_deterministic_for_a_seed(small_run, tmp_path):
    res = sim.simulate(Config(), grid_sources(), hourly_emission, tmp_path / "again", days=3, start="2018-08-01",
                       seed=11, region=REGION)
    assert [f.name for f in res.files] == [f.name for f in small_run.files]
    for a, b in zip(res.files + [res.truth_path, res.tracks_path], small_run.files + [small_run.truth_path,
                                                                                    small_run.tracks_path]):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = sim.simulate(Config(), grid_sources(), hourly_emission, tmp_path / "other", days=3, start="2018-08-01",
                         seed=12, region=REGION)
    x_a = read_all(small_run.files[-1])["xco2_ppm"].to_numpy()
    x_b = read_all(other.files[-1])["xco2_ppm"].to_numpy()
    assert len(x_a) != len(x_b) or not np.allclose(x_a, x_b)


def test_orbit_geometry_one_global_day(tmp_path):
    res = sim.simulate(Config(), grid_sources().iloc[:0], sim.constant_emission_kg_s, tmp_path, days=1,
                       start="2018-08-10", seed=3)
    assert len(res.files) == 1
    df = read_all(res.files[0])
    orbits = np.unique(df["orbit"])
    # 14.56 rev/day; a day file holds 14-16 (partial) daylight passes
    assert 14 <= len(orbits) <= 16 and np.all((orbits > 21000) & (orbits < 22000))
    assert np.all(np.diff(orbits) == 1)
    assert 1.5e4 < len(df) < 3e5
    assert set(df["footprint"]) == set(range(1, 9))
    # sounding ids encode the time and footprint
    t_id = sounding_time(df["sounding_id"].to_numpy())
    assert np.abs((t_id - pd.DatetimeIndex(df["time_utc"])).total_seconds()).max() < 0.1
    assert np.all(df["sounding_id"] % 10 == df["footprint"])
    # 3 frames/s, ~2.25 km along track between consecutive frames of one footprint
    one = df[(df.orbit == orbits[5]) & (df.footprint == 4)].sort_values("time_utc")
    dt = np.diff(pd.DatetimeIndex(one["time_utc"]).asi8) / 1e9
    d = physics.haversine_km(one.latitude.to_numpy()[:-1], one.longitude.to_numpy()[:-1],
                             one.latitude.to_numpy()[1:], one.longitude.to_numpy()[1:])
    adj = np.isclose(dt, 1 / 3, atol=0.01)
    assert adj.sum() > 100
    assert 2.1 < np.median(d[adj]) < 2.4
    # 8 footprints span a ~10 km swath
    frame = df[df["sounding_id"] // 10 == df["sounding_id"].iloc[len(df) // 2] // 10]
    if len(frame) >= 2:
        w = physics.haversine_km(frame.latitude.min(), 0, frame.latitude.max(), 0)
        assert w < 11.0
    # ascending, ~13:36 local solar time at the equator, daylight
    eq = df[df.latitude.abs() < 1.0]
    local_h = (pd.DatetimeIndex(eq.time_utc).hour + pd.DatetimeIndex(eq.time_utc).minute / 60
               + eq.longitude.to_numpy() / 15) % 24
    assert len(eq) and np.all(np.abs(local_h - 13.6) < 0.25)
    with netCDF4.Dataset(res.files[0]) as ds:
        assert float(ds["solar_zenith_angle"][:].max()) < 80.0
        lwi = ds["Sounding/land_water_indicator"][:]
        mode = ds["Sounding/operation_mode"][:]
        ds_orbit = ds["Sounding/orbit"][:]
    # 2018: nadir and glint on alternate orbits; nadir orbits see no open ocean
    orbit_of = ds_orbit
    assert set(np.unique(mode)) == {0, 1}
    assert np.all(mode == (orbit_of % 2))
    assert not np.any((mode == 0) & (lwi == 1))


def test_noise_free_crossings_match_emission(clean_run):
    """Integrated enhancement across the track x wind normal to the track = the emission."""
    truth = pd.read_csv(clean_run.truth_path)
    sp = np.hypot(truth.wind_u_m_s, truth.wind_v_m_s)
    checked = 0
    for f in clean_run.files:
        df = read_all(f)
        day = f.name.split("_")[2]
        rows = truth[(pd.to_datetime(truth.time_utc).dt.strftime("%y%m%d") == day) & truth.isolated
                     & truth.downwind_km.between(15, 160) & truth.sigma_along_km.between(1.5, 25)]
        for _, r in rows.iterrows():
            # other crossings of the same orbit must be far away
            same = truth[(truth.orbit == r.orbit) & (truth.crossing_id != r.crossing_id)]
            if len(same) and physics.haversine_km(same.cross_latitude, same.cross_longitude, r.cross_latitude,
                                                  r.cross_longitude).min() < 8 * r.sigma_along_km + 50:
                continue
            o = df[df.orbit == r.orbit]
            dist = physics.haversine_km(o.latitude, o.longitude, r.cross_latitude, r.cross_longitude)
            if dist.min() > 5:
                continue
            a0 = o["along_km"].to_numpy()[np.argmin(dist)]
            win = o[np.abs(o.along_km - a0) < 6 * r.sigma_along_km + 10]
            areas = []
            for _, g in win.groupby("footprint"):
                g = g.sort_values("along_km")
                if np.diff(g.along_km).max(initial=0) > 3.0 or len(g) < 10:
                    break
                areas.append(np.trapezoid(g.xco2_ppm - sim.BACKGROUND_OFF_PPM, g.along_km))
            if len(areas) != 8:
                continue
            area = float(np.mean(areas))
            # wind component normal to the local track (heading along one footprint's line)
            g4 = win[win.footprint == 4].sort_values("along_km")
            e, n = physics.local_enu_km(g4.latitude.iloc[-1], g4.longitude.iloc[-1], g4.latitude.iloc[0],
                                        g4.longitude.iloc[0])
            u_perp = abs(r.wind_u_m_s * n - r.wind_v_m_s * e) / np.hypot(e, n)
            if u_perp / sp[_] < 0.4:
                continue
            q = physics.line_density_kg_m(area, win.psurf_hpa.mean(), win.tcwv_kg_m2.mean()) * u_perp
            assert q == pytest.approx(r.emission_kg_s, rel=0.05), r.crossing_id
            assert area == pytest.approx(r.area_ppm_km, rel=0.05)
            assert (win.xco2_ppm - 400).max() == pytest.approx(r.peak_ppm, rel=0.35)
            checked += 1
    assert checked >= 3, f"only {checked} clean crossings checked"


def test_isolation_flag(clean_run, tmp_path):
    """Sparse sources are isolated; twin sources 6 km apart never are."""
    truth = pd.read_csv(clean_run.truth_path)
    assert len(truth) >= 10 and truth.isolated.mean() > 0.8
    twin = SPARSE.copy()
    twin["source_id"] = twin["source_id"] + "-b"
    twin["latitude"] = twin["latitude"] + 6.0 / 111.2
    calls = []
    res = sim.simulate(Config(), pd.concat([SPARSE, twin], ignore_index=True), hourly_emission, tmp_path,
                       days=16, start="2018-08-01", seed=5, region=WIDE, noise=False, background=False,
                       progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (16, 16) and len(calls) == 16
    t2 = pd.read_csv(res.truth_path)
    assert len(t2) >= 10 and t2.isolated.mean() < 0.2


def test_written_wind_error(clean_run):
    cfg = Config()
    fields = sim.DayFields(seed=9, day_ordinal=4, wind_error_rel=cfg.simulate.wind_error_rel,
                           wind_dir_error_deg=cfg.simulate.wind_dir_error_deg)
    rng = np.random.default_rng(0)
    lat = np.degrees(np.arcsin(rng.uniform(-0.8, 0.9, 4000)))
    lon = rng.uniform(-180, 180, 4000)
    xyz = physics.unit_xyz(lat, lon)
    u, v = fields.wind(lat, xyz)
    fu, fv = fields.file_wind(lat, xyz)
    speed, fspeed = np.hypot(u, v), np.hypot(fu, fv)
    assert 1.0 - 1e-9 <= speed.min() and speed.max() <= 12 + 1e-9 and 2.5 < np.median(speed) < 8
    rel = fspeed / speed - 1
    assert 0.6 * cfg.simulate.wind_error_rel < rel.std() < 1.4 * cfg.simulate.wind_error_rel
    ang = np.degrees(np.angle((fu + 1j * fv) / (u + 1j * v)))
    d = cfg.simulate.wind_dir_error_deg
    assert 0.6 * d < ang.std() < 1.4 * d and abs(ang.mean()) < 5
    # the error is smooth: nearly the same 20 km away
    lat2 = lat + 20 / 111.2
    fu2, fv2 = fields.file_wind(lat2, physics.unit_xyz(lat2, lon))
    u2, v2 = fields.wind(lat2, physics.unit_xyz(lat2, lon))
    rel2 = np.hypot(fu2, fv2) / np.hypot(u2, v2) - 1
    assert np.corrcoef(rel, rel2)[0, 1] > 0.9
    # and in the truth table: file wind != true wind, by roughly that much
    truth = pd.read_csv(clean_run.truth_path)
    r = np.hypot(truth.file_wind_u_m_s, truth.file_wind_v_m_s) / np.hypot(truth.wind_u_m_s, truth.wind_v_m_s) - 1
    assert np.abs(r).median() > 0.02 and np.abs(r).median() < 0.8


def test_written_uncertainty_underestimates_scatter(small_run):
    """As in real Lite files, xco2_uncertainty is smaller than the real scatter
    (footprint-to-footprint differences within a frame remove the correlated part)."""
    df = pd.concat([t.soundings for f in small_run.files for t in read_lite(f)], ignore_index=True)
    df["frame"] = df.sounding_id // 10
    dev = df.xco2_ppm - df.groupby("frame").xco2_ppm.transform("mean")
    n = df.groupby("frame").xco2_ppm.transform("size")
    ok = n >= 6
    scatter = dev[ok].std() * np.sqrt((n[ok] / (n[ok] - 1)).mean())
    assert 0.3 < scatter < 0.8
    assert df.xco2_unc_ppm[ok].mean() < 0.95 * scatter


def test_bad_sources_reported_not_dropped(tmp_path):
    src = grid_sources().iloc[:3].copy()
    src.loc[1, "latitude"] = np.nan
    res = sim.simulate(Config(), src, sim.constant_emission_kg_s, tmp_path, days=1, region=REGION)
    assert len(res.skipped) == 1 and "SRC-001" in res.skipped[0]
    assert json.loads((tmp_path / "simulation.json").read_text())["skipped"] == res.skipped
    with pytest.raises(InputError, match="missing columns emission_t_yr"):
        sim.simulate(Config(), src.drop(columns="emission_t_yr"), sim.constant_emission_kg_s, tmp_path, days=1)
    with pytest.raises(ValueError, match="start"):
        sim.simulate(Config(), src, sim.constant_emission_kg_s, tmp_path, days=1, start="August")


def test_config_section_loads(tmp_path):
    p = tmp_path / "atlas.toml"
    p.write_text("[simulate]\nseed = 3\ndays = 2\nwind_error_rel = 0.1\n")
    cfg = load_config(p)
    assert cfg.simulate.seed == 3 and cfg.simulate.days == 2 and cfg.simulate.wind_error_rel == 0.1


def test_ground_track_repeat_cycle_and_inclination():
    orbit = 21700
    t = sim.node_time_s(orbit) + np.linspace(-sim.PERIOD_S / 2, sim.PERIOD_S / 2, 2001)
    lat, lon = sim.ground_track(t, orbit)
    lat16, lon16 = sim.ground_track(t + 16 * 86400.0, orbit + 233)
    np.testing.assert_allclose(lat16, lat, atol=1e-6)
    np.testing.assert_allclose((lon16 - lon + 180) % 360 - 180, 0, atol=1e-6)
    assert abs(lat.max() - (180 - sim.INCLINATION_DEG)) < 0.05     # 81.8 deg turning latitude
    # one day later the track is not the same (adjacent tracks ~24.7 deg apart at the node)
    lat1, lon1 = sim.ground_track(t + 86400.0, orbit + 15)
    assert np.abs((lon1 - lon + 180) % 360 - 180).max() > 1.0
    # ascending (northbound) on the day side, ~6.75 km/s ground speed
    day = np.abs(t - sim.node_time_s(orbit)) < 600
    assert np.all(np.diff(lat[day]) > 0)
    v = physics.haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]) / np.diff(t)
    assert 6.3 < np.median(v) < 7.2


def test_plume_structure_scales_truth_area_not_emission(clean_run, tmp_path):
    """With structure on, each crossing's line density is Q/u x line_factor: same
    geometry and emission, area scaled by line_factor, which scatters like
    single transects of kilometre-scale simulations (builder.simplume)."""
    res = sim.simulate(Config(), SPARSE, hourly_emission, tmp_path, days=16, start="2018-08-01", seed=5,
                       region=WIDE)
    clean = pd.read_csv(clean_run.truth_path).set_index("crossing_id")
    noisy = pd.read_csv(res.truth_path).set_index("crossing_id")
    both = clean.index.intersection(noisy.index)
    assert len(both) >= 10 and len(both) == len(clean)
    np.testing.assert_allclose(noisy.loc[both, "emission_kg_s"], clean.loc[both, "emission_kg_s"], rtol=1e-5)
    np.testing.assert_allclose(noisy.loc[both, "downwind_km"], clean.loc[both, "downwind_km"], rtol=1e-5)
    np.testing.assert_allclose(clean["line_factor"], 1.0)
    ratio = noisy.loc[both, "area_ppm_km"] / clean.loc[both, "area_ppm_km"]
    np.testing.assert_allclose(ratio, noisy.loc[both, "line_factor"], rtol=1e-3)
    assert 0.3 < np.log(ratio).std() < 0.75


@pytest.mark.slow
def test_default_month_scale(tmp_path):
    """The default month over the embedded catalogue: 2.5-4 M soundings (2.2-2.9 M good) in < 90 s of CPU."""
    from builder.inventory import read_coco2

    root = Path(__file__).resolve().parents[1]
    sources, profiles = read_coco2(root / "dataset" / "coco2")
    t0 = time.process_time()
    res = sim.simulate(Config(), sources, profiles.emission_kg_s, tmp_path)
    cpu = time.process_time() - t0
    assert len(res.files) == Config().simulate.days
    assert 2.5e6 <= res.n_soundings <= 4e6, res.n_soundings
    assert cpu < 90.0, cpu
    tracks = pd.read_csv(res.tracks_path)
    assert 2.2e6 <= tracks.n_soundings.sum() <= 2.9e6


def test_withheld_sources_emit_and_are_named_in_truth(small_run):
    """builder.withheld: one plant in ten >= 1 Mt/yr (no 'kind' column: all rows are plants) is
    withheld; it still emits, truth names it, withheld.csv lists it and simulation.json counts it."""
    out = small_run.truth_path.parent
    src = grid_sources()
    held = pd.read_csv(out / "withheld.csv")
    assert len(held) == len(src) // 10 > 0
    assert set(held["source_id"]) <= set(src["source_id"])
    truth = pd.read_csv(small_run.truth_path)
    flagged = set(truth.loc[truth["withheld"].astype(bool), "source_id"])
    assert flagged and flagged <= set(held["source_id"])          # withheld plants emit plumes
    assert not set(truth.loc[~truth["withheld"].astype(bool), "source_id"]) & set(held["source_id"])
    assert json.loads((out / "simulation.json").read_text())["n_withheld"] == len(held)
