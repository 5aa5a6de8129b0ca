"""The validation summary (builder.validate, builder.validate_overpasses) as
readable tables for the methods page: human labels for the known keys
(:data:`LABELS`), a generic rewording for the others, percentages for
recall/accuracy-like fractions, numbers through builder.render.fmt."""

from __future__ import annotations

import math

from builder.render import fmt

#: Validation sections (by key) shown open on the methods page; the others go under "More validation numbers".
MAIN_SECTIONS = ("overview", "headline", "emission", "attribution_all", "recall_by_emission")
_PERCENT_KEYS = ("recall", "accuracy", "within", "inside", "rel_err", "share", "fraction", "rate", "precision")

#: Labels of the keys the validation writes (anything else is reworded by :func:`label`).
LABELS = {
    "n": "Count", "bin": "Bin", "mean": "Mean", "sd": "Standard deviation",
    "fp_per_1000km": "False positives per 1,000 km of track",
    "median_abs_rel_err": "Median |relative error|", "median_rel_err": "Median relative error (bias)",
    "inside_1sigma": "Truth inside the reported 1σ", "within_30pct": "Within ±30 %", "within_50pct": "Within ±50 %",
    "median_ul_over_truth": "Median upper limit / truth",
    "n_truth": "True plume crossings", "n_truth_rows": "Source crossings", "n_observed": "Crossings observed",
    "n_detected": "Detected", "n_detections": "Detections", "n_false_positives": "False positives",
    "n_matched_detections": "Detections matching a true plume", "n_tracks": "Tracks", "track_km": "Track length [km]",
    "n_wrong_source": "Detections attributed to the wrong source", "n_correct": "Correctly attributed",
    "n_unattributed": "Unattributed", "n_right": "Attributed to the right source",
    "headline_recall": "Headline recall", "isolated_attribution": "Attribution of isolated sources",
    "median_ratio": "Median observed / inventory",
    "median_ratio_detected_only": "Median observed / inventory, detected overpasses only",
    "median_true_ratio": "Median true / inventory", "n_detected_only": "Sources with a detection",
    "pull_mean": "Mean pull", "pull_sd": "Pull standard deviation", "ratio_inside_1sigma": "True ratio inside 1σ",
    "ratio_median": "Median observed / inventory", "plume_precision": "Plume precision",
    "targeted_fp_per_1000km": "Targeted false positives per 1,000 km",
    "targeted_headline_recall": "Targeted headline recall", "headline_detected": "Headline crossings detected",
    "headline_n": "Headline crossings", "n_measured": "Overpasses measured", "n_overpasses": "Overpasses",
    "max_downwind_km": "Max. downwind distance [km]", "min_emission_mt_yr": "Min. emission [Mt/yr]",
    "min_wind_m_s": "Min. wind [m/s]", "match_km": "Match distance [km]",
    "match_sigma_factor": "Match width [σ along track]", "min_peak_ppm": "Min. true peak [ppm]",
    "attribution_all": "Attribution, all detected crossings", "attribution_isolated": "Attribution, isolated sources",
    "emission_unflagged": "Emission, wind flags excluded", "per_source": "Per source", "pulls": "Pulls",
    "targeted": "Targeted detections", "targets": "Targets", "meets": "Meets the target",
    "overpasses": "Every overpass", "counts": "Counts", "rules": "Matching rules",
    "recall_by_emission": "Recall by emission [Mt/yr]", "recall_by_downwind": "Recall by downwind distance [km]",
}


def label(key: str) -> str:
    """A readable label: :data:`LABELS`, else 'fp_per_1000km'-style keys reworded."""
    key = str(key)
    if key in LABELS:
        return LABELS[key]
    if key.startswith("n_"):
        key = "number of " + key[2:]
    text = key.replace("fp_", "false positives_").replace("1000km", "1000 km").replace("pct", "%")
    text = text.replace("abs_rel_err", "absolute relative error").replace("rel_err", "relative error")
    text = text.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def value(key: str, v) -> str:
    """A validation value: yes/no, a percentage for fraction-like keys, else 3 significant digits."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return fmt.DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if any(k in str(key) for k in _PERCENT_KEYS) and -1.0 <= v <= 1.0:
            return f"{100 * v:.1f}%"
        return fmt.sig(v, 3)
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            rows += _flatten(v, f"{prefix}{label(k)} · ")
        elif isinstance(v, (list, tuple)) and not any(isinstance(x, dict) for x in v):
            rows.append((prefix + label(k), " to ".join(value(k, x) for x in v)))
        elif not isinstance(v, (list, tuple)):
            rows.append((prefix + label(k), value(k, v)))
    return rows


def validation_sections(v: dict) -> list[dict]:
    """Any (nested) validation summary as display sections: key/value tables and row tables.

    Scalars go to an overview, each nested dict to its own key/value table, each
    list of dicts to a table (columns in first-seen order). Keys are humanised,
    fractions of recall/accuracy-like keys shown as percentages.
    """
    overview = [(label(k), value(k, x)) for k, x in v.items() if not isinstance(x, (dict, list, tuple))]
    sections = [dict(title="Overview", key="overview", rows=overview)] if overview else []
    for k, x in v.items():
        if isinstance(x, dict):
            sections.append(dict(title=label(k), key=k, rows=_flatten(x)))
        elif isinstance(x, (list, tuple)) and x and all(isinstance(r, dict) for r in x):
            cols = list(dict.fromkeys(c for r in x for c in r))
            sections.append(dict(title=label(k), key=k, columns=[label(c) for c in cols],
                                 table=[[value(c, r.get(c)) for c in cols] for r in x]))
        elif isinstance(x, (list, tuple)):
            overview.append((label(k), ", ".join(value(k, i) for i in x)))
    main = [sec for sec in sections if sec["key"] in MAIN_SECTIONS]
    rest = [dict(sec, more=True) for sec in sections if sec["key"] not in MAIN_SECTIONS]
    return main + rest
