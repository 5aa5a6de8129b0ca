"""builder.simplume: instantaneous plume structure, area sources; the city scaling of builder.physics."""

from __future__ import annotations

import numpy as np
import pytest

from builder import physics, simplume
from builder.simplume import PlumeStructure


def test_line_factor_scatters_like_single_transects():
    """Unbiased on average; within +-30 % of Q/u for 35-70 % of crossings
    (Kuhlmann et al. 2021: single-transect errors of tens of percent)."""
    s = PlumeStructure.draw(np.random.default_rng(1), 20000)
    x = np.random.default_rng(2).uniform(5, 150, 20000)
    f = s.line_factor(np.arange(20000), x)
    assert f.mean() == pytest.approx(1.0, abs=0.03)
    within = np.mean(np.abs(f - 1) < 0.3)
    assert 0.35 < within < 0.7, within
    off = PlumeStructure.draw(np.random.default_rng(1), 10, on=False)
    np.testing.assert_array_equal(off.line_factor(np.arange(10), x[:10]), 1.0)
    np.testing.assert_array_equal(off.meander(np.arange(10), x[:10]), 0.0)


def test_puffs_are_smooth_along_the_plume():
    s = PlumeStructure.draw(np.random.default_rng(3), 2000)
    src = np.arange(2000)
    x = np.full(2000, 40.0)
    a, near, far = (np.log(s.line_factor(src, x + d)) for d in (0.0, 0.3, 60.0))
    assert np.corrcoef(a, near)[0, 1] > 0.9 > 0.6 > np.corrcoef(a, far)[0, 1]
    m = s.meander(src, x)
    assert 0.8 < m.std() < 1.2


def test_crosswind_integral_is_the_instantaneous_line_density():
    """Integrating the column across the plume gives Q f(x) / u, with meander and an initial width."""
    s = PlumeStructure.draw(np.random.default_rng(4), 3)
    y = np.linspace(-60, 60, 4001)
    for src, sigma0 in ((0, 0.0), (1, 2.0), (2, 8.0)):
        ppm = simplume.plume_ppm(s, np.full(len(y), src), np.full(len(y), 100.0), np.full(len(y), 5.0),
                                 np.full(len(y), 30.0), y, np.full(len(y), 1000.0), np.full(len(y), 20.0),
                                 np.full(len(y), "C"), np.full(len(y), sigma0))
        line = physics.line_density_kg_m(np.trapezoid(ppm, y), 1000.0, 20.0)
        expect = 100.0 * s.line_factor(np.array([src]), np.array([30.0]))[0] / 5.0
        assert line == pytest.approx(expect, rel=1e-3)
    # wider for an area source
    w0 = simplume.width_km(np.array([10.0]), np.array(["C"]), np.array([0.0]), True)
    w8 = simplume.width_km(np.array([10.0]), np.array(["C"]), np.array([8.0]), True)
    assert w8[0] > 2 * w0[0]


def test_city_scaling():
    """Sublinear urban scaling (beta 0.93) and a radius that grows with size."""
    e = physics.city_emission_t_yr([3e5, 1e6, 3.5e7])
    assert e[1] == pytest.approx(3.0e6)
    assert e[2] / e[1] == pytest.approx(35 ** 0.93, rel=1e-6)
    r = physics.city_radius_km(e)
    assert r[1] == pytest.approx(5.0, rel=1e-6) and r[0] < r[1] < r[2] < 40
