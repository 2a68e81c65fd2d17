"""Flocks, from ``/flocks/summary`` (which maps each flock id to its summary)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from tap_thinkst_canary.model._convert import INVALID, to_boolean, to_string
from tap_thinkst_canary.model._table import (
    EXTRA_SCHEMA,
    INTEGER,
    OBJECT,
    STRING,
    STRING_ARRAY,
    Column,
    Table,
    object_schema,
)

_FLOCK_TABLE: Final = Table(
    (
        Column("name", STRING, "Name of the flock.", ("name",)),
        Column("note", STRING, "Note on the flock.", ("note",)),
        Column("incident_count", INTEGER, "Incidents in the flock.", ("incident_count",)),
        Column(
            "online_devices", INTEGER, "Birds of the flock that are online.", ("online_devices",)
        ),
        Column(
            "offline_devices", INTEGER, "Birds of the flock that are offline.", ("offline_devices",)
        ),
        Column("total_tokens", INTEGER, "Canarytokens in the flock.", ("total_tokens",)),
        Column("enabled_tokens", INTEGER, "Enabled Canarytokens.", ("enabled_tokens",)),
        Column("disabled_tokens", INTEGER, "Disabled Canarytokens.", ("disabled_tokens",)),
        Column(
            "devices", STRING_ARRAY, "Node ids of the flock's birds and Canarytokens.", ("devices",)
        ),
        Column("settings", OBJECT, "The flock's settings, as JSON.", ("settings",)),
        Column(
            "global_settings",
            OBJECT,
            "Console-wide settings that apply to the flock, as JSON.",
            ("global_settings",),
        ),
    )
)

# Settings people filter on, lifted out of the nested settings objects. A flock
# setting is 'Global' when it follows the console-wide one.
_FLOCK_SETTINGS: Final = (
    (
        "email_notifications",
        ("notification_info", "emails", "enabled"),
        "Flock e-mail notifications: 'Global', 'Enabled' or 'Disabled'.",
    ),
    (
        "sms_notifications",
        ("notification_info", "sms", "enabled"),
        "Flock SMS notifications: 'Global', 'Enabled' or 'Disabled'.",
    ),
    (
        "summary_emails",
        ("notification_info", "summary_email", "enabled"),
        "Flock summary e-mails: 'Global', 'Enabled' or 'Disabled'.",
    ),
    (
        "webhook_notifications",
        ("webhooks", "webhooks_enabled"),
        "Flock webhooks: 'Global', 'Enabled' or 'Disabled'.",
    ),
    (
        "ip_ignorelist",
        ("whitelisting", "ip_whitelisting", "enabled"),
        "Flock IP ignore list: 'Global', 'Enabled' or 'Disabled'.",
    ),
)
_GLOBAL_SETTINGS: Final = (
    ("console_email_notifications", "email_notifications", "Console-wide e-mail notifications."),
    ("console_sms_notifications", "sms_notifications", "Console-wide SMS notifications."),
    ("console_summary_emails", "summary_emails", "Console-wide summary e-mails."),
    ("console_webhook_notifications", "webhook_notifications", "Console-wide webhooks."),
    ("console_ip_ignorelist_enabled", "whitelist_enabled", "Console-wide IP ignore list."),
    ("console_change_alerts", "console_change_alerts_enabled", "Alerts on console changes."),
    ("device_change_alerts", "device_change_alerts_enabled", "Alerts on bird changes."),
)

FLOCK_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        "flock_id": {"type": ["string", "null"], "description": "The flock id (primary key)."},
        **_FLOCK_TABLE.properties(),
        **{
            name: {"type": ["string", "null"], "description": text}
            for name, _, text in _FLOCK_SETTINGS
        },
        **{
            name: {"type": ["boolean", "null"], "description": text}
            for name, _, text in _GLOBAL_SETTINGS
        },
        "extra": EXTRA_SCHEMA,
    }
)

_FLOCK_TEMPLATE: Final = dict.fromkeys(FLOCK_SCHEMA["properties"])


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


def _typed(value: Any, convert: Any) -> Any:
    typed = convert(value)
    return None if typed is INVALID else typed


def flock_record(flock_id: Any, summary: Any) -> dict[str, Any]:
    """One flock's summary -> a typed record."""
    out = _FLOCK_TEMPLATE.copy()
    out["flock_id"] = _typed(flock_id, to_string)
    if type(summary) is not dict:
        out["extra"] = None if summary is None else {"summary": summary}
        return out
    out["extra"] = _FLOCK_TABLE.fill(summary, out)
    # Lifted copies: the whole settings objects stay in their own columns.
    settings, global_settings = out["settings"], out["global_settings"]
    for name, path, _ in _FLOCK_SETTINGS:
        out[name] = _typed(_dig(settings, path), to_string)
    for name, key, _ in _GLOBAL_SETTINGS:
        out[name] = _typed(_dig(global_settings, (key,)), to_boolean)
    return out


def flock_records(response: Any) -> Iterator[dict[str, Any]]:
    """A ``/flocks/summary`` response -> one record per flock."""
    summaries = response.get("flocks_summary") if type(response) is dict else None
    if type(summaries) is not dict:
        return
    for flock_id, summary in summaries.items():
        yield flock_record(flock_id, summary)


def flock_of_devices(response: Any) -> dict[str, str]:
    """A ``/flocks/summary`` response -> the flock id of each bird and Canarytoken it lists."""
    summaries = response.get("flocks_summary") if type(response) is dict else None
    if type(summaries) is not dict:
        return {}
    return {
        device: flock_id
        for flock_id, summary in summaries.items()
        if type(flock_id) is str and type(summary) is dict and type(summary.get("devices")) is list
        for device in summary["devices"]
        if type(device) is str
    }
