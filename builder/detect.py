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
from scipy import fft as sfft

from builder import tables
from builder.config import Detect
from builder.dedupe import unique_ids
from builder.physics import EARTH_RADIUS_KM
from builder.errors import InputError
from builder.soundings import TRACK_COLUMNS, Track

SQRT_2PI = np.sqrt(2.0 * np.pi)
#: Order of the Taylor expansion of the kernels around bin centres in the scan.
TAYLOR_ORDER = 3
#: Bins are at most width / BIN_FRACTION wide.
BIN_FRACTION = 6.0
#: Gaussian kernels are truncated at this many widths (exp(-18) ~ 1.5e-8).
KERNEL_HALF_WIDTHS = 6.0
#: Soundings within this distance of the centre give the wind/psurf/tcwv means.
MET_RADIUS_KM = 10.0
#: Half-length of track used for the local lat/lon-vs-along fit (azimuth, position).
AZIMUTH_RADIUS_KM = 50.0
#: Minimum number of scan centres with a valid fit to estimate the noise inflation.
MIN_CENTRES_FOR_INFLATION = 60

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


# --------------------------------------------------------------------------- scan

def _kernel_derivatives(d_km: np.ndarray, sigma_km: float, order: int) -> np.ndarray:
    """Taylor coefficients F^(p)(d)/p! for F in (g, d g, g^2), p = 0..order.

    g(d) = phi(d/s)/s is the area-normalised Gaussian; its derivatives are
    (-1)^p He_p(d/s) phi(d/s) / s^(p+1) (probabilists' Hermite polynomials).
    Returns an array (len(d), order + 1, 3).
    """
    from math import factorial

    from numpy.polynomial.hermite_e import hermeval

    out = np.empty((len(d_km), order + 1, 3))

    def gauss_deriv(s, p):
        u = d_km / s
        coef = np.zeros(p + 1)
        coef[p] = 1.0
        return (-1.0) ** p * hermeval(u, coef) * np.exp(-0.5 * u * u) / (SQRT_2PI * s ** (p + 1))

    g = [gauss_deriv(sigma_km, p) for p in range(order + 1)]
    s2 = sigma_km / np.sqrt(2.0)
    c2 = 1.0 / (2.0 * sigma_km * np.sqrt(np.pi))  # g^2 = c2 * (Gaussian of width s/sqrt2)
    for p in range(order + 1):
        fact = factorial(p)
        out[:, p, 0] = g[p] / fact
        out[:, p, 1] = (d_km * g[p] + (p * g[p - 1] if p else 0.0)) / fact
        out[:, p, 2] = c2 * gauss_deriv(s2, p) / fact
    return out


def _fft_size(n: int) -> int:
    """FFT length >= n from a coarse ladder (2^k x {8, 10, 12, 14, 16}), so that
    kernel spectra are reused across tracks of similar length."""
    k = max(int(np.ceil(np.log2(max(n, 16)))) - 4, 0)
    for m in (8, 10, 12, 14, 16):
        if m << k >= n:
            return m << k
    return 16 << k


@functools.lru_cache(maxsize=512)
def _kernel_spectrum(sigma_km: float, h_km: float, T: int, nfft: int) -> tuple[np.ndarray, np.ndarray]:
    """rFFT of the Taylor kernels: (Kw, Ky) of shapes (P+1, 3, nf) and (P+1, 2, nf).

    Kw[p] turns the w-moments of order p into the sums of w g, w d g, w g^2;
    Ky[p] turns the w y-moments into w y g, w y d g. The kernels are flipped
    (correlation as a convolution). Depends on nothing but its arguments, so
    it is cached.
    """
    P = TAYLOR_ORDER
    t = np.arange(-T, T + 1)
    kd = _kernel_derivatives(t * h_km, sigma_km, P)[::-1]      # (2T+1, P+1, 3), flipped
    K = sfft.rfft(np.ascontiguousarray(kd.transpose(1, 2, 0)), n=nfft, axis=-1)   # (P+1, 3, nf)
    Kw, Ky = K, np.ascontiguousarray(K[:, 0:2])
    Kw.setflags(write=False)
    Ky.setflags(write=False)
    return Kw, Ky


