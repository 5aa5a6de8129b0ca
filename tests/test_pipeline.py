"""Per-file pipeline: cache (no-op rebuild, incremental, corrupt entries), bad files, Dask equivalence."""

import json

import numpy as np
import pandas as pd
import pytest

from builder import tables
from builder.config import load_config
from builder.inventory import TemporalProfiles
from builder.pipeline import ResultCache, run_core, write_tables
from builder.soundings import find_input_files
from tests.factories import PLUME_SOURCE_LAT, PLUME_SOURCE_LON, plume_file

SOURCE_LAT, SOURCE_LON = PLUME_SOURCE_LAT, PLUME_SOURCE_LON


def _sources():
    return pd.DataFrame({
        "source_id": ["test-1", "test-2"], "name": ["Plant One", "Plant Two"], "kind": ["power_plant"] * 2,
        "fuel": ["coal", "gas"], "country": ["XXX", "XXX"], "latitude": [SOURCE_LAT, -30.0],
        "longitude": [SOURCE_LON - 0.15, 100.0], "emission_t_yr": [20e6, 5e6], "inventory": ["test"] * 2,
        "inventory_year": [2018] * 2, "profile_month": [""] * 2, "profile_week": [""] * 2, "profile_hour": [""] * 2,
    })


@pytest.fixture
def setup(tmp_path):
    data = tmp_path / "oco2"
    data.mkdir()
    for i, day in enumerate(["2018-08-01", "2018-08-02", "2018-08-03"]):
        plume_file(data, day, seed=i, orbit=21500 + 15 * i)
    cfg = load_config(tmp_path / "atlas.toml", paths={"cache": str(tmp_path / "cache")})
    return cfg, data, _sources(), TemporalProfiles.flat()


def _run(cfg, data, sources, profiles, **kw):
    skipped = []
    core = run_core(cfg, find_input_files(data), sources, profiles.emission_kg_s, skipped, **kw)
    return core, skipped


def test_detects_injected_plumes_and_writes_interface_tables(setup, tmp_path):
    cfg, data, sources, profiles = setup
    core, skipped = _run(cfg, data, sources, profiles)
    det = core.result.detections
    assert not skipped
    assert core.n_processed == 3 and core.n_cached == 0
    near = det[np.abs(det["latitude"] - SOURCE_LAT) < 0.15]
    assert near["orbit"].nunique() == 3, det[["orbit", "latitude", "significance"]]
    assert (near["source_id"] == "test-1").all()
    out = tmp_path / "out"
    write_tables(core.result, out)
    header = pd.read_csv(out / "detections.csv", nrows=0).columns.tolist()
    assert header[: len(tables.DETECTIONS_CSV_LEAD)] == tables.DETECTIONS_CSV_LEAD
    for name in ("overpasses.csv", "candidates.csv", "summary.json"):
        assert (out / name).exists()
    assert json.loads((out / "summary.json").read_text())["n_files"] == 3


def test_noop_rebuild_does_no_detection_work(setup, monkeypatch):
    cfg, data, sources, profiles = setup
    first, _ = _run(cfg, data, sources, profiles)

    def boom(*a, **k):
        raise AssertionError("detection must not run on a no-op rebuild")

    monkeypatch.setattr("builder.detect.detect_track", boom)
    second, _ = _run(cfg, data, sources, profiles)
    assert second.n_processed == 0 and second.n_cached == 3
    pd.testing.assert_frame_equal(first.result.detections, second.result.detections, check_dtype=False)
    pd.testing.assert_frame_equal(first.result.overpasses, second.result.overpasses, check_dtype=False)


def test_one_new_file_reprocesses_only_that_file(setup):
    cfg, data, sources, profiles = setup
    _run(cfg, data, sources, profiles)
    plume_file(data, "2018-08-04", seed=9, orbit=21560)
    core, _ = _run(cfg, data, sources, profiles)
    assert core.n_processed == 1 and core.n_cached == 3


