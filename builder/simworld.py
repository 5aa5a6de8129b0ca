"""The simulated world's observing conditions, calibrated against real OCO-2.

The calibration target is what the volunteer team's own detector finds on real
August 2018 Lite data (``shared/data/seed-real-peaks``: 2,739 fits, 94 a day,
65 % over water, delta/sigma/R quantiles, 401.2 ppm at 45-60 N), checked with
``bash scripts/bench.sh realism`` (figures in ``docs/realism.md``).

Each term, with its source:

- **Sampling** (:func:`sample_soundings`). The full 8-footprint x 3 Hz grid.
  OCO-2 alternated nadir and glint on consecutive orbits in 2018 (Crisp et al.
  2017, AMT 10, 59; OCO-2 DPUG): nadir orbits see land only (the ocean is too
  dark), glint orbits see land and the ocean glint spot, whose yield drops at
  high solar zenith. Clouds come in coherent regimes along the track (a
  150 km and a 25 km random field against a climatological clear fraction by
  latitude and surface, August, modulated by a seed-fixed 1,500-5,000 km
  regime field): *clear* stretches where ~93 % of footprints pass the
  pre-screen and ~88 % of those are good (real clear-sky stretches run for
  hundreds of km with 80-90 % of footprints good), *broken* stretches with a
  sparse, clumped ~30 % present and a lower good yield, and *cloudy* gaps with
  nothing (cloudy soundings are absent from Lite files; O'Dell et al. 2018,
  AMT 11, 6539). Fewer good soundings above 70 deg solar zenith.
- **Retrieval errors** (:func:`retrieval_errors`). White noise by surface,
  0.8-1.2 ppm over land and 0.3-0.5 ppm over ocean glint (single-sounding
  precision, Worden et al. 2017, AMT 10, 2759; Kiel et al. 2019, AMT 12, 2241),
  heavy-tailed (Student t, 5 degrees of freedom, unit variance); along-track
  correlated errors of 0.45 ppm at ~30 km plus 0.30 ppm at ~200 km (Baker et
  al. 2022, GMD 15, 649; Worden et al. 2017 find 0.3-0.5 ppm of regional
  "bias" that does not average down); a fixed per-footprint bias of 0.15 ppm
  (residual striping after the v10/v11 footprint bias correction); biases tied
  to the surface: albedo (0.35 ppm, 40-400 km), terrain roughness (0.25 ppm,
  20-150 km) and coastlines (0.5 ppm in mixed land/water soundings), fixed in
  space for a seed so they recur orbit after orbit, as the surface-driven
  biases of the real product do (O'Dell et al. 2018, Kiel et al. 2019). The
  written ``xco2_uncertainty`` is the posterior error, which underestimates
  the real scatter (x0.5 over land, x0.75 over ocean; Worden et al. 2017).
- **Background** (:func:`background_xco2_ppm`): zonal means fitted to the
  August 2018 OCO-2 fits' intercepts (406.1 ppm south of 5 N falling to
  401.2 ppm at 45-60 N, the northern summer drawdown), moved to other months
  by the seasonal cycle shape of :data:`SEASONAL_SHAPE` and a 2.4 ppm/yr trend,
  plus a 0.4 ppm daily synoptic field (1,000-4,000 km).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.special import ndtri

from builder import physics

# --- sampling ---
CLEAR_PRESENT = 0.93          #: footprints passing the cloud pre-screen in a clear stretch
CLEAR_GOOD = 0.88             #: of those, xco2_quality_flag = 0
BROKEN_PRESENT = 0.30         #: broken-cloud stretches: sparse, clumped soundings
BROKEN_GOOD = 0.40
BROKEN_PER_CLEAR = 0.8        #: broken-cloud share relative to the clear share
CLOUD_LENGTHS_KM = (150.0, 25.0)
CLOUD_WEIGHTS = (0.85, 0.53)  #: unit total variance

# --- retrieval errors ---
WHITE_LAND_PPM = (0.35, 0.65)
WHITE_OCEAN_PPM = (0.20, 0.35)
T_DOF = 5.0                   #: Student-t degrees of freedom of the white noise (heavy tails)
REPORTED_FRACTION_LAND = 0.8  #: written xco2_uncertainty / true white scatter
REPORTED_FRACTION_OCEAN = 0.9
CORR_SD_PPM = 0.25
CORR_LENGTH_KM = 30.0
LARGE_SD_PPM = 0.25
LARGE_LENGTH_KM = 200.0
FOOTPRINT_BIAS_SD_PPM = 0.15
ALBEDO_BIAS_PPM = 0.12
TERRAIN_BIAS_PPM = 0.10
COAST_BIAS_PPM = 0.5
BAD_NOISE_FACTOR = 1.8        #: flagged soundings: noisier and biased
BAD_BIAS_PPM = 1.0

# --- background ---
#: August 2018 zonal means [ppm] at these latitudes, fitted to the intercepts of
#: the 2,739 real OCO-2 fits (shared/data/seed-real-peaks; 5-degree medians).
AUGUST_LAT_DEG = np.array([-90.0, -40.0, -25.0, -10.0, 0.0, 7.5, 15.0, 22.5, 30.0, 37.5, 42.5, 47.5, 55.0,
                           65.0, 90.0])
AUGUST_XCO2_PPM = np.array([406.3, 406.3, 405.9, 406.2, 406.05, 405.6, 405.0, 404.55, 404.4, 403.4, 402.6,
                            401.3, 401.1, 401.4, 401.8])
AUGUST_YEAR = 2018.62         #: mid-August 2018
XCO2_GROWTH_PPM_YR = 2.4      #: NOAA global growth rate 2018
SYNOPTIC_PPM = 0.4
#: Normalised mean seasonal XCO2 anomaly of the northern extratropics (mid-month,
#: Jan..Dec): maximum in April-May, minimum in September (Wunch et al. 2013, ACP 13, 9447).
SEASONAL_SHAPE = np.array([0.35, 0.5, 0.7, 0.95, 1.0, 0.6, -0.2, -0.85, -1.0, -0.7, -0.25, 0.1])
AUGUST_MEAN_SHAPE = -0.79     #: SEASONAL_SHAPE averaged over 1-31 August (the zonal means are monthly)


class ModeField:
    """A smooth random scalar field on the sphere: sum of ``k`` plane waves
    cos(k_j . r + phi_j) in 3D restricted to the unit sphere, wavelengths
    log-uniform in ``lengths_km``; unit variance (sqrt(2/k) amplitudes)."""

    def __init__(self, rng: np.random.Generator, lengths_km: tuple[float, float], k: int = 8):
        d = rng.normal(size=(3, k))
        d /= np.linalg.norm(d, axis=0)
        wavelength = np.exp(rng.uniform(np.log(lengths_km[0]), np.log(lengths_km[1]), k))
        self.wave = d * (2 * np.pi * physics.EARTH_RADIUS_KM / wavelength)
        self.phase = rng.uniform(0, 2 * np.pi, k)
        self.amp = np.sqrt(2.0 / k)

    def __call__(self, xyz: np.ndarray) -> np.ndarray:
        return self.amp * np.cos(xyz @ self.wave + self.phase).sum(axis=-1)


class SurfaceFields:
    """Seed-fixed properties of the ground: terrain altitude, albedo and
    roughness biases, cloud-regime modulation (the same on every orbit)."""

    def __init__(self, seed: int):
        rng = np.random.default_rng([seed, 7])
        self.terrain = ModeField(np.random.default_rng(7), (300.0, 3000.0), k=16)   # seed-independent
        self.albedo = ModeField(rng, (40.0, 400.0), k=32)
        self.roughness = ModeField(rng, (20.0, 150.0), k=32)
        self.coast = ModeField(rng, (20.0, 100.0), k=16)
        self.regime = ModeField(rng, (1500.0, 5000.0), k=12)

    def altitude_m(self, land_pct, xyz) -> np.ndarray:
        """Smooth synthetic altitude over land (0-2500 m), 0 over water; no DEM is shipped."""
        return np.clip(400.0 + 450.0 * self.terrain(xyz), 0.0, 2500.0) * (np.asarray(land_pct) >= 50)

    def bias_ppm(self, land_pct, xyz, frame_xyz, frame_of) -> np.ndarray:
        """Surface-tied XCO2 bias [ppm]: albedo and roughness over land (evaluated at
        the frame centres ``frame_xyz``, sounding i in frame ``frame_of[i]``: the
        fields vary on >= 20 km), coast in mixed soundings (at ``xyz``)."""
        land = np.asarray(land_pct)
        smooth = ALBEDO_BIAS_PPM * self.albedo(frame_xyz) + TERRAIN_BIAS_PPM * self.roughness(frame_xyz)
        b = np.where(land >= 50, smooth[frame_of], 0.0)
        mixed = (land > 5) & (land < 95)
        if mixed.any():
            b[mixed] += COAST_BIAS_PPM * self.coast(xyz[mixed])
        return b


def along_field(rng: np.random.Generator, n: int, length_km: float, step_km: float) -> np.ndarray:
    """Unit-variance along-track random series with Gaussian autocorrelation
    exp(-d^2 / (2 L^2)) (white noise filtered by a Gaussian of sigma L/sqrt(2))."""
    if n == 0:
        return np.zeros(0)
    s = max(length_km / np.sqrt(2.0) / step_km, 1e-6)
    pad = int(4 * s) + 1
    w = gaussian_filter1d(rng.normal(size=n + 2 * pad), s, mode="wrap")[pad:pad + n]
    return w * np.sqrt(2.0 * np.sqrt(np.pi) * s) if s > 0.5 else w


def clear_fraction(lat, is_land) -> np.ndarray:
    """Climatological share of clear stretches in August (before the regime
    modulation): clear subtropical highs and deserts, cloudy ITCZ (0-12 N)
    and southern storm track, partly clear northern mid-latitude land."""
    lat = np.asarray(lat, dtype=float)
    ocean = 0.05 + 0.30 * np.exp(-(((lat - 32.0) / 12.0) ** 2)) + 0.18 * np.exp(-(((lat + 15.0) / 12.0) ** 2))
    land = 0.08 + 0.22 * np.exp(-(((lat - 28.0) / 10.0) ** 2)) + 0.22 * np.exp(-(((lat + 25.0) / 10.0) ** 2)) \
        + 0.22 * np.exp(-(((lat - 45.0) / 12.0) ** 2))
    return np.where(is_land, land, ocean)


def sample_soundings(rng: np.random.Generator, n_frames: int, step_km: float, n_fp: int, s_frame: np.ndarray,
                     s_all: np.ndarray, lat: np.ndarray, land_pct: np.ndarray, sza: np.ndarray, glint: bool,
                     regime: np.ndarray, clear_sky: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(present, good) per candidate footprint (see module doc). Random streams
    are drawn for the whole pass (``n_frames`` x ``n_fp``) before subsetting,
    so a pass split across two day files draws the same numbers."""
    z = CLOUD_WEIGHTS[0] * along_field(rng, n_frames, CLOUD_LENGTHS_KM[0], step_km) \
        + CLOUD_WEIGHTS[1] * along_field(rng, n_frames, CLOUD_LENGTHS_KM[1], step_km)
    clump = along_field(rng, n_frames, 6.0, step_km)
    u_present = rng.uniform(size=n_frames * n_fp)
    w_broken = rng.normal(size=n_frames * n_fp)
    u_good = rng.uniform(size=n_frames * n_fp)
    is_land = land_pct >= 50
    p_clear = np.clip(clear_fraction(lat, is_land) * np.exp(0.45 * regime), 0.005, 0.85)
    zf = z[s_frame]
    clear = zf < ndtri(p_clear)
    broken = ~clear & (zf < ndtri(np.minimum(p_clear * (1.0 + BROKEN_PER_CLEAR), 0.97)))
    if clear_sky:
        clear, broken = np.ones(len(s_frame), dtype=bool), np.zeros(len(s_frame), dtype=bool)
    in_broken = (0.7 * clump[s_frame] + 0.71 * w_broken[s_all]) < ndtri(BROKEN_PRESENT)
    present = (clear & (u_present[s_all] < CLEAR_PRESENT)) | (broken & in_broken)
    if not glint:
        present &= land_pct > 20                      # nadir: the dark ocean gives no sounding
    p_good = np.where(clear, CLEAR_GOOD, BROKEN_GOOD) * np.clip((85.0 - sza) / 15.0, 0.3, 1.0)
    if glint:
        p_good = np.where(is_land, p_good, p_good * np.clip((80.0 - sza) / 25.0, 0.0, 1.0))
    good = present & (u_good[s_all] < p_good)
    if clear_sky:
        present[:], good[:] = True, True
    return present, good


