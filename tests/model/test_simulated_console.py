"""Everything the console simulator serves converts cleanly: every logtype and token kind."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from canary_simulator import Console, generators
from canary_simulator.api import ConsoleApi
from tap_thinkst_canary.model import (
    AUDIT_ENTRY_SCHEMA,
    BIRD_SCHEMA,
    FLOCK_SCHEMA,
    INCIDENT_EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    LOGTYPES,
    REDACTED,
    TOKEN_SCHEMA,
    audit_record,
    bird_record,
    flock_of_devices,
    flock_records,
    incident_event_records,
    incident_event_rows,
    incident_record,
    token_record,
)
from tap_thinkst_canary.model._convert import to_datetime
from tap_thinkst_canary.model.tokens import is_secret_field

from .helpers import assert_valid


@pytest.fixture(scope="module")
def console() -> Console:
    return Console(seed=11, incidents=300, birds=6, tokens=60, audit_days=20, flocks=3)


def test_incidents_of_every_logtype(console: Console) -> None:
    seen: set[str] = set()
    seen_in_rows: set[str] = set()
    for raw in console.iter_incidents():
        record = incident_record(raw)
        assert_valid({**record, "events": record["events"][:100]}, INCIDENT_SCHEMA)
        assert record["events"] == raw["description"]["events"]
        seen.add(record["logtype"])
        assert record["logtype_name"] is not None, record["logtype"]
        assert record["created_at"] is not None
        assert record["updated_at"] is not None
        rows = incident_event_rows(record)
        for row, same in zip(rows, incident_event_records(raw), strict=True):
            assert row == same
            if row["position"] < 100:
                assert_valid(row, INCIDENT_EVENT_SCHEMA)
            assert row["incident_id"] == record["id"]
            seen_in_rows.add(row["logtype"])
    assert seen >= set(LOGTYPES) - {"17002", "17010", "17011", "22001"}
    # Every logtype's events come out typed as rows.
    assert seen_in_rows == seen


def test_simulated_incidents_in_another_time_zone_give_the_same_instants(console: Console) -> None:
    utc = [incident_record(raw) for raw in console.iter_incidents()][:50]
    shifted = [incident_record(raw) for raw in console.iter_incidents(tz="Asia/Kolkata")][:50]
    for a, b in zip(utc, shifted, strict=True):
        assert (a["created_at"], a["updated_at"]) == (b["created_at"], b["updated_at"])
        times_a = [row.get("timestamp") for row in incident_event_rows(a)]
        assert times_a == [row.get("timestamp") for row in incident_event_rows(b)]
        assert len(times_a) == len(a["events"])


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_no_token_secret_survives(console: Console) -> None:
    kinds = set()
    for raw in console.tokens():
        kinds.add(raw["kind"])
        record = token_record(raw)
        assert_valid(record, TOKEN_SCHEMA)
        text = json.dumps(record, ensure_ascii=False)
        secrets = [
            value
            for key, item in raw.items()
            if is_secret_field(key)
            for value in _strings(item)
            if len(value) >= 4
        ]
        for secret in secrets:
            assert secret not in text, (raw["kind"], secret)
        for key in raw:
            if is_secret_field(key) and raw[key]:
                assert REDACTED in json.dumps(record.get(key, (record["extra"] or {}).get(key)))
        assert_valid(token_record(raw, redact=False), TOKEN_SCHEMA)
    assert {"aws-id", "azure-id", "wireguard", "slack-api", "credit-card"} <= kinds


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
def test_birds_audit_and_flocks(console: Console, zone: str) -> None:
    tz = ZoneInfo(zone)
    summary = ConsoleApi(console, "http://127.0.0.1/api/v1", "token", prefetch=False)
    flock_of = flock_of_devices(json.loads(summary.flocks_summary({})))
    for bird in console.birds():
        raw = generators.render_bird(bird, tz)
        record = bird_record(raw)
        assert_valid(record, BIRD_SCHEMA)
        # As in the published answers, a bird does not say its flock; the flocks' summary does.
        assert record["flock_id"] is None
        assert flock_of[record["id"]] == bird["flock_id"]
        assert record["first_seen_at"] is not None
        assert record["last_seen_at"] is not None
    for entry in console.audit_entries():
        raw = generators.render_audit_entry(entry, tz)
        record = audit_record(raw)
        assert_valid(record, AUDIT_ENTRY_SCHEMA)
        assert record["timestamp"] == to_datetime(entry["timestamp_epoch"])
        assert record["extra"] is None
    records = list(flock_records({"flocks_summary": console.flocks(), "result": "success"}))
    assert {record["flock_id"] for record in records} == console.flock_ids()
    for record in records:
        assert_valid(record, FLOCK_SCHEMA)
        assert record["name"]
