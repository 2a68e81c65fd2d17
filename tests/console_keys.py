"""Every key a complete sync of a simulated console must write: one list for every test that
checks a sync whole, so a new stream is added once."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from canary_simulator import Console, estate
from canary_simulator.estate_api import LICENSE_KINDS, expected_settings
from tap_thinkst_canary.streams import STREAM_NAMES

Key = tuple[Any, ...]


def console_keys(console: Console, name: str) -> set[tuple[str, Key]]:
    """Every (stream, primary key) but the incident events', whose positions are the tap's."""
    keys = {("incidents", (name, i)) for i in console.incident_ids()}
    keys |= {("audit_trail", (name, i)) for i in console.audit_ids()}
    keys |= {("birds", (name, i)) for i in console.bird_ids()}
    keys |= {("tokens", (name, i)) for i in console.token_ids()}
    keys |= {("flocks", (name, i)) for i in console.flock_ids()}
    latest = estate.version_key(estate.LATEST_FIRMWARE)
    for bird in console.birds():
        services = estate.PERSONALITY_SERVICES[bird["personality"]]
        keys |= {("bird_services", (name, bird["id"], service)) for service in services}
        if estate.version_key(bird["version"]) < latest:
            keys.add(("bird_updates", (name, bird["id"])))
    keys |= {("bird_registrations", (name, i)) for i in console.estate.pending_birds}
    keys |= {
        ("outside_bird_incidents", (name, alert.node_id, alert.src_ip))
        for alert in console.estate.outside_bird_alerts
    }
    keys |= {
        ("ignored_incidents", (name, annotation, suppressed_incident_key(incident)))
        for annotation, count in console.estate.ignored_annotations.items()
        for incident in (
            console.suppressed_incident(annotation, position, datetime.timezone.utc)
            for position in range(count)
        )
    }
    keys |= {("users", (name, console.estate.user(email).id)) for email in console.user_emails()}
    keys |= {("api_keys", (name, i)) for i in console.api_key_ids()}
    keys |= {("settings", (name, *setting)) for setting in expected_settings(console)}
    keys |= {("licenses", (name, kind)) for kind in LICENSE_KINDS}
    return keys


def console_counts(console: Console) -> dict[str, int]:
    """The records a complete sync of `console` writes, per stream, every stream named."""
    counts = Counter(stream for stream, _ in console_keys(console, "console"))
    counts["incident_events"] = console.event_count()
    return {stream: counts[stream] for stream in STREAM_NAMES}


def suppressed_incident_key(incident: dict[str, Any]) -> str:
    """The key the tap derives for a suppressed incident, which has no id."""
    created = datetime.datetime.fromtimestamp(incident["created"], datetime.timezone.utc)
    parts = (incident["node_id"], str(incident["logtype"]), incident["src_host"])
    return "|".join((*parts, created.strftime("%Y-%m-%dT%H:%M:%SZ")))