def retrieval_errors(rng: np.random.Generator, n_frames: int, step_km: float, n_fp: int, s_frame: np.ndarray,
                     s_all: np.ndarray, s_fp: np.ndarray, land_pct: np.ndarray, good: np.ndarray,
                     fp_bias: np.ndarray, surface_bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(error [ppm], written xco2_uncertainty [ppm]) per sounding (see module doc)."""
    n_all = n_frames * n_fp
    u_white = rng.uniform(size=n_all)
    t = rng.standard_t(T_DOF, size=n_all) / np.sqrt(T_DOF / (T_DOF - 2.0))
    corr = CORR_SD_PPM * along_field(rng, n_frames, CORR_LENGTH_KM, step_km) \
        + LARGE_SD_PPM * along_field(rng, n_frames, LARGE_LENGTH_KM, step_km)
    bad_bias = rng.normal(size=n_all)
    is_land = land_pct >= 50
    lo = np.where(is_land, WHITE_LAND_PPM[0], WHITE_OCEAN_PPM[0])
    hi = np.where(is_land, WHITE_LAND_PPM[1], WHITE_OCEAN_PPM[1])
    white = (lo + (hi - lo) * u_white[s_all]) * np.where(good, 1.0, BAD_NOISE_FACTOR)
    err = corr[s_frame] + fp_bias[s_fp - 1] + surface_bias + white * t[s_all] \
        + np.where(good, 0.0, BAD_BIAS_PPM * bad_bias[s_all])
    reported = white * np.where(is_land, REPORTED_FRACTION_LAND, REPORTED_FRACTION_OCEAN)
    return err, reported


def background_xco2_ppm(lat, t_s, synoptic: np.ndarray | float = 0.0) -> np.ndarray:
    """Large-scale XCO2 [ppm] at latitude ``lat`` and ``t_s`` seconds after
    2018-08-01: the August 2018 zonal means (:data:`AUGUST_XCO2_PPM`), the 2.4
    ppm/yr trend, the seasonal cycle relative to August with a half amplitude of
    0.4 ppm (south, tropics) growing to 4 ppm at 55 N, plus ``synoptic``."""
    lat = np.asarray(lat, dtype=float)
    year = 2018.58 + np.asarray(t_s) / physics.SECONDS_PER_YEAR
    month = (year % 1.0) * 12.0 - 0.5                       # 0 = mid-January
    i0 = np.floor(month).astype(int)
    w = month - i0
    shape = (1 - w) * SEASONAL_SHAPE[i0 % 12] + w * SEASONAL_SHAPE[(i0 + 1) % 12]
    amp = 0.4 + 3.6 * np.clip(lat / 55.0, 0.0, 1.0)
    return (np.interp(lat, AUGUST_LAT_DEG, AUGUST_XCO2_PPM) + XCO2_GROWTH_PPM_YR * (year - AUGUST_YEAR)
            + amp * (shape - AUGUST_MEAN_SHAPE) + synoptic)
