"""Serving from a background thread: consoles that answer late answer at once, not in turn,
and what stops releases its port."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from canary_simulator import Console, Simulator, SimulatorFleet, numbered_specs
from canary_simulator.loopback import LoopbackHTTPServer

LATENCY_MS = 400


def _ping(console: dict[str, str]) -> int:
    headers = {"X-Canary-Auth-Token": console["auth_token"]}
    return requests.get(console["base_url"] + "/ping", headers=headers, timeout=10).status_code


def test_consoles_that_answer_late_answer_at_the_same_time() -> None:
    specs = numbered_specs(6, seed=30, incidents=5, audit_days=1)
    with SimulatorFleet(specs, latency_ms=LATENCY_MS) as fleet:
        consoles = fleet.describe()
        # Several requests to each console at once, as a client of many consoles sends them.
        requests_at_once = consoles * 4
        with ThreadPoolExecutor(len(requests_at_once)) as pool:
            started = time.monotonic()
            statuses = list(pool.map(_ping, requests_at_once))
            took = time.monotonic() - started
    assert statuses == [200] * len(requests_at_once)
    # In turn they would take 24 latencies; a console at a time, 4.
    assert took < 2.5 * LATENCY_MS / 1000, f"{took:.2f} s for {len(requests_at_once)} requests"


def test_a_stopped_simulator_releases_its_port() -> None:
    with Simulator(Console(seed=1, incidents=1, audit_days=1)) as sim:
        port = sim.port
        assert _ping({"base_url": sim.base_url, "auth_token": sim.auth_token}) == 200
    with pytest.raises(requests.ConnectionError):
        _ping({"base_url": sim.base_url, "auth_token": sim.auth_token})
    with socket.create_server(("127.0.0.1", port)):
        pass


def test_a_server_closed_before_it_served_releases_its_port_at_once() -> None:
    server = LoopbackHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.port
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 1
    with socket.create_server(("127.0.0.1", port)):
        pass


def test_answers_go_out_without_waiting_for_the_client_s_acknowledgement() -> None:
    """Every accepted connection has Nagle's algorithm off: the body of a small answer, written
    after its headers, is not held back until the client acknowledges them (40 ms on Linux)."""
    server = LoopbackHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    try:
        with socket.create_connection(("127.0.0.1", server.port)):
            accepted, _ = server.get_request()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        server.close()