def _gaussian_sums(x_km, w, y, centre0_km, step_km, n_centres, sigma_km, half_window_km):
    """Gaussian-weighted sums at centres centre0 + j*step for one width.

    Returns an array (n_centres, 5): sums of w g, w d g, w g^2, w y g, w y d g
    with d = x - c and g the area-normalised Gaussian of width sigma.
    """
    k = max(1, int(np.ceil(step_km * BIN_FRACTION / sigma_km)))
    h = step_km / k
    idx = np.rint((x_km - centre0_km) / h).astype(np.int64)
    delta = x_km - centre0_km - idx * h
    lo = int(idx.min())
    idx -= lo                      # bin b <-> position centre0 + (b + lo) h
    n_bins = int(idx.max()) + 1
    P = TAYLOR_ORDER
    # moments M_p = sum w delta^p (rows 0..P), Y_p = sum w y delta^p (rows P+1..) per bin
    mom = np.empty((2 * (P + 1), n_bins))
    wp, wyp = w.copy(), w * y
    for p in range(P + 1):
        mom[p] = np.bincount(idx, wp, minlength=n_bins)
        mom[P + 1 + p] = np.bincount(idx, wyp, minlength=n_bins)
        if p < P:
            wp *= delta
            wyp *= delta
    T = int(np.floor(min(KERNEL_HALF_WIDTHS * sigma_km, half_window_km) / h))
    nfft = _fft_size(n_bins + 2 * T + 1)
    Kw, Ky = _kernel_spectrum(float(sigma_km), float(h), T, nfft)
    Mf = sfft.rfft(mom, n=nfft, axis=-1)                         # (2(P+1), nf)
    Sf = np.empty((5, Mf.shape[1]), dtype=Mf.dtype)
    Sf[0:3] = np.einsum("pf,pof->of", Mf[:P + 1], Kw, optimize=False)
    Sf[3:5] = np.einsum("pf,pof->of", Mf[P + 1:], Ky, optimize=False)
    full = sfft.irfft(Sf, n=nfft, axis=-1)                       # (5, nfft)
    # centre j is at bin b = j*k - lo; S[b] = full[b + T]
    b = np.arange(n_centres) * k - lo + T
    inside = (b >= 0) & (b < n_bins + 2 * T)      # beyond: no sounding within the kernel
    out = np.zeros((n_centres, 5))
    out[inside] = full[:, b[inside]].T
    return out


def _gaussian_sums_gapped(x_km, w, y, centres_km, step_km, sigma_km, half_km, live=None, nearest=None):
    """:func:`_gaussian_sums` at ``centres_km`` with long data gaps squeezed out.

    A centre only sees soundings within +-half_km, so every gap longer than
    G = 2 half + 2 step is shortened to G (minus a multiple of the centre step,
    which keeps centres on the bin grid): one FFT per width and track whose
    length follows the sampled track, not the orbit's span. Each centre is
    evaluated at its position shifted like its nearest sounding; centres with
    no sounding within +-half_km (or not ``live``) get zero sums.
    """
    nc = len(centres_km)
    gap_keep = 2.0 * half_km + 2.0 * step_km
    gaps = np.diff(x_km)
    excess = np.where(gaps > gap_keep + step_km, np.floor((gaps - gap_keep) / step_km) * step_km, 0.0)
    shift = np.concatenate([[0.0], np.cumsum(excess)])
    if nearest is None:
        i = np.clip(np.searchsorted(x_km, centres_km), 1, len(x_km) - 1)
        nearest = np.where(np.abs(x_km[i - 1] - centres_km) <= np.abs(x_km[i] - centres_km), i - 1, i)
    seen = np.abs(x_km[nearest] - centres_km) <= half_km
    if live is not None:
        seen &= live
    j = np.rint((centres_km - centres_km[0]) / step_km).astype(np.int64) - np.rint(shift[nearest] / step_km).astype(np.int64)
    out = np.zeros((nc, 5))
    if not seen.any():
        return out
    j_lo, j_hi = int(j[seen].min()), int(j[seen].max())
    sums = _gaussian_sums(x_km - shift, w, y, centres_km[0] + j_lo * step_km, step_km, j_hi - j_lo + 1,
                          sigma_km, half_km)
    out[seen] = sums[j[seen] - j_lo]
    return out


