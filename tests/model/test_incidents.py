"""Incidents and their events: flattening, normalisation, and input the schema does not expect."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from tap_thinkst_canary.model import (
    INCIDENT_EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    REDACTED,
    incident_event_records,
    incident_event_rows,
    incident_record,
)
from tap_thinkst_canary.model.events import EVENT_PROPERTIES, EVENT_TABLE, event_object

from .helpers import assert_valid, frozen


def incident(events: Any = None, **description: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "acknowledged": "False",
        "created": "1587155370",
        "created_std": "2020-04-17 20:29:30 UTC+0000",
        "description": "SSH Login Attempt",
        "dst_host": "10.0.0.5",
        "dst_port": "22",
        "events_count": "1",
        "flock_id": "flock:default",
        "flock_name": "Default Flock",
        "logtype": "4002",
        "name": "ExampleBird",
        "node_id": "0000000000abcdef",
        "notified": "False",
        "src_host": "10.0.0.9",
        "src_port": "51515",
    }
    body.update(description)
    if events is not None:
        body["events"] = events
    return {
        "description": body,
        "hash_id": "h1",
        "id": "incident:sshlogin:abc",
        "summary": "SSH Login Attempt",
        "updated": "Fri, 17 Apr 2020 20:29:30 GMT",
        "updated_id": 147,
        "updated_std": "2020-04-17 20:29:30 UTC+0000",
        "updated_time": "1587155370",
    }


def check(raw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Convert both ways, validate everything, and prove the input is untouched."""
    before = frozen(raw)
    record = incident_record(raw)
    rows = list(incident_event_records(raw))
    assert_valid(record, INCIDENT_SCHEMA)
    for row in rows:
        assert_valid(row, INCIDENT_EVENT_SCHEMA)
    # The rows the stream makes from the record are the rows made from the raw incident.
    assert list(incident_event_rows(record)) == rows
    assert raw == before
    return record, rows


def test_flock_and_names_are_promoted() -> None:
    record, rows = check(incident([{"USERNAME": "root", "timestamp": 1587155370}]))
    assert record["flock_id"] == "flock:default"
    assert record["flock_name"] == "Default Flock"
    assert rows[0]["flock_id"] == "flock:default"
    assert rows[0]["node_id"] == "0000000000abcdef"
    assert rows[0]["incident_updated_id"] == 147
    assert rows[0]["logtype_name"] == "SSH Login Attempt"


def test_spellings_of_one_attribute_share_a_column() -> None:
    events = [
        {"USERNAME": "a"},
        {"username": "b"},
        {"user": "c"},
        {"USER": "d"},
        {"User": "e"},
        {"cmd_user_name": "f"},
        {"ms_macro_username": "g"},
        {"windows_desktopini_access_username": "h"},
        {"Username": "i"},
    ]
    _, rows = check(incident(events))
    assert [row["username"] for row in rows] == list("abcdefghi")
    assert all("extra" not in row for row in rows)


def test_same_value_under_two_spellings_is_kept_once() -> None:
    _, rows = check(incident([{"USERNAME": "root", "username": "root"}]))
    assert rows[0]["username"] == "root"
    assert "extra" not in rows[0]


def test_conflicting_spellings_keep_both_values() -> None:
    _, rows = check(incident([{"USERNAME": "root", "user": "admin"}]))
    assert rows[0]["username"] == "root"
    assert rows[0]["extra"] == {"user": "admin"}


def test_event_time_prefers_the_precise_rendering() -> None:
    events = [
        {"timestamp_std": "2020-04-17 20:29:30 UTC+0000", "timestamp": "1587155370.25"},
        {"timestamp": 1587155370, "timestamp_std": "2020-04-17 22:29:30 SAST+0200"},
        {"timestamp": 1587155370, "timestamp_std": "2021-01-01 00:00:00 UTC+0000"},
    ]
    _, rows = check(incident(events))
    assert rows[0]["timestamp"] == "2020-04-17T20:29:30.250000Z"
    assert "extra" not in rows[0]
    assert rows[1]["timestamp"] == "2020-04-17T20:29:30Z"
    assert "extra" not in rows[1]
    # Disagreeing renderings: the first stays typed, the other is kept raw.
    assert rows[2]["timestamp"] == "2020-04-17T20:29:30Z"
    assert rows[2]["extra"] == {"timestamp_std": "2021-01-01 00:00:00 UTC+0000"}


