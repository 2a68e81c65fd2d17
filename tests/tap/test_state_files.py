"""The state a sync resumes from: a broken one stops the console script in one line before any
request, the Singer wrappers around a state are taken off, and a state that is not this tap's
is said to start the sync over."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canary_simulator import Console, Simulator
from tap_thinkst_canary.errors import ConfigError
from tap_thinkst_canary.state import console_bookmark
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.tap import TapRun, run_tap, sync_in_process

NOW = datetime.datetime(2026, 3, 10, 23, 59, 58, tzinfo=datetime.timezone.utc)
CONSOLE = "127.0.0.1"  # the console's name, with no `console_name`: the host of its `base_url`
State = dict[str, Any]

FIX = "restore the last good state, or run without --state for a full sync."


@pytest.fixture
def sim(frozen_now: Callable[[datetime.datetime], None]) -> Iterator[Simulator]:
    """A small console: twelve incidents, read in pages of five, and three days of audit trail.

    The console and every sync share one frozen clock: a sync that starts after midnight would
    otherwise finish the audit trail's day before and resume on another, and the final states
    this file compares would differ by the day.
    """
    frozen_now(NOW)
    console = Console(seed=3, incidents=12, audit_days=3, tokens=3, big_incident_events=0, now=NOW)
    with Simulator(console) as simulator:
        yield simulator


def config_for(sim: Simulator) -> dict[str, Any]:
    return {"base_url": sim.base_url, "auth_token": sim.auth_token, "page_size": 5}


def run_with_state(tmp_path: Path, sim: Simulator, state: Any) -> TapRun:
    """The console script resuming from a state file holding `state`; the request log of the
    console holds only what this run asked."""
    sim.clear_request_log()
    return run_tap(config_for(sim), tmp_path, state=state)


def incidents_since(sim: Simulator) -> list[str]:
    """The `incidents_since` of each first page of incidents the console was asked for."""
    return [
        request.params.get("incidents_since", "")
        for request in sim.requests
        if request.path.endswith("/incidents/all") and "cursor" not in request.params
    ]


def warnings(run: TapRun) -> list[str]:
    return [line for line in run.stderr_lines if "| WARNING" in line]


@pytest.fixture
def first_sync(tmp_path: Path, sim: Simulator) -> TapRun:
    """A whole sync from scratch."""
    run = sync_in_process(config_for(sim))
    assert run.returncode == 0, run.stderr
    assert console_bookmark(run.last_state, "incidents", CONSOLE)["replication_key_value"] == 12
    return run


BAD_STATES: dict[str, tuple[Any, str]] = {
    "bookmarks a list": ({"bookmarks": []}, "holds `bookmarks` that are a list, not an object"),
    "a stream's bookmark a string": (
        {"bookmarks": {"incidents": "x"}},
        "holds `bookmarks.incidents` as a string, not an object",
    ),
    "an updated_id beyond 64 bits": (
        {
            "bookmarks": {
                "incidents": {"replication_key": "updated_id", "replication_key_value": 2**70}
            }
        },
        "`bookmarks.incidents.replication_key_value` = 1180591620717411303424, which is not an "
        "`updated_id` (a whole number from 0 to 9223372036854775807)",
    ),
    "a negative updated_id": (
        {
            "bookmarks": {
                "incidents": {"replication_key": "updated_id", "replication_key_value": -5}
            }
        },
        "`bookmarks.incidents.replication_key_value` = -5, which is not an `updated_id`",
    ),
    "a float updated_id": (
        {"bookmarks": {"incidents": {"replication_key_value": 4.5}}},
        "`bookmarks.incidents.replication_key_value` = 4.5, which is not an `updated_id`",
    ),
    "a boolean updated_id": (
        {"bookmarks": {"incidents": {"replication_key_value": True}}},
        "`bookmarks.incidents.replication_key_value` = true, which is not an `updated_id`",
    ),
    "an updated_id that is not digits": (
        {"bookmarks": {"incidents": {"replication_key_value": "2024-01-01T00:00:00Z"}}},
        "which is not an `updated_id`",
    ),
    "another tap's replication key": (
        {"bookmarks": {"incidents": {"replication_key": "created_at", "replication_key_value": 7}}},
        "on the replication key 'created_at', where this tap's is 'updated_id'",
    ),
    "an audit day that is no day": (
        {"bookmarks": {"audit_trail": {"resume_day": "2024-02-30"}}},
        '`bookmarks.audit_trail.resume_day` = "2024-02-30", which is not a day (YYYY-MM-DD)',
    ),
    "an audit day in another format": (
        {"bookmarks": {"audit_trail": {"resume_day": "20240201"}}},
        "which is not a day (YYYY-MM-DD)",
    ),
    "a negative audit entry id": (
        {"bookmarks": {"audit_trail": {"resume_day": "2024-02-01", "resume_after_id": -1}}},
        "`bookmarks.audit_trail.resume_after_id` = -1, which is not an `id`",
    ),
    "an integer beyond 64 bits under any key": (
        {"bookmarks": {"birds": {"seen": [1, 2**64]}}},
        "`bookmarks.birds.seen[1]` = 18446744073709551616, an integer beyond the 64-bit range",
    ),
    "progress markers that are a list": (
        {"bookmarks": {"incidents": {"progress_markers": []}}},
        "`bookmarks.incidents.progress_markers` as a list, not an object",
    ),
    "partitions without a context": (
        {"bookmarks": {"birds": {"partitions": [{"replication_key_value": 1}]}}},
        "`bookmarks.birds.partitions` with an entry that is not an object with a `context`",
    ),
    "Meltano's form around a broken state": (
        {"singer_state": {"bookmarks": {"incidents": []}}},
        "holds `bookmarks.incidents` as a list, not an object",
    ),
    "Meltano's form around no object": (
        {"singer_state": "x"},
        "holds a `singer_state` that is a string, not an object",
    ),
    "a STATE message around no object": (
        {"type": "STATE", "value": [1]},
        "holds a STATE message's `value` that is a list, not an object",
    ),
}


@pytest.mark.parametrize("case", BAD_STATES, ids=list(BAD_STATES))
def test_a_broken_state_stops_the_sync_in_one_line_before_any_request(
    case: str, tmp_path: Path, sim: Simulator
) -> None:
    state, problem = BAD_STATES[case]
    run = run_with_state(tmp_path, sim, state)
    assert run.returncode == 2, run.stderr
    assert len(run.stderr_lines) == 1, run.stderr
    line = run.stderr_lines[0]
    assert f"Configuration error: {tmp_path / 'state.json'} (given to --state) " in line, line
    assert problem in line, line
    assert line.endswith(FIX), line
    assert run.messages == []
    assert sim.requests == []


def test_a_broken_state_given_in_process_is_a_configuration_error(sim: Simulator) -> None:
    with pytest.raises(ConfigError, match=r"the state to resume from holds `bookmarks` that are"):
        TapThinkstCanary(config=config_for(sim), state={"bookmarks": []})
    assert sim.requests == []


@pytest.mark.slow
def test_the_final_state_of_a_sync_resumes_it(
    tmp_path: Path, sim: Simulator, first_sync: TapRun
) -> None:
    run = run_with_state(tmp_path, sim, first_sync.last_state)
    assert run.returncode == 0, run.stderr
    assert warnings(run) == []
    assert incidents_since(sim) == ["12"]
    assert run.records("incidents") == []
    assert run.last_state == first_sync.last_state


@pytest.mark.slow
@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda state: {"singer_state": state}, id="Meltano's singer_state"),
        pytest.param(lambda state: {"type": "STATE", "value": state}, id="a STATE message"),
        pytest.param(
            lambda state: {"singer_state": {"type": "STATE", "value": state}},
            id="a STATE message in Meltano's form",
        ),
    ],
)
def test_a_wrapped_state_resumes_from_the_bookmark_inside(
    wrap: Any, tmp_path: Path, sim: Simulator, first_sync: TapRun
) -> None:
    run = run_with_state(tmp_path, sim, wrap(first_sync.last_state))
    assert run.returncode == 0, run.stderr
    assert warnings(run) == []
    assert incidents_since(sim) == ["12"]
    assert run.records("incidents") == []
    assert run.last_state == first_sync.last_state


@pytest.mark.slow
def test_every_state_written_in_a_sync_resumes_it_even_as_a_state_message(
    sim: Simulator, first_sync: TapRun
) -> None:
    """The states written between pages carry the SDK's own keys (`starting_replication_value`
    and the like): each one resumes, unwrapped from the STATE message it came in."""
    states = [m for m in first_sync.messages if m["type"] == "STATE"]
    with_incidents = [m for m in states if console_bookmark(m["value"], "incidents", CONSOLE)]
    assert len(with_incidents) >= 4  # before the first page, after each of the three, final
    assert any(
        "starting_replication_value" in console_bookmark(m["value"], "incidents", CONSOLE)
        for m in with_incidents
    )
    for message in with_incidents:
        bookmark = console_bookmark(message["value"], "incidents", CONSOLE).get(
            "replication_key_value", 0
        )
        sim.clear_request_log()
        run = sync_in_process(config_for(sim), state=message)
        assert incidents_since(sim) == [str(bookmark)]
        assert len(run.records("incidents")) == 12 - bookmark
        assert run.last_state == first_sync.last_state


@pytest.mark.slow
def test_the_sdk_s_own_keys_are_kept(tmp_path: Path, sim: Simulator) -> None:
    """Progress markers, a signpost, partitions and keys of its own: a state the SDK could have
    written resumes from its bookmark. This one is of a single console, as the tap wrote them
    before it kept bookmarks per console: its bookmark becomes the console's."""
    state = {
        "type": "STATE",
        "value": {
            "bookmarks": {
                "incidents": {
                    "replication_key": "updated_id",
                    "replication_key_value": "7",
                    "starting_replication_value": 3,
                    "replication_key_signpost": None,
                    "progress_markers": {"Note": "Progress is not resumable if interrupted."},
                    "a_key_of_a_later_version": {"nested": [1, 2]},
                },
                "birds": {"partitions": [{"context": {"flock": "a"}, "seen": 1}]},
            },
            "currently_syncing": None,
        },
    }
    run = run_with_state(tmp_path, sim, state)
    assert run.returncode == 0, run.stderr
    assert warnings(run) == []
    assert incidents_since(sim) == ["7"]
    assert sorted(record["updated_id"] for record in run.records("incidents")) == list(range(8, 13))
    final = console_bookmark(run.last_state, "incidents", CONSOLE)
    assert final["replication_key_value"] == 12
    kept = run.last_state["bookmarks"]["incidents"]["a_key_of_a_later_version"]
    assert kept == {"nested": [1, 2]}


