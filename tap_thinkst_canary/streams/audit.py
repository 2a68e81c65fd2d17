"""The audit trail, day by day."""

from __future__ import annotations

import datetime
import typing as t
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from typing_extensions import override

from tap_thinkst_canary import clock
from tap_thinkst_canary.client import CanaryStream, Page
from tap_thinkst_canary.model import AUDIT_ENTRY_SCHEMA, audit_record
from tap_thinkst_canary.streams.incidents import IncidentsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_thinkst_canary.api import JSON
    from tap_thinkst_canary.consoles import Console

Row = dict[str, t.Any]

ONE_DAY = datetime.timedelta(days=1)
# The audit trail's own bookmark keys, kept in its state of each console.
AUDIT_DAY_KEY = "resume_day"
AUDIT_AFTER_ID_KEY = "resume_after_id"
# No console has audit entries older than this: the floor of the search for the first one.
AUDIT_HISTORY_FLOOR = datetime.date(2012, 1, 1)

# The action types of an audit entry that records incidents deleted. The API docs name none: a
# console writes `incident_delete`, with the incident in `additional_information.incident_key`;
# the other spellings follow the API's own names for the deletion (`/incident/delete`,
# `/incidents/delete`, answered with `"action": "deleted"`).
INCIDENT_DELETION_ACTIONS = frozenset(
    {
        "incident_delete",
        "incident_deleted",
        "delete_incident",
        "incidents_delete",
        "incidents_deleted",
        "delete_incidents",
    }
)
# Where such an entry's `additional_information` names the incident, or the incidents of a
# deletion of several (`/incidents/delete` answers with `keys`).
INCIDENT_KEY_FIELDS = ("incident_key", "incident", "incident_id", "key")
INCIDENT_KEYS_FIELDS = ("incident_keys", "incidents", "keys")


class AuditTrailStream(CanaryStream):
    """The console's audit trail, day by day in UTC.

    Several days are fetched per request window (`audit_trail_window_days`); each day's entries,
    from all its pages, are emitted sorted by `id`, and the bookmark moves after each finished
    day. For today, only entries newer than the last one emitted come out. An entry that records
    incidents deleted makes the incidents stream send their tombstones.
    """

    name = "audit_trail"
    path = "/audit_trail/fetch"
    records_key = "audit_trail"
    accepts_tz = True
    record_schema = AUDIT_ENTRY_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "id"]
    replication_summary = (
        "incremental by UTC day: resumes at the first unfinished day, after the last `id` "
        "emitted on it"
    )

    @override
    def starting_bookmark(self, context: Context) -> AuditBookmark:
        return AuditBookmark.read(self.get_context_state(context))

    @override
    def pages(self, console: Console, bookmark: AuditBookmark) -> Iterator[Page]:
        today = clock.utc_now().date()
        first_day = self._first_day(console, bookmark, today)
        if first_day is None:
            return
        for window in _windows(first_day, today, self.settings.audit_trail_window_days):
            entries_by_day = self._fetch_window(console, window)
            for day in window.days():
                emitted = [
                    entry
                    for entry in sorted(entries_by_day.pop(day, ()), key=_id)
                    if not bookmark.already_emitted(day, entry)
                ]
                bookmark = bookmark.after(day, emitted, today=today)
                yield Page(emitted, bookmark=bookmark.as_state())

    @override
    def page_written(self, page: Page, console: Console) -> None:
        deleted = {
            incident_id: entry.get("timestamp")
            for entry in page.records
            if _in_flock(entry, console.settings.flock_id)
            for incident_id in deleted_incidents(entry)
        }
        incidents = self._canary_tap.streams.get(IncidentsStream.name)
        if deleted and isinstance(incidents, IncidentsStream):
            incidents.note_deletions(console, deleted)

    def _first_day(
        self, console: Console, bookmark: AuditBookmark, today: datetime.date
    ) -> datetime.date | None:
        start = console.settings.start_date
        # A day before any console existed says no more than "from the start": rather than a
        # request per window of empty years, the search below finds the first entry.
        candidates = [
            day
            for day in (bookmark.day, start and start.date())
            if day is not None and day >= AUDIT_HISTORY_FLOOR
        ]
        if candidates:
            return min(max(candidates), today)
        return self._earliest_entry_day(console, today)

    def _fetch_window(self, console: Console, window: Window) -> dict[datetime.date, list[Row]]:
        """The window's entries by UTC day, asking for a day more on each side: whether the
        API's `start_date` and `end_date` are inclusive is not documented."""
        params = self.first_page_params(
            start_date=(window.first - ONE_DAY).isoformat(),
            end_date=(window.last + ONE_DAY).isoformat(),
            limit=self.settings.page_size,
        )
        by_day: dict[datetime.date, list[Row]] = defaultdict(list)
        part = f"{window.first} to {window.last}"
        for raw_page in self.fetch_pages(console, params, part=part):
            for raw in raw_page:
                record = audit_record(raw)
                day = _utc_day(record, raw) or window.first
                if window.first <= day <= window.last:
                    by_day[day].append(record)
        return by_day

    def _earliest_entry_day(self, console: Console, today: datetime.date) -> datetime.date | None:
        """The day of the oldest entry, found by bisection on `end_date`.

        A probe that holds every entry before its `end_date` (a single page) names the oldest
        day outright, so a small console needs one request and a large one about a dozen,
        instead of paging through all of history only to find where it starts.
        """
        low, high = AUDIT_HISTORY_FLOOR, today + ONE_DAY
        probe = self._probe_before(console, high)
        if not probe.found:
            return None
        if probe.complete:
            return probe.oldest_day or today
        while low < high:
            middle = low + (high - low) // 2
            probe = self._probe_before(console, middle)
            if not probe.found:
                low = middle + ONE_DAY
            elif probe.complete and probe.oldest_day is not None:
                return probe.oldest_day
            else:
                high = middle
        return high - ONE_DAY  # `end_date` may be exclusive: the day before is on the safe side

    def _probe_before(self, console: Console, day: datetime.date) -> AuditProbe:
        params = self.first_page_params(end_date=day.isoformat(), limit=self.settings.page_size)
        page = console.api.get(self.path, params)
        raw_entries = page.get(self.records_key) or []
        days = [_utc_day(audit_record(raw), raw) for raw in raw_entries]
        return AuditProbe(
            found=bool(raw_entries),
            oldest_day=min((day for day in days if day is not None), default=None),
            complete=not (page.get("cursor") or {}).get("next"),
        )


