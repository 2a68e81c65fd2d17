"""`python -m canary_simulator` as the demo and subprocess tests use it, and its admin interface."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^Canary Console simulator listening on (http://127\.0\.0\.1:(\d+)/api/v1)$")
TOKEN = "cli-test-token"


class Running:
    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process = process
        self.base_url = base_url
        self.admin_url = base_url.replace("/api/v1", "/admin")
        self.headers = {"X-Canary-Auth-Token": TOKEN}

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.base_url + path, params=params, headers=self.headers, timeout=10)

    def admin(self, method: str, path: str, **params: Any) -> Any:
        response = requests.request(
            method, self.admin_url + path, params=params, headers=self.headers, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()


def _start(*options: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "canary_simulator", "--port", "0", "--auth-token", TOKEN, *options],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().rstrip("\n")
    match = READY.match(line)
    if not match:
        process.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {process.stderr.read()}")
    return process, match.group(1)


@pytest.fixture
def running() -> Iterator[Running]:
    process, base_url = _start("--incidents", "1000", "--seed", "11")
    try:
        yield Running(process, base_url)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_starts_on_a_free_port_and_serves_incidents(running: Running) -> None:
    response = running.get("/incidents/all", limit=5)

    assert response.status_code == 200
    body = response.json()
    assert len(body["incidents"]) == 5
    assert body["cursor"]["next"]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signals(running: Running, stop_signal: signal.Signals) -> None:
    assert running.get("/ping").status_code == 200

    running.process.send_signal(stop_signal)

    assert running.process.wait(timeout=10) == 0
    assert running.process.stderr is not None
    assert running.process.stderr.read() == ""


def test_admin_interface_changes_the_console(running: Running) -> None:
    stats = running.admin("GET", "/stats")
    assert stats["incidents"] == 1000

    added = running.admin("POST", "/incidents", count=2)["ids"]
    acked = running.admin("POST", f"/incidents/{added[0]}/acknowledge")["updated_id"]
    changed = running.get("/incidents/all", incidents_since=1000).json()["incidents"]
    assert [i["id"] for i in changed] == [added[1], added[0]]
    assert changed[-1]["updated_id"] == acked == 1003

    audit_ids = running.admin("POST", "/audit", count=3)["ids"]
    newest = running.get("/audit_trail/fetch", limit=3).json()["audit_trail"]
    assert [e["id"] for e in newest] == sorted(audit_ids, reverse=True)
    held = running.admin("GET", "/stats")["audit_entries"]
    purged = running.admin("POST", "/audit/purge", id=audit_ids[0])["purged"]
    assert purged > 1
    assert running.admin("GET", "/stats")["audit_entries"] == held - purged
    remaining = running.get("/audit_trail/fetch", limit=10_000).json()["audit_trail"]
    assert [e["id"] for e in remaining] == [audit_ids[2], audit_ids[1]]

    bird = running.admin("POST", "/birds")["node_id"]
    token = running.admin("POST", "/tokens", kind="aws-id")["canarytoken"]
    assert bird in {d["id"] for d in running.get("/devices/all").json()["devices"]}
    running.admin("DELETE", f"/birds/{bird}")
    running.admin("DELETE", f"/tokens/{token}")
    assert bird not in {d["id"] for d in running.get("/devices/all").json()["devices"]}

    log = running.admin("GET", "/requests")
    assert log["counts"]["/incidents/all"] == 1
    assert all(TOKEN not in str(entry) for entry in log["requests"])


def test_admin_clock_and_faults(running: Running) -> None:
    now = running.admin("POST", "/clock", now="2030-01-02T03:04:05+00:00")["now"]
    assert now.startswith("2030-01-02T03:04:05")
    assert running.admin("POST", "/clock", days=1)["now"].startswith("2030-01-03T03:04:05")

    running.admin("POST", "/faults", **{"503": 1, "seed": 3})
    assert running.get("/ping").status_code == 503
    running.admin("POST", "/faults")
    assert running.get("/ping").status_code == 200


def test_admin_requires_the_token_and_reports_bad_requests(running: Running) -> None:
    assert requests.get(running.admin_url + "/stats", timeout=10).status_code == 401
    response = requests.post(
        running.admin_url + "/incidents/incident:none:00/acknowledge",
        headers=running.headers,
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {"result": "error", "message": "no incident 'incident:none:00'"}


def test_faults_from_the_command_line() -> None:
    process, base_url = _start("--incidents", "10", "--fault", "503=1", "--fault-seed", "2")
    try:
        response = requests.get(
            base_url + "/ping", headers={"X-Canary-Auth-Token": TOKEN}, timeout=10
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--fault", "504=0.1"], "unknown fault kind 504"),
        (["--fault", "503"], "expected KIND=RATE"),
        (["--incidents", "-5"], "negative"),
    ],
)
def test_bad_options_fail_with_one_clear_line(options: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "canary_simulator", "--port", "0", *options],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
    assert result.stdout == ""


def test_a_busy_port_is_reported() -> None:
    process, base_url = _start("--incidents", "1")
    port = base_url.split(":")[2].split("/")[0]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "canary_simulator", "--port", port],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert "--port" in result.stderr


def test_clients_that_go_away_leave_no_traceback() -> None:
    process, base_url = _start("--incidents", "1000", "--latency-ms", "500")
    try:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(
                base_url + "/incidents/all",
                params={"limit": 1000},
                headers={"X-Canary-Auth-Token": TOKEN},
                timeout=0.1,
            )
        time.sleep(1.5)  # the stalled answer, megabytes of it, meets a closed connection
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert process.stderr is not None
    assert process.stderr.read() == ""
