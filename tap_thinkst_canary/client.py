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

from tap_thinkst_canary.errors import CanaryError, SyncInterrupted, SyncStopped
from tap_thinkst_canary.interruption import INTERRUPTION

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_thinkst_canary.api import JSON, CanaryApi
    from tap_thinkst_canary.settings import Settings
    from tap_thinkst_canary.tap import TapThinkstCanary


class CanaryStream(Stream, abc.ABC):
    """A stream of one Canary Console API endpoint."""

    # Records come out of the data model already typed for the schema: checking them again,
    # field by field, would be the most expensive thing the tap does.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: The endpoint, under the API base URL.
    path: t.ClassVar[str]
    #: The key of the response that holds the list of raw objects.
    records_key: t.ClassVar[str]
    #: Ask for `*_std` timestamps in UTC (endpoints that accept `tz`).
    accepts_tz: t.ClassVar[bool] = False

    def __init__(self, tap: TapThinkstCanary) -> None:
        super().__init__(tap=tap)
        self._canary_tap = tap
        self._records_fetched = 0

    @property
    def api(self) -> CanaryApi:
        return self._canary_tap.api

    @property
    def settings(self) -> Settings:
        return self._canary_tap.settings

    # The SDK calls this; streams implement `records`.
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        try:
            for record in self.records(context):
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
        pages = self.api.pages(self.path, params)
        for number in itertools.count(1):
            with INTERRUPTION.stoppable_wait():
                page = next(pages, None)
            if page is None:
                return
            items = page.get(self.records_key) or []
            self._records_fetched += len(items)
            self.log_progress(number, _total_pages(page), part=part)
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
        self.logger.info(
            "%s: page %d%s fetched, %d records so far",
            f"{self.name} {part}" if part else self.name,
            page_number,
            of_total,
            self._records_fetched,
        )


def _total_pages(page: JSON) -> int | None:
    for key in ("page_count", "page_total", "total_pages"):
        value = page.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return None
