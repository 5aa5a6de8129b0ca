"""The reference: the volunteer team's published detector, ``oco2peak==0.0.4``
(``oco2peak.find_peak.gaussian_fit_on_df``: ``scipy.optimize.curve_fit`` of a
Gaussian on a linear background in a 200 km window centred on every 15th
sounding of each orbit, with the Chevallier filters).

It is installed only in the bench environment (``pip install -e .[bench]``).
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings

import numpy as np
import pandas as pd

from builder.soundings import Track


def available() -> tuple[bool, str]:
    """(importable, version or the import error)."""
    try:
        import oco2peak.find_peak  # noqa: F401
        from importlib.metadata import version

        return True, version("oco2peak")
    except Exception as exc:  # ImportError, or a missing transitive import (plotly, fastprogress)
        return False, f"{type(exc).__name__}: {exc}"


def to_reference_frame(tracks: list[Track]) -> pd.DataFrame:
    """Tracks -> the volunteer team's CSV-archive columns plus ``distance``
    as ``oco2peak.find_peak.load_data`` computes it after reading the CSV
    (haversine from each orbit's first sounding with their
    ``compute_haversine_formula``, rows sorted by orbit and distance).

    Their ``compute_distance`` itself fails on pandas >= 2 (``pd.concat`` of a
    frame indexed by the repeated orbit number along axis 1 raises
    InvalidIndexError), so the same join is done with ``map`` here.
    """

    frames = []
    for tr in tracks:
        s = tr.soundings
        frames.append(pd.DataFrame({
            "sounding_id": s["sounding_id"].to_numpy(np.int64),
            "latitude": s["latitude"].to_numpy(float),
            "longitude": s["longitude"].to_numpy(float),
            "xco2": s["xco2_ppm"].to_numpy(float),
            "xco2_uncert": s["xco2_unc_ppm"].to_numpy(float),
            "orbit": np.full(len(s), tr.orbit, dtype=np.int64),
            "windspeed_u": s["wind_u_m_s"].to_numpy(float),
            "windspeed_v": s["wind_v_m_s"].to_numpy(float),
            "surface_pressure_apriori": s["psurf_hpa"].to_numpy(float),
            "surface_pressure": s["psurf_hpa"].to_numpy(float),
            "altitude": s["altitude_m"].to_numpy(float),
            "land_water_indicator": s["land_water"].to_numpy(int),
            "land_fraction": np.where(s["land_water"].to_numpy(int) == 0, 100.0, 0.0),
            "tcwv": s["tcwv_kg_m2"].to_numpy(float),
            "tcwv_apriori": s["tcwv_kg_m2"].to_numpy(float),
            "tcwv_uncertainty": np.full(len(s), 1.0),
        }))
    df = pd.concat(frames, ignore_index=True)
    return compute_distance(df)


def compute_distance(df: pd.DataFrame) -> pd.DataFrame:
    """``oco2peak.find_peak.compute_distance``, pandas-2 compatible (same result)."""
    from oco2peak.find_peak import compute_haversine_formula

    first = df.groupby("orbit")[["latitude", "longitude"]].first()
    df = df.copy()
    df["latitude_orig"] = df["orbit"].map(first["latitude"])
    df["longitude_orig"] = df["orbit"].map(first["longitude"])
    df["distance"] = compute_haversine_formula(df["longitude"], df["longitude_orig"], df["latitude"],
                                               df["latitude_orig"])
    return df.sort_values(by=["orbit", "distance"])


def run_reference(tracks: list[Track], budget_s: float = 90.0) -> dict:
    """Run ``gaussian_fit_on_df`` orbit by orbit (output_peak=False,
    output_csv=False) until ``budget_s`` is spent (always at least one orbit).

    Returns seconds (detection only), soundings and orbits processed, the
    peaks (DataFrame: orbit, sounding_id, latitude, longitude, delta [ppm],
    sigma [km] ...), the one-off data preparation time, and how many windows
    were tried (every 15th sounding) and actually fitted (``curve_fit`` calls;
    windows with < 400 soundings are skipped by the reference).
    """
    import oco2peak.find_peak as fp

    t = time.perf_counter()
    df = to_reference_frame(tracks)
    prep_s = time.perf_counter() - t
    calls = {"fit": 0, "windows": 0}
    real_fit, real_detect = fp.curve_fit, fp.peak_detection

    def counting_fit(*a, **k):
        calls["fit"] += 1
        return real_fit(*a, **k)

    def counting_detect(*a, **k):
        calls["windows"] += 1
        return real_detect(*a, **k)

    seconds, cpu_s, n_snd, done, peaks, per_orbit = 0.0, 0.0, 0, [], [], []
    fp.curve_fit, fp.peak_detection = counting_fit, counting_detect
    try:
        for tr in tracks:
            if done and seconds >= budget_s:
                break
            sub = df[df["orbit"] == tr.orbit]
            sink = io.StringIO()
            with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                warnings.simplefilter("ignore")
                t, c = time.perf_counter(), time.process_time()
                found = fp.gaussian_fit_on_df(sub, input_name=f"orbit{tr.orbit}", output_dir="", output_peak=False,
                                              output_csv=False, implement_filters=True)
                dt = time.perf_counter() - t
                cpu_s += time.process_time() - c
            seconds += dt
            n_snd += len(sub)
            done.append(tr.orbit)
            per_orbit.append({"orbit": tr.orbit, "n_soundings": int(len(sub)), "seconds": dt,
                              "n_peaks": len(found)})
            peaks.extend(found)
    finally:
        fp.curve_fit, fp.peak_detection = real_fit, real_detect
    cols = ["orbit", "sounding_id", "latitude", "longitude", "delta", "sigma", "amplitude", "R", "slope", "intercept"]
    pk = pd.DataFrame(peaks)
    pk = pk[cols] if len(pk) else pd.DataFrame(columns=cols)
    return {"seconds": seconds, "cpu_seconds": cpu_s, "n_soundings": n_snd, "orbits": done, "peaks": pk, "prep_seconds": prep_s,
            "per_orbit": per_orbit, "n_windows": calls["windows"], "n_fits": calls["fit"]}
