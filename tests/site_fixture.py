"""A tiny, realistic BuildResult for render tests (and for anyone else's tests).

It covers every case a page must handle: an attributed detection, an
unattributed one, a recurrent candidate, a non-detection with an upper limit,
a source without overpasses (no page), a source whose name is an HTML/JS
injection attempt, a validation summary and a skipped input. Everything is
computed from fixed numbers and a seeded generator, so it is reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from builder import names, physics
from builder.results import BuildResult, SkippedItem
from builder.tables import (CANDIDATE_COLUMNS, OVERPASS_COLUMNS, PROFILE_COLUMNS, SOURCE_COLUMNS,
                            SOURCE_SUMMARY_COLUMNS)

#: The hostile source name used by the escaping tests.
EVIL_NAME = '<script>alert(1)</script>"onmouseover='

_SOURCES = [
    # source_id, name, kind, fuel, country, lat, lon, t/yr
    ("coco2-1001", "Bełchatów", "power_plant", "coal", "POL", 51.266, 19.326, 38.4e6),
    ("coco2-1002", EVIL_NAME, "power_plant", "gas", "ZAF", -23.668, 27.610, 12.0e6),
    ("coco2-1003", "Matimba", "power_plant", "coal", "ZAF", -23.500, 27.900, 20.0e6),
    ("coco2-1004", "Quiet Creek", "power_plant", "oil", "USA-KS", 39.100, -95.600, 0.3e6),
    ("city/tokyo", "Tokyo", "city", "", "JPN", 35.680, 139.770, 60.0e6),
]

# detection_id, orbit, time, lat, lon, amplitude, sigma, wind u, v, source_id (or "")
_DETECTIONS = [
    ("OCO-2-21950-2018080312031531", 21950, "2018-08-03T12:03:15Z", 51.45, 19.25, 1.40, 5.0, 2.0, 4.5, "coco2-1001"),
    ("OCO-2-22183-2018081912041272", 22183, "2018-08-19T12:04:12Z", 51.40, 19.38, 1.10, 6.5, 1.5, 3.0, "coco2-1001"),
    ("OCO-2-22001-2018080711300044", 22001, "2018-08-07T11:30:00Z", -23.55, 27.58, 0.80, 4.5, -1.0, 3.5, "coco2-1002"),
    ("OCO-2-22050-2018081005101118", 22050, "2018-08-10T05:10:11Z", 35.80, 139.70, 1.20, 9.0, 3.0, 4.0, "city/tokyo"),
    ("OCO-2-22100-2018081309212213", 22100, "2018-08-13T09:21:22Z", 10.00, 40.00, 0.70, 7.0, 4.0, 1.0, ""),
    ("OCO-2-22333-2018082909222451", 22333, "2018-08-29T09:22:24Z", 10.10, 40.08, 0.75, 6.0, 3.5, -1.0, ""),
]


def _sources() -> pd.DataFrame:
    rows = []
    for sid, name, kind, fuel, country, lat, lon, emis in _SOURCES:
        rows.append(dict(source_id=sid, name=name, kind=kind, fuel=fuel, country=country, latitude=lat,
                         longitude=lon, emission_t_yr=emis, inventory="CoCO2" if kind == "power_plant" else "demo",
                         inventory_year=2018, profile_month=1.05, profile_week=1.02, profile_hour=1.2))
    # Bełchatów carries a plant name matched in the GPPD, as the embedded inventory gives it (builder.names)
    crosswalk = pd.DataFrame({"source_id": ["coco2-1001"], "gppd_idnr": [""], "name": ["Bełchatów"],
                              "capacity_mw": [5472.0], "primary_fuel": ["coal"], "match_km": [0.214],
                              "fuel_agrees": [True]})
    return names.name_units(pd.DataFrame(rows, columns=SOURCE_COLUMNS), crosswalk)


def _detections(sources: pd.DataFrame) -> pd.DataFrame:
    by_id = sources.set_index("source_id")
    rows = []
    for i, (did, orbit, t, lat, lon, amp, sigma, u, v, sid) in enumerate(_DETECTIONS):
        area = amp * sigma * np.sqrt(2 * np.pi)
        psurf, tcwv = 1000.0 - 10 * i, 25.0
        speed = float(np.hypot(u, v))
        normal = abs(u) * 0.95 + abs(v) * 0.1
        line = float(physics.line_density_kg_m(area, psurf, tcwv))
        emis = line * normal
        row = dict(
            detection_id=did, instrument="OCO-2", orbit=orbit, source_file=f"oco2_LtCO2_1808{3 + i:02d}_B11100Ar.nc4",
            sounding_id=int(did.rsplit("-", 1)[1]), time_utc=t, latitude=lat, longitude=lon, along_km=1000.0 + 37 * i,
            amplitude_ppm=amp, amplitude_unc_ppm=round(amp * 0.18, 3), sigma_km=sigma, sigma_unc_km=round(sigma * 0.2, 3),
            area_ppm_km=area, area_unc_ppm_km=area * 0.22, slope_ppm_km=0.002 * (i - 2), intercept_ppm=405.0 + 0.3 * i,
            r2=0.45 + 0.05 * i, n_soundings=380 + 10 * i, n_core=24 + i, significance=4.5 + i, noise_ppm=0.7,
            track_azimuth_deg=-12.0, wind_u_m_s=u, wind_v_m_s=v, psurf_hpa=psurf, tcwv_kg_m2=tcwv,
            wind_speed_m_s=speed, wind_normal_m_s=normal, wind_track_angle_deg=60.0 + i,
            dry_air_column_kg_m2=float(physics.dry_air_column_kg_m2(psurf, tcwv)), line_density_kg_m=line,
            emission_kg_s=emis, emission_unc_kg_s=emis * 0.4, emission_mt_yr=emis / physics.KG_S_PER_MT_YR,
            flag_parallel_wind=False, flag_low_wind=i == 3,
        )
        if sid:
            src = by_id.loc[sid]
            inv = src.emission_t_yr * 1e3 / physics.SECONDS_PER_YEAR * 1.2
            dist = float(physics.haversine_km(src.latitude, src.longitude, lat, lon))
            alt = "coco2-1003:0.21" if sid == "coco2-1002" else ""
            row.update(source_id=sid, source_name=src["name"], source_distance_km=dist, source_downwind_km=dist * 0.95,
                       source_axis_offset_km=1.5 + i, attribution_score=0.9 - 0.1 * i,
                       n_candidates=2 if alt else 1, alternatives=alt, inventory_kg_s=inv,
                       gp_emission_kg_s=emis * 1.1, gp_emission_unc_kg_s=emis * 0.35)
        else:
            row.update(source_id="", source_name="", source_distance_km=np.nan, source_downwind_km=np.nan,
                       source_axis_offset_km=np.nan, attribution_score=np.nan, n_candidates=0, alternatives="",
                       inventory_kg_s=np.nan, gp_emission_kg_s=np.nan, gp_emission_unc_kg_s=np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _profiles(detections: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(20180801)
    rows = []
    for d in detections.itertuples():
        x = np.sort(rng.uniform(-100, 100, 60)) + d.along_km
        dx = x - d.along_km
        xco2 = (d.intercept_ppm + d.slope_ppm_km * dx + d.amplitude_ppm * np.exp(-0.5 * (dx / d.sigma_km) ** 2)
                + rng.normal(0, 0.5, x.size))
        for j in range(x.size):
            rows.append(dict(detection_id=d.detection_id, along_km=round(float(x[j]), 3), xco2_ppm=round(float(xco2[j]), 3),
                             xco2_unc_ppm=0.5, latitude=round(d.latitude + dx[j] / 111.0, 4),
                             longitude=round(d.longitude - dx[j] / 111.0 * 0.2, 4), footprint=1 + j % 8))
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def _overpasses(sources: pd.DataFrame, detections: pd.DataFrame) -> pd.DataFrame:
    by_id = sources.set_index("source_id")
    det = detections.set_index("detection_id")
    rows = []
    plan = [  # source, detection id or (orbit, time, u, v)
        ("coco2-1001", _DETECTIONS[0][0]), ("coco2-1001", _DETECTIONS[1][0]),
        ("coco2-1001", (22416, "2018-08-31T12:05:00Z", 3.0, -2.0)),
        ("coco2-1002", _DETECTIONS[2][0]),
        ("coco2-1003", (22001, "2018-08-07T11:30:00Z", -1.0, 3.5)),
        ("city/tokyo", _DETECTIONS[3][0]),
    ]
    for sid, what in plan:
        src = by_id.loc[sid]
        inv = src.emission_t_yr * 1e3 / physics.SECONDS_PER_YEAR * 1.2
        if isinstance(what, str):
            d = det.loc[what]
            orbit, t, u, v = int(d.orbit), d.time_utc, d.wind_u_m_s, d.wind_v_m_s
            lat, lon = d.latitude, d.longitude
            emis, unc, ul = d.emission_kg_s, d.emission_unc_kg_s, np.nan
            ratio, ratio_unc = emis / inv, emis / inv * np.hypot(0.4, 0.2)
        else:   # a measured non-detection: a small (here negative) estimate with its error
            orbit, t, u, v = what
            lat, lon = src.latitude + 0.3, src.longitude + 0.1
            emis, unc, ul = -0.1 * inv, 0.5 * inv, inv * 0.8
            ratio, ratio_unc = emis / inv, unc / inv
            what = ""
        downwind = float(physics.haversine_km(src.latitude, src.longitude, lat, lon))
        rows.append(dict(
            overpass_id=f"{sid}-OCO-2-{orbit}", source_id=sid, instrument="OCO-2", orbit=orbit, time_utc=t,
            downwind_km=downwind, axis_offset_km=1.2, cross_latitude=lat, cross_longitude=lon,
            track_lat0=lat - 1.0, track_lon0=lon + 0.2, track_lat1=lat + 1.0, track_lon1=lon - 0.2,
            wind_u_m_s=u, wind_v_m_s=v, n_soundings=400, noise_ppm=0.7, detected=bool(what), detection_id=what,
            emission_kg_s=emis, emission_unc_kg_s=unc, upper_limit_kg_s=ul, inventory_kg_s=inv,
            ratio=ratio, ratio_unc=ratio_unc, significance=4.5 if what else 0.3, expected_significance=3.0, blended_with="",
            emission_stat_unc_kg_s=0.5 * unc, area_ppm_km=emis / 40.0, area_unc_ppm_km=0.5 * unc / 40.0,
            flag_parallel_wind=False, flag_water=False))
    return pd.DataFrame(rows, columns=OVERPASS_COLUMNS)


def _source_summary(overpasses: pd.DataFrame) -> pd.DataFrame:
    """The real per-source combination (builder.compare) of the fixture's overpasses."""
    from builder.compare import compare

    return compare(overpasses)


