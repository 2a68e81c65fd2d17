"""Thousands of generated messy inputs: every record validates and no value is lost.

Inputs start from the API's example objects and are mutated at random (seeded):
values replaced by unicode, nulls, numbers, booleans, nested objects, unreadable
dates; keys dropped; unknown keys added. For every output two things must hold:

* it validates against the schema the tap emits (closed, with date-time format), and
* every raw value that is present (not null, not a blank string) is either represented by a
  non-null typed column fed by its key, or kept unchanged in ``extra``.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from tap_thinkst_canary.model import (
    AUDIT_ENTRY_SCHEMA,
    BIRD_SCHEMA,
    FLOCK_SCHEMA,
    INCIDENT_EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    TOKEN_SCHEMA,
    audit_record,
    bird_record,
    flock_records,
    incident_event_records,
    incident_event_rows,
    incident_record,
    token_record,
)
from tap_thinkst_canary.model._table import Table
from tap_thinkst_canary.model.audit import _AUDIT_TABLE
from tap_thinkst_canary.model.birds import _BIRD_TABLE
from tap_thinkst_canary.model.events import EVENT_TABLE
from tap_thinkst_canary.model.flocks import _FLOCK_TABLE
from tap_thinkst_canary.model.incidents import DESCRIPTION_TABLE, INCIDENT_TABLE
from tap_thinkst_canary.model.tokens import _TOKEN_TABLE

from .helpers import assert_valid, frozen, load

CASES = 400

VALUES: list[Any] = [
    None, "", " ", "0", "1", "-7", "3.5", "1e400", "NaN", "inf", "True", "false", "yes",
    "2020-04-08 09:39:02 UTC+0000", "2020-04-08 11:39:02 CEST+0200", "1586249510.069870",
    "Wed, 08 Apr 2020 10:55:09 GMT", "Tue Apr 14 2020 22:11:18 GMT+0000 (UTC)",
    "2020-02-30 10:00:00 UTC+0000", "9999-12-31 23:59:59 UTC-0100", "0001-01-01 00:00:00 UTC+0100",
    "ünïcødé ✓ 😀", "\u0000\ufffd", "密码", "23,80,443", "<placeholder>", "   42   ",
    0, 1, -1, 2**63, 2**80, 1.5, -0.0, 1e300, True, False,
    [], [1, "a", None], ["x", "y"], {}, {"nested": {"deep": [1, {"k": "v"}]}},
]  # fmt: skip
NEW_KEYS = ["NEW_FIELD", "ünï_kéy", "USERNAME", "user", "Username", "8080", "", "timestamp_std"]


def mutate(obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out = dict(obj)
    for key in list(out):
        roll = rng.random()
        if roll < 0.3:
            out[key] = rng.choice(VALUES)
        elif roll < 0.4:
            del out[key]
    for _ in range(rng.randint(0, 3)):
        out[rng.choice(NEW_KEYS)] = rng.choice(VALUES)
    return out


def assert_nothing_lost(raw: Any, record: dict[str, Any], table: Table, extra: Any) -> None:
    if not isinstance(raw, dict):
        return
    extra = extra or {}
    for key, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key in extra and extra[key] == value:
            continue
        column = table.column_for(key)
        assert column is not None, f"{key!r}={value!r} is neither a column nor in extra"
        assert record.get(column) is not None, f"{key!r}={value!r} lost (column {column})"


def assert_event_kept(raw: Any, event: dict[str, Any]) -> None:
    if not isinstance(raw, dict):
        if raw is not None:
            assert event["extra"] == {"value": raw}
        return
    kept = {**(event.get("ports_scanned") or {}), **(event.get("extra") or {})}
    assert_nothing_lost(raw, event, EVENT_TABLE, kept)


def messy_incidents(rng: random.Random) -> list[Any]:
    bases = [
        incident
        for page in (
            "incidents_all.json",
            "incidents_acknowledged.json",
            "incidents_walkthrough.json",
        )
        for incident in load(page)["incidents"]
    ]
    event_bases = [
        {"USERNAME": "root", "PASSWORD": "x", "timestamp": 1587155370,
         "timestamp_std": "2020-04-17 20:29:30 UTC+0000"},
        {"PATH": "/", "RESPONSE": 200, "USERAGENT": "curl", "SKIN": "nasLogin", "METHOD": "GET"},
        {"ID": "1", "LEN": "60", "TTL": "64", "SYN": "", "ACK": "", "WINDOW": "1024"},
        {"ports": "22,80", "timestamp": "1587155370"},
        {"22": ["10.0.0.1"], "445": ["10.0.0.2", "10.0.0.3"]},
        {"canarytoken": "t", "headers": {"A": "b"}, "type": "http", "geoip": {"city": "Köln"}},
    ]  # fmt: skip
    cases: list[Any] = [None, "not an incident", 5, [], {}]
    for _ in range(CASES):
        raw = copy.deepcopy(rng.choice(bases))
        raw = mutate(raw, rng)
        if isinstance(raw.get("description"), dict):
            description = mutate(raw["description"], rng)
            events = [mutate(rng.choice(event_bases), rng) for _ in range(rng.randint(0, 6))]
            if rng.random() < 0.1:
                events.append(rng.choice(VALUES))
            description["events"] = events if rng.random() < 0.9 else rng.choice(VALUES)
            raw["description"] = description
        cases.append(raw)
    return cases


def test_messy_incidents_and_events() -> None:
    rng = random.Random(20200408)
    for raw in messy_incidents(rng):
        before = frozen(raw)
        record = incident_record(raw, redact=False)
        rows = list(incident_event_records(raw, redact=False))
        assert raw == before
        assert_valid(record, INCIDENT_SCHEMA)
        extra = record["extra"] or {}
        if not isinstance(raw, dict):
            continue
        top = {k: v for k, v in raw.items() if k != "description"}
        assert_nothing_lost(top, record, INCIDENT_TABLE, extra)
        description = raw.get("description")
        if isinstance(description, dict):
            inner = {k: v for k, v in description.items() if k != "events"}
            assert_nothing_lost(inner, record, DESCRIPTION_TABLE, extra.get("description"))
            events = description.get("events")
            if isinstance(events, list):
                assert len(rows) == len(events) == len(record["events"])
                # Unredacted, the record's events are the events sent, non-objects wrapped.
                assert record["events"] == [
                    event if event is None or isinstance(event, dict) else {"value": event}
                    for event in events
                ]
                assert list(incident_event_rows(record)) == rows
                for position, (event, row) in enumerate(zip(events, rows, strict=True)):
                    assert row["position"] == position
                    assert_valid(row, INCIDENT_EVENT_SCHEMA)
                    assert_event_kept(event, row)
            else:
                assert rows == []
                if events not in (None, ""):
                    assert extra["description"]["events"] == events
        elif description is not None:
            assert extra["description"] == description


@pytest.mark.parametrize(
    ("pages", "key", "convert", "schema", "table"),
    [
        (["audit_trail_fetch.json"], "audit_trail", audit_record, AUDIT_ENTRY_SCHEMA, _AUDIT_TABLE),
        (
            ["devices_all.json", "devices_filter.json"],
            "devices",
            bird_record,
            BIRD_SCHEMA,
            _BIRD_TABLE,
        ),
        (
            ["canarytokens_paginate.json", "canarytokens_search.json"],
            "canarytokens",
            lambda raw: token_record(raw, redact=False),
            TOKEN_SCHEMA,
            _TOKEN_TABLE,
        ),
    ],
    ids=["audit", "birds", "tokens"],
)
def test_messy_flat_records(
    pages: list[str], key: str, convert: Any, schema: Any, table: Table
) -> None:
    rng = random.Random(len(key))
    bases = [item for page in pages for item in load(page)[key]]
    cases: list[Any] = [None, "x", 3, [], {}]
    cases += [mutate(copy.deepcopy(rng.choice(bases)), rng) for _ in range(CASES)]
    for raw in cases:
        before = frozen(raw)
        record = convert(raw)
        assert raw == before
        assert_valid(record, schema)
        assert_nothing_lost(raw, record, table, record["extra"])


def test_messy_tokens_are_valid_when_redacted() -> None:
    rng = random.Random(99)
    bases = load("canarytokens_paginate.json")["canarytokens"]
    for _ in range(CASES):
        raw = mutate(copy.deepcopy(rng.choice(bases)), rng)
        assert_valid(token_record(raw), TOKEN_SCHEMA)


def test_messy_flocks() -> None:
    rng = random.Random(7)
    base = load("flocks_summary.json")["flocks_summary"]["flock:default"]
    responses: list[Any] = [None, {}, {"flocks_summary": None}, {"flocks_summary": []}, "x"]
    for _ in range(CASES // 4):
        summaries = {f"flock:{i}": mutate(copy.deepcopy(base), rng) for i in range(3)}
        summaries["flock:odd"] = rng.choice(VALUES)
        responses.append({"flocks_summary": summaries, "result": "success"})
    for response in responses:
        before = frozen(response)
        records = list(flock_records(response))
        assert response == before
        summaries = response.get("flocks_summary") if isinstance(response, dict) else None
        assert len(records) == (len(summaries) if isinstance(summaries, dict) else 0)
        for record in records:
            assert_valid(record, FLOCK_SCHEMA)
            summary = summaries[record["flock_id"]] if summaries else None
            if isinstance(summary, dict):
                assert_nothing_lost(summary, record, _FLOCK_TABLE, record["extra"])
            elif summary is not None:
                assert record["extra"] == {"summary": summary}
