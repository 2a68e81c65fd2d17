"""Fixtures for the end-to-end tests: a seeded console simulator and a throwaway PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from canary_simulator import Console, Simulator
from e2e.pgcluster import ClusterError, PostgresCluster

# The simulator's token: every test asserts it appears in no output.
AUTH_TOKEN = "e2e-secret-token-3f9c1a"


@pytest.fixture
def e2e_console() -> Console:
    # Small, but with every logtype and a brute force with many events.
    return Console(
        seed=31, incidents=120, birds=5, tokens=24, audit_days=20, flocks=3, big_incident_events=400
    )


@pytest.fixture
def e2e_simulator(e2e_console: Console) -> Iterator[Simulator]:
    with Simulator(e2e_console, auth_token=AUTH_TOKEN, host="127.0.0.1", port=0) as simulator:
        yield simulator


def start_postgres(bindir: Path | None = None) -> PostgresCluster:
    """A started cluster; outside CI, a machine that cannot run one skips the test instead."""
    try:
        return PostgresCluster(bindir).start()
    except ClusterError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL could not start, and CI=true forbids skipping: {error}")
        pytest.skip(f"PostgreSQL could not start: {error}")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    cluster = start_postgres()
    try:
        yield cluster
    finally:
        cluster.stop()