def test_typed_event_attributes() -> None:
    events = [
        {"PATH": "/login", "RESPONSE": "302", "USERAGENT": "curl/8", "METHOD": "POST"},
        {"ports": "23,80,443"},
        {"ID": "54321", "LEN": "60", "TTL": "64", "WINDOW": "1024", "SYN": "", "PROTO": "TCP"},
        {"WATCHED_CREDENTIALS": "Yes", "KEY": "ssh-ed25519 AAAA"},
        {"FUNC_CODE": 17, "UNIT_ID": "1", "FUNC_NAME": "Report Slave ID"},
        {"Rollback time": "1746085804.66", "Canary Status": "Canary is currently ONLINE."},
        {"src_port": "4444", "dst_port": 80},
    ]
    _, rows = check(incident(events, logtype="3001"))
    assert rows[0]["http_path"] == "/login"
    assert rows[0]["http_response_code"] == 302
    assert rows[0]["user_agent"] == "curl/8"
    assert rows[0]["http_method"] == "POST"
    assert rows[1]["ports"] == [23, 80, 443]
    assert rows[2]["ip_id"] == 54321
    assert rows[2]["ip_ttl"] == 64
    assert rows[2]["tcp_window"] == 1024
    assert rows[2]["tcp_syn"] is True
    assert "tcp_ack" not in rows[2]
    assert rows[3]["watched_credentials"] is True
    assert rows[3]["public_key"] == "ssh-ed25519 AAAA"
    assert rows[4]["modbus_function_code"] == 17
    assert rows[4]["modbus_unit_id"] == 1
    assert rows[5]["rollback_at"] == "2025-05-01T07:50:04.660000Z"
    assert rows[5]["canary_status"] == "Canary is currently ONLINE."
    assert rows[6]["src_port"] == 4444
    assert rows[6]["dst_port"] == 80


def test_consolidated_port_scan_keeps_its_port_map() -> None:
    event = {"22": ["10.0.0.1", "10.0.0.2"], "445": ["10.0.0.3"], "timestamp": 1587155370}
    record, rows = check(incident([event], logtype="5007"))
    assert rows[0]["ports_scanned"] == {"22": ["10.0.0.1", "10.0.0.2"], "445": ["10.0.0.3"]}
    assert "extra" not in rows[0]
    assert record["logtype_category"] == "Port Scan"


def test_undocumented_fields_are_kept_in_extra() -> None:
    raw = incident([{"USERNAME": "root", "NEWFIELD": {"x": [1, 2]}}], new_desc_field="v")
    raw["brand_new"] = [1, "two"]
    record, rows = check(raw)
    assert record["extra"] == {"brand_new": [1, "two"], "description": {"new_desc_field": "v"}}
    assert rows[0]["extra"] == {"NEWFIELD": {"x": [1, 2]}}
    assert record["events"] == [{"USERNAME": "root", "NEWFIELD": {"x": [1, 2]}}]


def test_values_of_the_wrong_type_are_kept_raw() -> None:
    raw = incident(
        [{"RESPONSE": "OK", "timestamp": "soon", "ports": "80,http"}],
        src_port="n/a",
        acknowledged="sometimes",
        created="2020-04-17",
        events_count=None,
    )
    raw["updated_id"] = "not-a-number"
    record, rows = check(raw)
    assert record["src_port"] is None
    assert record["acknowledged"] is None
    assert record["updated_id"] is None
    assert record["events_count"] is None
    # created is unreadable but created_std still gives the instant.
    assert record["created_at"] == "2020-04-17T20:29:30Z"
    assert record["extra"] == {
        "updated_id": "not-a-number",
        "description": {"src_port": "n/a", "acknowledged": "sometimes", "created": "2020-04-17"},
    }
    assert rows[0]["extra"] == {"RESPONSE": "OK", "timestamp": "soon", "ports": "80,http"}
    assert rows[0]["incident_updated_id"] is None


def test_unicode_and_nulls() -> None:
    events = [
        {"USERNAME": "ädmin😀", "PASSWORD": "密码", "PATH": None},
        {"USERNAME": None, "PASSWORD": "", "USERAGENT": "\u0000\ufffd"},
    ]
    record, rows = check(incident(events, name="Vögel 🐦", memo=None))
    assert record["node_name"] == "Vögel 🐦"
    assert rows[0]["username"] == "ädmin😀"
    assert rows[0]["password"] == "密码"
    assert "http_path" not in rows[0]
    assert "username" not in rows[1]
    assert rows[1]["password"] == ""
    assert rows[1]["user_agent"] == "\u0000\ufffd"


