"""The base of every stream: what each of them needs, written once.

A stream says where its records live and how a raw API object becomes a record; this class does
the rest, for every console of the sync:

- one partition per console, so each console keeps its own bookmarks in the state, and every
  record carries its `console`, the first part of every primary key;
- the access check, as the first request of the sync;
- fetching: a worker thread per console (at most `max_parallel_consoles` at once) asks the
  console for its pages and turns them into records, while the main thread writes the records
  of the console before it. The records of one console keep their order;
- bookmarks: a stream hands out pages, each with the bookmark it completes; this class writes
  that bookmark into the console's state and checkpoints, in the main thread, after the page's
  records are written, so a STATE never claims a record not yet written;
- stopping cleanly, state written, when a console refuses to go on (the other consoles go on)
  or a signal asks the sync to stop (see `interruption`);
- deletions, as tombstones: see `SnapshotStream` and `CanaryStream.tombstone`.

Why tombstones and not Singer's ACTIVATE_VERSION: that message tells a target to mark deleted
every row of the table the sync did not send again, whichever console it came from, so a console
that failed this run would see all its rows marked deleted; and the SDK sends it before the
records, so a snapshot interrupted part way would leave everything not yet re-sent marked
deleted. A tombstone is a record the tap computes for one console, once it knows: the key of
what is gone, `_sdc_deleted_at` set, every other column null. An upserting target marks the row.
"""

from __future__ import annotations

import abc
import collections
import datetime
import functools
import itertools
import json
import logging
import threading
import typing as t
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from singer_sdk import metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.streams import Stream
from typing_extensions import override

from tap_thinkst_canary import clock
from tap_thinkst_canary.errors import (
    CanaryError,
    CursorRejectedError,
    PermissionRefusedError,
    SyncInterrupted,
    SyncStopped,
)
from tap_thinkst_canary.interruption import INTERRUPTION
from tap_thinkst_canary.writer import FastSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_thinkst_canary.api import JSON, PageReader
    from tap_thinkst_canary.consoles import Console
    from tap_thinkst_canary.settings import Settings
    from tap_thinkst_canary.tap import TapThinkstCanary

Row = dict[str, t.Any]

# A console that keeps handing out empty pages, each with a new cursor, would be followed forever:
# after this many in a row the sync stops. No console pages like that on purpose.
MAX_EMPTY_PAGES_IN_A_ROW = 20

#: The column of a tombstone's time of deletion (null in every other record of its stream): the
#: name targets built on the Singer SDK and PipelineWise read as "this row is deleted".
DELETED_AT = "_sdc_deleted_at"
DELETED_AT_PROPERTY: dict[str, t.Any] = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "Null while the record exists in the console. Set (UTC) in the tombstone the "
    "tap sends once it finds the record deleted, with the key columns and every other column "
    "null: an upserting loader marks the row deleted. A record that comes back is sent with it "
    "null again.",
}
#: Where a snapshot stream keeps, in each console's state, the keys of its last complete
#: snapshot (and the flock it was restricted to): what the next snapshot is compared with.
SNAPSHOT_KEY = "last_snapshot"


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class Page:
    """Records to write together, and the bookmark that holds once they are written: the keys
    to set in the console's state for the stream (none for a snapshot)."""

    records: list[Row]
    bookmark: Mapping[str, t.Any] | None = None
    #: Whether the stream's children (incident events) are still to come from these records.
    children_pending: bool = False
    #: When the records were made from the console's answer: their `time_extracted`.
    extracted_at: datetime.datetime = field(default_factory=_utc_now)


