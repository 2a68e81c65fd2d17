"""The console's inventory: birds, their services, updates and registrations, Canarytokens
and flocks, each a snapshot."""

from __future__ import annotations

import itertools
import typing as t
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from typing_extensions import override

from tap_thinkst_canary.client import Page, SnapshotStream
from tap_thinkst_canary.model import (
    BIRD_REGISTRATION_SCHEMA,
    BIRD_SCHEMA,
    BIRD_SERVICE_SCHEMA,
    BIRD_UPDATE_SCHEMA,
    FLOCK_SCHEMA,
    TOKEN_SCHEMA,
    bird_record,
    bird_registration_record,
    bird_service_records,
    bird_update_records,
    flock_of_devices,
    flock_records,
    token_record,
    updatable_birds,
)

if t.TYPE_CHECKING:
    from tap_thinkst_canary.api import JSON
    from tap_thinkst_canary.consoles import Console

Row = dict[str, t.Any]

# `/device/info` answers for one bird: requests in flight at once per console, so that a console
# of hundreds of birds far away takes seconds, not minutes, without crowding it.
BIRD_INFO_CONCURRENCY: t.Final = 4
# Birds whose services make one page: written, and logged, together.
BIRDS_PER_PAGE: t.Final = 50
# What the birds stream asks `/devices/all` (it accepts `tz`): the bird services read that answer.
BIRDS_QUERY: t.Final = {"tz": "UTC"}
# Where the update a bird can take is described.
UPDATES_PATH: t.Final = "/updates/list"
# A flock's own queue of birds waiting to be commissioned.
FLOCK_QUEUE_PATH: t.Final = "/flock/commission/pending"


class BirdsStream(SnapshotStream):
    """The birds (Canary devices): a full snapshot on every sync."""

    name = "birds"
    path = "/devices/all"
    records_key = "devices"
    accepts_tz = True
    converter = staticmethod(bird_record)
    record_schema = BIRD_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "id"]

    shared_answer = True  # the birds whose services are asked for come from it too

    @override
    def convert(self, answer: list[JSON] | JSON, console: Console) -> list[Row]:
        return in_their_flocks(super().convert(answer, console), console)


def in_their_flocks(birds: Iterable[Row], console: Console) -> list[Row]:
    """Bird records with their `flock_id`: `/devices/all` does not say which flock a bird is
    in; the flocks' summary does."""
    birds = list(birds)
    if any(bird["flock_id"] is None for bird in birds):
        flock_of = flock_of_devices(console.answer_once(FlocksStream.path))
        for bird in birds:
            bird["flock_id"] = bird["flock_id"] or flock_of.get(bird["id"])
    return birds


class BirdServicesStream(SnapshotStream):
    """The services each bird runs, one row per bird and enabled service, with the service's
    settings and the bird's personality: "which sites have an SMB share bird"."""

    name = "bird_services"
    path = "/device/info"
    records_key = "device"
    record_schema = BIRD_SERVICE_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "node_id", "service"]
    replication_summary = "full table, one request per selected bird"

    # The birds come from the birds stream's own answer (shared, asked for once a sync) and
    # only the selected ones are asked about: the endpoint takes one bird at a time.
    @override
    def snapshot(self, console: Console) -> Iterator[Page]:
        birds = [
            bird
            for bird in in_their_flocks(map(bird_record, self._birds(console)), console)
            if bird["id"] and self.in_selected_flock(console, bird)
        ]
        page_total = -(-len(birds) // BIRDS_PER_PAGE)
        pool = ThreadPoolExecutor(BIRD_INFO_CONCURRENCY, thread_name_prefix="canary-bird-info")
        try:
            answers = pool.map(lambda bird: self._bird_info(console, bird["id"]), birds)
            for number in range(1, page_total + 1):
                records = []
                for bird, answer in zip(
                    birds[(number - 1) * BIRDS_PER_PAGE : number * BIRDS_PER_PAGE],
                    itertools.islice(answers, BIRDS_PER_PAGE),
                    strict=True,
                ):
                    records += bird_service_records(answer.get(self.records_key), bird)
                self._fetched[console.name] += len(records)
                self.log_progress(console, number, page_total)
                yield Page(records)
        finally:
            # A failed request, or a sync told to stop: the birds not yet asked about never are.
            pool.shutdown(wait=False, cancel_futures=True)

    def _birds(self, console: Console) -> list[JSON]:
        answer = console.answer_once(BirdsStream.path, BIRDS_QUERY)
        birds = answer.get(BirdsStream.records_key)
        return birds if isinstance(birds, list) else []

    def _bird_info(self, console: Console, node_id: str) -> JSON:
        return console.api.get(self.path, {"node_id": node_id, "settings": "true"})


class BirdUpdatesStream(SnapshotStream):
    """The birds whose firmware can be updated, from which version to which: "which birds run
    old firmware"."""

    name = "bird_updates"
    path = "/update/updatable_birds"
    records_key = "updatable_devices"
    flock_param = True
    answer_converter = staticmethod(bird_update_records)
    record_schema = BIRD_UPDATE_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "node_id"]

    @override
    def convert(self, answer: list[JSON] | JSON, console: Console) -> Iterable[Row]:
        assert isinstance(answer, dict)
        # Only `/updates/list` describes an update: asked for when some bird can take one.
        updates = console.api.get(UPDATES_PATH) if updatable_birds(answer) else None
        return bird_update_records(answer, updates)


class BirdRegistrationsStream(SnapshotStream):
    """The birds waiting to be commissioned to the console."""

    name = "bird_registrations"
    path = "/devices/commission/pending"
    records_key = "devices"
    converter = staticmethod(bird_registration_record)
    record_schema = BIRD_REGISTRATION_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "node_id"]

    @override
    def snapshot(self, console: Console) -> Iterator[Page]:
        flock_id = console.settings.flock_id
        if flock_id is None:
            yield from super().snapshot(console)
            return
        # The console's queue does not say which flock a bird waits for; the flock's own does.
        answer = console.api.get(FLOCK_QUEUE_PATH, {"flock_id": flock_id})
        waiting = answer.get(self.records_key)
        self._fetched[console.name] += len(waiting) if isinstance(waiting, list) else 0
        self.log_progress(console, 1, 1)
        yield Page(
            [
                bird_registration_record(raw, flock_id)
                for raw in (waiting if isinstance(waiting, list) else [])
            ]
        )


class TokensStream(SnapshotStream):
    """The Canarytokens, every page: a full snapshot on every sync, secrets redacted unless
    `redact_secrets` is false."""

    name = "tokens"
    path = "/canarytokens/paginate"
    records_key = "canarytokens"
    paged = True
    flock_param = True
    converter = staticmethod(token_record)
    redacts = True
    record_schema = TOKEN_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "canarytoken"]


class FlocksStream(SnapshotStream):
    """The flocks, with names and settings, so incidents, events and birds join by `flock_id`."""

    name = "flocks"
    path = "/flocks/summary"
    records_key = "flocks_summary"
    shared_answer = True  # the birds' flocks come from it too
    answer_converter = staticmethod(flock_records)
    record_schema = FLOCK_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "flock_id"]
