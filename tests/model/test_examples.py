"""The API documentation's example responses, converted: exact values and schema validity."""

from __future__ import annotations

from typing import Any

import pytest

from tap_thinkst_canary.model import (
    AUDIT_ENTRY_SCHEMA,
    BIRD_SCHEMA,
    FLOCK_SCHEMA,
    INCIDENT_EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    REDACTED,
    TOKEN_SCHEMA,
    audit_record,
    bird_record,
    flock_records,
    incident_event_records,
    incident_event_rows,
    incident_record,
    token_record,
)

from .helpers import assert_valid, frozen, load

INCIDENT_PAGES = [
    "incidents_all.json",
    "incidents_acknowledged.json",
    "incidents_unacknowledged.json",
    "incidents_walkthrough.json",
]
DEVICE_PAGES = ["devices_all.json", "devices_live.json", "devices_dead.json", "devices_filter.json"]
TOKEN_PAGES = ["canarytokens_paginate.json", "canarytokens_search.json"]


def _audit_entries() -> list[dict[str, Any]]:
    pages = [load("audit_trail_fetch.json"), *load("audit_trail_walkthrough.json")]
    return [entry for page in pages for entry in page.get("audit_trail", [])]


@pytest.mark.parametrize("page", INCIDENT_PAGES)
def test_every_example_incident_and_event_validates(page: str) -> None:
    incidents = load(page)["incidents"]
    assert incidents
    for raw in incidents:
        before = frozen(raw)
        record = incident_record(raw)
        assert_valid(record, INCIDENT_SCHEMA)
        # The documented examples echo no credentials: their events come through untouched.
        assert record["events"] == raw["description"]["events"]
        assert list(incident_event_rows(record)) == list(incident_event_records(raw))
        rows = list(incident_event_records(raw))
        assert len(rows) == len(raw["description"]["events"])
        for row in rows:
            assert_valid(row, INCIDENT_EVENT_SCHEMA)
        assert raw == before


def test_http_login_incident_is_flat_and_typed() -> None:
    raw = load("incidents_acknowledged.json")["incidents"][0]
    record = incident_record(raw)
    assert record["id"] == "<incident_key>"
    assert record["updated_id"] == 142
    assert record["updated_at"] == "2020-04-08T10:55:09Z"
    assert record["created_at"] == "2020-04-08T09:39:02Z"
    assert record["acknowledged"] is True
    assert record["notified"] is False
    assert record["events_count"] == 1
    assert record["src_port"] == 60961
    assert record["dst_port"] == 80
    assert record["logtype"] == "3001"
    assert record["logtype_name"] == "HTTP Login Attempt"
    assert record["logtype_category"] == "HTTP"
    assert record["description"] == "HTTP Login Attempt"
    assert record["node_name"] == "ExampleBird"
    assert record["src_host_reverse"] == "<source_hostname>"
    assert record["local_time"] == "2020-04-08 09:39:01"
    # The *_std strings and the HTTP date render the same instants: nothing left over.
    assert record["extra"] is None
    # The record keeps the events as sent; the incident_events rows have them typed.
    assert record["events"] == [
        {
            "HOSTNAME": "<hostname>",
            "METHOD": "POST",
            "PASSWORD": "<password>",
            "PATH": "/index.html",
            "RESPONSE": 200,
            "SKIN": "nasLogin",
            "USERAGENT": "<user_agent>",
            "USERNAME": "<username>",
            "timestamp": 1586338742,
            "timestamp_std": "2020-04-08 09:39:02 UTC+0000",
        }
    ]
    (row,) = incident_event_rows(record)
    assert row == {
        "incident_id": "<incident_key>",
        "position": 0,
        "incident_updated_id": 142,
        "flock_id": record["flock_id"],
        "node_id": record["node_id"],
        "logtype": "3001",
        "logtype_name": "HTTP Login Attempt",
        "logtype_category": "HTTP",
        "hostname": "<hostname>",
        "http_method": "POST",
        "password": "<password>",
        "http_path": "/index.html",
        "http_response_code": 200,
        "skin": "nasLogin",
        "user_agent": "<user_agent>",
        "username": "<username>",
        "timestamp": "2020-04-08T09:39:02Z",
    }


def test_canarytoken_incident_events_become_rows() -> None:
    raw = load("incidents_all.json")["incidents"][0]
    (row,) = incident_event_records(raw)
    assert row == {
        "incident_id": "<incident_key>",
        "position": 0,
        "incident_updated_id": 10,
        "flock_id": None,
        "node_id": "<node_id>",
        "logtype": "17012",
        "logtype_name": "Canarytoken: AWS ID",
        "logtype_category": "Canarytoken",
        "canarytoken": "<token_code>",
        "dst_port": 80,
        "event_name": "",
        "headers": {
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "close",
            "User-Agent": "",
        },
        "src_host": "",
        "timestamp": "2020-04-07T08:53:43Z",
        "token_type": "aws-id",
    }


