"""Tests for builder.quantify: flux units, recovery of injected emissions,
wind-geometry flags and uncertainties, Gaussian-plume inversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from builder import physics, tables
from builder.config import Config, Detect, Quantify
from builder.detect import detect_track, empty_detections
from builder.quantify import fit_gaussian_plume, quantify
from tests.factories import make_track

#: The hand computations below use a 10 % plume-structure term (the default is 45 %, see config).
T10 = dict(turbulence_rel_unc=0.10)


def _row(**kw) -> pd.DataFrame:
    base = dict(area_ppm_km=1.0, area_unc_ppm_km=0.1, track_azimuth_deg=0.0, wind_u_m_s=1.0, wind_v_m_s=0.0,
                psurf_hpa=1013.25, tcwv_kg_m2=0.0)
    base.update(kw)
    df = empty_detections()
    return pd.concat([df, pd.DataFrame([base])], ignore_index=True)


def test_flux_units_hand_computed():
    # 1 ppm km at 1013.25 hPa, no water, 1 m/s wind normal to a north-bound track
    m_dry = 101325.0 / 9.80665                          # kg of air per m^2
    line_density = 1e-6 * 1e3 * (44.0095 / 28.9647) * m_dry   # kg CO2 per m of track
    out = quantify(_row(), Quantify(**T10))
    assert out["dry_air_column_kg_m2"].iloc[0] == pytest.approx(m_dry, rel=1e-9)
    assert out["line_density_kg_m"].iloc[0] == pytest.approx(line_density, rel=1e-9)
    assert out["emission_kg_s"].iloc[0] == pytest.approx(15.699, abs=0.01)
    assert out["emission_kg_s"].iloc[0] == pytest.approx(line_density, rel=1e-9)
    assert out["emission_mt_yr"].iloc[0] == pytest.approx(line_density * 365.25 * 86400 / 1e9, rel=1e-9)
    assert out["wind_normal_m_s"].iloc[0] == pytest.approx(1.0)
    assert out["wind_track_angle_deg"].iloc[0] == pytest.approx(90.0)
    assert not out["flag_parallel_wind"].iloc[0] and not out["flag_low_wind"].iloc[0]
    # only the normal component counts: a wind at 30 deg to the track gives sin(30) of it
    out = quantify(_row(wind_u_m_s=np.sin(np.radians(30)) * 4, wind_v_m_s=np.cos(np.radians(30)) * 4), Quantify(**T10))
    assert out["wind_normal_m_s"].iloc[0] == pytest.approx(2.0)
    assert out["wind_track_angle_deg"].iloc[0] == pytest.approx(30.0)
    assert out["emission_kg_s"].iloc[0] == pytest.approx(2.0 * line_density)


def test_empty_input_gives_quantify_columns():
    out = quantify(empty_detections(), Quantify(**T10))
    assert out.empty and set(tables.QUANTIFY_COLUMNS) <= set(out.columns)
    gp = fit_gaussian_plume(out.assign(source_id=pd.Series(dtype=object)), pd.DataFrame(), pd.DataFrame(), Config(quantify=Quantify(**T10)))
    assert gp.empty and {"gp_emission_kg_s", "gp_emission_unc_kg_s"} <= set(gp.columns)


def test_noise_free_plume_emission_recovered_through_detect_and_quantify():
    q_true_kg_s = 1000.0
    wind = (5.0, 2.0)                                  # east/north m/s
    heading = -10.0
    normal = abs(wind[0] * np.cos(np.radians(heading)) - wind[1] * np.sin(np.radians(heading)))
    area = q_true_kg_s / (physics.line_density_kg_m(1.0, 980.0, 25.0) * normal)
    tr = make_track(600, plumes=[(300.0, area, 5.0)], wind=wind, heading_deg=heading, psurf_hpa=980.0,
                    tcwv_kg_m2=25.0)
    det, _ = detect_track(tr, Detect())
    out = quantify(det, Quantify(**T10))
    assert len(out) == 1
    assert out["emission_kg_s"].iloc[0] == pytest.approx(q_true_kg_s, rel=0.02)
    rel = out["emission_unc_kg_s"].iloc[0] / out["emission_kg_s"].iloc[0]
    assert 0.3 < rel < 0.5      # wind speed, direction and background terms dominate a noise-free fit


def test_parallel_wind_flagged_with_large_uncertainty():
    cfg = Quantify(**T10)
    perp = quantify(_row(wind_u_m_s=4.0, wind_v_m_s=0.0), cfg).iloc[0]
    par = quantify(_row(wind_u_m_s=4.0 * np.sin(np.radians(5)), wind_v_m_s=4.0 * np.cos(np.radians(5))), cfg).iloc[0]
    assert par["flag_parallel_wind"] and not perp["flag_parallel_wind"]
    assert par["wind_track_angle_deg"] == pytest.approx(5.0)
    assert par["emission_unc_kg_s"] / par["emission_kg_s"] > 2.0
    assert perp["emission_unc_kg_s"] / perp["emission_kg_s"] < 0.5
    exactly = quantify(_row(wind_u_m_s=0.0, wind_v_m_s=-3.0), cfg).iloc[0]      # wind along the track
    assert exactly["emission_kg_s"] == 0.0 and np.isfinite(exactly["emission_unc_kg_s"])
    assert exactly["emission_unc_kg_s"] > 0.2 * perp["emission_kg_s"]


def test_low_wind_flagged():
    out = quantify(_row(wind_u_m_s=0.5, wind_v_m_s=0.3), Quantify(**T10))
    assert out["flag_low_wind"].iloc[0]


def test_uncertainty_grows_with_fit_error():
    cfg = Quantify(**T10)
    lo = quantify(_row(area_ppm_km=10.0, area_unc_ppm_km=1.0, wind_u_m_s=3.0), cfg).iloc[0]
    hi = quantify(_row(area_ppm_km=10.0, area_unc_ppm_km=5.0, wind_u_m_s=3.0), cfg).iloc[0]
    assert hi["emission_unc_kg_s"] > 1.5 * lo["emission_unc_kg_s"]
    assert hi["emission_kg_s"] == lo["emission_kg_s"]


def _gp_case(q_kg_s=300.0, wind=(4.0, 1.0), down_km=25.0, psurf=990.0, tcwv=15.0, unc_ppm=0.5):
    """Soundings on a north-south line crossing the plume axis ``down_km`` downwind
    of a source at (lat0, lon0), Delta XCO2 from the same physics functions."""
    lat0, lon0 = 30.0, 40.0
    u, v = wind
    speed = np.hypot(u, v)
    ex, ey = u / speed, v / speed
    cx, cy = down_km * ex, down_km * ey                       # crossing point (east, north) km
    s = np.arange(-60.0, 60.0, 0.4)                          # along a north-bound track
    east, north = cx + 0.0 * s, cy + s
    lat = lat0 + north / 111.195
    lon = lon0 + east / (111.195 * np.cos(np.radians(lat0)))
    e2, n2 = physics.local_enu_km(lat, lon, lat0, lon0)
    down = e2 * ex + n2 * ey
    cross = -e2 * ey + n2 * ex
    stab = physics.pg_stability_class(speed)
    col = physics.gaussian_plume_column_kg_m2(q_kg_s, speed, down, cross, stab)
    xco2 = 405.0 + 0.002 * s + physics.ppm_from_co2_mass_kg_m2(col, psurf, tcwv)
    det = _row(wind_u_m_s=u, wind_v_m_s=v, psurf_hpa=psurf, tcwv_kg_m2=tcwv)
    det["detection_id"] = "OCO-2-1-1"
    det["along_km"] = 0.0
    det["source_id"] = "S1"
    prof = pd.DataFrame(dict(detection_id="OCO-2-1-1", along_km=s, xco2_ppm=xco2, xco2_unc_ppm=unc_ppm,
                             latitude=lat, longitude=lon, footprint=1))
    sources = pd.DataFrame(dict(source_id=["S0", "S1"], latitude=[0.0, lat0], longitude=[0.0, lon0]))
    return det, prof, sources


@pytest.mark.parametrize("optimise", [False, True])
def test_gaussian_plume_recovers_emission(optimise):
    det, prof, sources = _gp_case()
    cfg = Config(quantify=Quantify(gp_optimise_direction=optimise, **T10))
    out = fit_gaussian_plume(det, prof, sources, cfg)
    assert out["gp_emission_kg_s"].iloc[0] == pytest.approx(300.0, rel=0.03)
    unc = out["gp_emission_unc_kg_s"].iloc[0]
    assert 0.25 * 300.0 < unc < 0.6 * 300.0              # wind speed error plus the 0.5 ppm noise floor
    det, prof, sources = _gp_case(unc_ppm=0.01)
    out = fit_gaussian_plume(det, prof, sources, cfg)
    # wind speed and plume turbulence only
    assert out["gp_emission_unc_kg_s"].iloc[0] == pytest.approx(np.hypot(0.25, 0.10) * 300.0, rel=0.05)


def test_gaussian_plume_direction_search_fixes_rotated_wind():
    det, prof, sources = _gp_case()
    # the file wind is 15 degrees off the true one
    ang = np.radians(15.0)
    u, v = det["wind_u_m_s"].iloc[0], det["wind_v_m_s"].iloc[0]
    det["wind_u_m_s"], det["wind_v_m_s"] = u * np.cos(ang) - v * np.sin(ang), u * np.sin(ang) + v * np.cos(ang)
    fixed = fit_gaussian_plume(det, prof, sources, Config(quantify=Quantify(gp_optimise_direction=False, **T10)))
    opt = fit_gaussian_plume(det, prof, sources, Config(quantify=Quantify(gp_direction_steps=61, **T10)))
    err_fixed = abs(fixed["gp_emission_kg_s"].iloc[0] / 300.0 - 1)
    err_opt = abs(opt["gp_emission_kg_s"].iloc[0] / 300.0 - 1)
    assert err_opt < 0.05 and err_opt < err_fixed


def test_gaussian_plume_skips_unattributed_rows():
    det, prof, sources = _gp_case()
    for sid in ("", np.nan, "unknown-source"):
        out = fit_gaussian_plume(det.assign(source_id=sid), prof, sources, Config(quantify=Quantify(**T10)))
        assert np.isnan(out["gp_emission_kg_s"].iloc[0]) and np.isnan(out["gp_emission_unc_kg_s"].iloc[0])


def test_csf_and_gaussian_plume_agree_on_a_physical_plume():
    """A noise-free Nassar plume crossed by a synthetic track: detect -> quantify ->
    (attribution stand-in) -> fit_gaussian_plume. Both estimators return the
    emission put in (CSF within 5 %, Gaussian plume within 3 %)."""
    q_true = 600.0
    wind = (5.0, 1.5)
    tr = make_track(600, wind=wind, psurf_hpa=990.0, tcwv_kg_m2=20.0)
    s = tr.soundings
    # source 25 km upwind of the track point at along_km = 300
    i0 = int(np.argmin(np.abs(s["along_km"].to_numpy() - 300.0)))
    speed = np.hypot(*wind)
    east0, north0 = -25.0 * wind[0] / speed, -25.0 * wind[1] / speed
    lat0 = s["latitude"].iloc[i0] + north0 / 111.195
    lon0 = s["longitude"].iloc[i0] + east0 / (111.195 * np.cos(np.radians(lat0)))
    e, n = physics.local_enu_km(s["latitude"].to_numpy(), s["longitude"].to_numpy(), lat0, lon0)
    down = (e * wind[0] + n * wind[1]) / speed
    cross = (-e * wind[1] + n * wind[0]) / speed
    col = physics.gaussian_plume_column_kg_m2(q_true, speed, down, cross, physics.pg_stability_class(speed))
    s["xco2_ppm"] = s["xco2_ppm"] + physics.ppm_from_co2_mass_kg_m2(col, 990.0, 20.0)
    det, prof = detect_track(tr, Detect())
    assert len(det) == 1
    out = quantify(det, Quantify(**T10))
    assert out["emission_kg_s"].iloc[0] == pytest.approx(q_true, rel=0.05)
    out["source_id"] = "P1"
    sources = pd.DataFrame(dict(source_id=["P1"], latitude=[lat0], longitude=[lon0]))
    gp = fit_gaussian_plume(out, prof, sources, Config(quantify=Quantify(**T10)))
    assert gp["gp_emission_kg_s"].iloc[0] == pytest.approx(q_true, rel=0.03)
    assert 0.2 * q_true < gp["gp_emission_unc_kg_s"].iloc[0] < 0.5 * q_true


def test_detection_noise_inflation_recovers_the_detectors_k(monkeypatch):
    """The correlated-noise inflation k that builder.detect put into se(A) is
    recovered from the detection's profile (used by the Gaussian-plume error)."""
    from builder import detect as detect_mod
    from builder.quantify import detection_noise_inflation

    seen = []
    real = detect_mod.noise_inflation

    def spy(z, default):
        seen.append(real(z, default))
        return seen[-1]

    monkeypatch.setattr(detect_mod, "noise_inflation", spy)
    cfg = Detect()
    tr = make_track(1500, noise_ppm=0.5, corr_ppm=0.6, corr_km=20.0, plumes=[(700.0, 60.0, 8.0)], seed=3)
    det, prof = detect_track(tr, cfg)
    det = det.loc[(det["along_km"] - 700.0).abs() < 20.0]
    assert len(det) == 1
    row = det.iloc[0]
    widths = np.array(sorted(cfg.sigma_km))
    k_detector = float(np.interp(np.log(row["sigma_km"]), np.log(widths), seen[:len(widths)]))
    assert k_detector > 1.3                       # correlated noise inflated se(A) noticeably
    p = prof.loc[prof["detection_id"] == row["detection_id"]]
    k = detection_noise_inflation(p["along_km"].to_numpy(), p["xco2_ppm"].to_numpy(),
                                  1.0 / p["xco2_unc_ppm"].to_numpy() ** 2, row["along_km"], row["sigma_km"],
                                  row["area_ppm_km"], row["area_unc_ppm_km"], cfg)
    assert k == pytest.approx(k_detector, rel=0.25)
    assert np.isnan(detection_noise_inflation(p["along_km"].to_numpy(), p["xco2_ppm"].to_numpy(),
                                              np.ones(len(p)), row["along_km"], np.nan, 1.0, 1.0, cfg))


