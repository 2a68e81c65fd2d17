"""Bird registrations: birds waiting to be commissioned, from ``/devices/commission/pending``
(the console's queue) or ``/flock/commission/pending`` (a flock's)."""

from __future__ import annotations

from typing import Any, Final

from tap_thinkst_canary.model._table import (
    BOOLEAN,
    DATETIME,
    EXTRA_SCHEMA,
    STRING,
    Column,
    Table,
    object_schema,
)

_REGISTRATION_TABLE: Final = Table(
    (
        Column("node_id", STRING, "The bird's node id (primary key).", ("device_id", "id")),
        Column("name", STRING, "Name of the bird.", ("name",)),
        Column("description", STRING, "Description of the bird.", ("description",)),
        Column(
            "flock_id",
            STRING,
            "Flock whose queue the bird waits in (only when the sync is restricted to a flock: "
            "the console's queue does not say).",
            ("flock_id",),
        ),
        Column(
            "pending_since",
            DATETIME,
            "When the bird asked to be registered (UTC).",
            ("pending_since", "autoreg_time"),
        ),
        Column(
            "firmware_version",
            STRING,
            "Software version of the bird (the console's `device_version`).",
            ("device_version",),
        ),
        Column("sensor", STRING, "Sensor type.", ("sensor",)),
        Column("live", BOOLEAN, "Whether the bird is connected now.", ("live",)),
        Column(
            "user",
            STRING,
            "The console user the registration names (the docs do not say more).",
            ("user",),
        ),
        Column("device_id_hash", STRING, "Hash of the bird's node id.", ("device_id_hash",)),
        Column(
            "current_settings",
            STRING,
            "Key of the settings the bird will start with.",
            ("current_settings",),
        ),
    )
)

BIRD_REGISTRATION_SCHEMA: Final[dict[str, Any]] = object_schema(
    {**_REGISTRATION_TABLE.properties(), "extra": EXTRA_SCHEMA}
)

_TEMPLATE: Final = dict.fromkeys(BIRD_REGISTRATION_SCHEMA["properties"])


def bird_registration_record(raw: Any, flock_id: str | None = None) -> dict[str, Any]:
    """A pending bird -> a typed record; ``flock_id`` is the flock whose queue listed it."""
    out = _TEMPLATE.copy()
    out["flock_id"] = flock_id
    if type(raw) is not dict:
        out["extra"] = None if raw is None else {"value": raw}
        return out
    out["extra"] = _REGISTRATION_TABLE.fill(raw, out)
    return out
