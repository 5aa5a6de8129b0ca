"""Physical constants and unit conversions shared by the simulator and the
quantification stage, so both sides of every validation use one formula.

References
----------
- Dry-air column and cross-sectional flux: Zheng et al. (2020), ACP 20, 8501,
  doi:10.5194/acp-20-8501-2020; Chevallier et al. (2022), GRL 49,
  e2021GL097540, doi:10.1029/2021GL097540 (the "LSCE" along-track formula,
  also in ddeq's lcsf.py, Kuhlmann et al. 2024, GMD 17, 4773).
- Vertically integrated Gaussian plume and sigma_y = a * x**0.894:
  Nassar et al. (2017), GRL 44, 10045, doi:10.1002/2017GL074702, with
  Pasquill-Gifford coefficients after Martin (1976), JAPCA 26, 145.
"""

from __future__ import annotations

import numpy as np

G_M_S2 = 9.80665
M_CO2_G_MOL = 44.0095
M_AIR_G_MOL = 28.9647
M_CO2_OVER_AIR = M_CO2_G_MOL / M_AIR_G_MOL
EARTH_RADIUS_KM = 6371.0088
SECONDS_PER_YEAR = 365.25 * 86400.0
KG_S_PER_MT_YR = 1e9 / SECONDS_PER_YEAR  # 1 Mt/yr = 31.69 kg/s

#: Pasquill-Gifford stability class -> a in sigma_y[m] = a * x[km]**0.894 (Martin 1976).
PG_SIGMA_Y_A = {"A": 213.0, "B": 156.0, "C": 104.0, "D": 68.0, "E": 50.5, "F": 34.0}
PG_EXPONENT = 0.894
#: Variance [km^2] of a uniform OCO-2 footprint (1.29 km x 2.25 km): a sounding is the footprint mean.
OCO2_FOOTPRINT_VAR_KM2 = (1.29 ** 2 + 2.25 ** 2) / 24.0


def dry_air_column_kg_m2(psurf_hpa, tcwv_kg_m2=0.0):
    """Dry-air column mass m_dry = p_s/g - TCWV [kg m^-2] (p_s in hPa -> Pa)."""
    return np.asarray(psurf_hpa, dtype=float) * 100.0 / G_M_S2 - np.asarray(tcwv_kg_m2, dtype=float)


def line_density_kg_m(area_ppm_km, psurf_hpa, tcwv_kg_m2=0.0):
    """CO2 line density L [kg m^-1] of an integrated XCO2 enhancement A [ppm km].

    L = A * 1e-6 [mol/mol] * 1e3 [m/km] * (M_CO2/M_air) * m_dry  (Zheng et al. 2020).
    """
    return np.asarray(area_ppm_km, dtype=float) * 1e-3 * M_CO2_OVER_AIR * dry_air_column_kg_m2(psurf_hpa, tcwv_kg_m2)


def ppm_from_co2_mass_kg_m2(mass_kg_m2, psurf_hpa, tcwv_kg_m2=0.0):
    """XCO2 enhancement [ppm] of a CO2 column mass enhancement [kg m^-2]."""
    return 1e6 * np.asarray(mass_kg_m2, dtype=float) / (M_CO2_OVER_AIR * dry_air_column_kg_m2(psurf_hpa, tcwv_kg_m2))


def pg_stability_class(wind_speed_m_s, daytime: bool = True):
    """Pasquill-Gifford class for a daytime (moderate insolation) overpass.

    Turner's table for moderate insolation: <2 m/s A-B -> 'B', 2-3 'B',
    3-5 'C', 5-6 'C', >6 'D'. Vectorised; returns an array of letters.
    """
    u = np.asarray(wind_speed_m_s, dtype=float)
    if not daytime:
        return np.where(u < 3, "E", "D")
    return np.where(u < 3.0, "B", np.where(u < 6.0, "C", "D"))


def pg_coefficient_m(stability) -> np.ndarray:
    """a [m] of sigma_y = a * x[km]^0.894 for each Pasquill-Gifford class (Martin 1976)."""
    return np.vectorize(PG_SIGMA_Y_A.__getitem__, otypes=[float])(np.asarray(stability))


def sigma_y_m(downwind_km, stability="C"):
    """Horizontal plume spread sigma_y [m] = a * x[km]^0.894 (Martin 1976)."""
    a = pg_coefficient_m(stability)
    x = np.maximum(np.asarray(downwind_km, dtype=float), 1e-3)
    return a * x ** PG_EXPONENT


