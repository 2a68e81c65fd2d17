"""Data the schema does not expect is synced without a crash, without losing a value, and in
bounded memory.

The console holds one incident with 100,000 events, and incidents bent out of shape: without an
`events` key, with an empty one, with unicode from several scripts in every string, with nulls
where strings belong, and with fields and event attributes no documentation mentions. The sync
must complete; every value must come out, in its typed column or in `extra`; the big incident
must bring all its events; and the tap's peak resident memory must stay under 400 MB.

Why 400 MB: the API sends an incident with all its events in one answer (about 25 MB of JSON
for 100,000 events here), so the tap cannot avoid holding that one incident, parsed, while it
turns it into records; that costs a few hundred bytes per event. What must not happen is memory
growing with the whole sync, or a copy per record. A tap that streams everything else stays
well under the bound; one that keeps its output or its pages around does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from canary_simulator import Console
from testkit.tap import TapRun

from .suite import FROZEN_NOW, simulator, sync, tap_config

pytestmark = pytest.mark.slow

BIG_INCIDENT_EVENTS = 100_000
PEAK_RSS_BOUND = 400 * 1024 * 1024

UNICODE_VALUES = {
    "src_host_reverse": "ホスト.例え.テスト",
    "flock_name": "Zürich Büro 🐦 — ünïcödé",
    "name": "خادم-الملفات",
    "memo": "𝔐𝔢𝔪𝔬 with a line\u2028separator and e\u0301 combining",
}
NULLED = ("src_host", "dst_port", "node_id", "memo", "mac_address")
UNDOCUMENTED_TOP = ("x_risk_score", {"score": 0.97, "labels": ["ransomware", "渗透"]})
UNDOCUMENTED_DESCRIPTION = ("matched_rules", ["rule-42", None, "régle-43"])
UNDOCUMENTED_EVENT = ("X_SESSION_FINGERPRINT", "ssh-ed25519 AAAA…ünï")


class OddConsole(Console):
    """A console whose chosen incidents come back bent out of shape, on every request."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.odd = {
            "missing-events": self.incident_id(3),
            "empty-events": self.incident_id(5),
            "unicode": self.incident_id(7),
            "nulls": self.incident_id(9),
            "undocumented": self.incident_id(11),
        }

    def build_incident(self, version: Any, tz: Any, event_limit: int | None) -> dict[str, Any]:
        incident = super().build_incident(version, tz, event_limit)
        description = incident["description"]
        oddity = {v: k for k, v in self.odd.items()}.get(incident["id"])
        if oddity == "missing-events":
            del description["events"]
        elif oddity == "empty-events":
            description["events"] = []
            description["events_count"] = "0"
        elif oddity == "unicode":
            description.update(UNICODE_VALUES)
            for event in description["events"]:
                event["unicode_note"] = "événement — イベント — حدث"
        elif oddity == "nulls":
            description.update(dict.fromkeys(NULLED))
            incident["summary"] = None
        elif oddity == "undocumented":
            incident[UNDOCUMENTED_TOP[0]] = UNDOCUMENTED_TOP[1]
            description[UNDOCUMENTED_DESCRIPTION[0]] = UNDOCUMENTED_DESCRIPTION[1]
            for event in description["events"]:
                event[UNDOCUMENTED_EVENT[0]] = UNDOCUMENTED_EVENT[1]
        return incident


def values_in(value: Any) -> Iterator[Any]:
    """Every value in a record, at any depth (`extra` included)."""
    yield value
    if isinstance(value, dict):
        for inner in value.values():
            yield from values_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from values_in(inner)


def holds(record: dict[str, Any], value: Any) -> bool:
    return any(found == value for found in values_in(record))


@pytest.fixture(scope="module")
def odd_console() -> OddConsole:
    return OddConsole(
        seed=99, incidents=120, birds=3, tokens=5, audit_days=3, flocks=2,
        big_incident_events=BIG_INCIDENT_EVENTS, now=FROZEN_NOW,
    )  # fmt: skip


