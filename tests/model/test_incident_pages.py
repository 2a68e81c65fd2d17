"""Pages of incidents typed from their bytes give the records `incident_record` gives."""

from __future__ import annotations

import copy
import datetime
import io
import json
import sys
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from canary_simulator import Console
from tap_thinkst_canary.model import (
    TypedIncidents,
    incident_event_records,
    incident_event_rows,
    incident_record,
    typed_page,
)
from tap_thinkst_canary.model.events import EventsJson
from tap_thinkst_canary.writer import FastSingerWriter
from tests.model.helpers import load


def _as_general(record: dict[str, Any]) -> dict[str, Any]:
    """`record` with its events as objects, as `incident_record` has them."""
    events = record["events"]
    return {**record, "events": events.decoded() if type(events) is EventsJson else events}


def _page(incidents: list[Any]) -> bytes:
    # The standard encoder, for the integers beyond 64 bits orjson does not write.
    return json.dumps({"incidents": incidents}).encode()


def _typed(
    incidents: list[Any], *, redact: bool = True, check_events: bool = True
) -> TypedIncidents:
    page = typed_page(_page(incidents), redact=redact, check_events=check_events)
    assert page is not None
    records = page["incidents"]
    assert type(records) is TypedIncidents
    return records


def _assert_same_as_general(
    incidents: list[Any], *, redact: bool = True, check_events: bool = True
) -> TypedIncidents:
    """The records of a page of `incidents` typed here, once checked to be the records of the
    general way (the page read by orjson, each incident typed by `incident_record`), to write
    the same lines and to have the same event rows."""
    general = [
        incident_record(raw, redact=redact) for raw in orjson.loads(_page(incidents))["incidents"]
    ]
    # Rows first, as the tap makes them: they are what checks events the reader did not.
    records = _typed(incidents, redact=redact, check_events=check_events)
    assert [list(incident_event_rows(record)) for record in records] == [
        list(incident_event_rows(record)) for record in general
    ]
    assert [_as_general(record) for record in records] == general
    assert list(map(orjson.loads, map(_written, records))) == [
        orjson.loads(_written(record)) for record in general
    ]
    # Unchecked events that no row has looked at are checked as they are written.
    unread = _typed(incidents, redact=redact, check_events=check_events)
    assert list(map(_written, unread)) == list(map(_written, records))
    return records


def _kept_as_json(record: dict[str, Any]) -> bool:
    return type(record["events"]) is EventsJson


CHECKED_OR_NOT = pytest.mark.parametrize(
    "check_events", [True, False], ids=["events checked", "events left to their rows"]
)


@CHECKED_OR_NOT
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_pages_give_the_general_records(seed: int, check_events: bool) -> None:
    console = Console(seed=seed, incidents=1500, tokens=1, birds=1)
    incidents = orjson.loads(orjson.dumps(list(console.iter_incidents())))
    records = _assert_same_as_general(incidents, check_events=check_events)
    # The simulator sends undocumented keys now and then (kept in extra, the general way);
    # the other incidents are typed from their bytes, events kept as sent.
    fast = sum(map(_kept_as_json, records))
    assert len(records) * 0.6 < fast < len(records)


@pytest.mark.parametrize(
    "fixture",
    [
        "incidents_all.json",
        "incidents_acknowledged.json",
        "incidents_unacknowledged.json",
        "incidents_walkthrough.json",
    ],
)
@CHECKED_OR_NOT
def test_the_documented_examples_give_the_general_records(fixture: str, check_events: bool) -> None:
    _assert_same_as_general(load(fixture)["incidents"], check_events=check_events)