def test_gaussian_plume_uncertainty_includes_noise_inflation():
    """The Gaussian-plume fit error is inflated by the detection's k^2 (white-noise
    weights ignore the along-track correlation); without a usable detection fit
    the detector's default inflation is used."""
    det, prof, sources = _gp_case()
    det["sigma_km"], det["area_ppm_km"] = 4.0, 30.0

    def fit_var(area_unc, default=1.5):
        cfg = Config(quantify=Quantify(gp_optimise_direction=False, **T10), detect=Detect(default_noise_inflation=default))
        out = fit_gaussian_plume(det.assign(area_unc_ppm_km=area_unc), prof, sources, cfg).iloc[0]
        return out["gp_emission_unc_kg_s"] ** 2 - (0.25 ** 2 + 0.10 ** 2) * out["gp_emission_kg_s"] ** 2

    assert fit_var(15.0) / fit_var(5.0) == pytest.approx(9.0, rel=1e-6)       # k proportional to se(A)
    assert fit_var(np.nan, 2.0) / fit_var(np.nan, 1.0) == pytest.approx(4.0, rel=1e-6)


def test_uncertainty_terms_add_in_quadrature():
    """Fit error, wind speed, plume turbulence and the optional extra background
    term add in quadrature; the background is not counted by default (it is in se(A))."""
    row = _row(area_ppm_km=1.0, area_unc_ppm_km=0.1, wind_u_m_s=4.0)         # wind normal to the track
    rel = lambda cfg: (lambda r: r["emission_unc_kg_s"] / r["emission_kg_s"])(quantify(row, cfg).iloc[0])  # noqa: E731
    assert Quantify().background_rel_unc == 0.0 and Quantify().turbulence_rel_unc == pytest.approx(0.45)
    assert rel(Quantify(wind_dir_unc_deg=0.0, **T10)) == pytest.approx(np.sqrt(0.1 ** 2 + 0.25 ** 2 + 0.1 ** 2))
    assert rel(Quantify(wind_dir_unc_deg=0.0, turbulence_rel_unc=0.0)) == pytest.approx(np.hypot(0.1, 0.25))
    assert rel(Quantify(wind_dir_unc_deg=0.0, background_rel_unc=0.15, **T10)) == pytest.approx(
        np.sqrt(0.1 ** 2 + 0.25 ** 2 + 0.1 ** 2 + 0.15 ** 2))
    # normal to the track a 20-degree direction error is second order: RMS(1 - cos e) ~ sqrt(3)/2 sigma^2
    # = 10.5 %, not the linearised sin(20 deg) = 34 %
    d = rel(Quantify(turbulence_rel_unc=0.0)) ** 2 - np.hypot(0.1, 0.25) ** 2
    assert np.sqrt(d) == pytest.approx(np.sqrt(3) / 2 * np.radians(20.0) ** 2, rel=0.05)
