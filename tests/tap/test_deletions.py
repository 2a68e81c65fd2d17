"""Deletions: what the console removed comes out as tombstones, per console, and only once a
snapshot is complete; incidents deleted in the console get theirs from the audit trail."""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canary_simulator import Simulator
from canary_simulator.console import Console
from tap_thinkst_canary import clock
from tap_thinkst_canary.client import DELETED_AT, SNAPSHOT_KEY, SnapshotStream
from tap_thinkst_canary.errors import SyncInterrupted, SyncInterruptedError, SyncStopped
from tap_thinkst_canary.streams import STREAM_TYPES
from tap_thinkst_canary.streams.audit import deleted_incidents
from tap_thinkst_canary.streams.incidents import IncidentsStream
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.tap import TAP_EXECUTABLE, TapRun, parse_messages, sync_in_process, tap_env

AUTH_TOKEN = "deletions-token-0123456789abcdef"
NOW = datetime.datetime(2026, 3, 10, 15, 30, tzinfo=datetime.timezone.utc)
TOKENS_PATH = "/canarytokens/paginate"
SNAPSHOTS = ("birds", "flocks", "tokens")
KEY_COLUMNS = {"birds": "id", "flocks": "flock_id", "tokens": "canarytoken", "incidents": "id"}
SMALL = {"incidents": 12, "audit_days": 3, "tokens": 9, "birds": 4, "flocks": 3}

Tombstones = dict[str, set[tuple[str, Any]]]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


@pytest.fixture
def console() -> Console:
    return Console(seed=13, now=NOW, **SMALL)


@pytest.fixture
def simulator(console: Console) -> Iterator[Simulator]:
    sim = Simulator(console, auth_token=AUTH_TOKEN).start()
    yield sim
    sim.stop()


def config_for(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"base_url": sim.base_url, "auth_token": AUTH_TOKEN, "console_name": "c1", **extra}


def tombstones(output: TapRun) -> Tombstones:
    """Every tombstone of the sync: (console, key) by stream."""
    found: Tombstones = {}
    for stream, column in KEY_COLUMNS.items():
        for record in output.records(stream):
            if record[DELETED_AT] is not None:
                found.setdefault(stream, set()).add((record["console"], record[column]))
    return found


def live_keys(output: TapRun, stream: str) -> set[Any]:
    column = KEY_COLUMNS[stream]
    return {r[column] for r in output.records(stream) if r[DELETED_AT] is None}


def remove_one_of_each(console: Console) -> dict[str, Any]:
    """Remove a token, a bird and a flock, and delete an incident: what was removed."""
    token = sorted(console.token_ids())[0]
    bird = sorted(console.bird_ids())[0]
    flock = sorted(console.flock_ids() - {"flock:default"})[0]
    incident = sorted(console.incident_ids())[0]
    console.remove_token(token)
    console.remove_bird(bird)
    console.remove_flock(flock)
    console.delete_incident(incident)
    return {"tokens": token, "birds": bird, "flocks": flock, "incidents": incident}


def test_a_first_sync_sends_no_tombstone_and_keeps_each_snapshot_s_keys(
    simulator: Simulator, console: Console
) -> None:
    output = sync_in_process(config_for(simulator))
    assert tombstones(output) == {}
    every_record = [r for stream in KEY_COLUMNS for r in output.records(stream)]
    assert every_record
    assert all(r[DELETED_AT] is None for r in every_record)
    expected = {
        "birds": console.bird_ids(),
        "flocks": console.flock_ids(),
        "tokens": console.token_ids(),
    }
    for stream in SNAPSHOTS:
        [partition] = output.last_state["bookmarks"][stream]["partitions"]
        kept = partition[SNAPSHOT_KEY]
        assert kept == {"flock_id": None, "keys": sorted(expected[stream])}


# A stream map that keeps every record hands each one to the SDK: tombstones take that way too.
THROUGH_THE_SDK: dict[str, Any] = {
    "stream_maps": {stream.name: {"__filter__": "True"} for stream in STREAM_TYPES}
}


