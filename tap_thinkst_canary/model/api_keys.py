"""Global and flock API keys, from ``/auth_token/list`` and ``/flock/auth_token/list``.

The listings hand out each key's value (``auth_token``): whoever reads it can use the console
with that key. The value never becomes part of a record, whatever ``redact_secrets`` says: it
is dropped, along with any other field of the listing that quotes it, and :func:`key_value`
gives it to the caller, whose scrubber keeps it out of everything written afterwards.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from tap_thinkst_canary.model._table import (
    DATETIME,
    EXTRA_SCHEMA,
    REDACTED,
    STRING,
    STRING_ARRAY,
    Column,
    Table,
    object_schema,
)

#: The field of a listed key that holds its value.
KEY_VALUE_FIELD: Final = "auth_token"
#: The prefix of a key id the tap derives, for a listing that gives none.
DERIVED_KEY_ID_PREFIX: Final = "sha256:"
# 64 bits of the digest: unique among any console's keys, and no help in guessing a value.
_DERIVED_KEY_ID_HEX_DIGITS: Final = 16

GLOBAL_SCOPE: Final = "global"
FLOCK_SCOPE: Final = "flock"

_API_KEY_TABLE: Final = Table(
    (
        Column(
            "key_id",
            STRING,
            "The key's id (primary key). A listing without one gets 'sha256:' and the first 16 "
            "hex digits of the SHA-256 of the console's name, ':' and the key's value: stable "
            "from sync to sync, and revealing nothing of the value.",
            ("key_id",),
        ),
        Column(
            "auth_token_type",
            STRING,
            "What the key may do, as the console writes it: 'Admin', 'Read-only', 'Analyst' for "
            "global keys; 'admin', 'read-only', 'canarytoken-deploy', 'breadcrumb-deploy', "
            "'analyst' for flock keys.",
            ("auth_token_type",),
        ),
        Column("note", STRING, "Note on who or what uses the key.", ("note",)),
        Column("created_at", DATETIME, "When the key was created (UTC).", ("created",)),
        Column(
            "created_by",
            STRING,
            "Who created the key: a user's e-mail address, or another key "
            "('Global-API-Token[key_id:...]').",
            ("created_by",),
        ),
        Column(
            "last_used_at",
            DATETIME,
            "When the key was last used (UTC; flock keys only, null if never).",
            ("last_used",),
        ),
        Column(
            "managed_flocks",
            STRING_ARRAY,
            "Flocks a flock key manages, as an array of flock ids.",
            ("managed_flocks",),
        ),
        Column(
            "watched_flocks",
            STRING_ARRAY,
            "Flocks a flock key watches (read-only), as an array of flock ids.",
            ("watched_flocks",),
        ),
    ),
    handled_elsewhere=(KEY_VALUE_FIELD,),
)

API_KEY_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        "key_id": _API_KEY_TABLE.properties()["key_id"],
        "scope": {
            "type": ["string", "null"],
            "description": "'global' for a console-wide key, 'flock' for a key of one flock.",
        },
        "flock_id": {
            "type": ["string", "null"],
            "description": "The flock of a flock key; null for a global key.",
        },
        **_API_KEY_TABLE.properties(),
        "extra": {
            **EXTRA_SCHEMA,
            "description": f"{EXTRA_SCHEMA['description']} The key's value is never kept here.",
        },
    }
)

_API_KEY_TEMPLATE: Final = dict.fromkeys(API_KEY_SCHEMA["properties"])


def key_value(raw: Any) -> str | None:
    """The value of a listed key, if the listing gives one (to keep out of every output)."""
    value = raw.get(KEY_VALUE_FIELD) if type(raw) is dict else None
    return value if type(value) is str and value and value != REDACTED else None


def derived_key_id(console: str, value: str) -> str:
    """A stable id for a key the listing gives no id for, from which the value cannot be told."""
    digest = hashlib.sha256(f"{console}:{value}".encode()).hexdigest()
    return DERIVED_KEY_ID_PREFIX + digest[:_DERIVED_KEY_ID_HEX_DIGITS]


def api_key_record(raw: Any, *, console: str, flock_id: str | None = None) -> dict[str, Any]:
    """A listed key -> a typed record without its value; a flock key with its `flock_id`."""
    out = _API_KEY_TEMPLATE.copy()
    out["scope"] = GLOBAL_SCOPE if flock_id is None else FLOCK_SCOPE
    out["flock_id"] = flock_id
    if type(raw) is not dict:
        out["extra"] = None if raw is None else {"value": raw}
        return out
    value = key_value(raw)
    out["extra"] = _API_KEY_TABLE.fill(_without(raw, value) if value else raw, out)
    if out["key_id"] is None and value is not None:
        out["key_id"] = derived_key_id(console, value)
    return out


def _without(value: Any, secret: str) -> Any:
    """`value` with every string that quotes `secret` redacted."""
    if type(value) is dict:
        return {key: _without(item, secret) for key, item in value.items()}
    if type(value) is list:
        return [_without(item, secret) for item in value]
    if type(value) is str and secret in value:
        return value.replace(secret, REDACTED)
    return value
