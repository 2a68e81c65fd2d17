"""Console users, from ``/users/list`` and, for what the list leaves out, ``/user/get``.

The two answers spell the same facts differently: the list says ``access_level: "1"``,
``supervisor: "False"``, ``disabled: "None"`` (never disabled) and the flocks as one
comma-separated string; a single user says ``access_level: "admin"`` and real booleans. Both
come out in one form: the access level as a word, booleans, and the flocks as arrays.
"""

from __future__ import annotations

from typing import Any, Final

from tap_thinkst_canary.model._convert import INVALID, to_boolean
from tap_thinkst_canary.model._table import (
    BOOLEAN,
    EXTRA_SCHEMA,
    STRING,
    Column,
    Kind,
    Table,
    object_schema,
)

# The list numbers the access levels; a single user names them.
_ACCESS_LEVEL_NAMES: Final = {"1": "admin", "0": "user"}
_ACCESS_LEVEL_WORDS: Final = frozenset(_ACCESS_LEVEL_NAMES.values())


def _to_access_level(value: Any) -> Any:
    if value is None or value == "":
        return None
    if type(value) is int and not isinstance(value, bool):
        value = str(value)
    if type(value) is not str:
        return INVALID
    word = value.strip().lower()
    if word in _ACCESS_LEVEL_WORDS:
        return word
    return _ACCESS_LEVEL_NAMES.get(word, INVALID)


def _to_disabled(value: Any) -> Any:
    # "None" is how the list says a user was never disabled.
    if value == "None":
        return False
    return to_boolean(value)


def _to_flock_list(value: Any) -> Any:
    """``"flock:a,flock:b"`` (the answers' form), ``""`` or a list -> a list of flock ids."""
    if value is None:
        return None
    if type(value) is str:
        return [flock.strip() for flock in value.split(",") if flock.strip()]
    if type(value) is list and all(type(flock) is str for flock in value):
        return value
    return INVALID


ACCESS_LEVEL: Final = Kind({"type": ["string", "null"]}, _to_access_level)
DISABLED: Final = Kind({"type": ["boolean", "null"]}, _to_disabled)
FLOCK_LIST: Final = Kind({"type": ["array", "null"], "items": {"type": "string"}}, _to_flock_list)

_USER_TABLE: Final = Table(
    (
        Column("id", STRING, "The user's id (primary key).", ("id",)),
        Column("email", STRING, "The user's e-mail address, which they log in with.", ("email",)),
        Column(
            "access_level",
            ACCESS_LEVEL,
            "'admin' or 'user' (the list's '1' and '0'); an unknown level is kept in `extra`.",
            ("access_level",),
        ),
        Column("note", STRING, "Note on the user.", ("note",)),
        Column(
            "disabled",
            DISABLED,
            "Whether the user is disabled and cannot log in (false if never disabled).",
            ("disabled",),
        ),
        Column(
            "supervisor", BOOLEAN, "Whether the user is a supervisor of flocks.", ("supervisor",)
        ),
        Column(
            "totp_enabled",
            BOOLEAN,
            "Whether the user has a TOTP second factor.",
            ("totp_enabled",),
        ),
        Column(
            "webauthn_enabled",
            BOOLEAN,
            "Whether the user has a WebAuthn second factor (a security key).",
            ("webauthn_enabled",),
        ),
        Column(
            "webauthn_credential",
            STRING,
            "Identifier of the user's WebAuthn credential, if any.",
            ("webauthn_credential",),
        ),
        Column(
            "saml_provisioned",
            BOOLEAN,
            "Whether the user was provisioned through SAML single sign-on.",
            ("saml_provisioned",),
        ),
        Column(
            "no_direct_login",
            BOOLEAN,
            "Whether the user may only log in through single sign-on, not with a password.",
            ("no_direct_login",),
        ),
        Column(
            "summary_email_enabled",
            BOOLEAN,
            "Whether the user gets the summary e-mails.",
            ("summary_email_enabled",),
        ),
        Column(
            "managed_flocks",
            FLOCK_LIST,
            "Flocks the user manages, as an array of flock ids.",
            ("managed_flocks",),
        ),
        Column(
            "watched_flocks",
            FLOCK_LIST,
            "Flocks the user watches (read-only access), as an array of flock ids.",
            ("watched_flocks",),
        ),
    )
)

USER_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        **_USER_TABLE.properties(),
        "is_admin": {
            "type": ["boolean", "null"],
            "description": "Whether the user is a console administrator (from `access_level`).",
        },
        "extra": EXTRA_SCHEMA,
    }
)

_USER_TEMPLATE: Final = dict.fromkeys(USER_SCHEMA["properties"])


def user_record(listed: Any, details: Any = None) -> dict[str, Any]:
    """A user of ``/users/list`` (and its ``/user/get`` details, if fetched) -> a typed record.

    Where both answers give a field, the list's value fills the column and a disagreeing
    detail is kept in ``extra``.
    """
    out = _USER_TEMPLATE.copy()
    extra: dict[str, Any] = {}
    for raw, where in ((listed, "value"), (details, "details")):
        if raw is None:
            continue
        if type(raw) is not dict:
            extra[where] = raw
            continue
        extra.update(_USER_TABLE.fill(raw, out) or {})
    level = out["access_level"]
    out["is_admin"] = None if level is None else level == "admin"
    out["extra"] = extra or None
    return out
