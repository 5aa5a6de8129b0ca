"""Synthetic OCO-2-like tracks with injected Gaussian plumes and a truth table.

Used by the smoke test and as a fallback when :mod:`builder.simulate` is not
available. Geometry follows OCO-2: 8 footprints across a ~10 km swath, one
frame every 0.333 s at 6.76 km/s (2.25 km along track), cloud gaps removing
about half the soundings in clumps, white noise plus ~20 km correlated noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder.soundings import GROUND_SPEED_KM_S, TRACK_COLUMNS, Track

KM_PER_DEG = 111.195


def synthetic_track(orbit: int, *, length_km: float = 6000.0, n_plumes: int = 6, seed: int = 0,
                    lat0: float = -40.0, lon0: float = 10.0, noise_ppm: float = 0.6,
                    start: str = "2018-08-01T12:00:00") -> tuple[Track, pd.DataFrame]:
    """One northbound track and its plume truth (orbit, latitude, longitude, along_km, amplitude_ppm, sigma_km)."""
    rng = np.random.default_rng(seed + orbit)
    n_frames = int(length_km / GROUND_SPEED_KM_S * 3.0)
    frame = np.repeat(np.arange(n_frames), 8)
    fp = np.tile(np.arange(1, 9), n_frames)
    t_s = frame / 3.0
    along = t_s * GROUND_SPEED_KM_S
    lat = lat0 + along / KM_PER_DEG
    lon = lon0 + 0.05 * along / KM_PER_DEG + (fp - 4.5) * 1.25 / (KM_PER_DEG * np.cos(np.radians(lat)))
    # cloud clumps: a two-state Markov chain per frame (mean clear run ~110 km, cloudy ~35 km)
    clear = np.empty(n_frames, bool)
    state = True
    u = rng.random(n_frames)
    for i in range(n_frames):
        if u[i] < (0.02 if state else 0.065):
            state = not state
        clear[i] = state
    keep = np.repeat(clear, 8) & (rng.random(len(frame)) > 0.1)
    # noise: white + correlated (~20 km) component
    n_corr = int(length_km / 20.0) + 2
    corr = np.interp(along, np.linspace(0, length_km, n_corr), 0.2 * rng.standard_normal(n_corr))
    unc = rng.uniform(0.4, 0.9, len(frame))
    xco2 = 405.0 + 0.0003 * along + corr + noise_ppm * rng.standard_normal(len(frame))
    truth = []
    if n_plumes:
        centres = np.sort(rng.uniform(150.0, length_km - 150.0, n_plumes))
        centres = centres[np.concatenate([[True], np.diff(centres) > 60.0])]
        for c in centres:
            sig = float(rng.uniform(3.0, 9.0))
            amp = float(rng.uniform(2.0, 6.0))       # peak ppm
            xco2 += amp * np.exp(-0.5 * ((along - c) / sig) ** 2)
            i = int(np.argmin(np.abs(along - c)))
            truth.append(dict(orbit=orbit, latitude=float(lat0 + c / KM_PER_DEG), longitude=float(lon[i]),
                              along_km=float(c), amplitude_ppm=amp, sigma_km=sig))
    t0 = pd.Timestamp(start, tz="UTC") + pd.Timedelta(minutes=99 * (orbit % 15))
    time_utc = t0 + pd.to_timedelta(t_s, unit="s")
    stamp = time_utc.strftime("%Y%m%d%H%M%S").astype(np.int64).to_numpy()
    sid = stamp * 100 + ((time_utc.microsecond // 100000).to_numpy()) * 10 + fp
    n = len(frame)
    df = pd.DataFrame({
        "sounding_id": sid, "time_utc": time_utc, "latitude": lat, "longitude": lon,
        "xco2_ppm": xco2, "xco2_unc_ppm": unc, "footprint": fp, "operation_mode": np.zeros(n, int),
        "land_water": np.zeros(n, int), "altitude_m": np.full(n, 200.0),
        "wind_u_m_s": np.full(n, 4.0) + rng.normal(0, 0.3, n), "wind_v_m_s": np.full(n, 1.5),
        "psurf_hpa": np.full(n, 990.0), "tcwv_kg_m2": np.full(n, 20.0), "along_km": along,
    })[TRACK_COLUMNS]
    df = df.loc[keep].reset_index(drop=True)
    track = Track(orbit=int(orbit), instrument="OCO-2", source_file=f"synthetic-{orbit}.nc4", soundings=df)
    return track, pd.DataFrame(truth, columns=["orbit", "latitude", "longitude", "along_km", "amplitude_ppm",
                                               "sigma_km"])


def synthetic_orbits(n: int, *, length_km: float = 6000.0, n_plumes: int = 6, seed: int = 1,
                     first_orbit: int = 21500) -> tuple[list[Track], pd.DataFrame]:
    tracks, truths = [], []
    for k in range(n):
        tr, tt = synthetic_track(first_orbit + k, length_km=length_km, n_plumes=n_plumes, seed=seed,
                                 lat0=-45.0 + 7.0 * (k % 5), lon0=-170.0 + 24.0 * k)
        tracks.append(tr)
        truths.append(tt)
    return tracks, pd.concat(truths, ignore_index=True)
