"""The `/api/v1` endpoints over a console's estate: users, API keys, Outside Bird alerts,
suppressed incidents, bird details and updates, settings.

Each answer has the keys and value types of the documented example, which are not uniform: the
user list says ``"True"`` where a single user says ``true``, a flock's ignore list says ``true``
where its settings say ``"Global"``. The renderers below keep those differences on purpose.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from canary_simulator import clock, estate
from canary_simulator.api import FLOCK_SETTINGS, MAX_PAGE_SIZE, ApiError, Params, _int_param, _zone
from canary_simulator.estate import ApiKey, PendingBird, User
from canary_simulator.generators import JsonObject

if TYPE_CHECKING:
    from canary_simulator.api import ConsoleApi
    from canary_simulator.console import Console

IGNORED_INCIDENTS_PAGE_SIZE = 10
ACCESS_LEVEL_NUMBERS = {"admin": 1, "user": 0}
# Key kinds a simulator can be told its clients hold; all but "admin" are refused the
# endpoints below. The docs do not list which endpoints need which key; these are the ones
# that reveal or manage the console's people, keys and alerting.
KEY_TYPES = ("admin", "analyst", "read-only", "flock")
ADMIN_ONLY_PREFIXES = (
    "/users/", "/user/", "/auth_token/", "/flock/auth_token/", "/settings", "/license/",
    "/flock/settings", "/device/outside_bird/webhooks",
)  # fmt: skip


def needs_admin_key(path: str) -> bool:
    return path.startswith(ADMIN_ONLY_PREFIXES)


def refusal_message(path: str, key_type: str) -> str:
    return f"This {key_type} API key is not permitted to use /api/v1{path}; use an admin key"


def _flag(value: bool) -> str:
    return "True" if value else "False"


def _age(seconds: float) -> str:
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return f"{max(0, int(seconds))} seconds"


def _hash(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:32]


def _bool_param(params: Params, name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ApiError(f"Invalid {name}: expected true or false, got {raw!r}")


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not value:
        raise ApiError(f"Missing required parameter {name}")
    return value


class EstateApi:
    """Answers the estate's endpoints for a `ConsoleApi` (whose cursors and links it shares)."""

    def __init__(self, api: ConsoleApi) -> None:
        self._api = api
        self.console = api.console
        self.routes: dict[str, Callable[[Params], bytes]] = {
            "/incidents/outside_bird/search": self.outside_bird_search,
            "/incidents/outside_bird/summary": self.outside_bird_summary,
            "/incidents/outside_bird/services/count": self.outside_bird_service_counts,
            "/device/outside_bird/webhooks": self.outside_bird_webhooks,
            "/settings/ignored_annotations": self.ignored_annotations,
            "/settings/ignored_annotations/is_annotation_ignored": self.annotation_ignored,
            "/settings/ignored_annotations/incidents": self.ignored_incidents,
            "/settings/ignored_annotations/incidents/count": self.ignored_incident_count,
            "/users/list": self.users_list,
            "/users/filter": self.users_filter,
            "/user/get": self.user_get,
            "/user/auth": self.user_auth,
            "/auth_token/list": self.global_keys,
            "/flock/auth_token/list": self.flock_keys,
            "/device/info": self.device_info,
            "/update/updatable_birds": self.updatable_birds,
            "/update/updating_devices": self.updating_devices,
            "/updates/list": self.updates_list,
            "/devices/commission/pending": self.pending_commissions,
            "/flock/commission/pending": self.pending_commissions_in_flock,
            "/personalities/list": self.personalities,
            "/settings": self.console_settings,
            "/settings/notifications/info": self.notifications_info,
            "/settings/generic/list": self.console_generic_webhooks,
            "/flock/settings": self.flock_settings,
            "/flock/settings/whitelisting/info": self.flock_ignore_lists,
            "/flock/settings/notifications/info": self.flock_notifications,
            "/flock/settings/webhooks/info": self.flock_webhook_info,
            "/flock/settings/webhooks/generic": self.flock_generic_urls,
            "/flock/settings/webhooks/generic/list": self.flock_generic_webhooks,
            "/flock/settings/webhooks/ms_teams": self.flock_ms_teams,
            "/flock/settings/webhooks/slack": self.flock_slack,
            "/flock/settings/webhooks/splunk": self.flock_splunk,
            "/flock/settings/webhooks/is_enabled": self.flock_webhooks_enabled,
            "/flock/settings/webhooks/is_global": self.flock_webhooks_global,
            "/license/detailed/info": self.licenses,
            "/console/features": self.features,
        }

    @property
    def _estate(self) -> estate.Estate:
        return self.console.estate

    def _locked(self) -> Any:
        return self.console._lock

    def _flock_param(self, params: Params) -> str:
        flock_id = _required(params, "flock_id")
        if flock_id not in self.console.flock_ids():
            raise ApiError(f"Invalid flock_id {flock_id!r}")
        return flock_id

    # ------------------------------------------------------------------ Outside Bird alerts

    def outside_bird_search(self, params: Params) -> bytes:
        path = "/incidents/outside_bird/search"
        cursor = params.get("cursor")
        if cursor:
            query = self._api._cursors.decode(cursor, path)
        else:
            node_ids = [n for n in (params.get("node_ids") or "").split(",") if n]
            query = {
                "endpoint": path,
                "node_ids": sorted(node_ids),
                "limit": _int_param(params, "limit", None, 1, MAX_PAGE_SIZE),
                "after": None,
                "page": 1,
            }
        wanted = set(query["node_ids"])
        with self._locked():
            alerts = [
                a for a in self._estate.outside_bird_alerts if not wanted or a.node_id in wanted
            ]
        by_source: dict[tuple[str, str], Counter[str]] = {}
        for alert in alerts:
            by_source.setdefault((alert.node_id, alert.src_ip), Counter())[alert.service] += 1
        keys = sorted(by_source)
        after = tuple(query["after"]) if query["after"] else None
        remaining = [k for k in keys if after is None or k > after]
        limit = query["limit"] or max(1, len(keys))
        page = remaining[:limit]
        next_cursor = None
        if len(remaining) > limit:
            next_query = {**query, "after": list(page[-1]), "page": query["page"] + 1}
            next_cursor = self._api._cursors.encode(next_query)
        body = {
            "cursor": {
                "next": next_cursor,
                "next_link": self._api._link(path, next_cursor),
                "prev": None,
                "prev_link": None,
            },
            "page_num": query["page"],
            "page_total": max(1, math.ceil(len(keys) / limit)),
            "result": "success",
            "src_ips": [
                {
                    "count": sum(by_source[key].values()),
                    "incident_counts": dict(sorted(by_source[key].items())),
                    "ip_address": key[1],
                    "node_id": key[0],
                }
                for key in page
            ],
        }
        return orjson.dumps(body)

    def _outside_alerts_of(self, params: Params) -> list[estate.OutsideBirdAlert]:
        node_id = _required(params, "node_id")
        with self._locked():
            return [a for a in self._estate.outside_bird_alerts if a.node_id == node_id]

    def outside_bird_summary(self, params: Params) -> bytes:
        return orjson.dumps({"count": len(self._outside_alerts_of(params)), "result": "success"})

    def outside_bird_service_counts(self, params: Params) -> bytes:
        counts = Counter(a.service for a in self._outside_alerts_of(params))
        return orjson.dumps(
            {
                "counts": [{"count": n, "service": s} for s, n in counts.most_common()],
                "result": "success",
            }
        )

    def outside_bird_webhooks(self, params: Params) -> bytes:
        with self._locked():
            hooks = list(self._estate.outside_bird_webhooks)
        return orjson.dumps({"result": "success", "webhooks": hooks})

    # ----------------------------------------------------------------- ignored annotations

    def _annotation(self, params: Params) -> str:
        name = _required(params, "annotation")
        if name not in estate.ANNOTATED_LOGTYPES:
            raise ApiError(f"Invalid annotation {name!r}")
        return name

    def ignored_annotations(self, params: Params) -> bytes:
        with self._locked():
            ignored = set(self._estate.ignored_annotations)
        listed = [
            {"kb_link": link, "name": name, "nice_name": nice, "text": text}
            for name, nice, text, link in estate.ANNOTATIONS
            if name in ignored
        ]
        return orjson.dumps({"ignored_annotations": listed, "result": "success"})

    def annotation_ignored(self, params: Params) -> bytes:
        name = self._annotation(params)
        with self._locked():
            ignored = name in self._estate.ignored_annotations
        return orjson.dumps({"ignored": ignored, "result": "success"})

    def _suppressed_count(self, name: str) -> int:
        with self._locked():
            return self._estate.ignored_annotations.get(name, 0)

    def ignored_incident_count(self, params: Params) -> bytes:
        count = self._suppressed_count(self._annotation(params))
        return orjson.dumps({"count": count, "result": "success"})

    def ignored_incidents(self, params: Params) -> bytes:
        name = self._annotation(params)
        total = self._suppressed_count(name)
        pages = max(1, math.ceil(total / IGNORED_INCIDENTS_PAGE_SIZE))
        page = _int_param(params, "page", 1, 1, pages)
        assert page is not None
        tz = _zone(params.get("tz"))
        start = (page - 1) * IGNORED_INCIDENTS_PAGE_SIZE
        positions = range(start, min(total, start + IGNORED_INCIDENTS_PAGE_SIZE))
        body = {
            "ignored_incidents": [self.console.suppressed_incident(name, i, tz) for i in positions],
            "next_page": page + 1 if page < pages else None,
            "page": page,
            "prev_page": page - 1 if page > 1 else None,
            "result": "success",
            "total_incidents": total,
        }
        return orjson.dumps(body)

    # ------------------------------------------------------------------------------- users

    def _live_flocks(self, flock_ids: list[str]) -> list[str]:
        known = self.console.flock_ids()
        return [f for f in flock_ids if f in known]

    def _users(self) -> list[User]:
        with self._locked():
            return sorted(self._estate.users.values(), key=lambda u: u.email)

    def _listed_user(self, user: User) -> JsonObject:
        return {
            "access_level": str(ACCESS_LEVEL_NUMBERS[user.access_level]),
            "disabled": "None" if user.disabled is None else _flag(user.disabled),
            "email": user.email,
            "id": user.id,
            "managed_flocks": ",".join(self._live_flocks(user.managed_flocks)),
            "note": user.note,
            "supervisor": _flag(user.supervisor),
            "totp_enabled": _flag(user.totp_enabled),
            "watched_flocks": ",".join(self._live_flocks(user.watched_flocks)),
            "webauthn_enabled": user.webauthn_enabled,
        }

    def users_list(self, params: Params) -> bytes:
        return orjson.dumps(
            {"result": "success", "users": [self._listed_user(u) for u in self._users()]}
        )

    def users_filter(self, params: Params) -> bytes:
        needle = _required(params, "filter_str").lower()
        kept = ("access_level", "disabled", "email", "id", "note", "supervisor", "totp_enabled")
        found = [
            {k: v for k, v in self._listed_user(u).items() if k in kept}
            for u in self._users()
            if needle in u.email.lower() or needle in u.note.lower()
        ]
        return orjson.dumps({"result": "success", "users": found})

    def _user(self, params: Params) -> User:
        email = _required(params, "email")
        with self._locked():
            user = self._estate.users.get(email)
        if user is None:
            raise ApiError(f"No user with email {email!r}")
        return user

    def user_get(self, params: Params) -> bytes:
        user = self._user(params)
        body = {
            "access_level": user.access_level,
            "disabled": bool(user.disabled),
            "email": user.email,
            "id": user.id,
            "managed_flocks": ",".join(self._live_flocks(user.managed_flocks)),
            "no_direct_login": user.saml_provisioned,
            "note": user.note,
            "saml_provisioned": user.saml_provisioned,
            "summary_email_enabled": user.summary_email_enabled,
            "supervisor": user.supervisor,
            "totp_enabled": user.totp_enabled,
            "watched_flocks": ",".join(self._live_flocks(user.watched_flocks)),
            "webauthn_credential": _hash("webauthn", user.id) if user.webauthn_enabled else "",
            "webauthn_enabled": user.webauthn_enabled,
        }
        return orjson.dumps({"result": "success", "user": body})

    def user_auth(self, params: Params) -> bytes:
        user = self._user(params)
        body = {
            "access_level": ACCESS_LEVEL_NUMBERS[user.access_level],
            "email": user.email,
            "is_sso_login": user.saml_provisioned,
            "managed_flocks": self._live_flocks(user.managed_flocks),
            "result": "success",
            "saml_login": user.saml_provisioned,
            "watched_flocks": self._live_flocks(user.watched_flocks),
        }
        return orjson.dumps(body)

    # ---------------------------------------------------------------------------- API keys

    @staticmethod
    def _listed_key(key: ApiKey) -> JsonObject:
        listed: JsonObject = {
            "auth_token": key.auth_token,
            "auth_token_type": key.auth_token_type,
            "created": clock.std(key.created),
            "created_by": key.created_by,
            "key_id": key.key_id,
            "note": key.note,
        }
        if key.flock_id is not None:
            listed.update(
                last_used=None if key.last_used is None else clock.std(key.last_used),
                managed_flocks=list(key.managed_flocks),
                watched_flocks=list(key.watched_flocks),
            )
        return listed

    def global_keys(self, params: Params) -> bytes:
        with self._locked():
            keys = [self._listed_key(k) for k in self._estate.global_keys()]
        return orjson.dumps({"global_api_keys": keys, "result": "success"})

    def flock_keys(self, params: Params) -> bytes:
        flock_id = self._flock_param(params)
        with self._locked():
            keys = [self._listed_key(k) for k in self._estate.flock_keys(flock_id)]
        return orjson.dumps({"flock_api_keys": keys, "result": "success"})

    # ------------------------------------------------------------------------------- birds

    def device_info(self, params: Params) -> bytes:
        node_id = _required(params, "node_id")
        try:
            bird = self.console.bird(node_id)
        except KeyError:
            raise ApiError(f"Invalid node_id {node_id!r}") from None
        tz = _zone(params.get("tz"))
        now = int(self.console.now().timestamp())
        first, last = bird["first_seen_epoch"], bird["last_seen_epoch"]
        device_hash = _hash(self.console.seed, "device", node_id)
        services = estate.PERSONALITY_SERVICES.get(bird["personality"], {})
        device: JsonObject = {
            "autoreg_time": f"{first - 600}.{int(device_hash[:5], 16) % 1_000_000:06d}",
            "current_settings": f"devicesettings:{device_hash}:{first}",
            "description": bird["description"],
            "device_id": node_id,
            "device_id_hash": device_hash,
            "device_live": _flag(bird["live"]),
            "device_version": bird["version"],
            "first_seen": str(first),
            "first_seen_age": _age(now - first),
            "first_seen_printable": clock.printable(first),
            "first_seen_std": clock.std(first, tz),
            "flock_id": bird["flock_id"],
            "ghost": "False",
            "id": node_id,
            "ignore_notifications_disconnect": _flag(bird["ignore_notifications_disconnects"]),
            "ignore_notifications_general": _flag(bird["ignore_notifications"]),
            "ip_address": bird["ip_address"],
            "ippers": bird["ippers"],
            "last_dns_settings_message_time": clock.local_time(last - 3600),
            "last_heartbeat": str(last),
            "last_heartbeat_age": _age(now - last),
            "last_heartbeat_printable": clock.printable(last),
            "last_seen_std": clock.std(last, tz),
            "live": _flag(bird["live"]),
            "local_time": clock.local_time(last),
            "location": bird["location"],
            "logtype": "1004",
            "mac": bird["mac_address"],
            "mac_address": bird["mac_address"],
            "name": bird["name"],
            "netmask": bird["netmask"],
            "node_id": node_id,
            "reconnect_count": str(int(device_hash[5:7], 16) % 4),
            "sensor": bird["sensor"],
            "service_count": str(len(services)),
            "unacknowledged_incidents": [],
            "uptime": str(bird["uptime"]),
            "uptime_age": _age(bird["uptime"]),
            "was_rollback": "False",
        }
        if _bool_param(params, "settings"):
            device["settings"] = bird_settings(bird)
        return orjson.dumps({"device": dict(sorted(device.items())), "result": "success"})

    def updatable_birds(self, params: Params) -> bytes:
        flock_id = params.get("flock_id") or None
        latest = estate.FIRMWARE_UPDATES[-1]
        behind = [
            {
                "available_version": latest["version"],
                "current_version": b["version"],
                "flock_id": b["flock_id"],
                "name": b["name"],
                "node_id": b["id"],
                "update_tag": _update_tag(self.console.seed, latest["version"]),
            }
            for b in self.console.birds()
            if estate.version_key(b["version"]) < estate.version_key(latest["version"])
            and (flock_id is None or b["flock_id"] == flock_id)
        ]
        body = {
            "automatic_updates_enabled": True,
            "result": "success",
            "updatable_devices": behind or None,  # the docs show null when none can update
        }
        return orjson.dumps(body)

    def updating_devices(self, params: Params) -> bytes:
        return orjson.dumps({"result": "success", "updating_devices": []})

    def updates_list(self, params: Params) -> bytes:
        updates = [
            {
                "description": update["description"],
                "filename": f"canary_{update['version']}_prod.upd",
                "ignore": False,
                "supported_versions": list(update["supported_versions"]),
                "tag": _update_tag(self.console.seed, update["version"]),
                "target_sensors": ["rpi3_jessie", "thinkstcanary"],
                "version": update["version"],
            }
            for update in estate.FIRMWARE_UPDATES
        ]
        return orjson.dumps({"result": "success", "updates": updates})

    def _pending(self) -> list[PendingBird]:
        with self._locked():
            return sorted(self._estate.pending_birds.values(), key=lambda b: b.pending_since)

    def pending_commissions(self, params: Params) -> bytes:
        devices = []
        for bird in self._pending():
            device_hash = _hash(self.console.seed, "device", bird.node_id)
            devices.append(
                {
                    "autoreg_time": f"{bird.pending_since:.6f}",
                    "current_settings": f"devicesettings:{device_hash}:{int(bird.pending_since)}",
                    "description": bird.description,
                    "device_id": bird.node_id,
                    "device_id_hash": device_hash,
                    "device_version": bird.device_version,
                    "id": bird.node_id,
                    "live": "False",
                    "name": bird.name,
                    "sensor": "thinkstcanary",
                    "user": bird.user,
                }
            )
        return orjson.dumps({"devices": devices, "result": "success"})

    def pending_commissions_in_flock(self, params: Params) -> bytes:
        flock_id = self._flock_param(params)
        devices = [
            {
                "description": bird.description,
                "device_id": bird.node_id,
                "device_version": bird.device_version,
                "name": bird.name,
                "pending_since": bird.pending_since,
                "sensor": "thinkstcanary",
            }
            for bird in self._pending()
            if bird.flock_id == flock_id
        ]
        return orjson.dumps({"devices": devices, "result": "success"})

    def personalities(self, params: Params) -> bytes:
        groups = [
            {
                "list": [
                    {"settings": personality_settings(name), "name": name, "desc": desc}
                    for name, desc in members
                ],
                "name": group,
            }
            for group, members in estate.PERSONALITY_GROUPS
        ]
        # The docs' example carries the list as a JSON string; as_string=false gives the list.
        as_string = _bool_param(params, "as_string", True)
        listed: Any = orjson.dumps(groups).decode() if as_string else groups
        return orjson.dumps({"personalities": listed, "result": "success"})

    # ---------------------------------------------------------------------------- settings

    def console_settings(self, params: Params) -> bytes:
        with self._locked():
            hooks = self._estate.console_webhooks
            ignore = self._estate.console_ignore_lists
            admin_key = next(
                (k for k in self._estate.global_keys() if k.auth_token_type == "Admin"), None
            )
            body = {
                "auth_token": admin_key.auth_token if admin_key else "",
                "auth_token_enabled": True,
                "canarytokens_user_domains_enable": False,
                "canarytokens_webroot_enable": False,
                "console_domain": self._estate.domain,
                "console_settings_change_enable": False,
                "device_settings_change_enable": False,
                "email_notification_enable": True,
                "generic_incident_webhooks": [h["url"] for h in hooks["generic_webhooks"]],
                "globally_enforce_2fa": False,
                "hipchat_integration_urls": [],
                "incident_webhooks_enabled": hooks["webhooks_enabled"],
                "module_options": {
                    "canarytokens_public_ip": "203.0.113.10",
                    "canarytokens_user_domains": "",
                    "canarytokens_webroot": "<html><body>example!</body></html>",
                    "canaryvm_remaining_licenses": 10,
                    "canaryvm_version_details": [_canaryvm_details(self.console.seed)],
                    "saml_enabled": any(u.saml_provisioned for u in self._estate.users.values()),
                    "ssh_credential_watch_only": None,
                    "ssh_credential_watches": "",
                    "ssh_credential_watches_enable": None,
                    "update_automatically_enable": True,
                },
                "ms_teams_webhooks": list(hooks["ms_teams"]),
                "notification_addresses": ["soc@example.com", "oncall@example.com"],
                "notification_numbers": ["+27825550100"],
                "result": "success",
                "sensitive_data_masking_enable": False,
                "slack_incident_webhook": [h["url"] for h in hooks["slack_webhooks"]],
                "sms_notification_enable": False,
                "summary_email_addresses": ["ciso@example.com"],
                "summary_email_enable": False,
                "syslog_enabled": False,
                "syslog_facility": "local0",
                "syslog_hostname": "localhost",
                "syslog_loglevel": "crit",
                "syslog_port": "514",
                "syslog_protocol": "tcp",
                "syslog_tls": "off",
                "whitelist_enable": ignore["whitelist_enable"],
                "whitelist_hostnames": ",".join(ignore["whitelist_hostnames"]),
                "whitelist_hostnames_enable": ignore["whitelist_hostnames_enable"],
                "whitelist_ips": ",".join(ignore["whitelist_ips"]),
                "whitelist_oid_enable": False,
                "whitelist_oids": "",
                "whitelist_src_port_enable": ignore["whitelist_src_port_enable"],
                "whitelist_src_port_ips": ",".join(ignore["whitelist_src_port_ips"]),
            }
        return orjson.dumps(body)

    def notifications_info(self, params: Params) -> bytes:
        body = {
            "emails": {"addresses": "soc@example.com,oncall@example.com", "enabled": "True"},
            "result": "success",
            "sms": {"enabled": "False", "numbers": ""},
        }
        return orjson.dumps(body)

    def _generic_webhooks(self, flock_id: str | None) -> bytes:
        with self._locked():
            hooks = self._estate.webhooks_of(flock_id)
            listed = [dict(h) for h in hooks["generic_webhooks"]]
            enabled = hooks["webhooks_enabled"]
        return orjson.dumps(
            {"generic_webhooks": listed, "result": "success", "webhooks_enabled": enabled}
        )

    def console_generic_webhooks(self, params: Params) -> bytes:
        return self._generic_webhooks(None)

    def _flock_hooks(self, params: Params) -> JsonObject:
        flock_id = self._flock_param(params)
        with self._locked():
            return orjson.loads(orjson.dumps(self._estate.webhooks_of(flock_id)))

    def flock_settings(self, params: Params) -> bytes:
        self._flock_param(params)
        return orjson.dumps({"result": "success", "settings": FLOCK_SETTINGS})

    def flock_ignore_lists(self, params: Params) -> bytes:
        hooks = self._flock_hooks(params)
        return orjson.dumps({"result": "success", "whitelisting_info": hooks["whitelisting"]})

    def flock_notifications(self, params: Params) -> bytes:
        hooks = self._flock_hooks(params)
        return orjson.dumps({"notification_info": hooks["notification_info"], "result": "success"})

    def flock_webhook_info(self, params: Params) -> bytes:
        hooks = self._flock_hooks(params)
        info = {
            "generic_webhooks": [h["url"] for h in hooks["generic_webhooks"]],
            "hipchat_webhooks": [],
            "ms_teams": hooks["ms_teams"],
            "slack_webhooks": hooks["slack_webhooks"],
            "splunk_webhook": hooks["splunk_webhook"],
            "webhooks_enabled": hooks["webhooks_enabled"],
        }
        return orjson.dumps({"result": "success", "webhook_info": info})

    def flock_generic_urls(self, params: Params) -> bytes:
        hooks = self._flock_hooks(params)
        return orjson.dumps(
            {
                "generic_webhooks": [h["url"] for h in hooks["generic_webhooks"]],
                "result": "success",
                "webhooks_enabled": hooks["webhooks_enabled"],
            }
        )

    def flock_generic_webhooks(self, params: Params) -> bytes:
        return self._generic_webhooks(self._flock_param(params))

    def flock_ms_teams(self, params: Params) -> bytes:
        hooks = self._flock_hooks(params)
        return orjson.dumps(
            {
                "ms_teams_webhooks": hooks["ms_teams"],
                "result": "success",
                "webhooks_enabled": hooks["webhooks_enabled"],
            }
        )

    def flock_slack(self, params: Params) -> bytes:
        hooks = self._flock_hooks(params)
        return orjson.dumps(
            {
                "result": "success",
                "slack_webhooks": hooks["slack_webhooks"],
                "webhooks_enabled": hooks["webhooks_enabled"],
            }
        )

    def flock_splunk(self, params: Params) -> bytes:
        hooks = self._flock_hooks(params)
        return orjson.dumps(
            {
                "result": "success",
                "splunk_webhook": hooks["splunk_webhook"],
                "webhooks_enabled": hooks["webhooks_enabled"],
            }
        )

    def flock_webhooks_enabled(self, params: Params) -> bytes:
        enabled = self._flock_hooks(params)["webhooks_enabled"]
        return orjson.dumps({"is_enabled": enabled, "result": "success"})

    def flock_webhooks_global(self, params: Params) -> bytes:
        is_global = self._flock_hooks(params)["is_global"]
        return orjson.dumps({"is_global": is_global, "result": "success"})

    # ---------------------------------------------------------------- licenses, features

    def licenses(self, params: Params) -> bytes:
        seed = self.console.seed
        secret = _hash(seed, "docker-pull-token")
        body = {
            "azurecanary_details": {},
            "canaryvm_details": {
                "canaryvm_count": 0,
                "canaryvm_license_count": 5,
                "canaryvm_remaining_licenses": 5,
                "canaryvm_version_details": [_canaryvm_details(seed)],
            },
            "cloudcanary_details": {
                "cloudcanary_count": 0,
                "cloudcanary_license_count": 5,
                "cloudcanary_remaining_licenses": 5,
            },
            "containercanary_details": {
                "containercanary_count": 1,
                "containercanary_image_details": {
                    "docker": [
                        {
                            "arch": "amd64",
                            "namespace": "thinkst-example",
                            "pull_credentials": {"token": f"dckr_pat_{secret}", "username": "tc"},
                            "registry": "https://index.docker.io/v1/",
                            "repo": "container-canary",
                            "sha256": _hash(seed, "container") * 2,
                            "tags": ["4.1.2", "latest"],
                            "version": "4.1.2",
                        }
                    ]
                },
            },
            "gcpcanary_details": {},
            "hypervcanary_details": {},
            "result": "success",
        }
        return orjson.dumps(body)

    def features(self, params: Params) -> bytes:
        digest = int(_hash(self.console.seed, "features"), 16)
        features = {name: bool(digest >> i & 1) for i, name in enumerate(FEATURE_NAMES)}
        features.update(canarytokens=True, console_api=True)
        return orjson.dumps({"features": features, "result": "success"})


