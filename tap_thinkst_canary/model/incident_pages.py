"""Pages of incidents typed straight from the bytes of the console's answer.

Most of an incident is its events, which the incidents stream writes out as the console sent
them: decoding them into objects only to encode them again is most of the cost of a sync.
Here a page is decoded with msgspec into structures that know every key of an incident and
of its ``description``. The events stay the JSON text they came in (checked to be a list of
objects, with no credential to redact), the rest goes through the tables `incident_record`
fills. The record is the one `incident_record` makes of the same incident, except that its
``events`` are an `EventsJson`, written out as sent.

A page with anything the general way treats specially gives None, and is then decoded and
typed the general way: an unknown key, a value kept in ``extra``, a ``description`` or an
event that is not an object, an event that carries a credential, an integer beyond what
orjson reads as one, text that is not valid Unicode. That keeps the records the same whichever
way a page goes, including where they do not depend on the order of the keys, which structures
do not see: when two keys feed one column, the column's value does not depend on their order
unless one is kept in ``extra`` (see `same_instant`).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
import orjson
from msgspec import UNSET
from msgspec.structs import astuple

from tap_thinkst_canary.model.events import EVENT_SECRET_SPELLINGS, EventsJson
from tap_thinkst_canary.model.incidents import (
    DESCRIPTION_TABLE,
    INCIDENT_TABLE,
    INCIDENT_TEMPLATE,
    incident_record,
    with_logtype,
)

# 64-bit integers: orjson reads larger ones as floats (and those up to 2**64 - 1 as integers,
# which msgspec cannot bound; they go the general way).
_Integer = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
# A column's value as sent: anything else (an object, a list) would be kept in ``extra``.
_Scalar = str | _Integer | float | bool | None
# A string both empty and not: no value is one, so an object with a key of this type fails
# the check, whatever the key holds.
_Refused = Annotated[str, msgspec.Meta(min_length=1, max_length=0)]


def _struct(name: str, keys: tuple[str, ...], **nested: Any) -> Any:
    """A structure with exactly `keys`, each a `_Scalar` but the `nested` ones."""
    fields = [(key, nested[key], UNSET) if key in nested else (key, _Scalar, None) for key in keys]
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True)


_DESCRIPTION_KEYS: Final = DESCRIPTION_TABLE.raw_keys()
_INCIDENT_KEYS: Final = INCIDENT_TABLE.raw_keys()

_Description = _struct("_Description", _DESCRIPTION_KEYS, events=msgspec.Raw | msgspec.UnsetType)
_Incident = _struct(
    "_Incident", _INCIDENT_KEYS, description=_Description | None | msgspec.UnsetType
)


class _Page(msgspec.Struct):
    """What the tap reads of a page of incidents (other keys are left out), each incident as
    sent: the cursor, the page count, and what an answer that is an error says."""

    incidents: list[msgspec.Raw]
    cursor: Any = None
    result: Any = None
    message: Any = None
    msg: Any = None
    error: Any = None
    page_count: Any = None
    page_total: Any = None
    total_pages: Any = None


class _AnyEvent(msgspec.Struct):
    """An event: any object."""


# An event with none of the keys the general way redacts.
_EventWithoutSecrets = msgspec.defstruct(
    "_EventWithoutSecrets",
    [(spelling, _Refused, None) for spelling in sorted(EVENT_SECRET_SPELLINGS)],
)

_PAGE_DECODER: Final = msgspec.json.Decoder(_Page)
_INCIDENT_DECODER: Final = msgspec.json.Decoder(_Incident)
_ANY_EVENTS: Final = msgspec.json.Decoder(list[_AnyEvent])
_EVENTS_WITHOUT_SECRETS: Final = msgspec.json.Decoder(list[_EventWithoutSecrets])  # type: ignore[valid-type]


class TypedIncidents(list[dict[str, Any]]):
    """The records of a page typed here, not raw incidents."""


def typed_page(
    body: bytes | bytearray, *, redact: bool = True, check_events: bool = True
) -> dict[str, Any] | None:
    """A page of ``/incidents/all`` with its incidents as records (`TypedIncidents`), or None
    when the page is not valid JSON, Unicode included, and must be read the general way.

    An incident the structures do not fit is read from its own bytes with orjson, as the
    general way reads the page, and typed by `incident_record`. Without `check_events`, a
    list of events is kept as sent without a look inside, for whoever decodes it first to
    check (see `EventsJson`).
    """
    try:
        page = _PAGE_DECODER.decode(body)
    except msgspec.MsgspecError:
        return None
    records = TypedIncidents()
    for incident in page.incidents:
        record = _record(incident, redact, check_events)
        if record is None:
            try:
                raw = orjson.loads(bytes(incident))
            except orjson.JSONDecodeError:
                return None  # text that is not valid Unicode: the general way repairs it
            record = incident_record(raw, redact=redact)
        records.append(record)
    return {
        "incidents": records,
        "cursor": page.cursor,
        "result": page.result,
        "message": page.message,
        "msg": page.msg,
        "error": page.error,
        "page_count": page.page_count,
        "page_total": page.page_total,
        "total_pages": page.total_pages,
    }


def _record(json: msgspec.Raw, redact: bool, check_events: bool) -> dict[str, Any] | None:
    try:
        incident = _INCIDENT_DECODER.decode(json)
    except msgspec.MsgspecError:
        return None
    out = INCIDENT_TEMPLATE.copy()
    if INCIDENT_TABLE.fill_values(_INCIDENT_KEYS, astuple(incident), out) is not None:
        return None
    description = incident.description
    events: Any = []
    if description is not None and description is not UNSET:
        if DESCRIPTION_TABLE.fill_values(_DESCRIPTION_KEYS, astuple(description), out):
            return None
        if description.events is not UNSET:
            events = _events_as_sent(bytes(description.events), redact, check_events)
            if events is None:
                return None
    out["events"] = events
    return with_logtype(out)


def _events_as_sent(json: bytes, redact: bool, check: bool) -> Any:
    """The events of an incident as sent, if they are a list (checked, with `check`, to be of
    objects with no credential to redact); None if not."""
    if json in (b"null", b"[]"):
        return []
    if not check:
        # A valid JSON value (msgspec read it) that opens with a bracket is a list.
        return EventsJson(json, redact=redact) if json.startswith(b"[") else None
    try:
        (_EVENTS_WITHOUT_SECRETS if redact else _ANY_EVENTS).decode(json)
    except msgspec.MsgspecError:
        return None
    return EventsJson(json, redact=redact, clean=True)