class CanaryStream(Stream, abc.ABC):
    """A stream of the Canary Console API, synced from every console of the sync."""

    # Records come out of the data model already typed for the schema: checking them again,
    # field by field, would be the most expensive thing the tap does.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: The data model's schema of the stream's records; the stream's own adds `console`.
    record_schema: t.ClassVar[dict[str, t.Any]]
    #: The endpoint, under the API base URL.
    path: t.ClassVar[str]
    #: The key of the response that holds the list of raw objects.
    records_key: t.ClassVar[str]
    #: Ask for `*_std` timestamps in UTC (endpoints that accept `tz`).
    accepts_tz: t.ClassVar[bool] = False
    #: How the stream resumes, for the README, where its replication key alone would mislead.
    replication_summary: t.ClassVar[str | None] = None
    #: The kind of API key the endpoint needs, if a read-only key may be refused it (e.g. "an
    #: admin key"). A console that refuses the key this stream is skipped, with a warning, and
    #: the sync goes on; any other stream is needed, and a refusal stops the console.
    needs_key: t.ClassVar[str | None] = None
    #: The stream sends tombstones for deleted records: its schema gets `_sdc_deleted_at`.
    tombstones: t.ClassVar[bool] = False

    def __init__(self, tap: TapThinkstCanary) -> None:
        super().__init__(tap=tap, schema=stream_schema(type(self)))
        self._canary_tap = tap
        self._fetched: Counter[str] = Counter()
        self._emitted: Counter[str] = Counter()
        self._feeds: dict[str, Feed] = {}
        #: The page whose records are being written, for the children to expand.
        self.page_in_hand: Page | None = None
        #: When the records being emitted were extracted (see `emit`).
        self._extracted_at: datetime.datetime | None = None
        #: The SDK's record count of the sync at hand (see `get_record_counter`).
        self._record_counter: metrics.Counter | None = None

    @property
    def settings(self) -> Settings:
        return self._canary_tap.settings

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        # One partition per console: the SDK keeps each console's bookmarks apart.
        return [{"console": console.name} for console in self._canary_tap.consoles]

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        # Never sent, whatever the config says: deletions go out as tombstones, computed per
        # console (see the module's docstring). ACTIVATE_VERSION would drop the rows of every
        # console that failed this run, and, sent before the records, leave a snapshot
        # interrupted part way marked deleted; `incident_events` would lose the events of every
        # incident the sync did not touch.
        return False

    def tombstone(self, key: Mapping[str, t.Any], deleted_at: str) -> Row:
        """The record that says the record of `key` (its key columns but `console`, which
        `emit` stamps) was deleted at `deleted_at`: every other column null."""
        record: Row = dict.fromkeys(self.record_schema["properties"])
        record.update(key)
        record[DELETED_AT] = deleted_at
        return record

    # What a stream says

    def starting_bookmark(self, context: Context) -> t.Any:
        """Where the stream resumes for the console of `context`, read from the state before
        any page is fetched; `pages` gets it."""
        return None

    @abc.abstractmethod
    def pages(self, console: Console, bookmark: t.Any) -> Iterator[Page]:
        """The console's records, a page at a time, in the order they are to be written.

        Runs in a worker thread: it fetches and converts, and touches neither the state nor
        the output.
        """

    # The sync

    @override
    def get_records(self, context: Context | None) -> Iterable[Row]:
        assert context is not None  # every stream is partitioned by console
        try:
            if context == self.partitions[0]:  # type: ignore[index]
                # The stream's first console: the sync's first request, then every feed.
                self._canary_tap.check_access(self)
                self._start_feeds()
            console = self._canary_tap.consoles[context["console"]]
            feed = self._feeds.get(console.name)
            if feed is not None and not console.failed:
                yield from self._write_feed(feed, console, context)
            # Done with it only now: until here, a stop of the sync must reach its worker too.
            self._feeds.pop(console.name, None)
            if not self._feeds:
                self._canary_tap.end_of_stream(self)
        except SyncInterrupted as stop:
            self.stop_fetching()
            self.checkpoint(last=True)
            raise SyncStopped(stop.cause) from None
        except BaseException:
            self.stop_fetching()
            raise

    def _write_feed(self, feed: Feed, console: Console, context: Context) -> Iterator[Row]:
        try:
            for page in feed:
                self.page_in_hand = page
                room = self._dry_run_room(sum(self._emitted.values()))
                if self._writes_its_records:
                    self._sync_children_of(page, context)
                yield from self.emit(
                    page.records, console, extracted_at=page.extracted_at, room=room
                )
                self.page_in_hand = None
                if room is not None and room < len(page.records):
                    # A dry run stopped inside the page: its bookmark would claim the rest.
                    self.checkpoint()
                    continue
                self.page_written(page, console)
                if page.bookmark:
                    self.get_context_state(context).update(page.bookmark)
                self.checkpoint()
        except CanaryError as problem:
            feed.stop()
            if isinstance(problem, PermissionRefusedError) and self.needs_key is not None:
                self.logger.warning(
                    "%s skipped for console %s: %s The stream needs %s.",
                    self.name,
                    console.name,
                    problem,
                    self.needs_key,
                )
                return
            # Everything emitted so far has been written: make the state say so, then go on
            # with the other consoles.
            self.checkpoint()
            self._canary_tap.set_aside(console, problem, self)

    def page_written(self, page: Page, console: Console) -> None:
        """Called in the main thread once the records of `page` are written, before its
        bookmark is set: what the page changes in another stream's state then goes out in the
        same STATE message as the bookmark that moves past it."""

    def emit(
        self,
        records: Iterable[Row],
        console: Console,
        *,
        extracted_at: datetime.datetime,
        room: int | None = None,
    ) -> Iterator[Row]:
        """`records`, each stamped with its console, a safe point for a signal after each;
        no more than `room` of them. Their messages say they were extracted `extracted_at`."""
        name = console.name
        if room is not None:
            records = itertools.islice(records, max(room, 0))
        if self._writes_its_records:
            self._write_records(records, name, extracted_at)
            return
        tombstones = self.tombstones
        emitted = self._emitted
        stop_here_if_requested = INTERRUPTION.stop_here_if_requested
        self._extracted_at = extracted_at
        try:
            for record in records:
                record["console"] = name
                if tombstones:
                    record.setdefault(DELETED_AT, None)
                emitted[name] += 1
                yield record
                # The SDK asks for the next record once this one is written and counted in the
                # state: a point where a signal's stop cuts nothing.
                stop_here_if_requested()
        finally:
            self._extracted_at = None

    def _write_records(
        self, records: Iterable[Row], console_name: str, extracted_at: datetime.datetime
    ) -> None:
        """What the SDK does with each record when no stream map changes it: its message
        written, the bookmark moved to it (as the SDK moves a sorted stream's), counted, then a
        safe point for a signal. In one loop here, without a message object per record, it
        costs a fraction of the SDK's way (see `_writes_its_records`)."""
        write = self._writer.record_writer(self.stream_maps[0].stream_alias, extracted_at)
        tombstones = self.tombstones
        key = self.replication_key
        bookmark = self.get_context_state({"console": console_name}) if key else {}
        stop_here_if_requested = INTERRUPTION.stop_here_if_requested
        written = 0
        try:
            for record in records:
                record["console"] = console_name
                if tombstones:
                    record.setdefault(DELETED_AT, None)
                write(record)
                written += 1
                # A tombstone has no replication key: it says nothing of how far the stream is.
                if key and (value := record.get(key)) is not None:
                    bookmark["replication_key"] = key
                    bookmark["replication_key_value"] = value
                stop_here_if_requested()
        finally:
            self._emitted[console_name] += written
            if self._record_counter is not None:
                self._record_counter.increment(written)

    def _sync_children_of(self, page: Page, context: Context) -> None:
        """The child streams of a page whose records the stream writes itself, synced before
        them, as the SDK syncs them before the record that leads to them."""
        if not (page.children_pending and page.records):
            return
        page.children_pending = False
        for child in self.child_streams:
            if child.selected or child.has_selected_descendents:
                child.sync(context=dict(context))

    @cached_property
    def _writes_its_records(self) -> bool:
        """Whether the stream writes its own records' messages rather than hand each record to
        the SDK, when the SDK's per-record work would do nothing more: the stream is selected
        whole, a single stream map passes each record on as it is (no filter, alias or
        flattening), and messages go out one line each (no BATCH files). Its child streams and
        its bookmark are then the stream's to follow, as the SDK would: children before the
        records of a page, a sorted stream's bookmark at the record last written. The SDK's
        record count still counts every record."""
        maps = self.stream_maps
        return (
            self.selected
            and (self.replication_key is None or self.is_sorted)
            and not self._some_property_deselected
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and type(self).post_process is Stream.post_process
            and self.get_batch_config(self.config) is None
            and isinstance(self._canary_tap.message_writer, FastSingerWriter)
        )

    @property
    def _writer(self) -> FastSingerWriter:
        writer = self._canary_tap.message_writer
        assert isinstance(writer, FastSingerWriter)
        return writer

    @override
    def get_record_counter(self, **kwargs: t.Any) -> metrics.Counter:
        # The SDK's count of the records of the sync at hand: `_write_records` adds to it.
        self._record_counter = super().get_record_counter(**kwargs)
        return self._record_counter

    def _dry_run_room(self, emitted: int) -> int | None:
        """How many more records a dry run (`--test`) wants, after `emitted`. Stopping at them
        is a success; the SDK, left to abort the stream itself, would log it as an error."""
        limit = self.ABORT_AT_RECORD_COUNT
        return None if limit is None else limit - emitted

    @override
    def generate_child_contexts(self, record: Row, context: Context | None) -> Iterable[Context]:
        # Children get a page at a time, with the first record of it the SDK writes (not one a
        # stream map filters out): the SDK syncs them before it writes that record, so a page's
        # events go out before its incidents, and a STATE (written after any record) never
        # claims an incident whose events are not written.
        page = self.page_in_hand
        if (
            context is not None
            and page is not None
            and page.children_pending
            and self.stream_maps[0].get_filter_result(record)
        ):
            page.children_pending = False
            yield dict(context)

    def _start_feeds(self) -> None:
        consoles = [console for console in self._canary_tap.consoles if not console.failed]
        feeds = []
        for console in consoles:
            bookmark = self.starting_bookmark({"console": console.name})
            produce = functools.partial(self.pages, console, bookmark)
            # As many records ahead as a page of the largest streams holds.
            feeds.append(Feed(console.name, produce, records_ahead=self.settings.page_size))
        self._feeds = {feed.name: feed for feed in feeds}
        Feeds(feeds, max_parallel=self.settings.max_parallel_consoles).start()

    def stop_fetching(self) -> None:
        """Stop every worker of the stream: the sync stops."""
        for feed in self._feeds.values():
            feed.stop()
        self._feeds = {}

    # What every stream fetches with

    def first_page_params(self, **params: t.Any) -> dict[str, t.Any]:
        """The query of a first page: `params` without the unset ones, plus `tz` if accepted."""
        if self.accepts_tz:
            params["tz"] = "UTC"
        return {name: value for name, value in params.items() if value is not None}

    def fetch_pages(
        self,
        console: Console,
        params: Mapping[str, t.Any],
        *,
        part: str = "",
        reader: PageReader | None = None,
    ) -> Iterator[list[JSON]]:
        """The raw objects of every page, a page at a time, logging progress as they come;
        `part` names the slice of the stream being paged, if it is paged in several; `reader`
        reads the pages it can (see `CanaryApi.get`)."""
        empty_in_a_row = 0
        pages = console.api.pages(self.path, params, reader=reader)
        for number, page in enumerate(pages, start=1):
            items = page.get(self.records_key) or []
            self._fetched[console.name] += len(items)
            self.log_progress(console, number, _total_pages(page), part=part)
            empty_in_a_row = 0 if items else empty_in_a_row + 1
            if empty_in_a_row >= MAX_EMPTY_PAGES_IN_A_ROW and _next_cursor(page):
                raise CursorRejectedError(
                    f"The console answered {empty_in_a_row} pages of {self.path} in a row with "
                    "no records but a new cursor each time, which may never end; run the sync "
                    "again later, it resumes from its last state."
                )
            yield items

    def fetch_one(
        self, console: Console, params: Mapping[str, t.Any] | None = None, *, once: bool = False
    ) -> JSON:
        """The whole answer of an endpoint that does not page; with `once`, the answer the
        console gave another stream of this sync, if it did."""
        answer = (
            console.answer_once(self.path, params)
            if once
            else console.api.get(self.path, params or {})
        )
        self._fetched[console.name] += len(answer.get(self.records_key) or [])
        self.log_progress(console, 1, 1)
        return answer

    def in_selected_flock(self, console: Console, record: Mapping[str, t.Any]) -> bool:
        """Whether a record belongs to the flock that `flock_id` restricts the console to."""
        flock_id = console.settings.flock_id
        return flock_id is None or record.get("flock_id") == flock_id

    def log_progress(
        self, console: Console, page_number: int, page_total: int | None, *, part: str = ""
    ) -> None:
        of_total = f" of {page_total}" if page_total else ""
        where = " ".join(
            filter(None, (self.name, part, f"[{console.name}]" if self._many_consoles else ""))
        )
        # Both counts: a stream may fetch more than it emits (the audit trail skips what an
        # earlier run emitted, a flock filter skips other flocks).
        Feed.log_unless_stopped(
            self.logger,
            "%s: page %d%s fetched; %d records fetched, %d emitted so far",
            where,
            page_number,
            of_total,
            self._fetched[console.name],
            self._emitted[console.name],
        )

    @cached_property
    def _many_consoles(self) -> bool:
        return len(self._canary_tap.consoles) > 1

    # Messages

    def checkpoint(self, *, last: bool = False) -> None:
        """Write a STATE message now, covering every record emitted so far; if it is the `last`
        message, even a state unchanged since the previous one, so that it ends the output.

        In BATCH mode the SDK writes the state itself, right after each batch is delivered:
        a state written between two batches could claim records still sitting in a file.
        """
        if self.get_batch_config(self.config) is not None:
            return
        if last:
            self._canary_tap.write_message(StateMessage(value=self.tap_state))
        else:
            self._canary_tap.state_writer.write_state(self.tap_state)

    @override
    def _generate_record_messages(self, record: Row) -> Generator[RecordMessage, None, None]:
        # With every property selected, the SDK's per-record walk through each record, nested
        # objects included, looking for deselected properties changes nothing, yet it was the
        # largest cost of the sync after the records' own conversion. Types need no conforming
        # either (see TYPE_CONFORMANCE_LEVEL). A catalog that deselects properties gets the
        # SDK's own path.
        if self._some_property_deselected:
            yield from super()._generate_record_messages(record)
            return
        # The records of one page were extracted together: one clock reading for all of them.
        extracted_at = self._extracted_at or _utc_now()
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias, record=mapped, time_extracted=extracted_at
                )

    @cached_property
    def _some_property_deselected(self) -> bool:
        return not all(self.mask.values())


