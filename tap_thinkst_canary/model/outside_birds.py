"""Outside Bird alerts: what Canaries facing the internet saw, from
``/incidents/outside_bird/search`` (one entry per bird and source address)."""

from __future__ import annotations

from typing import Any, Final

from tap_thinkst_canary.model._convert import INVALID, to_integer
from tap_thinkst_canary.model._table import (
    EXTRA_SCHEMA,
    INTEGER,
    STRING,
    Column,
    Kind,
    Table,
    object_schema,
)


def _to_counts(value: Any) -> Any:
    """``{"SSH Login Attempt": 7}`` (counts as numbers or decimal strings) -> integers."""
    if value is None:
        return None
    if type(value) is not dict:
        return INVALID
    counts = {}
    for service, count in value.items():
        typed = to_integer(count)
        if type(service) is not str or typed is INVALID or typed is None:
            return INVALID
        counts[service] = typed
    return counts


COUNTS_BY_SERVICE: Final = Kind(
    {"type": ["object", "null"], "additionalProperties": {"type": "integer"}}, _to_counts
)

_OUTSIDE_BIRD_TABLE: Final = Table(
    (
        Column(
            "node_id",
            STRING,
            "The Outside Bird that was reached (primary key, with `ip_address`).",
            ("node_id",),
        ),
        Column(
            "ip_address",
            STRING,
            "The internet address the alerts came from (primary key, with `node_id`).",
            ("ip_address",),
        ),
        Column(
            "alert_count",
            INTEGER,
            "Alerts this address raised on this bird, every service together.",
            ("count",),
        ),
        Column(
            "incident_counts",
            COUNTS_BY_SERVICE,
            "Alerts this address raised on this bird, by service, e.g. "
            '`{"SSH Login Attempt": 7}`: the services are named as incident logtypes are.',
            ("incident_counts",),
        ),
        Column(
            "flock_id",
            STRING,
            "Flock of the bird (from `/flocks/summary`: the search does not say).",
            ("flock_id",),
        ),
    )
)

OUTSIDE_BIRD_INCIDENT_SCHEMA: Final[dict[str, Any]] = object_schema(
    {**_OUTSIDE_BIRD_TABLE.properties(), "extra": EXTRA_SCHEMA}
)

_OUTSIDE_BIRD_TEMPLATE: Final = dict.fromkeys(OUTSIDE_BIRD_INCIDENT_SCHEMA["properties"])


def outside_bird_incident_record(raw: Any) -> dict[str, Any]:
    """One ``src_ips`` entry of the Outside Bird search -> a typed record."""
    out = _OUTSIDE_BIRD_TEMPLATE.copy()
    if type(raw) is not dict:
        out["extra"] = None if raw is None else {"value": raw}
        return out
    out["extra"] = _OUTSIDE_BIRD_TABLE.fill(raw, out)
    return out
