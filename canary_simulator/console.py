"""The simulated console's state: what it holds, how it changes, what a full sync must see.

Incidents are never stored: incident `i` is rebuilt from `(seed, i)` whenever it is served, so
a million of them cost a few arrays of integers. Only what changes after creation (an
acknowledgement, an incident added at run time, a deletion) is remembered. Birds, tokens, audit
entries and flocks are few enough to keep as objects; the rest of what a console holds (users,
API keys, settings, ...) lives in its `Estate`.
"""

from __future__ import annotations

import random
import threading
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import orjson

from canary_simulator import clock, estate, generators
from canary_simulator.estate import Estate
from canary_simulator.generators import KINDS, IncidentKind, JsonObject

# Incident i of the initial set is created at history_start + span * i / (i + CREATION_KNEE):
# times rise with i, never pass the end of history, and do not depend on the incident count,
# so growing --incidents only appends.
CREATION_KNEE = 100
DESTINATION_PORTS = ("21", "22", "80", "443", "445", "1433", "3389", "8080")
AUDIT_ID_EPOCH = date(2015, 1, 1).toordinal()
AUDIT_IDS_PER_DAY = 64  # room in the id space for one day's generated entries
DEFAULT_FLOCK = "flock:default"
# The docs name no action type for an incident deletion; this follows the naming of the others
# (`incident_acknowledge`, `canarytoken_create`).
INCIDENT_DELETE_ACTION = "incident_delete"
API_TOKEN_USER = "api-token"


