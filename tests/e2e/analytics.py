"""What the dbt models must say about a simulated console, computed from the simulator itself."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone
from typing import Any

from canary_simulator import Console, estate
from tap_thinkst_canary.model import LOGTYPES

ANALYTICS_SCHEMA = "canary_analytics"
OPERATIONAL = "Operational"


def category(incident: dict[str, Any]) -> str | None:
    entry = LOGTYPES.get(str(incident["description"]["logtype"]))
    return entry[1] if entry else None


def incidents_per_day(console: Console) -> Counter[tuple[date, str, str | None]]:
    """(UTC day, flock, logtype category) -> incidents created."""
    counts: Counter[tuple[date, str, str | None]] = Counter()
    for incident in console.iter_incidents():
        description = incident["description"]
        day = datetime.fromtimestamp(int(description["created"]), timezone.utc).date()
        counts[(day, description["flock_id"], category(incident))] += 1
    return counts


def incidents_per_source(console: Console) -> Counter[str]:
    """Source address -> incidents, for every incident an attacker set off."""
    return Counter(
        incident["description"]["src_host"]
        for incident in console.iter_incidents()
        if incident["description"].get("src_host") and category(incident) != OPERATIONAL
    )


def seconds_to_acknowledge(console: Console) -> dict[str, int]:
    """Incident id -> seconds from creation to the console's last change, for every
    acknowledged incident: an incident the simulator acknowledges changes then and no more."""
    return {
        str(incident["id"]): int(incident["updated_time"]) - int(incident["description"]["created"])
        for incident in console.iter_incidents()
        if str(incident["description"]["acknowledged"]).lower() == "true"
    }


def acknowledge_one(console: Console) -> str:
    """Acknowledges the oldest unacknowledged incident; returns its id."""
    incident_id = next(
        str(incident["id"])
        for incident in console.iter_incidents()
        if str(incident["description"]["acknowledged"]).lower() == "false"
    )
    console.acknowledge(incident_id)
    return incident_id


def without_second_factor(console: Console) -> set[str]:
    """E-mail addresses of the enabled users a password alone lets in: no TOTP, no WebAuthn,
    and not single-sign-on only (the simulator's SAML users log in only that way)."""
    return {
        user.email
        for user in console.estate.users.values()
        if not user.disabled
        and not user.saml_provisioned
        and not (user.totp_enabled or user.webauthn_enabled)
    }


def admins(console: Console) -> set[str]:
    return {user.email for user in console.estate.users.values() if user.access_level == "admin"}


def api_keys_created(console: Console) -> dict[str, tuple[str, datetime]]:
    """Key id -> (who created it, when, as a naive UTC time like the loaded ones)."""
    return {
        key.key_id: (
            key.created_by,
            datetime.fromtimestamp(key.created, timezone.utc).replace(tzinfo=None),
        )
        for key in console.estate.api_keys.values()
    }


def birds_behind_on_firmware(console: Console) -> set[str]:
    """The birds whose firmware is older than the newest the console offers."""
    latest = estate.version_key(estate.LATEST_FIRMWARE)
    return {
        str(bird["id"]) for bird in console.birds() if estate.version_key(bird["version"]) < latest
    }


def bird_services(console: Console) -> dict[str, str]:
    """Bird id -> its enabled services, sorted and joined with ', ' (none: no entry)."""
    return {
        str(bird["id"]): ", ".join(sorted(estate.PERSONALITY_SERVICES[bird["personality"]]))
        for bird in console.birds()
        if estate.PERSONALITY_SERVICES[bird["personality"]]
    }
