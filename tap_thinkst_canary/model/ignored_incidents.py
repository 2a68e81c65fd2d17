"""Incidents the console suppressed because an ignored annotation matched them, from
``/settings/ignored_annotations/incidents``, with the annotation from
``/settings/ignored_annotations``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tap_thinkst_canary.model._convert import INVALID, to_string
from tap_thinkst_canary.model._table import (
    EXTRA_SCHEMA,
    OBJECT,
    STRING,
    Column,
    Table,
    object_schema,
)
from tap_thinkst_canary.model.events import events_as_sent
from tap_thinkst_canary.model.incidents import DESCRIPTION_TABLE, LOGTYPE_PROPERTIES
from tap_thinkst_canary.model.logtypes import lookup

# A suppressed incident is shaped like an incident's `description`, with two keys more.
_IGNORED_INCIDENT_TABLE: Final = Table(
    (
        *DESCRIPTION_TABLE.columns,
        Column(
            "events_list",
            STRING,
            "The events' times, comma-separated epoch seconds, as the console sent them.",
            ("events_list",),
        ),
        Column(
            "matched_annotations",
            OBJECT,
            "Every annotation the incident matched: its name -> [text, help link].",
            ("matched_annotations",),
        ),
    ),
    handled_elsewhere=("events",),
)

_ANNOTATION_PROPERTIES: Final = {
    "annotation": {
        "type": ["string", "null"],
        "description": "Name of the ignored annotation that suppressed the incident, e.g. "
        "'palo_alto_pdf_token_trigger' (primary key, with `incident_key`).",
    },
    "incident_key": {
        "type": ["string", "null"],
        "description": "A key derived for the incident, which the listing gives no id: its "
        "`node_id`, `logtype`, `src_host` and `created_at`, joined by '|' (primary key, with "
        "`annotation`).",
    },
    "annotation_nice_name": {
        "type": ["string", "null"],
        "description": "Readable name of the annotation, e.g. 'Palo Alto WildFire PDF Scan'.",
    },
    "annotation_text": {
        "type": ["string", "null"],
        "description": "What the annotation says about the incidents it matches.",
    },
    "annotation_kb_link": {
        "type": ["string", "null"],
        "description": "Help article about the annotation.",
    },
}

IGNORED_INCIDENT_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        **_ANNOTATION_PROPERTIES,
        **_IGNORED_INCIDENT_TABLE.properties(),
        **LOGTYPE_PROPERTIES,
        "events": {
            "type": ["array", "null"],
            "items": {"type": ["object", "null"], "additionalProperties": True},
            "description": "The incident's events as the console sent them, token credentials "
            "redacted (the same shapes as incident_events, untyped).",
        },
        "extra": EXTRA_SCHEMA,
    }
)

_IGNORED_INCIDENT_TEMPLATE: Final = dict.fromkeys(IGNORED_INCIDENT_SCHEMA["properties"])
_KEY_PARTS: Final = ("node_id", "logtype", "src_host", "created_at")


def _text(value: Any) -> str | None:
    typed = to_string(value)
    return None if typed is INVALID else typed


def ignored_incident_record(
    raw: Any, annotation: Mapping[str, Any], *, redact: bool = True
) -> dict[str, Any]:
    """One suppressed incident, listed under `annotation` (an entry of the ignored
    annotations' list, or at least its `name`) -> a typed record."""
    out = _IGNORED_INCIDENT_TEMPLATE.copy()
    name = _text(annotation.get("name"))
    out["annotation"] = name
    if type(raw) is not dict:
        out["events"] = []
        out["extra"] = None if raw is None else {"value": raw}
        return out
    extra = _IGNORED_INCIDENT_TABLE.fill(raw, out)
    raw_events = raw.get("events")
    out["events"] = events_as_sent(raw_events, redact) if type(raw_events) is list else []
    if raw_events is not None and type(raw_events) is not list:
        extra = {**(extra or {}), "events": raw_events}
    out["extra"] = extra
    out["incident_key"] = "|".join(str(out[part] or "") for part in _KEY_PARTS)
    # The incident names what it matched, [text, link]; the listing says it too, and more.
    matched = (out["matched_annotations"] or {}).get(name)
    text, link = matched if type(matched) is list and len(matched) == 2 else (None, None)
    out["annotation_nice_name"] = _text(annotation.get("nice_name"))
    out["annotation_text"] = _text(annotation.get("text")) or _text(text)
    out["annotation_kb_link"] = _text(annotation.get("kb_link")) or _text(link)
    logtype = lookup(out["logtype"])
    out["logtype_name"] = logtype.name or None
    out["logtype_category"] = logtype.category or None
    return out