FOREIGN_STATES: dict[str, tuple[State, str]] = {
    "another tap's streams": (
        {"bookmarks": {"customers": {"replication_key_value": 5}, "alerts": "x"}},
        "its bookmarks are for streams this tap does not have: `alerts`, `customers`",
    ),
    "no bookmarks at all": (
        {"currently_syncing": "incidents", "value": 3},
        "it has no `bookmarks`, only `currently_syncing`, `value`",
    ),
    "Meltano's form around another tap's state": (
        {"singer_state": {"bookmarks": {"tickets": {}}}},
        "its bookmarks are for streams this tap does not have: `tickets`",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", FOREIGN_STATES, ids=list(FOREIGN_STATES))
def test_a_state_that_is_not_this_tap_s_is_said_to_start_over(
    case: str, tmp_path: Path, sim: Simulator
) -> None:
    state, reason = FOREIGN_STATES[case]
    run = run_with_state(tmp_path, sim, state)
    assert run.returncode == 0, run.stderr
    assert len(warnings(run)) == 1, run.stderr
    assert (
        f"The state to resume from holds nothing of this tap's: {reason}; the sync starts over "
        "from the beginning." in warnings(run)[0]
    )
    assert incidents_since(sim) == ["0"]
    assert len(run.records("incidents")) == 12
    assert set(run.last_state["bookmarks"]) >= {"incidents", "audit_trail"}
    assert not set(run.last_state["bookmarks"]) & {"customers", "alerts", "tickets"}


@pytest.mark.slow
@pytest.mark.parametrize("state", [{}, {"singer_state": {}}], ids=str)
def test_an_empty_state_is_a_first_sync_without_a_word(
    state: State, tmp_path: Path, sim: Simulator
) -> None:
    run = run_with_state(tmp_path, sim, state)
    assert run.returncode == 0, run.stderr
    assert warnings(run) == []
    assert incidents_since(sim) == ["0"]


def test_the_state_given_in_process_is_not_changed(sim: Simulator) -> None:
    state = {"bookmarks": {"incidents": {"replication_key_value": "7"}}}
    given = json.loads(json.dumps(state))
    tap = TapThinkstCanary(config=config_for(sim), state=state)
    assert state == given
    assert tap.state["bookmarks"]["incidents"] == {
        "partitions": [
            {
                "context": {"console": CONSOLE},
                "replication_key": "updated_id",
                "replication_key_value": 7,
            }
        ]
    }
