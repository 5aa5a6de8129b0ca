"""builder.plumetemplate: the forced fit's 2-D plume template (Gaussian plume at every sounding)."""

from __future__ import annotations

import numpy as np
import pytest

from builder import forcedfit, physics
from builder.plumetemplate import PlumeTemplates

LAT0, LON0 = 45.0, 10.0
KM_LAT = np.pi / 180.0 * physics.EARTH_RADIUS_KM


def _track(x0_km: float, angle_deg: float, per_km: float = 4.0):
    """Soundings along a straight track crossing the wind axis (wind towards east, source at
    LAT0/LON0) at x0_km downwind, at angle_deg to the wind; returns along, lat, lon, x, y."""
    s = np.arange(-120.0, 120.0, 1.0 / per_km)
    a = np.radians(angle_deg)
    east, north = x0_km + s * np.cos(a), s * np.sin(a)
    lat = LAT0 + north / KM_LAT
    lon = LON0 + east / (KM_LAT * np.cos(np.radians(LAT0)))
    return s, lat, lon, east, north


def _templates(lat, lon, angle_deg, dir_unc_deg=0.01):
    one = np.ones(1)
    return PlumeTemplates(lat, lon, LAT0 * one, LON0 * one, one, 0 * one,
                          np.array([physics.PG_SIGMA_Y_A["C"]]), 0 * one,
                          np.array([np.sin(np.radians(angle_deg))]), dir_unc_deg)


def _plume(x, y, line_ppm_km=10.0):
    """Steady Gaussian plume, class C, footprint-averaged: the template's own model."""
    s2 = (physics.sigma_y_m(np.maximum(x, 1e-3), "C") / 1e3) ** 2 + physics.OCO2_FOOTPRINT_VAR_KM2
    return np.where(x > 0, line_ppm_km * np.exp(-0.5 * y * y / s2) / np.sqrt(2 * np.pi * s2), 0.0)


def test_template_integrates_to_one_along_a_full_crossing():
    for angle in (90.0, 45.0):
        s, lat, lon, _, _ = _track(30.0, angle)
        t = _templates(lat, lon, angle).columns(np.array([0]), np.arange(len(s)))[0]
        assert np.trapezoid(t, s) == pytest.approx(1.0, rel=0.01)
    s, lat, lon, x, _ = _track(30.0, 90.0)
    t = _templates(lat, lon, 90.0).columns(np.array([0]), np.arange(len(s)))[0]
    upwind = _templates(lat, lon, 90.0)
    upwind.wind_e = -upwind.wind_e                  # the track lies upwind: no plume there
    assert np.all(upwind.columns(np.array([0]), np.arange(len(s)))[0] == 0) and t.max() > 0


def test_oblique_crossing_near_the_source_is_recovered():
    """0.5 km downwind at 25 deg: the along-track profile is cut off upwind and skewed. The 2-D
    template recovers the along-track area; a Gaussian of the local width does not."""
    angle = 25.0
    s, lat, lon, x, y = _track(0.5, angle)
    data = 400.0 + _plume(x, y)
    true_area = 10.0 / np.sin(np.radians(angle))        # line density / sin(wind, track)
    width = np.sqrt((physics.sigma_y_m(0.5, "C") / 1e3) ** 2 + physics.OCO2_FOOTPRINT_VAR_KM2) / np.sin(np.radians(angle))
    args = (s, data, np.array([0.1]), np.array([0.0]), np.array([width]), np.array([np.nan]))
    fit2d = forcedfit.forced_fit(*args, templates=_templates(lat, lon, angle))
    gauss = forcedfit.forced_fit(*args)
    assert fit2d.area_ppm_km[0] == pytest.approx(true_area, rel=0.02)
    assert gauss.area_ppm_km[0] < 0.9 * true_area
