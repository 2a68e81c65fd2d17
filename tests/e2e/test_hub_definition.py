"""The Meltano Hub definition: current with `--about`, and usable by a fresh Meltano project."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from canary_simulator import Simulator
from e2e.conftest import AUTH_TOKEN
from e2e.pipeline import ROOT, TAP, meltano_env, require_meltano, run

HUB_FILE = ROOT / "meltano-hub" / "tap-thinkst-canary.yml"
HUB_FIELDS = {
    "name",
    "namespace",
    "variant",
    "label",
    "pip_url",
    "executable",
    "description",
    "docs",
    "repo",
    "capabilities",
    "settings",
    "settings_group_validation",
    "keywords",
}


def test_generated_files_match_the_tap() -> None:
    """The Hub file, meltano.yml's extractor and the README tables are current with the code."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_hub_definition_describes_every_setting_of_about() -> None:
    definition = yaml.safe_load(HUB_FILE.read_text())
    assert set(definition) >= HUB_FIELDS
    assert "meltano_sdk" in definition["keywords"]

    about = json.loads(
        subprocess.run(
            [str(TAP), "--about", "--format=json"], capture_output=True, text=True, check=True
        ).stdout
    )
    settings = {setting["name"]: setting for setting in definition["settings"]}
    assert set(settings) == set(about["settings"]["properties"])
    for name, setting in settings.items():
        assert {"kind", "label", "description"} <= set(setting), name
    assert settings["auth_token"]["sensitive"] is True
    assert [name for name, s in settings.items() if s.get("sensitive")] == [
        "auth_token",
        "consoles",
    ]
    assert {"catalog", "discover", "state", "about", "stream-maps", "schema-flattening"} <= set(
        definition["capabilities"]
    )
    assert sorted(map(sorted, definition["settings_group_validation"])) == [
        ["auth_token", "base_url"],
        ["auth_token", "domain"],
        ["consoles"],
    ]


@pytest.mark.e2e
def test_fresh_meltano_project_adds_the_extractor_from_the_file_and_runs_it(
    e2e_simulator: Simulator, tmp_path: Path
) -> None:
    meltano = require_meltano()
    project = tmp_path / "project"
    # MELTANO_HUB_URL points at a closed loopback port: a Hub lookup would fail the test.
    env = meltano_env(tmp_path)
    env.pop("MELTANO_DATABASE_URI")
    run([meltano, "init", "--no-usage-stats", project], cwd=tmp_path, env=env)
    run(
        [
            meltano,
            "add",
            "--plugin-type",
            "extractor",
            "tap-thinkst-canary",
            "--from-ref",
            HUB_FILE,
            "--no-install",
        ],
        cwd=project,
        env=env,
    )

    config = yaml.safe_load((project / "meltano.yml").read_text())
    (extractor,) = config["plugins"]["extractors"]
    assert set(config["plugins"]) == {"extractors"}
    assert extractor["name"] == "tap-thinkst-canary"
    assert extractor["settings"] == yaml.safe_load(HUB_FILE.read_text())["settings"]

    # The Hub installs from PyPI; this checkout stands in for the published package.
    extractor["pip_url"] = str(ROOT)
    (project / "meltano.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    run([meltano, "install", "--plugin-type", "extractor"], cwd=project, env=env)

    env["TAP_THINKST_CANARY_BASE_URL"] = e2e_simulator.base_url
    env["TAP_THINKST_CANARY_AUTH_TOKEN"] = AUTH_TOKEN
    listed = run([meltano, "config", "list", "tap-thinkst-canary"], cwd=project, env=env)
    # The settings come from the definition, with their environment variables.
    assert "TAP_THINKST_CANARY_AUTH_TOKEN" in listed.stdout
    assert e2e_simulator.base_url in listed.stdout
    assert AUTH_TOKEN not in listed.stdout + listed.stderr

    invoked = run([meltano, "invoke", "tap-thinkst-canary"], cwd=project, env=env)
    records = [
        json.loads(line)
        for line in invoked.stdout.splitlines()
        if line.startswith("{") and '"type":"RECORD"' in line.replace(" ", "")
    ]
    incidents = {r["record"]["id"] for r in records if r["stream"] == "incidents"}
    assert incidents == e2e_simulator.console.incident_ids()
    assert AUTH_TOKEN not in invoked.stdout + invoked.stderr


def test_a_users_own_meltano_settings_leave_the_extractor_current(tmp_path: Path) -> None:
    """`meltano config set` and `meltano select` rewrite meltano.yml in their own layout; only
    a change to what the tap generates makes the extractor out of date."""
    meltano = require_meltano()
    project = tmp_path / "project"
    project.mkdir()
    (project / "meltano.yml").write_text((ROOT / "meltano.yml").read_text())
    env = meltano_env(tmp_path)
    run([meltano, "config", "set", TAP.name, "page_size", "500"], cwd=project, env=env)
    run([meltano, "select", TAP.name, "incidents", "*"], cwd=project, env=env)
    rewritten = (project / "meltano.yml").read_text()
    assert rewritten != (ROOT / "meltano.yml").read_text()

    generator = _generator()
    about_info = generator.about()
    assert generator.meltano_is_current(about_info, rewritten)

    drifted = yaml.safe_load(rewritten)
    extractor = next(p for p in drifted["plugins"]["extractors"] if p["name"] == TAP.name)
    extractor["settings"][0]["description"] = "Something the tap does not say."
    assert not generator.meltano_is_current(about_info, yaml.safe_dump(drifted))


def test_every_setting_with_a_default_shows_it_to_meltano() -> None:
    definition = yaml.safe_load(HUB_FILE.read_text())
    defaults = {s["name"]: s.get("value") for s in definition["settings"]}
    assert defaults["page_size"] == 1000
    assert defaults["redact_secrets"] is True
    assert defaults["request_timeout"] == 60


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "generate_docs", ROOT / "scripts" / "generate_docs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
