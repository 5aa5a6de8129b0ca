"""Plume detection along OCO-2/OCO-3 tracks: a Gaussian on a linear background.

Model (Zheng et al. 2020, ACP 20, 8501; Chevallier et al. 2022, GRL 49,
e2021GL097540), x = along-track distance [km], c = centre, s = width::

    XCO2(x) = b + m (x - c) + A / (s sqrt(2 pi)) exp(-(x - c)^2 / (2 s^2))

A [ppm km] is the integrated enhancement that :mod:`builder.quantify` turns
into an emission.

Why it is fast (by design, not by tuning): for a fixed centre and width the
model is *linear* in (b, m, A), so a weighted linear least-squares fit needs
only nine weighted sums per (centre, width). :func:`scan_track` computes them
for every centre and width at once:

* window sums of w, w x, w x^2, w y, w x y, w y^2 exactly, from cumulative
  sums and ``searchsorted``;
* Gaussian-weighted sums (w g, w x g, w g^2, w y g, w x y g) from a binning
  of the soundings into bins of width h <= s/6 that keeps the first
  ``TAYLOR_ORDER`` moments of each sounding's offset from its bin centre, and
  a Taylor expansion of the kernel around the bin centre. The sums over bins
  are then a convolution (done by FFT, with long data gaps squeezed out so the
  cost follows the sampled track, not the orbit's span). With h <= s/6 and
  order 3 the truncation error is ~1e-5 relative (1e-4 of the standard error
  of A), i.e. the scan is exact for all practical purposes
  (``tests/test_detect.py`` checks it against ``np.linalg.lstsq`` per centre,
  also across data gaps).

The fit window is local by default: +-``window_sigmas`` x s, clipped to
[``min_window_km``, ``window_km``] (for s = 4 km: +-20 km). A local linear
background absorbs the along-track correlated error better than Zheng et
al.'s fixed 200 km window (computed: se(A) 3.85 vs 4.90 ppm km for s = 4 km,
0.75 ppm white + 0.4 ppm 20-km-correlated noise; the generalised-least-squares
optimum is 3.56).

Only the few scan candidates whose significance exceeds the threshold by
``-scan_significance_margin`` are refined nonlinearly on the exact soundings
(a small bounded Levenberg-Marquardt, free centre and width); the refined
5-parameter se(A) is ~25 % larger than the scan's fixed-width one.

Honest significance. Per-sounding errors are correlated along track (~20 km,
Baker et al. 2022, GMD 15, 649) and ``xco2_uncertainty`` underestimates the
scatter. The standard error of A is therefore (1) scaled by the window's
reduced chi^2 when it exceeds 1 (never below the retrieval's own error) and
(2) inflated by an empirical factor k(s) per track and width: the robust (MAD) standard deviation of the scan's z = A / se(A) over all
centres of the track, which are overwhelmingly plume-free, so k captures
whatever the white-noise error misses (correlated noise, striping, retrieval
artefacts). This is the constant-false-alarm-rate idea of radar detection.
Short tracks with too few centres use ``cfg.default_noise_inflation``.

Quality filters (all configurable in ``[detect]``):

* ``min_soundings_window`` soundings in the fit window (``window_km``);
* ``min_soundings_core`` soundings within +-1 s of the centre;
* ``min_flank_soundings`` soundings in each of [-3s, -2s] and [2s, 3s] (the
  background must be sampled on both sides; Zheng et al. 2020), the flank
  intervals being at least ``min_flank_km`` long: OCO-2 frames are 2.25 km
  apart, so a 2-km interval may hold no frame at all;
* ``min_sigma_km`` <= s <= ``max_sigma_km``. The refinement bounds s below
  at ``min_sigma_km``: a plume narrower than that (a power plant crossed
  < ~15 km downwind, sigma_y ~ 1 km) is fitted with the narrowest trusted
  width instead of being lost; its A is then biased high by
  sqrt(2 s^2 / (s^2 + s_true^2)) (+20 % for s_true = 1.3 km at s = 2 km);
* A > 0 (an enhancement, not a depletion);
* significance A / se(A) >= ``min_significance`` with the honest se above;
* R^2 >= ``min_r2`` and R > 0, R = Pearson correlation of the fitted curve and
  the data within +-4 s;
* with a local window (``window_sigmas`` > 0), the same Gaussian fitted in
  the full ``window_km`` window must also be positive with significance >=
  ``wide_min_significance``: a local linear background alone would turn the
  shoulders of a strong depletion into "plumes";
* before the scan, per-footprint offsets (striping; estimated as the track
  median of each sounding's departure from its frame mean) are removed when
  ``footprint_debias``: with 0.4 ppm offsets and footprint-dependent cloud
  gaps this cut false detections 0.10 -> 0.06 per 1000 km and raised recall
  of a 20 ppm km plume 75 -> 85 % (neutral without striping);
* duplicates (other widths, neighbouring centres) closer than
  max(``merge_km``, s1 + s2) are merged, keeping the most significant.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from builder import tables
from builder.config import Detect
from builder.dedupe import unique_ids
from builder.physics import EARTH_RADIUS_KM
from builder.errors import InputError
from builder.scan import (SQRT_2PI, counts_between, footprint_offsets, half_window_km, merge_peaks, noise_inflation,
                          scan_segments, scan_track)
from builder.soundings import TRACK_COLUMNS, Track

#: Soundings within this distance of the centre give the wind/psurf/tcwv means.
MET_RADIUS_KM = 10.0
#: Half-length of track used for the local lat/lon-vs-along fit (azimuth, position).
AZIMUTH_RADIUS_KM = 50.0

_DTYPES = {
    "detection_id": object, "instrument": object, "source_file": object, "orbit": "int64",
    "sounding_id": "int64", "time_utc": "datetime64[ns, UTC]", "n_soundings": "int64", "n_core": "int64",
}


@functools.lru_cache(maxsize=1)
def _empty_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    det = pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "float64")) for c in tables.DETECTION_FIT_COLUMNS})
    dt = {"detection_id": object, "footprint": "int64"}
    prof = pd.DataFrame({c: pd.Series(dtype=dt.get(c, "float64")) for c in tables.PROFILE_COLUMNS})
    return det, prof


def empty_detections() -> pd.DataFrame:
    """An empty detection table with the DETECTION_FIT columns (a fresh copy)."""
    return _empty_tables()[0].copy()


def empty_profiles() -> pd.DataFrame:
    """An empty profile table with the PROFILE columns (a fresh copy)."""
    return _empty_tables()[1].copy()


# --------------------------------------------------------------------------- refinement

def _model(p, x, c0):
    b, m, A, c, s = p
    u = (x - c) / s
    g = np.exp(-0.5 * u * u) / (SQRT_2PI * s)
    return b + m * (x - c0) + A * g, g, u


def refine_fit(x_km, y_ppm, w, centre_km, sigma_km, area, intercept, slope, cfg: Detect):
    """Nonlinear fit of (b, m, A, c, s) on the soundings of one window.

    Returns (params, cov_unit, chi2, n) or None if the fit failed; the slope is
    relative to the initial centre, cov_unit is (J^T W J)^-1.
    """
    half = float(half_window_km(sigma_km, cfg))
    lo = np.searchsorted(x_km, centre_km - half, side="left")
    hi = np.searchsorted(x_km, centre_km + half, side="right")
    x, y, sw = x_km[lo:hi], y_ppm[lo:hi], np.sqrt(w[lo:hi])
    if len(x) < 6:
        return None
    c0 = centre_km

    def resid(p):
        return (_model(p, x, c0)[0] - y) * sw

    def jac(p):
        b, m, A, c, s = p
        _, g, u = _model(p, x, c0)
        J = np.stack([np.ones_like(x), x - c0, g, A * g * u / s, A * g * (u * u - 1) / s], axis=1)
        return J * sw[:, None]

    s_lo, s_hi = cfg.min_sigma_km, 1.5 * cfg.max_sigma_km
    p = np.array([intercept, slope, area, centre_km, np.clip(sigma_km, s_lo, s_hi)], dtype=float)
    lb = np.array([-np.inf, -np.inf, -np.inf, centre_km - max(2 * sigma_km, 5.0), s_lo])
    ub = np.array([np.inf, np.inf, np.inf, centre_km + max(2 * sigma_km, 5.0), s_hi])
    # Levenberg-Marquardt with the bounds enforced by projection: 5 parameters and a
    # few hundred soundings, so a plain loop beats scipy's general solver ~10x.
    r = resid(p)
    cost = float(r @ r)
    lam = 1e-3
    J = jac(p)
    H, g = J.T @ J, J.T @ r
    for _ in range(40):
        d = np.maximum(np.diag(H), 1e-12)
        try:
            step = np.linalg.solve(H + lam * np.diag(d), -g)
        except np.linalg.LinAlgError:
            lam *= 10.0
            continue
        p_new = np.clip(p + step, lb, ub)
        r_new = resid(p_new)
        cost_new = float(r_new @ r_new)
        if np.isfinite(cost_new) and cost_new <= cost:
            converged = cost - cost_new <= 1e-7 * max(cost, 1e-30)
            p, r, cost = p_new, r_new, cost_new
            lam = max(lam / 3.0, 1e-9)
            J = jac(p)
            H, g = J.T @ J, J.T @ r
            if converged:
                break
        else:
            lam *= 5.0
            if lam > 1e8:
                break
    try:
        cov = np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return None
    return p, cov, cost, len(x)


def _fixed_fit_significance(x_km, y_ppm, w, centre_km, sigma_km, half_km) -> float:
    """A / se(A) of the linear fit with fixed centre and width in a +-half_km
    window (se scaled by the reduced chi^2 when > 1)."""
    lo, hi = np.searchsorted(x_km, [centre_km - half_km, centre_km + half_km])
    x, y, ww = x_km[lo:hi] - centre_km, y_ppm[lo:hi], w[lo:hi]
    if len(x) < 6:
        return np.nan
    X = np.stack([np.ones_like(x), x, np.exp(-0.5 * (x / sigma_km) ** 2) / (SQRT_2PI * sigma_km)], axis=1)
    N = (X * ww[:, None]).T @ X
    try:
        Ninv = np.linalg.inv(N)
    except np.linalg.LinAlgError:
        return np.nan
    theta = Ninv @ ((X * ww[:, None]).T @ y)
    red = max(float(np.sum(ww * (X @ theta - y) ** 2)) / max(len(x) - 3, 1), 1.0)
    return float(theta[2] / np.sqrt(Ninv[2, 2] * red))


# --------------------------------------------------------------------------- track geometry

def _local_track(lat, lon, along, centre_km):
    """Track position and azimuth at ``centre_km`` from a linear fit of
    lat/lon vs along-track distance within +-AZIMUTH_RADIUS_KM."""
    lo, hi = np.searchsorted(along, [centre_km - AZIMUTH_RADIUS_KM, centre_km + AZIMUTH_RADIUS_KM])
    a, la, lo_ = along[lo:hi], lat[lo:hi], np.degrees(np.unwrap(np.radians(lon[lo:hi])))
    if len(a) < 3 or np.ptp(a) < 1.0:
        i = int(np.clip(np.searchsorted(along, centre_km), 0, len(along) - 1))
        return float(lat[i]), float(lon[i]), np.nan
    X = np.stack([np.ones_like(a), a - centre_km], axis=1)
    (lat0, dlat), *_ = np.linalg.lstsq(X, la, rcond=None)
    (lon0, dlon), *_ = np.linalg.lstsq(X, lo_, rcond=None)
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    north = dlat * k
    east = dlon * k * np.cos(np.radians(lat0))
    az = float(np.degrees(np.arctan2(east, north)) % 360.0)
    return float(lat0), float((lon0 + 180.0) % 360.0 - 180.0), az


# --------------------------------------------------------------------------- driver

def detect_track(track: Track, cfg: Detect) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Detect plumes along one track.

    Returns (detections with ``tables.DETECTION_FIT_COLUMNS``, profiles with
    ``tables.PROFILE_COLUMNS`` = the soundings within +-max(50 km, 4 s) of each
    detection centre). See the module docstring for the method and filters.
    Raises :class:`builder.soundings.InputError` (file, orbit and reason) for a
    track table with missing columns or non-finite values.
    """
    s = track.soundings
    where = f"orbit {track.orbit}"
    if s is None or len(s) < max(cfg.min_soundings_window, 6):
        return empty_detections(), empty_profiles()
    missing = [col for col in TRACK_COLUMNS if col not in s.columns]
    if missing:
        raise InputError(track.source_file, f"{where}: track table lacks columns {', '.join(missing)}")
    x = s["along_km"].to_numpy(float)
    y_raw = s["xco2_ppm"].to_numpy(float)
    unc = s["xco2_unc_ppm"].to_numpy(float)
    bad = ~(np.isfinite(x) & np.isfinite(y_raw) & np.isfinite(unc) & (unc > 0))
    if bad.any():   # ingest screens these; reaching here is a broken input, not noise to drop
        raise InputError(track.source_file, f"{where}: {int(bad.sum())} soundings with non-finite along_km/xco2 or "
                                            f"xco2_uncertainty <= 0 (first sounding_id "
                                            f"{s['sounding_id'].to_numpy()[bad][0]})")
    if np.any(np.diff(x) < 0):
        s = s.sort_values(["along_km", "sounding_id"], kind="stable").reset_index(drop=True)
        x, y_raw, unc = (s[c].to_numpy(float) for c in ("along_km", "xco2_ppm", "xco2_unc_ppm"))
    if cfg.footprint_debias:
        y_raw = y_raw - footprint_offsets(x, y_raw, s["footprint"].to_numpy())
    y_ref = float(np.median(y_raw))
    y = y_raw - y_ref
    w = 1.0 / unc ** 2
    sigmas = np.array(sorted(cfg.sigma_km), float)
    centres, scan = scan_segments(x, y, w, sigmas, 2 * half_window_km(sigmas, cfg), float(cfg.centre_step_km),
                                  cfg.min_soundings_window)
    if len(centres) == 0:
        return empty_detections(), empty_profiles()

    # filters evaluable on the scan (sampling counts only where a fit exists)
    coverage = scan["ok"] & (scan["n"] >= cfg.min_soundings_window)
    rows = np.flatnonzero(coverage.any(axis=1))
    C, SG = centres[rows, None], sigmas[None, :]
    FL = np.maximum(SG, cfg.min_flank_km)
    coverage[rows] &= (counts_between(x, C - SG, C + SG) >= cfg.min_soundings_core) \
        & (counts_between(x, C - 2 * SG - FL, C - 2 * SG) >= cfg.min_flank_soundings) \
        & (counts_between(x, C + 2 * SG, C + 2 * SG + FL) >= cfg.min_flank_soundings)
    dof = np.maximum(scan["n"] - 3, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        red_chi2 = np.maximum(scan["chi2"] / dof, 1.0)   # never below the retrieval's own error
        se_white = np.sqrt(np.where(scan["var_area_unit"] > 0, scan["var_area_unit"], np.nan) * red_chi2)
        z_white = scan["area"] / se_white
    inflation = np.array([noise_inflation(z_white[coverage[:, j], j], cfg.default_noise_inflation)
                          for j in range(len(sigmas))])
    z = z_white / inflation[None, :]
    cand = coverage & (scan["area"] > 0) & (z >= cfg.min_significance - cfg.scan_significance_margin)
    ci, sj = np.nonzero(cand)
    if len(ci) == 0:
        return empty_detections(), empty_profiles()
    keep = merge_peaks(centres[ci], sigmas[sj], z[ci, sj], cfg.merge_km)
    ci, sj = ci[keep], sj[keep]

    # refinement and final filters
    rows = []
    for i, j in zip(ci, sj):
        c0, sig0 = centres[i], sigmas[j]
        area, icpt, slope = scan["area"][i, j], scan["intercept"][i, j], scan["slope"][i, j]
        if cfg.refine:
            fit = refine_fit(x, y, w, c0, sig0, area, icpt, slope, cfg)
            if fit is None:
                continue
            (b, m, A, c, sg), cov, chi2, n = fit
            icpt_c = b + m * (c - c0)
        else:
            b, m, A, c, sg = icpt, slope, area, c0, sig0
            icpt_c = b
            n = int(scan["n"][i, j])
            chi2 = scan["chi2"][i, j]
            cov = np.full((5, 5), np.nan)
            cov[2, 2] = scan["var_area_unit"][i, j]
        k_inf = float(np.interp(np.log(sg), np.log(sigmas), inflation))
        scale = max(chi2 / max(n - (5 if cfg.refine else 3), 1), 1.0) * k_inf ** 2
        var_A, var_s, cov_As = cov[2, 2] * scale, cov[4, 4] * scale, cov[2, 4] * scale
        se_A = float(np.sqrt(var_A))
        signif = A / se_A if se_A > 0 else np.nan
        if not (A > 0 and np.isfinite(signif) and signif >= cfg.min_significance
                and cfg.min_sigma_km <= sg <= cfg.max_sigma_km):
            continue
        nc_ = int(counts_between(x, c - sg, c + sg))
        hw = float(half_window_km(sig0, cfg))
        if (int(counts_between(x, c - hw, c + hw)) < cfg.min_soundings_window
                or nc_ < cfg.min_soundings_core
                or counts_between(x, c - 2 * sg - max(sg, cfg.min_flank_km), c - 2 * sg) < cfg.min_flank_soundings
                or counts_between(x, c + 2 * sg, c + 2 * sg + max(sg, cfg.min_flank_km)) < cfg.min_flank_soundings):
            continue
        if hw < cfg.window_km / 2 and cfg.wide_min_significance > -np.inf:
            z_wide = _fixed_fit_significance(x, y, w, c, sg, cfg.window_km / 2) / k_inf
            if not z_wide >= cfg.wide_min_significance:
                continue
        lo, hi = np.searchsorted(x, [c - 4 * sg, c + 4 * sg])
        xs, ys = x[lo:hi], y[lo:hi]
        fitted = _model((icpt_c, m, A, c, sg), xs, c)[0]
        r = np.corrcoef(fitted, ys)[0, 1] if len(xs) > 2 and np.std(fitted) > 0 else np.nan
        if not (np.isfinite(r) and r > 0 and r * r >= cfg.min_r2):
            continue
        wl, wh = np.searchsorted(x, [c - hw, c + hw])
        resid = y[wl:wh] - _model((icpt_c, m, A, c, sg), x[wl:wh], c)[0]
        peak = A / (sg * SQRT_2PI)
        dpk_dA, dpk_ds = 1.0 / (sg * SQRT_2PI), -A / (sg * sg * SQRT_2PI)
        var_peak = dpk_dA ** 2 * var_A + dpk_ds ** 2 * var_s + 2 * dpk_dA * dpk_ds * cov_As
        rows.append(dict(centre=c, area_ppm_km=A, area_unc_ppm_km=se_A, sigma_km=sg,
                         sigma_unc_km=float(np.sqrt(var_s)) if np.isfinite(var_s) else np.nan,
                         amplitude_ppm=peak, amplitude_unc_ppm=float(np.sqrt(max(var_peak, 0.0)))
                         if np.isfinite(var_peak) else se_A * dpk_dA,
                         slope_ppm_km=m, intercept_ppm=icpt_c + y_ref, r2=r * r, n_soundings=n,
                         n_core=nc_, significance=signif, noise_ppm=float(np.std(resid))))
    if not rows:
        return empty_detections(), empty_profiles()
    det = pd.DataFrame(rows)
    keep = merge_peaks(det["centre"].to_numpy(), det["sigma_km"].to_numpy(), det["significance"].to_numpy(), cfg.merge_km)
    det = det.iloc[np.sort(keep)].sort_values("centre").reset_index(drop=True)
    return _finish(track, s, det)


def _finish(track: Track, s: pd.DataFrame, det: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add identifiers, position, azimuth and met means; cut the profiles."""
    x = s["along_km"].to_numpy(float)
    lat, lon = s["latitude"].to_numpy(float), s["longitude"].to_numpy(float)
    c = det["centre"].to_numpy()
    near = np.clip(np.searchsorted(x, c), 1, len(x) - 1)
    near = np.where(np.abs(x[near - 1] - c) <= np.abs(x[near] - c), near - 1, near)
    near = np.searchsorted(x, x[near], side="left")   # first sounding of that frame (ties)
    sid = s["sounding_id"].to_numpy(np.int64)[near]
    geo = np.array([_local_track(lat, lon, x, ci) for ci in c]).reshape(-1, 3)
    lo = np.searchsorted(x, c - MET_RADIUS_KM, side="left")
    hi = np.searchsorted(x, c + MET_RADIUS_KM, side="right")
    met = {}
    water = (s["land_water"].to_numpy(float) == 1).astype(float) if "land_water" in s else np.zeros(len(s))
    for col in ("wind_u_m_s", "wind_v_m_s", "psurf_hpa", "tcwv_kg_m2", "water_fraction"):
        v = water if col == "water_fraction" else s[col].to_numpy(float)
        fin = np.isfinite(v)
        cs = np.concatenate([[0.0], np.cumsum(np.where(fin, v, 0.0))])
        cn = np.concatenate([[0], np.cumsum(fin)])
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (cs[hi] - cs[lo]) / (cn[hi] - cn[lo])
        met[col] = np.where(cn[hi] - cn[lo] > 0, mean, v[near])   # none within 10 km: nearest sounding
    out = pd.DataFrame({
        "detection_id": unique_ids([f"{track.instrument}-{track.orbit}-{i}" for i in sid]),  # all-zero ids too
        "instrument": track.instrument, "orbit": np.int64(track.orbit), "source_file": track.source_file,
        "sounding_id": sid, "time_utc": s["time_utc"].iloc[near].to_numpy(),  # index first: no per-row objects
        "latitude": geo[:, 0], "longitude": geo[:, 1], "along_km": c,
    })
    out["time_utc"] = pd.to_datetime(out["time_utc"], utc=True)
    for col in ("amplitude_ppm", "amplitude_unc_ppm", "sigma_km", "sigma_unc_km", "area_ppm_km",
                "area_unc_ppm_km", "slope_ppm_km", "intercept_ppm", "r2", "n_soundings", "n_core",
                "significance", "noise_ppm"):
        out[col] = det[col].to_numpy()
    out["n_soundings"] = out["n_soundings"].astype("int64")
    out["n_core"] = out["n_core"].astype("int64")
    out["track_azimuth_deg"] = geo[:, 2]
    for col, v in met.items():
        out[col] = v
    out = out[tables.DETECTION_FIT_COLUMNS]
    # profiles
    half = np.maximum(50.0, 4.0 * det["sigma_km"].to_numpy())
    plo = np.searchsorted(x, c - half, side="left")
    phi = np.searchsorted(x, c + half, side="right")
    idx = np.concatenate([np.arange(a, b) for a, b in zip(plo, phi)]) if len(c) else np.array([], int)
    owner = np.repeat(out["detection_id"].to_numpy(), phi - plo)
    prof = pd.DataFrame({
        "detection_id": owner, "along_km": x[idx], "xco2_ppm": s["xco2_ppm"].to_numpy(float)[idx],
        "xco2_unc_ppm": s["xco2_unc_ppm"].to_numpy(float)[idx], "latitude": lat[idx], "longitude": lon[idx],
        "footprint": s["footprint"].to_numpy()[idx].astype("int64"),
    })
    return out.reset_index(drop=True), prof[tables.PROFILE_COLUMNS].reset_index(drop=True)