def scan_track(x_km, y_ppm, w, centres_km, sigmas_km, window_km, step_km=None):
    """Weighted linear fits of b + m (x-c) + A g(x-c; s) at all centres and widths.

    ``centres_km`` must lie on a grid centres_km[0] + k * step_km (sorted; by
    default evenly spaced, step = their spacing); ``window_km`` is one full window
    length or one per width. Returns a dict of arrays of shape
    (n_centres, n_widths): ``area`` (A, ppm km), ``slope``, ``intercept`` (ppm,
    at the centre, in the units of ``y_ppm``), ``var_area_unit`` (the (A, A)
    element of (X^T W X)^-1, i.e. var(A) if the weights are exact),
    ``chi2`` (weighted residual sum of squares), ``n`` (soundings in window),
    ``ok`` (a well-posed fit). Centres without a sounding within
    +-max(width, step) are skipped (NaN, n = 0): no fit there can pass the
    core-sampling filter.
    """
    x = np.asarray(x_km, float)
    y = np.asarray(y_ppm, float)
    w = np.asarray(w, float)
    c = np.asarray(centres_km, float)
    nc, ns = len(c), len(sigmas_km)
    halves = np.broadcast_to(np.asarray(window_km, float) / 2.0, (ns,))
    step = float(step_km) if step_km is not None else (float(c[1] - c[0]) if nc > 1 else 1.0)
    x0 = x[0] if len(x) else 0.0
    xr = x - x0
    cr = c - x0
    cums = np.zeros((len(x) + 1, 6))
    np.cumsum(np.stack([w, w * xr, w * xr * xr, w * y, w * xr * y, w * y * y], axis=1), axis=0, out=cums[1:])
    out = {k: np.full((nc, ns), np.nan) for k in ("area", "slope", "intercept", "var_area_unit", "chi2")}
    out["n"] = np.zeros((nc, ns), np.int64)
    if nc == 0 or len(x) == 0:
        out["ok"] = np.zeros((nc, ns), bool)
        return out
    # distance of each centre to its nearest sounding: a centre with none within
    # +-sigma can never pass the core filter, so its fit is not computed (NaN)
    i = np.clip(np.searchsorted(x, c), 1, max(len(x) - 1, 1))
    i1 = np.minimum(i, len(x) - 1)
    nearest = np.where(np.abs(x[i - 1] - c) <= np.abs(x[i1] - c), i - 1, i1)
    d_near = np.abs(x[nearest] - c)
    for j, sig in enumerate(sigmas_km):
        half = float(halves[j])
        live = d_near <= max(float(sig), step)
        rows = np.flatnonzero(live)
        if len(rows) == 0:
            continue
        cl, crl = c[rows], cr[rows]
        lo = np.searchsorted(x, cl - half, side="left")
        hi = np.searchsorted(x, cl + half, side="right")
        S = cums[hi] - cums[lo]
        n = (hi - lo).astype(np.int64)
        out["n"][rows, j] = n
        s0, s1, s2, sy, sxy, syy = S.T
        sx = s1 - crl * s0                           # sum w (x-c)
        sxx = s2 - 2 * crl * s1 + crl * crl * s0     # sum w (x-c)^2
        sxy_c = sxy - crl * sy                       # sum w (x-c) y
        G = _gaussian_sums_gapped(x, w, y, c, step, float(sig), half, live, nearest)[rows]
        sg, sdg, sgg, syg, sydg = G.T
        # symmetric 3x3 inverse by cofactors (vectorised; faster than stacked inv)
        c00 = sxx * sgg - sdg * sdg
        c01 = sdg * sg - sx * sgg
        c02 = sx * sdg - sxx * sg
        c11 = s0 * sgg - sg * sg
        c12 = sx * sg - s0 * sdg
        c22 = s0 * sxx - sx * sx
        det = s0 * c00 + sx * c01 + sg * c02
        good = (n >= 4) & np.isfinite(det) & (np.abs(det) > 1e-12 * np.abs(s0 * sxx * sgg) + 1e-300)
        with np.errstate(invalid="ignore", divide="ignore"):
            inv_det = np.where(good, 1.0 / det, np.nan)
        b_ = (c00 * sy + c01 * sxy_c + c02 * syg) * inv_det
        m_ = (c01 * sy + c11 * sxy_c + c12 * syg) * inv_det
        a_ = (c02 * sy + c12 * sxy_c + c22 * syg) * inv_det
        out["intercept"][rows, j] = b_
        out["slope"][rows, j] = m_
        out["area"][rows, j] = a_
        out["var_area_unit"][rows, j] = c22 * inv_det
        out["chi2"][rows, j] = np.maximum(syy - (b_ * sy + m_ * sxy_c + a_ * syg), 0.0)
    out["ok"] = np.isfinite(out["area"]) & (out["var_area_unit"] > 0) & (out["n"] > 3)
    return out


def half_window_km(sigma_km, cfg: Detect):
    """Half-length of the fit window for a width: ``window_km``/2, or, when
    ``window_sigmas`` > 0, window_sigmas x sigma clipped to
    [``min_window_km``/2, ``window_km``/2] (a local background absorbs more
    of the correlated noise; see the module docstring)."""
    sigma_km = np.asarray(sigma_km, float)
    if cfg.window_sigmas <= 0:
        return np.full_like(sigma_km, cfg.window_km / 2.0)
    return np.clip(cfg.window_sigmas * sigma_km, cfg.min_window_km / 2.0, cfg.window_km / 2.0)


