"""Bird services: each bird's enabled services and their settings, from
``/device/info?settings=true``.

A bird's settings are one flat object of ``<service>.<setting>`` keys (``ssh.enabled``,
``ssh.port``, ``smb.sharename``) beside the bird's own ``device.*`` keys; every service has an
``enabled`` key. One row per enabled service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tap_thinkst_canary.model._convert import INVALID, to_boolean, to_string
from tap_thinkst_canary.model._table import (
    EXTRA_SCHEMA,
    INTEGER,
    OBJECT,
    STRING,
    Column,
    Table,
    object_schema,
)

# The bird's own settings: no service has this name.
_DEVICE: Final = "device"

# Settings the documented personalities give several services, typed; the rest stay in
# `settings` under their own names.
_SERVICE_TABLE: Final = Table(
    (
        Column("port", INTEGER, "Port the service listens on (`<service>.port`).", ("port",)),
        Column(
            "banner",
            STRING,
            "Banner the service shows a client (`<service>.banner`).",
            ("banner",),
        ),
        Column(
            "service_version",
            STRING,
            "Version string the service announces, e.g. `SSH-2.0-OpenSSH_7.4` "
            "(`<service>.version`).",
            ("version",),
        ),
    )
)

_PROPERTIES: Final[dict[str, Any]] = {
    "node_id": {"type": ["string"], "description": "The bird's node id (primary key)."},
    "service": {
        "type": ["string"],
        "description": "The service, as the bird's settings name it: `ssh`, `smb`, `http`, "
        "`tcpbanner_1`... (primary key).",
    },
    "bird_name": {"type": ["string", "null"], "description": "Name of the bird."},
    "bird_description": {"type": ["string", "null"], "description": "Description of the bird."},
    "flock_id": {"type": ["string", "null"], "description": "Flock the bird belongs to."},
    "personality": {
        "type": ["string", "null"],
        "description": "The device the bird pretends to be (`device.personality`, else the "
        "bird's `personality` in `/devices/all`).",
    },
    "ippers": {
        "type": ["string", "null"],
        "description": "IP stack personality of the bird (`device.ippers`).",
    },
    **_SERVICE_TABLE.properties(),
    "settings": {
        **OBJECT.schema,
        "description": "The service's other settings, as JSON, under their names without the "
        'service\'s prefix (`smb.sharename` -> `{"sharename": ...}`).',
    },
    "extra": {
        **EXTRA_SCHEMA,
        "description": "Settings of the service whose value could not be converted to its "
        "column's type, and the bird's settings that are no service's (`device.*` without a "
        "column), under their original names.",
    },
}

BIRD_SERVICE_SCHEMA: Final[dict[str, Any]] = object_schema(_PROPERTIES)

_TEMPLATE: Final = dict.fromkeys(_PROPERTIES)
# The bird's settings with a column; the name and description are the device object's too.
_BIRD_COLUMNS: Final = {
    f"{_DEVICE}.personality": "personality",
    f"{_DEVICE}.ippers": "ippers",
    f"{_DEVICE}.name": "bird_name",
    f"{_DEVICE}.desc": "bird_description",
}


def _text(value: Any) -> str | None:
    typed = to_string(value)
    return None if typed is INVALID else typed


def bird_service_records(
    device: Any, bird: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """A ``/device/info`` ``device`` object (asked for with ``settings=true``) -> one record
    per enabled service. ``bird`` is the bird's record from the birds stream, for what the
    device object leaves out (its flock, its personality)."""
    bird = bird or {}
    device = device if type(device) is dict else {}
    settings = device.get("settings")
    if type(settings) is not dict:
        return []
    services: dict[str, dict[str, Any]] = {}
    bird_level: dict[str, Any] = {}
    for key, value in settings.items():
        service, dot, name = key.partition(".") if type(key) is str else ("", "", "")
        if not dot or not name or service == _DEVICE:
            bird_level[key] = value
        else:
            services.setdefault(service, {})[name] = value
    bird_row = _TEMPLATE.copy()
    for key, column in _BIRD_COLUMNS.items():
        bird_row[column] = _text(bird_level.pop(key, None))
    bird_row["node_id"] = _text(device.get("id") or device.get("node_id")) or bird.get("id")
    bird_row["flock_id"] = _text(device.get("flock_id")) or bird.get("flock_id")
    for column in ("bird_name", "bird_description", "personality"):
        raw_key = column.removeprefix("bird_")
        bird_row[column] = _text(device.get(raw_key)) or bird_row[column] or bird.get(raw_key)
    records = []
    for service, service_settings in sorted(services.items()):
        if to_boolean(service_settings.pop("enabled", None)) is not True:
            continue
        row = bird_row.copy()
        row["service"] = service
        rest = _SERVICE_TABLE.fill(service_settings, row) or {}
        unconverted = {
            f"{service}.{name}": value
            for name, value in rest.items()
            if _SERVICE_TABLE.column_for(name) is not None
        }
        row["settings"] = {k: v for k, v in rest.items() if f"{service}.{k}" not in unconverted}
        row["extra"] = {**unconverted, **bird_level} or None
        records.append(row)
    return records
