"""SIGKILL at any point loses nothing: a resume from the last STATE completes the data.

Fourteen kill points are drawn with a fixed seed:

- two in each stream but the last one synced, right after the tap wrote a record drawn at
  random among that stream's records in a clean sync;
- two in the last stream (`tokens`), and two more anywhere in the sync, while the tap waits for
  the console's answer to a request drawn at random. (Right after a record of the last stream
  the tap may already have exited: a kill there could land too late to mean anything.)

For each, the tap is killed, then run again from the last STATE it wrote. Together the two runs
hold every record of a clean sync, the resumed run ends in the clean sync's state, and it repeats
no more than the unit the tap checkpoints:

- `incidents` and `incident_events`: only the page in progress (its incidents and their events);
- `audit_trail`: only entries of a single UTC day (the audit trail is checkpointed per day);
- `birds`, `tokens`, `flocks`: snapshots without a bookmark: the resumed run takes a new,
  complete snapshot on its own; what the killed run had sent of the old one is upserted again.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from canary_simulator import Console
from tap_thinkst_canary.streams import (
    AuditTrailStream,
    BirdsStream,
    FlocksStream,
    IncidentEventsStream,
    IncidentsStream,
    TokensStream,
)
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.tap import KillPoint, RequestKill, TapRun, killing_during, run_concurrently, union_keys

from .suite import PAGE_SIZE, CleanSync, new_console, simulator, sync, tap_config

pytestmark = pytest.mark.slow

SEED = 20261122
# The streams killed after one of their records: those whose checkpoint unit is described above.
SNAPSHOT_STREAMS = tuple(stream.name for stream in (BirdsStream, TokensStream, FlocksStream))
STREAMS = (
    *(stream.name for stream in (IncidentsStream, IncidentEventsStream, AuditTrailStream)),
    *SNAPSHOT_STREAMS,
)
RECORD_KILLS_PER_STREAM = 2
REQUEST_KILLS_IN_LAST_STREAM = 2
REQUEST_KILLS_ANYWHERE = 2
KILL_POINTS = (
    (len(STREAMS) - 1) * RECORD_KILLS_PER_STREAM
    + REQUEST_KILLS_IN_LAST_STREAM
    + REQUEST_KILLS_ANYWHERE
)
# The endpoint of each stream that makes requests of its own.
STREAM_PATHS = {
    stream.name: stream.path
    for stream in TapThinkstCanary(
        config={"domain": "example", "auth_token": "paths-only-0123456789abcdef"},
        validate_config=False,
    ).streams.values()
    if not stream.parent_stream_type
}


Kill = KillPoint | RequestKill


def kill_points(clean: TapRun, requests_per_path: dict[str, int], seed: int = SEED) -> list[Kill]:
    rng = random.Random(seed)
    counts = clean.counts()
    # Of the streams with record kills, the one written last gets request kills instead.
    last_stream = [
        record["stream"] for record in clean.record_messages if record["stream"] in STREAMS
    ][-1]
    points: list[Kill] = [
        KillPoint(stream, rng.randint(1, counts[stream]))
        for stream in STREAMS
        if stream != last_stream
        for _ in range(RECORD_KILLS_PER_STREAM)
    ]
    last_path = STREAM_PATHS[last_stream]
    points += [
        RequestKill(last_path, rng.randint(1, requests_per_path[last_path]))
        for _ in range(REQUEST_KILLS_IN_LAST_STREAM)
    ]
    total = sum(requests_per_path.values())
    points += [RequestKill(None, rng.randint(2, total)) for _ in range(REQUEST_KILLS_ANYWHERE)]
    return points


@dataclass(frozen=True)
class Crash:
    killed: TapRun
    resumed: TapRun


@pytest.fixture(scope="module")
def points(clean_sync: CleanSync) -> list[Kill]:
    return kill_points(clean_sync.run, dict(clean_sync.requests_per_path))


@pytest.fixture(scope="module")
def crashes(
    points: list[Kill], reliability_console: Console, tmp_path_factory: pytest.TempPathFactory
) -> list[Crash]:
    root = tmp_path_factory.mktemp("crashes")

    def crash_and_resume(index: int) -> Crash:
        point, workdir = points[index], root / f"point-{index}"
        with simulator(reliability_console) as sim:
            config = tap_config(sim.base_url)
            if isinstance(point, RequestKill):
                with killing_during(sim, point) as on_start:
                    killed = sync(config, workdir / "killed", on_start=on_start)
            else:
                killed = sync(config, workdir / "killed", kill_at=point)
            resumed = sync(config, workdir / "resumed", state=killed.last_state)
        return Crash(killed, resumed)

    jobs = {str(i): partial(crash_and_resume, i) for i in range(len(points))}
    return list(run_concurrently(jobs, workers=3).values())


def test_kill_points_cover_every_stream(points: list[Kill]) -> None:
    assert len(points) == KILL_POINTS >= 10
    record_streams = {p.stream for p in points if isinstance(p, KillPoint)}
    request_paths = {p.path for p in points if isinstance(p, RequestKill)}
    assert record_streams | {"tokens"} == set(STREAMS)
    assert "/canarytokens/paginate" in request_paths


@pytest.mark.parametrize("index", range(KILL_POINTS))
def test_resume_after_sigkill_completes_the_data(
    index: int, points: list[Kill], crashes: list[Crash], clean_sync: CleanSync
) -> None:
    point, killed, resumed = points[index], crashes[index].killed, crashes[index].resumed
    clean = clean_sync.run
    assert killed.killed, f"the kill {point} did not land: {killed.describe()}"
    assert resumed.returncode == 0, resumed.describe()
    assert union_keys([killed, resumed]) == clean.key_set(), str(point)
    assert resumed.last_state == clean.last_state

    repeated = {stream: set(killed.keys(stream)) & set(resumed.keys(stream)) for stream in STREAMS}
    # The page the kill interrupted is the resumed run's first: only it may come twice, its
    # incidents and their events.
    first_page = {incident_id for (_, incident_id) in resumed.keys("incidents")[:PAGE_SIZE]}
    assert {incident_id for (_, incident_id) in repeated["incidents"]} <= first_page
    assert {incident_id for _, incident_id, _ in repeated["incident_events"]} <= first_page
    assert len(audit_days(resumed, repeated["audit_trail"])) <= 1
    for stream in SNAPSHOT_STREAMS:
        assert set(resumed.keys(stream)) == set(clean.keys(stream)), f"{stream} snapshot"


def audit_days(run: TapRun, ids: set[tuple[object, ...]]) -> set[str]:
    """The UTC days of the given audit entries, from their timestamps in `run`."""
    return {
        str(record["timestamp"])[:10]
        for record in run.records("audit_trail")
        if (record["console"], record["id"]) in ids
    }


BIG_INCIDENT_EVENTS = 25_000


def test_kill_inside_the_events_of_a_big_incident_loses_nothing(tmp_path: Path) -> None:
    """A page whose events outnumber the SDK's periodic checkpoint (every 10,000 records):
    killed half-way through those events, the resumed sync must still bring every one of them.
    A state written in the middle of a page's events must not claim the page as done."""
    console = new_console(incidents=120, big_incident_events=BIG_INCIDENT_EVENTS)
    with simulator(console) as sim:
        config = tap_config(sim.base_url, request_timeout=60)
        clean = sync(config, tmp_path / "clean")
        events = clean.records("incident_events")
        per_incident = Counter(event["incident_id"] for event in events)
        big, count = per_incident.most_common(1)[0]
        assert count == BIG_INCIDENT_EVENTS
        first = next(i for i, event in enumerate(events) if event["incident_id"] == big)
        point = KillPoint("incident_events", first + 15_000)
        killed = sync(config, tmp_path / "killed", kill_at=point)
        resumed = sync(config, tmp_path / "resumed", state=killed.last_state)

    assert killed.killed, killed.describe()
    assert resumed.returncode == 0, resumed.describe()
    missing = clean.key_set() - union_keys([killed, resumed])
    assert not missing, f"{len(missing)} records lost, e.g. {sorted(missing)[:3]}"