def scan_segments(x_km, y_ppm, w, sigmas_km, windows_km, step_km, min_soundings):
    """:func:`scan_track` on each stretch of data between gaps longer than the
    largest window (no window can reach across such a gap, so this is exact),
    with centres every ``step_km`` inside each stretch. Cost then scales with
    the sampled track length, not with the orbit's span (cloud gaps, oceans).
    Returns (centres, scan) with the stretches concatenated."""
    gap = float(np.max(windows_km))
    cuts = np.flatnonzero(np.diff(x_km) > gap) + 1
    bounds = np.concatenate([[0], cuts, [len(x_km)]])
    parts = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a < max(min_soundings, 6):
            continue
        xs = x_km[a:b]
        centres = np.arange(xs[0], xs[-1] + 0.5 * step_km, step_km)
        # only grid centres with a sounding within the widest width can pass the core filter
        i = np.clip(np.searchsorted(xs, centres), 1, max(len(xs) - 1, 1))
        d_near = np.minimum(np.abs(xs[i - 1] - centres), np.abs(xs[np.minimum(i, len(xs) - 1)] - centres))
        centres = centres[d_near <= max(float(np.max(sigmas_km)), step_km)]
        parts.append((centres, scan_track(xs, y_ppm[a:b], w[a:b], centres, sigmas_km, windows_km, step_km)))
    if not parts:
        return np.array([]), {}
    centres = np.concatenate([p[0] for p in parts])
    scan = {k: np.concatenate([p[1][k] for p in parts], axis=0) for k in parts[0][1]}
    return centres, scan


def footprint_offsets(along_km, y_ppm, footprint, min_per_frame: int = 4) -> np.ndarray:
    """Per-sounding footprint offset [ppm] (footprint striping), track-wide.

    Each sounding's departure from the mean of its frame (soundings sharing
    along_km; frames with >= min_per_frame soundings) is a footprint bias plus
    noise; the track median per footprint estimates the bias (robust to plumes,
    which are nearly uniform across an ~10 km swath). Returned centred (zero
    mean over footprints), so the overall level is unchanged.
    """
    frame_pos, frame = np.unique(np.asarray(along_km), return_inverse=True)
    counts = np.bincount(frame)
    mean = np.bincount(frame, y_ppm) / counts
    ok = counts[frame] >= min_per_frame
    fp = np.asarray(footprint, dtype=np.int64)
    dev = y_ppm - mean[frame]
    offsets = np.zeros(fp.max() + 1 if len(fp) else 1)
    for f in np.unique(fp[ok]):          # 8 footprints: a loop over footprints, not soundings
        offsets[f] = np.median(dev[ok & (fp == f)])
    present = np.unique(fp[ok])
    if len(present):
        offsets[present] -= offsets[present].mean()
    return offsets[fp]


def _counts(x_km, a_km, b_km):
    """Soundings with a <= x <= b (x sorted), vectorised."""
    return np.searchsorted(x_km, b_km, side="right") - np.searchsorted(x_km, a_km, side="left")


def noise_inflation(z: np.ndarray, default: float) -> float:
    """Robust spread of plume-free z-scores, >= 1 (see module docstring)."""
    z = z[np.isfinite(z)]
    if len(z) < MIN_CENTRES_FOR_INFLATION:
        return float(default)
    mad = np.median(np.abs(z - np.median(z)))
    return float(max(1.0, 1.4826 * mad))


def _merge(centre_km, sigma_km, score, merge_km):
    """Greedy non-maximum suppression: indices kept, most significant first.

    Two fits are one plume if their centres are closer than max(merge_km, s1 + s2).
    """
    order = np.argsort(-score, kind="stable")
    kept: list[int] = []
    for i in order:
        if all(abs(centre_km[i] - centre_km[j]) >= max(merge_km, sigma_km[i] + sigma_km[j]) for j in kept):
            kept.append(int(i))
    return np.array(kept, dtype=np.int64)


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
    coverage[rows] &= (_counts(x, C - SG, C + SG) >= cfg.min_soundings_core) \
        & (_counts(x, C - 2 * SG - FL, C - 2 * SG) >= cfg.min_flank_soundings) \
        & (_counts(x, C + 2 * SG, C + 2 * SG + FL) >= cfg.min_flank_soundings)
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
    keep = _merge(centres[ci], sigmas[sj], z[ci, sj], cfg.merge_km)
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
        nc_ = int(_counts(x, c - sg, c + sg))
        hw = float(half_window_km(sig0, cfg))
        if (int(_counts(x, c - hw, c + hw)) < cfg.min_soundings_window
                or nc_ < cfg.min_soundings_core
                or _counts(x, c - 2 * sg - max(sg, cfg.min_flank_km), c - 2 * sg) < cfg.min_flank_soundings
                or _counts(x, c + 2 * sg, c + 2 * sg + max(sg, cfg.min_flank_km)) < cfg.min_flank_soundings):
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
    keep = _merge(det["centre"].to_numpy(), det["sigma_km"].to_numpy(), det["significance"].to_numpy(), cfg.merge_km)
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
