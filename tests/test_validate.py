"""Validation figures on a hand-built truth/detections pair with known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from builder.config import Config
from builder.validate import ValidationInputError, format_validation, validate
from tests.factories import MT, det_row, truth_row


def write_case(tmp_path, t3_sigma=10.0):
    truth = [
        truth_row("T1", "A", 1, 22.0, 5.0, 50.0, 10.0, 15.0, 2.0, 5.0, 100, True),
        truth_row("T2", "B", 1, 12.0, 3.0, 51.0, 10.0, 30.0, 1.0, 6.0, 80, True),
        truth_row("T3", "C", 2, 15.0, 1.5, 40.0, 20.0, 18.0, 3.0, t3_sigma, 60, False),
        truth_row("T4", "D", 2, 25.0, 4.0, 41.0, 20.0, 35.0, 0.8, 5.0, 50, True),
        truth_row("T5", "E", 3, 3.0, 3.0, 30.0, 0.0, 5.0, 0.5, 3.0, 40, True),
        truth_row("T6", "F", 3, 8.0, 3.0, 31.0, 0.0, 90.0, 0.1, 15.0, 100, True),   # peak too small to match
        truth_row("T7", "G", 4, 30.0, 3.0, 0.0, 50.0, 10.0, 2.0, 5.0, 10, False),   # not observed
    ]
    dets = [
        det_row("D1", 1, 50.02, 10.0, 1.2 * 22 * MT, 0.3 * 22 * MT, "A"),   # rel +0.2, inside 1 sigma
        det_row("D8", 1, 50.05, 10.0, 2.0 * 22 * MT, 0.1 * 22 * MT, "A"),   # farther duplicate: matched, not used
        det_row("D2", 1, 51.09, 10.0, 0.6 * 12 * MT, 0.2 * 12 * MT, "X"),   # wrong source
        det_row("D6", 1, 52.5, 10.0, 100.0, 30.0, ""),                       # nothing there: FP
        det_row("D3", 2, 40.16, 20.0, 0.9 * 15 * MT, 0.2 * 15 * MT, "C"),   # 17.8 km: only within 2 sigma
        det_row("D7", 2, 50.0, 10.0, 100.0, 30.0, ""),                       # T1's place, wrong orbit: FP
        det_row("D4", 3, 31.03, 0.0, 100.0, 30.0, "F"),                      # on a 0.1 ppm plume: FP
        det_row("D5", 4, 0.0, 50.05, 1.45 * 30 * MT, 5.0, "G"),             # rel +0.45, outside 1 sigma
    ]
    truth_dir, det_dir = tmp_path / "truth", tmp_path / "build"
    truth_dir.mkdir()
    det_dir.mkdir()
    pd.DataFrame(truth).to_csv(truth_dir / "truth.csv", index=False)
    pd.DataFrame({"instrument": "OCO-2", "orbit": [1, 2, 3, 4], "source_file": "f.nc4", "n_soundings": 1000,
                  "track_km": [1000.0, 2000.0, 2000.0, 1000.0]}).to_csv(truth_dir / "tracks.csv", index=False)
    pd.DataFrame(dets).to_csv(det_dir / "detections.csv", index=False)
    return truth_dir, det_dir


def test_validate_exact_figures(tmp_path):
    truth_dir, det_dir = write_case(tmp_path)
    r = validate(truth_dir, det_dir, Config())
    c = r["counts"]
    assert (c["n_truth"], c["n_observed"], c["n_detected"]) == (7, 6, 3)
    assert (c["n_detections"], c["n_matched_detections"], c["n_false_positives"]) == (8, 5, 3)
    assert c["track_km"] == 6000.0
    assert r["recall"] == pytest.approx(0.5)
    by_e = {b["bin"]: (b["n"], b["n_detected"]) for b in r["recall_by_emission"]}
    assert by_e == {"<5": (1, 0), "5-10": (1, 0), "10-20": (2, 2), ">20": (2, 1)}
    by_d = {b["bin"]: (b["n"], b["n_detected"]) for b in r["recall_by_downwind"]}
    assert by_d == {"0-10": (1, 0), "10-20": (2, 2), "20-40": (2, 1), "40-80": (0, 0), ">80": (1, 0)}
    assert [b["recall"] for b in r["recall_by_downwind"]][3] is None
    assert (r["headline"]["n"], r["headline"]["n_detected"]) == (3, 2)
    assert r["headline"]["recall"] == pytest.approx(2 / 3)
    assert r["fp_per_1000km"] == pytest.approx(0.5)
    e = r["emission"]
    assert e["n"] == 3
    assert e["median_rel_err"] == pytest.approx(0.2)
    assert e["median_abs_rel_err"] == pytest.approx(0.2)
    assert e["within_30pct"] == pytest.approx(2 / 3) and e["within_50pct"] == pytest.approx(1.0)
    assert e["inside_1sigma"] == pytest.approx(2 / 3)
    assert r["n_wrong_source"] == 1
    assert r["attribution_all"] == {"n": 4, "n_correct": 3, "n_unattributed": 0, "accuracy": 0.75}
    a = r["attribution_isolated"]
    assert (a["n"], a["n_correct"]) == (2, 1) and a["accuracy"] == pytest.approx(0.5)
    assert r["meets"]["headline_recall"] is False and r["meets"]["fp_per_1000km"] is False  # 0.5 > 0.1
    assert r["meets"]["median_abs_rel_err"] is True and r["meets"]["inside_1sigma"] is True
    json.dumps(r, allow_nan=False)
    text = format_validation(r)
    assert "66.7%" in text and "MISS" in text and "0.50" in text


def test_match_radius_follows_plume_width(tmp_path):
    # with a narrow true plume the 17.8 km offset of D3 is too far: T3 missed, D3 a false positive
    truth_dir, det_dir = write_case(tmp_path, t3_sigma=5.0)
    r = validate(truth_dir, det_dir)
    assert r["counts"]["n_detected"] == 2 and r["counts"]["n_false_positives"] == 4
    assert r["emission"]["n"] == 2


def test_bad_inputs_name_the_file(tmp_path):
    truth_dir, det_dir = write_case(tmp_path)
    (det_dir / "detections.csv").unlink()
    with pytest.raises(ValidationInputError, match="detections.csv: file not found"):
        validate(truth_dir, det_dir)
    pd.DataFrame({"orbit": [1]}).to_csv(det_dir / "detections.csv", index=False)
    with pytest.raises(ValueError, match="detections.csv: missing column"):
        validate(truth_dir, det_dir)


def test_colocated_units_are_one_site_crossing(tmp_path):
    truth = [truth_row("U1", "U1", 7, 10.0, 4.0, 20.0, 30.0, 20.0, 1.0, 5.0, 100, False),
             truth_row("U2", "U2", 7, 5.0, 4.0, 20.005, 30.0, 20.3, 0.5, 5.0, 100, False),
             truth_row("V", "V", 7, 12.0, 4.0, 20.5, 30.0, 20.0, 1.0, 5.0, 100, True)]
    dets = [det_row("d", 7, 20.01, 30.0, 16.5 * MT, 3 * MT, "U2")]
    (tmp_path / "t").mkdir()
    pd.DataFrame(truth).to_csv(tmp_path / "t" / "truth.csv", index=False)
    pd.DataFrame({"orbit": [7], "track_km": [500.0]}).to_csv(tmp_path / "t" / "tracks.csv", index=False)
    pd.DataFrame(dets).to_csv(tmp_path / "detections.csv", index=False)
    r = validate(tmp_path / "t" / "truth.csv", tmp_path)
    assert r["counts"]["n_truth_rows"] == 3 and r["counts"]["n_truth"] == 2
    assert r["counts"]["n_detected"] == 1 and r["n_wrong_source"] == 0
    assert r["emission"]["n"] == 1 and r["emission"]["median_rel_err"] == pytest.approx(0.1)
    # without site merging the detection would be compared with one unit only
    from builder.validate import merge_sites
    assert len(merge_sites(pd.read_csv(tmp_path / "t" / "truth.csv"), 0.0)) == 3


def test_bad_truth_row_is_named(tmp_path):
    truth_dir, det_dir = write_case(tmp_path)
    t = pd.read_csv(truth_dir / "truth.csv")
    t["orbit"] = t["orbit"].astype(object)
    t.loc[2, "orbit"] = "abc"
    t.to_csv(truth_dir / "truth.csv", index=False)
    with pytest.raises(ValidationInputError, match=r"truth.csv:row 4: orbit is not a number"):
        validate(truth_dir, det_dir)


def test_no_detections(tmp_path):
    truth_dir, det_dir = write_case(tmp_path)
    pd.read_csv(det_dir / "detections.csv").iloc[:0].to_csv(det_dir / "detections.csv", index=False)
    r = validate(truth_dir, det_dir)
    assert r["counts"]["n_detections"] == 0 and r["recall"] == 0.0 and r["fp_per_1000km"] == 0.0
    assert r["emission"]["n"] == 0 and r["emission"]["median_abs_rel_err"] is None
    assert r["meets"]["median_abs_rel_err"] is None
    assert "n/a" in format_validation(r)


def test_upper_limit_honesty(tmp_path):
    truth_dir, det_dir = write_case(tmp_path)
    # T4 (25 Mt/yr, orbit 2) and T5 (3 Mt/yr, orbit 3) were not detected
    rows = [{"overpass_id": "D-OCO-2-2", "source_id": "D", "instrument": "OCO-2", "orbit": 2, "detected": False,
             "upper_limit_kg_s": 20 * MT},    # below the truth: a dishonest upper limit
            {"overpass_id": "E-OCO-2-3", "source_id": "E", "instrument": "OCO-2", "orbit": 3, "detected": False,
             "upper_limit_kg_s": 6 * MT},     # above the truth
            {"overpass_id": "E-OCO-2-9", "source_id": "E", "instrument": "OCO-2", "orbit": 9, "detected": False,
             "upper_limit_kg_s": 1 * MT},     # no truth crossing in that orbit: not counted
            {"overpass_id": "A-OCO-2-1", "source_id": "A", "instrument": "OCO-2", "orbit": 1, "detected": True,
             "upper_limit_kg_s": np.nan}]
    pd.DataFrame(rows).to_csv(det_dir / "overpasses.csv", index=False)
    ul = validate(truth_dir, det_dir)["upper_limits"]
    assert (ul["n"], ul["n_above"]) == (2, 1) and ul["share_above"] == pytest.approx(0.5)
    assert ul["median_ul_over_truth"] == pytest.approx(np.median([20 / 25, 6 / 3]))
    (det_dir / "overpasses.csv").unlink()
    assert validate(truth_dir, det_dir)["upper_limits"] is None
