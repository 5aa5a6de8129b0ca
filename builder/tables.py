"""The tables that flow between pipeline stages: their columns and units.

Every stage takes and returns plain pandas DataFrames with these columns (a
stage may add more). Keeping them here makes the contract between modules
explicit and lets tests check it.

Stage flow::

    soundings.Track --detect--> DETECTION_FIT (+ PROFILE rows)
                    --quantify--> + QUANTIFY columns
                    --attribute--> + ATTRIBUTION columns; OVERPASS rows
    all files       --candidates--> CANDIDATE rows (+ candidate OVERPASS rows, second pass)
                    --compare--> SOURCE_SUMMARY rows
"""

from __future__ import annotations

import pandas as pd

#: Unified inventory (builder.inventory). kind in {"power_plant", "city", "grid_cell"}.
SOURCE_COLUMNS = [
    "source_id", "name", "kind", "fuel", "country", "latitude", "longitude", "emission_t_yr",
    "inventory", "inventory_year", "profile_month", "profile_week", "profile_hour",
]

#: One row per retained Gaussian fit (builder.detect).
DETECTION_FIT_COLUMNS = [
    "detection_id",        # f"{instrument}-{orbit}-{sounding_id}", stable across runs
    "instrument", "orbit", "source_file",
    "sounding_id", "time_utc", "latitude", "longitude", "along_km",
    "amplitude_ppm", "amplitude_unc_ppm",      # peak height of the Gaussian
    "sigma_km", "sigma_unc_km",
    "area_ppm_km", "area_unc_ppm_km",          # integrated enhancement A and its 1-sigma
    "slope_ppm_km", "intercept_ppm",           # linear background at the centre
    "r2", "n_soundings", "n_core", "significance", "noise_ppm",
    "track_azimuth_deg",                       # track heading, degrees clockwise from north
    "wind_u_m_s", "wind_v_m_s", "psurf_hpa", "tcwv_kg_m2",  # window means near the centre
    "water_fraction",                          # share of soundings over water within 10 km (glint)
]

#: Added by builder.quantify.
QUANTIFY_COLUMNS = [
    "wind_speed_m_s", "wind_normal_m_s", "wind_track_angle_deg", "dry_air_column_kg_m2",
    "line_density_kg_m", "emission_kg_s", "emission_unc_kg_s", "emission_mt_yr",
    "flag_parallel_wind", "flag_low_wind",
]

#: Added by builder.attribute (empty strings / NaN when unattributed).
ATTRIBUTION_COLUMNS = [
    "source_id", "source_name", "source_distance_km", "source_downwind_km", "source_axis_offset_km",
    "attribution_score", "n_candidates", "alternatives",   # alternatives: "id:score|id:score"
    "inventory_kg_s",                                      # inventory emission at the overpass time
    "gp_emission_kg_s", "gp_emission_unc_kg_s",            # Gaussian-plume inversion, source fixed
]

#: Public detections.csv (the issue's interface) = these, in this order, then the rest.
DETECTIONS_CSV_LEAD = [
    "detection_id", "detection_kind",   # targeted | anomaly | candidate (builder.published)
    "orbit", "sounding_id", "time_utc", "latitude", "longitude", "amplitude_ppm", "sigma_km",
    "emission_kg_s", "emission_unc_kg_s", "wind_u_m_s", "wind_v_m_s", "source_id", "source_name",
    "source_distance_km", "inventory_kg_s",
]

#: Along-track soundings around each detection, for the detection page's profile chart.
PROFILE_COLUMNS = ["detection_id", "along_km", "xco2_ppm", "xco2_unc_ppm", "latitude", "longitude", "footprint"]

#: Every (source, orbit) where the track passes downwind within reach, detected or not.
OVERPASS_COLUMNS = [
    "overpass_id",          # f"{source_id}-{instrument}-{orbit}"
    "source_id", "instrument", "orbit", "time_utc",
    "downwind_km", "axis_offset_km",  # where the track crosses the plume axis
    "cross_latitude", "cross_longitude",
    "track_lat0", "track_lon0", "track_lat1", "track_lon1",  # track segment within reach (for maps)
    "wind_u_m_s", "wind_v_m_s", "n_soundings", "noise_ppm",
    "detected",             # targeted detection: significance and expected signal above thresholds
    "detection_id",         # blind-scan anomaly attributed to this source in this orbit, if any
    "emission_kg_s", "emission_unc_kg_s",   # forced measurement at the predicted crossing (builder.overpass), any sign
    "upper_limit_kg_s",     # when not detected: max(estimate, 0) + upper_limit_sigma x statistical 1-sigma
    "inventory_kg_s", "ratio", "ratio_unc",
    "significance",         # detection statistic: max A / sigma(A) of the plume-width fit near the crossing
    "expected_significance",  # the inventory's emission at the overpass hour in units of that sigma
    "blended_with",         # sources fitted jointly on this track ("a|b"), "" if none
    "emission_stat_unc_kg_s",  # statistical part of emission_unc_kg_s (noise, correlated errors)
    "area_ppm_km", "area_unc_ppm_km",  # the forced fit's along-track enhancement area and its 1-sigma (before the wind)
    "flag_parallel_wind", "flag_water",   # wind within min_wind_track_angle_deg of the track; crossing over water
]

#: Recurrent unattributed anomalies (builder.candidates), measured at every overpass.
CANDIDATE_COLUMNS = [
    "candidate_id", "latitude", "longitude", "n_detections", "n_orbits", "n_days", "detection_ids",
    "mean_emission_kg_s",                   # mean of its anomalies' estimates (selection-biased: not the emission)
    "first_time_utc", "last_time_utc",
    "emission_kg_s", "emission_unc_kg_s",   # combined over every measured overpass (builder.compare), 1-sigma
    "n_overpasses", "n_measured", "n_detected",  # its overpasses (builder.overpass rows), measured, targeted detections
    "nearest_source_ids", "nearest_source_km",   # nearest inventory sources "id|id" and distances "km|km"
]

#: Per-source comparison over every measured overpass (builder.compare).
SOURCE_SUMMARY_COLUMNS = [
    "source_id", "n_overpasses", "n_measured", "n_detected",
    "observed_kg_s", "observed_unc_kg_s",   # ratio x inventory_kg_s
    "inventory_kg_s",                       # mean inventory at the measured overpasses' hours
    "ratio", "ratio_unc", "ratio_chi2",     # weighted observed/inventory, 1-sigma, reduced chi2
]


def empty_table(columns: list[str]) -> pd.DataFrame:
    """A table with ``columns`` and no rows (object dtype: it concatenates with any typed table)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def concat_tables(frames: list, columns: list[str]) -> pd.DataFrame:
    """The non-empty ``frames`` stacked (row index renumbered); an empty table if there are none."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty_table(columns)
    return pd.concat(frames, ignore_index=True)


def sort_table(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``df`` stably sorted by those of ``keys`` it has, row index renumbered."""
    keys = [k for k in keys if k in df.columns]
    if not keys or df.empty:
        return df.reset_index(drop=True)
    return df.sort_values(keys, kind="stable").reset_index(drop=True)
