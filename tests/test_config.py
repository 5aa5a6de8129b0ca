from pathlib import Path

import pytest

from builder.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def test_repo_atlas_toml_matches_defaults():
    """atlas.toml documents the defaults: every value in it equals the dataclass default."""
    cfg = load_config(ROOT / "atlas.toml")
    default = Config()
    for section in ("ingest", "detect", "quantify", "attribute", "plausible", "simulate", "compute", "site"):
        assert getattr(cfg, section) == getattr(default, section), section


def test_missing_file_gives_defaults(tmp_path):
    cfg = load_config(tmp_path / "absent.toml")
    assert cfg.detect.window_km == 200.0
    assert cfg.path("site") == (tmp_path / "site").resolve()


def test_overrides_and_types(tmp_path):
    p = tmp_path / "atlas.toml"
    p.write_text('[detect]\nsigma_km = [3, 6]\nmin_significance = 5\n[paths]\nsite = "out"\n')
    cfg = load_config(p, compute={"scheduler": "local"})
    assert cfg.detect.sigma_km == (3, 6)
    assert isinstance(cfg.detect.min_significance, float)
    assert cfg.path("site") == (tmp_path / "out").resolve()
    assert cfg.compute.scheduler == "local"


@pytest.mark.parametrize("text,match", [
    ("[detect]\nwindow = 3\n", "unknown key 'window'"),
    ("[nope]\na = 1\n", "unknown section"),
    ("[detect]\nwindow_km = 'wide'\n", "must be a number"),
    ("[detect\n", "not valid TOML"),
    ("[ingest]\nland_only = 1\n", "true or false"),
])
def test_bad_config_is_clear(tmp_path, text, match):
    p = tmp_path / "atlas.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(p)
