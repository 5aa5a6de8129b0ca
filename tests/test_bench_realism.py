"""Unit tests of the realism benchmark's statistics (bench/realism.py) on small constructed
frames and tracks. oco2peak itself only runs in the slow test (bench extra installed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench import realism
from builder.soundings import Track


def _peaks(n=100):
    lat = np.linspace(-30, 59, n)
    return pd.DataFrame({
        "orbit": np.repeat([1, 2, 3, 4], n // 4),
        "latitude": lat,
        "delta": np.arange(1, n + 1) / 100.0,
        "sigma": np.where(np.arange(n) % 2, -10.0, 20.0),
        "R": np.full(n, 0.6),
        "slope": np.full(n, -0.005),
        "intercept": np.where(lat >= 45, 401.0, np.where(np.abs(lat) <= 15, 406.0, 404.0)),
        "land_water_indicator": np.where(np.arange(n) < 70, 1, np.where(np.arange(n) < 95, 0, 3)),
    })


def test_fit_statistics_rates_quantiles_water_and_intercepts():
    p = _peaks()
    s = realism.fit_statistics(p, days=4, orbits=8, good_soundings=50_000)
    assert s["n_fits"] == 100 and s["fits_per_day"] == 25 and s["fits_per_orbit"] == 12.5
    assert s["orbits_with_fits"] == 4 and s["fits_per_orbit_with_fit"] == 25
    assert s["fits_per_1000_good"] == pytest.approx(2.0)
    assert s["delta_ppm"] == pytest.approx(list(np.percentile(p["delta"], [5, 25, 50, 75, 95])))
    assert s["abs_sigma_km"][0] == 10.0 and s["abs_sigma_km"][-1] == 20.0      # |sigma|
    assert s["abs_slope_x200km_ppm"] == pytest.approx([1.0] * 5)
    assert s["water_share"] == pytest.approx(0.70)                               # 1 only; 0 and 3 are not water
    assert s["intercept_45_60N_ppm"] == 401.0 and s["intercept_15S_15N_ppm"] == 406.0
    assert s["pole_equator_contrast_ppm"] == pytest.approx(-5.0)
    assert s["intercept_mean_ppm"] == pytest.approx(p["intercept"].mean())


def test_fit_statistics_without_fits_or_denominators():
    s = realism.fit_statistics(_peaks().iloc[:0])
    assert s["n_fits"] == 0 and s["fits_per_day"] is None and s["delta_ppm"] is None
    assert s["water_share"] is None and s["pole_equator_contrast_ppm"] is None


def test_running_median_is_centred_on_distance_and_needs_enough_soundings():
    x = np.array([0, 0, 1, 1, 2, 50, 100, 101, 150, 300.0])
    med = realism.running_median(x, np.arange(10.0), window_km=200.0, min_count=2)
    assert med[0] == med[1] == 3.0          # [-100, 100] km holds soundings 0..6
    assert med[2] == 3.5                    # [-99, 101]: 0..7
    assert np.isnan(med[-1])                # alone in its window


def _track(orbit, n_frames, white, correlated, land_water, seed):
    """8-footprint frames 2.25 km apart: a value shared by the frame (sd ``correlated``) plus
    independent noise per sounding (sd ``white``)."""
    rng = np.random.default_rng(seed)
    frame = np.repeat(np.arange(n_frames), 8)
    y = 405.0 + np.repeat(correlated * rng.standard_normal(n_frames), 8) + white * rng.standard_normal(8 * n_frames)
    return Track(orbit=orbit, instrument="OCO-2", source_file="t.nc4", soundings=pd.DataFrame({
        "sounding_id": (2018080112000000 + frame) * 10 + np.tile(np.arange(1, 9), n_frames),
        "footprint": np.tile(np.arange(1, 9), n_frames), "xco2_ppm": y, "along_km": 2.25 * frame,
        "land_water": np.full(8 * n_frames, land_water)}))


def test_sounding_statistics_splits_white_and_correlated_by_surface():
    tracks = [_track(1, 3000, white=0.8, correlated=0.4, land_water=0, seed=1),
              _track(2, 1000, white=0.5, correlated=0.5, land_water=1, seed=2)]
    s = realism.sounding_statistics(tracks, days=2, scale_days=31)
    assert s["n_good"] == 32_000 and s["good_month"] == 32_000 * 31 / 2 and s["good_month_scaled"]
    assert s["water_share"] == pytest.approx(0.25)
    land, water = s["land"], s["water"]
    assert land["n_pairs"] == 3000 * 7
    assert land["white_ppm"] == pytest.approx(0.8, rel=0.03)
    assert land["correlated_ppm"] == pytest.approx(0.4, rel=0.1)
    assert land["correlated_over_white"] == pytest.approx(0.5, rel=0.12)
    assert land["std_ppm"] == pytest.approx(np.hypot(0.8, 0.4), rel=0.03)
    assert land["tail"] == pytest.approx(1.0, abs=0.06)                          # Gaussian: no heavy tail
    assert water["white_ppm"] == pytest.approx(0.5, rel=0.05)
    assert water["correlated_over_white"] == pytest.approx(1.0, rel=0.15)


def test_pairs_need_same_frame_adjacent_footprint_and_surface():
    tr = _track(1, 100, white=0.5, correlated=0.0, land_water=0, seed=3)
    tr.soundings.loc[tr.soundings["footprint"] == 4, "land_water"] = 1       # breaks 3-4 and 4-5
    parts = realism.sounding_parts([tr])
    assert len(parts["pairs"]) == 100 * 5 and set(parts["pairs"]["lw"]) == {0}
    tail = pd.Series(np.r_[np.zeros(1000), [10.0, -10.0]])
    assert realism.scatter(tail, np.ones(3))["tail"] is None                 # MAD 0: no tail indicator
    assert realism.scatter(tail, [0.0, 2.0])["white_ppm"] == pytest.approx(np.sqrt(0.5))


def test_compare_judges_targets_against_real_values():
    real = realism.fit_statistics(_peaks(), days=4, orbits=8)               # 25 fits/day, median delta 0.505
    sim = dict(real, fits_per_day=40.0, delta_ppm=[0.1, 0.2, 0.55, 0.6, 0.7], water_share=0.9,
               intercept_45_60N_ppm=401.9, soundings={"good_month": 2.5e6, "land": {"std_ppm": 0.9}})
    rows = {r["key"]: r for r in realism.compare(sim, real)}
    assert rows["fits_per_day"]["pass"] is False                             # 40 > 25 x 1.3
    assert rows["delta_ppm"]["pass"] is True                                 # median 0.55 within 0.505 +-25 %
    assert rows["water_share"]["pass"] is False and rows["water_share"]["target"] == "50% – 80%"
    assert rows["intercept_45_60N_ppm"]["pass"] is True                      # 401.9 within 401 +- 1
    assert rows["soundings.good_month"]["pass"] is True and rows["soundings.good_month"]["real_text"] == "n/a"
    assert rows["soundings.land.std_ppm"]["simulated_text"] == "0.90" and rows["soundings.land.std_ppm"]["pass"] is None
    assert rows["fits_per_orbit"]["target"] == ""


def test_load_real_keeps_r_ge_0_and_derives_orbits(tmp_path):
    p = _peaks(8).assign(sounding_id=[2018080101000000 + i for i in range(7)] + [2018080301000000],
                         orbit=[10, 10, 11, 11, 12, 12, 13, 39], R=[0.5, -0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    path = tmp_path / "peaks.csv"
    p.to_csv(path, index=False)
    kept, info = realism.load_real(path)
    assert len(kept) == 7 and (kept["R"] >= 0).all()
    assert info["n_rows"] == 8 and info["n_rows_R_ge_0"] == 7
    assert info["orbits_per_day"] == pytest.approx(30 / 3)                  # orbits 10..39 over 1-3 August
    assert info["orbits_derived"] == pytest.approx(10 * realism.REAL_DAYS)


def test_report_and_markdown_show_rows_notes_and_command(capsys):
    real = realism.fit_statistics(_peaks(), days=4, orbits=8)
    sim = realism.fit_statistics(_peaks().iloc[:0], days=2, orbits=20, good_soundings=100_000)
    sim.update(n_orbits=20, soundings={"n_good": 100_000, "good_month": 1.55e6, "good_month_scaled": True})
    r = {"input": "sim", "days": 2, "days_option": 2, "jobs": 2, "oco2peak": "0.0.4", "seconds": 12.0,
         "simulated": sim, "real": real, "rows": realism.compare(sim, real),
         "real_info": {"n_rows": 101, "n_rows_R_ge_0": 100, "orbits_derived": 8.0, "orbits_per_day": 2.0,
                       "source": realism.REAL_SOURCE, "sha256": "f258296a0e153e21aaaa"}}
    realism.print_report(r)
    out = capsys.readouterr().out
    assert "fits per day" in out and "FAIL" in out and "rejects R < 0" in out and "SCALED" in out
    md = realism.markdown(r, "bash scripts/bench.sh realism --days 2")
    assert "`bash scripts/bench.sh realism --days 2`" in md and "`.venv/bin/python -m bench realism --days 2`" in md
    assert "| good soundings in the month | 1,550,000 | n/a | 2,200,000 – 2,900,000 | FAIL |" in md
    assert "| \\|sigma\\| [km] q5/25/50/75/95 | n/a |" in md                      # pipes escaped in the table
    assert "dataforgoodfr/batch7_satellite_ges" in md and md.count("- **") == len(realism.EXPLAIN)


def test_cli_parses_realism_and_writes_its_own_json():
    from bench.__main__ import parse

    a = parse(["realism", "--days", "2", "--jobs", "1"])
    assert a.what == "realism" and a.days == 2 and a.jobs == 1 and a.out == realism.RESULTS
    assert parse(["detect"]).out.name == "results.json" and parse([]).jobs == 2


@pytest.mark.slow
def test_fit_file_runs_oco2peak_on_a_dense_lite_file(tmp_path):
    """Only with the bench extra installed (oco2peak 0.0.4); never in CI."""
    from bench import reference
    from builder.config import Ingest
    from tests.factories import lite_columns, write_lite_file

    ok, why = reference.available()
    if not ok:
        pytest.skip(f"oco2peak not installed: {why}")
    cols = lite_columns(n_frames=700, noise_ppm=0.6, seed=1)
    along = np.repeat(np.arange(700), 8) / 3.0 * 6.76
    cols["xco2"] = cols["xco2"] + np.sin(along / 60.0)
    cols["land_water_indicator"] = np.where(along > 600, 1.0, 0.0)
    r = realism.fit_file((write_lite_file(tmp_path, columns=cols), Ingest()))
    assert r["orbits"] == [21500] and r["n_soundings"] == 5600 and len(r["peaks"]) > 0
    assert {"slope", "intercept", "land_water_indicator"} <= set(r["peaks"].columns)
    assert set(r["peaks"]["land_water_indicator"]) <= {0, 1}