class SnapshotStream(CanaryStream):
    """A stream that is the console's whole list of something, taken again on every sync.

    A snapshot stream is a declaration: where the list is (`path`, `records_key`), whether it
    pages (`paged`), how an object becomes a record (`converter`, or `answer_converter` for an
    answer that is not a list), whether the flock filter goes to the API too (`flock_param`).
    A list that takes more than one endpoint is fetched by the stream's own `snapshot`; the
    pages and their tombstones are the base's alone.

    Deletions: once a console's snapshot is complete (every page written), the keys it held are
    compared with those of the console's previous complete snapshot, kept in its state of the
    stream (`last_snapshot`), and a tombstone goes out for each key gone; then the new keys
    replace the old, in the same STATE. A snapshot that stops part way (a signal, a crash, a
    console that fails) gets no further: no tombstone, and the old keys stay for the next run.
    A key restricted to another flock is not comparable: a changed `flock_id` starts afresh.
    """

    tombstones = True

    #: The endpoint pages with `limit` and `cursor`.
    paged: t.ClassVar[bool] = False
    #: Send `flock_id` to the endpoint when the sync is restricted to a flock.
    flock_param: t.ClassVar[bool] = False
    #: Another stream of the sync reads the same answer: ask for it once.
    shared_answer: t.ClassVar[bool] = False
    #: The raw object -> a record (a `staticmethod` of the data model's function).
    converter: t.ClassVar[staticmethod[..., Row] | None] = None
    #: The whole answer -> its records, for an answer that is not a list of objects.
    answer_converter: t.ClassVar[staticmethod[[JSON], Iterable[Row]] | None] = None
    #: The converter takes `redact=` (the `redact_secrets` setting).
    redacts: t.ClassVar[bool] = False

    @override
    def starting_bookmark(self, context: Context) -> PreviousSnapshot:
        console = self._canary_tap.consoles[context["console"]]
        kept = self.get_context_state(context).get(SNAPSHOT_KEY)
        previous = PreviousSnapshot.read(kept, self._deleted_at)
        if kept is not None and previous.keys is None:
            self.logger.warning(
                "%s [%s]: the state's `%s` is not a list of keys; this sync sends no "
                "tombstones and keeps the keys it finds for the next.",
                self.name,
                console.name,
                SNAPSHOT_KEY,
            )
        elif previous.flock_id != console.settings.flock_id:
            previous = PreviousSnapshot(None, previous.flock_id, previous.deleted_at)
        return previous

    @t.final
    @override
    def pages(self, console: Console, bookmark: PreviousSnapshot) -> Iterator[Page]:
        # Final: every snapshot stream, declared or not, compares its keys here, so none can
        # leave its deletions out by fetching its own way (that is `snapshot`'s to say).
        key_columns = self._key_columns
        seen: set[t.Any] = set()
        for page in self.snapshot(console):
            assert page.bookmark is None, "a snapshot's pages carry no bookmark"
            seen.update(_key_of(record, key_columns) for record in page.records)
            yield page
        gone = [] if bookmark.keys is None else sorted(bookmark.keys - seen, key=_sort_order)
        tombstones = [
            self.tombstone(
                dict(zip(key_columns, _key_values(key), strict=True)), bookmark.deleted_at
            )
            for key in gone
        ]
        kept = {"flock_id": console.settings.flock_id, "keys": sorted(seen, key=_sort_order)}
        yield Page(tombstones, bookmark={SNAPSHOT_KEY: _as_json(kept)})

    def snapshot(self, console: Console) -> Iterator[Page]:
        """The console's whole list, a page at a time, as the declaration says; a stream whose
        list takes more than one endpoint, or a converter with more than the raw object,
        fetches its own way here."""
        for raw_objects in self._answers(console):
            yield Page(
                [
                    record
                    for record in self.convert(raw_objects, console)
                    if self.in_selected_flock(console, record)
                ]
            )

    @cached_property
    def _key_columns(self) -> tuple[str, ...]:
        return tuple(name for name in self.primary_keys if name != "console")

    @cached_property
    def _deleted_at(self) -> str:
        """When the sync found the deletions: the moment it first asked for the stream."""
        return clock.utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def convert(self, answer: list[JSON] | JSON, console: Console) -> Iterable[Row]:
        """The records of one answer (or page) of the endpoint."""
        if self.answer_converter is not None:
            assert isinstance(answer, dict)
            return self.answer_converter(answer)
        convert = self.converter
        assert convert is not None
        assert isinstance(answer, list)
        if self.redacts:
            redact = self.settings.redact_secrets
            return [convert(raw, redact=redact) for raw in answer]
        return [convert(raw) for raw in answer]

    def _answers(self, console: Console) -> Iterator[list[JSON] | JSON]:
        flock_id = console.settings.flock_id if self.flock_param else None
        if self.paged:
            params = self.first_page_params(limit=self.settings.page_size, flock_id=flock_id)
            yield from self.fetch_pages(console, params)
            return
        answer = self.fetch_one(
            console, self.first_page_params(flock_id=flock_id), once=self.shared_answer
        )
        yield answer if self.answer_converter is not None else answer.get(self.records_key) or []


