"""Several consoles in one sync: their records side by side, keys apart, each with its own
bookmarks, and one console's failure leaving the others complete."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from console_keys import console_keys

from canary_simulator import Simulator
from canary_simulator.fleet import SimulatorFleet, numbered_specs
from tap_thinkst_canary import clock
from tap_thinkst_canary.errors import SyncStopped
from tap_thinkst_canary.state import console_bookmark
from tap_thinkst_canary.streams import STREAM_NAMES
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.tap import TapRun, parse_messages, sync_in_process

NOW = datetime.datetime(2026, 3, 10, 15, 30, tzinfo=datetime.timezone.utc)
SMALL = {"incidents": 40, "audit_days": 5, "tokens": 8, "birds": 4, "flocks": 2, "now": NOW}


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorFleet]:
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)
    tokens = "fleet-token-0123456789abcdef"
    with SimulatorFleet(numbered_specs(3, seed=21, token_prefix=tokens, **SMALL)) as running:
        yield running


def consoles_setting(fleet: SimulatorFleet, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"name": spec.name, "base_url": sim.base_url, "auth_token": spec.auth_token, **extra}
        for spec, sim in zip(fleet.specs, fleet.simulators, strict=True)
    ]


def expected_keys(name: str, sim: Simulator) -> set[tuple[str, tuple[Any, ...]]]:
    return console_keys(sim.console, name)


def key_set(output: TapRun) -> set[tuple[str, tuple[Any, ...]]]:
    return {
        (stream, key)
        for stream in STREAM_NAMES
        if stream != "incident_events"
        for key in output.keys(stream)
    }


def test_consoles_whose_ids_overlap_land_side_by_side(fleet: SimulatorFleet) -> None:
    first, second = fleet.simulators[:2]
    # Real consoles share ids: each has a `flock:default`, and `updated_id`s from 1.
    assert first.console.flock_ids() & second.console.flock_ids()
    output = sync_in_process({"consoles": consoles_setting(fleet), "page_size": 15})

    expected: set[tuple[str, tuple[Any, ...]]] = set()
    for spec, sim in zip(fleet.specs, fleet.simulators, strict=True):
        expected |= expected_keys(spec.name, sim)
    assert key_set(output) == expected
    for stream in STREAM_NAMES:
        keys = output.keys(stream)
        assert len(keys) == len(set(keys)), f"a key of {stream} came twice"
    events = output.records("incident_events")
    assert len(events) == sum(sim.console.event_count() for sim in fleet.simulators)

    # Nothing of one console is labelled as another's: each record is its console's own.
    for spec, sim in zip(fleet.specs, fleet.simulators, strict=True):
        mine = {r["id"]: r for r in output.records("incidents") if r["console"] == spec.name}
        assert set(mine) == sim.console.incident_ids()
        sent = {raw["id"]: raw for raw in sim.console.iter_incidents(tz="UTC")}
        assert all(mine[i]["summary"] == sent[i]["summary"] for i in mine)
        their_events = {e["incident_id"] for e in events if e["console"] == spec.name}
        assert their_events == sim.console.incident_ids()
        # Each console's bookmark is its own.
        bookmark = console_bookmark(output.last_state, "incidents", spec.name)
        assert bookmark["replication_key_value"] == sim.console.max_updated_id()

    # The next run asks each console only for what is new there.
    fleet.simulators[1].console.add_incidents(2)
    for sim in fleet.simulators:
        sim.clear_request_log()
    again = sync_in_process(
        {"consoles": consoles_setting(fleet), "page_size": 15}, state=output.last_state
    )
    assert {r["console"] for r in again.records("incidents")} == {fleet.specs[1].name}
    for sim in fleet.simulators:
        since = [r.params["incidents_since"] for r in sim.requests if r.path == "/incidents/all"]
        assert since == [
            str(sim.console.max_updated_id() - (2 if sim is fleet.simulators[1] else 0))
        ]
        assert not [r for r in sim.requests if r.path == "/ping"]  # resumed: no access check


def test_a_console_that_refuses_its_token_leaves_the_others_complete(
    fleet: SimulatorFleet, run_cli: Callable[..., TapRun]
) -> None:
    consoles = consoles_setting(fleet)
    wrong = consoles[1]["auth_token"]
    consoles[1]["auth_token"] = "a-token-this-console-does-not-know-0123456789"
    run = run_cli({"consoles": consoles, "page_size": 15})

    assert run.returncode == 1, run.stderr
    errors = [line for line in run.stderr_lines if "| ERROR" in line]
    assert len(errors) == 2, run.stderr
    assert "Console console-2: The console rejected the API token" in errors[0]
    assert "1 of 3 consoles could not be synced (console-2)" in errors[1]
    assert errors[1] == run.stderr_lines[-1]
    assert run.messages[-1]["type"] == "STATE"
    assert "Traceback" not in run.stderr
    names = [spec.name for spec in fleet.specs]
    expected = expected_keys(names[0], fleet.simulators[0]) | expected_keys(
        names[2], fleet.simulators[2]
    )
    assert key_set(run) == expected
    for name in (names[0], names[2]):
        assert console_bookmark(run.last_state, "incidents", name)["replication_key_value"]
    assert "replication_key_value" not in console_bookmark(run.last_state, "incidents", names[1])
    everything = run.stderr + json.dumps(run.messages)
    assert not [c["auth_token"] for c in consoles if c["auth_token"] in everything]

    # Its token put right, the next run takes it up from its own (empty) bookmark.
    consoles[1]["auth_token"] = wrong
    for sim in fleet.simulators:
        sim.clear_request_log()
    rerun = run_cli({"consoles": consoles, "page_size": 15}, state=run.last_state)
    assert rerun.returncode == 0, rerun.stderr
    assert {r["console"] for r in rerun.records("incidents")} == {names[1]}
    assert key_set(rerun) >= expected_keys(names[1], fleet.simulators[1])


def test_a_console_that_stops_answering_mid_sync_leaves_the_others_bookmarked(
    fleet: SimulatorFleet,
) -> None:
    stopped = fleet.simulators[0]
    stopped.stop()  # it answered the sync before; now nothing listens there
    consoles = consoles_setting(fleet)
    config = {"consoles": consoles, "page_size": 15, "max_tries": 1}
    state = {
        "bookmarks": {
            "incidents": {
                "partitions": [{"context": {"console": "console-1"}, "replication_key_value": 5}]
            }
        }
    }
    stdout = io.StringIO()
    tap = TapThinkstCanary(config=config, state=state)
    with contextlib.redirect_stdout(stdout), pytest.raises(SyncStopped) as stop:
        tap.sync_all()
    assert "1 of 3 consoles could not be synced (console-1)" in str(stop.value)
    output = TapRun(parse_messages(stdout.getvalue()))
    assert output.messages[-1]["type"] == "STATE"
    assert {r["console"] for r in output.records("incidents")} == {"console-2", "console-3"}
    # Its bookmark stands where it was: the next run resumes there.
    assert (
        console_bookmark(output.last_state, "incidents", "console-1")["replication_key_value"] == 5
    )


def test_consoles_are_fetched_at_once(fleet: SimulatorFleet) -> None:
    for sim in fleet.simulators:
        sim.latency_ms = 150
    config = {"consoles": consoles_setting(fleet), "page_size": 1000}
    started = time.monotonic()
    sync_in_process(config)
    together = time.monotonic() - started
    started = time.monotonic()
    sync_in_process({**config, "max_parallel_consoles": 1})
    one_at_a_time = time.monotonic() - started
    # Seven requests per console (the access check, three audit windows' worth, four
    # snapshots and incidents): three consoles at once take about as long as one.
    assert together < one_at_a_time * 0.7, (together, one_at_a_time)


def test_the_old_single_console_state_is_the_one_console_s(
    fleet: SimulatorFleet,
) -> None:
    sim, spec = fleet.simulators[0], fleet.specs[0]
    config = {"base_url": sim.base_url, "auth_token": spec.auth_token, "console_name": "acme"}
    old = {
        "bookmarks": {"incidents": {"replication_key": "updated_id", "replication_key_value": 30}}
    }
    sim.clear_request_log()
    output = sync_in_process(config, state=old)
    since = [r.params["incidents_since"] for r in sim.requests if r.path == "/incidents/all"]
    assert since == ["30"]
    assert {r["console"] for r in output.records("incidents")} == {"acme"}