class AuditProbe(t.NamedTuple):
    """What one request for the entries before a day found: whether there were any, the oldest
    day among them, and whether they were all of them."""

    found: bool
    oldest_day: datetime.date | None
    complete: bool


@dataclass(frozen=True)
class AuditBookmark:
    """Where the audit trail resumes: `day` is the first day not known to be finished, and on
    that day every entry up to `after_id` has been emitted already."""

    day: datetime.date | None = None
    after_id: int | None = None

    @classmethod
    def read(cls, state: dict[str, t.Any]) -> AuditBookmark:
        """The bookmark in the stream's state, whose values were checked as it was loaded."""
        day = state.get(AUDIT_DAY_KEY)
        if day is None:
            return cls()
        return cls(datetime.date.fromisoformat(day), state.get(AUDIT_AFTER_ID_KEY))

    def as_state(self) -> dict[str, t.Any]:
        """The bookmark's keys in the console's state of the stream."""
        return {
            AUDIT_DAY_KEY: self.day.isoformat() if self.day else None,
            AUDIT_AFTER_ID_KEY: self.after_id,
        }

    def already_emitted(self, day: datetime.date, entry: Row) -> bool:
        entry_id = entry.get("id")
        return (
            day == self.day
            and self.after_id is not None
            and isinstance(entry_id, int)
            and entry_id <= self.after_id
        )

    def after(
        self, day: datetime.date, emitted: list[Row], *, today: datetime.date
    ) -> AuditBookmark:
        """The bookmark once `day` has been emitted: a past day is finished, today is not."""
        if day < today:
            return AuditBookmark(day + ONE_DAY, None)
        ids = [entry["id"] for entry in emitted if isinstance(entry.get("id"), int)]
        if self.day == day and self.after_id is not None:
            ids.append(self.after_id)
        return AuditBookmark(day, max(ids, default=None))


class Window(t.NamedTuple):
    """A run of consecutive days fetched together."""

    first: datetime.date
    last: datetime.date

    def days(self) -> Iterator[datetime.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += ONE_DAY


def _windows(first: datetime.date, last: datetime.date, size: int) -> Iterator[Window]:
    start = first
    while start <= last:
        end = min(start + datetime.timedelta(days=size - 1), last)
        yield Window(start, end)
        start = end + ONE_DAY


def deleted_incidents(entry: Row) -> list[str]:
    """The ids of the incidents an audit entry records deleted (none for any other entry)."""
    action = entry.get("action_type")
    details = entry.get("additional_information")
    if not isinstance(action, str) or action.strip().lower() not in INCIDENT_DELETION_ACTIONS:
        return []
    if not isinstance(details, dict):
        return []
    found = [details.get(name) for name in INCIDENT_KEY_FIELDS]
    for name in INCIDENT_KEYS_FIELDS:
        many = details.get(name)
        found += many if isinstance(many, list) else []
    return [key for key in dict.fromkeys(found) if isinstance(key, str) and key]


def _in_flock(entry: Row, flock_id: str | None) -> bool:
    """Whether an entry may concern the flock the console is restricted to."""
    return flock_id is None or entry.get("flock_id") in (None, flock_id)


def _utc_day(record: Row, raw: JSON) -> datetime.date | None:
    """The UTC day of an audit entry: from the typed timestamp, else the raw one."""
    for value in (record.get("timestamp"), raw.get("timestamp")):
        if isinstance(value, str) and len(value) >= 10:
            try:
                return datetime.date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def _id(record: Row) -> int:
    value = record.get("id")
    return value if isinstance(value, int) else -1
