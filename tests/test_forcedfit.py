"""builder.forcedfit: the forced fit at a predicted crossing, deblending, scan statistic."""

from __future__ import annotations

import numpy as np
import pytest

from builder import forcedfit as ov


def _track(rng, white=0.5, n_km=300.0, per_km=2.0):
    along = np.sort(rng.uniform(0, n_km, int(n_km * per_km)))
    return along, 405.0 + white * rng.standard_normal(len(along))


def _bump(along, c, area, w):
    return area * np.exp(-0.5 * ((along - c) / w) ** 2) / (w * np.sqrt(2 * np.pi))


def test_forced_fit_on_pure_noise_is_unbiased_with_honest_sigma():
    """Plume-free crossings: pulls A / sigma(A) have mean ~0 and sd ~1."""
    rng = np.random.default_rng(1)
    pulls = []
    for _ in range(300):
        along, y = _track(rng)
        y = y + 0.003 * (along - 150)                         # a background slope, fitted away
        f = ov.forced_fit(along, y, np.array([0.5]), np.array([150.0]), np.array([8.0]), np.array([np.nan]))
        pulls.append(f.area_ppm_km[0] / f.area_unc_ppm_km[0])
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 0.15 and 0.85 < pulls.std() < 1.15


def test_empirical_sigma_only_raises_the_error():
    rng = np.random.default_rng(2)
    along, y = _track(rng)
    white = ov.forced_fit(along, y, np.array([0.5]), np.array([150.0]), np.array([8.0]), np.array([np.nan]))
    emp = ov.forced_fit(along, y, np.array([0.5]), np.array([150.0]), np.array([8.0]),
                        np.array([3 * white.area_unc_ppm_km[0]]))
    low = ov.forced_fit(along, y, np.array([0.5]), np.array([150.0]), np.array([8.0]), np.array([1e-6]))
    assert emp.area_unc_ppm_km[0] == pytest.approx(3 * white.area_unc_ppm_km[0], rel=1e-6)
    assert low.area_unc_ppm_km[0] == pytest.approx(white.area_unc_ppm_km[0])
    assert emp.area_ppm_km[0] == pytest.approx(white.area_ppm_km[0])


def test_template_is_unbiased_over_position_errors():
    """A narrow plume whose true crossing is off the predicted one by the wind-direction error:
    on average the widened template (width^2 = plume^2 + spread^2) recovers its area."""
    rng = np.random.default_rng(4)
    sig_p, pos = 3.0, 8.0
    width = np.hypot(sig_p, pos)
    est = []
    for _ in range(400):
        along, y = _track(rng, white=0.05)
        y = y + _bump(along, 150.0 + pos * rng.standard_normal(), 10.0, sig_p)
        est.append(ov.forced_fit(along, y, np.array([0.05]), np.array([150.0]), np.array([width]),
                                 np.array([np.nan])).area_ppm_km[0])
    assert np.mean(est) == pytest.approx(10.0, rel=0.06)


def test_deblending_two_overlapping_plumes():
    """A small plume 12 km from a large one: fitted jointly, each amplitude within its sigma;
    fitted alone, the small one inherits the large plume."""
    rng = np.random.default_rng(3)
    hits = []
    for _ in range(100):
        along, y = _track(rng, white=0.3)
        y = y + _bump(along, 150.0, 40.0, 5.0) + _bump(along, 162.0, 5.0, 5.0)
        f = ov.forced_fit(along, y, np.full(2, 0.3), np.array([150.0, 162.0]), np.array([5.0, 5.0]),
                          np.full(2, np.nan))
        assert f.group[0] == f.group[1]
        hits.append(np.abs(f.area_ppm_km - [40.0, 5.0]) <= 2 * f.area_unc_ppm_km)
        alone = ov.forced_fit(along, y, np.array([0.3]), np.array([162.0]), np.array([5.0]), np.array([np.nan]))
    assert np.mean(hits) > 0.9
    assert alone.area_ppm_km[0] > 5.0 + 3 * alone.area_unc_ppm_km[0]