@pytest.mark.parametrize("settings", [{}, THROUGH_THE_SDK], ids=["written", "through-the-sdk"])
def test_exactly_what_the_console_removed_gets_a_tombstone(
    simulator: Simulator, console: Console, settings: dict[str, Any]
) -> None:
    first = sync_in_process(config_for(simulator, **settings))
    removed = remove_one_of_each(console)
    [deletion] = [e for e in console.audit_entries() if e["action_type"] == "incident_delete"]

    second = sync_in_process(config_for(simulator, **settings), state=first.last_state)

    assert tombstones(second) == {stream: {("c1", key)} for stream, key in removed.items()}
    stamped = {
        stream: next(r for r in second.records(stream) if r[DELETED_AT] is not None)
        for stream in removed
    }
    for stream, record in stamped.items():
        key = KEY_COLUMNS[stream]
        assert {k for k, v in record.items() if v is not None} == {"console", key, DELETED_AT}
    # A snapshot's deletions are dated by the sync, an incident's by its audit entry.
    for stream in SNAPSHOTS:
        assert stamped[stream][DELETED_AT] == "2026-03-10T15:30:00Z"
    audit = {r["id"]: r for r in second.records("audit_trail")}
    assert stamped["incidents"][DELETED_AT] == audit[deletion["id"]]["timestamp"]
    # Everything else the console still holds is live, the flock's birds and tokens included.
    assert live_keys(second, "tokens") == console.token_ids()
    assert live_keys(second, "birds") == console.bird_ids()
    assert live_keys(second, "flocks") == console.flock_ids()

    # Each deletion is said once: the next sync has nothing more to say.
    third = sync_in_process(config_for(simulator, **settings), state=second.last_state)
    assert tombstones(third) == {}
    [partition] = third.last_state["bookmarks"]["incidents"]["partitions"]
    assert partition["deletions_pending"] == {}


def test_every_snapshot_stream_tombstones_exactly_the_keys_it_no_longer_finds(
    simulator: Simulator,
) -> None:
    """Declared or fetching its own way, each snapshot stream keeps the keys it found, and a
    key its last snapshot held that the console no longer has gets a tombstone."""
    snapshot_streams = [s for s in STREAM_TYPES if issubclass(s, SnapshotStream)]
    first = sync_in_process(config_for(simulator))
    state = copy.deepcopy(first.last_state)
    vanished: dict[str, dict[str, str]] = {}
    for stream_type in snapshot_streams:
        name, columns = stream_type.name, stream_type.primary_keys[1:]
        [partition] = state["bookmarks"][name]["partitions"]
        found = [[r[c] for c in columns] for r in first.records(name) if r[DELETED_AT] is None]
        assert found, f"{name}: the simulator has nothing to snapshot"
        kept = partition[SNAPSHOT_KEY]["keys"]
        assert sorted(k if isinstance(k, list) else [k] for k in kept) == sorted(found), name
        vanished[name] = dict.fromkeys(columns, f"gone-from-{name}")
        gone = list(vanished[name].values())
        kept.append(gone if len(columns) > 1 else gone[0])

    second = sync_in_process(config_for(simulator), state=state)

    for name, key in vanished.items():
        stamped = [
            {column: record[column] for column in key}
            for record in second.records(name)
            if record[DELETED_AT] is not None
        ]
        assert stamped == [key], name


def test_a_restored_record_comes_back_live(simulator: Simulator, console: Console) -> None:
    first = sync_in_process(config_for(simulator))
    removed = remove_one_of_each(console)
    second = sync_in_process(config_for(simulator), state=first.last_state)
    console.restore_token(removed["tokens"])
    console.restore_bird(removed["birds"])

    third = sync_in_process(config_for(simulator), state=second.last_state)

    assert tombstones(third) == {}
    assert removed["tokens"] in live_keys(third, "tokens")
    assert removed["birds"] in live_keys(third, "birds")
    [partition] = third.last_state["bookmarks"]["tokens"]["partitions"]
    assert removed["tokens"] in partition[SNAPSHOT_KEY]["keys"]


