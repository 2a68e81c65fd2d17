"""The streams, by domain: what each one is, where it comes from, how it pages and resumes."""

from __future__ import annotations

from tap_thinkst_canary.client import CanaryStream
from tap_thinkst_canary.streams.access import ApiKeysStream, UsersStream
from tap_thinkst_canary.streams.alerting import LicensesStream, SettingsStream
from tap_thinkst_canary.streams.alerts import IgnoredIncidentsStream, OutsideBirdIncidentsStream
from tap_thinkst_canary.streams.audit import (
    AUDIT_AFTER_ID_KEY,
    AUDIT_DAY_KEY,
    AUDIT_HISTORY_FLOOR,
    AuditBookmark,
    AuditTrailStream,
)
from tap_thinkst_canary.streams.incidents import IncidentEventsStream, IncidentsStream
from tap_thinkst_canary.streams.inventory import (
    BirdRegistrationsStream,
    BirdServicesStream,
    BirdsStream,
    BirdUpdatesStream,
    FlocksStream,
    TokensStream,
)

STREAM_TYPES: tuple[type[CanaryStream], ...] = (
    IncidentsStream,
    IncidentEventsStream,
    OutsideBirdIncidentsStream,
    IgnoredIncidentsStream,
    AuditTrailStream,
    BirdsStream,
    BirdServicesStream,
    BirdUpdatesStream,
    BirdRegistrationsStream,
    TokensStream,
    FlocksStream,
    UsersStream,
    ApiKeysStream,
    SettingsStream,
    LicensesStream,
)

#: The streams' names, in that order (each class names its stream in its body).
STREAM_NAMES: tuple[str, ...] = tuple(vars(stream_type)["name"] for stream_type in STREAM_TYPES)

__all__ = [
    "AUDIT_AFTER_ID_KEY",
    "AUDIT_DAY_KEY",
    "AUDIT_HISTORY_FLOOR",
    "STREAM_NAMES",
    "STREAM_TYPES",
    "ApiKeysStream",
    "AuditBookmark",
    "AuditTrailStream",
    "BirdRegistrationsStream",
    "BirdServicesStream",
    "BirdUpdatesStream",
    "BirdsStream",
    "FlocksStream",
    "IgnoredIncidentsStream",
    "IncidentEventsStream",
    "IncidentsStream",
    "LicensesStream",
    "OutsideBirdIncidentsStream",
    "SettingsStream",
    "TokensStream",
    "UsersStream",
]
