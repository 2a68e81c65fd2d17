"""SIGKILL at any point loses nothing: a resume from the last STATE completes the data.

Twelve kill points are drawn with a fixed seed, two in each stream, anywhere among that
stream's records in a clean sync. For each, the tap is killed right after writing that record,
then run again from the last STATE it wrote. Together the two runs hold every record of a
clean sync, and the resumed run repeats at most the unit the tap checkpoints:

- `incidents`: at most one page;
- `incident_events`: only events of incidents that were repeated;
- `audit_trail`: only entries of a single UTC day (the audit trail is checkpointed per day);
- `birds`, `tokens`, `flocks`: full snapshots, with no bookmark: the resumed run takes a new,
  complete snapshot on its own, and what the killed run had sent of the old one is at most the
  whole table, upserted again by key.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from canary_simulator import Console

from .conftest import PAGE_SIZE, CleanSyncs, simulator, tap_config
from .harness import STREAMS, KillPoint, TapRun, run_tap, union_keys

KILLS_PER_STREAM = 2
SEED = 20261122
SNAPSHOT_STREAMS = ("birds", "tokens", "flocks")


def kill_points(clean: TapRun, seed: int = SEED) -> list[KillPoint]:
    """`KILLS_PER_STREAM` points per stream, each after a record drawn at random."""
    rng = random.Random(seed)
    counts = clean.record_counts()
    return [
        KillPoint(stream, rng.randint(1, counts[stream]))
        for stream in STREAMS
        for _ in range(KILLS_PER_STREAM)
    ]


def test_kill_points_cover_every_stream(clean_syncs: CleanSyncs) -> None:
    points = kill_points(clean_syncs.today().run)
    assert len(points) >= 10
    assert {point.stream for point in points} == set(STREAMS)


@pytest.mark.parametrize("index", range(len(STREAMS) * KILLS_PER_STREAM))
def test_resume_after_sigkill_completes_the_data(
    index: int, reliability_console: Console, clean_syncs: CleanSyncs, tmp_path: Path
) -> None:
    clean = clean_syncs.today().run
    point = kill_points(clean)[index]
    with simulator(reliability_console) as sim:
        config = tap_config(sim.base_url)
        killed = run_tap(config, tmp_path / "killed", kill_at=point)
        resumed = run_tap(config, tmp_path / "resumed", state=killed.last_state)

    assert killed.killed, f"the tap finished before {point}: {killed.describe()}"
    assert resumed.returncode == 0, resumed.describe()
    assert union_keys([killed, resumed]) == clean.key_set()
    assert resumed.last_state == clean.last_state

    repeated = {stream: set(killed.keys(stream)) & set(resumed.keys(stream)) for stream in STREAMS}
    assert len(repeated["incidents"]) <= PAGE_SIZE
    repeated_incidents = {incident_id for (incident_id,) in repeated["incidents"]}
    assert {incident_id for incident_id, _ in repeated["incident_events"]} <= repeated_incidents
    assert len(audit_days(resumed, repeated["audit_trail"])) <= 1
    for stream in SNAPSHOT_STREAMS:
        assert set(resumed.keys(stream)) == set(clean.keys(stream)), f"{stream} snapshot"


def audit_days(run: TapRun, ids: set[tuple[object, ...]]) -> set[str]:
    """The UTC days of the given audit entries, from their timestamps in `run`."""
    return {
        str(record["timestamp"])[:10]
        for record in run.records_of("audit_trail")
        if (record["id"],) in ids
    }
