"""Statistics of the calibrated simulated world (builder.simworld) against the
real-OCO-2 targets of docs/realism.md, with tolerances: sounding density, clear
runs, water share, noise spectrum by surface, heavy tails, the written
uncertainty and the August background."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


from builder import simulate as sim
from builder import simworld
from builder.config import Config, Ingest
from builder.soundings import read_lite

DAYS = 2


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two global mid-August days without plumes (the noise and sampling only)."""
    out = tmp_path_factory.mktemp("world")
    res = sim.simulate(Config(), pd.DataFrame(columns=["source_id", "latitude", "longitude", "emission_t_yr"]),
                       sim.constant_emission_kg_s, out, days=DAYS, start="2018-08-15", seed=20180801)
    frames = []
    for f in res.files:
        for t in read_lite(f, Ingest(max_quality_flag=0)):
            frames.append(t.soundings.assign(orbit=t.orbit))
    df = pd.concat(frames, ignore_index=True)
    df["frame"] = df["sounding_id"] // 10
    return res, df


def test_density_like_a_real_month(world):
    """2.2-2.9 M good soundings a month (real 2019 months: 1.9-2.8 M)."""
    _, df = world
    per_month = len(df) / DAYS * 31
    assert 2.0e6 < per_month < 3.1e6, per_month


def test_clear_runs_and_sparse_broken_cloud(world):
    """Long clear stretches with most footprints good, and sparse broken-cloud frames."""
    _, df = world
    per_frame = df.groupby("frame").size()
    assert (per_frame >= 6).mean() > 0.5          # clear stretches: 6-8 of 8 good
    assert (per_frame <= 2).mean() > 0.05         # broken cloud: 1-2 good
    # 200 km windows around every 15th sounding holding >= 400 good soundings (the team's rule)
    dense = []
    for _, g in df.groupby("orbit"):
        a = np.sort(g["along_km"].to_numpy())
        c = a[::15]
        dense.append(np.searchsorted(a, c + 100) - np.searchsorted(a, c - 100) >= 400)
    assert np.concatenate(dense).mean() > 0.3


def test_water_share(world):
    """Ocean glint on alternate orbits: a large share of good soundings over water."""
    _, df = world
    water = (df["land_water"] == 1).mean()
    assert 0.3 < water < 0.6, water


def _within_frame(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby("frame")["xco2_ppm"]
    n = g.transform("size")
    dev = (df["xco2_ppm"] - g.transform("mean")) * np.sqrt(n / (n - 1).clip(lower=1))
    return df.assign(dev=dev, n=n)[n >= 6]


@pytest.mark.parametrize("surface, lo, hi", [(0, 0.35, 0.7), (1, 0.18, 0.4)])
def test_white_noise_by_surface_with_heavy_tails(world, surface, lo, hi):
    _, df = world
    w = _within_frame(df[df["land_water"] == surface])
    std = w["dev"].std()
    mad = 1.4826 * np.median(np.abs(w["dev"] - w["dev"].median()))
    assert lo < std < hi, std
    assert std / mad > 1.08, std / mad          # Student-t tails, not Gaussian
    assert w["xco2_unc_ppm"].mean() < std       # the written uncertainty underestimates the scatter


def test_correlated_errors_at_tens_of_km(world):
    """Frame means (white averaged down) stay correlated over ~10 km and decorrelate by ~100 km."""
    _, df = world
    fm = df.groupby(["orbit", "frame"]).agg(x=("xco2_ppm", "mean"), a=("along_km", "mean"), n=("xco2_ppm", "size"))
    fm = fm[fm.n >= 6].reset_index()
    lag = {}
    for k in (4, 40):
        pairs = []
        for _, g in fm.groupby("orbit"):
            x, a = g["x"].to_numpy(), g["a"].to_numpy()
            if len(x) <= k:
                continue
            ok = np.abs(a[k:] - a[:-k] - 2.25 * k) < 0.5 * k      # contiguous stretches only
            r = x - pd.Series(x).rolling(89, center=True, min_periods=20).median().to_numpy()
            pairs.append(np.stack([r[:-k][ok], r[k:][ok]]))
        p = np.concatenate(pairs, axis=1)
        p = p[:, np.isfinite(p).all(axis=0)]
        lag[k] = np.corrcoef(p)[0, 1]
    assert lag[4] > 0.4 and lag[40] < lag[4] - 0.2, lag


def test_background_has_the_northern_summer_drawdown(world):
    """Mid-August at 45-60 N is ~401 ppm (real OCO-2 fits: 401.2), the south ~406."""
    _, df = world
    north = df.loc[df["latitude"].between(45, 60), "xco2_ppm"].median()
    south = df.loc[df["latitude"].between(-30, -5), "xco2_ppm"].median()
    assert abs(north - 401.2) < 1.0, north
    assert 3.5 < south - north < 6.5


def test_background_function_matches_august_zonal_means():
    """The analytic field reproduces its August anchors in the monthly mean."""
    t = np.arange(31) * 86400.0 + 43200.0
    lat = np.array([-20.0, 0.0, 50.0])
    month = np.array([simworld.background_xco2_ppm(lat, ti) for ti in t]).mean(axis=0)
    np.testing.assert_allclose(month, np.interp(lat, simworld.AUGUST_LAT_DEG, simworld.AUGUST_XCO2_PPM), atol=0.15)
