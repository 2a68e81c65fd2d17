"""`python -m build`: a wheel of the tap alone, versioned by its git tag, that works anywhere.

The builds run on a copy of this checkout's files (committed or not) in a fresh git repository
tagged with a release version, as a release build sees them; and once more without any git
metadata, as an unpacked archive would be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from e2e.pipeline import ROOT, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RELEASE_TAG = "v9.8.7"
RELEASE_VERSION = "9.8.7"
# What pyproject.toml's [tool.hatch.version] falls back to without git metadata.
FALLBACK_VERSION = "0.0.0"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Release Test",
    "GIT_AUTHOR_EMAIL": "release@example.invalid",
    "GIT_COMMITTER_NAME": "Release Test",
    "GIT_COMMITTER_EMAIL": "release@example.invalid",
}


def copy_sources(destination: Path) -> Path:
    """The checkout's tracked and untracked-but-not-ignored files, copied to `destination`."""
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        env=os.environ,
    )
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def tagged_repository(destination: Path, tag: str) -> Path:
    copy_sources(destination)
    env = {**os.environ, **GIT_IDENTITY}
    for command in (
        ["git", "init", "--quiet"],
        ["git", "add", "--all"],
        ["git", "commit", "--quiet", "--no-verify", "-m", "release"],
        ["git", "tag", tag],
    ):
        run(command, cwd=destination, env=env)
    return destination


def build(source: Path, outdir: Path, *options: str) -> Path:
    run(
        [sys.executable, "-m", "build", *options, "--outdir", outdir, source],
        cwd=source,
        env=os.environ,
    )
    return outdir


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tagged_repository(tmp_path_factory.mktemp("release"), RELEASE_TAG)
    return build(source, tmp_path_factory.mktemp("dist"))


def test_wheel_holds_only_the_tap_package_at_the_tagged_version(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith(f"tap_thinkst_canary-{RELEASE_VERSION}-")
    names = zipfile.ZipFile(wheel).namelist()
    info = f"tap_thinkst_canary-{RELEASE_VERSION}.dist-info/"
    assert all(name.startswith(("tap_thinkst_canary/", info)) for name in names), names
    assert "tap_thinkst_canary/__init__.py" in names
    assert f"{info}licenses/LICENSE" in names
    entry_points = zipfile.ZipFile(wheel).read(f"{info}entry_points.txt").decode()
    assert "tap-thinkst-canary = tap_thinkst_canary.__main__:main" in entry_points


def test_sdist_holds_the_sources_and_license(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    top = f"tap_thinkst_canary-{RELEASE_VERSION}/"
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
    assert info["version"] == RELEASE_VERSION
    assert "auth_token" in info["settings"]["properties"]

    # The development tools stay out of the package.
    simulator = subprocess.run(
        [venv / "bin" / "python", "-c", "import canary_simulator"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert simulator.returncode != 0


def test_sources_without_git_metadata_build_at_the_fallback_version(tmp_path: Path) -> None:
    source = copy_sources(tmp_path / "archive")
    assert not (source / ".git").exists()
    outdir = build(source, tmp_path / "dist", "--sdist")
    assert [path.name for path in outdir.iterdir()] == [
        f"tap_thinkst_canary-{FALLBACK_VERSION}.tar.gz"
    ]
