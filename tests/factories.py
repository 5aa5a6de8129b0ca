"""Small real-format inputs for tests: Lite NetCDF4 columns and CSV archives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from builder.litefmt import lite_filename, write_lite


def lite_columns(n_frames: int = 200, *, start: str = "2018-08-01T12:00:00", orbit: int = 21500,
                 lat0: float = 10.0, lon0: float = 5.0, xco2_ppm: float = 405.0, seed: int = 0,
                 noise_ppm: float = 0.0, bad_every: int = 0) -> dict[str, np.ndarray]:
    """One northbound track of ``n_frames`` 8-footprint frames, 3 frames/s."""
    rng = np.random.default_rng(seed)
    n = n_frames * 8
    frame = np.repeat(np.arange(n_frames), 8)
    fp = np.tile(np.arange(1, 9), n_frames)
    t0 = pd.Timestamp(start, tz="UTC").value / 1e9
    t = t0 + frame / 3.0
    ts = pd.to_datetime(t, unit="s")
    stamp = ts.strftime("%Y%m%d%H%M%S").astype(np.int64).to_numpy()
    sid = stamp * 100 + ((ts.microsecond // 100000).to_numpy()) * 10 + fp
    lat = lat0 + frame / 3.0 * 6.76 / 111.195
    lon = lon0 + (fp - 4.5) * 1.25 / (111.195 * np.cos(np.radians(lat)))
    qf = np.zeros(n, dtype=int)
    if bad_every:
        qf[::bad_every] = 1
    return dict(
        sounding_id=sid, latitude=lat, longitude=lon, time=t,
        xco2=xco2_ppm + noise_ppm * rng.standard_normal(n), xco2_uncertainty=np.full(n, 0.6),
        xco2_quality_flag=qf, orbit=np.full(n, orbit), footprint=fp, operation_mode=np.zeros(n),
        land_water_indicator=np.zeros(n), land_fraction=np.full(n, 100.0), altitude=np.full(n, 100.0),
        windspeed_u_met=np.full(n, 3.0), windspeed_v_met=np.full(n, -1.0),
        psurf_apriori_o2a=np.full(n, 1001.0), psurf=np.full(n, 1000.0), tcwv=np.full(n, 20.0),
        tcwv_apriori=np.full(n, 20.0), tcwv_uncertainty=np.full(n, 1.0),
    )


def write_lite_file(folder: Path, day: str = "2018-08-01", version: str = "11.1r", instrument: str = "OCO-2",
                    columns: dict | None = None, **kw) -> Path:
    cols = columns if columns is not None else lite_columns(start=f"{day}T12:00:00", **kw)
    return write_lite(Path(folder) / lite_filename(day, instrument, version), cols, version=version,
                      instrument=instrument)


def seed_csv_frame(cols: dict[str, np.ndarray], with_flag: bool = True) -> pd.DataFrame:
    """The volunteer team's CSV archive columns from Lite-style arrays."""
    df = pd.DataFrame({
        "sounding_id": cols["sounding_id"], "latitude": cols["latitude"], "longitude": cols["longitude"],
        "xco2": cols["xco2"], "xco2_uncert": cols["xco2_uncertainty"], "orbit": cols["orbit"],
        "windspeed_u": cols["windspeed_u_met"], "windspeed_v": cols["windspeed_v_met"],
        "surface_pressure_apriori": cols["psurf_apriori_o2a"], "surface_pressure": cols["psurf"],
        "altitude": cols["altitude"], "land_water_indicator": cols["land_water_indicator"],
        "land_fraction": cols["land_fraction"], "tcwv": cols["tcwv"], "tcwv_apriori": cols["tcwv_apriori"],
        "tcwv_uncertainty": cols["tcwv_uncertainty"],
    })
    if with_flag:
        df["flag"] = cols["xco2_quality_flag"]
    return df