def run_until(
    workdir: Path, sim: Simulator, state: dict[str, Any], stop: Callable[[Any], None]
) -> TapRun:
    """The tap as a process, stopped by `stop(process)` once the console has answered two pages
    of tokens (of five), the console slow to answer from the tokens on: what a loader got."""
    (workdir / "config.json").write_text(json.dumps(config_for(sim, page_size=2)))
    (workdir / "state.json").write_text(json.dumps(state))
    command = [str(TAP_EXECUTABLE), "--config", "config.json", "--state", "state.json"]
    served_before = sim.request_counts()[TOKENS_PATH]
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=tap_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        message = json.loads(line)
        if message["type"] == "SCHEMA" and message["stream"] == "tokens":
            sim.latency_ms = 400  # time for the stop to land between two pages of tokens
            break
    deadline = time.monotonic() + 30
    while sim.request_counts()[TOKENS_PATH] < served_before + 2:
        assert time.monotonic() < deadline, "the tap never asked for a second page of tokens"
        time.sleep(0.02)
    stop(process)
    lines += process.stdout.readlines()
    process.wait(timeout=60)
    sim.latency_ms = 0
    return TapRun(parse_messages("".join(lines)))


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda p: p.send_signal(signal.SIGTERM), id="SIGTERM"),
        pytest.param(lambda p: p.kill(), id="killed"),
    ],
)
def test_a_snapshot_stopped_part_way_tombstones_nothing_and_the_resumed_sync_exactly(
    console: Console, tmp_path: Path, stop: Callable[[Any], None]
) -> None:
    sim = Simulator(console, auth_token=AUTH_TOKEN).start()
    try:
        config = config_for(sim, page_size=2)
        first = sync_in_process(config)
        # A token the interrupted sync will not have reached: the last one paged.
        gone = sorted(console.token_ids())[0]
        console.remove_token(gone)

        stopped = run_until(tmp_path, sim, first.last_state, stop)

        assert len(stopped.records("tokens")) < len(console.token_ids())
        assert tombstones(stopped) == {}
        states = stopped.states or [first.last_state]
        kept = states[-1]["bookmarks"]["tokens"]["partitions"][0][SNAPSHOT_KEY]
        assert kept["keys"] == sorted(console.token_ids() | {gone})  # the old snapshot's

        resumed = sync_in_process(config, state=states[-1])
        assert tombstones(resumed) == {"tokens": {("c1", gone)}}
        assert live_keys(resumed, "tokens") == console.token_ids()
    finally:
        sim.stop()


def test_a_console_that_fails_sends_no_tombstone_and_keeps_its_keys() -> None:
    first_console = Console(seed=31, now=NOW, **SMALL)
    second_console = Console(seed=32, now=NOW, **SMALL)
    first_sim = Simulator(first_console, auth_token=AUTH_TOKEN).start()
    second_sim = Simulator(second_console, auth_token=AUTH_TOKEN).start()

    def config() -> dict[str, Any]:
        return {
            "consoles": [
                {"name": "one", "base_url": first_sim.base_url, "auth_token": AUTH_TOKEN},
                {"name": "two", "base_url": second_sim.base_url, "auth_token": AUTH_TOKEN},
            ],
            "max_tries": 1,
            "request_timeout": 2,
        }

    try:
        first = sync_in_process(config())
        partitions = first.last_state["bookmarks"]["tokens"]["partitions"]
        assert {p["context"]["console"]: p[SNAPSHOT_KEY]["keys"] for p in partitions} == {
            "one": sorted(first_console.token_ids()),
            "two": sorted(second_console.token_ids()),
        }
        removed = {name: sorted(c.token_ids())[0] for name, c in
                   (("one", first_console), ("two", second_console))}  # fmt: skip
        first_console.remove_token(removed["one"])
        second_console.remove_token(removed["two"])
        second_sim.stop()  # console "two" is unreachable for the next sync

        failed = sync_stopped(config(), first.last_state)

        assert tombstones(failed) == {"tokens": {("one", removed["one"])}}
        partitions = failed.last_state["bookmarks"]["tokens"]["partitions"]
        kept = {p["context"]["console"]: p[SNAPSHOT_KEY]["keys"] for p in partitions}
        assert kept["one"] == sorted(first_console.token_ids())
        assert kept["two"] == sorted(second_console.token_ids() | {removed["two"]})

        # Back again, the console gets its own tombstone, and the other none twice.
        second_sim = Simulator(second_console, auth_token=AUTH_TOKEN).start()
        back = sync_in_process(config(), state=failed.last_state)
        assert tombstones(back) == {"tokens": {("two", removed["two"])}}
    finally:
        first_sim.stop()
        second_sim.stop()


