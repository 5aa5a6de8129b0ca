"""Which other inventories cover a source, for its page (issue 17).

Several inventories may describe one place: a CoCO2 plant, the same plant in GPPD,
an ODIAC hot-spot cluster around it. Another inventory's entry "covers" a source
when it lies within ``[attribute] site_km`` of it, or - for an area source with a
``radius_km`` (ODIAC clusters, builder.odiac) - within that radius plus
builder.odiac.MATCH_KM, in either direction. Each is listed with whether the ratio
includes it: only entries on the same site (builder.attribute.Sites, sources closer
than site_km, chained) are summed into the inventory an overpass is compared with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def other_inventories(sources: pd.DataFrame, page_ids, site_km: float, href) -> dict[str, list[dict]]:
    """source_id -> entries of other inventories covering it (nearest first); ``href(id)`` gives a page or None."""
    from scipy.spatial import cKDTree

    from builder.attribute import Sites, chord, unit_xyz
    from builder.odiac import MATCH_KM
    from builder.physics import haversine_km

    if sources is None or len(sources) == 0 or "inventory" not in sources:
        return {}
    src = sources.reset_index(drop=True)
    lat, lon = src["latitude"].to_numpy(dtype=float), src["longitude"].to_numpy(dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    src, lat, lon = src.loc[ok].reset_index(drop=True), lat[ok], lon[ok]
    ids = src["source_id"].astype(str).to_numpy()
    inv = src["inventory"].astype(str).to_numpy()
    if len(set(inv)) < 2:
        return {}
    radius = np.nan_to_num(src["radius_km"].to_numpy(dtype=float)) if "radius_km" in src else np.zeros(len(src))
    reach = np.where(radius > 0, radius + MATCH_KM, site_km)
    labels = Sites(src, site_km).labels
    pos = pd.Series(np.arange(len(ids)), index=ids)
    pages = pos.reindex([str(p) for p in page_ids]).dropna().astype(int).to_numpy()
    if not len(pages):
        return {}
    tree = cKDTree(unit_xyz(lat, lon))
    hits = tree.query_ball_point(unit_xyz(lat[pages], lon[pages]), chord(float(reach.max(initial=site_km))))
    counts = np.array([len(h) for h in hits], dtype=int)
    p = np.repeat(pages, counts)
    q = np.concatenate([np.asarray(h, dtype=int) for h in hits]) if counts.sum() else np.zeros(0, dtype=int)
    d = haversine_km(lat[p], lon[p], lat[q], lon[q])
    keep = (inv[p] != inv[q]) & (d <= np.maximum(reach[p], reach[q]))
    out: dict[str, list[dict]] = {}
    emis = src["emission_t_yr"].to_numpy(dtype=float)
    names = src["name"].astype(str).to_numpy() if "name" in src else ids
    for i, j, dist in sorted(zip(p[keep], q[keep], d[keep]), key=lambda t: (t[0], t[2])):
        out.setdefault(ids[i], []).append(dict(
            source_id=ids[j], name=names[j] or ids[j], inventory=inv[j], emission_t_yr=float(emis[j]),
            distance_km=float(dist), same_site=bool(labels[i] == labels[j]), href=href(ids[j]),
            kind=str(src["kind"].iat[j]) if "kind" in src else ""))
    return out
