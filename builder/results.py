"""What a build hands to the renderer: every result table plus run metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing this module (the command line does) needs no pandas
    import pandas as pd

from builder.errors import SkippedItem  # noqa: F401  (results name it; defined with Problems)


@dataclass
class BuildResult:
    sources: pd.DataFrame          # tables.SOURCE_COLUMNS
    detections: pd.DataFrame       # DETECTION_FIT + QUANTIFY + ATTRIBUTION columns
    profiles: pd.DataFrame         # tables.PROFILE_COLUMNS
    overpasses: pd.DataFrame       # tables.OVERPASS_COLUMNS
    candidates: pd.DataFrame       # tables.CANDIDATE_COLUMNS
    source_summary: pd.DataFrame   # tables.SOURCE_SUMMARY_COLUMNS
    summary: dict[str, Any] = field(default_factory=dict)
    # summary keys: simulated (bool), instruments (list), n_files, n_orbits, n_soundings,
    # track_km, n_detections, n_attributed, period_start, period_end, inventory_name,
    # validation (dict from builder.validate or None), data_version (str)
    skipped: list[SkippedItem] = field(default_factory=list)   # a builder.errors.Problems
    #: tables.OVERPASS_COLUMNS rows of the candidate new sources (builder.candidates), or None
    candidate_overpasses: pd.DataFrame | None = None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with control characters (newline, CR, ESC ...) shown as escapes (``\\n``, ``\\x1b``):
    a file name can never forge a log line or drive the terminal."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))
