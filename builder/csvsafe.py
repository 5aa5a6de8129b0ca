"""Spreadsheet-formula neutralisation for every CSV atlas writes (OWASP "CSV injection"):
the site's downloads (builder/render/writer.py), ``atlas detect --out`` and ``build/*.csv``
(builder/pipeline.write_tables) all go through :func:`safe_text_columns`."""

from __future__ import annotations

import pandas as pd

#: A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A string starting with = + - @ or a tab/CR gets a leading apostrophe. Numbers are untouched."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def safe_text_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with :func:`csv_safe` applied to every text cell (vectorised; numbers untouched)."""
    text_cols = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) in ("str", "string")]
    changes = {}
    for c in text_cols:
        col = df[c]
        first = _first_char(col)
        mask = first.isin(FORMULA_START).to_numpy(bool)
        if mask.any():
            out = col.astype(object).copy()
            out[mask] = "'" + col[mask].astype(str)
            changes[c] = out
    return df.assign(**changes) if changes else df


def _first_char(col: pd.Series) -> pd.Series:
    """First character of string cells, NaN for anything else (pandas' .str skips non-strings)."""
    try:
        return col.str[:1]
    except AttributeError:  # an object column without any string
        return pd.Series(None, index=col.index, dtype=object)