@dataclass(frozen=True)
class PreviousSnapshot:
    """What a console's previous complete snapshot of a stream held: its keys (None when
    unknown: no tombstone can be computed), the flock it was restricted to, and the time the
    tombstones of this sync carry."""

    keys: frozenset[t.Any] | None
    flock_id: str | None
    deleted_at: str

    @classmethod
    def read(cls, kept: t.Any, deleted_at: str) -> PreviousSnapshot:
        if not isinstance(kept, dict) or not isinstance(kept.get("keys"), list):
            return cls(None, None, deleted_at)
        try:
            keys = frozenset(_hashable(key) for key in kept["keys"])
        except TypeError:
            return cls(None, None, deleted_at)
        flock_id = kept.get("flock_id")
        return cls(keys, flock_id if isinstance(flock_id, str) else None, deleted_at)


def _key_of(record: Mapping[str, t.Any], columns: tuple[str, ...]) -> t.Any:
    """A record's key without its console: the value of a one-column key, else a tuple."""
    if len(columns) == 1:
        return record.get(columns[0])
    return tuple(record.get(name) for name in columns)


def _key_values(key: t.Any) -> tuple[t.Any, ...]:
    return key if isinstance(key, tuple) else (key,)


def _hashable(key: t.Any) -> t.Any:
    """A key read back from the state, where a tuple was written as a list."""
    return tuple(key) if isinstance(key, list) else key