def test_groups_chain_overlapping_templates_only():
    g = ov.groups(np.array([0.0, 20.0, 200.0, 35.0]), np.array([5.0, 5.0, 5.0, 5.0]))
    assert g[0] == g[1] == g[3] != g[2]


def test_template_width_adds_the_crossing_position_spread():
    w = ov.template_width_km(np.array([3.0]), np.array([30.0]), np.array([1.0]), 20.0)
    assert w[0] == pytest.approx(np.hypot(3.0, 30.0 * np.tan(np.radians(20.0))))
    assert ov.template_width_km(np.array([3.0]), np.array([0.0]), np.array([1.0]), 20.0)[0] == pytest.approx(3.0)


def test_scan_tries_offsets_within_the_position_spread_and_takes_the_best_z():
    cen, wid = ov.scan_positions(np.array([100.0, 200.0]), np.array([3.0, 4.0]), np.array([5.0, 0.0]))
    k = len(ov.SCAN_OFFSETS)
    assert len(cen) == 2 * k and cen[:k].min() == pytest.approx(90.0) and cen[:k].max() == pytest.approx(110.0)
    np.testing.assert_allclose(cen[k:], 200.0)                 # no position spread: one place, tried k times
    np.testing.assert_allclose(wid, [3.0] * k + [4.0] * k)
    area = np.zeros(2 * k)
    area[2] = 6.0                                              # a bump off the predicted crossing
    emp = np.full(2 * k, 1.5)
    emp[k // 2] = np.nan                                       # unknown empirical sigma: the white one
    z, sig0 = ov.scan_significance(area, emp, np.array([1.0, 2.0]), 2)
    assert z[0] == pytest.approx(4.0) and z[1] == pytest.approx(0.0)
    np.testing.assert_allclose(sig0, [1.0, 2.0])


def test_emission_unc_uses_the_reference_not_the_estimate():
    u = ov.emission_unc_kg_s(np.array([10.0, 10.0]), np.array([100.0, 100.0]), 0.25, 0.45, np.array([0.0, 0.0]))
    assert u[0] == pytest.approx(np.sqrt(100 + 100 ** 2 * (0.25 ** 2 + 0.45 ** 2)))
    assert u[0] == u[1]


def test_known_plume_near_the_window_edge_is_fitted_not_absorbed():
    """Two measured plumes 45 km apart (too far to be blended, within each other's background
    window): each is fitted with the other as a nuisance template, so a strong neighbour does
    not tilt the linear background under a weak plume and pull its area negative."""
    rng = np.random.default_rng(5)
    along, y = _track(rng, white=0.02, per_km=4.0)
    y = y + _bump(along, 150.0, 2.0, 3.0) + _bump(along, 195.0, 80.0, 3.0)
    f = ov.forced_fit(along, y, np.full(2, 0.02), np.array([150.0, 195.0]), np.array([3.0, 3.0]),
                      np.full(2, np.nan))
    assert f.group[0] != f.group[1]                       # not deblended as one group
    assert f.area_ppm_km[0] == pytest.approx(2.0, abs=0.3)
    assert f.area_ppm_km[1] == pytest.approx(80.0, rel=0.02)
    alone = ov.forced_fit(along, y, np.array([0.02]), np.array([150.0]), np.array([3.0]), np.array([np.nan]))
    assert alone.area_ppm_km[0] < 1.0                     # what the old fit did: the neighbour leaks in


def test_one_sided_crossing_is_not_measured():
    """A crossing where the track ends (no soundings beyond it) gets no estimate; the rule
    depends only on where soundings are, not on their values."""
    rng = np.random.default_rng(6)
    along, y = _track(rng)
    keep = along < 152.0
    f = ov.forced_fit(along[keep], y[keep], np.array([0.5]), np.array([150.0]), np.array([8.0]),
                      np.array([np.nan]))
    assert np.isnan(f.area_ppm_km[0])
    assert ov.two_sided(along, y, np.array([150.0, 151.0]), np.array([8.0, 8.0])).all()
    y2 = y.copy()
    y2[(along > 150.0) & (along < 170.0)] = np.nan          # a cloud gap on one side
    assert not ov.two_sided(along, y2, np.array([150.0]), np.array([8.0]))[0]
