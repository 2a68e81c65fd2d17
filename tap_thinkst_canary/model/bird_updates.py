"""Bird updates: the birds whose firmware can be updated, from ``/update/updatable_birds``,
with the update they can take from ``/updates/list``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from tap_thinkst_canary.model._convert import INVALID, to_boolean
from tap_thinkst_canary.model._table import (
    BOOLEAN,
    EXTRA_SCHEMA,
    STRING,
    STRING_ARRAY,
    Column,
    Table,
    object_schema,
)

_UPDATABLE_TABLE: Final = Table(
    (
        Column("node_id", STRING, "The bird's node id (primary key).", ("node_id", "id")),
        Column("name", STRING, "Name of the bird.", ("name",)),
        Column("flock_id", STRING, "Flock the bird belongs to.", ("flock_id",)),
        Column(
            "current_version",
            STRING,
            "Firmware version the bird runs.",
            ("current_version", "device_version"),
        ),
        Column(
            "available_version",
            STRING,
            "Firmware version the bird can be updated to.",
            ("available_version",),
        ),
        Column("update_tag", STRING, "Tag of the update (`/updates/list`).", ("update_tag",)),
    )
)

# The update's own fields, from `/updates/list`, prefixed so they cannot be taken for the bird's.
_UPDATE_TABLE: Final = Table(
    (
        Column("update_description", STRING, "What the update changes.", ("description",)),
        Column("update_filename", STRING, "File name of the update.", ("filename",)),
        Column("update_ignored", BOOLEAN, "Whether the update is ignored.", ("ignore",)),
        Column(
            "update_supported_versions",
            STRING_ARRAY,
            "Firmware versions the update applies to.",
            ("supported_versions",),
        ),
        Column(
            "update_target_sensors",
            STRING_ARRAY,
            "Sensor types the update is for.",
            ("target_sensors",),
        ),
    ),
    # The tag and version are the bird's columns already.
    handled_elsewhere=("tag", "version"),
)

BIRD_UPDATE_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        **_UPDATABLE_TABLE.properties(),
        "automatic_updates_enabled": {
            "type": ["boolean", "null"],
            "description": "Whether the console updates its birds by itself.",
        },
        **_UPDATE_TABLE.properties(),
        "extra": EXTRA_SCHEMA,
    }
)

_TEMPLATE: Final = dict.fromkeys(BIRD_UPDATE_SCHEMA["properties"])


def updatable_birds(answer: Any) -> list[Any]:
    """The birds of an ``/update/updatable_birds`` answer: ``updatable_devices`` is null
    when none can update."""
    devices = answer.get("updatable_devices") if type(answer) is dict else None
    return devices if type(devices) is list else []


def bird_update_records(updatable: Any, updates: Any = None) -> Iterator[dict[str, Any]]:
    """An ``/update/updatable_birds`` answer and an ``/updates/list`` answer -> one record per
    updatable bird, with the update it can take (found by tag, else by version)."""
    automatic = (
        to_boolean(updatable.get("automatic_updates_enabled")) if type(updatable) is dict else None
    )
    by_key: dict[tuple[str, Any], Mapping[str, Any]] = {}
    listed = updates.get("updates") if type(updates) is dict else None
    for update in listed if type(listed) is list else []:
        if type(update) is dict:
            by_key.setdefault(("tag", update.get("tag")), update)
            by_key.setdefault(("version", update.get("version")), update)
    for raw in updatable_birds(updatable):
        out = _TEMPLATE.copy()
        out["automatic_updates_enabled"] = None if automatic is INVALID else automatic
        if type(raw) is not dict:
            out["extra"] = None if raw is None else {"value": raw}
            yield out
            continue
        extra = _UPDATABLE_TABLE.fill(raw, out)
        update = by_key.get(("tag", out["update_tag"])) or by_key.get(
            ("version", out["available_version"])
        )
        if update is not None:
            update_extra = _UPDATE_TABLE.fill(update, out)
            if update_extra:
                extra = {**(extra or {}), "update": update_extra}
        out["extra"] = extra
        yield out