def demo_result() -> BuildResult:
    """A small, fully populated BuildResult (simulated data) for tests and previews."""
    sources = _sources()
    detections = _detections(sources)
    overpasses = _overpasses(sources, detections)
    cand = detections[detections.source_id == ""]
    candidates = pd.DataFrame([dict(
        candidate_id="cand-0001", latitude=float(cand.latitude.mean()), longitude=float(cand.longitude.mean()),
        n_detections=len(cand), n_orbits=int(cand.orbit.nunique()), detection_ids="|".join(cand.detection_id),
        mean_emission_kg_s=float(cand.emission_kg_s.mean()), first_time_utc=cand.time_utc.min(),
        last_time_utc=cand.time_utc.max(), n_days=int(pd.to_datetime(cand.time_utc, utc=True).dt.floor("D").nunique()),
        emission_kg_s=float(cand.emission_kg_s.mean()) * 0.6, emission_unc_kg_s=float(cand.emission_kg_s.mean()) * 0.3,
        n_overpasses=3, n_measured=2, n_detected=1,
        nearest_source_ids="|".join(sources.source_id.iloc[:2]), nearest_source_km="12.3|45.6")],
        columns=CANDIDATE_COLUMNS)
    # the candidate's overpasses: copies of two source overpasses renamed to the candidate
    cand_ovp = overpasses.iloc[:2].copy()
    cand_ovp["source_id"] = "cand-0001"
    cand_ovp["overpass_id"] = [f"cand-0001-OCO-2-{o}" for o in cand_ovp["orbit"]]
    cand_ovp["detection_id"] = ""
    summary = dict(
        simulated=True, instruments=["OCO-2"], n_files=31, n_orbits=452, n_soundings=2_345_678, track_km=1.23e6,
        n_detections=len(detections), n_attributed=int((detections.source_id != "").sum()),
        n_measured=int(overpasses.emission_kg_s.notna().sum()), n_targeted=int(overpasses.detected.sum()),
        period_start="2018-08-01", period_end="2018-08-31", inventory_name="CoCO2 global point sources v1.1",
        validation=dict(n_injected=12, n_detected=9, recall=0.75, false_positive_rate=0.1,
                        median_abs_rel_error=0.28, bias=-0.05, r2=0.61, within_1sigma=0.67),
        data_version="demo-2018-08", n_withheld=44,
    )
    skipped = [SkippedItem("oco2_LtCO2_180815_B11100Ar_corrupt.nc4", "not a valid netCDF4 file", "ingest"),
               SkippedItem("coco2_ps_catalogue_v1.1.csv:17", "latitude out of range (123.4)", "inventory")]
    return BuildResult(sources=sources, detections=detections, profiles=_profiles(detections), overpasses=overpasses,
                       candidates=candidates, source_summary=_source_summary(overpasses), summary=summary,
                       skipped=skipped, candidate_overpasses=cand_ovp)


