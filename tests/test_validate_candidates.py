"""Candidate figures and withheld sources in the validation (builder.validate_candidates, builder.validate)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from builder import physics
from builder.config import Config
from builder.validate import validate
from builder.validate_candidates import pool, true_source_positions
from tests.factories import MT, det_row, truth_row


def write_world(tmp_path):
    truth_dir, det_dir = tmp_path / "truth", tmp_path / "det"
    truth_dir.mkdir()
    det_dir.mkdir()
    # A listed at (50, 10 - 15 km west); W withheld (12 Mt/yr) at (40, 20 - 20 km west), seen on 2 days
    dlon_a = 15.0 / (111.195 * math.cos(math.radians(50.0)))
    dlon_w = 20.0 / (111.195 * math.cos(math.radians(40.0)))
    t = [truth_row("T1", "A", 1, 20.0, 5.0, 50.0, 10.0, 15.0, 2.0, 5.0, 100, True),
         truth_row("T2", "W", 2, 12.0, 5.0, 40.0, 20.0, 20.0, 1.0, 5.0, 100, True),
         truth_row("T3", "W", 3, 12.0, 5.0, 40.0, 20.0, 20.0, 1.0, 5.0, 100, True)]
    t[2]["time_utc"] = "2018-08-09T12:00:00Z"
    truth = pd.DataFrame(t).assign(withheld=[False, True, True])
    truth.to_csv(truth_dir / "truth.csv", index=False)
    pd.DataFrame({"instrument": "OCO-2", "orbit": [1, 2, 3], "source_file": "f.nc4", "n_soundings": 1000,
                  "track_km": 1000.0}).to_csv(truth_dir / "tracks.csv", index=False)
    pd.DataFrame({"source_id": ["W", "W2"], "name": "", "kind": "power_plant", "latitude": [40.0, -30.0],
                  "longitude": [20.0 - dlon_w, 150.0], "emission_t_yr": [12e6, 6e6], "size_rank": [1, 2]}
                 ).to_csv(truth_dir / "withheld.csv", index=False)
    (truth_dir / "simulation.json").write_text(json.dumps({"parameters": {"lat_band": [-60.0, 75.0]}}))
    dets = [det_row("D1", 1, 50.0, 10.0, 20 * MT, 5 * MT, "A"),
            det_row("D2", 2, 40.01, 20.0, 12 * MT, 4 * MT, "")]      # a withheld plume: a true anomaly
    pd.DataFrame(dets).to_csv(det_dir / "detections.csv", index=False)
    cands = pd.DataFrame({"candidate_id": ["near W", "near A", "nowhere"],
                          "latitude": [40.05, 50.0, 10.0], "longitude": [20.0 - dlon_w, 10.0 - dlon_a + 0.05, 0.0]})
    cands.to_csv(det_dir / "candidates.csv", index=False)
    return truth_dir, det_dir, dlon_a


def test_true_source_positions_back_from_the_crossings(tmp_path):
    truth_dir, _, dlon_a = write_world(tmp_path)
    pos = true_source_positions(pd.read_csv(truth_dir / "truth.csv")).set_index("source_id")
    assert pos.loc["A", "latitude"] == pytest.approx(50.0, abs=1e-6)
    assert pos.loc["A", "longitude"] == pytest.approx(10.0 - dlon_a, abs=1e-3)


def test_candidate_recall_precision_and_false_rate(tmp_path):
    truth_dir, det_dir, _ = write_world(tmp_path)
    r = validate(truth_dir, det_dir, Config())
    c = r["candidates"]
    assert (c["n_ge5"], c["n_found_ge5"], c["recall_ge5"]) == (2, 1, 0.5)
    assert (c["n_ge10"], c["recall_ge10"]) == (1, 1.0)
    assert (c["n_seen_ge5"], c["n_seen_found_ge5"]) == (1, 1)      # W2 never crossed
    assert c["n_candidates"] == 3 and c["n_right"] == 2 and c["n_right_withheld"] == 1
    assert c["precision"] == pytest.approx(2 / 3) and c["precision_new"] == pytest.approx(1 / 3)
    area = 2 * math.pi * physics.EARTH_RADIUS_KM ** 2 * (math.sin(math.radians(75)) + math.sin(math.radians(60))) / 1e6
    assert c["false_per_mkm2"] == pytest.approx(1 / area)
    # the anomaly on the withheld plume is a true anomaly, left out of the attribution figures
    assert r["counts"]["n_false_positives"] == 0 and r["counts"]["n_matched_detections"] == 2
    assert r["withheld"]["n_matched_detections"] == 1
    assert r["attribution_all"]["n"] == 1 and r["attribution_all"]["accuracy"] == 1.0
    p = pool([c, c])
    assert p["recall_ge5"] == 0.5 and p["precision"] == pytest.approx(2 / 3) and p["n_candidates"] == 6


def test_targeted_detection_on_a_withheld_plume_is_right(tmp_path):
    truth_dir, det_dir, _ = write_world(tmp_path)
    # listed source L (no plume of its own) measured where W's plume crosses orbit 2, and far from it in orbit 3
    pd.DataFrame({"overpass_id": ["L-2", "L-3"], "source_id": "L", "instrument": "OCO-2", "orbit": [2, 3],
                  "detected": True, "emission_kg_s": 300.0, "emission_unc_kg_s": 100.0, "inventory_kg_s": 100.0,
                  "upper_limit_kg_s": float("nan"), "downwind_km": 10.0,
                  "cross_latitude": [40.03, 45.0], "cross_longitude": [20.0, 20.0]}
                 ).to_csv(det_dir / "overpasses.csv", index=False)
    pd.DataFrame({"source_id": ["L"], "n_measured": [2], "ratio": [3.0], "ratio_unc": [1.0],
                  "inventory_kg_s": [100.0]}).to_csv(det_dir / "sources_summary.csv", index=False)
    t = validate(truth_dir, det_dir, Config())["overpasses"]["targeted"]
    assert (t["n"], t["n_right"], t["n_right_withheld"]) == (2, 1, 1)