def bird_settings(bird: JsonObject) -> JsonObject:
    """A bird's settings as `/device/info?settings=true` gives them: every service's
    `<service>.enabled`, the enabled services' own settings, and the device's identity."""
    services = estate.PERSONALITY_SERVICES.get(bird["personality"], {})
    settings: JsonObject = {
        "device.desc": bird["description"],
        "device.ippers": bird["ippers"],
        "device.name": bird["name"],
        "device.personality": bird["personality"],
    }
    for service in estate.ALL_SERVICES:
        settings[f"{service}.enabled"] = service in services
        for name, value in services.get(service, {}).items():
            settings[f"{service}.{name}"] = value
    return dict(sorted(settings.items()))


def personality_settings(name: str) -> JsonObject:
    if not name:
        return {}
    settings: JsonObject = {"device.ippers": "linux"}
    for service, options in estate.PERSONALITY_SERVICES.get(name, {}).items():
        settings[f"{service}.enabled"] = True
        settings.update({f"{service}.{k}": v for k, v in options.items()})
    return settings


def _update_tag(seed: int, version: str) -> str:
    return _hash(seed, "update", version)[:24]


def _canaryvm_details(seed: int) -> JsonObject:
    base = f"https://downloads.example.com/canaryvm/{_hash(seed, 'canaryvm')}"
    return {
        "commit": "8a06e02",
        "link": f"{base}/canaryvm.zip",
        "ovalink": f"{base}/canaryvm.ova",
        "password": _hash(seed, "canaryvm-password")[:16],
        "seedlink": f"{base}/seed.iso",
        "version": "2.2.1",
    }