def gaussian_plume_column_kg_m2(emission_kg_s, wind_speed_m_s, downwind_km, crosswind_km, stability="C"):
    """Vertically integrated steady Gaussian plume V(x, y) [kg m^-2] (Nassar et al. 2017).

    V = Q / (sqrt(2 pi) sigma_y u) * exp(-y^2 / (2 sigma_y^2)), zero upwind (x <= 0).
    """
    x = np.asarray(downwind_km, dtype=float)
    y_m = np.asarray(crosswind_km, dtype=float) * 1e3
    sy = sigma_y_m(x, stability)
    u = np.maximum(np.asarray(wind_speed_m_s, dtype=float), 0.5)
    v = np.asarray(emission_kg_s, dtype=float) / (np.sqrt(2 * np.pi) * sy * u) * np.exp(-0.5 * (y_m / sy) ** 2)
    return np.where(x > 0, v, 0.0)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance [km], vectorised, broadcasting."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def local_enu_km(lat, lon, lat0, lon0):
    """Local east/north offsets [km] of (lat, lon) from (lat0, lon0) (equirectangular,
    accurate to <0.5% within ~300 km, which is the atlas's reach)."""
    lat = np.asarray(lat, dtype=float)
    dlon = (np.asarray(lon, dtype=float) - np.asarray(lon0, dtype=float) + 180.0) % 360.0 - 180.0
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    east = dlon * k * np.cos(np.radians((lat + np.asarray(lat0)) / 2))
    north = (lat - np.asarray(lat0)) * k
    return east, north



def unit_xyz(lat, lon) -> np.ndarray:
    """Unit vectors on the sphere of (lat, lon) [deg], shape (..., 3): the coordinates of the
    KD-trees that find sources near tracks (a chord distance is monotonic in great-circle distance)."""
    la, lo = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def chord(km: float) -> float:
    """Chord length on the unit sphere of a great-circle distance [km] (capped at half the globe;
    scalar or array)."""
    return 2.0 * np.sin(np.minimum(km, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM))


def covered_track_km(along: np.ndarray, gap_km: float = 10.0, cell_km: float = 0.0,
                     km_per_unit: float = 1.0) -> float:
    """Track length covered by good data [km]: the steps between consecutive along-track
    positions (``along`` in km, or in another unit such as seconds with ``km_per_unit`` the
    ground speed) that are <= ``gap_km`` (longer gaps are not searched track), plus
    ``cell_km`` for each run of data (the along-track size of one sounding or frame, so an
    isolated sounding counts its own footprint). The denominator of false detections per 1000 km."""
    along = np.asarray(along, dtype=float)
    if len(along) == 0:
        return 0.0
    steps = np.diff(np.sort(along)) * km_per_unit
    runs = 1 + int((steps > gap_km).sum())
    return float(steps[steps <= gap_km].sum() + runs * cell_km)

# --------------------------------------------------------------------------- cities (a model)

#: City emission from population (a model, labelled as an estimate wherever shown):
#: E = PER_CAPITA x P x (P / 1e6)^(BETA - 1), sublinear urban scaling (Fragkias et al.
#: 2013, PLoS ONE 8, e64727: beta ~ 0.93 for US metropolitan CO2).
CITY_PER_CAPITA_T_YR = 3.0
CITY_BETA = 0.93
#: Urban radius [km] = 5 x (P / 1e6)^0.42 (built-up area ~ P^0.85; e.g. Bettencourt 2013, Science 340, 1438).
CITY_RADIUS_KM_1M = 5.0
CITY_RADIUS_EXP = 0.42


def city_emission_t_yr(population) -> np.ndarray:
    """Direct CO2 emission [t/yr] of a city of ``population`` (see constants above)."""
    p = np.asarray(population, dtype=float)
    return CITY_PER_CAPITA_T_YR * p * (np.maximum(p, 1.0) / 1e6) ** (CITY_BETA - 1.0)


def city_radius_km(emission_t_yr) -> np.ndarray:
    """Urban radius [km] from the emission, inverting :func:`city_emission_t_yr`."""
    e = np.asarray(emission_t_yr, dtype=float) / (CITY_PER_CAPITA_T_YR * 1e6)
    p_over_1e6 = np.maximum(e, 1e-6) ** (1.0 / CITY_BETA)
    return CITY_RADIUS_KM_1M * p_over_1e6 ** CITY_RADIUS_EXP


def initial_width_km(kind, emission_t_yr, sigma_km=None) -> np.ndarray:
    """Initial plume width [km] of a source: its own ``sigma_km`` where the inventory
    gives one (ODIAC hot spots, builder.odiac: the rms extent of their emission), else
    half the urban radius for a city (an area source, :func:`city_radius_km`), 0 for a
    point source."""
    city = np.asarray(kind, dtype=object).astype(str) == "city"
    width = np.where(city, 0.5 * city_radius_km(np.nan_to_num(np.asarray(emission_t_yr, dtype=float))), 0.0)
    if sigma_km is None:
        return width
    sigma = np.asarray(sigma_km, dtype=float)
    return np.where(np.isfinite(sigma) & (sigma > 0), sigma, width)