@pytest.fixture(scope="module")
def odd_sync(odd_console: OddConsole, tmp_path_factory: pytest.TempPathFactory) -> TapRun:
    with simulator(odd_console) as sim:
        # A slow console answer for the big page must not count as a fault here.
        config = tap_config(sim.base_url, request_timeout=120, page_size=20)
        return sync(config, tmp_path_factory.mktemp("odd"), timeout=600)


@pytest.fixture(scope="module")
def incidents(odd_sync: TapRun) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in odd_sync.records("incidents")}


def test_the_sync_completes_with_every_incident(
    odd_sync: TapRun, odd_console: OddConsole, incidents: dict[str, dict[str, Any]]
) -> None:
    assert odd_sync.returncode == 0, odd_sync.describe()
    assert set(incidents) == odd_console.incident_ids()
    assert "Traceback" not in odd_sync.stderr


def test_every_event_of_the_big_incident_comes_out(
    odd_sync: TapRun, odd_console: OddConsole
) -> None:
    per_incident: dict[str, set[int]] = {}
    for event in odd_sync.records("incident_events"):
        per_incident.setdefault(event["incident_id"], set()).add(event["position"])
    assert max(len(positions) for positions in per_incident.values()) == BIG_INCIDENT_EVENTS
    big = max(per_incident, key=lambda incident_id: len(per_incident[incident_id]))
    assert per_incident[big] == set(range(BIG_INCIDENT_EVENTS))
    served = sum(len(raw["description"].get("events", [])) for raw in odd_console.iter_incidents())
    assert len(odd_sync.records("incident_events")) == served


def test_missing_or_empty_events_give_an_incident_without_event_rows(
    odd_sync: TapRun, odd_console: OddConsole, incidents: dict[str, dict[str, Any]]
) -> None:
    event_incidents = {event["incident_id"] for event in odd_sync.records("incident_events")}
    for oddity in ("missing-events", "empty-events"):
        incident_id = odd_console.odd[oddity]
        assert incident_id in incidents
        assert incident_id not in event_incidents


def test_unicode_is_kept_exactly(
    odd_sync: TapRun, odd_console: OddConsole, incidents: dict[str, dict[str, Any]]
) -> None:
    incident_id = odd_console.odd["unicode"]
    record = incidents[incident_id]
    for value in UNICODE_VALUES.values():
        assert holds(record, value), value
    events = [e for e in odd_sync.records("incident_events") if e["incident_id"] == incident_id]
    assert events
    assert all(holds(event, "événement — イベント — حدث") for event in events)


def test_nulls_stay_null(odd_console: OddConsole, incidents: dict[str, dict[str, Any]]) -> None:
    record = incidents[odd_console.odd["nulls"]]
    for column in ("src_host", "dst_port", "node_id", "memo", "mac_address", "summary"):
        assert record.get(column) is None, column
    texts = [value for value in values_in(record) if isinstance(value, str)]
    assert "None" not in texts, "a null became the text 'None'"


def test_undocumented_fields_are_kept(
    odd_sync: TapRun, odd_console: OddConsole, incidents: dict[str, dict[str, Any]]
) -> None:
    incident_id = odd_console.odd["undocumented"]
    record = incidents[incident_id]
    assert holds(record, UNDOCUMENTED_TOP[1])
    assert holds(record, UNDOCUMENTED_DESCRIPTION[1])
    events = [e for e in odd_sync.records("incident_events") if e["incident_id"] == incident_id]
    assert events
    assert all(holds(event, UNDOCUMENTED_EVENT[1]) for event in events)


def test_peak_memory_stays_bounded(odd_sync: TapRun) -> None:
    megabytes = odd_sync.peak_rss_bytes / 1024 / 1024
    print(f"peak RSS of the tap with a {BIG_INCIDENT_EVENTS}-event incident: {megabytes:.0f} MB")
    assert odd_sync.peak_rss_bytes < PEAK_RSS_BOUND, f"{megabytes:.0f} MB"