def sync_stopped(config: dict[str, Any], state: dict[str, Any]) -> TapRun:
    """A sync that ends with a console set aside: its output."""
    stdout = io.StringIO()
    tap = TapThinkstCanary(config=config, state=state)
    with contextlib.redirect_stdout(stdout), pytest.raises(SyncStopped, match="could not be"):
        tap.sync_all()
    return TapRun(parse_messages(stdout.getvalue()))


def test_no_stream_sends_activate_version_even_when_the_config_asks(
    simulator: Simulator, console: Console
) -> None:
    config = config_for(simulator, emit_activate_version_messages=True)
    first = sync_in_process(config)
    remove_one_of_each(console)
    second = sync_in_process(config, state=first.last_state)
    for output in (first, second):
        assert {m["type"] for m in output.messages} == {"SCHEMA", "RECORD", "STATE"}
    assert set(second.counts()) >= {"incidents", "tokens", "birds", "flocks"}


@pytest.mark.parametrize(
    ("action", "details", "ids"),
    [
        ("incident_delete", {"incident_key": "i:1"}, ["i:1"]),
        ("Delete_Incidents", {"keys": ["i:1", "i:2"]}, ["i:1", "i:2"]),
        ("incidents_deleted", {"incident": "i:3"}, ["i:3"]),
        ("incident_acknowledge", {"incident_key": "i:1"}, []),
        ("incident_delete", None, []),
        ("incident_delete", {"node_id": "n"}, []),
        (None, {"incident_key": "i:1"}, []),
    ],
)
def test_the_audit_entries_that_record_incidents_deleted(
    action: str | None, details: dict[str, Any] | None, ids: list[str]
) -> None:
    entry = {"action_type": action, "additional_information": details}
    assert deleted_incidents(entry) == ids


def test_a_deletion_found_by_the_audit_trail_survives_a_sync_stopped_before_incidents(
    simulator: Simulator, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sync_in_process(config_for(simulator))
    incident = sorted(console.incident_ids())[0]
    console.delete_incident(incident)

    # The sync stops once the audit trail is written, before the incidents stream runs.
    def stop(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise SyncInterrupted(SyncInterruptedError("SIGTERM", signal.SIGTERM))
        yield

    monkeypatch.setattr(IncidentsStream, "pages", stop)
    stdout = io.StringIO()
    tap = TapThinkstCanary(config=config_for(simulator), state=first.last_state)
    with contextlib.redirect_stdout(stdout), pytest.raises(SyncStopped):
        tap.sync_all()
    stopped = TapRun(parse_messages(stdout.getvalue()))
    assert any(r["action_type"] == "incident_delete" for r in stopped.records("audit_trail"))
    assert tombstones(stopped) == {}
    [partition] = stopped.last_state["bookmarks"]["incidents"]["partitions"]
    assert set(partition["deletions_pending"]) == {incident}
    monkeypatch.undo()
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)

    resumed = sync_in_process(config_for(simulator), state=stopped.last_state)
    assert resumed.records("audit_trail") == []  # the audit bookmark had moved past the entry
    assert tombstones(resumed) == {"incidents": {("c1", incident)}}
