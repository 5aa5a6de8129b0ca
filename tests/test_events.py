"""Stage events (builder.events): subscribers get each stage's wall and CPU time; the per-file
runner reports its stages through them (bench/e2e.py times the pipeline this way)."""

import pytest

from builder import events


class Recorder:
    def __init__(self):
        self.seen = []

    def on_stage(self, name, wall_s, cpu_s):
        self.seen.append((name, wall_s, cpu_s))


def test_stage_reports_to_subscribers_also_when_it_raises():
    rec = Recorder()
    events.subscribe(rec)
    try:
        with events.stage("a"):
            sum(range(1000))
        with pytest.raises(ValueError):
            with events.stage("b"):
                raise ValueError("boom")
    finally:
        events.unsubscribe(rec)
    with events.stage("c"):      # not subscribed any more: not reported
        pass
    assert [n for n, _, _ in rec.seen] == ["a", "b"]
    assert all(w >= 0 and c >= 0 for _, w, c in rec.seen)


def test_process_file_reports_its_stages(tmp_path):
    from builder.config import Config
    from builder.inventory import TemporalProfiles
    from builder.pipeline import process_file
    from tests.factories import write_lite_file
    from tests.test_pipeline import _sources

    path = write_lite_file(tmp_path, day="2018-08-01")
    rec = Recorder()
    events.subscribe(rec)
    try:
        res = process_file(path, Config(), _sources(), TemporalProfiles.flat().emission_kg_s)
    finally:
        events.unsubscribe(rec)
    assert not res.errors
    names = [n for n, _, _ in rec.seen]
    for stage in ("read", "detect", "quantify", "attribute", "gaussian_plume_fit", "overpasses"):
        assert stage in names, names
