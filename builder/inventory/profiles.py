"""Temporal emission profiles (CoCO2 conventions): month, weekday and local-hour
factors, so "how much does this source emit at this UTC time?" has one answer
(:meth:`TemporalProfiles.emission_kg_s`). See :mod:`builder.inventory` for the
conventions and the local-time approximation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from builder.physics import SECONDS_PER_YEAR

FLAT = "flat"  #: id of the default flat profile, present in every profile table

MONTH_COLUMNS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEK_COLUMNS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HOUR_COLUMNS = [f"H{h}" for h in range(24)]


@dataclass
class TemporalProfiles:
    """Month / weekday / hour factor tables keyed by profile id (index).

    ``month`` has columns Jan..Dec, ``week`` Monday..Sunday, ``hour`` H0..H23
    (local hours). Each table holds a flat profile under id ``FLAT``.
    """

    month: pd.DataFrame
    week: pd.DataFrame
    hour: pd.DataFrame

    @classmethod
    def flat(cls) -> "TemporalProfiles":
        """Only the flat profiles (factor 1 everywhere), for inventories without profiles."""
        return cls(
            month=pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=MONTH_COLUMNS),
            week=pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=WEEK_COLUMNS),
            hour=pd.DataFrame(1.0, index=pd.Index([FLAT], name="profile_id"), columns=HOUR_COLUMNS),
        )

    def merge(self, other: "TemporalProfiles") -> "TemporalProfiles":
        """Union of two profile sets; on an id clash the first wins."""
        def cat(a, b):
            out = pd.concat([a, b])
            return out[~out.index.duplicated(keep="first")]
        return TemporalProfiles(cat(self.month, other.month), cat(self.week, other.week), cat(self.hour, other.hour))

    def factors(self, sources: pd.DataFrame, time_utc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(f_month, f_weekday, f_hour) per source at ``time_utc`` (local solar time).

        ``time_utc``: one time (Timestamp/str/datetime64) or an array aligned with
        ``sources``; naive times are taken as UTC. Unknown or missing profile ids
        use the flat profile; NaT gives NaN.
        """
        n = len(sources)
        lon = np.asarray(sources["longitude"], dtype=float)
        lon = (lon + 180.0) % 360.0 - 180.0
        t = pd.to_datetime(time_utc, utc=True)
        if isinstance(t, pd.Timestamp) or t is pd.NaT:
            ns = np.full(n, np.iinfo(np.int64).min if t is pd.NaT else t.as_unit("ns").value, dtype=np.int64)
        else:
            idx = pd.DatetimeIndex(t).as_unit("ns")
            if len(idx) != n:
                raise ValueError(f"time_utc has {len(idx)} values for {n} sources")
            ns = idx.asi8
        nat = ns == np.iinfo(np.int64).min
        offset_ns = np.nan_to_num(lon / 15.0 * 3600e9).astype(np.int64)
        local = pd.DatetimeIndex(np.where(nat, 0, ns + offset_ns).astype("datetime64[ns]"))
        month = local.month.to_numpy() - 1
        wday = local.day_of_week.to_numpy()
        hour = local.hour.to_numpy()
        def ids(col):  # hand-made tables without profile columns get flat profiles
            return sources[col] if col in sources else np.full(n, FLAT, dtype=object)
        fm = _lookup(self.month, ids("profile_month"), month)
        fw = _lookup(self.week, ids("profile_week"), wday)
        fh = _lookup(self.hour, ids("profile_hour"), hour)
        for f in (fm, fw, fh):
            f[nat] = np.nan
        return fm, fw, fh

    def emission_kg_s(self, sources: pd.DataFrame, time_utc) -> np.ndarray:
        """Each source's inventory emission rate [kg/s] at ``time_utc`` (vectorised)."""
        fm, fw, fh = self.factors(sources, time_utc)
        annual_kg_s = np.asarray(sources["emission_t_yr"], dtype=float) * 1000.0 / SECONDS_PER_YEAR
        return annual_kg_s * fm * fw * fh


def _lookup(table: pd.DataFrame, ids, position: np.ndarray) -> np.ndarray:
    """table[id, position] per row; unknown/missing ids -> the flat row."""
    row = table.index.get_indexer(pd.Index(pd.Series(ids, dtype=object).fillna(FLAT).astype(str)))
    row = np.where(row < 0, table.index.get_loc(FLAT), row)
    return table.to_numpy(dtype=float)[row, position].copy()

