"""Incidents and their events."""

from __future__ import annotations

import datetime
import typing as t
from collections.abc import Iterable, Iterator

from tap_thinkst_canary.client import CanaryStream, Page
from tap_thinkst_canary.errors import SyncInterrupted, SyncStopped
from tap_thinkst_canary.model import (
    INCIDENT_EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    incident_event_rows,
    incident_record,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_thinkst_canary.consoles import Console

Row = dict[str, t.Any]


class IncidentsStream(CanaryStream):
    """Incidents, incremental on `updated_id`.

    Acknowledging or otherwise updating an incident gives it a new, higher `updated_id`, so it
    comes back with its new state: load with upserts on `id`. A STATE message follows every
    page, so an interrupted sync resumes at the page after the last one finished.
    """

    name = "incidents"
    path = "/incidents/all"
    records_key = "incidents"
    accepts_tz = True
    record_schema = INCIDENT_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "id"]
    # The bookmark is the SDK's: it moves to each incident's `updated_id` as the incident is
    # written. Each page is written in `updated_id` order, so a page ends at its highest;
    # should a console ever page out of order, the bookmark can only go back (and re-sync),
    # never skip an incident.
    replication_key = "updated_id"
    is_sorted = True
    check_sorted = False

    def starting_bookmark(self, context: Context) -> int | None:
        value = self.get_context_state(context).get("replication_key_value")
        # A bookmark is an `updated_id`, checked as the state was loaded.
        return value if isinstance(value, int) else None

    def pages(self, console: Console, bookmark: int | None) -> Iterator[Page]:
        # `start_date` applies to the first sync only; after that the bookmark decides.
        updated_before = console.settings.start_date if bookmark is None else None
        params = self.first_page_params(
            incidents_since=bookmark or 0,
            limit=self.settings.page_size,
            flock_id=console.settings.flock_id,
        )
        redact = self.settings.redact_secrets
        for raw_page in self.fetch_pages(console, params):
            page = sorted(
                (incident_record(raw, redact=redact) for raw in raw_page), key=_updated_id
            )
            # The raw objects are not needed any more, and one incident can hold 100,000 events:
            # emptying the list frees them now, whoever still holds the page.
            raw_page.clear()
            wanted = [
                record
                for record in page
                if updated_before is None or not _updated_before(record, updated_before)
            ]
            yield Page(wanted, children_pending=True)
            del page, wanted


class IncidentEventsStream(CanaryStream):
    """One row per event of each incident synced.

    It follows its parent's state: an incident that comes back updated brings its events again
    (same keys, so they upsert). The incidents are never fetched twice for it.
    """

    name = "incident_events"
    parent_stream_type = IncidentsStream
    record_schema = INCIDENT_EVENT_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "incident_id", "position"]
    state_partitioning_keys: t.ClassVar[list[str]] = []  # no bookmark of its own

    def get_records(self, context: Context | None) -> Iterable[Row]:
        assert context is not None
        parent = self._canary_tap.streams[IncidentsStream.name]
        page = parent.page_in_hand if isinstance(parent, CanaryStream) else None
        if page is None:
            return
        in_stream = parent.stream_maps[0].get_filter_result  # incidents a stream map keeps
        events = (
            event
            for incident in page.records
            if in_stream(incident)
            for event in incident_event_rows(incident)
        )
        console = self._canary_tap.consoles[context["console"]]
        try:
            yield from self.emit(events, console, room=self._dry_run_room(0))
        except SyncInterrupted as stop:
            # The state claims no incident of this page yet: its events may stop anywhere.
            self.checkpoint(last=True)
            raise SyncStopped(stop.cause) from None

    def pages(self, console: Console, bookmark: t.Any) -> Iterator[Page]:
        raise NotImplementedError("incident events come a page of incidents at a time")


def _updated_id(record: Row) -> int:
    value = record.get("updated_id")
    return value if isinstance(value, int) else -1


def _updated_before(record: Row, moment: datetime.datetime) -> bool:
    """Whether an incident's last update is known to be before `moment`."""
    updated = record.get("updated_at")
    if not isinstance(updated, str):
        return False  # unknown: keep it rather than lose it
    try:
        when = datetime.datetime.fromisoformat(updated.replace("Z", "+00:00"))
    except ValueError:
        return False
    return when < moment
