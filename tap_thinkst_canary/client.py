"""The base of every stream: what each of them needs, written once.

A stream says where its records live (`path`, `records_key`) and how a raw API object becomes a
record; this class does the rest: requests through the tap's one `CanaryApi` (auth header,
retries, error bodies, orjson, token scrubbing), cursor paging with progress on stderr,
checkpoints, and stopping cleanly, state written, when the console refuses to go on or a signal
asks the sync to stop (see `interruption`).
"""

from __future__ import annotations

import abc
import datetime
import itertools
import typing as t
from collections.abc import Generator, Iterable, Iterator, Mapping
from functools import cached_property

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.streams import Stream

from tap_thinkst_canary.errors import (
    CanaryError,
    CursorRejectedError,
    SyncInterrupted,
    SyncStopped,
)
from tap_thinkst_canary.interruption import INTERRUPTION

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_thinkst_canary.api import JSON, CanaryApi
    from tap_thinkst_canary.settings import Settings
    from tap_thinkst_canary.tap import TapThinkstCanary


# A console that keeps handing out empty pages, each with a new cursor, would be followed forever:
# after this many in a row the sync stops. No console pages like that on purpose.
MAX_EMPTY_PAGES_IN_A_ROW = 20


class CanaryStream(Stream, abc.ABC):
    """A stream of one Canary Console API endpoint."""

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

    def __init__(self, tap: TapThinkstCanary) -> None:
        super().__init__(tap=tap, schema=with_console(self.record_schema))
        self._canary_tap = tap
        self._records_fetched = 0
        self._records_emitted = 0

    @property
    def api(self) -> CanaryApi:
        return self._canary_tap.api

    @property
    def settings(self) -> Settings:
        return self._canary_tap.settings

    # The SDK calls this; streams implement `records`.
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        records: Iterable[dict[str, t.Any]] = self.records(context)
        if self.ABORT_AT_RECORD_COUNT is not None:
            # A dry run (`--test`) wants this many records. Stopping at them is a success; the
            # SDK, left to abort the stream itself, would log it as an error.
            records = itertools.islice(records, self.ABORT_AT_RECORD_COUNT)
        console = self.settings.console_name
        try:
            for record in records:
                record["console"] = console
                self._records_emitted += 1
                yield record
                # The SDK asks for the next record once this one is written and counted in the
                # state: a point where a signal's stop cuts nothing.
                INTERRUPTION.stop_here_if_requested()
        except SyncInterrupted as stop:
            self.checkpoint(last=True)
            raise SyncStopped(stop.cause) from None
        except CanaryError as error:
            # Everything emitted so far has been processed: make the state say so, then stop.
            self.checkpoint()
            raise SyncStopped(error) from error

    @abc.abstractmethod
    def records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """This stream's records, in the order they are to be emitted."""

    def generate_child_contexts(
        self, record: dict[str, t.Any], context: Context | None
    ) -> Iterable[Context | None]:
        # No stream hands a context to children record by record (incidents pass their events
        # on a page at a time): skip the SDK's per-record child bookkeeping.
        return ()

    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> Generator[RecordMessage, None, None]:
        # With every property selected, the SDK's per-record walk through each record, nested
        # objects included, looking for deselected properties changes nothing, yet it was the
        # largest cost of the sync after the records' own conversion. Types need no conforming
        # either (see TYPE_CONFORMANCE_LEVEL). A catalog that deselects properties gets the
        # SDK's own path.
        if self._some_property_deselected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.datetime.now(datetime.timezone.utc),
                )

    @cached_property
    def _some_property_deselected(self) -> bool:
        return not all(self.mask.values())

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

    def first_page_params(self, **params: t.Any) -> dict[str, t.Any]:
        """The query of a first page: `params` without the unset ones, plus `tz` if accepted."""
        if self.accepts_tz:
            params["tz"] = "UTC"
        return {name: value for name, value in params.items() if value is not None}

    def fetch_pages(self, params: Mapping[str, t.Any], *, part: str = "") -> Iterator[list[JSON]]:
        """The raw objects of every page, a page at a time, logging progress as they come;
        `part` names the slice of the stream being paged, if it is paged in several."""
        empty_in_a_row = 0
        pages = self.api.pages(self.path, params)
        for number in itertools.count(1):
            with INTERRUPTION.stoppable_wait():
                page = next(pages, None)
            if page is None:
                return
            items = page.get(self.records_key) or []
            self._records_fetched += len(items)
            self.log_progress(number, _total_pages(page), part=part)
            empty_in_a_row = 0 if items else empty_in_a_row + 1
            if empty_in_a_row >= MAX_EMPTY_PAGES_IN_A_ROW and _next_cursor(page):
                raise CursorRejectedError(
                    f"The console answered {empty_in_a_row} pages of {self.path} in a row with "
                    "no records but a new cursor each time, which may never end; run the sync "
                    "again later, it resumes from its last state."
                )
            yield items

    def fetch_one(self, params: Mapping[str, t.Any] | None = None) -> JSON:
        """The whole answer of an endpoint that does not page."""
        page = self.answer(params)
        self._records_fetched += len(page.get(self.records_key) or [])
        self.log_progress(1, 1)
        return page

    def answer(self, params: Mapping[str, t.Any] | None = None) -> JSON:
        """The console's answer to one GET of this stream's endpoint, as the API gives it."""
        with INTERRUPTION.stoppable_wait():
            return self.api.get(self.path, params or {})

    def in_selected_flock(self, record: Mapping[str, t.Any]) -> bool:
        """Whether a record belongs to the flock that `flock_id` restricts the sync to."""
        flock_id = self.settings.flock_id
        return flock_id is None or record.get("flock_id") == flock_id

    def log_progress(self, page_number: int, page_total: int | None, *, part: str = "") -> None:
        of_total = f" of {page_total}" if page_total else ""
        # Both counts: a stream may fetch more than it emits (the audit trail skips what an
        # earlier run emitted, a flock filter skips other flocks).
        self.logger.info(
            "%s: page %d%s fetched; %d records fetched, %d emitted so far",
            f"{self.name} {part}" if part else self.name,
            page_number,
            of_total,
            self._records_fetched,
            self._records_emitted,
        )


CONSOLE_PROPERTY: dict[str, t.Any] = {
    "type": ["string"],
    "description": "The console the record comes from: its `console_name`, else the console's "
    "domain hash (or the host of `base_url`). The first part of every primary key.",
}


def with_console(record_schema: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A stream's schema: the `console` column first, then its records' own."""
    return {
        **record_schema,
        "properties": {"console": CONSOLE_PROPERTY, **record_schema["properties"]},
    }


def _next_cursor(page: JSON) -> t.Any:
    cursor = page.get("cursor")
    return cursor.get("next") if isinstance(cursor, dict) else None


def _total_pages(page: JSON) -> int | None:
    for key in ("page_count", "page_total", "total_pages"):
        value = page.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return None
