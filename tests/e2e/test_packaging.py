"""`python -m build`: a wheel of the tap alone, and a wheel that works in a fresh environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import tomllib

from e2e.pipeline import ROOT, run

pytestmark = pytest.mark.e2e


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", outdir, ROOT], cwd=ROOT, env=os.environ)
    return outdir


def test_wheel_holds_only_the_tap_package(dist: Path) -> None:
    version = project_version()
    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith(f"tap_thinkst_canary-{version}-")
    names = zipfile.ZipFile(wheel).namelist()
    info = f"tap_thinkst_canary-{version}.dist-info/"
    assert all(name.startswith(("tap_thinkst_canary/", info)) for name in names), names
    assert "tap_thinkst_canary/__init__.py" in names
    assert f"{info}licenses/LICENSE" in names
    entry_points = zipfile.ZipFile(wheel).read(f"{info}entry_points.txt").decode()
    assert "tap-thinkst-canary = tap_thinkst_canary.__main__:main" in entry_points


def test_sdist_holds_the_sources_and_license(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    top = f"tap_thinkst_canary-{project_version()}/"
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    assert {top + "pyproject.toml", top + "LICENSE", top + "README.md"} <= names
    assert top + "tap_thinkst_canary/__init__.py" in names
    assert not any(".venv" in name or ".meltano/" in name for name in names)


def test_wheel_installs_into_a_fresh_environment(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=os.environ)
    run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel],
        cwd=tmp_path,
        env=os.environ,
    )

    about = run(
        [venv / "bin" / "tap-thinkst-canary", "--about", "--format=json"],
        cwd=tmp_path,
        env=os.environ,
    )
    info = json.loads(about.stdout)
    assert info["name"] == "tap-thinkst-canary"
    assert info["version"] == project_version()
    assert "auth_token" in info["settings"]["properties"]

    # The development tools stay out of the package.
    simulator = subprocess.run(
        [venv / "bin" / "python", "-c", "import canary_simulator"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert simulator.returncode != 0
