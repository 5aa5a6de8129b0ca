import bz2

import netCDF4
import numpy as np
import pandas as pd
import pytest

from builder.config import Ingest
from builder.soundings import (TRACK_COLUMNS, InputError, find_input_files, iter_tracks, read_file, read_lite,
                               read_seed_csv, sounding_time)
from tests.factories import lite_columns, seed_csv_frame, write_lite_file


@pytest.mark.parametrize("version", ["10r", "11.1r", "9r"])
def test_read_lite_versions(tmp_path, version):
    path = write_lite_file(tmp_path, version=version, bad_every=5)
    with netCDF4.Dataset(path) as ds:  # real layout: groups, and the version's psurf a-priori name
        assert set(ds.groups) == {"Sounding", "Meteorology", "Retrieval"}
        expected = "psurf_apriori" if version == "9r" else "psurf_apriori_o2a"
        assert expected in ds["Meteorology"].variables
    tracks = read_lite(path)
    assert len(tracks) == 1
    tr = tracks[0]
    assert list(tr.soundings.columns) == TRACK_COLUMNS
    assert tr.orbit == 21500 and tr.instrument == "OCO-2"
    assert tr.n == 1600 - 320  # every 5th sounding flagged bad
    along = tr.soundings["along_km"].to_numpy()
    assert np.all(np.diff(along) >= 0)
    # 200 frames at 3 frames/s and ~6.76 km/s -> ~448 km
    assert along[-1] == pytest.approx(199 / 3 * 6.76, rel=0.02)
    assert tr.soundings["psurf_hpa"].iloc[0] == pytest.approx(1000.0)
    assert tr.soundings["wind_u_m_s"].iloc[0] == pytest.approx(3.0)


def test_time_matches_sounding_id(tmp_path):
    tr = read_lite(write_lite_file(tmp_path))[0]
    from_id = sounding_time(tr.soundings["sounding_id"].to_numpy())
    dt = np.abs((from_id - pd.DatetimeIndex(tr.soundings["time_utc"])).total_seconds())
    assert dt.max() < 0.2


def test_quality_threshold_configurable(tmp_path):
    path = write_lite_file(tmp_path, bad_every=4)
    assert read_lite(path, Ingest(max_quality_flag=0))[0].n == 1200
    assert read_lite(path, Ingest(max_quality_flag=1))[0].n == 1600


def test_fill_values_and_out_of_range_dropped(tmp_path):
    cols = lite_columns()
    cols["xco2"][:10] = np.nan          # written as the -999999 fill value
    cols["latitude"][10:15] = 123.0     # impossible latitude
    tr = read_lite(write_lite_file(tmp_path, columns=cols))[0]
    assert tr.n == 1600 - 15
    assert tr.soundings["xco2_ppm"].between(300, 600).all()


def test_two_orbits_make_two_tracks(tmp_path):
    a = lite_columns(orbit=1, seed=1)
    b = lite_columns(orbit=2, start="2018-08-01T13:40:00", lat0=-20, seed=2)
    cols = {k: np.concatenate([a[k], b[k]]) for k in a}
    tracks = read_lite(write_lite_file(tmp_path, columns=cols))
    assert [t.orbit for t in tracks] == [1, 2]
    assert all(t.soundings["along_km"].iloc[0] == 0 for t in tracks)


def test_oco3_file_name_sets_instrument(tmp_path):
    path = write_lite_file(tmp_path, instrument="OCO-3", version="10.4r")
    assert path.name.startswith("oco3_LtCO2_")
    assert read_lite(path)[0].instrument == "OCO-3"


def test_missing_group_is_clear_error(tmp_path):
    path = tmp_path / "oco2_LtCO2_180801_B11210Ar_1s.nc4"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("sounding_id", 3)
        v = ds.createVariable("sounding_id", "i8", ("sounding_id",))
        v[:] = [1, 2, 3]
    with pytest.raises(InputError) as err:
        read_lite(path)
    assert path.name in str(err.value) and "Sounding" in str(err.value)


def test_missing_variable_is_clear_error(tmp_path):
    cols = lite_columns()
    del cols["windspeed_u_met"]
    with pytest.raises(InputError, match="windspeed_u_met missing"):
        read_lite(write_lite_file(tmp_path, columns=cols))


@pytest.mark.parametrize("content", [b"", b"this is not netcdf\n" * 10, b"\x89HDF\r\n\x1a\n" + b"\0" * 50])
def test_not_netcdf_is_clear_error(tmp_path, content):
    path = tmp_path / "oco2_LtCO2_180801_B11210Ar_x.nc4"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a readable NetCDF4"):
        read_lite(path)


