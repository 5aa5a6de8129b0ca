"""Tests for builder.detect: exactness of the vectorised scan, recovery of
injected plumes, false-alarm rate on noise, filters, merging and the table
contract. Synthetic tracks: 8 footprints, 3 frames/s at 6.76 km/s, ~80 % good
soundings (~2.8 per km), optional white, correlated (AR(1), ~20 km) and
per-footprint noise."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from builder import detect, scan as scan_mod, tables
from builder.config import Detect
from builder.soundings import Track
from tests.factories import make_track


def _lstsq(x, y, w, c, sigma, half):
    m = np.abs(x - c) <= half
    X = np.stack([np.ones(m.sum()), x[m] - c, np.exp(-0.5 * ((x[m] - c) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))], 1)
    sw = np.sqrt(w[m])
    theta, *_ = np.linalg.lstsq(X * sw[:, None], y[m] * sw, rcond=None)
    chi2 = float(np.sum((X @ theta - y[m]) ** 2 * w[m]))
    var_a = np.linalg.inv((X * w[m][:, None]).T @ X)[2, 2]
    return theta, chi2, var_a, int(m.sum())


def _assert_same_fit(scan, ci, j, theta, var_a):
    """Scan == lstsq to ~1e-5 relative (Taylor truncation), the area to 1e-4 of its standard error."""
    assert scan["intercept"][ci, j] == pytest.approx(theta[0], rel=1e-5, abs=1e-5)    # ppm
    assert scan["slope"][ci, j] == pytest.approx(theta[1], rel=1e-5, abs=1e-6)        # ppm/km
    assert abs(scan["area"][ci, j] - theta[2]) <= 1e-4 * np.sqrt(var_a) + 1e-5 * abs(theta[2])
    np.testing.assert_allclose(scan["var_area_unit"][ci, j], var_a, rtol=1e-4)


def test_scan_matches_direct_lstsq_per_centre():
    tr = make_track(500, noise_ppm=0.8, corr_ppm=0.3, plumes=[(240.0, 12.0, 4.0)], slope_ppm_km=0.01, seed=3)
    s = tr.soundings
    x = s["along_km"].to_numpy()
    y = s["xco2_ppm"].to_numpy() - 405.0
    rng = np.random.default_rng(1)
    w = 1.0 / (s["xco2_unc_ppm"].to_numpy() * rng.uniform(0.7, 1.5, len(s))) ** 2   # unequal weights
    centres = np.arange(x[0], x[-1], 1.5)
    sigmas = np.array([2.0, 4.5, 13.0, 18.0])
    windows = np.array([200.0, 120.0, 200.0, 200.0])
    scan = scan_mod.scan_track(x, y, w, centres, sigmas, windows)
    for ci in (60, 160, 200, 290):
        for j, sig in enumerate(sigmas):
            theta, chi2, var_a, n = _lstsq(x, y, w, centres[ci], sig, windows[j] / 2)
            assert scan["n"][ci, j] == n
            _assert_same_fit(scan, ci, j, theta, var_a)
            np.testing.assert_allclose(scan["chi2"][ci, j], chi2, rtol=1e-5)


def test_scan_is_exact_across_data_gaps():
    """Cloud gaps and long empty stretches (squeezed out of the FFT grid) must not
    change any fit: compare with lstsq at centres next to and inside gaps."""
    tr = make_track(1500, noise_ppm=0.7, plumes=[(500.0, 15.0, 3.0), (1210.0, 20.0, 6.0)], seed=8)
    s = tr.soundings
    x_all = s["along_km"].to_numpy()
    keep = ~(((x_all > 300) & (x_all < 330)) | ((x_all > 600) & (x_all < 1150)) | ((x_all > 1300) & (x_all < 1302)))
    x, y = x_all[keep], s["xco2_ppm"].to_numpy()[keep] - 405.0
    w = 1.0 / s["xco2_unc_ppm"].to_numpy()[keep] ** 2
    centres = np.arange(x[0], x[-1], 1.5)
    sigmas = np.array([2.0, 6.5, 18.0])
    windows = 2 * np.array([20.0, 32.5, 90.0])
    scan = scan_mod.scan_track(x, y, w, centres, sigmas, windows)
    checked = 0
    for target in (299.0, 318.0, 331.0, 500.0, 599.0, 640.0, 1148.0, 1151.0, 1210.0, 1301.0):
        ci = int(np.argmin(np.abs(centres - target)))
        for j, sig in enumerate(sigmas):
            if not scan["ok"][ci, j]:
                assert np.min(np.abs(x - centres[ci])) > max(sig, 1.5)    # skipped only when no data near
                continue
            theta, chi2, var_a, n = _lstsq(x, y, w, centres[ci], sig, windows[j] / 2)
            _assert_same_fit(scan, ci, j, theta, var_a)
            checked += 1
    assert checked >= 20


def test_scan_segments_equals_full_scan_on_kept_centres():
    """Splitting at long gaps and dropping centres far from data changes no fit."""
    tr = make_track(1500, noise_ppm=0.7, plumes=[(500.0, 15.0, 3.0)], seed=9)
    x_all = tr.soundings["along_km"].to_numpy()
    keep = ~(((x_all > 200) & (x_all < 260)) | ((x_all > 600) & (x_all < 1100)))
    x, y = x_all[keep], tr.soundings["xco2_ppm"].to_numpy()[keep] - 405.0
    w = np.full(len(x), 1 / 0.36)
    sigmas, windows = np.array([2.0, 9.0, 18.0]), np.array([40.0, 90.0, 180.0])
    centres, seg = scan_mod.scan_segments(x, y, w, sigmas, windows, 1.5, 30)
    full_c = np.arange(x[0], x[-1] + 0.75, 1.5)
    full = scan_mod.scan_track(x, y, w, full_c, sigmas, windows)
    assert 0 < len(centres) < len(full_c)
    k = np.searchsorted(full_c, centres - 1e-9)
    # stretches restart their grid after a long gap: compare at grid points both share
    same = np.abs(full_c[np.clip(k, 0, len(full_c) - 1)] - centres) < 1e-6
    assert same.sum() > 300
    for key in ("area", "var_area_unit", "chi2", "n"):
        a, b = seg[key][same], full[key][k[same]]
        np.testing.assert_allclose(a[np.isfinite(a)], b[np.isfinite(a)], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("sigma_km,area", [(2.5, 6.0), (5.0, 15.0), (11.0, 30.0)])
def test_noise_free_plume_recovers_area_sigma_centre(sigma_km, area):
    tr = make_track(600, plumes=[(311.0, area, sigma_km)], slope_ppm_km=0.003)
    det, prof = detect.detect_track(tr, Detect())
    assert len(det) == 1
    d = det.iloc[0]
    assert d["area_ppm_km"] == pytest.approx(area, rel=0.02)
    assert d["sigma_km"] == pytest.approx(sigma_km, rel=0.02)
    assert d["along_km"] == pytest.approx(311.0, abs=0.2)
    assert d["amplitude_ppm"] == pytest.approx(area / (sigma_km * np.sqrt(2 * np.pi)), rel=0.02)
    assert d["slope_ppm_km"] == pytest.approx(0.003, abs=1e-4)


def test_detection_table_contract_and_profiles():
    tr = make_track(600, noise_ppm=0.3, plumes=[(300.0, 20.0, 4.0)], seed=2, wind=(4.0, 1.5), psurf_hpa=950.0,
                    tcwv_kg_m2=30.0)
    det, prof = detect.detect_track(tr, Detect())
    assert list(det.columns) == tables.DETECTION_FIT_COLUMNS
    assert list(prof.columns) == tables.PROFILE_COLUMNS
    assert len(det) == 1
    d = det.iloc[0]
    s = tr.soundings
    nearest = s.iloc[int(np.argmin(np.abs(s["along_km"].to_numpy() - d["along_km"])))]
    assert d["detection_id"] == f"OCO-2-21500-{nearest['sounding_id']}"
    assert d["sounding_id"] == nearest["sounding_id"] and d["time_utc"] == nearest["time_utc"]
    assert d["track_azimuth_deg"] == pytest.approx(350.0, abs=0.5)
    assert (d["wind_u_m_s"], d["wind_v_m_s"], d["psurf_hpa"], d["tcwv_kg_m2"]) == pytest.approx((4.0, 1.5, 950.0, 30.0))
    # position on the track centre line near along_km = 300
    assert d["latitude"] == pytest.approx(10.0 + 300 * np.cos(np.radians(-10)) / 111.195, abs=0.02)
    assert d["n_core"] >= 8 and d["n_soundings"] >= 100 and 0 < d["r2"] <= 1
    assert d["area_unc_ppm_km"] > 0 and d["significance"] == pytest.approx(d["area_ppm_km"] / d["area_unc_ppm_km"])
    half = max(50.0, 4 * d["sigma_km"])
    inside = s[np.abs(s["along_km"] - d["along_km"]) <= half]
    assert len(prof) == len(inside) and (prof["detection_id"] == d["detection_id"]).all()
    assert np.abs(prof["along_km"] - d["along_km"]).max() <= half


def test_empty_and_short_tracks_give_empty_tables():
    tr = make_track(600)
    empty = Track(orbit=1, instrument="OCO-2", source_file="f.nc4", soundings=tr.soundings.iloc[:0])
    short = Track(orbit=1, instrument="OCO-2", source_file="f.nc4", soundings=tr.soundings.iloc[:50])
    for t in (empty, short):
        det, prof = detect.detect_track(t, Detect())
        assert det.empty and list(det.columns) == tables.DETECTION_FIT_COLUMNS
        assert prof.empty and list(prof.columns) == tables.PROFILE_COLUMNS


def test_broken_track_raises_one_line_input_error():
    from builder.soundings import InputError

    tr = make_track(400, noise_ppm=0.5, seed=1)
    sid = tr.soundings["sounding_id"].iloc[100]
    tr.soundings.loc[100, "xco2_ppm"] = np.nan
    with pytest.raises(InputError) as err:
        detect.detect_track(tr, Detect())
    msg = str(err.value)
    assert "\n" not in msg and tr.source_file in msg and "orbit 21500" in msg and str(sid) in msg
    tr = make_track(400, noise_ppm=0.5, seed=1)
    tr.soundings = tr.soundings.drop(columns=["xco2_unc_ppm"])
    with pytest.raises(InputError, match="xco2_unc_ppm"):
        detect.detect_track(tr, Detect())


def test_unsorted_track_gives_same_detections():
    tr = make_track(600, noise_ppm=0.3, plumes=[(300.0, 20.0, 4.0)], seed=2)
    shuffled = Track(tr.orbit, tr.instrument, tr.source_file, tr.soundings.sample(frac=1.0, random_state=0))
    a, _ = detect.detect_track(tr, Detect())
    b, _ = detect.detect_track(shuffled, Detect())
    assert len(a) == 1 and len(b) == 1
    assert b["area_ppm_km"].iloc[0] == pytest.approx(a["area_ppm_km"].iloc[0], rel=1e-6)
    assert b["detection_id"].iloc[0] == a["detection_id"].iloc[0]


def test_steep_background_gives_unbiased_area():
    ratios = []
    for seed in range(8):
        tr = make_track(500, noise_ppm=0.5, plumes=[(250.0, 15.0, 4.0)], slope_ppm_km=0.03, seed=seed)
        det, _ = detect.detect_track(tr, Detect())
        hit = det[np.abs(det["along_km"] - 250.0) < 10]
        assert len(hit) == 1
        ratios.append(hit["area_ppm_km"].iloc[0] / 15.0)
    assert abs(np.mean(ratios) - 1.0) < 0.08
    assert np.all(np.abs(det["slope_ppm_km"] - 0.03) < 0.01)


def test_pure_noise_tracks_rarely_trigger():
    n_det, km = 0, 0.0
    for seed in range(8):
        tr = make_track(2500, noise_ppm=0.5 + 0.5 * (seed % 4) / 3, corr_ppm=0.3 + 0.2 * (seed % 3) / 2, seed=100 + seed)
        det, _ = detect.detect_track(tr, Detect())
        n_det += len(det)
        km += tr.length_km
    assert n_det / km * 1000.0 <= 0.5


def test_correlated_noise_inflates_uncertainty():
    """se(A) must grow with correlated noise even at the same white noise level."""
    cfg = Detect()
    plume = [(300.0, 40.0, 5.0)]
    white, _ = detect.detect_track(make_track(600, noise_ppm=0.6, plumes=plume, seed=7), cfg)
    corr, _ = detect.detect_track(make_track(600, noise_ppm=0.6, corr_ppm=0.5, plumes=plume, seed=7), cfg)
    assert len(white) == 1 and len(corr) == 1
    assert corr["area_unc_ppm_km"].iloc[0] > 1.5 * white["area_unc_ppm_km"].iloc[0]


def test_depletions_and_out_of_range_widths_are_rejected():
    cfg = Detect()
    det, _ = detect.detect_track(make_track(600, plumes=[(300.0, -20.0, 4.0)], noise_ppm=0.2, seed=1), cfg)
    assert det.empty                                  # negative amplitude
    det, _ = detect.detect_track(make_track(800, plumes=[(400.0, 200.0, 60.0)], noise_ppm=0.2, seed=1), cfg)
    assert not (np.abs(det["along_km"] - 400) < 30).any()   # synoptic-scale bump, sigma > max_sigma_km
    # a plume narrower than min_sigma_km is fitted at min_sigma_km (never reported narrower)
    narrow = dataclasses.replace(cfg, min_sigma_km=3.0)
    det, _ = detect.detect_track(make_track(600, plumes=[(300.0, 20.0, 1.5)], noise_ppm=0.3, seed=1), narrow)
    assert len(det) == 1 and det["sigma_km"].iloc[0] == pytest.approx(3.0)


def test_single_footprint_outliers_are_not_plumes():
    """Single soundings 5 ppm off (one footprint of a frame) must not pass as plumes."""
    n_found = 0
    for seed in range(4):
        tr = make_track(600, noise_ppm=0.6, seed=seed)
        s = tr.soundings
        i = int(np.searchsorted(s["along_km"].to_numpy(), 300.0))
        s.loc[[i, i + 20], "xco2_ppm"] += 5.0
        det, _ = detect.detect_track(tr, Detect())
        n_found += int((np.abs(det["along_km"] - 300.0) < 10).sum())
    assert n_found == 0


def test_missing_flank_is_rejected():
    """A plume at the very end of the track has no background on one side."""
    tr = make_track(400, plumes=[(398.0, 20.0, 4.0)], noise_ppm=0.2, seed=4)
    det, _ = detect.detect_track(tr, Detect())
    assert det.empty
    tr = make_track(400, plumes=[(380.0, 20.0, 4.0)], noise_ppm=0.2, seed=4)
    assert len(detect.detect_track(tr, Detect())[0]) == 1


def test_overlapping_widths_and_centres_merge_into_one():
    tr = make_track(600, plumes=[(300.0, 15.0, 4.0), (304.0, 10.0, 7.0)], noise_ppm=0.3, seed=5)
    det, prof = detect.detect_track(tr, Detect())
    assert len(det) == 1
    assert det["detection_id"].is_unique and set(prof["detection_id"]) == set(det["detection_id"])
    # two well separated plumes stay two
    tr = make_track(600, plumes=[(200.0, 15.0, 4.0), (400.0, 15.0, 4.0)], noise_ppm=0.3, seed=5)
    assert len(detect.detect_track(tr, Detect())[0]) == 2


def test_footprint_offsets_recover_striping():
    offsets = np.array([0.3, -0.2, 0.1, 0.0, -0.3, 0.2, 0.0, -0.1])
    tr = make_track(800, noise_ppm=0.3, plumes=[(400.0, 20.0, 4.0)], seed=12)
    s = tr.soundings
    s["xco2_ppm"] += offsets[s["footprint"].to_numpy() - 1]
    x = s["along_km"].to_numpy()
    s = s.loc[~((x > 100) & (x < 160) & (s["footprint"] <= 4))]   # a stretch seen by half the swath
    est = scan_mod.footprint_offsets(s["along_km"].to_numpy(), s["xco2_ppm"].to_numpy(), s["footprint"].to_numpy())
    by_fp = pd.Series(est).groupby(s["footprint"].to_numpy()).first().to_numpy()
    np.testing.assert_allclose(by_fp, offsets - offsets.mean(), atol=0.03)
    striped = Track(tr.orbit, tr.instrument, tr.source_file, s.reset_index(drop=True))
    det, _ = detect.detect_track(striped, Detect())
    hit = det[np.abs(det["along_km"] - 400.0) < 5]
    assert len(hit) == 1 and hit["area_ppm_km"].iloc[0] == pytest.approx(20.0, rel=0.15)


def test_merge_keeps_most_significant():
    centre = np.array([100.0, 103.0, 110.0, 200.0])
    sigma = np.array([4.0, 6.5, 3.0, 4.0])
    score = np.array([5.0, 7.0, 4.5, 4.2])
    kept = scan_mod.merge_peaks(centre, sigma, score, merge_km=20.0)
    assert list(kept) == [1, 3]


def test_noise_inflation_is_robust_and_at_least_one():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(5000) * 2.5
    z[:50] = 40.0                           # a few plumes do not move the robust spread
    assert scan_mod.noise_inflation(z, 1.5) == pytest.approx(2.5, rel=0.05)
    assert scan_mod.noise_inflation(rng.standard_normal(5000) * 0.5, 1.5) == 1.0
    assert scan_mod.noise_inflation(z[:10], 1.7) == 1.7        # too few centres: the configured default