@pytest.mark.parametrize("events", [[], None, "MISSING"])
def test_incidents_without_events(events: Any) -> None:
    raw = incident([] if events == "MISSING" else events)
    if events == "MISSING":
        del raw["description"]["events"]
    elif events is None:
        raw["description"]["events"] = None
    record, rows = check(raw)
    assert record["events"] == []
    assert rows == []
    assert record["extra"] is None


def test_events_that_are_not_a_list_or_not_objects() -> None:
    record, rows = check(incident({"USERNAME": "root"}))
    assert record["events"] == []
    assert rows == []
    assert record["extra"] == {"description": {"events": {"USERNAME": "root"}}}

    record, rows = check(incident(["just text", None, 7, {"USERNAME": "x"}]))
    # Every item of the record's events is an object or null; the rest are wrapped.
    assert record["events"] == [{"value": "just text"}, None, {"value": 7}, {"USERNAME": "x"}]
    assert [row["position"] for row in rows] == [0, 1, 2, 3]
    assert rows[0]["extra"] == {"value": "just text"}
    assert "extra" not in rows[1]
    assert rows[2]["extra"] == {"value": 7}
    assert rows[3]["username"] == "x"


@pytest.mark.parametrize("raw", [None, "text", 12, [], {}, {"description": None}])
def test_incidents_that_are_not_incidents(raw: Any) -> None:
    record, rows = check(raw)
    assert rows == []
    assert record["events"] == []


def test_description_that_is_not_an_object_is_kept() -> None:
    raw = {"id": "x", "updated_id": 3, "description": "flat text"}
    record, _ = check(raw)
    assert record["id"] == "x"
    assert record["extra"] == {"description": "flat text"}


def test_event_rows_from_the_record_match_rows_from_the_raw_incident() -> None:
    events = [{"USERNAME": f"u{i}", "timestamp": 1587155370 + i} for i in range(5)]
    raw = incident(events)
    record = incident_record(raw)
    assert list(incident_event_rows(record)) == list(incident_event_records(raw))


def test_the_record_keeps_events_as_sent_and_the_rows_type_them() -> None:
    sent = [{"USERNAME": "a", "X": 1, "timestamp": "1587155370"}, {"ports": "1,2"}]
    raw = incident(sent)
    record, rows = check(raw)
    assert record["events"] == [
        {"USERNAME": "a", "X": 1, "timestamp": "1587155370"},
        {"ports": "1,2"},
    ]
    # Events without secrets are passed on, not copied.
    assert all(kept is event for kept, event in zip(record["events"], sent, strict=True))
    head = {
        "incident_id",
        "position",
        "incident_updated_id",
        "flock_id",
        "node_id",
        "logtype",
        "logtype_name",
        "logtype_category",
    }
    assert [{k: v for k, v in row.items() if k not in head} for row in rows] == [
        {"username": "a", "extra": {"X": 1}, "timestamp": "2020-04-17T20:29:30Z"},
        {"ports": [1, 2]},
    ]
    assert [{k: v for k, v in row.items() if k not in head} for row in rows] == [
        event_object(event) for event in sent
    ]


def test_making_an_incident_record_types_no_event(monkeypatch: pytest.MonkeyPatch) -> None:
    def typed(*args: Any) -> None:
        raise AssertionError("an event was typed")

    events = [{"USERNAME": "root", "timestamp": 1587155370}, {"secret_access_key": "s3cr3t"}]
    monkeypatch.setattr(EVENT_TABLE, "fill", typed)
    record = incident_record(incident(events))
    assert record["events"] == [events[0], {"secret_access_key": REDACTED}]
    with pytest.raises(AssertionError, match="an event was typed"):
        next(incident_event_rows(record))


