"""``tracer demo`` as someone who installed the package meets it: no source checkout around.

CI builds the wheel and the sdist and runs the demo from each (``.ci/run``);
these tests keep the same promise checkable in seconds: the package's copies
of the demo tables are the fixtures, and the package alone, copied away from
the repo, runs the demo from an empty directory.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import tracer
from tracer.demo import DEMO_DATA

from .conftest import FIXTURES


def test_package_demo_tables_are_the_fixtures():
    for name in ("waybills.csv", "foreign_waybills.csv"):
        shipped = gzip.decompress((DEMO_DATA / f"{name}.gz").read_bytes())
        assert shipped == (FIXTURES / name).read_bytes(), f"tracer/data/{name}.gz is stale: run fixtures/make_fixtures.py"


def test_demo_runs_from_the_package_alone(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(Path(tracer.__file__).parent, site / "tracer", ignore=shutil.ignore_patterns("__pycache__"))
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("TRACER_REGISTRY", None)
    env.pop("TRACER_KEY", None)
    done = subprocess.run([sys.executable, "-m", "tracer", "demo"], cwd=empty, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "nanjing-wang" in done.stdout and "Done in" in done.stdout
    assert "Error" not in done.stderr
    assert not list(empty.iterdir())  # the demo works in a temporary directory, and cleans up
