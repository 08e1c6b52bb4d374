"""The repository keeps its promises: lint-clean, and CI runs the README's command."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    assert len(blocks) == 2, blocks
    demo, test = blocks
    assert "torch==2.13.0" in demo and "sktl.demo" in demo
    assert "torch==2.13.0" in test and "pytest" in test
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd "))]
    assert test in ci  # the "newest" leg
    # the "floors" leg: the same tests in the environment of .ci/install-floors.sh
    assert ci[-1] == test.split(" && ")[-1].replace(".venv/", ".venv-floor/") \
        + " -p no:cacheprovider"
    floors = (ROOT / ".ci" / "install-floors.sh").read_text()
    assert '-c .ci/constraints-min.txt -e ".[all]"' in floors


def _declared_floors():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["deep"] \
        + meta["optional-dependencies"]["test"]
    return dict(re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[.*\])?>=([0-9.]+)", r).groups()
                for r in reqs)


def test_constraints_pin_the_declared_floors():
    """The floors leg of CI tests the minimum pyproject.toml declares, not another one."""
    pins = dict(line.split("==") for line in
                (ROOT / ".ci" / "constraints-min.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    floors = _declared_floors()

    def version(v):
        parts = [int(p) for p in v.split(".")]
        return parts + [0] * (3 - len(parts))

    for name in ("numpy", "scipy", "scikit-learn", "cvxpy", "skorch", "pandas"):
        assert version(pins[name]) == version(floors[name]), (name, pins[name], floors[name])
    # torch: the only CPU build CI can install is 2.13.0 (see constraints-min.txt)
    assert pins["torch"] == "2.13.0"


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    out = subprocess.run([ruff, "check", "sktl", "tests", "benchmarks", "docs"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
