"""Authentication, every fault kind, their reproducibility, latency and the request log."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

import pytest
import requests

from canary_simulator import FAULT_KINDS, Simulator

from .helpers import api_get, api_json

BROKEN_CONNECTION = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
ENDPOINTS = [
    "/ping",
    "/incidents/all",
    "/incidents/acknowledged",
    "/incidents/unacknowledged",
    "/audit_trail/fetch",
    "/devices/all",
    "/canarytokens/paginate",
    "/flocks/summary",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_token_in_header_or_parameter_is_accepted(simulator: Simulator, path: str) -> None:
    by_header = api_get(simulator, path)
    by_param = requests.get(
        simulator.base_url + path, params={"auth_token": simulator.auth_token}, timeout=10
    )

    assert by_header.status_code == by_param.status_code == 200
    assert by_header.json()["result"] == by_param.json()["result"] == "success"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_missing_token_is_401_with_error_body(simulator: Simulator, path: str) -> None:
    response = requests.get(simulator.base_url + path, timeout=10)

    assert response.status_code == 401
    assert response.json() == {"result": "error", "message": "Unauthorized"}


@pytest.mark.parametrize(
    "send",
    [
        lambda url: requests.get(url, headers={"X-Canary-Auth-Token": "wrong"}, timeout=10),
        lambda url: requests.get(url, params={"auth_token": "wrong"}, timeout=10),
    ],
    ids=["header", "parameter"],
)
def test_wrong_token_is_403_with_error_body(
    simulator: Simulator, send: Callable[[str], requests.Response]
) -> None:
    response = send(simulator.base_url + "/incidents/all")

    assert response.status_code == 403
    assert response.json() == {"result": "error", "message": "Invalid auth_token"}


def test_unknown_endpoint_is_404(simulator: Simulator) -> None:
    response = api_get(simulator, "/incidents/everything")

    assert response.status_code == 404
    assert response.json()["result"] == "error"


def test_request_log_counts_and_keeps_parameters_without_the_token(
    simulator: Simulator,
) -> None:
    api_json(simulator, "/ping")
    api_json(simulator, "/incidents/all", limit=5, incidents_since=3)
    requests.get(
        simulator.base_url + "/devices/all",
        params={"auth_token": simulator.auth_token, "tz": "UTC"},
        timeout=10,
    )

    assert simulator.request_counts() == {"/ping": 1, "/incidents/all": 1, "/devices/all": 1}
    incidents = [r for r in simulator.requests if r.path == "/incidents/all"]
    assert incidents[0].params == {"limit": "5", "incidents_since": "3"}
    assert incidents[0].status == 200
    assert incidents[0].fault is None
    devices = next(r for r in simulator.requests if r.path == "/devices/all")
    assert devices.params == {"tz": "UTC"}
    assert simulator.auth_token not in repr(simulator.requests)

    simulator.clear_request_log()
    assert simulator.requests == []
    assert simulator.request_counts() == {}


def _only(sim: Simulator, kind: str) -> None:
    sim.set_faults({kind: 1.0}, seed=1)


def test_fault_429_has_retry_after(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(retry_after_seconds=2)
    _only(sim, "429")

    response = api_get(sim, "/incidents/all")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert sim.requests[-1].fault == "429"


@pytest.mark.parametrize("status", [500, 502])
def test_fault_5xx(simulator: Simulator, status: int) -> None:
    _only(simulator, str(status))

    response = api_get(simulator, "/incidents/all")

    assert response.status_code == status
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_fault_503_is_an_html_page_with_retry_after(simulator: Simulator) -> None:
    _only(simulator, "503")

    response = api_get(simulator, "/audit_trail/fetch")

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<html>")
    assert response.headers["Retry-After"] == "1"


def test_fault_timeout_outlasts_the_client_timeout(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(fault_timeout_seconds=1.0)
    _only(sim, "timeout")

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            sim.base_url + "/ping", headers={"X-Canary-Auth-Token": sim.auth_token}, timeout=0.2
        )


def test_fault_reset_breaks_the_connection_mid_body(simulator: Simulator) -> None:
    _only(simulator, "reset")

    with pytest.raises(BROKEN_CONNECTION, match="Connection broken"):
        api_get(simulator, "/incidents/all", limit=50)


def test_fault_truncate_sends_half_a_json_body(simulator: Simulator) -> None:
    _only(simulator, "truncate")

    response = api_get(simulator, "/incidents/all", limit=20)

    assert response.status_code == 200
    assert response.text.startswith("{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_fault_error_body_is_200_with_result_error(simulator: Simulator) -> None:
    _only(simulator, "error-body")

    response = api_get(simulator, "/incidents/all")

    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "error"
    assert body["message"]


def _fault_sequence(sim: Simulator, requests_made: int) -> list[str | None]:
    sim.clear_request_log()
    for _ in range(requests_made):
        with contextlib.suppress(*BROKEN_CONNECTION):
            api_get(sim, "/ping")
    return [entry.fault for entry in sim.requests]


def test_faults_are_reproducible_from_the_seed(make_simulator: Callable[..., Simulator]) -> None:
    plan = {"429": 0.1, "500": 0.1, "503": 0.1, "truncate": 0.1, "error-body": 0.1}
    sim = make_simulator(faults=plan, fault_seed=5)

    first = _fault_sequence(sim, 60)
    sim.set_faults(plan, seed=5)
    second = _fault_sequence(sim, 60)
    sim.set_faults(plan, seed=6)
    other = _fault_sequence(sim, 60)

    assert first == second
    assert first != other
    assert 10 <= sum(f is not None for f in first) <= 50
    assert {f for f in first if f} <= set(plan)


def test_faults_can_be_turned_off(simulator: Simulator) -> None:
    _only(simulator, "500")
    assert api_get(simulator, "/ping").status_code == 500

    simulator.set_faults({})

    assert api_get(simulator, "/ping").status_code == 200


def test_admin_requests_are_never_faulted(simulator: Simulator) -> None:
    _only(simulator, "503")

    response = requests.get(
        simulator.admin_url + "/stats",
        headers={"X-Canary-Auth-Token": simulator.auth_token},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.json()["incidents"] == 200


def test_fault_plans_are_validated() -> None:
    from canary_simulator.faults import FaultPlan, parse_fault

    with pytest.raises(ValueError, match="unknown fault kind 504"):
        FaultPlan({"504": 0.1})
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan({"500": 1.5})
    with pytest.raises(ValueError, match="at most 1"):
        FaultPlan({"500": 0.6, "503": 0.6})
    with pytest.raises(ValueError, match="KIND=RATE"):
        parse_fault("503")
    assert parse_fault("reset=0.25") == ("reset", 0.25)
    assert set(FAULT_KINDS) == {
        "429", "500", "502", "503", "timeout", "reset", "truncate", "error-body",
    }  # fmt: skip


def test_latency_is_added_to_every_response(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(latency_ms=150)

    started = time.perf_counter()
    for _ in range(3):
        api_json(sim, "/ping")

    assert time.perf_counter() - started >= 0.45
