"""The `/api/v1` endpoints: request parameters in, encoded response bodies out.

Kept apart from the HTTP plumbing so each endpoint reads as the API's documented semantics.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import quote

import orjson

from canary_simulator import clock, generators
from canary_simulator.console import Console, IncidentVersion
from canary_simulator.generators import JsonObject

Params = Mapping[str, str]

INCIDENT_FEEDS = {
    "/incidents/all": ("All Incidents", None),
    "/incidents/acknowledged": ("Acknowledged Incidents", True),
    "/incidents/unacknowledged": ("Unacknowledged Incidents", False),
}
MAX_PAGE_SIZE = 10_000


class ApiError(Exception):
    """A request the console refuses: answered with ``{"result": "error", "message": ...}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error_body(message: str) -> bytes:
    return orjson.dumps({"result": "error", "message": message})


class CursorCodec:
    """Opaque cursors that carry the whole query, signed so a tampered one is refused."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(secret.encode()).digest()

    def encode(self, state: JsonObject) -> str:
        payload = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
        tag = hmac.new(self._key, payload, hashlib.sha256).digest()[:6]
        return base64.urlsafe_b64encode(tag + payload).decode()

    def decode(self, cursor: str, endpoint: str) -> JsonObject:
        try:
            raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
            tag, payload = raw[:6], raw[6:]
            expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:6]
            state = orjson.loads(payload) if hmac.compare_digest(tag, expected) else None
        except (ValueError, orjson.JSONDecodeError):
            state = None
        if not isinstance(state, dict) or state.get("endpoint") != endpoint:
            raise ApiError("Invalid cursor")
        return state


def _int_param(params: Params, name: str, default: int | None = None, low: int = 0,
               high: int | None = None) -> int | None:  # fmt: skip
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"Invalid {name}: expected an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        limit = f" and {high}" if high is not None else ""
        raise ApiError(f"Invalid {name}: must be between {low}{limit}")
    return value


def _date_param(params: Params, name: str) -> date | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(f"Invalid {name}: expected yyyy-mm-dd, got {raw!r}") from None


def _timestamp_param(params: Params, name: str) -> int | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        moment = datetime.strptime(raw, "%Y-%m-%d-%H:%M:%S").replace(tzinfo=clock.UTC)
    except ValueError:
        raise ApiError(f"Invalid {name}: expected yyyy-mm-dd-hh:mm:ss, got {raw!r}") from None
    return int(moment.timestamp())


def _zone(name: str | None) -> tzinfo:
    try:
        return clock.zone(name)
    except clock.UnknownTimezoneError:
        raise ApiError(f"Invalid tz: unknown time zone {name!r}") from None


def _stamp(now: datetime, tz: tzinfo) -> JsonObject:
    epoch = int(now.timestamp())
    return {
        "updated": clock.http_date(epoch),
        "updated_std": clock.std(epoch, tz),
        "updated_timestamp": epoch,
    }


class EncodedIncidentCache:
    """Encoded incident bodies, least recently used out, bounded by their total size.

    Building an incident is the expensive part of a page; a benchmark that syncs the same
    console twice, or a tap that retries a page, should not pay for it again.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key: tuple[Any, ...], build: Callable[[], bytes]) -> bytes:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
                return body
        body = build()
        if len(body) > self._max_bytes // 8:
            return body
        with self._lock:
            if key not in self._items:
                self._items[key] = body
                self._bytes += len(body)
                while self._bytes > self._max_bytes:
                    _, evicted = self._items.popitem(last=False)
                    self._bytes -= len(evicted)
        return body


