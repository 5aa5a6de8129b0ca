import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("CI", os.environ.get("CI", ""))

# The cache key (builder/cachesign.py) lives in the user's config folder; tests use their own,
# so running the suite never writes into the real home folder.
if "XDG_CONFIG_HOME" not in os.environ:
    import tempfile

    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="atlas-test-config-")
