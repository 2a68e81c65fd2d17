"""Incidents (one flat record each) and their events (one row each)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from tap_thinkst_canary.model._convert import INVALID, to_integer, to_string
from tap_thinkst_canary.model._table import (
    BOOLEAN,
    DATETIME,
    EXTRA_SCHEMA,
    INTEGER,
    STRING,
    Column,
    Table,
    object_schema,
)
from tap_thinkst_canary.model.events import (
    EVENT_PROPERTIES,
    EventsJson,
    event_object,
    events_as_sent,
    fill_event,
)
from tap_thinkst_canary.model.logtypes import lookup

_UPDATED_AT: Final = Column(
    "updated_at",
    DATETIME,
    "When the incident last changed (UTC): acknowledged, updated with new events...",
    ("updated_time", "updated_std", "updated"),
)

# Keys of the incident object itself.
INCIDENT_TABLE: Final = Table(
    (
        Column("id", STRING, "The incident key (primary key).", ("id",)),
        Column(
            "updated_id",
            INTEGER,
            "Change counter: grows every time the incident changes (the replication key).",
            ("updated_id",),
        ),
        Column("hash_id", STRING, "Hash of the incident.", ("hash_id",)),
        Column("summary", STRING, "One-line summary, e.g. 'SSH Login Attempt'.", ("summary",)),
        _UPDATED_AT,
    ),
    handled_elsewhere=("description",),
)

# Keys of the incident's ``description`` object, promoted onto the record; a suppressed
# incident (ignored_incidents) is shaped the same.
DESCRIPTION_TABLE: Final = Table(
    (
        Column("logtype", STRING, "Incident type code, e.g. '4002'.", ("logtype",)),
        Column("description", STRING, "What happened, e.g. 'SSH Login Attempt'.", ("description",)),
        Column(
            "created_at",
            DATETIME,
            "When the incident was created (UTC).",
            ("created", "created_std"),
        ),
        _UPDATED_AT,
        Column(
            "acknowledged",
            BOOLEAN,
            "Whether the incident has been acknowledged.",
            ("acknowledged",),
        ),
        Column("notified", BOOLEAN, "Whether notifications were sent.", ("notified",)),
        Column("events_count", INTEGER, "Number of events in the incident.", ("events_count",)),
        Column("flock_id", STRING, "Flock the incident belongs to.", ("flock_id",)),
        Column("flock_name", STRING, "Name of the flock.", ("flock_name",)),
        Column("node_id", STRING, "The Canary or Canarytoken that alerted.", ("node_id",)),
        Column("node_name", STRING, "Name of the Canary that alerted.", ("name",)),
        Column("src_host", STRING, "Source address of the attacker.", ("src_host",)),
        Column(
            "src_host_reverse",
            STRING,
            "Reverse DNS name of the source address.",
            ("src_host_reverse",),
        ),
        Column("src_port", INTEGER, "Source port of the attacker.", ("src_port",)),
        Column("dst_host", STRING, "Destination address (the Canary).", ("dst_host",)),
        Column("dst_port", INTEGER, "Destination port.", ("dst_port",)),
        Column("ip_address", STRING, "IP address of the Canary.", ("ip_address",)),
        Column("mac_address", STRING, "MAC address of the Canary.", ("mac_address",)),
        Column("ippers", STRING, "Canary personality reported with the incident.", ("ippers",)),
        Column(
            "local_time",
            STRING,
            "The Canary's local time of the incident, as written by the console (no time zone).",
            ("local_time",),
        ),
        Column("memo", STRING, "Memo of the Canarytoken that alerted.", ("memo",)),
    ),
    handled_elsewhere=("events",),
)

# The logtype's name and category, looked up from its code: every record with a logtype has them.
LOGTYPE_PROPERTIES: Final = {
    "logtype_name": {"type": ["string", "null"], "description": "Readable name of the logtype."},
    "logtype_category": {
        "type": ["string", "null"],
        "description": "Service or area the logtype belongs to (SSH, HTTP, Canarytoken...).",
    },
}

INCIDENT_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        **INCIDENT_TABLE.properties(),
        **DESCRIPTION_TABLE.properties(),
        **LOGTYPE_PROPERTIES,
        "events": {
            "type": ["array", "null"],
            "items": {"type": ["object", "null"], "additionalProperties": True},
            "description": "The incident's events as the console sent them, token credentials "
            "redacted; incident_events has them typed, one row each.",
        },
        "extra": EXTRA_SCHEMA,
    }
)

INCIDENT_TEMPLATE: Final = dict.fromkeys(INCIDENT_SCHEMA["properties"])

INCIDENT_EVENT_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        "incident_id": {"type": ["string", "null"], "description": "The incident key."},
        "position": {
            "type": ["integer", "null"],
            "description": "Position of the event in the incident, from 0.",
        },
        "incident_updated_id": {
            "type": ["integer", "null"],
            "description": "The incident's updated_id when this row was written.",
        },
        "flock_id": {"type": ["string", "null"], "description": "Flock of the incident."},
        "node_id": {"type": ["string", "null"], "description": "Canary or token that alerted."},
        "logtype": {"type": ["string", "null"], "description": "The incident's logtype code."},
        **LOGTYPE_PROPERTIES,
        **EVENT_PROPERTIES,
    }
)


def incident_record(raw: Any, *, redact: bool = True) -> dict[str, Any]:
    """A raw incident object (as in ``/incidents/all``) -> one flat typed record.

    Its events stay as the console sent them, secrets redacted: typing them is the work of
    ``incident_event_rows``, done only when the ``incident_events`` stream wants them.
    """
    out = INCIDENT_TEMPLATE.copy()
    if type(raw) is not dict:
        out["events"] = []
        out["extra"] = None if raw is None else {"value": raw}
        return out
    extra = INCIDENT_TABLE.fill(raw, out)
    description = raw.get("description")
    events: list[dict[str, Any]] = []
    if type(description) is dict:
        description_extra = DESCRIPTION_TABLE.fill(description, out)
        raw_events = description.get("events")
        if type(raw_events) is list:
            events = events_as_sent(raw_events, redact)
        elif raw_events is not None:
            description_extra = {**(description_extra or {}), "events": raw_events}
        if description_extra:
            extra = {**(extra or {}), "description": description_extra}
    elif description is not None:
        extra = {**(extra or {}), "description": description}
    out["events"] = events
    out["extra"] = extra
    return with_logtype(out)


def with_logtype(record: dict[str, Any]) -> dict[str, Any]:
    """`record` with the name and category of its logtype."""
    name, category = lookup(record["logtype"])
    record["logtype_name"] = name or None
    record["logtype_category"] = category or None
    return record


def _head(
    incident_id: Any, updated_id: Any, flock_id: Any, node_id: Any, logtype: Any
) -> dict[str, Any]:
    return with_logtype(
        {
            "incident_id": incident_id,
            "position": None,
            "incident_updated_id": updated_id,
            "flock_id": flock_id,
            "node_id": node_id,
            "logtype": logtype,
        }
    )


def _typed(value: Any, convert: Any) -> Any:
    typed = convert(value)
    return None if typed is INVALID else typed


def incident_event_records(raw: Any, *, redact: bool = True) -> Iterator[dict[str, Any]]:
    """A raw incident object -> one row per event, keyed by (incident_id, position).

    Rows are produced one at a time, so an incident with 100,000 events costs no
    more memory than the incident itself.
    """
    if type(raw) is not dict:
        return
    description = raw.get("description")
    if type(description) is not dict:
        return
    raw_events = description.get("events")
    if type(raw_events) is not list:
        return
    head = _head(
        _typed(raw.get("id"), to_string),
        _typed(raw.get("updated_id"), to_integer),
        _typed(description.get("flock_id"), to_string),
        _typed(description.get("node_id"), to_string),
        _typed(description.get("logtype"), to_string),
    )
    for position, event in enumerate(raw_events):
        row = head.copy()
        row["position"] = position
        row.update(event_object(event, redact))
        yield row


def incident_event_rows(record: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Event rows from an already converted incident record, without converting it again.

    The record's events were redacted (or not) when it was made; the rows follow suit.
    """
    events = record.get("events")
    if type(events) is EventsJson:
        events = events.decoded()
    if not events:
        return
    head = _head(
        record.get("id"),
        record.get("updated_id"),
        record.get("flock_id"),
        record.get("node_id"),
        record.get("logtype"),
    )
    for position, event in enumerate(events):
        row = head.copy()
        row["position"] = position
        fill_event(event, row)
        yield row