_INCIDENT: dict[str, Any] = {
    "description": {
        "acknowledged": "False",
        "created": "1586249510",
        "created_std": "2020-04-07 08:51:50 UTC+0000",
        "description": "SSH Login Attempt",
        "dst_host": "10.0.0.5",
        "dst_port": "22",
        "events": [
            {"PASSWORD": "hunter2", "USERNAME": "root", "timestamp": 1586249510},
            {"LOCALVERSION": "SSH-2.0-OpenSSH", "timestamp": 1586249511},
        ],
        "events_count": "2",
        "logtype": "4002",
        "name": "ssh-bird",
        "node_id": "0000000abc",
        "notified": "True",
        "src_host": "10.0.0.9",
        "src_port": "51234",
    },
    "hash_id": "abc",
    "id": "incident:sshlogin:1",
    "summary": "SSH Login Attempt",
    "updated": "Tue, 07 Apr 2020 08:51:52 GMT",
    "updated_id": 7,
    "updated_std": "2020-04-07 08:51:52 UTC+0000",
    "updated_time": "1586249512",
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """`_INCIDENT` with the key at `path` ('description.events') set to `value`, or removed
    when `value` is the Ellipsis."""
    incident = copy.deepcopy(_INCIDENT)
    *parents, key = path.split(".")
    target = incident
    for parent in parents:
        target = target[parent]
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return incident


def test_an_ordinary_incident_keeps_its_events_as_sent() -> None:
    (record,) = _assert_same_as_general([_INCIDENT])
    assert _kept_as_json(record)
    assert record["events"].json == json.dumps(_INCIDENT["description"]["events"]).encode()
    assert record["updated_at"] == "2020-04-07T08:51:52Z"
    assert record["src_port"] == 51234
    assert record["logtype_name"] == "SSH Login Attempt"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("memo", "a key without a column"),
        ("description.matched_annotations", {"scanner": "Shodan"}),
        ("description.src_port", "n/a"),
        ("description.src_port", 2**70),
        ("description.src_port", 2**63 + 1),
        ("id", 2**64 - 1),
        ("id", 12345678901234567890123),
        ("summary", {"nested": "object"}),
        ("summary", ["a", "list"]),
        ("description.created_std", "2020-04-07 08:51:59 UTC+0000"),
        ("updated", "Tue, 07 Apr 2020 08:51:53 GMT"),
        ("updated_time", "1586249512.5"),
        ("description.events", [{"timestamp": 1}, "not an object"]),
        ("description.events", [None]),
        ("description.events", {"not": "a list"}),
        ("description.events", [{"aws_secret_access_key": "s3cr3t"}]),
        ("description.events", [{"Private_Key": "s3cr3t"}]),
        ("description.events", [{"FACTORY_AUTH": None}]),
        ("description", "not an object"),
        ("description", None),
        ("description", ...),
        ("description.events", None),
        ("description.events", ...),
        ("description.events", []),
        ("description.acknowledged", None),
        ("description.src_port", ""),
    ],
)
@CHECKED_OR_NOT
def test_unusual_incidents_give_the_general_records(
    path: str, value: Any, check_events: bool
) -> None:
    _assert_same_as_general([_INCIDENT, _with(path, value), _INCIDENT], check_events=check_events)


def test_an_unusual_incident_leaves_the_others_of_its_page_alone() -> None:
    records = _assert_same_as_general([_INCIDENT, _with("memo", "x"), _INCIDENT])
    assert list(map(_kept_as_json, records)) == [True, False, True]


def test_renderings_that_agree_give_one_value_whatever_their_order() -> None:
    fraction = _with("updated_time", "1586249512.25")
    fraction["updated_std"] = "2020-04-07 08:51:52 UTC+0000"
    (record,) = _assert_same_as_general([fraction])
    assert record["updated_at"] == "2020-04-07T08:51:52.250000Z"
    assert record["extra"] is None
    reordered = dict(reversed(list(fraction.items())))
    assert incident_record(reordered)["updated_at"] == record["updated_at"]


def test_two_fractions_of_one_second_are_two_instants() -> None:
    raw = _with("updated_time", "1586249512.25")
    raw["description"]["updated_time"] = 1586249512.5
    record = incident_record(raw)
    assert record["updated_at"] == "2020-04-07T08:51:52.250000Z"
    assert record["extra"] == {"description": {"updated_time": 1586249512.5}}
    _assert_same_as_general([raw])


def _only_record(body: bytes) -> dict[str, Any]:
    """The record of a page of one incident, typed here."""
    page = typed_page(body)
    assert page is not None
    (record,) = page["incidents"]
    return record


def _edited(old: bytes, new: bytes) -> bytes:
    """A page of `_INCIDENT` as orjson writes it, with `old` written `new`."""
    body = orjson.dumps({"incidents": [_INCIDENT]})
    assert old in body
    return body.replace(old, new)