def _as_json(kept: dict[str, t.Any]) -> dict[str, t.Any]:
    return {**kept, "keys": [list(key) if isinstance(key, tuple) else key for key in kept["keys"]]}


def _sort_order(key: t.Any) -> str:
    # Keys are strings or integers, or tuples of them; the state's list stays sorted the same
    # way whatever their types, so that an unchanged snapshot writes an unchanged state.
    return json.dumps(key, default=str)


class Feed:
    """One console's pages for one stream: a worker thread produces them ahead of the main
    thread, which writes them, until `records_ahead` records are ready (a page of any size goes
    when none is). Many small pages, each a request or a few (a flock's settings, its API keys),
    are then fetched while other consoles are written, and large ones still wait: the memory
    held stays about a page. What the worker raises reaches the main thread in place of the
    next page."""

    _END: t.Final = object()
    #: The feed the current worker thread produces for, if it is a worker.
    _current = threading.local()

    def __init__(
        self, name: str, produce: Callable[[], Iterator[Page]], records_ahead: int
    ) -> None:
        self.name = name
        self._produce = produce
        self._records_ahead = records_ahead
        self._ready: collections.deque[t.Any] = collections.deque()
        self._records_ready = 0
        # Notified whenever `_ready` changes or the feed is stopped.
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        # Held while the worker logs and while the main thread stops the feed: once stopped,
        # the worker still finishing a request logs nothing more, and the line that says why
        # the sync stopped stays the last.
        self._log_lock = threading.Lock()

    @classmethod
    def log_unless_stopped(cls, logger: logging.Logger, message: str, *args: t.Any) -> None:
        """Log `message` at INFO, unless this is the worker of a feed that was stopped."""
        feed: Feed | None = getattr(cls._current, "feed", None)
        if feed is None:
            logger.info(message, *args)
            return
        with feed._log_lock:
            if not feed._stopped.is_set():
                logger.info(message, *args)

    def run(self) -> None:
        """The worker's side."""
        Feed._current.feed = self
        try:
            for page in self._produce():
                if not self._put(page):
                    return
        except BaseException as error:  # handed to the main thread, whatever it is
            self._put(_Raised(error))
            return
        self._put(self._END)

    def __iter__(self) -> Iterator[Page]:
        """The main thread's side."""
        while True:
            with INTERRUPTION.stoppable_wait():
                item = self._take()
            if item is self._END:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item

    def stop(self) -> None:
        """The main thread wants no more: the worker stops at its next page."""
        with self._log_lock:
            self._stopped.set()
        with self._changed:
            self._changed.notify_all()

    def _take(self) -> t.Any:
        with self._changed:
            while not self._ready:
                self._changed.wait()
            item = self._ready.popleft()
            self._records_ready -= _records_in(item)
            self._changed.notify_all()
            return item

    def _put(self, item: t.Any) -> bool:
        records = _records_in(item)
        with self._changed:
            while (
                not self._stopped.is_set()
                and self._ready
                and self._records_ready + records > self._records_ahead
            ):
                self._changed.wait()
            if self._stopped.is_set():
                return False
            self._ready.append(item)
            self._records_ready += records
            self._changed.notify_all()
            return True


