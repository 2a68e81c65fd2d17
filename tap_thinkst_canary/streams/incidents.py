"""Incidents and their events."""

from __future__ import annotations

import datetime
import typing as t
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial

from typing_extensions import override

from tap_thinkst_canary import clock
from tap_thinkst_canary.client import DELETED_AT, CanaryStream, Page
from tap_thinkst_canary.errors import SyncInterrupted, SyncStopped
from tap_thinkst_canary.model import (
    INCIDENT_EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    TypedIncidents,
    incident_event_rows,
    incident_record,
    typed_page,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_thinkst_canary.consoles import Console

Row = dict[str, t.Any]

# Incidents found deleted (in the audit trail) whose tombstones are not written yet, kept in the
# incidents stream's state of each console: {incident id: when it was deleted}.
PENDING_DELETIONS_KEY = "deletions_pending"


class IncidentsStream(CanaryStream):
    """Incidents, incremental on `updated_id`.

    Acknowledging or otherwise updating an incident gives it a new, higher `updated_id`, so it
    comes back with its new state: load with upserts on `id`. A STATE message follows every
    page, so an interrupted sync resumes at the page after the last one finished. An incident
    deleted in the console (as the audit trail records) gets a tombstone: its `id`,
    `_sdc_deleted_at` set, every other column null.
    """

    name = "incidents"
    path = "/incidents/all"
    records_key = "incidents"
    accepts_tz = True
    record_schema = INCIDENT_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "id"]
    # The bookmark is the SDK's replication key: it moves to each incident's `updated_id` as the
    # incident is written (by the SDK, or by `CanaryStream._write_records` the same way). Each
    # page is written in `updated_id` order, so a page ends at its highest; should a console
    # ever page out of order, the bookmark can only go back (and re-sync), never skip one.
    replication_key = "updated_id"
    is_sorted = True
    check_sorted = False
    tombstones = True

    def note_deletions(self, console: Console, deleted: Mapping[str, str | None]) -> None:
        """Incidents of `console` deleted in the console, by id, with the time of deletion:
        their tombstones go out at the start of the console's next incidents pages.

        Called in the main thread by the stream that found them, before its own bookmark moves
        past them: they are kept in this stream's state, so the STATE that moves that bookmark
        holds them too, and a sync stopped before they are written loses none of them.
        """
        state = self.get_context_state({"console": console.name})
        if not self.selected or state.get("replication_key_value") is None:
            # Nothing of the console's incidents is loaded yet: there is no row to mark.
            return
        pending = state.get(PENDING_DELETIONS_KEY)
        pending = dict(pending) if isinstance(pending, dict) else {}
        pending.update(deleted)
        state[PENDING_DELETIONS_KEY] = pending

    @override
    def starting_bookmark(self, context: Context) -> IncidentsBookmark:
        state = self.get_context_state(context)
        value = state.get("replication_key_value")
        pending = state.get(PENDING_DELETIONS_KEY)
        # A bookmark is an `updated_id`, checked as the state was loaded.
        return IncidentsBookmark(
            value if isinstance(value, int) else None,
            dict(pending) if isinstance(pending, dict) else {},
        )

    @override
    def pages(self, console: Console, bookmark: IncidentsBookmark) -> Iterator[Page]:
        if bookmark.deletions_pending:
            now = clock.utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")
            tombstones = [
                self.tombstone({"id": incident_id}, deleted_at or now)
                for incident_id, deleted_at in sorted(bookmark.deletions_pending.items())
            ]
            yield Page(tombstones, bookmark={PENDING_DELETIONS_KEY: {}})
        updated_id = bookmark.updated_id
        # `start_date` applies to the first sync only; after that the bookmark decides.
        updated_before = console.settings.start_date if updated_id is None else None
        params = self.first_page_params(
            incidents_since=updated_id or 0,
            limit=self.settings.page_size,
            flock_id=console.settings.flock_id,
        )
        redact = self.settings.redact_secrets
        # Events kept as the JSON they came in are for the tap's own writer alone: the SDK's
        # per-record path (a stream map, BATCH files) wants them as objects. Their rows,
        # if wanted, check them as they decode them: the reader need not.
        reader = (
            partial(typed_page, redact=redact, check_events=not self.has_selected_descendents)
            if self._writes_its_records
            else None
        )
        for raw_page in self.fetch_pages(console, params, reader=reader):
            records = (
                raw_page
                if isinstance(raw_page, TypedIncidents)
                else (incident_record(raw, redact=redact) for raw in raw_page)
            )
            page = sorted(records, key=_updated_id)
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

    @override
    def _increment_stream_state(
        self, latest_record: Row, *, context: Context | None = None
    ) -> None:
        # A tombstone has no `updated_id`: it says nothing of how far the incidents are synced.
        if latest_record.get(DELETED_AT) is None:
            super()._increment_stream_state(latest_record, context=context)


@dataclass(frozen=True)
class IncidentsBookmark:
    """Where the incidents of a console resume (`updated_id`), and the deleted incidents whose
    tombstones are still to be written."""

    updated_id: int | None
    deletions_pending: dict[str, str | None] = field(default_factory=dict)


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

    @override
    def get_records(self, context: Context | None) -> Iterable[Row]:
        assert context is not None
        parent = self._canary_tap.streams[IncidentsStream.name]
        assert isinstance(parent, IncidentsStream)
        page = parent.page_in_hand
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
            yield from self.emit(
                events, console, extracted_at=page.extracted_at, room=self._dry_run_room(0)
            )
        except SyncInterrupted as stop:
            # The state claims no incident of this page yet: its events may stop anywhere.
            parent.stop_fetching()
            self.checkpoint(last=True)
            raise SyncStopped(stop.cause) from None

    @override
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