def _mix(*numbers: int) -> int:
    """A cheap, stable hash of integers (Python's own hash of str is salted per process)."""
    value = 0x9E3779B97F4A7C15
    for number in numbers:
        value = ((value ^ number) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        value ^= value >> 31
    return value


@dataclass(frozen=True)
class IncidentPlan:
    """What an incident is about, decided without building its body."""

    kind: IncidentKind
    node_index: int  # into the initial birds, or the initial tokens for Canarytoken logtypes
    flock_id: str
    node_id: str


@dataclass(frozen=True)
class IncidentVersion:
    """One incident's state when a page is cut: which incident, and what changed about it."""

    index: int
    updated_id: int
    acknowledged: bool
    updated_at: int | None  # set once the incident changed after its creation
    created_at: int


class Console:
    """A Canary Console's data, reproducible from `seed`, changing on request."""

    def __init__(
        self,
        seed: int = 7,
        incidents: int = 200,
        birds: int = 6,
        tokens: int = 40,
        audit_days: int = 60,
        flocks: int = 4,
        big_incident_events: int = 3000,
        now: datetime | None = None,
        name: str = "simulated",
        outside_bird_alerts: int = 300,
    ) -> None:
        if min(incidents, birds, tokens, audit_days, outside_bird_alerts) < 0 or flocks < 1:
            raise ValueError("sizes must not be negative and there must be at least one flock")
        self.seed = seed
        self.name = name
        self.big_incident_events = big_incident_events
        self._lock = threading.RLock()
        self._frozen_now: datetime | None = None
        if now is not None:
            self.set_now(now)
        history_end = datetime.combine(self.now().date(), time(), clock.UTC)
        self._history_end = int(history_end.timestamp())
        self._history_days = max(audit_days, 1)
        self._history_start = self._history_end - self._history_days * 86400

        self._flocks = self._make_flocks(flocks)
        flock_ids = list(self._flocks)
        self._birds: dict[str, JsonObject] = {}
        self._initial_birds: list[JsonObject] = []
        self._bird_serial = 0
        for _ in range(birds):
            self._initial_birds.append(self._new_bird(flock_ids))
        if birds >= 3:  # one Canary faces the internet: an Outside Bird
            self._initial_birds[-1]["outside_bird"] = True
        self._removed_birds: dict[str, JsonObject] = {}
        self._removed_tokens: dict[str, JsonObject] = {}
        self._removed_flocks: dict[str, JsonObject] = {}
        self._tokens: dict[str, JsonObject] = {}
        self._initial_tokens: list[JsonObject] = []
        self._token_serial = 0
        self._token_updated_id = 0
        for serial in range(tokens):
            self._initial_tokens.append(self._new_token(None, self._history_created(serial)))

        self._count = incidents
        self._uid_of = array("q", range(1, incidents + 1))
        # (updated_id, index) pairs in the order updated_ids were handed out: ascending and
        # append-only. A pair is stale once its incident got a newer updated_id.
        self._seq_uid = array("q", range(1, incidents + 1))
        self._seq_index = array("q", range(incidents))
        self._next_uid = incidents + 1
        self._acknowledged: dict[int, bool] = {}
        self._updated_at: dict[int, int] = {}
        self._created_at: dict[int, int] = {}
        self._forced_logtypes: dict[int, str] = {}
        self._deleted: set[int] = set()
        self._unacked_by_flock: tuple[tuple[int, int], dict[str, int]] | None = None
        self._changes = 0
        self.generation = 0  # bumps when served incident bodies change without a new updated_id

        self._events = generators.EventFactory(seed)
        self._audit: list[JsonObject] = []  # ascending id
        self._audit_id_floor = 0  # ids of purged entries are never handed out again
        self._make_audit_history(flock_ids)
        self.estate = Estate(
            seed, name, flock_ids, self._initial_birds, self._history_start, self._history_end,
            outside_bird_alerts if any(b["outside_bird"] for b in self._initial_birds) else 0,
        )  # fmt: skip

    # ----------------------------------------------------------------------------- the clock

    def now(self) -> datetime:
        with self._lock:
            return self._frozen_now or datetime.now(clock.UTC)

    def set_now(self, moment: datetime) -> None:
        """Freeze the console clock at `moment` (aware, or naive UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=clock.UTC)
        with self._lock:
            self._frozen_now = moment.astimezone(clock.UTC)

    def advance(self, days: float = 1, hours: float = 0) -> datetime:
        """Move the clock on (freezing it if it ran in real time) and return the new now."""
        with self._lock:
            self._frozen_now = self.now() + timedelta(days=days, hours=hours)
            return self._frozen_now

    def _now_epoch(self) -> int:
        return int(self.now().timestamp())

    # ------------------------------------------------------------------------ construction

    def _rng(self, *key: object) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, *key))))

    def _make_flocks(self, count: int) -> dict[str, JsonObject]:
        names = ("Default Flock", "London HQ", "Cape Town DC", "Zürich Branch", "東京 Office")
        flocks: dict[str, JsonObject] = {}
        for i in range(count):
            rng = self._rng("flock", i)
            flock_id = "flock:default" if i == 0 else f"flock:{generators.hex_string(rng, 32)}"
            name = names[i] if i < len(names) else f"Flock {i}"
            flocks[flock_id] = {"name": name, "note": None if i % 2 else f"{name} birds"}
        return flocks

    def _history_created(self, serial: int) -> int:
        span = self._history_end - self._history_start
        return self._history_start + span * serial // (serial + CREATION_KNEE)

    def _new_bird(self, flock_ids: list[str]) -> JsonObject:
        serial = self._bird_serial
        self._bird_serial += 1
        rng = self._rng("bird", serial)
        first_seen = self._history_created(serial) - 86400 * 30
        bird = generators.make_bird(
            rng, flock_ids[serial % len(flock_ids)], first_seen, self._now_epoch()
        )
        self._birds[bird["id"]] = bird
        return bird

    def _new_token(self, kind: str | None, created: float) -> JsonObject:
        serial = self._token_serial
        self._token_serial += 1
        self._token_updated_id += 1
        rng = self._rng("token", serial)
        kinds = generators.TOKEN_KINDS
        chosen = kind or (kinds[serial] if serial < len(kinds) else rng.choice(kinds))
        flock_ids = list(self._flocks)
        token = generators.make_token(
            rng, chosen, flock_ids[serial % len(flock_ids)], created + rng.random(),
            self._token_updated_id,
        )  # fmt: skip
        self._tokens[token["canarytoken"]] = token
        return token

    def _make_audit_history(self, flock_ids: list[str]) -> None:
        now = self._now_epoch()
        first_day = datetime.fromtimestamp(self._history_start + 86400, clock.UTC).date()
        for offset in range(self._history_days):
            day = first_day + timedelta(days=offset)
            rng = self._rng("audit", day.isoformat())
            count = 0 if rng.random() < 0.15 else rng.randint(1, AUDIT_IDS_PER_DAY // 2)
            day_start = int(datetime.combine(day, time(), clock.UTC).timestamp())
            times = sorted(day_start + rng.randrange(86400) for _ in range(count))
            entry_id = (day.toordinal() - AUDIT_ID_EPOCH) * AUDIT_IDS_PER_DAY
            for ts in times:
                entry_id += rng.choice((1, 1, 1, 2))  # purged entries leave gaps
                if ts <= now:
                    self._audit.append(generators.make_audit_entry(rng, entry_id, ts, flock_ids))

    # ---------------------------------------------------------------------------- incidents

    def plan(self, index: int) -> IncidentPlan:
        """The logtype and node of incident `index`, cheap enough to filter on."""
        draw = _mix(self.seed, index, 1)
        # The first incidents walk through every logtype so even a small console shows them all.
        kind = KINDS[index] if index < len(KINDS) else KINDS[draw % len(KINDS)]
        if index in self._forced_logtypes:
            kind = generators.KIND_BY_LOGTYPE[self._forced_logtypes[index]]
        elif index == len(KINDS):
            kind = generators.KIND_BY_LOGTYPE[generators.SSH_LOGIN_LOGTYPE]
        node_draw = draw >> 20
        if kind.is_token and self._initial_tokens:
            node_index = node_draw % len(self._initial_tokens)
            token = self._initial_tokens[node_index]
            return IncidentPlan(kind, node_index, token["flock_id"], token["node_id"])
        if self._initial_birds:
            node_index = node_draw % len(self._initial_birds)
            bird = self._initial_birds[node_index]
            return IncidentPlan(kind, node_index, bird["flock_id"], bird["id"])
        return IncidentPlan(kind, -1, "flock:default", f"0000000{node_draw & 0xFFFFFFFFF:09x}")

    def _version(self, index: int) -> IncidentVersion:
        acknowledged = self._acknowledged.get(index)
        if acknowledged is None:
            acknowledged = _mix(self.seed, index) % 100 < 25
        return IncidentVersion(
            index=index,
            updated_id=self._uid_of[index],
            acknowledged=acknowledged,
            updated_at=self._updated_at.get(index),
            created_at=self._created_at.get(index, 0) or self._history_created(index),
        )

    def select_incidents(
        self,
        after_updated_id: int,
        limit: int | None,
        accept: Callable[[IncidentVersion], bool] | None = None,
    ) -> tuple[list[IncidentVersion], bool]:
        """Incidents with updated_id > `after_updated_id`, ascending, and whether more follow."""
        with self._lock:
            seq_uid, seq_index, uid_of = self._seq_uid, self._seq_index, self._uid_of
            deleted = self._deleted
            found: list[IncidentVersion] = []
            pos = bisect_right(seq_uid, after_updated_id)
            end = len(seq_uid)
            while pos < end:
                uid, index = seq_uid[pos], seq_index[pos]
                pos += 1
                if uid_of[index] != uid or index in deleted:
                    continue
                version = self._version(index)
                if accept is not None and not accept(version):
                    continue
                if limit is not None and len(found) == limit:
                    return found, True
                found.append(version)
            return found, False

    def previous_page_start(
        self,
        page_after: int,
        floor: int,
        limit: int,
        accept: Callable[[IncidentVersion], bool] | None = None,
    ) -> int | None:
        """Where the page before the one after `page_after` starts (its exclusive lower
        updated_id), counting only incidents above `floor`; None when there is no such page."""
        with self._lock:
            seq_uid, seq_index, uid_of = self._seq_uid, self._seq_index, self._uid_of
            deleted = self._deleted
            pos = bisect_right(seq_uid, page_after) - 1
            first_uid = None
            taken = 0
            while pos >= 0 and seq_uid[pos] > floor and taken < limit:
                uid, index = seq_uid[pos], seq_index[pos]
                pos -= 1
                if (
                    uid_of[index] != uid
                    or index in deleted
                    or (accept is not None and not accept(self._version(index)))
                ):
                    continue
                first_uid, taken = uid, taken + 1
            return None if first_uid is None else first_uid - 1

    def build_incident(
        self, version: IncidentVersion, tz: tzinfo, event_limit: int | None
    ) -> JsonObject:
        """The API object of one incident, as `/incidents/*` returns it."""
        index = version.index
        plan = self.plan(index)
        kind = plan.kind
        rng = random.Random(_mix(self.seed, index, 2))
        created = version.created_at
        token: JsonObject | None = None
        bird: JsonObject | None = None
        if kind.is_token and plan.node_index >= 0:
            token = self._initial_tokens[plan.node_index]
        elif plan.node_index >= 0:
            bird = self._initial_birds[plan.node_index]
        count = self._event_total(index, kind, rng)
        shown = count if event_limit is None else min(count, event_limit)
        events, last_event = self._events.make(kind, rng, created, count, shown, tz, token)
        updated = version.updated_at or last_event
        src_ip = generators.attacker_address(self.seed, rng)
        description: JsonObject = {
            "acknowledged": "True" if version.acknowledged else "False",
            "created": str(created),
            "created_std": clock.std(created, tz),
            "description": kind.description,
            "dst_host": bird["ip_address"] if bird else "",
            "dst_port": DESTINATION_PORTS[rng.getrandbits(3)] if bird else "80",
            "events": events,
            "events_count": str(count),
            "flock_id": plan.flock_id,
            "flock_name": self._flocks[plan.flock_id]["name"],
            "ip_address": bird["ip_address"] if bird else "",
            "ippers": "",
            "local_time": clock.local_time(created),
            "logtype": kind.logtype,
            "mac_address": bird["mac_address"] if bird else "",
            "name": bird["name"] if bird else "N/A",
            "node_id": plan.node_id,
            "notified": "False" if rng.getrandbits(2) else "True",
            "src_host": src_ip,
            "src_host_reverse": f"host-{src_ip.replace('.', '-')}.example.net",
            "src_port": str(1024 + rng.getrandbits(16) % 64512),
        }
        if token:
            description["memo"] = token["memo"]
        if rng.getrandbits(5) == 0:  # the docs warn that undocumented fields come and go
            extra, value = generators.UNDOCUMENTED_INCIDENT_FIELDS[rng.getrandbits(8) % 3]
            description[extra] = value
        return {
            "description": description,
            "hash_id": f"{rng.getrandbits(128):032x}",
            "id": self.incident_id(index, plan),
            "summary": kind.description,
            "updated": clock.http_date(updated),
            "updated_id": version.updated_id,
            "updated_std": clock.std(updated, tz),
            "updated_time": str(updated),
        }

    def _event_total(self, index: int, kind: IncidentKind, rng: random.Random) -> int:
        """How many events incident `index` has: the first draw from its generator."""
        count = generators.incident_count_of_events(kind, rng, self.big_incident_events)
        if index == len(KINDS):
            return self.big_incident_events  # one brute force with thousands of events, always
        if index == len(KINDS) + 1:
            return 0  # and one incident without events, always
        return count

    def incident_id(self, index: int, plan: IncidentPlan | None = None) -> str:
        """The `id` of incident `index`; its last part encodes the index, so lookups are cheap."""
        slug = (plan or self.plan(index)).kind.slug
        masked = index ^ (_mix(self.seed) & 0xFFFFFFFF)
        return f"incident:{slug}:{_mix(self.seed, index) & 0xFFFFFFFFFFFFFFFF:016x}{masked:08x}"

    def add_incidents(self, n: int = 1, logtype: str | None = None) -> list[str]:
        """Create `n` incidents now; they get the next, highest updated_ids."""
        if logtype is not None and logtype not in generators.LOGTYPES:
            raise ValueError(f"unknown logtype {logtype!r}")
        ids = []
        with self._lock:
            for _ in range(n):
                index = self._count
                self._count += 1
                self._created_at[index] = self._now_epoch()
                self._uid_of.append(self._next_uid)
                self._append_seq(index)
                if logtype is not None:
                    self._forced_logtypes[index] = logtype
                self._acknowledged[index] = False
                ids.append(self.incident_id(index))
        return ids

    def _append_seq(self, index: int) -> None:
        self._seq_uid.append(self._next_uid)
        self._seq_index.append(index)
        self._uid_of[index] = self._next_uid
        self._next_uid += 1
        self._changes += 1

    def acknowledge(self, incident_id: str) -> int:
        """Acknowledge an incident: it gets a new, higher updated_id, which is returned."""
        with self._lock:
            index = self._index_of(incident_id)
            self._acknowledged[index] = True
            self._updated_at[index] = self._now_epoch()
            self._append_seq(index)
            return self._uid_of[index]

    def _index_of(self, incident_id: str) -> int:
        try:
            index = int(incident_id[-8:], 16) ^ (_mix(self.seed) & 0xFFFFFFFF)
        except ValueError:
            index = -1
        if (
            not 0 <= index < self._count
            or index in self._deleted
            or self.incident_id(index) != incident_id
        ):
            raise KeyError(f"no incident {incident_id!r}")
        return index

    def delete_incident(self, incident_id: str, user: str = API_TOKEN_USER) -> int:
        """Delete an incident, as `DELETE /api/v1/incident/delete` does, and write the audit
        entry a console writes for it; return that entry's id."""
        with self._lock:
            index = self._index_of(incident_id)
            flock_id = self.plan(index).flock_id
            self._deleted.add(index)
            self._changes += 1
            message = f"User {user} deleted the incident {incident_id}"
            return self._append_audit(
                INCIDENT_DELETE_ACTION, message, user, flock_id, {"incident_key": incident_id}
            )

    def deleted_incident_ids(self) -> set[str]:
        with self._lock:
            return {self.incident_id(i) for i in self._deleted}

    def incident_ids(self) -> set[str]:
        with self._lock:
            return {self.incident_id(i) for i in range(self._count) if i not in self._deleted}

    def incident_count(self) -> int:
        with self._lock:
            return self._count - len(self._deleted)

    def max_updated_id(self) -> int:
        with self._lock:
            return self._next_uid - 1 if self._count else 0

    def event_count(self) -> int:
        """Events over all incidents: what a full `incident_events` sync must produce."""
        with self._lock:
            count, deleted = self._count, set(self._deleted)
        return sum(
            self._event_total(i, self.plan(i).kind, random.Random(_mix(self.seed, i, 2)))
            for i in range(count)
            if i not in deleted
        )

    def iter_incidents(self, tz: str | None = None) -> Iterator[JsonObject]:
        """Every incident as the API returns it, ascending updated_id.

        Each is a fresh copy (events share prepared parts until they are encoded), so callers
        may change what they get.
        """
        versions, _ = self.select_incidents(0, None)
        zone = clock.zone(tz)
        for version in versions:
            yield orjson.loads(orjson.dumps(self.build_incident(version, zone, None)))

    def unacknowledged_by_flock(self) -> dict[str, int]:
        with self._lock:
            key = (self._count, self._changes)
            if self._unacked_by_flock is None or self._unacked_by_flock[0] != key:
                counts = dict.fromkeys(self._flocks, 0)
                for index in range(self._count):
                    if index not in self._deleted and not self._version(index).acknowledged:
                        counts[self.plan(index).flock_id] += 1
                self._unacked_by_flock = (key, counts)
            return dict(self._unacked_by_flock[1])

    # ---------------------------------------------------------------------------- audit trail

    def add_audit_entries(self, n: int = 1, day: date | None = None) -> list[int]:
        """Add `n` entries on `day` (default: the console's today), with new, highest ids."""
        with self._lock:
            now = self._now_epoch()
            day = day or self.now().date()
            day_start = int(datetime.combine(day, time(), clock.UTC).timestamp())
            next_id = max((e["id"] for e in self._audit), default=0) + 1
            next_id = max(next_id, self._audit_id_floor)
            rng = self._rng("added-audit", next_id)
            ids = []
            for i in range(n):
                if day_start <= now < day_start + 86400:
                    ts = max(day_start, now - (n - 1 - i))  # today: just before now, in order
                else:
                    ts = day_start + rng.randrange(86400)
                entry = generators.make_audit_entry(rng, next_id, ts, list(self._flocks))
                self._audit.append(entry)
                ids.append(next_id)
                next_id += 1
            self._audit_id_floor = next_id
            return ids

    def _append_audit(
        self,
        action_type: str,
        message: str,
        user: str,
        flock_id: str | None,
        additional_information: JsonObject | None,
    ) -> int:
        """Record what the console just did, with the next, highest audit id."""
        entry_id = max(self._audit[-1]["id"] + 1 if self._audit else 1, self._audit_id_floor)
        self._audit_id_floor = entry_id + 1
        self._audit.append(
            {
                "action_type": action_type,
                "additional_information": additional_information,
                "flock_id": flock_id,
                "id": entry_id,
                "message": message,
                "timestamp_epoch": self._now_epoch(),
                "user": user,
                "user_browser_agent": "python-requests/2.31.0",
                "user_browser_language": "",
                "user_ip": "127.0.0.1",
            }
        )
        return entry_id

    def purge_audit(self, up_to_id: int) -> int:
        """Delete every audit entry with id <= `up_to_id`; return how many went."""
        with self._lock:
            before = len(self._audit)
            if self._audit:
                self._audit_id_floor = max(self._audit_id_floor, self._audit[-1]["id"] + 1)
            self._audit = [e for e in self._audit if e["id"] > up_to_id]
            return before - len(self._audit)

    def audit_entries(self) -> list[JsonObject]:
        """The stored entries (timestamps as epochs), ascending id."""
        with self._lock:
            return sorted(self._audit, key=lambda e: e["id"])

    def audit_ids(self, start: date | None = None, end: date | None = None) -> set[int]:
        """Ids of the entries whose timestamp falls on UTC days start..end, both inclusive."""
        low = _day_start(start) if start else None
        high = _day_start(end) + 86400 if end else None
        with self._lock:
            return {
                e["id"]
                for e in self._audit
                if (low is None or e["timestamp_epoch"] >= low)
                and (high is None or e["timestamp_epoch"] < high)
            }

    # ------------------------------------------------------------------------ birds and tokens

    def add_bird(self) -> str:
        with self._lock:
            bird = self._new_bird(list(self._flocks))
            bird["first_seen_epoch"] = bird["last_seen_epoch"] = self._now_epoch()
            return str(bird["id"])

    def remove_bird(self, node_id: str) -> None:
        with self._lock:
            bird = self._birds.pop(node_id, None)
            if bird is None:
                raise KeyError(f"no bird {node_id!r}")
            self._removed_birds[node_id] = bird

    def restore_bird(self, node_id: str) -> None:
        """Bring a removed bird back, as it was (in the default flock if its flock went)."""
        with self._lock:
            bird = self._removed_birds.pop(node_id, None)
            if bird is None:
                raise KeyError(f"no removed bird {node_id!r}")
            self._birds[node_id] = bird

    def add_token(self, kind: str | None = None) -> str:
        if kind is not None and kind not in generators.TOKEN_KINDS:
            known = ", ".join(generators.TOKEN_KINDS)
            raise ValueError(f"unknown token kind {kind!r}; use one of {known}")
        with self._lock:
            return str(self._new_token(kind, self._now_epoch())["canarytoken"])

    def remove_token(self, canarytoken: str) -> None:
        with self._lock:
            token = self._tokens.pop(canarytoken, None)
            if token is None:
                raise KeyError(f"no token {canarytoken!r}")
            self._removed_tokens[canarytoken] = token

    def restore_token(self, canarytoken: str) -> None:
        """Bring a removed token back; it gets a new updated_id, as a re-enabled token would."""
        with self._lock:
            token = self._removed_tokens.pop(canarytoken, None)
            if token is None:
                raise KeyError(f"no removed token {canarytoken!r}")
            self._token_updated_id += 1
            token["updated_id"] = self._token_updated_id
            self._tokens[canarytoken] = token

    def birds(self) -> list[JsonObject]:
        with self._lock:
            return list(self._birds.values())

    def tokens(self) -> list[JsonObject]:
        """Tokens, newest (highest updated_id) first."""
        with self._lock:
            return sorted(self._tokens.values(), key=lambda t: t["updated_id"], reverse=True)

    def bird_ids(self) -> set[str]:
        with self._lock:
            return set(self._birds)

    def token_ids(self) -> set[str]:
        with self._lock:
            return set(self._tokens)

    # ------------------------------------------------------------------------------- flocks

    def flock_ids(self) -> set[str]:
        with self._lock:
            return set(self._flocks)

    def flocks(self) -> dict[str, JsonObject]:
        with self._lock:
            return {fid: dict(f) for fid, f in self._flocks.items()}

    def remove_flock(self, flock_id: str) -> None:
        """Delete a flock as a console does: its birds and tokens (and their incidents) move
        to the default flock, its flock API keys are revoked, its users lose it. The default
        flock cannot be removed."""
        with self._lock:
            if flock_id == DEFAULT_FLOCK:
                raise ValueError("the default flock cannot be removed")
            if flock_id not in self._flocks:
                raise KeyError(f"no flock {flock_id!r}")
            self._removed_flocks[flock_id] = self._flocks.pop(flock_id)
            self._move_nodes(flock_id, DEFAULT_FLOCK)
            for key in self.estate.flock_keys(flock_id):
                self.estate.remove_api_key(key.key_id)

    def restore_flock(self, flock_id: str) -> None:
        """Bring a removed flock back with its name, note and flock API keys. Its birds and
        tokens stay in the default flock, where the removal moved them."""
        with self._lock:
            flock = self._removed_flocks.pop(flock_id, None)
            if flock is None:
                raise KeyError(f"no removed flock {flock_id!r}")
            self._flocks[flock_id] = flock
            for key_id, key in list(self.estate.removed_api_keys.items()):
                if key.flock_id == flock_id:
                    self.estate.restore_api_key(key_id)
            self.generation += 1

    def _move_nodes(self, from_flock: str, to_flock: str) -> None:
        nodes = {
            id(node): node
            for node in (
                *self._initial_birds, *self._birds.values(), *self._removed_birds.values(),
                *self._initial_tokens, *self._tokens.values(), *self._removed_tokens.values(),
            )
        }  # fmt: skip
        for node in nodes.values():
            if node["flock_id"] == from_flock:
                node["flock_id"] = to_flock
                if "updated_id" in node:
                    self._token_updated_id += 1
                    node["updated_id"] = self._token_updated_id
        # Incidents of the moved nodes now say another flock: bodies built before are stale.
        self.generation += 1
        self._changes += 1

    # ------------------------------------------------- users, API keys and the rest: changes

    def add_user(self, email: str, access_level: str = "user", **fields: Any) -> str:
        """Add a console user; `fields` are those of `estate.User` (totp_enabled, disabled...).
        Returns the user's id."""
        with self._lock:
            return self.estate.add_user(email, access_level, **fields).id

    def change_user(self, email: str, **fields: Any) -> None:
        with self._lock:
            self.estate.change_user(email, **fields)

    def remove_user(self, email: str) -> None:
        with self._lock:
            self.estate.remove_user(email)

    def restore_user(self, email: str) -> None:
        with self._lock:
            self.estate.restore_user(email)

    def user_emails(self) -> set[str]:
        with self._lock:
            return set(self.estate.users)

    def add_api_key(
        self, auth_token_type: str = "Read-only", note: str = "", flock_id: str | None = None
    ) -> str:
        """Add a global key (or a flock key with `flock_id`) created now; returns its key_id."""
        with self._lock:
            if flock_id is not None and flock_id not in self._flocks:
                raise KeyError(f"no flock {flock_id!r}")
            key = self.estate.add_api_key(
                auth_token_type, note, flock_id, created=self._now_epoch()
            )
            return key.key_id

    def remove_api_key(self, key_id: str) -> None:
        with self._lock:
            self.estate.remove_api_key(key_id)

    def restore_api_key(self, key_id: str) -> None:
        with self._lock:
            key = self.estate.removed_api_keys.get(key_id)
            if key is not None and key.flock_id is not None and key.flock_id not in self._flocks:
                raise ValueError(f"restore the flock {key.flock_id!r} first")
            self.estate.restore_api_key(key_id)

    def api_key_ids(self) -> set[str]:
        with self._lock:
            return set(self.estate.api_keys)

    def api_key_values(self) -> set[str]:
        """Every key value the key listings hand out: what must never leave a client."""
        with self._lock:
            return {key.auth_token for key in self.estate.api_keys.values()}

    def add_outside_bird_alerts(self, n: int = 1, node_id: str | None = None) -> int:
        """Raise `n` alerts now on the outside birds (or only on `node_id`); returns how many
        alerts the console holds."""
        with self._lock:
            outside = [b for b in self._birds.values() if b["outside_bird"]]
            if node_id is not None:
                outside = [b for b in outside if b["id"] == node_id]
                if not outside:
                    raise KeyError(f"no outside bird {node_id!r}")
            self.estate.add_outside_bird_alerts(outside, n, self._now_epoch() + 1)
            return len(self.estate.outside_bird_alerts)

    def delete_outside_bird_alerts(self, node_id: str, src_ip: str | None = None) -> int:
        with self._lock:
            return self.estate.delete_outside_bird_alerts(node_id, src_ip)

    def outside_bird_alert_count(self) -> int:
        with self._lock:
            return len(self.estate.outside_bird_alerts)

    def ignore_annotation(self, name: str, suppressed: int = 0) -> None:
        """Ignore an annotation (if not yet) and let it suppress `suppressed` more incidents."""
        with self._lock:
            self.estate.ignore_annotation(name, suppressed)

    def unignore_annotation(self, name: str) -> None:
        with self._lock:
            self.estate.unignore_annotation(name)

    def add_pending_bird(self, flock_id: str = DEFAULT_FLOCK) -> str:
        with self._lock:
            if flock_id not in self._flocks:
                raise KeyError(f"no flock {flock_id!r}")
            return self.estate.add_pending_bird(flock_id, self._now_epoch()).node_id

    def remove_pending_bird(self, node_id: str) -> None:
        with self._lock:
            self.estate.remove_pending_bird(node_id)

    def add_webhook(self, url: str, flock_id: str | None = None) -> str:
        """Add a generic webhook to the console (or to a flock); returns its webhook_id."""
        with self._lock:
            return self.estate.add_generic_webhook(url, flock_id)

    def remove_webhook(self, url: str, flock_id: str | None = None) -> None:
        with self._lock:
            self.estate.remove_generic_webhook(url, flock_id)

    def bird(self, node_id: str) -> JsonObject:
        with self._lock:
            try:
                return dict(self._birds[node_id])
            except KeyError:
                raise KeyError(f"no bird {node_id!r}") from None

    def suppressed_incident(self, annotation: str, position: int, tz: tzinfo) -> JsonObject:
        """Incident `position` of those `annotation` suppressed, as the ignored-incidents
        endpoint shows it: rebuilt from the seed, never stored."""
        rng = self._rng("suppressed", annotation, position)
        kind = generators.KIND_BY_LOGTYPE[estate.ANNOTATED_LOGTYPES[annotation]]
        token = self._initial_tokens[position % len(self._initial_tokens)] if (
            kind.is_token and self._initial_tokens
        ) else None  # fmt: skip
        bird = None if token or not self._initial_birds else (
            self._initial_birds[position % len(self._initial_birds)]
        )  # fmt: skip
        created = self._history_created(position) + rng.randrange(3600)
        count = 1 + rng.getrandbits(2)
        events, _ = self._events.make(kind, rng, created, count, count, tz, token)
        name, text, link = next(
            (a[1], a[2], a[3]) for a in estate.ANNOTATIONS if a[0] == annotation
        )
        node_id = token["node_id"] if token else bird["id"] if bird else "0" * 16
        incident: JsonObject = {
            "acknowledged": rng.random() < 0.2,
            "created": created,
            "created_std": clock.std(created, tz),
            "description": kind.description,
            "dst_host": bird["ip_address"] if bird else "1.1.1.1",
            "dst_port": 22 if bird else 80,
            "events": events,
            "events_count": count,
            "events_list": ",".join(str(e["timestamp"]) for e in events if "timestamp" in e),
            "local_time": clock.token_printable(created),
            "logtype": int(kind.logtype),
            "matched_annotations": {annotation: [text, link]},
            "memo": token["memo"] if token else "",
            "name": kind.name if token else (bird["name"] if bird else name),
            "node_id": node_id,
            "notified": False,
            "src_host": generators.attacker_address(self.seed, rng),
            "src_port": 0 if token else 1024 + rng.randrange(64512),
        }
        return incident

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "incidents": self._count,
                "max_updated_id": self.max_updated_id(),
                "audit_entries": len(self._audit),
                "birds": len(self._birds),
                "tokens": len(self._tokens),
                "flocks": len(self._flocks),
                "deleted_incidents": len(self._deleted),
                "users": len(self.estate.users),
                "api_keys": len(self.estate.api_keys),
                "outside_bird_alerts": len(self.estate.outside_bird_alerts),
                "now": self.now().isoformat(),
            }


def _day_start(day: date) -> int:
    return int(datetime.combine(day, time(), clock.UTC).timestamp())