FEATURE_NAMES = (
    "adv_throttle_notifications", "apeeper_token", "awsidtoken", "awsidtoken_username",
    "azure_canary", "canary_firewall", "canary_smb_login", "canarytokens", "canaryvm",
    "cloud_canary", "console_api", "enable_auto_updates", "gcp_canary", "gdoc_factory_tokens",
    "globally_enforce_2fa", "http_token_whitelisting", "hyperv_canary", "incident_webhooks",
    "mask_notification_passwords", "new_ui", "office365_mail_token", "one_time_actions",
    "preserve_canaryvm_macs", "preserve_global_macs", "reset_endpoint", "rss_feeds", "saml",
    "skip_gateway_subnet_check", "slackapitoken", "snmp", "snmp_oid_whitelist",
    "ssh_credential_watches", "throttle_notifications", "tokenfactory", "webhook_hipchat",
    "whitelist_hostname", "whitelist_src_port",
)  # fmt: skip


def planted_secrets(console: Console) -> dict[str, str]:
    """Every credential the console's settings and licenses answer with, named by where it is:
    what a client must never write out."""
    found: dict[str, str] = {}
    console_estate = console.estate
    scopes = {"console": console_estate.console_webhooks, **console_estate.flock_webhooks}
    for scope, hooks in scopes.items():
        for hook in hooks["generic_webhooks"]:
            parts = urlsplit(hook["url"])
            if parts.password:
                found[f"{scope} webhook user"] = parts.username or ""
                found[f"{scope} webhook password"] = parts.password
            if parts.hostname == "events.pagerduty.com":
                found[f"{scope} PagerDuty integration key"] = parts.path.split("/")[2]
        for url in hooks["ms_teams"]:
            segments = urlsplit(url).path.split("/")
            found[f"{scope} Teams webhook id"] = segments[2]
            found[f"{scope} Teams webhook key"] = segments[4]
        for slack in hooks["slack_webhooks"]:
            found[f"{scope} Slack webhook secret"] = slack["url"].rsplit("/", 1)[1]
        if scope != "console":
            found[f"{scope} Splunk HEC token"] = hooks["splunk_webhook"]["token"]
    admin_key = next(k for k in console_estate.global_keys() if k.auth_token_type == "Admin")
    found["console settings API key"] = admin_key.auth_token
    found["CanaryVM password"] = _canaryvm_details(console.seed)["password"]
    found["registry pull token"] = f"dckr_pat_{_hash(console.seed, 'docker-pull-token')}"
    return found


