"""What every inventory reader shares: text and id cleaning, tolerant column
lookup, CSV/zip reading, the row validator (bad rows become Problems lines) and
the one constructor of a Source table (``tables.SOURCE_COLUMNS``)."""

from __future__ import annotations

import contextlib
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from builder.errors import InputError, one_line
from builder.tables import SOURCE_COLUMNS
from builder.inventory.profiles import FLAT

STAGE = "inventory"

# C0/C1 controls plus zero-width and bidirectional-override characters.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SEP = "\ue000"
_ODD_SPACE = re.compile(r"[^\S ]")  # whitespace other than a plain space
_DIRTY = re.compile(_CONTROL.pattern + r"|[^\S ]|\s\s|^\s|\s$|\ue000\s|\s\ue000")  # what clean_text changes
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def clean_text(values) -> pd.Series:
    """Strip control / zero-width / bidi characters, collapse whitespace. HTML is kept
    as data (escaping is the renderer's job)."""
    s = pd.Series(values, dtype=object).fillna("").astype(str)
    # Fast path: one regex over all values joined by a private-use separator.
    joined = _SEP + _SEP.join(s.tolist()) + _SEP
    if not (_CONTROL.search(joined) or _ODD_SPACE.search(joined) or "  " in joined
            or _SEP + " " in joined or " " + _SEP in joined):
        return s
    dirty = s.str.contains(_DIRTY, regex=True).to_numpy(dtype=bool)
    if dirty.any():
        fixed = s[dirty].str.replace(_CONTROL, " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
        s = s.astype(object)
        s[dirty] = fixed.to_numpy(dtype=object)
    return s


def safe_id(values) -> pd.Series:
    """Ids usable in URLs and file names: [A-Za-z0-9_.-], other runs -> '-'."""
    s = clean_text(values)
    if _ID_UNSAFE.search("".join(s.tolist())):
        s = s.str.replace(_ID_UNSAFE, "-", regex=True)
    return s.str.strip("-")


def ascii_fold(values: pd.Series) -> pd.Series:
    """Accents dropped (NFKD, combining marks removed), for readable ASCII slugs."""
    return values.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)


def _norm(col: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(col).lower())


def find_column(columns, *candidates: str, contains: tuple[str, ...] = ()) -> str | None:
    """A column by normalised exact name (first candidate wins), else by substring."""
    norm = {_norm(c): c for c in columns}
    for cand in candidates:
        if _norm(cand) in norm:
            return norm[_norm(cand)]
    for sub in contains:
        for key, col in norm.items():
            if _norm(sub) in key:
                return col
    return None


