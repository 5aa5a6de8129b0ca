"""Plant names: the CoCO2 -> GPPD crosswalk (builder.names) and the shipped file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builder.errors import Problems
from builder import inventory as inv
from builder import names

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "dataset" / "coco2"
GPPD_SUBSET = REPO.parent / "shared" / "data" / "gppd" / "gppd_v1.2.0_fossil.csv.gz"
KM_PER_DEG = 111.195


def _units(*rows):
    return pd.DataFrame(rows, columns=["source_id", "fuel", "latitude", "longitude"])


def _plants(*rows):
    return pd.DataFrame(rows, columns=["gppd_idnr", "name", "primary_fuel", "capacity_mw", "latitude", "longitude"])


def test_match_prefers_same_fuel_and_respects_distances():
    d = 1.0 / KM_PER_DEG  # one km of latitude
    units = _units(("u1", "coal", 10.0, 20.0), ("u2", "natural gas", 30.0, 20.0), ("u3", "waste", 40.0, 20.0),
                   ("u4", "oil", 50.0, 20.0))
    plants = _plants(
        ("G1", "Gas next door", "gas", 100, 10.0 + 0.1 * d, 20.0),   # nearer, wrong fuel
        ("C1", "Coal plant", "coal", 900, 10.0 + 0.8 * d, 20.0),     # same fuel, 0.8 km
        ("G2", "Too far", "gas", 50, 30.0 + 1.2 * d, 20.0),         # same fuel but 1.2 km
        ("C2", "Co-sited coal", "coal", 300, 40.0 + 0.3 * d, 20.0),  # other fuel, 0.3 km: accepted
        ("C3", "Other fuel 0.7 km", "coal", 300, 50.0 + 0.7 * d, 20.0))  # other fuel, 0.7 km: refused
    cw = names.match(units, plants).set_index("source_id")
    assert sorted(cw.index) == ["u1", "u3"]
    assert cw.at["u1", "name"] == "Coal plant" and cw.at["u1", "gppd_idnr"] == "C1"
    assert cw.at["u1", "match_km"] == pytest.approx(0.8, abs=0.01) and bool(cw.at["u1", "fuel_agrees"])
    assert cw.at["u3", "name"] == "Co-sited coal" and not bool(cw.at["u3", "fuel_agrees"])


def test_display_name_and_unmatched_units_keep_their_name():
    assert names.display_name("Bełchatów", "coal", 5472.0, "POL") == "Bełchatów — coal, 5,472 MW (POL)"
    assert names.display_name("X", "", float("nan"), "") == "X"
    src = pd.DataFrame({"source_id": ["a", "b"], "name": ["Coal power plant A (USA-AL)", "Gas power plant B (FRA)"],
                        "fuel": ["coal", "natural gas"], "country": ["USA-AL", "FRA"],
                        "emission_t_yr": [2e6, 3e6]})
    cw = pd.DataFrame({"source_id": ["a"], "gppd_idnr": [""], "name": ["Miller"], "capacity_mw": [2822.0],
                       "primary_fuel": ["coal"], "match_km": [0.1], "fuel_agrees": [True]})
    out = names.name_units(src, cw)
    assert out["name"].tolist() == ["Miller — coal, 2,822 MW (USA)", "Gas power plant B (FRA)"]
    assert out["name_source"].tolist() == ["GPPD v1.2.0", ""]
    assert np.isnan(out["name_match_km"].iat[1])
    assert names.named_share(out) == 0.5


def test_shipped_crosswalk_names_most_large_units():
    """The measured figure of the issue: >= 90 % of units >= 1 Mt/yr carry a real name."""
    units, _ = inv.read_coco2(EMBEDDED)
    named = names.name_units(units, names.read_crosswalk(EMBEDDED / names.CROSSWALK_FILE))
    share = names.named_share(named, 1e6)
    assert share >= 0.90, share
    by_id = named.set_index("source_id")
    assert by_id.at["coco2-15522", "name"] == "Bełchatów — coal, 5,472 MW (POL)"
    assert by_id.at["coco2-15522", "name_match_km"] < 0.5
    assert (named.loc[named["emission_t_yr"] >= 1e7, "plant_name"] != "").all()   # all the largest units
    assert named.loc[named["plant_name"] == "", "name"].str.contains("power plant CoCO2_").all()


@pytest.mark.skipif(not GPPD_SUBSET.exists(), reason="shared GPPD subset not available")
def test_derive_script_reproduces_the_shipped_crosswalk(tmp_path):
    dest = tmp_path / "plant_names.csv"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "derive_plant_names.py"), str(GPPD_SUBSET),
                           str(EMBEDDED), str(dest)], capture_output=True, text=True, check=True)
    assert "92." in proc.stdout or "93." in proc.stdout, proc.stdout
    assert dest.read_bytes() == (EMBEDDED / names.CROSSWALK_FILE).read_bytes()


def test_apply_names_falls_back_to_the_shipped_crosswalk(tmp_path):
    """A bad GPPD file is reported once, by the inventory loader (test_faults), not here too."""
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    units, _ = inv.read_coco2(EMBEDDED)
    skipped = Problems()
    out = names.apply_names(units.head(50), EMBEDDED, ["cities:x.csv", "gppd:bad.csv"], tmp_path, skipped)
    assert skipped == []
    assert (out["name_source"].isin(["GPPD v1.2.0", ""])).all() and (out["plant_name"] != "").any()
    (tmp_path / "coco2").mkdir()
    (tmp_path / "coco2" / names.CROSSWALK_FILE).write_bytes(b"\x00\x01 not a csv")
    out = names.apply_names(units.head(50), tmp_path / "coco2", [], tmp_path, skipped)
    assert (out["plant_name"] == "").all() and [s.item for s in skipped] == [names.CROSSWALK_FILE]


def test_a_full_gppd_zip_is_read_and_only_its_fossil_plants_match(tmp_path):
    """`atlas fetch inventories` stores the full GPPD as a zip with hydro, solar ... plants too."""
    import zipfile
    csv = tmp_path / "global_power_plant_database.csv"
    csv.write_text("country,name,gppd_idnr,capacity_mw,latitude,longitude,primary_fuel\n"
                   "POL,Solar next door,WRI1,5,51.2660,19.3260,Solar\n"
                   "POL,Belchatow Power Station,WRI2,5102,51.2665,19.3300,Coal\n", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "global_power_plant_database_v_1_3.zip", "w") as zf:
        zf.write(csv, csv.name)
    plants = names.read_plants(tmp_path / "global_power_plant_database_v_1_3.zip")
    assert plants["gppd_idnr"].tolist() == ["WRI2"]
    cw = names.match(_units(("coco2-15522", "coal", 51.266, 19.326)), plants)
    assert cw["gppd_idnr"].tolist() == ["WRI2"] and cw["name"].tolist() == ["Belchatow Power Station"]
