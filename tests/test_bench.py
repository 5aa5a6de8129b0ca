"""Smoke tests of the benchmark harness (bench/): our detector on one tiny
synthetic orbit, the truth matching, the stage timer and the I/O-floor
readers. The reference (oco2peak) and the real benchmarks are never run here."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pathlib import Path

import pytest

from bench import data
from bench.common import stats, table
from bench.detect_bench import DETECT_HEADER, run_detect, summary_rows
from bench.synth import synthetic_track


def test_synthetic_track_has_track_columns_and_truth():
    from builder.soundings import TRACK_COLUMNS

    track, truth = synthetic_track(21500, length_km=800.0, n_plumes=2, seed=3)
    assert list(track.soundings.columns) == TRACK_COLUMNS
    assert track.n > 1000
    assert np.all(np.diff(track.soundings["along_km"].to_numpy()) >= 0)
    assert len(truth) >= 1 and set(truth["orbit"]) == {21500}


def test_detect_harness_runs_ours_on_one_tiny_orbit():
    r = run_detect(source="synthetic", orbits=1, repeat=1, ref_repeat=0, dense=False, synthetic_length_km=900.0)
    s = r["synthetic"]
    for key in ("label", "orbits", "n_soundings", "ours", "reference", "truth_ours"):
        assert key in s
    assert s["reference"] is None                      # never run in CI
    assert s["ours"]["soundings_per_s"]["median"] > 0
    assert s["n_soundings"] == r["input"]["n_soundings"]
    rec = s["truth_ours"]["recall"]
    assert set(rec) == {"peak>=0ppm", "peak>=0.5ppm", "peak>=1ppm", "peak>=2ppm"}
    assert rec["peak>=0ppm"]["truth"] >= 1
    text = table(summary_rows(r), DETECT_HEADER)
    assert "synthetic orbits" in text


def test_match_counts_crossings_within_15_km_same_orbit():
    truth = pd.DataFrame({"orbit": [1, 1, 2], "latitude": [10.0, 20.0, 10.0], "longitude": [5.0, 5.0, 5.0],
                          "peak_ppm": [2.0, 0.3, 1.5]})
    det = pd.DataFrame({"orbit": [1, 1, 1, 3], "latitude": [10.05, 10.06, 30.0, 10.0],
                        "longitude": [5.0, 5.0, 5.0, 5.0]})
    m = data.match(truth, det, orbits=[1, 2, 3])
    assert m["recall"]["peak>=0ppm"] == {"truth": 3, "found": 1}
    assert m["recall"]["peak>=1ppm"] == {"truth": 2, "found": 1}
    assert m["n_detections"] == 4 and m["n_detections_unmatched"] == 2
    assert m["n_distinct_detections"] == 3                 # the two peaks 1 km apart are one


def test_stats_median_and_spread():
    s = stats([2.0, 1.0, 3.0])
    assert s["median"] == 2.0 and s["min"] == 1.0 and s["max"] == 3.0 and s["spread_pct"] == pytest.approx(100.0)


def test_stage_timer_counts_stage_events_and_unsubscribes():
    import builder.detect as det
    from bench.e2e import StageTimer
    from builder import events

    real = det.detect_track
    timer = StageTimer().install()
    try:
        assert det.detect_track is real          # subscribed to builder.events, nothing wrapped
        track, _ = synthetic_track(7, length_km=400.0, n_plumes=1)
        from builder.config import Detect

        with events.stage("detect"):
            det.detect_track(track, Detect())
    finally:
        timer.uninstall()
    with events.stage("detect"):
        pass
    assert timer.calls["detect"] == 1 and timer.seconds["detect"] > 0


def test_io_floor_readers_on_a_lite_file(tmp_path):
    from bench.e2e import read_needed_netcdf4, read_needed_xarray
    from tests.factories import write_lite_file

    path = write_lite_file(tmp_path, n_frames=50)
    assert read_needed_netcdf4(path) == read_needed_xarray(path) > 0


def test_cli_parses_the_documented_options():
    from bench.__main__ import parse

    a = parse(["detect", "--orbits", "3", "--year"])
    assert a.what == "detect" and a.orbits == 3 and a.year
    assert parse([]).what == "speed"        # bash scripts/bench.sh without arguments: issue 15's figures


def test_speed_packs_day_files_eight_tracks_to_a_file(tmp_path):
    """The dense set: day files concatenated until a file holds DENSE_TRACKS_PER_FILE tracks."""
    from bench import speed
    from builder.soundings import read_file
    from tests.factories import lite_columns, write_lite_file

    days = tmp_path / "days"
    days.mkdir()
    for k in range(10):      # one 160-sounding track per day file
        cols = lite_columns(n_frames=20, start=f"2018-08-{k + 1:02d}T{8 + k:02d}:00:00", orbit=21500 + k, seed=k)
        write_lite_file(days, day=f"2018-08-{k + 1:02d}", columns=cols)
    out = tmp_path / "packed"
    out.mkdir()
    n_files, n_tracks = speed._pack(sorted(days.glob("*.nc4")), out)
    files = sorted(out.glob("*.nc4"))
    assert (n_files, n_tracks) == (2, 10) and len(files) == 2
    tracks = [read_file(f) for f in files]
    assert [len(t) for t in tracks] == [speed.DENSE_TRACKS_PER_FILE, 10 - speed.DENSE_TRACKS_PER_FILE]
    assert sum(t.n for ts in tracks for t in ts) == sum(t.n for f in days.glob("*.nc4") for t in read_file(f))


def test_speed_config_is_a_valid_atlas_toml(tmp_path):
    from bench import speed
    from builder.config import load_config

    cfg = load_config(speed.write_config(tmp_path / "atlas.toml", workers=2))
    assert cfg.compute.workers == 2 and Path(cfg.path("cache")).is_absolute()


@pytest.mark.slow
def test_reference_adapter_runs_oco2peak_on_one_synthetic_orbit():
    """Only with the bench extra installed (oco2peak 0.0.4); never in CI."""
    from bench import reference

    ok, why = reference.available()
    if not ok:
        pytest.skip(f"oco2peak not installed: {why}")
    track, truth = synthetic_track(21500, length_km=1500.0, n_plumes=2, seed=5)
    res = reference.run_reference([track], budget_s=30.0)
    assert res["orbits"] == [21500] and res["n_soundings"] == track.n
    assert res["n_windows"] > 0 and res["n_fits"] > 0
    m = data.match(data.load_truth(truth), res["peaks"], [21500])
    assert m["recall"]["peak>=0ppm"]["found"] >= 1
