"""Emission rates of detected plumes.

Two estimators:

* :func:`quantify` — cross-sectional flux (CSF) of the along-track Gaussian
  fit, Q = L * |u . n| with the line density L = A * 1e-3 * (M_CO2/M_air) *
  (p_s/g - TCWV) (Zheng et al. 2020, ACP 20, 8501; Chevallier et al. 2022, GRL
  49, e2021GL097540; CSF in general: Varon et al. 2018, AMT 11, 5673), n the
  unit normal to the track and u the file's wind.
* :func:`fit_gaussian_plume` — for attributed detections, a vertically
  integrated Gaussian plume from the fixed source position (Nassar et al.
  2017, GRL 44, 10045), sampled at the profile soundings; Q enters linearly
  and is solved by weighted linear least squares together with a linear
  background, optionally rotating the wind within +-2 x its direction error
  (Nassar-style) to the best fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder import physics, tables
from builder.config import Config, Quantify

#: Gauss-Hermite nodes/weights (probabilists') for averaging over a normal wind-direction error.
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(21)
_GH_W = _GH_W / _GH_W.sum()


def _direction_spread(angle_rad: np.ndarray, sigma_rad: float) -> np.ndarray:
    """RMS error of |sin(theta)| for a direction error e ~ N(0, sigma):
    sqrt(E[(|sin(theta + e)| - |sin(theta)|)^2]), by Gauss-Hermite quadrature.

    The normal wind component is |u| |sin(theta)|; its direction error grows
    (relative to it) as the wind turns parallel to the track (theta -> 0) and
    stays finite in absolute terms there. RMS about the nominal value, not the
    standard deviation, because near parallel the error is also a bias.
    """
    theta = np.asarray(angle_rad, dtype=float)
    vals = np.abs(np.sin(theta[..., None] + sigma_rad * _GH_X)) - np.abs(np.sin(theta))[..., None]
    return np.sqrt((vals * vals) @ _GH_W)


def quantify(detections: pd.DataFrame, cfg: Quantify) -> pd.DataFrame:
    """Add ``tables.QUANTIFY_COLUMNS``: cross-sectional flux and its 1-sigma.

    Q [kg/s] = physics.line_density_kg_m(A, p_s, TCWV) x |u . n|, n the unit
    normal to the track (from ``track_azimuth_deg``). Relative 1-sigma terms
    added in quadrature: the fit error of A (``area_unc_ppm_km``), the wind
    speed (``cfg.wind_speed_rel_unc``), the wind direction (``cfg.wind_dir_unc_deg``,
    through the spread of |sin(angle)|, large when the wind is near parallel to
    the track) and the linear-background assumption (``cfg.background_rel_unc``).
    Missing TCWV counts as 0 (a <0.5 % effect); missing p_s gives NaN.
    """
    out = detections.copy()
    if out.empty:
        for c in tables.QUANTIFY_COLUMNS:
            out[c] = pd.Series(dtype=bool if c.startswith("flag_") else "float64")
        return out
    u = out["wind_u_m_s"].to_numpy(float)
    v = out["wind_v_m_s"].to_numpy(float)
    az = np.radians(out["track_azimuth_deg"].to_numpy(float))
    area = out["area_ppm_km"].to_numpy(float)
    area_unc = out["area_unc_ppm_km"].to_numpy(float)
    psurf = out["psurf_hpa"].to_numpy(float)
    tcwv = np.nan_to_num(out["tcwv_kg_m2"].to_numpy(float), nan=0.0)
    speed = np.hypot(u, v)
    # track direction t = (sin az, cos az) in (east, north); normal n = (cos az, -sin az)
    along = u * np.sin(az) + v * np.cos(az)
    normal = np.abs(u * np.cos(az) - v * np.sin(az))
    with np.errstate(invalid="ignore", divide="ignore"):
        angle = np.degrees(np.arctan2(normal, np.abs(along)))    # 0..90 deg
    m_dry = physics.dry_air_column_kg_m2(psurf, tcwv)
    L = physics.line_density_kg_m(area, psurf, tcwv)
    Q = L * normal
    sig_dir = np.radians(cfg.wind_dir_unc_deg)
    # absolute 1-sigma of each factor of Q = L * |u| * |sin(angle)|
    spread = _direction_spread(np.radians(angle), sig_dir)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_fit = np.abs(area_unc / area)
        var = (Q * rel_fit) ** 2 + (Q * cfg.wind_speed_rel_unc) ** 2 + (Q * cfg.background_rel_unc) ** 2 \
            + (L * speed * spread) ** 2
    out["wind_speed_m_s"] = speed
    out["wind_normal_m_s"] = normal
    out["wind_track_angle_deg"] = angle
    out["dry_air_column_kg_m2"] = m_dry
    out["line_density_kg_m"] = L
    out["emission_kg_s"] = Q
    out["emission_unc_kg_s"] = np.sqrt(var)
    out["emission_mt_yr"] = Q / physics.KG_S_PER_MT_YR
    out["flag_parallel_wind"] = np.nan_to_num(angle, nan=0.0) < cfg.min_wind_track_angle_deg
    out["flag_low_wind"] = np.nan_to_num(speed, nan=0.0) < cfg.min_wind_m_s
    return out


def _plume_basis(east_km, north_km, u, v, rot_rad, stability, psurf, tcwv):
    """Delta XCO2 [ppm] per (kg/s) at soundings for wind rotated by each angle.

    Returns (n_angles, n_soundings). Downwind/crosswind offsets from the source
    in the rotated wind frame (Nassar et al. 2017).
    """
    speed = max(float(np.hypot(u, v)), 1e-6)
    wdir = np.arctan2(v, u) + np.asarray(rot_rad)[:, None]           # math angle of the wind
    ex, ey = np.cos(wdir), np.sin(wdir)
    down = east_km[None, :] * ex + north_km[None, :] * ey
    cross = -east_km[None, :] * ey + north_km[None, :] * ex
    col = physics.gaussian_plume_column_kg_m2(1.0, speed, down, cross, stability)
    return physics.ppm_from_co2_mass_kg_m2(col, psurf, tcwv)


def fit_gaussian_plume(detections: pd.DataFrame, profiles: pd.DataFrame, sources: pd.DataFrame,
                       cfg: Config) -> pd.DataFrame:
    """Add ``gp_emission_kg_s`` and ``gp_emission_unc_kg_s`` (Gaussian-plume inversion).

    For each detection with a ``source_id``: the model Delta XCO2 at the
    profile soundings is Q x physics.ppm_from_co2_mass_kg_m2(
    physics.gaussian_plume_column_kg_m2(1, |u|, x, y, PG class)) + b + m s,
    x/y downwind/crosswind offsets from the source (physics.local_enu_km),
    s along-track distance; weighted linear least squares in (Q, b, m). If
    ``cfg.quantify.gp_optimise_direction`` the wind is rotated within
    +-2 x ``wind_dir_unc_deg`` to the lowest chi^2 (Nassar et al. 2017). The
    1-sigma combines the fit error (scaled by the reduced chi^2) and the
    wind-speed error (Q is proportional to |u|). NaN where no source is set,
    the source is unknown or the profile is too short.
    """
    out = detections.copy()
    out["gp_emission_kg_s"] = np.nan
    out["gp_emission_unc_kg_s"] = np.nan
    if out.empty or "source_id" not in out or profiles is None or profiles.empty or sources is None or sources.empty:
        return out
    q = cfg.quantify
    src = sources.drop_duplicates("source_id").set_index("source_id")[["latitude", "longitude"]]
    prof_groups = {k: g for k, g in profiles.groupby("detection_id", sort=False)}
    n_rot = max(int(q.gp_direction_steps), 1) if q.gp_optimise_direction else 1
    rot = np.radians(np.linspace(-2 * q.wind_dir_unc_deg, 2 * q.wind_dir_unc_deg, n_rot)) if n_rot > 1 else np.zeros(1)
    gp, gp_unc = np.full(len(out), np.nan), np.full(len(out), np.nan)
    for k, row in enumerate(out.itertuples(index=False)):
        sid = getattr(row, "source_id")
        if not isinstance(sid, str) or not sid or sid not in src.index:
            continue
        prof = prof_groups.get(row.detection_id)
        if prof is None or len(prof) < 10:
            continue
        u, v = float(row.wind_u_m_s), float(row.wind_v_m_s)
        psurf = float(row.psurf_hpa)
        tcwv = 0.0 if not np.isfinite(row.tcwv_kg_m2) else float(row.tcwv_kg_m2)
        if not (np.isfinite(u) and np.isfinite(v) and np.isfinite(psurf)) or np.hypot(u, v) < 0.1:
            continue
        slat, slon = src.loc[sid, "latitude"], src.loc[sid, "longitude"]
        east, north = physics.local_enu_km(prof["latitude"].to_numpy(float), prof["longitude"].to_numpy(float),
                                           slat, slon)
        y = prof["xco2_ppm"].to_numpy(float)
        w = 1.0 / prof["xco2_unc_ppm"].to_numpy(float) ** 2
        s = prof["along_km"].to_numpy(float) - float(row.along_km)
        stab = str(physics.pg_stability_class(np.hypot(u, v)))
        G = _plume_basis(east, north, u, v, rot, stab, psurf, tcwv)        # (n_rot, n)
        sw = np.sqrt(w)
        best = None
        for r in range(len(rot)):
            if not np.any(G[r] > 0):
                continue
            X = np.stack([G[r], np.ones_like(s), s], axis=1) * sw[:, None]
            theta, *_ = np.linalg.lstsq(X, y * sw, rcond=None)
            chi2 = float(np.sum((X @ theta - y * sw) ** 2))
            if best is None or chi2 < best[0]:
                best = (chi2, theta, X)
        if best is None:
            continue
        chi2, theta, X = best
        try:
            cov = np.linalg.inv(X.T @ X)
        except np.linalg.LinAlgError:
            continue
        red = chi2 / max(len(y) - 3 - (1 if n_rot > 1 else 0), 1)
        Q = float(theta[0])
        var = cov[0, 0] * max(red, 1.0) + (Q * q.wind_speed_rel_unc) ** 2
        gp[k], gp_unc[k] = Q, float(np.sqrt(var))
    out["gp_emission_kg_s"], out["gp_emission_unc_kg_s"] = gp, gp_unc
    return out
