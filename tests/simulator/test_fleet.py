"""Several consoles from one process: their own ports, tokens and data, overlapping ids."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from canary_simulator import SimulatorFleet, numbered_specs

REPO_ROOT = Path(__file__).resolve().parents[2]


def _get(base_url: str, token: str, path: str) -> requests.Response:
    return requests.get(base_url + path, headers={"X-Canary-Auth-Token": token}, timeout=10)


def test_each_console_has_its_port_token_and_data_with_overlapping_ids() -> None:
    with SimulatorFleet(numbered_specs(3, seed=20, incidents=30)) as fleet:
        described = fleet.describe()
        assert len({c["base_url"] for c in described}) == 3
        assert len({c["auth_token"] for c in described}) == 3
        incident_ids = []
        for console in described:
            own = _get(console["base_url"], console["auth_token"], "/incidents/all").json()
            assert [i["updated_id"] for i in own["incidents"]][:3] == [1, 2, 3]
            incident_ids.append({i["id"] for i in own["incidents"]})
            flocks = _get(console["base_url"], console["auth_token"], "/flocks/summary").json()
            assert "flock:default" in flocks["flocks_summary"]
            other = next(c for c in described if c is not console)
            refused = _get(console["base_url"], other["auth_token"], "/incidents/all")
            assert refused.status_code == 403
            assert refused.json()["result"] == "error"
        assert incident_ids[0].isdisjoint(incident_ids[1])
        admin = requests.get(
            described[1]["admin_url"] + "/consoles",
            headers={"X-Canary-Auth-Token": described[1]["auth_token"]}, timeout=10,
        )  # fmt: skip
        assert admin.json()["consoles"] == described
        settings = _get(described[2]["base_url"], described[2]["auth_token"], "/settings").json()
        assert settings["console_domain"] == "console-3.canary.tools"


def test_a_fleet_refuses_two_consoles_with_one_token() -> None:
    specs = numbered_specs(2)
    with pytest.raises(ValueError, match="own token"):
        SimulatorFleet([specs[0], specs[0].__class__("other", 1, specs[0].auth_token)])


@pytest.mark.slow
def test_the_command_line_serves_named_consoles_and_writes_their_file(tmp_path: Path) -> None:
    consoles_file = tmp_path / "consoles.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "canary_simulator", "--port", "0", "--incidents", "10",
         "--console", "acme:11:acme-token", "--console", "globex:12:globex-token",
         "--consoles-file", str(consoles_file)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(2)]
        ready = re.compile(
            r"^Canary Console simulator (\w+) listening on (http://127\.0\.0\.1:\d+/api/v1)$"
        )
        matches = [ready.match(line) for line in lines]
        assert all(matches), lines
        assert "token" not in " ".join(lines)
        described = json.loads(consoles_file.read_text())["consoles"]
        assert [c["name"] for c in described] == ["acme", "globex"]
        assert [m.group(2) for m in matches if m] == [c["base_url"] for c in described]
        assert consoles_file.stat().st_mode & 0o077 == 0
        ping = _get(described[1]["base_url"], "globex-token", "/ping")
        assert ping.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0