def large_result(n_sources: int = 16000, n_observed: int = 1000, seed: int = 1) -> BuildResult:
    """A synthetic BuildResult at inventory scale (for render speed and page-weight measurements).

    ``n_sources`` inventory sources, of which ``n_observed`` have three overpasses
    each, the first of them detected (so ``n_observed`` detections with profiles).
    """
    rng = np.random.default_rng(seed)
    base = demo_result()
    kinds = np.array(["power_plant"] * 9 + ["city"])
    sources = pd.DataFrame(dict(
        source_id=[f"coco2-{i:05d}" for i in range(n_sources)], name=[f"Plant {i}" for i in range(n_sources)],
        kind=kinds[rng.integers(0, 10, n_sources)], fuel=np.array(["coal", "gas", "oil"])[rng.integers(0, 3, n_sources)],
        country=np.array(["POL", "ZAF", "USA", "CHN", "IND", "DEU"])[rng.integers(0, 6, n_sources)],
        latitude=rng.uniform(-50, 65, n_sources).round(4), longitude=rng.uniform(-170, 170, n_sources).round(4),
        emission_t_yr=(10 ** rng.uniform(4, 7.5, n_sources)).round(0), inventory="CoCO2", inventory_year=2018,
        profile_month=1.0, profile_week=1.0, profile_hour=1.2), columns=SOURCE_COLUMNS)
    template_det = base.detections.iloc[0]
    prof = base.profiles[base.profiles.detection_id == template_det.detection_id]
    dets, ovps, profs = [], [], []
    for i in range(n_observed):
        src = sources.iloc[i]
        did = f"OCO-2-{30000 + i}-{2018080100000000 + i}"
        d = template_det.copy()
        d["detection_id"], d["orbit"], d["source_id"], d["source_name"] = did, 30000 + i, src.source_id, src["name"]
        d["latitude"], d["longitude"] = src.latitude + 0.1, src.longitude
        dets.append(d)
        p = prof.copy()
        p["detection_id"] = did
        p["latitude"] = p["latitude"] - template_det.latitude + d["latitude"]
        p["longitude"] = p["longitude"] - template_det.longitude + d["longitude"]
        profs.append(p)
        for k in range(3):
            o = base.overpasses.iloc[0 if k == 0 else 2].copy()
            o["overpass_id"], o["source_id"], o["orbit"] = f"{src.source_id}-OCO-2-{30000 + i + k}", src.source_id, 30000 + i + k
            o["detection_id"] = did if k == 0 else ""
            o["time_utc"] = f"2018-08-{1 + (i + 9 * k) % 28:02d}T12:00:00Z"
            for c in ("cross_latitude", "track_lat0", "track_lat1"):
                o[c] = o[c] - base.overpasses.iloc[0].cross_latitude + src.latitude
            for c in ("cross_longitude", "track_lon0", "track_lon1"):
                o[c] = o[c] - base.overpasses.iloc[0].cross_longitude + src.longitude
            ovps.append(o)
    overpasses = pd.DataFrame(ovps, columns=OVERPASS_COLUMNS).reset_index(drop=True)
    summary = dict(base.summary, n_detections=n_observed, n_attributed=n_observed)
    return BuildResult(sources=sources, detections=pd.DataFrame(dets).reset_index(drop=True),
                       profiles=pd.concat(profs, ignore_index=True), overpasses=overpasses,
                       candidates=base.candidates, source_summary=_source_summary(overpasses), summary=summary,
                       skipped=base.skipped)
