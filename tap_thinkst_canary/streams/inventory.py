"""The console's inventory: birds, Canarytokens and flocks, each a snapshot."""

from __future__ import annotations

import typing as t

from tap_thinkst_canary.client import SnapshotStream
from tap_thinkst_canary.model import (
    BIRD_SCHEMA,
    FLOCK_SCHEMA,
    TOKEN_SCHEMA,
    bird_record,
    flock_of_devices,
    flock_records,
    token_record,
)

if t.TYPE_CHECKING:
    from tap_thinkst_canary.api import JSON
    from tap_thinkst_canary.consoles import Console

Row = dict[str, t.Any]


class BirdsStream(SnapshotStream):
    """The birds (Canary devices): a full snapshot on every sync."""

    name = "birds"
    path = "/devices/all"
    records_key = "devices"
    accepts_tz = True
    converter = staticmethod(bird_record)
    record_schema = BIRD_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "id"]

    def convert(self, answer: list[JSON] | JSON, console: Console) -> list[Row]:
        birds = list(super().convert(answer, console))
        # `/devices/all` does not say which flock a bird is in; the flocks' summary does.
        if any(bird["flock_id"] is None for bird in birds):
            flock_of = flock_of_devices(console.answer_once(FlocksStream.path))
            for bird in birds:
                bird["flock_id"] = bird["flock_id"] or flock_of.get(bird["id"])
        return birds


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