def test_duplicate_keys_keep_the_last_value_either_way() -> None:
    body = _edited(b'"summary":"SSH Login Attempt"', b'"summary":"first","summary":"last"')
    record = _only_record(body)
    assert record["summary"] == "last"
    assert _as_general(record) == incident_record(orjson.loads(body)["incidents"][0])


@pytest.mark.parametrize("redact", [True, False])
@pytest.mark.parametrize(
    "events",
    [
        [{"aws_secret_access_key": "s3cr3t", "timestamp": 1}],
        [{"timestamp": 1}, {"SECRET_ACCESS_KEY": "s3cr3t"}],
        [{"Wg_Private_Key": None}],
        [{"timestamp": 1}, 7, None, "text", [1]],
    ],
)
def test_events_left_to_their_rows_are_checked_by_them(events: list[Any], redact: bool) -> None:
    (record,) = _assert_same_as_general(
        [_with("description.events", events)], redact=redact, check_events=False
    )
    assert _kept_as_json(record)
    written = orjson.loads(_written(record))["record"]["events"]
    assert written == incident_record(_with("description.events", events), redact=redact)["events"]
    sent_a_secret = b"s3cr3t" in orjson.dumps(events)
    assert (b"s3cr3t" in _written(record)) == (sent_a_secret and not redact)


def test_without_redaction_credentials_stay_in_the_events_kept_as_sent() -> None:
    raw = _with("description.events", [{"aws_secret_access_key": "s3cr3t", "timestamp": 1}])
    (record,) = _assert_same_as_general([raw], redact=False)
    assert _kept_as_json(record)
    (redacted,) = _assert_same_as_general([raw])
    assert redacted["events"] == [{"aws_secret_access_key": "[REDACTED]", "timestamp": 1}]


@pytest.mark.parametrize(
    "body",
    [
        b'{"incidents": [{"id": "\\ud800"}]}',
        b'{"incidents": [{"id": "\xff"}]}',
        b'{"incidents": [{"id": "x"}]',
        b'{"cursor": {"next": null}}',
        b'{"incidents": null}',
        b"[]",
        b"",
    ],
)
def test_pages_that_are_not_valid_json_or_not_pages_are_left_to_the_general_way(
    body: bytes,
) -> None:
    assert typed_page(bytearray(body)) is None


def test_what_a_page_says_besides_its_incidents_is_kept() -> None:
    body = orjson.dumps(
        {"incidents": [], "cursor": {"next": "abc"}, "page_count": 3, "feed": "ignored"}
    )
    page = typed_page(bytearray(body))
    assert page is not None
    assert page["cursor"] == {"next": "abc"}
    assert page["page_count"] == 3
    assert page["incidents"] == []
    refusal = orjson.dumps({"incidents": [], "result": "error", "msg": "Flock not found"})
    page = typed_page(bytearray(refusal))
    assert page is not None
    assert (page["result"], page["msg"]) == ("error", "Flock not found")


def test_numbers_in_events_kept_as_sent_are_written_as_sent() -> None:
    body = _edited(
        b'"timestamp":1586249511}', b'"timestamp":1586249511,"n":123456789012345678901234}'
    )
    line = _written(_only_record(body))
    assert b'"n":123456789012345678901234}' in line


def _written(record: dict[str, Any]) -> bytes:
    """The line the tap's writer writes for `record`."""
    writer = FastSingerWriter()
    out = io.BytesIO()
    stdout = sys.stdout
    sys.stdout = SimpleNamespace(buffer=out)  # type: ignore[assignment]
    try:
        writer.record_writer("incidents", datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))(
            record
        )
        writer.write_out()
    finally:
        sys.stdout = stdout
    return out.getvalue()


def test_events_kept_as_sent_are_written_byte_for_byte() -> None:
    (record,) = _typed([_INCIDENT])
    line = orjson.loads(_written(record))
    assert line["record"]["events"] == _INCIDENT["description"]["events"]
    # As the console wrote them, its spaces included.
    events = json.dumps(_INCIDENT["description"]["events"]).encode()
    assert b", " in events
    assert b'"events":' + events + b"," in _written(record)


def test_event_rows_of_a_record_with_events_kept_as_sent() -> None:
    (record,) = _typed([_INCIDENT])
    assert _kept_as_json(record)
    rows = list(incident_event_rows(record))
    assert rows == list(incident_event_records(copy.deepcopy(_INCIDENT)))
    assert [row.get("username") for row in rows] == ["root", None]
