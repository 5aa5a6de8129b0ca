"""The command line end to end on small inputs: simulate -> detect -> validate."""

import json

import pandas as pd

from builder import tables
from builder.cli import main
from builder.errors import EXIT_CONFIG


def test_simulate_writes_lite_files_and_truth(simulated):
    root, cfg, sim = simulated
    files = sorted(sim.glob("*.nc4"))
    assert len(files) >= 2 and all(f.name.startswith("oco2_LtCO2_1808") for f in files)
    truth = pd.read_csv(sim / "truth.csv")
    assert {"source_id", "emission_kg_s", "cross_latitude", "area_ppm_km"} <= set(truth.columns)
    assert json.loads((sim / "simulation.json").read_text())["simulated"] is True


def test_detect_then_validate(simulated, capsys):
    root, cfg, sim = simulated
    out = root / "out"
    assert main(["--config", str(cfg), "detect", "--oco2", str(sim), "--out", str(out)]) == 0
    det = pd.read_csv(out / "detections.csv")
    assert list(det.columns[: len(tables.DETECTIONS_CSV_LEAD)]) == tables.DETECTIONS_CSV_LEAD
    ovp = pd.read_csv(out / "overpasses.csv")
    assert list(ovp.columns[: len(tables.OVERPASS_COLUMNS)]) == tables.OVERPASS_COLUMNS
    assert len(ovp) > 0  # the region holds several large plants: some tracks cross their plumes
    assert (out / "candidates.csv").exists()
    capsys.readouterr()
    assert main(["--config", str(cfg), "validate", "--truth", str(sim), "--detections", str(out)]) == 0
    printed = capsys.readouterr().out
    figures = json.loads((out / "validation.json").read_text())
    assert "fp_per_1000km" in figures and "recall_by_emission" in figures
    assert "false" in printed.lower() and "recall" in printed.lower()


def test_detect_on_empty_folder_is_clear(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "atlas.toml"), "detect", "--oco2", str(tmp_path), "--out",
                 str(tmp_path / "o")]) == 2
    assert "no OCO Lite" in capsys.readouterr().err


def test_bad_config_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "atlas.toml"
    cfg.write_text("[detect]\nwindow_km = 'x'\n")
    assert main(["--config", str(cfg), "detect", "--oco2", str(tmp_path), "--out", str(tmp_path)]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("error: [detect] window_km must be a number") and "Traceback" not in err


def test_only_inventories_and_inventory_flags(simulated, tmp_path, capsys):
    """--only-inventories with a generic CSV: overpasses only of those sources; without any
    --inventory it is one clear error line."""
    root, cfg, sim = simulated
    mine = tmp_path / "mine.csv"
    mine.write_text("source_id,name,latitude,longitude,emission_t_yr\n"
                    "B1,Belchatow (mine),51.2664,19.3306,38000000\nX,,0,0,1\n")
    out = tmp_path / "out"
    assert main(["--config", str(cfg), "detect", "--oco2", str(sim), "--out", str(out),
                 "--only-inventories", "--inventory", f"csv:{mine}"]) == 0
    assert "mine.csv:row 3" in capsys.readouterr().err          # the bad row, one line
    ovp = pd.read_csv(out / "overpasses.csv")
    assert set(ovp["source_id"]) <= {"B1"}
    summary = pd.read_csv(out / "sources_summary.csv")
    assert list(summary.columns) == tables.SOURCE_SUMMARY_COLUMNS
    code = main(["--config", str(cfg), "detect", "--oco2", str(sim), "--out", str(out), "--only-inventories"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--inventory" in err[0]
