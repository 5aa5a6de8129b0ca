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
import tempfile
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
    problems = []
    # the user's config folder; with no writable home, a private file in the temporary folder
    for path in (key_path(), Path(tempfile.gettempdir()) / f"atlas-cache-key-{os.getuid()}"):
        try:
            return _read_or_create(path)
        except (OSError, ValueError) as exc:
            problems.append(f"{path}: {exc.strerror if isinstance(exc, OSError) else exc}")
    log.warning("no cache key (%s); the cache is not reused in this run", "; ".join(problems))
    return _ONE_OFF


def _read_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
        except FileExistsError:  # another build created it meanwhile
            pass
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise ValueError("not a private file of this user")
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def sign(secret: bytes, meta: dict) -> str:
    """HMAC-SHA256 of what an entry claims: its key, version, file, table checksums, dtypes, errors."""
    body = {k: meta.get(k) for k in ("key", "version", "file", "sha256", "dtypes", "errors")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hmac.new(secret, text, hashlib.sha256).hexdigest()


def verify(secret: bytes, meta: dict) -> bool:
    mac = meta.get("mac")
    return isinstance(mac, str) and hmac.compare_digest(mac, sign(secret, meta))
