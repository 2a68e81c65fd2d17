"""Fixtures of the reliability suite: its console, and the clean sync every other run is held to."""

from __future__ import annotations

import pytest

from canary_simulator import Console

from .suite import (
    CleanSync,
    expected_keys,
    new_console,
    simulator,
    sync,
    tap_config,
    without_stream,
)


@pytest.fixture(scope="session")
def reliability_console() -> Console:
    return new_console()


@pytest.fixture(scope="session")
def clean_sync(reliability_console: Console, tmp_path_factory: pytest.TempPathFactory) -> CleanSync:
    with simulator(reliability_console) as sim:
        run = sync(tap_config(sim.base_url), tmp_path_factory.mktemp("clean"))
        counts = sim.request_counts()
    assert run.returncode == 0, run.describe()
    # The clean sync is itself checked against what the console holds.
    assert without_stream(run.key_set(), "incident_events") == expected_keys(reliability_console)
    assert len(run.keys("incident_events")) == reliability_console.event_count()
    return CleanSync(run=run, requests_per_path=counts)