def test_config_change_invalidates_cache(setup, tmp_path):
    cfg, data, sources, profiles = setup
    _run(cfg, data, sources, profiles)
    cfg2 = load_config(tmp_path / "atlas.toml", paths={"cache": str(tmp_path / "cache")},
                       detect={"min_significance": 6.0})
    core, _ = _run(cfg2, data, sources, profiles)
    assert core.n_processed == 3


@pytest.mark.parametrize("damage", ["flip", "foreign", "truncate_meta"])
def test_corrupt_cache_entry_is_recomputed(setup, damage):
    cfg, data, sources, profiles = setup
    first, _ = _run(cfg, data, sources, profiles)
    entries = sorted(p for p in cfg.path("cache").glob("*/*") if p.is_dir())
    assert len(entries) == 3
    victim = entries[0]
    if damage == "flip":
        f = victim / "detections.json"
        raw = bytearray(f.read_bytes())
        raw[len(raw) // 2] ^= 0x55
        f.write_bytes(bytes(raw))
    elif damage == "foreign":
        meta = json.loads((victim / "meta.json").read_text())
        meta["key"] = "0" * 64
        (victim / "meta.json").write_text(json.dumps(meta))
    else:
        (victim / "meta.json").write_text('{"key": ')
    second, _ = _run(cfg, data, sources, profiles)
    assert second.n_processed == 1 and second.n_cached == 2
    pd.testing.assert_frame_equal(first.result.detections, second.result.detections, check_dtype=False)


def test_bad_and_duplicate_files_are_skipped_with_reasons(setup):
    cfg, data, sources, profiles = setup
    (data / "oco2_LtCO2_180805_B11210Ar_broken.nc4").write_bytes(b"not a netcdf file")
    dup = data / "copy_of_day1.nc4"
    dup.write_bytes(sorted(data.glob("oco2_LtCO2_180801_*"))[0].read_bytes())
    core, skipped = _run(cfg, data, sources, profiles)
    reasons = {s.item: s.reason for s in skipped}
    assert "not a readable NetCDF4" in reasons["oco2_LtCO2_180805_B11210Ar_broken.nc4"]
    dup_item = [k for k, v in reasons.items() if "duplicate of" in v]
    assert len(dup_item) == 1
    assert core.result.summary["n_files"] == 4  # 3 good + the broken one (recorded), duplicate not read
    assert core.result.detections["orbit"].nunique() == 3


def test_dask_local_cluster_gives_identical_results(setup, tmp_path):
    cfg, data, sources, profiles = setup
    serial, _ = _run(cfg, data, sources, profiles, use_cache=False)
    cfg2 = load_config(tmp_path / "atlas.toml", paths={"cache": str(tmp_path / "cache2")},
                       compute={"scheduler": "local", "workers": 2})
    dist, _ = _run(cfg2, data, sources, profiles, use_cache=False)
    assert len(serial.result.detections) > 0
    for name in ("detections", "profiles", "overpasses", "candidates", "source_summary"):
        pd.testing.assert_frame_equal(getattr(serial.result, name), getattr(dist.result, name), check_dtype=False)


def test_cache_roundtrip_preserves_types(tmp_path):
    from builder.pipeline import FileResult
    from builder.results import SkippedItem

    det = pd.DataFrame({"detection_id": ["a"], "time_utc": pd.to_datetime(["2018-08-01T12:00:00Z"]),
                        "orbit": [1], "flag_parallel_wind": [True], "source_id": [None], "x": [1.5]})
    res = FileResult(file="f.nc4", detections=det, profiles=pd.DataFrame({"detection_id": ["a"], "along_km": [1.0]}),
                     overpasses=pd.DataFrame(), tracks=pd.DataFrame({"orbit": [1]}),
                     errors=[SkippedItem("f.nc4", "why", "ingest")])
    cache = ResultCache(tmp_path)
    cache.put("ab" * 32, res)
    back = cache.get("ab" * 32)
    assert back.cached and back.errors[0].reason == "why"
    assert back.detections["time_utc"].iloc[0] == det["time_utc"].iloc[0]
    assert back.detections["flag_parallel_wind"].dtype == bool
    assert back.detections["orbit"].iloc[0] == 1
    assert cache.get("cd" * 32) is None
