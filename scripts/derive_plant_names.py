"""Derive dataset/coco2/plant_names.csv: CoCO2 units -> GPPD plant names (reproducible).

Matches each unit of the embedded CoCO2 catalogue to a plant of the WRI Global
Power Plant Database by distance and fuel (``builder.names.match``: same fuel
family within 1 km, else any fossil fuel within 0.5 km) and writes one row per
matched unit: source_id, gppd_idnr (empty for the v1.2.0 fossil subset, which
has no ids), name, capacity_mw, primary_fuel, match_km, fuel_agrees.

Usage: python scripts/derive_plant_names.py GPPD.csv[.gz|.zip] [COCO2_DIR] [DEST.csv]
(defaults: dataset/coco2 and dataset/coco2/plant_names.csv). Works the same on
a full GPPD v1.3 download (``atlas fetch inventories``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builder import names  # noqa: E402
from builder.inventory import read_coco2  # noqa: E402


def derive(gppd: str, coco2_dir: str = "dataset/coco2", dest: str | None = None) -> dict:
    units, _ = read_coco2(coco2_dir)
    cw = names.match(units, names.read_plants(gppd))
    dest = Path(dest or Path(coco2_dir) / names.CROSSWALK_FILE)
    out = cw.assign(capacity_mw=cw["capacity_mw"].map("{:g}".format).replace("nan", ""),
                    match_km=cw["match_km"].map("{:.3f}".format))
    out.to_csv(dest, index=False, lineterminator="\n")
    named = names.name_units(units, cw)
    return dict(units=len(units), matched=len(cw), share_ge_1mt=names.named_share(named),
                median_km=float(cw["match_km"].median()) if len(cw) else None,
                fuel_disagrees=int((~cw["fuel_agrees"]).sum()))


if __name__ == "__main__":
    stats = derive(*sys.argv[1:])
    print(f"{stats['matched']} of {stats['units']} units matched (median {stats['median_km']:.2f} km, "
          f"{stats['fuel_disagrees']} with another GPPD primary fuel); "
          f"{100 * stats['share_ge_1mt']:.1f} % of units >= 1 Mt/yr named")