def test_token_secrets_echoed_in_events_are_redacted() -> None:
    event = {"canarytoken": "tok", "secret_access_key": "AKIASECRET", "access_key_id": "AKIA1"}
    raw = incident([event], logtype="17012")
    record, rows = check(raw)
    assert rows[0]["secret_access_key"] == REDACTED
    assert rows[0]["access_key_id"] == "AKIA1"
    assert "AKIASECRET" not in json.dumps(record)
    # The record's events are as sent but for the secret.
    assert record["events"] == [{**event, "secret_access_key": REDACTED}]
    assert event["secret_access_key"] == "AKIASECRET"
    (row,) = incident_event_records(raw, redact=False)
    assert row["secret_access_key"] == "AKIASECRET"
    clear = incident_record(raw, redact=False)
    assert clear["events"] == [event]
    assert list(incident_event_rows(clear)) == [row]

    raw = incident([{"factory_auth": "f4c70ry", "wg_private_key": ""}], logtype="17022")
    record, (row,) = check(raw)
    assert row["extra"] == {"factory_auth": REDACTED, "wg_private_key": ""}
    assert record["events"] == [{"factory_auth": REDACTED, "wg_private_key": ""}]


def test_token_secrets_are_redacted_in_any_capitalisation() -> None:
    event = {"SECRET_ACCESS_KEY": "AKIASECRET", "Factory_Auth": "f4c70ry", "kind": "aws-id"}
    record, (row,) = check(incident([event], logtype="17012"))
    redacted = {"SECRET_ACCESS_KEY": REDACTED, "Factory_Auth": REDACTED, "kind": "aws-id"}
    assert record["events"] == [redacted]
    assert row["secret_access_key"] == REDACTED
    assert row["extra"] == {"Factory_Auth": REDACTED}
    assert "AKIASECRET" not in json.dumps(row)


def test_attacker_passwords_are_not_redacted() -> None:
    _, rows = check(incident([{"USERNAME": "root", "PASSWORD": "hunter2"}]))
    assert rows[0]["password"] == "hunter2"


def test_unknown_logtype_has_no_name() -> None:
    record, rows = check(incident([{}], logtype="99999"))
    assert record["logtype"] == "99999"
    assert record["logtype_name"] is None
    assert rows[0]["logtype_category"] is None


def test_one_incident_with_100000_events() -> None:
    events = [
        {
            "USERNAME": f"user{i}",
            "PASSWORD": f"pässwörd{i}",
            "timestamp": 1587155370 + i,
            "timestamp_std": "ignored when it disagrees" if i % 10_000 == 0 else None,
        }
        for i in range(100_000)
    ]
    raw = incident(events, events_count="100000")

    record = incident_record(raw)
    assert record["events_count"] == 100_000
    assert record["events"] == events
    assert_valid({**record, "events": record["events"][:50]}, INCIDENT_SCHEMA)
    typed = list(incident_event_rows(record))
    assert len(typed) == 100_000
    assert typed[99_999]["username"] == "user99999"
    assert typed[99_999]["password"] == "pässwörd99999"
    assert typed[0]["extra"] == {"timestamp_std": "ignored when it disagrees"}
    del record, typed

    rows = incident_event_records(raw)
    assert next(rows)["position"] == 0
    count = 1 + sum(1 for _ in rows)
    assert count == 100_000


def test_event_rows_are_produced_one_at_a_time() -> None:
    # Holding 10,000 rows at once would take megabytes; streaming them takes a few kB.
    events = [{"USERNAME": f"user{i}", "timestamp": 1587155370 + i} for i in range(10_000)]
    raw = incident(events)
    tracemalloc.start()
    last: dict[str, Any] = {}
    for row in incident_event_records(raw):
        last = row
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert last["position"] == 9_999
    assert last["timestamp"] == "2020-04-17T23:16:09Z"
    assert peak < 200_000, f"event rows held {peak} bytes at once"


def test_event_columns_never_shadow_the_incident_columns_of_a_row() -> None:
    event_columns = set(EVENT_PROPERTIES)
    head = set(INCIDENT_EVENT_SCHEMA["properties"]) - event_columns
    assert head == {
        "incident_id",
        "position",
        "incident_updated_id",
        "flock_id",
        "node_id",
        "logtype",
        "logtype_name",
        "logtype_category",
    }
    # An event that carries keys named like the row's own columns keeps them in extra.
    raw = incident([{"incident_id": "spoof", "position": 99, "logtype": "1"}])
    _, rows = check(raw)
    assert rows[0]["incident_id"] == "incident:sshlogin:abc"
    assert rows[0]["position"] == 0
    assert rows[0]["logtype"] == "4002"
    assert rows[0]["extra"] == {"incident_id": "spoof", "position": 99, "logtype": "1"}
