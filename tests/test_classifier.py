"""The anomaly classifier's model file: deterministic, and refused when stale or foreign."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from builder import classifier
from builder.cli import main
from tests.factories import det_row, truth_row


def month(tmp_path, name, seed):
    """A small simulated 'month': 30 plume crossings with anomalies on them, 30 artefacts elsewhere."""
    rng = np.random.default_rng(seed)
    truth, dets = [], []
    for i in range(30):
        lat = -40.0 + 2.5 * i
        truth.append(truth_row(f"T{i}", f"S{i}", i, 10.0, 5.0, lat, 10.0, 20.0, 1.0, 5.0, 100, True))
        d = det_row(f"P{i}", i, lat + 0.02, 10.0, 300.0, 100.0, f"S{i}" if i % 3 else "")
        d.update(significance=4.0 + rng.normal(), r2=0.7, water_fraction=0.0, noise_ppm=0.5)
        a = det_row(f"A{i}", i, lat + 1.0, 50.0, 300.0, 100.0, "")
        a.update(significance=3.0 + rng.normal(), r2=0.4, water_fraction=1.0, noise_ppm=0.3)
        dets += [d, a]
    t_dir, d_dir = tmp_path / name / "sim", tmp_path / name / "det"
    t_dir.mkdir(parents=True)
    d_dir.mkdir(parents=True)
    pd.DataFrame(truth).to_csv(t_dir / "truth.csv", index=False)
    pd.DataFrame(dets).to_csv(d_dir / "detections.csv", index=False)
    return f"{t_dir}:{d_dir}"


def test_train_twice_gives_byte_identical_files_and_a_useful_model(tmp_path, capsys):
    months = [month(tmp_path, "m1", 1), month(tmp_path, "m2", 2)]
    args = [a for m in months for a in ("--month", m)]
    assert main(["train", *args, "--out", str(tmp_path / "a.model")]) == 0
    assert main(["train", *args, "--out", str(tmp_path / "b.model")]) == 0
    a, b = (tmp_path / "a.model").read_bytes(), (tmp_path / "b.model").read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    model, header = classifier.load_model(tmp_path / "a.model")
    assert header["card"]["n_anomalies"] == 120 and header["card"]["n_plumes"] == 60
    test = pd.read_csv(tmp_path / "m1" / "det" / "detections.csv")
    p = classifier.probability(model, test)
    assert p.shape == (60,) and np.all((p >= 0) & (p <= 1))
    assert p[test["detection_id"].str.startswith("P")].mean() > p[test["detection_id"].str.startswith("A")].mean() + 0.5


def test_stale_or_foreign_model_is_refused_with_one_line(tmp_path, monkeypatch):
    model, _ = classifier.train([tuple(month(tmp_path, "m", 3).split(":"))])
    path = classifier.save_model(model, tmp_path / "m.model", {})
    raw = path.read_bytes()
    head, _, payload = raw.partition(b"\n")
    cases = {
        "old format": json.dumps(dict(json.loads(head), format="atlas-anomaly-classifier/0")).encode() + b"\n" + payload,
        "other sklearn": json.dumps(dict(json.loads(head), sklearn="0.1")).encode() + b"\n" + payload,
        "edited payload": head + b"\n" + payload[:-1] + bytes([payload[-1] ^ 1]),
        "foreign file": b"PK\x03\x04 not a model",
    }
    why = {"old format": "model format", "other sklearn": "scikit-learn 0.1", "edited payload": "sha256",
           "foreign file": "not an atlas classifier file"}
    for name, data in cases.items():
        bad = tmp_path / f"{name.replace(' ', '_')}.model"
        bad.write_bytes(data)
        with pytest.raises(classifier.ModelError) as exc:
            classifier.load_model(bad)
        msg = str(exc.value)
        assert why[name] in msg and "\n" not in msg and "atlas train" in msg
