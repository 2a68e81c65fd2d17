"""Birds: the Canaries of ``/devices/all``."""

from __future__ import annotations

from typing import Any, Final

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

_BIRD_TABLE: Final = Table(
    (
        Column("id", STRING, "The bird's node id (primary key).", ("id",)),
        Column("name", STRING, "Name of the bird.", ("name",)),
        Column(
            "flock_id",
            STRING,
            "Flock the bird belongs to (from `/flocks/summary`: `/devices/all` does not say).",
            ("flock_id",),
        ),
        Column("description", STRING, "Description of the bird.", ("description",)),
        Column("location", STRING, "Where the bird is.", ("location",)),
        Column("note", STRING, "Note on the bird.", ("note",)),
        Column("live", BOOLEAN, "Whether the bird is connected now.", ("live",)),
        Column(
            "first_seen_at",
            DATETIME,
            "When the bird was first seen (UTC).",
            ("first_seen_std", "first_seen"),
        ),
        Column(
            "last_seen_at",
            DATETIME,
            "When the bird was last seen (UTC).",
            ("last_seen_std", "last_seen"),
        ),
        Column(
            "updated_at",
            DATETIME,
            "When the bird's record last changed (UTC).",
            ("updated_timestamp", "updated_std", "updated"),
        ),
        Column(
            "last_heartbeat_at",
            DATETIME,
            "When the bird last checked in (UTC).",
            ("last_heartbeat",),
        ),
        Column("uptime", INTEGER, "Seconds since the bird last started.", ("uptime",)),
        Column("uptime_age", STRING, "Uptime in words, as the console shows it.", ("uptime_age",)),
        Column("local_time", STRING, "The bird's local time (no time zone).", ("local_time",)),
        Column("ip_address", STRING, "IP address of the bird.", ("ip_address",)),
        Column("netmask", INTEGER, "Netmask length in bits.", ("netmask",)),
        Column("subnet", STRING, "Subnet of the bird.", ("subnet",)),
        Column("mac_address", STRING, "MAC address of the bird.", ("mac_address",)),
        Column("public_ip", STRING, "Public address of a cloud bird.", ("public_ip",)),
        Column("ippers", STRING, "IP stack personality.", ("ippers",)),
        Column("personality", STRING, "The device the bird pretends to be.", ("personality",)),
        Column("sensor", STRING, "Sensor type.", ("sensor",)),
        Column(
            "firmware_version",
            STRING,
            "Software version of the bird (the console's `version`).",
            ("version",),
        ),
        Column(
            "outside_bird", BOOLEAN, "Whether the bird runs outside the network.", ("outside_bird",)
        ),
        Column(
            "ignore_notifications",
            BOOLEAN,
            "Whether all notifications are muted.",
            ("ignore_notifications",),
        ),
        Column(
            "ignore_notifications_disconnects",
            BOOLEAN,
            "Whether disconnect alerts are muted.",
            ("ignore_notifications_disconnects",),
        ),
        Column(
            "ignore_notifications_reconnects",
            BOOLEAN,
            "Whether reconnect alerts are muted.",
            ("ignore_notifications_reconnects",),
        ),
        Column("reconnect_count", INTEGER, "How often the bird reconnected.", ("reconnect_count",)),
        Column("service_count", INTEGER, "Number of services the bird runs.", ("service_count",)),
        Column("instance_id", STRING, "Cloud instance id.", ("instance_id",)),
        Column("region_id", STRING, "Cloud region.", ("region_id",)),
        Column("gcp_project", STRING, "Google Cloud project.", ("gcp_project",)),
        Column("gcp_zone", STRING, "Google Cloud zone.", ("gcp_zone",)),
        Column("migration_status", STRING, "Migration status.", ("migration_status",)),
    )
)

BIRD_SCHEMA: Final[dict[str, Any]] = object_schema(
    {**_BIRD_TABLE.properties(), "extra": EXTRA_SCHEMA}
)

_BIRD_TEMPLATE: Final = dict.fromkeys(BIRD_SCHEMA["properties"])


def bird_record(raw: Any) -> dict[str, Any]:
    """A raw device from ``/devices/all`` -> a typed record."""
    out = _BIRD_TEMPLATE.copy()
    if type(raw) is not dict:
        out["extra"] = None if raw is None else {"value": raw}
        return out
    out["extra"] = _BIRD_TABLE.fill(raw, out)
    return out
