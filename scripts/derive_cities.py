"""Derive dataset/cities/worldcities_basic_300k.csv from shared/data/cities (reproducible).

The only change: a city whose (name, iso3) repeats an earlier row's is a
different city of the same name (e.g. two Suzhous in China, 430 km apart), so
its name gets its position appended, "Suzhou (33.63 N, 116.98 E)", to give it
an id of its own. Usage: python scripts/derive_cities.py SRC.csv DEST.csv
"""

import sys

import pandas as pd


def derive(src: str, dest: str) -> int:
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    dup = df.duplicated(["name", "iso3"], keep="first")
    lat, lon = df["latitude"].astype(float), df["longitude"].astype(float)
    where = [f" ({abs(a):.2f} {'N' if a >= 0 else 'S'}, {abs(o):.2f} {'E' if o >= 0 else 'W'})" for a, o in zip(lat, lon)]
    df.loc[dup, "name"] = df.loc[dup, "name"] + pd.Series(where, index=df.index)[dup]
    df.to_csv(dest, index=False, lineterminator="\n")
    return int(dup.sum())


if __name__ == "__main__":
    print(f"{derive(sys.argv[1], sys.argv[2])} names disambiguated")