@contextlib.contextmanager
def unzipped(path: Path, suffixes: tuple[str, ...]):
    """``path`` itself, or for a .zip (as ``atlas fetch`` downloads them) its one
    member ending in ``suffixes``, extracted to a temporary folder."""
    if not path.exists():
        raise InputError(path.name, "file not found")
    if path.suffix.lower() != ".zip":
        yield path
        return
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.namelist() if m.lower().endswith(suffixes)
                       and not m.startswith("__MACOSX") and not m.endswith("/")]
            if len(members) != 1:
                raise InputError(path.name, f"zip holds {len(members)} files ending in {'/'.join(suffixes)} "
                                 f"({', '.join(members[:5])}); expected exactly one")
            with tempfile.TemporaryDirectory(prefix="atlas-inv-") as tmp:
                out = Path(tmp) / Path(members[0]).name
                with zf.open(members[0]) as src, open(out, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                yield out
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(path.name, f"not a readable zip file: {one_line(exc)}") from None


def read_csv(path: Path, **kw) -> pd.DataFrame:
    """CSV (optionally .gz/.bz2, or the one CSV inside a .zip) as strings; unreadable -> InputError."""
    if path.suffix.lower() == ".zip":
        with unzipped(path, (".csv",)) as member:
            return read_csv(member, **kw)
    if not path.exists():
        raise InputError(path.name, "file not found")
    for enc in ("utf-8", "latin-1"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=enc, **kw)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as exc:
            raise InputError(path.name, f"not a readable CSV file: {one_line(exc)}") from None
    raise InputError(path.name, "not UTF-8 or Latin-1 text")


def num(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)


def validate_rows(df: pd.DataFrame, file: str, rows: np.ndarray, problems: list,
              pre_reason: np.ndarray | None = None) -> pd.DataFrame:
    """Drop (and report) rows with a missing id, bad coordinates, a missing /
    non-numeric / negative emission or a duplicate id. ``df`` holds raw
    source_id, latitude, longitude, emission_t_yr; returns numeric, kept rows."""
    n = len(df)
    if n == 0:  # a header-only file is valid and contributes nothing
        out = df.iloc[0:0].copy()
        for c in ("latitude", "longitude", "emission_t_yr"):
            out[c] = pd.Series(dtype=float)
        return out
    reason = np.full(n, "", dtype=object) if pre_reason is None else pre_reason.astype(object).copy()
    sid = clean_text(df["source_id"]).to_numpy(dtype=object)
    lat, lon, emis = num(df["latitude"]), num(df["longitude"]), num(df["emission_t_yr"])
    raw_lat, raw_lon, raw_em = (df[c].to_numpy(dtype=object) for c in ("latitude", "longitude", "emission_t_yr"))

    def flag(mask, make):
        sel = np.flatnonzero(mask & (reason == ""))
        for i in sel:
            reason[i] = make(i)

    flag(sid == "", lambda i: "missing id")
    flag(~np.isfinite(lat), lambda i: f"missing or non-numeric latitude {_show(raw_lat[i])}")
    flag(np.abs(lat) > 90, lambda i: f"latitude {lat[i]:g} outside [-90, 90]")
    flag(~np.isfinite(lon), lambda i: f"missing or non-numeric longitude {_show(raw_lon[i])}")
    flag(np.abs(lon) > 180, lambda i: f"longitude {lon[i]:g} outside [-180, 180]")
    flag(~np.isfinite(emis), lambda i: f"missing or non-numeric emission {_show(raw_em[i])}")
    flag(emis < 0, lambda i: f"negative emission {emis[i]:g} t/yr")
    ok = reason == ""
    dup = pd.Series(sid).where(ok).duplicated(keep="first").to_numpy() & ok
    first_row = dict(zip(sid[ok][::-1], rows[ok][::-1]))
    flag(dup, lambda i: f"duplicate id {sid[i]!r} (first at row {first_row[sid[i]]})")
    for i in np.flatnonzero(reason != ""):
        problems.add(item=f"{file}:row {rows[i]}", reason=str(reason[i]), stage=STAGE)
    keep = reason == ""
    out = df.loc[keep].copy()
    out["source_id"] = sid[keep]
    out["latitude"], out["longitude"], out["emission_t_yr"] = lat[keep], lon[keep], emis[keep]
    return out


def _show(value) -> str:
    return "(empty)" if value is None or (isinstance(value, float) and np.isnan(value)) else repr(str(value)[:40])


def finish(df: pd.DataFrame, **defaults) -> pd.DataFrame:
    """Exactly SOURCE_COLUMNS with stable dtypes; absent columns from ``defaults``."""
    out = pd.DataFrame(index=df.index)
    for col in SOURCE_COLUMNS:
        out[col] = df[col] if col in df else defaults.get(col, "")
    for col in ("latitude", "longitude", "emission_t_yr"):
        out[col] = out[col].astype(float)
    out["inventory_year"] = pd.array(pd.to_numeric(out["inventory_year"], errors="coerce"), dtype="Int64")
    for col in ("name", "kind", "fuel", "country", "inventory"):
        out[col] = clean_text(out[col]).to_numpy(dtype=object)
    for col in ("profile_month", "profile_week", "profile_hour"):
        out[col] = clean_text(out[col]).replace("", FLAT).to_numpy(dtype=object)
    return out.reset_index(drop=True)


def empty_sources() -> pd.DataFrame:
    return finish(pd.DataFrame({c: pd.Series(dtype=object) for c in SOURCE_COLUMNS}))