def test_walkthrough_placeholder_port_is_kept_raw() -> None:
    # The docs show src_port as '<source_port>': not a number, so it is kept in extra.
    raw = load("incidents_walkthrough.json")["incidents"][0]
    record = incident_record(raw)
    assert record["src_port"] is None
    assert record["extra"] == {"description": {"src_port": "<source_port>"}}
    assert record["logtype_name"] == "SSH Login Attempt"
    assert record["events"][0]["LOCALVERSION"] == "SSH-2.0-OpenSSH_5.1p1 Debian-4"
    row = next(incident_event_rows(record))
    assert row["local_version"] == "SSH-2.0-OpenSSH_5.1p1 Debian-4"
    assert row["remote_version"] == "SSH-2.0-OpenSSH_7.9"


@pytest.mark.parametrize("entry", _audit_entries(), ids=lambda e: str(e["id"]))
def test_audit_examples(entry: dict[str, Any]) -> None:
    record = audit_record(entry)
    assert_valid(record, AUDIT_ENTRY_SCHEMA)
    assert record["id"] == entry["id"]
    assert record["extra"] is None


def test_audit_entry_values() -> None:
    entry = load("audit_trail_fetch.json")["audit_trail"][3]
    assert audit_record(entry) == {
        "id": 70,
        "timestamp": "2020-04-02T13:14:49Z",
        "action_type": "device_schedule_reboot",
        "message": "User 'API Token' scheduled the device <device_id> to be rebooted",
        "user": "<user_email>",
        "user_ip": "<user_ip>",
        "user_browser_agent": "<browser_agent_string>",
        "user_browser_language": "",
        "flock_id": "flock:default",
        "additional_information": None,
        "extra": None,
    }


@pytest.mark.parametrize("page", DEVICE_PAGES)
def test_bird_examples_validate(page: str) -> None:
    for raw in load(page)["devices"]:
        record = bird_record(raw)
        assert_valid(record, BIRD_SCHEMA)


def test_bird_values() -> None:
    record = bird_record(load("devices_all.json")["devices"][0])
    assert record["live"] is True
    assert record["uptime"] == 1029740
    assert record["netmask"] == 24
    assert record["first_seen_at"] == "2020-04-14T22:11:18Z"
    assert record["last_seen_at"] == "2020-04-26T20:34:02Z"
    assert record["updated_at"] == "2020-04-26T20:34:02Z"
    assert record["ignore_notifications"] is False
    assert record["extra"] is None


def test_bird_from_filter_endpoint_keeps_its_other_fields() -> None:
    raw = load("devices_filter.json")["devices"][0]
    record = bird_record(raw)
    assert record["live"] is False
    assert record["uptime"] == 1030430
    assert record["flock_id"] == "flock:default"
    assert record["first_seen_at"] == "2020-04-14T22:11:18Z"
    assert record["last_heartbeat_at"] == "2020-04-26T20:45:32Z"
    assert record["reconnect_count"] == 0
    assert record["extra"] is not None
    assert record["extra"]["device_live"] == "True"
    assert record["extra"]["autoreg_time"] == "1586902237.728621"


@pytest.mark.parametrize("page", TOKEN_PAGES)
@pytest.mark.parametrize("redact", [True, False])
def test_token_examples_validate(page: str, redact: bool) -> None:
    for raw in load(page)["canarytokens"]:
        before = frozen(raw)
        assert_valid(token_record(raw, redact=redact), TOKEN_SCHEMA)
        assert raw == before


def test_aws_token_values() -> None:
    raw = load("canarytokens_paginate.json")["canarytokens"][0]
    record = token_record(raw)
    assert record["created_at"] == "2020-04-07T08:51:50.069870Z"
    assert record["enabled"] is True
    assert record["updated_id"] == 17
    assert record["triggered_count"] == 0
    assert record["secret_access_key"] == REDACTED
    assert record["factory_auth"] == REDACTED
    assert record["access_key_id"] == "<aws_access_key_id>"
    assert record["renders"] == {
        "aws-id": "\n    [default]\n    aws_access_key_id = <aws_access_key_id>\n"
        f"    aws_secret_access_key = {REDACTED}"
    }
    assert record["extra"] is None


def test_flock_summary_example() -> None:
    response = load("flocks_summary.json")
    (record,) = flock_records(response)
    assert_valid(record, FLOCK_SCHEMA)
    assert record["flock_id"] == "flock:default"
    assert record["name"] == "Default Flock"
    assert record["note"] is None
    assert record["online_devices"] == 1
    assert record["offline_devices"] == 0
    assert record["total_tokens"] == 10
    assert record["enabled_tokens"] == 7
    assert record["disabled_tokens"] == 3
    assert record["incident_count"] == 0
    assert record["devices"] == ["<node_id>", "<canarytoken>", "<canarytoken>"]
    assert record["email_notifications"] == "Global"
    assert record["webhook_notifications"] == "Global"
    assert record["console_email_notifications"] is True
    assert record["console_sms_notifications"] is False
    assert record["settings"] == response["flocks_summary"]["flock:default"]["settings"]
    assert record["extra"] is None
