"""The files around the code: workflows, supported Pythons, constraints, pre-commit.

The workflows are validated offline against the GitHub workflow schema that check-jsonschema
ships; the supported Python versions must read the same in every place that names them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
TAP = Path(sys.executable).with_name("tap-thinkst-canary")
# Every job must say how long it may run, so a hung test cannot hold a runner for six hours.
WORKFLOW_SCHEMAS = ("vendor.github-workflows", "custom.github-workflows-require-timeout")


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def classifier_versions() -> list[str]:
    """The `Programming Language :: Python :: 3.X` versions, oldest first."""
    pattern = re.compile(r"Programming Language :: Python :: (3\.\d+)")
    matches = (pattern.fullmatch(c) for c in pyproject()["project"]["classifiers"])
    versions = [match.group(1) for match in matches if match]
    return sorted(versions, key=lambda version: tuple(map(int, version.split("."))))


def load_workflow(name: str) -> dict[Any, Any]:
    return dict(yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8")))


def validate(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", schema, *paths],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_ci_and_release_workflows_exist() -> None:
    assert sorted(path.name for path in WORKFLOWS.glob("*.yml")) == ["ci.yml", "release.yml"]


@pytest.mark.slow
@pytest.mark.parametrize("schema", WORKFLOW_SCHEMAS)
def test_workflows_validate_against_the_github_schema(schema: str) -> None:
    result = validate(schema, WORKFLOWS / "ci.yml", WORKFLOWS / "release.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("breakage", "schema"),
    [
        ("a step that both runs and uses", "vendor.github-workflows"),
        ("a job without runs-on", "vendor.github-workflows"),
        ("a job without timeout-minutes", "custom.github-workflows-require-timeout"),
    ],
)
def test_a_broken_workflow_fails_validation(breakage: str, schema: str, tmp_path: Path) -> None:
    workflow = load_workflow("ci.yml")
    job = workflow["jobs"]["lint"]
    if breakage == "a step that both runs and uses":
        job["steps"][0]["run"] = "echo both"
    elif breakage == "a job without runs-on":
        del job["runs-on"]
    else:
        del job["timeout-minutes"]
    broken = tmp_path / "ci.yml"
    broken.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")

    result = validate(schema, broken)
    assert result.returncode != 0, f"{breakage} passed validation"
    assert "Schema validation errors were encountered" in result.stdout + result.stderr


def test_release_publishes_tags_to_pypi_by_trusted_publishing_after_ci() -> None:
    release = load_workflow("release.yml")
    # PyYAML reads the key `on` as the boolean True.
    assert release[True] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert "workflow_call" in load_workflow("ci.yml")[True]
    assert jobs["build"]["needs"] == "ci"

    publish = jobs["publish"]
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    (upload,) = [s for s in publish["steps"] if "pypa/gh-action-pypi-publish" in s.get("uses", "")]
    # Trusted publishing: no password or API token is handed to the action.
    assert not upload.get("with", {}).keys() & {"password", "user"}
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_supported_pythons_agree_everywhere() -> None:
    """Classifiers, requires-python, `--about`, the CI matrix and the README name one range."""
    versions = classifier_versions()
    lowest, highest = versions[0], versions[-1]
    assert len(versions) >= 2

    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert requires == SpecifierSet(f">={lowest}")
    below = f"{lowest.split('.')[0]}.{int(lowest.split('.')[1]) - 1}"
    assert below not in requires

    about = json.loads(
        subprocess.run(
            [TAP, "--about", "--format=json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert about["supported_python_versions"] == versions

    test_job = load_workflow("ci.yml")["jobs"]["test"]
    assert test_job["strategy"]["matrix"]["python"] == versions
    (setup,) = [
        s for s in test_job["steps"] if s.get("uses", "").startswith("actions/setup-python")
    ]
    installed = setup["with"]["python-version"].splitlines()
    assert {lowest, highest} <= set(installed), "the test job needs both ends, as .ci/run does"
    assert installed[-1] == "${{ matrix.python }}"

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = set(re.findall(r"Python (3\.\d+) to (3\.\d+)", readme))
    assert stated == {(lowest, highest)}, stated
    assert not re.search(r"Python 3\.\d+ or later", readme)


@pytest.mark.slow
def test_ci_runs_the_suite_on_the_lowest_and_the_highest_python() -> None:
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "supported_pythons.py", "--ends"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"a supported Python is missing on this machine: {result.stderr.strip()}")
    versions = classifier_versions()
    lines = [line.split() for line in result.stdout.splitlines()]
    assert [version for version, _ in lines] == [versions[0], versions[-1]]
    for version, interpreter in lines:
        reported = subprocess.run(
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert reported.stdout.strip() == version
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/supported_pythons.py --ends" in ci_run
    assert 'make test PYTHON="$interpreter"' in ci_run


def constraint_pins() -> dict[str, list[tuple[str, Marker | None]]]:
    pins: dict[str, list[tuple[str, Marker | None]]] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        name = canonicalize_name(requirement.name)
        pins.setdefault(name, []).append((specifier.version, requirement.marker))
    return pins


def test_constraints_pin_every_declared_dependency_once_per_python() -> None:
    project = pyproject()["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = constraint_pins()
    for version in classifier_versions():
        environment = {"python_version": version, "python_full_version": f"{version}.0"}
        for line in declared:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            name = canonicalize_name(requirement.name)
            applying = [
                pinned
                for pinned, marker in pins.get(name, [])
                if marker is None or marker.evaluate(environment)
            ]
            assert len(applying) == 1, f"{name} on Python {version}: {applying}; run `make lock`"
            assert requirement.specifier.contains(applying[0], prereleases=True), (
                f"{name}=={applying[0]} does not satisfy {requirement}; run `make lock`"
            )


def test_pre_commit_runs_ruff_and_mypy_from_the_project_venv() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    assert hooks["ruff-check"]["entry"].startswith(".venv/bin/ruff check")
    assert hooks["ruff-format"]["entry"].startswith(".venv/bin/ruff format")
    assert hooks["mypy"]["entry"] == "make --no-print-directory typecheck-only"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ntypecheck-only:\n\t$(BIN)/mypy\n" in makefile


def test_hub_definition_installs_the_published_package() -> None:
    definition = yaml.safe_load(
        (ROOT / "meltano-hub" / "tap-thinkst-canary.yml").read_text(encoding="utf-8")
    )
    assert definition["pip_url"] == pyproject()["project"]["name"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # Until then, the README says why `--from-ref` fails and what to use instead.
    assert "tap-thinkst-canary was not found in the package registry" in readme
    assert "pip_url: -e /path/to/tap-thinkst-canary" in readme
