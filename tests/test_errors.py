"""builder.errors: one exception family with structured fields, the Problems report, and the
CLI's mapping of each user-facing error to one line and its own exit status."""

from __future__ import annotations

import pytest

from builder import cli, errors
from builder.errors import (EXIT_CODES, AssetError, AtlasError, ConfigError, ContentError, CredentialsError,
                            FetchError, InputError, ModelError, Problems, SkippedItem, UsageError)


def _builder_exception_classes():
    """Every exception class defined anywhere in builder/ (imported modules)."""
    import importlib
    import pkgutil

    import builder

    found = set()
    for mod in pkgutil.walk_packages(builder.__path__, "builder."):
        if mod.name.endswith("__main__"):
            continue
        m = importlib.import_module(mod.name)
        found |= {v for v in vars(m).values() if isinstance(v, type) and issubclass(v, BaseException)
                  and v.__module__.startswith("builder")}
    return found


def test_every_exception_class_of_builder_is_an_atlas_error():
    classes = _builder_exception_classes()
    assert AssetError in classes and len(classes) >= 10
    assert [c.__name__ for c in classes if not issubclass(c, AtlasError)] == []


def test_structured_fields_and_one_line_text():
    e = InputError("a.nc4", "not a netCDF file")
    assert (e.file, e.item, e.line, e.reason) == ("a.nc4", "a.nc4", None, "not a netCDF file")
    assert str(e) == "a.nc4: not a netCDF file"
    c = ContentError("front matter line is not 'key: value'", file="content/x.md", line=3)
    assert str(c) == "content/x.md:3: front matter line is not 'key: value'" and c.line == 3
    assert str(ConfigError("[detect] window_km must be a number")) == "[detect] window_km must be a number"
    assert isinstance(ConfigError("x"), ValueError) and isinstance(CredentialsError("x"), FetchError)


def test_exit_codes_are_distinct_and_documented():
    kinds = [InputError("f", "r"), ConfigError("r"), AssetError("r"), ContentError("r"), FetchError("r"),
             CredentialsError("r"), ModelError("r")]
    codes = [k.exit_code for k in kinds]
    assert len(set(codes)) == len(codes) and all(c in EXIT_CODES for c in codes)
    assert UsageError("r").exit_code == InputError("f", "r").exit_code == errors.EXIT_INPUT
    assert 1 not in codes     # 1 is kept for bugs


@pytest.mark.parametrize("exc, code, text", [
    (InputError("orbit.nc4", "not a netCDF file"), errors.EXIT_INPUT, "error: orbit.nc4: not a netCDF file"),
    (ConfigError("[site] title must be a string"), errors.EXIT_CONFIG, "error: [site] title must be a string"),
    (AssetError("node_modules/leaflet is missing: run `npm ci`"), errors.EXIT_ASSET, "run `npm ci`"),
    (ContentError("front matter has no title", file="methods.md"), errors.EXIT_CONTENT, "methods.md: front"),
    (FetchError("granule search failed"), errors.EXIT_FETCH, "granule search failed"),
    (CredentialsError("no Earthdata credentials"), errors.EXIT_CREDENTIALS, "no Earthdata credentials"),
    (ModelError("m.model: not an atlas classifier file"), errors.EXIT_MODEL, "not an atlas classifier"),
    (RuntimeError("boom"), errors.EXIT_INTERNAL, "internal error in atlas simulate: RuntimeError: boom"),
])
def test_cli_maps_each_error_to_one_line_and_its_code(monkeypatch, capsys, tmp_path, exc, code, text):
    def failing(args, cfg):
        raise exc

    monkeypatch.setattr(cli, "cmd_simulate", failing)     # the parser binds the command at make_parser()
    got = cli.main(["--config", str(tmp_path / "atlas.toml"), "simulate"])
    err = capsys.readouterr().err
    assert got == code and text in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_front_end_assets_are_an_asset_error_not_an_internal_error(tmp_path):
    from builder.render.assets import copy_vendor

    with pytest.raises(AssetError, match="npm ci") as info:
        copy_vendor(tmp_path / "no_node_modules", tmp_path / "out")
    assert info.value.exit_code == errors.EXIT_ASSET


def test_help_lists_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(f"{code:>3}  {what}" in out for code, what in EXIT_CODES.items())


def test_problems_is_a_list_of_skipped_items():
    p = Problems()
    p.add("a.csv:row 3", "latitude out of range", "inventory")
    p.add_error(InputError("b.nc4", "corrupt"), "ingest")
    p.extend([SkippedItem("c", "d", "content")])
    assert len(p) == 3 and p[1] == SkippedItem("b.nc4", "corrupt", "ingest")
    assert p.records()[0] == {"item": "a.csv:row 3", "reason": "latitude out of range", "stage": "inventory"}


def test_one_line_and_exc_line_drop_paths_and_newlines(tmp_path):
    assert errors.one_line(FileNotFoundError(2, "No such file or directory", "/secret/x")) == \
        "No such file or directory"
    assert errors.one_line(ValueError("a\nb  c")) == "a b c"
    assert len(errors.one_line(ValueError("x" * 500), 50)) == 50
    f = tmp_path / "orbit.nc4"
    assert errors.exc_line(OSError(f"cannot open {f}"), f) == "OSError: cannot open orbit.nc4"
