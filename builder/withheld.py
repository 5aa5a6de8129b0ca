"""Unlisted sources in the simulated world: plants the simulator emits but the detector is not told about.

The simulator (builder.simulate) draws plumes from the whole inventory it is
given (the *world*). A deterministic share of the power plants is *withheld*:
they emit, their crossings are in ``truth.csv`` (column ``withheld`` = True),
they are listed in ``withheld.csv`` beside it, and every detector run on that
folder (``atlas build`` on the simulated default month, ``atlas detect
--oco2 DIR``) drops them from its inventory (:func:`detector_sources`). They
are what the candidate-source search (builder.candidates) should find.

Choice of the withheld plants (reproducible, stratified by size):

- eligible: rows of kind ``power_plant`` (all rows when the table has no
  ``kind`` column) with an annual emission >= ``MIN_T_YR`` (1 Mt/yr);
  cities are never withheld (the default world lists every city);
- the eligible plants are ranked by emission (largest first, ties by
  source_id) and cut into consecutive groups of ``round(1 / share)`` plants
  (10 at the default share of 0.10); in each *full* group the plant with the
  smallest hash sha256(f"{seed}:{source_id}") is withheld. So exactly one
  plant in ten of every size class is withheld, the choice depends only on
  the seed and the ids, and a world with fewer than 10 eligible plants
  (tests, small regions) withholds none.

Unlisted industrial sources (cement, steel) are not simulated: the CoCO2
catalogue the default world is drawn from lists power plants only.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("atlas")

#: Plants below this annual emission [t/yr] are never withheld.
MIN_T_YR = 1e6
#: Name of the list written by the simulator beside truth.csv.
WITHHELD_FILE = "withheld.csv"
#: The simulator's tables beside its Lite files: never observation inputs.
SIMULATOR_TABLES = ("truth.csv", "tracks.csv", WITHHELD_FILE)
WITHHELD_COLUMNS = ["source_id", "name", "kind", "latitude", "longitude", "emission_t_yr", "size_rank"]


def _hash01(seed: int, ids: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) per id from sha256(f"{seed}:{id}") (platform-independent)."""
    return np.array([int.from_bytes(hashlib.sha256(f"{seed}:{s}".encode()).digest()[:8], "big") / 2.0 ** 64
                     for s in ids], dtype=float)


def withheld_mask(sources: pd.DataFrame, seed: int, share: float) -> np.ndarray:
    """Boolean mask over ``sources``: the plants withheld from the detector (module rules)."""
    n = len(sources)
    if n == 0 or share <= 0:
        return np.zeros(n, dtype=bool)
    group = max(int(round(1.0 / share)), 1)
    emis = pd.to_numeric(sources["emission_t_yr"], errors="coerce").to_numpy(float)
    plant = (sources["kind"].fillna("").astype(str).str.lower().to_numpy() == "power_plant") \
        if "kind" in sources.columns else np.ones(n, dtype=bool)
    ids = sources["source_id"].astype(str).to_numpy()
    elig = np.flatnonzero(plant & np.isfinite(emis) & (emis >= MIN_T_YR))
    n_full = len(elig) // group
    out = np.zeros(n, dtype=bool)
    if n_full == 0:
        return out
    order = elig[np.lexsort((ids[elig], -emis[elig]))][: n_full * group]   # largest first, ties by id
    h = _hash01(seed, ids[order]).reshape(n_full, group)
    out[order.reshape(n_full, group)[np.arange(n_full), np.argmin(h, axis=1)]] = True
    return out


def withheld_table(sources: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """withheld.csv rows (WITHHELD_COLUMNS), largest first; size_rank = rank among eligible plants."""
    emis = pd.to_numeric(sources["emission_t_yr"], errors="coerce").to_numpy(float)
    rank = pd.Series(-emis).rank(method="first").to_numpy().astype(int)
    w = sources.loc[mask]
    out = pd.DataFrame({
        "source_id": w["source_id"].astype(str).to_numpy(),
        "name": w["name"].fillna("").astype(str).to_numpy() if "name" in w else "",
        "kind": w["kind"].fillna("").astype(str).to_numpy() if "kind" in w else "power_plant",
        "latitude": pd.to_numeric(w["latitude"]).to_numpy(float),
        "longitude": pd.to_numeric(w["longitude"]).to_numpy(float),
        "emission_t_yr": emis[mask], "size_rank": rank[mask],
    })
    return out.sort_values(["emission_t_yr", "source_id"], ascending=[False, True], kind="stable")[WITHHELD_COLUMNS]


def read_withheld(folder: Path | None) -> pd.DataFrame | None:
    """The simulator's withheld list in ``folder`` (None when there is none)."""
    if folder is None:
        return None
    path = Path(folder) / WITHHELD_FILE
    if not path.exists():
        return None
    return pd.read_csv(path, dtype={"source_id": str})


def detector_sources(sources: pd.DataFrame, folder: Path | None) -> tuple[pd.DataFrame, int]:
    """The inventory the detector may see for the observations in ``folder``: ``sources``
    minus the ids of ``folder/withheld.csv`` (written by the simulator). Real data
    folders have no such file: nothing is dropped. Returns (sources, number dropped)."""
    w = read_withheld(folder)
    if w is None or len(w) == 0 or sources is None or len(sources) == 0:
        return sources, 0
    drop = sources["source_id"].astype(str).isin(set(w["source_id"].astype(str)))
    n = int(drop.sum())
    if n:
        log.info("%d sources withheld by the simulator (%s) are not given to the detector", n, WITHHELD_FILE)
    return sources.loc[~drop.to_numpy()].reset_index(drop=True), n
