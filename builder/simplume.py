"""Simulated plumes that are *not* the estimator's own model.

The quantification inverts a steady Gaussian plume and the cross-sectional flux
Q = L u_perp. Real instantaneous plumes are not that: in kilometre-scale
transport simulations of real power plants (SMARTCARB, COSMO-GHG at 1.1 km;
Kuhlmann et al. 2021, Front. Remote Sens. 2, 689838) the single-transect
cross-sectional flux scatters by tens of percent around the true emission
even without retrieval noise; large-eddy simulations show puffs and meander
on the scale of the transport time (Varon et al. 2018, AMT 11, 5673;
Gałkowski et al. 2025, ACP 25, 13831), and the wind at the plume's height
differs from the reanalysis wind by 20-40 % (Wolff et al. 2021, AMT 14, 2717;
Brunner et al. 2019, ACP 19, 4541). Here each (source, orbit) plume gets:

- **Puffs and emission variability**: the line density at downwind distance x
  is (Q / u) exp(g(x) - var/2), with g a random sum of cosines: puffs from
  turbulent mixing (sd 0.40 at 3-15 km, a few minutes of transport),
  emission changes on the transport time scale (sd 0.15 at 20-80 km, about an
  hour), and a per-crossing effective-wind (shear) factor (sd 0.25).
  ``std(g)`` ~ 0.5, so a noise-free single crossing is within +-30 % of the
  emission for ~40-45 % of crossings (SMARTCARB: 39-150 % 10th-90th
  percentile single-overpass CSF error, Kuhlmann et al. 2021).
- **Meander** (Gifford 1959, fluctuating-plume model): the ensemble-mean
  plume width sigma_y (Pasquill-Gifford) splits into an instantaneous width
  0.6 sigma_y and a centreline that wanders with sd 0.8 sigma_y
  (0.6^2 + 0.8^2 = 1, so the time-averaged plume is unchanged); the wander is
  smooth along the plume (5-30 km).
- **Area sources** (cities): an initial width (radius / 2) added in quadrature.

``structure=False`` gives the steady Gaussian plume (for checking the physics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from builder import physics

PUFF_SD = 0.40
PUFF_KM = (3.0, 15.0)
EMISSION_SD = 0.15
EMISSION_KM = (20.0, 80.0)
SHEAR_SD = 0.25
MEANDER_KM = (5.0, 30.0)
INSTANT_WIDTH = 0.6            #: instantaneous / ensemble-mean sigma_y
MEANDER_SD = 0.8               #: centreline wander / ensemble-mean sigma_y
N_PUFF, N_EMIS, N_MEANDER = 4, 2, 3
LOG_VAR = PUFF_SD ** 2 + EMISSION_SD ** 2 + SHEAR_SD ** 2
FOOTPRINT_VAR_KM2 = physics.OCO2_FOOTPRINT_VAR_KM2   #: footprint averaging as a variance


@dataclass
class PlumeStructure:
    """Random structure of every source's plume on one orbit (rows = sources)."""

    k: np.ndarray          #: wave numbers [rad/km], (n, N_PUFF + N_EMIS)
    phase: np.ndarray
    amp: np.ndarray
    shear: np.ndarray      #: (n,)
    mk: np.ndarray         #: meander wave numbers (n, N_MEANDER)
    mphase: np.ndarray
    on: bool = True

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, on: bool = True) -> "PlumeStructure":
        def waves(m, lengths):
            lam = np.exp(rng.uniform(np.log(lengths[0]), np.log(lengths[1]), (n, m)))
            return 2 * np.pi / lam, rng.uniform(0, 2 * np.pi, (n, m))

        kp, pp = waves(N_PUFF, PUFF_KM)
        ke, pe = waves(N_EMIS, EMISSION_KM)
        mk, mp = waves(N_MEANDER, MEANDER_KM)
        amp = np.concatenate([np.full((n, N_PUFF), PUFF_SD * np.sqrt(2.0 / N_PUFF)),
                              np.full((n, N_EMIS), EMISSION_SD * np.sqrt(2.0 / N_EMIS))], axis=1)
        shear = rng.normal(0.0, SHEAR_SD, n)
        return cls(np.concatenate([kp, ke], axis=1), np.concatenate([pp, pe], axis=1), amp, shear, mk, mp, on)

    def line_factor(self, src: np.ndarray, x_km: np.ndarray) -> np.ndarray:
        """Instantaneous line density / (Q / u) at downwind ``x_km`` of sources ``src``."""
        if not self.on:
            return np.ones(len(src))
        g = (self.amp[src] * np.cos(self.k[src] * x_km[:, None] + self.phase[src])).sum(axis=1) + self.shear[src]
        return np.exp(g - LOG_VAR / 2.0)

    def meander(self, src: np.ndarray, x_km: np.ndarray) -> np.ndarray:
        """Centreline offset in units of sigma_y (unit variance, smooth in x)."""
        if not self.on:
            return np.zeros(len(src))
        return np.sqrt(2.0 / N_MEANDER) * np.cos(self.mk[src] * x_km[:, None] + self.mphase[src]).sum(axis=1)


def width_km(x_km, stability, sigma0_km, structure_on: bool) -> np.ndarray:
    """Plume width seen by a sounding [km]: (instantaneous) sigma_y, the source's
    initial width and the footprint, in quadrature."""
    sy = sigma_y_cls_km(x_km, stability) * (INSTANT_WIDTH if structure_on else 1.0)
    return np.sqrt(sy ** 2 + np.asarray(sigma0_km) ** 2 + FOOTPRINT_VAR_KM2)


def sigma_y_cls_km(x_km, stability) -> np.ndarray:
    """Ensemble-mean sigma_y [km] per element with a per-element stability class."""
    x_km = np.asarray(x_km, dtype=float)
    stab = np.asarray(stability)
    out = np.zeros(len(x_km))
    for cls in np.unique(stab):
        m = stab == cls
        out[m] = physics.sigma_y_m(np.maximum(x_km[m], 1e-3), str(cls)) / 1e3
    return out


def plume_ppm(structure: PlumeStructure, src: np.ndarray, emission_kg_s, speed_m_s, x_km, y_km, psurf_hpa,
              tcwv_kg_m2, stability, sigma0_km) -> np.ndarray:
    """Footprint-mean XCO2 enhancement [ppm] of source ``src``'s plume at
    (downwind ``x_km``, crosswind ``y_km``): vertically integrated Gaussian
    plume (Nassar et al. 2017, GRL 44, 10045) with the structure above. The
    crosswind integral is exactly the instantaneous line density."""
    x = np.asarray(x_km, dtype=float)
    sy_mean = sigma_y_cls_km(x, stability)
    sw = width_km(x, stability, sigma0_km, structure.on)
    y = np.asarray(y_km, dtype=float) - MEANDER_SD * sy_mean * structure.meander(src, x)
    line_kg_m = np.asarray(emission_kg_s) * structure.line_factor(src, x) / np.maximum(np.asarray(speed_m_s), 0.5)
    col = line_kg_m / (np.sqrt(2 * np.pi) * sw * 1e3) * np.exp(-0.5 * (y / sw) ** 2)
    return np.where(x > 0, physics.ppm_from_co2_mass_kg_m2(col, psurf_hpa, tcwv_kg_m2), 0.0)
