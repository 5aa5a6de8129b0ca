"""Sources withheld from the detector in the simulated world (builder.withheld)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder.withheld import WITHHELD_FILE, detector_sources, withheld_mask, withheld_table


def world(n_plants=95, n_small=20, n_cities=30) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    big = np.sort(rng.uniform(1e6, 4e7, n_plants))[::-1]
    rows = [dict(source_id=f"P{i:03d}", name=f"Plant {i}", kind="power_plant", latitude=10.0 + i * 0.1,
                 longitude=20.0, emission_t_yr=e) for i, e in enumerate(big)]
    rows += [dict(source_id=f"S{i:03d}", name="", kind="power_plant", latitude=0.0, longitude=float(i),
                  emission_t_yr=5e5) for i in range(n_small)]
    rows += [dict(source_id=f"C{i:03d}", name="", kind="city", latitude=-10.0, longitude=float(i),
                  emission_t_yr=5e7) for i in range(n_cities)]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)  # table order is irrelevant


def test_one_plant_in_ten_per_size_rank_cities_and_small_plants_never():
    w = world()
    m = withheld_mask(w, seed=7, share=0.10)
    held = w.loc[m]
    assert len(held) == 9                                  # 95 eligible plants: 9 full groups of 10
    assert set(held["kind"]) == {"power_plant"} and (held["emission_t_yr"] >= 1e6).all()
    # stratified: exactly one withheld plant in each consecutive group of 10 by size
    plants = w.loc[(w["kind"] == "power_plant") & (w["emission_t_yr"] >= 1e6)]
    ranked = plants.sort_values(["emission_t_yr", "source_id"], ascending=[False, True])["source_id"].tolist()
    groups = [ranked[10 * g:10 * g + 10] for g in range(9)]
    assert [sum(s in set(held["source_id"]) for s in grp) for grp in groups] == [1] * 9
    assert not set(held["source_id"]) & set(ranked[90:])   # the partial last group keeps all its plants


def test_choice_is_reproducible_and_depends_on_the_seed():
    w = world()
    a = set(w.loc[withheld_mask(w, 7, 0.10), "source_id"])
    wr = w.iloc[::-1].reset_index(drop=True)
    b = set(wr.loc[withheld_mask(wr, 7, 0.10), "source_id"])
    c = set(w.loc[withheld_mask(w, 8, 0.10), "source_id"])
    assert a == b and a != c
    assert not withheld_mask(w, 7, 0.0).any()
    assert not withheld_mask(w.loc[w["kind"] == "city"], 7, 0.10).any()
    assert not withheld_mask(world(n_plants=9), 7, 0.10).any()    # tiny worlds withhold nothing


def test_detector_inventory_excludes_the_withheld_list(tmp_path):
    w = world()
    m = withheld_mask(w, 7, 0.10)
    table = withheld_table(w, m)
    assert list(table["emission_t_yr"]) == sorted(table["emission_t_yr"], reverse=True)
    table.to_csv(tmp_path / WITHHELD_FILE, index=False)
    seen, n = detector_sources(w, tmp_path)
    assert n == 9 and len(seen) == len(w) - 9
    assert not set(seen["source_id"]) & set(table["source_id"])
    # a folder without the list (real observations): the inventory is unchanged
    same, n0 = detector_sources(w, tmp_path / "real")
    assert n0 == 0 and same is w
