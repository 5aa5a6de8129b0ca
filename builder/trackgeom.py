"""One track's along-track geometry and sounding statistics, shared by the overpass stage.

:class:`TrackGeometry` bins a track on BIN_KM along-track bins (positions, a nearest-bin
index for crossings), keeps the soundings sorted by along-track distance with their wind,
pressure, water vapour, water flag and local white noise (successive differences), and
computes on a 1-km grid the least-squares Gaussian area of every width in NULL_SIGMAS_KM at
every centre together with its empirical scatter (correlated errors included), by FFT.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from builder.attribute import as_times, latlon_of, unit_xyz
from builder.soundings import Track

#: Half-width [km] of the along-track window for the wind at an axis crossing.
WIND_WINDOW_KM = 10.0
#: Half-width [km] of the window for the local noise estimate (successive differences).
NOISE_WINDOW_KM = 50.0
#: Plume widths [km] at which the empirical matched-filter error is computed (log-interpolated).
NULL_SIGMAS_KM = (2.0, 4.0, 8.0, 16.0, 32.0)
#: Half-width [km] of the along-track stretch whose matched-filter scatter gives that error.
NULL_WINDOW_KM = 200.0
#: Fit centres (1 km apart) needed within that stretch.
NULL_MIN_CENTRES = 60
#: Along-track bin size [km] of the track geometry used for crossings.
BIN_KM = 2.0


def window_stats(along: np.ndarray, values: np.ndarray, centres: np.ndarray, half_km: float):
    """Mean of the finite ``values`` of soundings within +-half_km of each centre, and their count."""
    fin = np.isfinite(values)
    csum = np.concatenate([[0.0], np.cumsum(np.where(fin, values, 0.0))])
    ccnt = np.concatenate([[0], np.cumsum(fin)])
    lo = np.searchsorted(along, centres - half_km, side="left")
    hi = np.searchsorted(along, centres + half_km, side="right")
    n = ccnt[hi] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, (csum[hi] - csum[lo]) / np.maximum(n, 1), np.nan)
    return mean, hi - lo, n


class TrackGeometry:
    """Along-track bins (BIN_KM) of one track: swath-centre position and sounding statistics."""

    def __init__(self, track: Track):
        s = track.soundings
        along = s["along_km"].to_numpy(float)
        if not np.all(along[1:] >= along[:-1]):   # usually sorted already: no copy
            s = s.iloc[np.argsort(along, kind="stable")]
        self.along = s["along_km"].to_numpy(float)
        self.u = s["wind_u_m_s"].to_numpy(float)
        self.v = s["wind_v_m_s"].to_numpy(float)
        self.psurf = s["psurf_hpa"].to_numpy(float) if "psurf_hpa" in s else np.full(len(s), np.nan)
        self.tcwv = s["tcwv_kg_m2"].to_numpy(float) if "tcwv_kg_m2" in s else np.full(len(s), np.nan)
        self.time_ns = as_times(s["time_utc"]).asi8.astype(float)
        x = s["xco2_ppm"].to_numpy(float)
        # local noise from successive differences (removes background and smooth plume signal)
        d2 = np.full(len(x), np.nan)
        if len(x) > 1:
            close = np.diff(self.along) <= 5.0
            d2[1:] = np.where(close, np.diff(x) ** 2 / 2.0, np.nan)
        self.d2 = d2
        a0 = self.along[0]
        b = ((self.along - a0) // BIN_KM).astype(int)
        nb = int(b[-1]) + 1
        cnt = np.bincount(b, minlength=nb)
        self.lat, self.lon = s["latitude"].to_numpy(float), s["longitude"].to_numpy(float)
        xyz = unit_xyz(self.lat, self.lon)
        centres = a0 + (np.arange(nb) + 0.5) * BIN_KM
        full = cnt > 0
        bxyz = np.column_stack([np.bincount(b, xyz[:, k], minlength=nb)[full] / cnt[full] for k in range(3)])
        xyz_all = np.column_stack([np.interp(centres, centres[full], bxyz[:, k]) for k in range(3)])
        self.bin_along = centres
        self.bin_xyz = xyz_all / np.linalg.norm(xyz_all, axis=1, keepdims=True)
        self.bin_lat, self.bin_lon = latlon_of(self.bin_xyz)
        self.tree = cKDTree(self.bin_xyz)
        self.xco2 = x
        lw = s["land_water"].to_numpy(float) if "land_water" in s else np.zeros(len(s))
        self.water = (lw == 1).astype(float)
        self._null: dict = {}
        self._null_area: dict = {}
        self._bins = None
        self._spec: dict[int, dict] = {}

    def _binned(self):
        """(k, n, cnt, sy): soundings binned on the 1-km grid of _null_area_sigma (any width)."""
        if self._bins is None:
            a0 = self.along[0]
            k = np.round(self.along - a0).astype(int)
            n = int(k[-1]) + 1
            y = self.xco2 - np.nanmedian(self.xco2)
            fin = np.isfinite(y)
            cnt = np.bincount(k[fin], minlength=n).astype(float)
            sy = np.bincount(k[fin], weights=y[fin], minlength=n)
            self._bins = (k, n, cnt, sy)
        return self._bins

    def _null_area_sigma(self, sigma_km: float, need: np.ndarray | None = None) -> np.ndarray:
        """Robust local scatter [ppm km] of the matched-filter area on a 1-km grid.

        At every grid centre c the model y = b + m (s - c) + A g(s - c), g the unit-area
        Gaussian of width ``sigma_km``, is fitted by least squares over +-max(50, 4 sigma) km;
        all normal-equation sums are convolutions of the binned soundings, so the whole
        track costs a few FFTs. The spread of A over centres within +-NULL_WINDOW_KM
        (1.4826 x median absolute deviation, so plumes barely matter) is the empirical
        1-sigma of A there, correlated errors included.

        With ``need`` (grid indices), only those entries are computed (the others are
        NaN): the fits and medians are evaluated within +-2 NULL_WINDOW_KM of them only,
        which gives exactly the values of the whole-track computation there.
        """
        key = sigma_km if need is None else (sigma_km, need.tobytes())
        if key in self._null:
            return self._null[key]
        from scipy import fft as sfft

        _, n, cnt, sy = self._binned()
        half = int(max(50.0, 4.0 * sigma_km))
        o = np.arange(-half, half + 1, dtype=float)
        g = np.exp(-0.5 * (o / sigma_km) ** 2) / (sigma_km * np.sqrt(2 * np.pi))

        nfft = sfft.next_fast_len(n + len(o) - 1)
        if nfft not in self._spec:   # data spectra: the same for every width
            self._spec[nfft] = sfft.rfft(np.stack([cnt, sy]), nfft, axis=-1)
        spec_cnt, spec_y = self._spec[nfft]
        # correlations sum_j a[c + o_j] kern(o_j), centred ("same" length), as one batch
        # of FFTs (the same transforms, row by row, as one call per kernel)
        kern = np.stack([np.ones_like(o), o, o * o, g, o * g, g * g, (np.abs(o) <= sigma_km).astype(float)])
        ks = sfft.rfft(np.ascontiguousarray(kern[:, ::-1]), nfft, axis=-1)
        prod = np.concatenate([spec_cnt[None, :] * ks, spec_y[None, :] * ks[[0, 1, 3]]])
        full = sfft.irfft(prod, nfft, axis=-1)[:, half:half + n]
        sw, sx, sxx, sg, sxg, sgg, core, s_y, sxy, sgy = full
        ok = (sw >= 50) & (core >= 3)
        win = 2 * int(NULL_WINDOW_KM) + 1
        if need is not None:
            # centres whose area enters the median or the MAD at a needed index
            reach = 2 * int(NULL_WINDOW_KM)
            mark = np.zeros(n + 1, int)
            np.add.at(mark, np.clip(need - reach, 0, n), 1)
            np.add.at(mark, np.clip(need + reach + 1, 0, n), -1)
            region = np.cumsum(mark[:n]) > 0
            ok &= region
        area = np.full(n, np.nan)
        if ok.any():
            mat = np.stack([np.stack([sw[ok], sx[ok], sg[ok]], -1), np.stack([sx[ok], sxx[ok], sxg[ok]], -1),
                            np.stack([sg[ok], sxg[ok], sgg[ok]], -1)], -2)
            rhs = np.stack([s_y[ok], sxy[ok], sgy[ok]], -1)
            det = np.linalg.det(mat)
            good = np.abs(det) > 1e-9 * np.abs(sw[ok] * sxx[ok] * sgg[ok])
            sol = np.full((int(ok.sum()), 3), np.nan)
            sol[good] = np.linalg.solve(mat[good], rhs[good][..., None])[..., 0]
            area[ok] = sol[:, 2]

        def robust(a):
            ser = pd.Series(a)
            med = ser.rolling(win, center=True, min_periods=NULL_MIN_CENTRES).median()
            mad = (ser - med).abs().rolling(win, center=True, min_periods=NULL_MIN_CENTRES).median()
            return 1.4826 * mad.to_numpy()
        if need is None:
            out = robust(area)
        else:
            out = np.full(n, np.nan)
            # each run of the region holds every window that the needed indices depend on:
            # the rolling median on the run, then the MAD at the needed indices only (the
            # median of the same values as pandas' rolling median, so the same number)
            med = np.full(n, np.nan)
            edges = np.flatnonzero(np.diff(np.r_[0, region.astype(np.int8), 0]))
            for a, b in zip(edges[0::2], edges[1::2]):
                med[a:b] = pd.Series(area[a:b]).rolling(win, center=True,
                                                         min_periods=NULL_MIN_CENTRES).median().to_numpy()
            dev = np.abs(area - med)
            dev[~np.isfinite(dev)] = np.nan
            mad = np.full(n, np.nan)
            for a, b in zip(edges[0::2], edges[1::2]):   # the rolling MAD on each run, as for the whole track
                mad[a:b] = pd.Series(dev[a:b]).rolling(win, center=True,
                                                       min_periods=NULL_MIN_CENTRES).median().to_numpy()
            out[need] = 1.4826 * mad[need]
        self._null[key] = out
        self._null_area[key] = area
        return out

    def null_lookup(self, along_km: np.ndarray, sigma_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(area A [ppm km], its empirical 1-sigma) of the grid fit of a Gaussian of width
        ``sigma_km`` centred at ``along_km`` (the nearest 1-km grid centre), interpolated
        between NULL_SIGMAS_KM (linearly in log width; the sigma in log); NaN where the track
        is too sparse."""
        along_km, sigma_km = np.asarray(along_km, float), np.asarray(sigma_km, float)
        nan = np.full(len(along_km), np.nan)
        if len(along_km) == 0 or len(self.along) < 2:
            return nan, nan.copy()
        grid = np.array(NULL_SIGMAS_KM)
        idx = np.clip(np.round(np.nan_to_num(along_km - self.along[0])).astype(int), 0, None)
        ls = np.clip(np.log(np.nan_to_num(sigma_km, nan=grid[0])), np.log(grid[0]), np.log(grid[-1]))
        pos = np.interp(ls, np.log(grid), np.arange(len(grid)))
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, len(grid) - 1)
        f = pos - lo
        sig_t = np.full((len(along_km), len(grid)), np.nan)
        area_t = np.full((len(along_km), len(grid)), np.nan)
        n = self._binned()[1]
        pos_idx = np.clip(idx, 0, n - 1)
        for g in np.union1d(lo, hi):  # only the widths needed
            used = (lo == g) | (hi == g)   # only the positions that use this width
            need = np.unique(pos_idx[used])
            sig_t[:, g] = self._null_area_sigma(float(grid[g]), need)[pos_idx]
            area_t[:, g] = self._null_area[float(grid[g]), need.tobytes()][pos_idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            sig_t = np.log(sig_t)
        rows = np.arange(len(along_km))
        area = area_t[rows, lo] * (1 - f) + area_t[rows, hi] * f
        return area, np.exp(sig_t[rows, lo] * (1 - f) + sig_t[rows, hi] * f)

    def wind_at(self, along_km: np.ndarray):
        u, _, nu = window_stats(self.along, self.u, along_km, WIND_WINDOW_KM)
        v, _, _ = window_stats(self.along, self.v, along_km, WIND_WINDOW_KM)
        # fall back to a wider window where the narrow one has no wind
        u2, _, _ = window_stats(self.along, self.u, along_km, NOISE_WINDOW_KM)
        v2, _, _ = window_stats(self.along, self.v, along_km, NOISE_WINDOW_KM)
        return np.where(nu > 0, u, u2), np.where(nu > 0, v, v2)

    def position_at(self, along_km: np.ndarray):
        xyz = np.column_stack([np.interp(along_km, self.bin_along, self.bin_xyz[:, k]) for k in range(3)])
        return latlon_of(xyz)