class ConsoleApi:
    """Answers `/api/v1` requests from a `Console`."""

    def __init__(
        self,
        console: Console,
        base_url: Callable[[], str],
        auth_token: str,
        cache_bytes: int = 64 * 1024 * 1024,
        prefetch: bool = False,
    ) -> None:
        self.console = console
        self._base_url = base_url
        self._auth_token = auth_token
        self._cursors = CursorCodec(f"canary-simulator:{console.seed}")
        self._incident_cache = EncodedIncidentCache(cache_bytes)
        # Clients page through incidents in order, so while one page is on its way the next
        # can be built: in a process of its own, the simulator then keeps ahead of its client.
        self._prefetcher = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="canary-simulator-prefetch")
            if prefetch
            else None
        )
        self._prefetching: OrderedDict[str, Future[None]] = OrderedDict()
        self._prefetch_lock = threading.Lock()
        self.routes: dict[str, Callable[[Params], bytes]] = {
            "/ping": self.ping,
            "/audit_trail/fetch": self.audit_trail,
            "/devices/all": self.devices,
            "/canarytokens/paginate": self.canarytokens,
            "/flocks/summary": self.flocks_summary,
        }
        for path in INCIDENT_FEEDS:
            self.routes[path] = self._incident_feed(path)
        from canary_simulator.estate_api import EstateApi  # it builds on this module

        self.routes.update(EstateApi(self).routes)

    def close(self) -> None:
        if self._prefetcher is not None:
            self._prefetcher.shutdown(wait=False, cancel_futures=True)

    def _link(self, path: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        # The real console embeds the caller's token in its links; clients must not log them.
        query = f"cursor={quote(cursor, safe='')}&auth_token={self._auth_token}"
        return f"{self._base_url()}{path}?{query}"

    # --------------------------------------------------------------------------------- ping

    def ping(self, params: Params) -> bytes:
        return b'{"result":"success"}'

    # ---------------------------------------------------------------------------- incidents

    def _incident_feed(self, path: str) -> Callable[[Params], bytes]:
        def feed(params: Params) -> bytes:
            return self.incidents(path, params)

        return feed

    def incidents(self, path: str, params: Params) -> bytes:
        feed_name, acknowledged = INCIDENT_FEEDS[path]
        cursor = params.get("cursor")
        if cursor:
            query = self._cursors.decode(cursor, path)
            self._await_prefetch(cursor)
        else:
            query = {
                "endpoint": path,
                "since": _int_param(params, "incidents_since", 0),
                "limit": _int_param(params, "limit", None, 1, MAX_PAGE_SIZE),
                "tz": params.get("tz") or None,
                "event_limit": _int_param(params, "event_limit", None, 0),
                "node_id": params.get("node_id") or None,
                "flock_id": params.get("flock_id") or None,
                "newer_than": _timestamp_param(params, "newer_than"),
                "older_than": _timestamp_param(params, "older_than"),
            }
            query["after"] = query["since"]
        tz = _zone(query["tz"])
        accept = self._incident_filter(query, acknowledged)
        versions, more = self.console.select_incidents(query["after"], query["limit"], accept)
        body: JsonObject = {"feed": feed_name, "result": "success"}
        body.update(_stamp(self.console.now(), tz))
        if versions:
            body["max_updated_id"] = max(v.updated_id for v in versions)
        if query["limit"] is not None:
            next_cursor = prev_cursor = None
            if more:
                next_query = {**query, "after": versions[-1].updated_id}
                next_cursor = self._cursors.encode(next_query)
                self._start_prefetch(next_cursor, next_query, acknowledged)
            if query["after"] > query["since"]:
                prev_after = self.console.previous_page_start(
                    query["after"], query["since"], query["limit"], accept
                )
                if prev_after is not None:
                    prev_cursor = self._cursors.encode({**query, "after": prev_after})
            body["cursor"] = {
                "next": next_cursor,
                "next_link": self._link(path, next_cursor),
                "prev": prev_cursor,
                "prev_link": self._link(path, prev_cursor),
            }
        encoded = [self._encoded_incident(v, tz, query) for v in versions]
        head = orjson.dumps(body)
        return b"".join((head[:-1], b',"incidents":[', b",".join(encoded), b"]}"))

    def _start_prefetch(self, cursor: str, query: JsonObject, acknowledged: bool | None) -> None:
        if self._prefetcher is None:
            return
        with self._prefetch_lock:
            if cursor in self._prefetching:
                return
            try:
                future = self._prefetcher.submit(self._warm_page, query, acknowledged)
            except RuntimeError:  # shutting down
                return
            self._prefetching[cursor] = future
            while len(self._prefetching) > 8:
                self._prefetching.popitem(last=False)

    def _await_prefetch(self, cursor: str) -> None:
        """Wait for the page being built ahead, rather than build it a second time."""
        with self._prefetch_lock:
            future = self._prefetching.pop(cursor, None)
        if future is not None and not future.cancelled():
            future.exception()  # a failed warm-up only means the page is built now

    def _warm_page(self, query: JsonObject, acknowledged: bool | None) -> None:
        tz = _zone(query["tz"])
        accept = self._incident_filter(query, acknowledged)
        versions, _ = self.console.select_incidents(query["after"], query["limit"], accept)
        for version in versions:
            self._encoded_incident(version, tz, query)

    def _incident_filter(
        self, query: JsonObject, acknowledged: bool | None
    ) -> Callable[[IncidentVersion], bool] | None:
        node_id, flock_id = query["node_id"], query["flock_id"]
        newer, older = query["newer_than"], query["older_than"]
        if acknowledged is None and not (node_id or flock_id or newer or older):
            return None
        plan = self.console.plan

        def accept(version: IncidentVersion) -> bool:
            if acknowledged is not None and version.acknowledged != acknowledged:
                return False
            if newer is not None and version.created_at <= newer:
                return False
            if older is not None and version.created_at >= older:
                return False
            if node_id or flock_id:
                incident_plan = plan(version.index)
                if node_id and incident_plan.node_id != node_id:
                    return False
                if flock_id and incident_plan.flock_id != flock_id:
                    return False
            return True

        return accept

    def _encoded_incident(self, version: IncidentVersion, tz: tzinfo, query: JsonObject) -> bytes:
        key = (version, self.console.generation, query["tz"], query["event_limit"])
        return self._incident_cache.get_or_build(
            key,
            lambda: orjson.dumps(self.console.build_incident(version, tz, query["event_limit"])),
        )

    # -------------------------------------------------------------------------- audit trail

    def audit_trail(self, params: Params) -> bytes:
        path = "/audit_trail/fetch"
        cursor = params.get("cursor")
        if cursor:
            if params.get("after_id"):
                raise ApiError("Invalid parameters: after_id cannot be combined with cursor")
            query = self._cursors.decode(cursor, path)
        else:
            start, end = _date_param(params, "start_date"), _date_param(params, "end_date")
            query = {
                "endpoint": path,
                "limit": _int_param(params, "limit", 100, 1, MAX_PAGE_SIZE),
                "after_id": _int_param(params, "after_id", None),
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                "tz": params.get("tz") or None,
                "action": params.get("action_filter") or None,
                "before": None,
                "page": 1,
            }
        tz = _zone(query["tz"])
        entries = self._matching_audit(query, tz)
        page, prev_cursor, next_cursor = self._page_descending(
            path, query, [(e["id"], e) for e in entries]
        )
        body = {
            "audit_trail": [generators.render_audit_entry(e, tz) for e in page],
            "cursor": {"next": next_cursor, "prev": prev_cursor},
            "page_count": max(1, math.ceil(len(entries) / query["limit"])),
            "page_number": query["page"],
            "result": "success",
        }
        return orjson.dumps(body)

    def _matching_audit(self, query: JsonObject, tz: tzinfo) -> list[JsonObject]:
        """Matching entries, newest first; dates are whole days in the requested zone."""
        low = high = None
        if query["start"]:
            start = datetime.combine(date.fromisoformat(query["start"]), datetime.min.time(), tz)
            low = start.timestamp()
        if query["end"]:
            end = datetime.combine(date.fromisoformat(query["end"]), datetime.max.time(), tz)
            high = end.timestamp()
        after_id, action = query["after_id"], query["action"]
        matching = [
            e
            for e in self.console.audit_entries()
            if (after_id is None or e["id"] > after_id)
            and (low is None or e["timestamp_epoch"] >= low)
            and (high is None or e["timestamp_epoch"] <= high)
            and (action is None or e["action_type"] == action)
        ]
        matching.reverse()
        return matching

    def _page_descending(
        self, path: str, query: JsonObject, keyed: list[tuple[int, JsonObject]]
    ) -> tuple[list[JsonObject], str | None, str | None]:
        """Cut the page after `query["before"]` from items sorted by descending key."""
        before, limit, page_number = query["before"], query["limit"], query["page"]
        start = 0
        if before is not None:
            while start < len(keyed) and keyed[start][0] >= before:
                start += 1
        page = keyed[start : start + limit]
        next_cursor = prev_cursor = None
        if start + limit < len(keyed):
            next_state = {**query, "before": page[-1][0], "page": page_number + 1}
            next_cursor = self._cursors.encode(next_state)
        if start > 0 and page_number > 1:
            prev_start = max(0, start - limit)
            prev_before = keyed[prev_start - 1][0] if prev_start > 0 else None
            prev_state = {**query, "before": prev_before, "page": page_number - 1}
            prev_cursor = self._cursors.encode(prev_state)
        return [item for _, item in page], prev_cursor, next_cursor

    # ------------------------------------------------------------------------------- birds

    def devices(self, params: Params) -> bytes:
        tz = _zone(params.get("tz"))
        body: JsonObject = {
            "devices": [generators.render_bird(b, tz) for b in self.console.birds()],
            "feed": "All Devices",
            "result": "success",
        }
        body.update(_stamp(self.console.now(), tz))
        return orjson.dumps(body)

    # ------------------------------------------------------------------------------ tokens

    def canarytokens(self, params: Params) -> bytes:
        path = "/canarytokens/paginate"
        cursor = params.get("cursor")
        if cursor:
            query = self._cursors.decode(cursor, path)
        else:
            query = {
                "endpoint": path,
                "limit": _int_param(params, "limit", 10, 1, MAX_PAGE_SIZE),
                "flock_id": params.get("flock_id") or None,
                "before": None,
                "page": 1,
            }
        tokens = [
            t
            for t in self.console.tokens()
            if query["flock_id"] is None or t["flock_id"] == query["flock_id"]
        ]
        page, prev_cursor, next_cursor = self._page_descending(
            path, query, [(t["updated_id"], t) for t in tokens]
        )
        body = {
            "canarytokens": page,
            "cursor": {
                "next": next_cursor,
                "next_link": self._link(path, next_cursor),
                "prev": prev_cursor,
                "prev_link": self._link(path, prev_cursor),
            },
            "page_num": query["page"],
            "page_total": max(1, math.ceil(len(tokens) / query["limit"])),
            "result": "success",
        }
        return orjson.dumps(body)

    # ------------------------------------------------------------------------------ flocks

    def flocks_summary(self, params: Params) -> bytes:
        birds, tokens = self.console.birds(), self.console.tokens()
        unacked = self.console.unacknowledged_by_flock()
        summary = {}
        for flock_id, flock in self.console.flocks().items():
            flock_birds = [b for b in birds if b["flock_id"] == flock_id]
            flock_tokens = [t for t in tokens if t["flock_id"] == flock_id]
            enabled = sum(1 for t in flock_tokens if t["enabled"])
            online = sum(1 for b in flock_birds if b["live"])
            devices = [b["id"] for b in flock_birds] + [t["canarytoken"] for t in flock_tokens]
            summary[flock_id] = {
                "devices": devices,
                "disabled_tokens": len(flock_tokens) - enabled,
                "enabled_tokens": enabled,
                "global_settings": GLOBAL_SETTINGS,
                "incident_count": unacked.get(flock_id, 0),
                "name": flock["name"],
                "note": flock["note"],
                "offline_devices": len(flock_birds) - online,
                "online_devices": online,
                "settings": FLOCK_SETTINGS,
                "total_tokens": len(flock_tokens),
            }
        return orjson.dumps(
            {"flocks_summary": summary, "result": "success", "unacked_device_incident_counts": {}}
        )


GLOBAL_SETTINGS: JsonObject = {
    "console_change_alerts_enabled": False,
    "console_public_key": "simulated-console-public-key",
    "device_change_alerts_enabled": False,
    "email_notifications": True,
    "listen_domain": "simulated.canary.tools",
    "sms_notifications": False,
    "summary_emails": True,
    "webhook_notifications": False,
    "whitelist_enabled": False,
    "whitelist_ips": [""],
}
FLOCK_SETTINGS: JsonObject = {
    "change_control": {
        "device_settings_notifications": "Global",
        "flock_settings_notifications": "Global",
    },
    "notification_info": {
        "emails": {"addresses": "soc@example.com", "enabled": "Global"},
        "sms": {"enabled": "Global", "numbers": ""},
        "summary_email": {"addresses": "", "enabled": "Global"},
    },
    "webhooks": {
        "generic_webhooks": [],
        "hipchat_webhooks": [],
        "ms_teams": [],
        "slack_webhooks": [],
        "webhooks_enabled": "Global",
    },
    "whitelisting": {
        "hostname_ignorelisting": {"enabled": "Global", "hostnames": []},
        "inherit_global_whitelist_ips": False,
        "ip_whitelisting": {"enabled": "Global", "ips": ""},
        "src_port_ignorelisting": {"enabled": "Global", "src_ports": ""},
    },
}
