"""A learned plume/artefact classifier for blind-scan anomalies (issue 16, item 4; partial).

Features (:data:`FEATURES`, all from detections.csv): the Gaussian fit and its errors
(amplitude, sigma, area and their 1-sigma, significance, r2, background slope, soundings in the
window and the core), the noise, the share of water soundings (glint), the wind speed and the
wind-track angle, surface pressure and water vapour, |latitude|, and what lies upwind (an
inventory source attributed, its score and distance, the number of upwind candidates).

Labels: an anomaly is a *plume* when builder.validate.match pairs it with a simulated plume
crossing (same orbit, within max(15 km, 2 sigma_along), true peak >= 0.2 ppm), else an artefact.

Model: scikit-learn HistGradientBoostingClassifier (fixed random_state, no early stopping)
with isotonic calibration (CalibratedClassifierCV, 3 unshuffled folds: deterministic) so that the
output is a probability. ``atlas train`` writes a model file: one JSON header line (format
version, scikit-learn version, features, training months, sha256 of the payload) and a pickle
(protocol 4) payload. Two runs on the same months give byte-identical files; :func:`load_model`
refuses a file of another format or scikit-learn version, or whose payload does not match its
hash, with one line (:class:`ModelError`).

Not done: anomalies do not carry the probability in the build yet, and the site does not filter
on it (docs/validation.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from builder.errors import ModelError

#: Bump when the features, labels or file layout change: older model files are refused.
MODEL_FORMAT = "atlas-anomaly-classifier/1"
FEATURES = [
    "amplitude_ppm", "amplitude_unc_ppm", "sigma_km", "sigma_unc_km", "area_ppm_km", "area_unc_ppm_km",
    "significance", "r2", "slope_ppm_km", "n_soundings", "n_core", "noise_ppm", "water_fraction",
    "wind_speed_m_s", "wind_track_angle_deg", "psurf_hpa", "tcwv_kg_m2", "abs_latitude",
    "has_source", "attribution_score", "source_distance_km", "n_candidates",
]


def features(detections: pd.DataFrame) -> np.ndarray:
    """The FEATURES matrix of blind-scan anomalies (NaN where a value is missing)."""
    d = detections
    cols = {}
    for c in FEATURES:
        if c == "abs_latitude":
            cols[c] = np.abs(pd.to_numeric(d["latitude"], errors="coerce").to_numpy(float))
        elif c == "has_source":
            cols[c] = (d["source_id"].fillna("").astype(str) != "").to_numpy(float) if "source_id" in d \
                else np.zeros(len(d))
        else:
            cols[c] = pd.to_numeric(d[c], errors="coerce").to_numpy(float) if c in d else np.full(len(d), np.nan)
    return np.column_stack([cols[c] for c in FEATURES]) if len(d) else np.zeros((0, len(FEATURES)))


def labelled_anomalies(truth_dir: Path, detections_dir: Path, site_km: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of one simulated month: its blind-scan anomalies and whether each is a plume."""
    from builder.validate import match, merge_sites

    truth = pd.read_csv(Path(truth_dir) / "truth.csv", low_memory=False)
    dets = pd.read_csv(Path(detections_dir) / "detections.csv", low_memory=False)
    if "detection_kind" in dets.columns:
        dets = dets.loc[dets["detection_kind"].astype(str) != "targeted"].reset_index(drop=True)
    m = match(merge_sites(truth, site_km), dets)
    return features(dets), (m["truth"].to_numpy() >= 0).astype(int)


def train(months: list[tuple[Path, Path]]):
    """Fit the calibrated classifier on the anomalies of ``months`` [(truth_dir, detections_dir)]."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import KFold

    xs, ys = zip(*(labelled_anomalies(t, d) for t, d in months))
    X, y = np.concatenate(xs), np.concatenate(ys)
    X[:, np.isnan(X).all(axis=0)] = 0.0     # a feature never present (e.g. old tables): constant, not all-missing
    base = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                          min_samples_leaf=10, l2_regularization=1.0, early_stopping=False,
                                          random_state=0)
    model = CalibratedClassifierCV(base, method="isotonic", cv=KFold(3, shuffle=False))
    model.fit(X, y)
    return model, {"n_anomalies": int(len(y)), "n_plumes": int(y.sum())}


def save_model(model, path: Path, card: dict) -> Path:
    """Header line + pickle payload (module docstring); returns the path."""
    import sklearn

    payload = pickle.dumps(model, protocol=4)
    header = {"format": MODEL_FORMAT, "sklearn": sklearn.__version__, "features": FEATURES,
              "sha256": hashlib.sha256(payload).hexdigest(), "card": card}
    path = Path(path)
    path.write_bytes(json.dumps(header, sort_keys=True).encode() + b"\n" + payload)
    return path


def load_model(path: Path):
    """(model, header) of a file written by :func:`save_model`; :class:`ModelError` otherwise."""
    import sklearn

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror})") from None
    head, _, payload = raw.partition(b"\n")
    try:
        header = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{path}: not an atlas classifier file (no header); run `atlas train`") from None
    if header.get("format") != MODEL_FORMAT or header.get("features") != FEATURES:
        raise ModelError(f"{path}: model format {header.get('format')!r}, this atlas needs {MODEL_FORMAT!r}; "
                         "run `atlas train`")
    if header.get("sklearn") != sklearn.__version__:
        raise ModelError(f"{path}: trained with scikit-learn {header.get('sklearn')}, installed "
                         f"{sklearn.__version__}; run `atlas train`")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise ModelError(f"{path}: payload does not match its sha256 (corrupt or edited); run `atlas train`")
    return pickle.load(io.BytesIO(payload)), header


def probability(model, detections: pd.DataFrame) -> np.ndarray:
    """Calibrated probability that each anomaly is a plume."""
    if len(detections) == 0:
        return np.zeros(0)
    return model.predict_proba(features(detections))[:, 1]