def test_truncated_file_is_clear_error(tmp_path):
    good = write_lite_file(tmp_path)
    bad = tmp_path / "oco2_LtCO2_180802_B11210Ar_trunc.nc4"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError):
        read_lite(bad)


@pytest.mark.parametrize("suffix", [".csv", ".csv.bz2"])
def test_seed_csv_archive(tmp_path, suffix):
    cols = lite_columns(bad_every=5)
    df = seed_csv_frame(cols)
    path = tmp_path / f"oco2_1808{suffix}"
    text = df.to_csv(sep=";", index=False).encode()
    path.write_bytes(bz2.compress(text) if suffix.endswith("bz2") else text)
    tracks = read_file(path)
    assert len(tracks) == 1
    lite = read_lite(write_lite_file(tmp_path, columns=cols))[0]
    np.testing.assert_allclose(tracks[0].soundings["xco2_ppm"], lite.soundings["xco2_ppm"], rtol=1e-6)
    np.testing.assert_allclose(tracks[0].soundings["along_km"], lite.soundings["along_km"], atol=0.7)


def test_seed_csv_without_flag_keeps_all(tmp_path):
    df = seed_csv_frame(lite_columns(bad_every=5), with_flag=False)
    path = tmp_path / "a.csv"
    df.to_csv(path, sep=";", index=False)
    assert read_seed_csv(path)[0].n == 1600


def test_seed_csv_wrong_separator(tmp_path):
    path = tmp_path / "b.csv"
    seed_csv_frame(lite_columns()).to_csv(path, sep=",", index=False)
    with pytest.raises(InputError, match="wrong separator"):
        read_seed_csv(path)


def test_seed_csv_missing_columns(tmp_path):
    path = tmp_path / "c.csv"
    seed_csv_frame(lite_columns()).drop(columns=["windspeed_v"]).to_csv(path, sep=";", index=False)
    with pytest.raises(InputError, match="missing columns windspeed_v"):
        read_seed_csv(path)


def test_iter_tracks_collects_errors_and_continues(tmp_path):
    good = write_lite_file(tmp_path)
    bad = tmp_path / "oco2_LtCO2_180809_B11210Ar_bad.nc4"
    bad.write_text("garbage")
    files = find_input_files(tmp_path)
    assert [f.name for f in files] == sorted([good.name, bad.name])
    errors = []
    tracks = list(iter_tracks(files, errors=errors))
    assert len(tracks) == 1 and len(errors) == 1 and errors[0].item.endswith(bad.name)


def test_netcdf4_decoding_matches_xarrays(tmp_path):
    """read_lite reads with netCDF4 directly; each variable must come out as xarray's CF decoding
    (mask_and_scale) gives it: fills to NaN, integers with a fill promoted, packed ones unpacked."""
    import netCDF4
    import xarray as xr

    from builder.soundings import _decoded

    path = tmp_path / "v.nc4"
    vals = {"f4_fill": ("f4", np.array([1.5, -999999.0, 3.0]), {"_FillValue": np.float32(-999999.0)}),
            "f8_nofill": ("f8", np.array([1.0, np.nan, 2.0]), {}),
            "i1_fill": ("i1", np.array([1, -127, 3]), {"_FillValue": np.int8(-127)}),
            "i4_fill": ("i4", np.array([21500, -99999, 7]), {"_FillValue": np.int32(-99999)}),
            "i4_nofill": ("i4", np.array([1, 2, 3]), {}),
            "f4_missing": ("f4", np.array([1.0, -1.0, 2.0]), {"missing_value": np.float32(-1.0)}),
            "i2_packed": ("i2", np.array([10, 20, -1]), {"scale_factor": 0.5, "add_offset": 1.0,
                                                          "_FillValue": np.int16(-1)})}
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("n", 3)
        for name, (dt, v, attrs) in vals.items():
            var = ds.createVariable(name, dt, ("n",), fill_value=attrs.get("_FillValue"))
            var.set_auto_maskandscale(False)
            for k, a in attrs.items():
                if k != "_FillValue":
                    var.setncattr(k, a)
            var[:] = v.astype(dt)
    with netCDF4.Dataset(path) as ds, xr.open_dataset(path, engine="netcdf4", decode_times=False,
                                                      mask_and_scale=True, cache=False) as xds:
        for name in vals:
            got, want = _decoded(ds.variables[name]), xds[name].values
            assert got.dtype == want.dtype, name
            np.testing.assert_array_equal(got, want, err_msg=name)