def _records_in(item: t.Any) -> int:
    # An empty page counts as one: a console handing out empty pages is not followed without
    # end while the main thread writes another.
    return max(len(item.records), 1) if isinstance(item, Page) else 0


@dataclass
class _Raised:
    error: BaseException


@dataclass
class Feeds:
    """Starts the feeds' workers in the order the main thread reads them, at most
    `max_parallel` at a time: the feed the main thread waits for is always running."""

    feeds: list[Feed]
    max_parallel: int
    _next: int = 0
    _running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        with self._lock:
            while self._running < self.max_parallel and self._next < len(self.feeds):
                feed = self.feeds[self._next]
                self._next += 1
                self._running += 1
                threading.Thread(
                    target=self._work, args=(feed,), name=f"canary-{feed.name}", daemon=True
                ).start()

    def _work(self, feed: Feed) -> None:
        try:
            feed.run()
        finally:
            with self._lock:
                self._running -= 1
            self.start()


CONSOLE_PROPERTY: dict[str, t.Any] = {
    "type": ["string"],
    "description": "The console the record comes from: its `name` in `consoles`, else "
    "`console_name`, else the console's domain hash (or the host of `base_url`). The first "
    "part of every primary key.",
}


def with_console(record_schema: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A schema with the `console` column first, then its records' own."""
    return {
        **record_schema,
        "properties": {"console": CONSOLE_PROPERTY, **record_schema["properties"]},
    }


def stream_schema(stream_type: type[CanaryStream]) -> dict[str, t.Any]:
    """A stream's schema: `console`, its records' own columns, and `_sdc_deleted_at` if it
    sends tombstones."""
    schema = with_console(stream_type.record_schema)
    if stream_type.tombstones:
        schema["properties"][DELETED_AT] = DELETED_AT_PROPERTY
    return schema


def _next_cursor(page: JSON) -> t.Any:
    cursor = page.get("cursor")
    return cursor.get("next") if isinstance(cursor, dict) else None


def _total_pages(page: JSON) -> int | None:
    for key in ("page_count", "page_total", "total_pages"):
        value = page.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return None
