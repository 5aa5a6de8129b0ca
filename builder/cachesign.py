"""Authenticated cache entries (issue 13): a cache entry is trusted only if it carries an HMAC made
with a secret kept *outside* the cache folder, so an edited entry (even with its checksums
recomputed, or a shared CI cache written by someone else) is recomputed, never published.

The secret is ``$ATLAS_CACHE_KEY`` (a CI secret) or the file ``$XDG_CONFIG_HOME/atlas/cache-key``
(default ``~/.config/atlas/cache-key``), created with mode 0600 on first use. If neither can be
had, the build warns and uses a one-off key: nothing is reused from the cache, nothing breaks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("atlas")
_ONE_OFF = secrets.token_bytes(32)


def key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "atlas" / "cache-key"


def cache_secret() -> bytes:
    """The cache's HMAC key (see the module doc)."""
    env = os.environ.get("ATLAS_CACHE_KEY", "").strip()
    if env:
        return env.encode()
    path = key_path()
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        log.warning("no cache key (%s: %s); the cache is not reused in this run", path, exc.strerror
                    if isinstance(exc, OSError) else exc)
        return _ONE_OFF


def sign(secret: bytes, meta: dict) -> str:
    """HMAC-SHA256 of what an entry claims: its key, version, file, table checksums, dtypes, errors."""
    body = {k: meta.get(k) for k in ("key", "version", "file", "sha256", "dtypes", "errors")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hmac.new(secret, text, hashlib.sha256).hexdigest()


def verify(secret: bytes, meta: dict) -> bool:
    mac = meta.get("mac")
    return isinstance(mac, str) and hmac.compare_digest(mac, sign(secret, meta))
