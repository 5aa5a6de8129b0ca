"""The linear scan of builder.detect: for every centre and width along a track, the weighted
least-squares fit of a Gaussian on a linear background from nine weighted sums (window sums
exact from cumulative sums, Gaussian sums by binned Taylor-expanded kernels convolved by FFT),
plus the empirical noise inflation and the merging of overlapping peaks. The model, its
sources (Zheng et al. 2020, ACP 20, 8501) and why it is exact for all practical purposes are
described in builder/detect.py's module docstring; tests/test_detect.py checks the scan against
``np.linalg.lstsq`` per centre.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import fft as sfft

from builder.config import Detect

SQRT_2PI = np.sqrt(2.0 * np.pi)
#: Order of the Taylor expansion of the kernels around bin centres in the scan.
TAYLOR_ORDER = 3
#: Bins are at most width / BIN_FRACTION wide.
BIN_FRACTION = 6.0
#: Gaussian kernels are truncated at this many widths (exp(-18) ~ 1.5e-8).
KERNEL_HALF_WIDTHS = 6.0
#: Minimum number of scan centres with a valid fit to estimate the noise inflation.
MIN_CENTRES_FOR_INFLATION = 60


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


def counts_between(x_km, a_km, b_km):
    """Soundings with a <= x <= b (x sorted), vectorised."""
    return np.searchsorted(x_km, b_km, side="right") - np.searchsorted(x_km, a_km, side="left")


def noise_inflation(z: np.ndarray, default: float) -> float:
    """Robust spread of plume-free z-scores, >= 1 (see module docstring)."""
    z = z[np.isfinite(z)]
    if len(z) < MIN_CENTRES_FOR_INFLATION:
        return float(default)
    mad = np.median(np.abs(z - np.median(z)))
    return float(max(1.0, 1.4826 * mad))


def merge_peaks(centre_km, sigma_km, score, merge_km):
    """Greedy non-maximum suppression: indices kept, most significant first.

    Two fits are one plume if their centres are closer than max(merge_km, s1 + s2).
    """
    order = np.argsort(-score, kind="stable")
    kept: list[int] = []
    for i in order:
        if all(abs(centre_km[i] - centre_km[j]) >= max(merge_km, sigma_km[i] + sigma_km[j]) for j in kept):
            kept.append(int(i))
    return np.array(kept, dtype=np.int64)