# The settings a console and each of its flocks have, named `category.name`, and the kinds of
# bird it holds licenses for: what a client listing them one per row must find.
CONSOLE_SETTING_NAMES = {
    "notifications.email",
    "notifications.sms",
    "notifications.summary_email",
    "notifications.syslog",
    "notifications.sensitive_data_masking",
    "webhooks.generic_webhooks",
    "webhooks.ms_teams_webhooks",
    "webhooks.slack_webhooks",
    "webhooks.hipchat_webhooks",
    "ignore_lists.ip_ignore_list",
    "ignore_lists.hostname_ignore_list",
    "ignore_lists.src_port_ignore_list",
    "ignore_lists.oid_ignore_list",
    "ignore_lists.annotation_ignore_list",
    "change_alerts.console_settings_change",
    "change_alerts.device_settings_change",
    # What else `/settings` holds, a row per key.
    "other.auth_token",
    "other.auth_token_enabled",
    "other.canarytokens_user_domains_enable",
    "other.canarytokens_webroot_enable",
    "other.console_domain",
    "other.globally_enforce_2fa",
    "other.module_options",
    *(f"features.{name}" for name in FEATURE_NAMES),
}
FLOCK_SETTING_NAMES = {
    "notifications.email",
    "notifications.sms",
    "notifications.summary_email",
    "webhooks.generic_webhooks",
    "webhooks.ms_teams_webhooks",
    "webhooks.slack_webhooks",
    "webhooks.hipchat_webhooks",
    "webhooks.splunk_webhook",
    "ignore_lists.ip_ignore_list",
    "ignore_lists.hostname_ignore_list",
    "ignore_lists.src_port_ignore_list",
    "change_alerts.device_settings_change",
    "change_alerts.flock_settings_change",
}
LICENSE_KINDS = {
    "azurecanary", "canaryvm", "cloudcanary", "containercanary", "gcpcanary", "hypervcanary",
}  # fmt: skip


def expected_settings(console: Console) -> set[tuple[str, str]]:
    """Every (scope, setting) of `console`: `console` or a flock id, and the setting."""
    rows = {("console", setting) for setting in CONSOLE_SETTING_NAMES}
    return rows | {
        (flock, setting) for flock in console.flock_ids() for setting in FLOCK_SETTING_NAMES
    }
