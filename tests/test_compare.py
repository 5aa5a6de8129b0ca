"""Per-source comparison: weighted mean ratio, chi2 and counts against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from builder import physics, tables
from builder.compare import compare


def ovp(source_id, orbit, detected, emission=np.nan, unc=np.nan, inventory=100.0, det_id=""):
    ratio = emission / inventory if detected else np.nan
    ratio_unc = unc / inventory if detected else np.nan
    row = {c: np.nan for c in tables.OVERPASS_COLUMNS}
    row.update({"overpass_id": f"{source_id}-OCO-2-{orbit}", "source_id": source_id, "instrument": "OCO-2",
                "orbit": orbit, "detected": detected, "detection_id": det_id, "emission_kg_s": emission,
                "emission_unc_kg_s": unc, "upper_limit_kg_s": np.nan if detected else 50.0,
                "inventory_kg_s": inventory, "ratio": ratio, "ratio_unc": ratio_unc})
    return row


def test_weighted_mean_matches_hand_computation():
    rows = [ovp("A", 1, True, 80.0, 20.0, det_id="d1"),     # r = 0.8 +- 0.2
            ovp("A", 2, True, 120.0, 40.0, det_id="d2"),    # r = 1.2 +- 0.4
            ovp("A", 3, False, inventory=200.0),             # non-detection: counted, no ratio
            ovp("B", 1, True, 30.0, 15.0, inventory=60.0, det_id="d3")]
    out = compare(pd.DataFrame(rows), pd.DataFrame(), pd.DataFrame(columns=tables.SOURCE_COLUMNS))
    assert list(out.columns) == tables.SOURCE_SUMMARY_COLUMNS
    a = out.set_index("source_id").loc["A"]
    w = np.array([1 / 0.2**2, 1 / 0.4**2])
    r = np.array([0.8, 1.2])
    mean = (w * r).sum() / w.sum()
    assert a["ratio_mean"] == pytest.approx(mean) and a["ratio_mean"] == pytest.approx(0.88)
    assert a["ratio_unc"] == pytest.approx(1 / np.sqrt(w.sum()))
    assert a["ratio_chi2"] == pytest.approx((w * (r - mean) ** 2).sum() / 1)
    assert a["n_overpasses"] == 3 and a["n_detections"] == 2
    assert a["mean_inventory_kg_s"] == pytest.approx((100 + 100 + 200) / 3)
    assert a["mean_observed_kg_s"] == pytest.approx(100.0)
    b = out.set_index("source_id").loc["B"]
    assert b["ratio_mean"] == pytest.approx(0.5) and b["ratio_unc"] == pytest.approx(0.25)
    assert np.isnan(b["ratio_chi2"]) and b["n_overpasses"] == 1


def test_only_nondetections_and_detection_fallback():
    src = pd.DataFrame([{"source_id": "C", "emission_t_yr": 10e6}, {"source_id": "D", "emission_t_yr": 5e6}])
    rows = [ovp("C", 1, False, inventory=np.nan)]
    # detection attributed to D with no overpass row: counted as a detected overpass
    dets = pd.DataFrame([{"detection_id": "x", "source_id": "D", "emission_kg_s": 150.0, "emission_unc_kg_s": 50.0,
                          "inventory_kg_s": 100.0},
                         {"detection_id": "y", "source_id": "", "emission_kg_s": 1.0, "emission_unc_kg_s": 1.0,
                          "inventory_kg_s": np.nan}])
    out = compare(pd.DataFrame(rows), dets, src).set_index("source_id")
    assert sorted(out.index) == ["C", "D"]
    assert out.loc["C", "n_detections"] == 0 and np.isnan(out.loc["C", "ratio_mean"])
    assert out.loc["C", "mean_inventory_kg_s"] == pytest.approx(10 * physics.KG_S_PER_MT_YR)
    assert out.loc["D", "ratio_mean"] == pytest.approx(1.5) and out.loc["D", "ratio_unc"] == pytest.approx(0.5)


def test_empty():
    out = compare(pd.DataFrame(columns=tables.OVERPASS_COLUMNS), pd.DataFrame(), pd.DataFrame())
    assert len(out) == 0 and list(out.columns) == tables.SOURCE_SUMMARY_COLUMNS


def test_one_estimate_per_source_and_orbit():
    """A plume split into two fits in one orbit is one overpass, not two (and not three)."""
    import pandas as pd

    from builder.compare import compare

    det = pd.DataFrame({
        "detection_id": ["a", "b", "c", "d"], "source_id": ["s1", "s1", "s2", "s2"],
        "instrument": ["OCO-2"] * 4, "orbit": [10, 10, 11, 11], "significance": [6.0, 3.0, 2.0, 5.0],
        "emission_kg_s": [100.0, 80.0, 50.0, 70.0], "emission_unc_kg_s": [30.0, 30.0, 20.0, 20.0],
        "inventory_kg_s": [100.0] * 4,
    })
    ovp = pd.DataFrame({
        "overpass_id": ["s1-OCO-2-10"], "source_id": ["s1"], "detected": [True], "detection_id": ["a"],
        "emission_kg_s": [100.0], "emission_unc_kg_s": [30.0], "inventory_kg_s": [100.0],
        "ratio": [1.0], "ratio_unc": [0.3],
    })
    out = compare(ovp, det, pd.DataFrame()).set_index("source_id")
    assert out.loc["s1", "n_overpasses"] == 1 and out.loc["s1", "n_detections"] == 1
    # s2 has no overpass row: its two detections in orbit 11 collapse to the most significant one (d)
    assert out.loc["s2", "n_overpasses"] == 1
    assert out.loc["s2", "mean_observed_kg_s"] == 70.0
