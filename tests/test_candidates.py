"""Candidate new sources measured at every overpass (builder.candidates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from builder import physics, tables
from builder.candidates import measure_file, pseudo_emission, pseudo_sources, summarise_candidates
from builder.config import Config
from tests.factories import lite_columns, write_lite_file

Q_KG_S = 300.0
SRC_LAT, TRACK_LON = 12.0, 5.0
DOWN_KM = 20.0
SRC_LON = TRACK_LON - DOWN_KM / (111.195 * np.cos(np.radians(SRC_LAT)))


def track_with_plume(folder, day: str, q_kg_s: float, seed: int):
    """A northbound track at 5 E with a west wind of 3 m/s (v = -1): a plume of a source 20 km west
    of the track crosses it at ~12 N with area Q / (L1 u_perp)."""
    cols = lite_columns(n_frames=400, start=f"{day}T12:00:00", lat0=10.0, lon0=TRACK_LON, noise_ppm=0.5,
                        seed=seed, xco2_ppm=405.0)
    cols["windspeed_u_met"][:] = 3.0
    cols["windspeed_v_met"][:] = 0.0
    area = q_kg_s / (physics.line_density_kg_m(1.0, 1000.0, 20.0) * 3.0)     # ppm km
    sig = 4.0
    d_km = (cols["latitude"] - SRC_LAT) * 111.195
    cols["xco2"] = cols["xco2"] + area / (np.sqrt(2 * np.pi) * sig) * np.exp(-0.5 * (d_km / sig) ** 2)
    return write_lite_file(folder, day=day, columns=cols)


def candidates_table() -> pd.DataFrame:
    c = {col: np.nan for col in tables.CANDIDATE_COLUMNS}
    c.update(candidate_id="C+12.00+004.82", latitude=SRC_LAT, longitude=SRC_LON, n_detections=2, n_orbits=2,
             n_days=2, detection_ids="a|b", mean_emission_kg_s=Q_KG_S, nearest_source_ids="",
             nearest_source_km="")
    return pd.DataFrame([c])


def inventory() -> pd.DataFrame:
    return pd.DataFrame({"source_id": ["FAR", "NEAR"], "name": ["Far plant", "Near plant"],
                         "kind": ["power_plant"] * 2, "latitude": [30.0, 12.3], "longitude": [5.0, SRC_LON],
                         "emission_t_yr": [5e6, 5e5]})


def test_candidate_measured_at_every_overpass_like_a_source(tmp_path):
    cfg = Config()
    cand, src = candidates_table(), inventory()
    pseudo = pseudo_sources(cand, src, cfg.attribute)
    assert pseudo["is_candidate"].sum() == 1 and len(pseudo) == 1   # NEAR < 1 Mt/yr, FAR out of reach
    emission = pseudo_emission(pseudo, lambda df, t: np.full(len(df), 1.0))
    frames = []
    for day, q, seed in (("2018-08-03", Q_KG_S, 1), ("2018-08-19", 0.0, 2)):
        f = track_with_plume(tmp_path, day, q, seed)
        frames.append(measure_file(f, cfg, pseudo, emission))
    ovp = pd.concat(frames, ignore_index=True)
    assert list(ovp.columns) == tables.OVERPASS_COLUMNS and len(ovp) == 2
    assert (ovp["source_id"] == "C+12.00+004.82").all()
    assert ovp["downwind_km"].to_numpy() == pytest.approx([DOWN_KM, DOWN_KM], abs=1.5)
    est, unc = ovp["emission_kg_s"].to_numpy(float), ovp["emission_unc_kg_s"].to_numpy(float)
    assert np.all(np.isfinite(est) & (unc > 0))
    # the plume day is measured near the truth, the plume-free day near zero, each within 3 sigma
    stat = ovp["emission_stat_unc_kg_s"].to_numpy(float)
    assert abs(est[0] - Q_KG_S) < 3 * unc[0] and est[0] - est[1] > 2 * np.hypot(stat[0], stat[1])
    assert abs(est[1]) < 3 * unc[1]
    assert list(ovp["detected"]) == [True, False]
    out = summarise_candidates(cand, ovp, src)
    r = out.iloc[0]
    assert list(out.columns) == tables.CANDIDATE_COLUMNS
    assert (r["n_overpasses"], r["n_measured"], r["n_detected"]) == (2, 2, 1)
    # combined over both overpasses (detected or not): about half the plume day's estimate
    assert 0 < r["emission_kg_s"] < est[0] and r["emission_unc_kg_s"] > 0
    assert r["nearest_source_ids"] == "NEAR|FAR"
    km = [float(x) for x in r["nearest_source_km"].split("|")]
    assert km[0] == pytest.approx(33.4, abs=0.5) and km[1] > 1900


def test_seed_moves_upwind_by_the_distance_its_width_implies():
    from builder.candidates import upwind_shift_km

    # north-bound track, wind 4 m/s from the west (class C): a narrower plume is nearer its source
    d = pd.DataFrame({"wind_u_m_s": [4.0, 4.0, 4.0, np.nan], "wind_v_m_s": [0.0, 0.0, 0.0, np.nan],
                      "sigma_km": [2.0, 2.5, 60.0, 4.0], "track_azimuth_deg": [0.0, 0.0, 0.0, 0.0]})
    east, north = upwind_shift_km(d)
    sy = np.sqrt(np.array([2.0, 2.5]) ** 2 - 1.5 ** 2) * 1e3
    x = (sy / physics.sigma_y_m(1.0, "C")) ** (1 / physics.PG_EXPONENT)
    assert east[:2] == pytest.approx(-x) and 0 < x[0] < x[1] < 40
    assert east[2] == pytest.approx(-40.0) and east[3] == 0.0 and np.allclose(north, 0.0)


def test_single_linkage_labels_are_dbscans():
    """find_candidates' clustering without scikit-learn gives DBSCAN(min_samples=1, haversine)'s
    labels exactly, numbering included, on clustered points with pairs close to eps."""
    from sklearn.cluster import DBSCAN

    from builder import physics
    from builder.candidates import single_linkage_labels

    rng = np.random.default_rng(3)
    centres = np.column_stack([rng.uniform(-70, 70, 40), rng.uniform(-180, 180, 40)])
    pts = centres[rng.integers(0, 40, 600)] + rng.normal(0, 0.25, (600, 2))
    pts[:, 1] = (pts[:, 1] + 180) % 360 - 180
    for eps_km in (5.0, 25.0, 60.0):
        want = DBSCAN(eps=eps_km / physics.EARTH_RADIUS_KM, min_samples=1, metric="haversine",
                      algorithm="ball_tree").fit_predict(np.radians(pts))
        got = single_linkage_labels(pts[:, 0], pts[:, 1], eps_km)
        assert np.array_equal(got, want)
        assert len(np.unique(want)) not in (1, len(pts))     # the case is not trivial
