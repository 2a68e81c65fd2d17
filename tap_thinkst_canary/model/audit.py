"""Audit trail entries."""

from __future__ import annotations

from typing import Any, Final

from tap_thinkst_canary.model._table import (
    DATETIME,
    EXTRA_SCHEMA,
    INTEGER,
    OBJECT,
    STRING,
    Column,
    Table,
    object_schema,
)

_AUDIT_TABLE: Final = Table(
    (
        Column("id", INTEGER, "Audit entry id (primary key; ids have gaps after purges).", ("id",)),
        Column("timestamp", DATETIME, "When the action happened (UTC).", ("timestamp",)),
        Column("action_type", STRING, "Kind of action, e.g. 'user_login'.", ("action_type",)),
        Column("message", STRING, "What happened, in words.", ("message",)),
        Column("user", STRING, "Who did it.", ("user",)),
        Column("user_ip", STRING, "Address the user acted from.", ("user_ip",)),
        Column(
            "user_browser_agent", STRING, "Browser user agent of the user.", ("user_browser_agent",)
        ),
        Column(
            "user_browser_language",
            STRING,
            "Browser language of the user.",
            ("user_browser_language",),
        ),
        Column("flock_id", STRING, "Flock the action concerned, if any.", ("flock_id",)),
        Column(
            "additional_information",
            OBJECT,
            "Action-specific details, as JSON.",
            ("additional_information",),
        ),
    )
)

AUDIT_ENTRY_SCHEMA: Final[dict[str, Any]] = object_schema(
    {**_AUDIT_TABLE.properties(), "extra": EXTRA_SCHEMA}
)

_AUDIT_TEMPLATE: Final = dict.fromkeys(AUDIT_ENTRY_SCHEMA["properties"])


def audit_record(raw: Any) -> dict[str, Any]:
    """A raw ``audit_trail`` entry -> a typed record."""
    out = _AUDIT_TEMPLATE.copy()
    if type(raw) is not dict:
        out["extra"] = None if raw is None else {"value": raw}
        return out
    out["extra"] = _AUDIT_TABLE.fill(raw, out)
    return out
