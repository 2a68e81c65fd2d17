"""Alerts that never reach `/incidents/all`: what the Outside Birds saw, and what the console
suppressed through ignored annotations. Both are snapshots: neither endpoint lists its entries
by anything a sync could resume after."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Iterator

from typing_extensions import override

from tap_thinkst_canary.client import Page, SnapshotStream
from tap_thinkst_canary.errors import CursorRejectedError
from tap_thinkst_canary.model import (
    IGNORED_INCIDENT_SCHEMA,
    OUTSIDE_BIRD_INCIDENT_SCHEMA,
    flock_of_devices,
    ignored_incident_record,
    outside_bird_incident_record,
)
from tap_thinkst_canary.streams.inventory import FlocksStream

if t.TYPE_CHECKING:
    from tap_thinkst_canary.api import JSON
    from tap_thinkst_canary.consoles import Console

Row = dict[str, t.Any]

IGNORED_ANNOTATIONS_PATH = "/settings/ignored_annotations"


class OutsideBirdIncidentsStream(SnapshotStream):
    """Outside Bird alerts (Canaries facing the internet, whose alerts are not incidents): one
    row per bird and source address, with its alert counts by service; a full snapshot on every
    sync.

    The search gives each source's running counts, in order of bird and address, with no time
    and no id: a new alert raises the count of a row already synced, wherever it is in the
    order, so no bookmark could say what is new. Each sync takes every row again (they upsert
    on `node_id` and `ip_address`); an interrupted sync loses nothing, the next takes them all.
    """

    name = "outside_bird_incidents"
    path = "/incidents/outside_bird/search"
    records_key = "src_ips"
    paged = True
    converter = staticmethod(outside_bird_incident_record)
    record_schema = OUTSIDE_BIRD_INCIDENT_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "node_id", "ip_address"]

    @override
    def convert(self, answer: list[JSON] | JSON, console: Console) -> list[Row]:
        # The search says nothing of flocks; the flocks' summary says which flock a bird is in.
        return with_flock_ids(super().convert(answer, console), console)


class IgnoredIncidentsStream(SnapshotStream):
    """Incidents the console suppressed because they matched an ignored annotation (they never
    reach `/incidents/all`), one row per incident and annotation, with the annotation's text;
    a full snapshot on every sync.

    The listing pages by page number, one annotation at a time, in an order the API does not
    document, and gives no id and no change counter (an incident may still be acknowledged):
    every page is read on every sync, so nothing is left to resume after.
    """

    name = "ignored_incidents"
    path = "/settings/ignored_annotations/incidents"
    records_key = "ignored_incidents"
    redacts = True
    record_schema = IGNORED_INCIDENT_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "annotation", "incident_key"]
    needs_key = "an admin key"

    # The incidents are listed per annotation, by page number rather than cursor, and their
    # records need the annotation they were listed under: the base's paging does not fit.
    @override
    def snapshot(self, console: Console) -> Iterator[Page]:
        redact = self.settings.redact_secrets
        listing = console.answer_once(IGNORED_ANNOTATIONS_PATH)
        for annotation in listing.get("ignored_annotations") or []:
            if not isinstance(annotation, dict) or not annotation.get("name"):
                continue
            for raw_page in self._numbered_pages(console, annotation["name"]):
                records = [
                    ignored_incident_record(raw, annotation, redact=redact) for raw in raw_page
                ]
                yield Page(
                    [
                        record
                        for record in with_flock_ids(records, console)
                        if self.in_selected_flock(console, record)
                    ]
                )

    def _numbered_pages(self, console: Console, annotation: str) -> Iterator[list[JSON]]:
        """The suppressed incidents of one annotation, a page at a time, following
        `next_page` until there is none."""
        number: int | None = 1
        while number is not None:
            answer = console.api.get(self.path, {"annotation": annotation, "page": number})
            items = answer.get(self.records_key) or []
            self._fetched[console.name] += len(items)
            self.log_progress(console, number, None, part=annotation)
            yield items
            following = answer.get("next_page")
            if following is None:
                return
            if not isinstance(following, int) or following <= number:
                raise CursorRejectedError(
                    f"The console answered page {number} of {self.path} for {annotation} with "
                    f"next page {following!r}, which would never end; run the sync again later."
                )
            number = following


def with_flock_ids(records: Iterable[Row], console: Console) -> list[Row]:
    """`records` with the flock of their `node_id` filled in where the answer did not say it,
    from the flocks' summary (asked for once a sync, whichever stream asks first)."""
    records = list(records)
    if any(record["flock_id"] is None for record in records):
        flock_of = flock_of_devices(console.answer_once(FlocksStream.path))
        for record in records:
            if record["flock_id"] is None:
                record["flock_id"] = next(
                    filter(None, map(flock_of.get, _device_ids(record))), None
                )
    return records


def _device_ids(record: Row) -> Iterator[str]:
    """The ids the flocks' summary may list the record's bird or token under: a bird by its
    node id, a Canarytoken by its code, which only its events name."""
    if isinstance(record.get("node_id"), str):
        yield record["node_id"]
    for event in record.get("events") or ():
        if isinstance(event, dict) and isinstance(event.get("canarytoken"), str):
            yield event["canarytoken"]
            return
