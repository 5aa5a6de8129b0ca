"""The deployment workflow, the README quick start and .ci/run must call the same commands."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_quick_start_has_exactly_two_commands():
    cmds = _quick_start_commands()
    assert cmds == ["bash scripts/build.sh", "bash scripts/test.sh"]
    for c in cmds:
        assert (ROOT / c.split()[1]).exists()


def test_ci_run_calls_the_readme_test_command():
    run = (ROOT / ".ci" / "run").read_text()
    test_cmd = _quick_start_commands()[1]
    assert re.search(rf"^exec {re.escape(test_cmd)}\s*$", run, re.M)


def test_workflow_is_valid_and_uses_the_same_commands():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "atlas.yml").read_text())
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    steps = wf["jobs"]["build"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    build_cmd, test_cmd = _quick_start_commands()
    assert test_cmd in runs
    assert f"{build_cmd} --strict" in runs
    cache = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache")]
    assert cache and ".cache/atlas" in cache[0]["with"]["path"]
    upload = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact")]
    assert upload and upload[0]["with"]["path"] == "site"
    assert wf["jobs"]["deploy"]["needs"] == "build"


def test_build_script_passes_arguments_to_atlas_build():
    text = (ROOT / "scripts" / "build.sh").read_text()
    assert "scripts/setup.sh" in text and re.search(r"atlas build \"\$@\"", text)
