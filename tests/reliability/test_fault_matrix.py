"""Transient faults change nothing but the time a sync takes; a console error stops it cleanly.

For each transient fault the simulator can inject, at 15% of requests, and for all of them at
once, a full sync must write exactly the (stream, primary key) pairs of a clean sync and end
in exactly the same state; every faulted request must have been retried, and nothing else
fetched twice. A `result: error` answer is not data: it stops the sync with the console's
message, after a STATE that covers everything emitted, and a re-run from that state completes
the data without writing anything twice.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from canary_simulator import Console, RequestLogEntry
from testkit.tap import TapRun, run_concurrently, union_keys

from .suite import CleanSync, simulator, sync, tap_config

pytestmark = pytest.mark.slow

TRANSIENT_FAULTS = ("429", "500", "502", "503", "timeout", "reset", "truncate")
FAULT_RATE = 0.15

# name -> (fault rates, fault seed)
FAULT_PLANS: dict[str, tuple[dict[str, float], int]] = {
    **{kind: ({kind: FAULT_RATE}, 31) for kind in TRANSIENT_FAULTS},
    # Together they fail about one request in five; under this seed each kind occurs.
    "all-at-once": (dict.fromkeys(TRANSIENT_FAULTS, 0.028), 20),
}

RETRY_LINE = re.compile(r"GET (/\S+): .*; retrying in ")

# The simulator's message for its `error-body` fault.
CONSOLE_ERROR_MESSAGE = "The console could not complete the request (simulated error)"


@dataclass(frozen=True)
class FaultedSync:
    run: TapRun
    log: list[RequestLogEntry]


@pytest.fixture(scope="module")
def faulted_syncs(
    reliability_console: Console, clean_sync: CleanSync, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, FaultedSync]:
    """One full sync under each fault plan, run side by side: they mostly wait on retries."""
    root = tmp_path_factory.mktemp("faults")

    def sync_under(name: str) -> FaultedSync:
        faults, seed = FAULT_PLANS[name]
        with simulator(reliability_console, faults=faults, fault_seed=seed) as sim:
            run = sync(tap_config(sim.base_url), root / name)
            return FaultedSync(run, sim.requests)

    return run_concurrently({name: partial(sync_under, name) for name in FAULT_PLANS})


def retries_per_path(run: TapRun) -> Counter[str]:
    """The retries the tap announced on stderr, per API path."""
    return Counter(match[1] for match in map(RETRY_LINE.search, run.stderr_lines) if match)


@pytest.mark.parametrize("plan", FAULT_PLANS)
def test_transient_faults_leave_records_and_state_unchanged(
    plan: str, faulted_syncs: dict[str, FaultedSync], clean_sync: CleanSync
) -> None:
    run, log = faulted_syncs[plan].run, faulted_syncs[plan].log
    injected = Counter(entry.fault for entry in log if entry.fault)
    assert set(injected) == set(FAULT_PLANS[plan][0]), f"every planned fault must occur: {injected}"
    assert sum(injected.values()) >= 3

    assert run.returncode == 0, run.describe()
    assert run.key_set() == clean_sync.run.key_set()
    assert run.last_state == clean_sync.run.last_state

    # Each faulted request was tried again (and said so on stderr), and apart from retries no
    # page was fetched twice. A retry can also follow a request that was merely slow on a busy
    # machine, in the clean sync too: requests are compared net of the retries announced.
    faulted = Counter(entry.path for entry in log if entry.fault)
    retried = retries_per_path(run)
    assert faulted - retried == Counter(), f"faults without a retry: {faulted - retried}"
    requests = Counter(entry.path for entry in log)
    clean_requests = clean_sync.requests_per_path
    assert requests - retried == clean_requests - retries_per_path(clean_sync.run)
    assert "Traceback" not in run.stderr


# Seeds of the `error-body` fault at 5%: the first strikes while the audit trail is being
# fetched, before any record; the second on the fifth page of incidents, after many.
ERROR_BODY_CASES = {"before-any-incident": (8, False), "half-way-through-incidents": (19, True)}


@pytest.mark.parametrize(
    ("seed", "stops_after_records"), ERROR_BODY_CASES.values(), ids=ERROR_BODY_CASES.keys()
)
def test_error_body_stops_the_sync_and_a_rerun_completes_it(
    seed: int,
    stops_after_records: bool,
    reliability_console: Console,
    clean_sync: CleanSync,
    tmp_path: Path,
) -> None:
    with simulator(reliability_console, faults={"error-body": 0.05}, fault_seed=seed) as sim:
        stopped = sync(tap_config(sim.base_url), tmp_path / "stopped")
        sim.set_faults({})
        rerun = sync(tap_config(sim.base_url), tmp_path / "rerun", state=stopped.last_state)

    assert stopped.returncode != 0, stopped.describe()
    assert CONSOLE_ERROR_MESSAGE in stopped.stderr_lines[-1]
    assert "Traceback" not in stopped.stderr
    incidents_before_stop = stopped.counts()["incidents"]
    if stops_after_records:
        assert 0 < incidents_before_stop < reliability_console.incident_count()
    else:
        assert incidents_before_stop == 0
    # The state was written after the last record: it covers everything emitted.
    assert stopped.messages[-1]["type"] == "STATE"

    assert rerun.returncode == 0, rerun.describe()
    assert union_keys([stopped, rerun]) == clean_sync.run.key_set()
    assert rerun.last_state == clean_sync.run.last_state
    # Nothing the incremental streams emitted before the stop comes again.
    for stream in ("incidents", "incident_events", "audit_trail"):
        again = set(stopped.keys(stream)) & set(rerun.keys(stream))
        assert not again, f"{stream}: {len(again)} records written twice"
