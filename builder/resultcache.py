"""The per-file result cache: ``<cache>/<key[:2]>/<key>/`` with meta.json + one JSON table each,
written atomically, signed (builder.cachesign) and checked before it is trusted.

Keys are made by builder.pipeline.cache_key (file content, code, configuration, inventory);
floats are stored exactly, so a result read from the cache is the result computed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from builder.cachesign import cache_secret, sign, verify
from builder.results import SkippedItem

log = logging.getLogger("atlas")

#: Bump when detection/quantification/attribution change their outputs; invalidates the cache.
ALGORITHM_VERSION = "1"
TABLE_NAMES = ("detections", "profiles", "overpasses", "tracks")


class ResultCache:
    """Per-file results on disk: ``<cache>/<key[:2]>/<key>/`` with meta.json + CSV tables.

    Entries are written into a temporary folder and renamed into place, so a
    killed build leaves either a complete entry or none. Reading verifies the
    stored key and each table's sha256; anything off is discarded and recomputed.
    """

    def __init__(self, root: Path, secret: bytes | None = None):
        self.root = Path(root)
        self.secret = secret if secret is not None else cache_secret()  # kept outside the cache (cachesign.py)

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> FileResult | None:
        d = self._dir(key)
        meta_path = d / "meta.json"
        if not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("key") != key or meta.get("version") != ALGORITHM_VERSION:
                raise ValueError("foreign entry")
            if not verify(self.secret, meta):
                raise ValueError("not signed with this cache's key")
            frames = {}
            for name in TABLE_NAMES:
                raw = (d / f"{name}.json").read_bytes()
                if hashlib.sha256(raw).hexdigest() != meta["sha256"][name]:
                    raise ValueError(f"{name}.json checksum mismatch")
                frames[name] = _read_typed(raw, meta["dtypes"][name])
            errors = [SkippedItem(**e) for e in meta.get("errors", [])]
            from builder.pipeline import FileResult

            return FileResult(file=meta["file"], errors=errors, cached=True, **frames)
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError, pd.errors.ParserError) as exc:
            log.warning("cache entry %s is corrupt or foreign (%s); recomputing", key[:12], exc)
            shutil.rmtree(d, ignore_errors=True)
            return None

    def clean_stale(self, max_age_s: float = 3600.0) -> int:
        """Remove half-written entries (``.tmp-*``) left by killed builds; younger ones may belong to
        a build running now. Returns how many were removed."""
        n, now = 0, time.time()
        for tmp in self.root.glob("*/.tmp-*"):
            try:
                if now - tmp.stat().st_mtime > max_age_s:
                    shutil.rmtree(tmp, ignore_errors=True)
                    n += 1
            except OSError:
                pass
        return n

    def put(self, key: str, res: FileResult) -> None:
        """Store ``res``; the cache is optional: a full or unwritable cache only warns."""
        try:
            self._put(key, res)
        except OSError as exc:  # no half entry left behind either
            log.warning("cache not written (%s); the build goes on without it", exc.strerror or exc)
            for tmp in self.root.glob(f"{key[:2]}/.tmp-{key}-*"):
                shutil.rmtree(tmp, ignore_errors=True)

    def _put(self, key: str, res: FileResult) -> None:
        d = self._dir(key)
        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = d.parent / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        meta = {"key": key, "version": ALGORITHM_VERSION, "file": res.file, "sha256": {}, "dtypes": {},
                "errors": [e.__dict__ for e in res.errors]}
        for name in TABLE_NAMES:
            df = getattr(res, name)
            enc = df.copy()
            for c in enc.columns:  # datetimes as exact int64 nanoseconds (NaT -> int64 min -> NaT)
                if str(enc[c].dtype).startswith("datetime64"):
                    enc[c] = enc[c].dt.as_unit("ns").astype("int64")
            raw = _encode_split(enc)
            (tmp / f"{name}.json").write_bytes(raw)
            meta["sha256"][name] = hashlib.sha256(raw).hexdigest()
            meta["dtypes"][name] = {c: str(t) for c, t in df.dtypes.items()}
        meta["mac"] = sign(self.secret, meta)
        with open(tmp / "meta.json", "w", encoding="utf-8") as f:
            json.dump(meta, f)
            f.flush()
            os.fsync(f.fileno())
        if d.exists():
            shutil.rmtree(d, ignore_errors=True)
        try:
            os.replace(tmp, d)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)


def _encode_split(df: pd.DataFrame) -> bytes:
    """``{"columns", "data"}`` JSON with exact floats (Python's shortest round-trip repr; NaN and
    Infinity kept): pandas' to_json keeps at most 15 digits, so a cached result would differ from
    a fresh one in the last digits and the site would depend on whether the cache was used."""
    def scalar(o):
        if isinstance(o, np.generic):
            return o.item()
        raise TypeError(f"cannot cache a {type(o).__name__}")

    rows = df.astype(object).to_numpy().tolist()
    return json.dumps({"columns": [str(c) for c in df.columns], "data": rows}, default=scalar,
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _read_typed(raw: bytes, dtypes: dict[str, str]) -> pd.DataFrame:
    """Inverse of the JSON "split" encoding used by :meth:`ResultCache.put` (keeps '' vs None)."""
    data = json.loads(raw)
    if data.get("columns") != list(dtypes):
        raise ValueError("column mismatch")
    df = pd.DataFrame(data["data"], columns=data["columns"])
    for col, dt in dtypes.items():
        if dt.startswith("datetime64"):
            df[col] = pd.to_datetime(df[col].astype("int64"), unit="ns", utc=True).astype(dt)
        elif dt == "object":
            df[col] = df[col].astype(object)
        elif dt in ("str", "string"):  # pandas' string dtypes: restore them, a fresh result has them
            df[col] = df[col].astype(dt)
        else:
            try:
                df[col] = df[col].astype(dt)
            except (ValueError, TypeError):
                df[col] = pd.to_numeric(df[col], errors="coerce") if dt.startswith(("float", "int")) else df[col]
    return df
