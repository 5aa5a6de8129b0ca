"""``python -m bench.classifier_eval``: the anomaly classifier (builder.classifier) trained on
simulated months seed-1..3 and evaluated on default, seed-4, seed-5 (the months of
``bash scripts/bench.sh validation``, which must have run), against the threshold rule
(anomalies ranked by significance) on the same anomalies. Writes
bench/results-classifier.json and trains twice to check the model file is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from bench.common import ROOT, WORK
from builder.classifier import FEATURES, labelled_anomalies, save_model, train

TRAIN, TEST = ("seed-1", "seed-2", "seed-3"), ("default", "seed-4", "seed-5")
RESULTS = ROOT / "bench" / "results-classifier.json"


def month(name: str) -> tuple[Path, Path]:
    base = WORK / "validation" / name
    return (ROOT / "dataset" / "simulated" if name == "default" else base / "sim"), base / "det"


def at_false_count(score: np.ndarray, y: np.ndarray, n_false: int) -> int:
    """True plumes kept by the highest scores while at most ``n_false`` artefacts are kept."""
    o = np.argsort(-score, kind="stable")
    fp = np.cumsum(1 - y[o])
    k = int(np.searchsorted(fp, n_false, side="right"))
    return int(y[o][:k].sum())


def main() -> int:
    model, card = train([month(m) for m in TRAIN])
    with tempfile.TemporaryDirectory() as tmp:
        hashes = []
        for k in range(2):
            m, c = train([month(x) for x in TRAIN]) if k else (model, card)
            hashes.append(hashlib.sha256(save_model(m, Path(tmp) / f"{k}.model", c).read_bytes()).hexdigest())
    xs, ys = zip(*(labelled_anomalies(*month(m)) for m in TEST))
    X, y = np.concatenate(xs), np.concatenate(ys)
    p = model.predict_proba(X)[:, 1]
    sig = X[:, FEATURES.index("significance")]
    n_false = int((1 - y).sum())
    rows = []
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        f = int(round(frac * n_false))
        rows.append({"false_kept": f, "share_of_todays_false": frac, "plumes_threshold_rule": at_false_count(sig, y, f),
                     "plumes_classifier": at_false_count(p, y, f)})
    # the anomalies without an inventory source upwind (where new sources hide): "has_source" cannot help there
    u = X[:, FEATURES.index("has_source")] == 0
    nu = int((1 - y[u]).sum())
    rows_u = [{"false_kept": int(round(f * nu)), "share_of_todays_false": f,
               "plumes_threshold_rule": at_false_count(sig[u], y[u], int(round(f * nu))),
               "plumes_classifier": at_false_count(p[u], y[u], int(round(f * nu)))} for f in (0.1, 0.25, 0.5, 1.0)]
    out = {"train": list(TRAIN), "test": list(TEST), "card": card, "n_test": int(len(y)), "n_test_plumes": int(y.sum()),
           "mean_probability": float(p.mean()), "plume_share": float(y.mean()),
           "byte_identical": hashes[0] == hashes[1], "model_sha256": hashes[0], "at_equal_false": rows,
           "unattributed": {"n": int(u.sum()), "n_plumes": int(y[u].sum()), "at_equal_false": rows_u}}
    RESULTS.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
