"""City ids that let real same-named cities coexist (issue 13).

A city's id is ``city-<name>-<country>`` (builder/inventory.read_cities). When several rows share
that id but lie in different places (Springfield IL and MA, Portland OR and ME), each of them gets
a qualifier: the region (``admin_name``/``region``/``state``/``province`` column) if the file has
one, else the rounded position (``45.52n122.68w``). Ids without a clash are unchanged; rows with
the same name, country and position (to 0.01 deg) stay one id and the repeat is reported as a
duplicate, as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGION_COLUMNS = ("admin_name", "region", "state", "province", "admin1")


def position_tag(lat, lon) -> np.ndarray:
    """``45.52n122.68w`` (URL- and file-safe) from numeric or text coordinates; "" where not numeric."""
    la = pd.to_numeric(pd.Series(lat), errors="coerce").to_numpy(float)
    lo = pd.to_numeric(pd.Series(lon), errors="coerce").to_numpy(float)
    ok = np.isfinite(la) & np.isfinite(lo)
    if not len(ok):
        return np.zeros(0, dtype=object)
    la, lo = np.where(ok, la, 0.0), np.where(ok, lo, 0.0)
    tag = (pd.Series(np.abs(la)).map("{:.2f}".format) + np.where(la >= 0, "n", "s")
           + pd.Series(np.abs(lo)).map("{:.2f}".format) + np.where(lo >= 0, "e", "w")).to_numpy(dtype=object)
    return np.array(np.where(ok, tag, ""), dtype=object)


def disambiguate(sid, lat, lon, region=None, slug=None) -> np.ndarray:
    """``sid`` with the ids shared by rows at different positions qualified (see the module doc).
    ``region``: region names or None; ``slug``: the function making a region name id-safe."""
    sid = pd.Series(np.asarray(sid, dtype=object)).astype(str)
    pos = position_tag(lat, lon)
    clash = (pd.Series(pos).groupby(sid.to_numpy()).transform("nunique") > 1).to_numpy()
    if not clash.any():
        return sid.to_numpy(dtype=object)
    out = np.array(sid.to_numpy(dtype=object), dtype=object)
    qual = np.array(pos, dtype=object)
    if region is not None and slug is not None:
        reg = slug(pd.Series(region).fillna("").astype(str).str.lower()).to_numpy(dtype=object)
        # the region where it tells the places apart, else the position
        tmp = pd.Series(sid.to_numpy() + "-" + reg)
        distinct = (pd.Series(pos).groupby(tmp.to_numpy()).transform("nunique") == 1).to_numpy()
        qual = np.where((reg != "") & distinct, reg, pos)
    clash = clash & (qual != "")  # a row without a usable position keeps its id (and is reported if it repeats)
    out[clash] = (sid[clash] + "-" + pd.Series(qual[clash], index=sid.index[clash])).to_numpy(dtype=object)
    return out
