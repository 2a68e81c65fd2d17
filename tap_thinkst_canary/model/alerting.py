"""The settings that decide whether an alert reaches anyone, and the console's licenses.

Settings come from several endpoints, console-wide (``/settings``, ``/settings/generic/list``,
``/settings/ignored_annotations``, ``/console/features``) and per flock (``/flock/settings/...``),
each in its own shape. They become one row per setting and scope: the notification channels
(e-mail, SMS, summary e-mail, syslog), the webhooks (generic, Microsoft Teams, Slack, HipChat,
Splunk), the ignore lists (IP, hostname, source port, SNMP OID, alert annotations), the alerts on
settings changes, and the console's feature flags. What the console-wide settings hold besides
is kept too, one row per key, in the ``other`` category.

Channels carry credentials: a Splunk HEC token, Slack, Teams and PagerDuty URLs whose path is
the secret, user names and passwords or tokens inside webhook URLs. A :class:`Redactor` replaces
each with ``[REDACTED]`` (unless ``redact_secrets`` is false), keeping the rest of the value,
and remembers every secret it met so that the caller can keep it out of every log line too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from tap_thinkst_canary.model._convert import INVALID, to_boolean, to_integer
from tap_thinkst_canary.model._table import EXTRA_SCHEMA, REDACTED, object_schema
from tap_thinkst_canary.model.tokens import is_secret_field

Row = dict[str, Any]

CONSOLE_SCOPE: Final = "console"

# Field names of channel secrets the token model does not already know as such.
_CHANNEL_SECRET_FIELDS: Final = frozenset(
    {"token", "hec_token", "integration_key", "routing_key", "service_key", "key", "signature"}
)
# Query parameters whose value is a credential: their names, squashed, contain one of these.
_SECRET_PARAMETER_PARTS: Final = ("token", "key", "secret", "password", "passwd", "sig", "auth")
# A path segment like this is a credential (a PagerDuty integration key, the last part of a
# Slack or Teams webhook): long, of URL-safe characters, with a digit in it. Words ("services",
# "IncomingWebhook", "outside-bird-alerts") are not.
_CREDENTIAL_SEGMENT: Final = re.compile(r"(?=[^/]*\d)[A-Za-z0-9_\-]{16,}")
_NON_ALNUM: Final = re.compile(r"[^a-z0-9]")
# Lists of addresses, hosts and IPs come as one string separated by commas or new lines.
_LIST_SEPARATOR: Final = re.compile(r"[,\n]")


def is_channel_secret_field(name: str) -> bool:
    """Whether a field of a channel or license names a credential."""
    lowered = name.lower()
    return (
        is_secret_field(name)
        or lowered in _CHANNEL_SECRET_FIELDS
        or lowered.endswith(("_token", "_key", "_secret"))
    )


def _is_secret_parameter(name: str) -> bool:
    squashed = _NON_ALNUM.sub("", name.lower())
    return any(part in squashed for part in _SECRET_PARAMETER_PARTS)


@dataclass
class Redactor:
    """Replaces the credentials in settings values with ``[REDACTED]`` (all of them, unless
    ``redact`` is false) and collects every one it met in ``secrets``."""

    redact: bool = True
    secrets: set[str] = field(default_factory=set)

    def value(self, value: Any, *, under_secret: bool = False) -> Any:
        """A copy of ``value`` with its credentials redacted: strings under a field named like
        a secret, and the credentials inside URLs."""
        if type(value) is dict:
            return {
                key: self.value(item, under_secret=under_secret or is_channel_secret_field(key))
                for key, item in value.items()
            }
        if type(value) is list:
            return [self.value(item, under_secret=under_secret) for item in value]
        if type(value) is not str or not value:
            return value
        if under_secret:
            return self._secret(value)
        if value.startswith(("http://", "https://")):
            return self.url(value)
        return value

    def url(self, url: str) -> str:
        """``url`` with its user name and password, credential path segments and credential
        query parameters redacted; scheme, host, port and the rest of the path kept."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return url
        host = parts.hostname or ""
        if parts.username is not None or parts.password is not None:
            for credential in (parts.username, parts.password):
                if credential:
                    self._secret(credential)
            host = f"{REDACTED}@{host}"
        if port is not None:
            host = f"{host}:{port}"
        path = "/".join(
            self._secret(segment) if _CREDENTIAL_SEGMENT.fullmatch(segment) else segment
            for segment in parts.path.split("/")
        )
        query = "&".join(
            f"{quote(name, safe='')}={self._parameter(name, item)}"
            for name, item in parse_qsl(parts.query, keep_blank_values=True)
        )
        redacted = urlunsplit((parts.scheme, host, path, query, parts.fragment))
        return redacted if self.redact else url

    def _parameter(self, name: str, value: str) -> str:
        if _is_secret_parameter(name):
            return self._secret(value)
        return quote(value, safe="")

    def _secret(self, value: str) -> str:
        if not value or value == REDACTED:
            return value
        self.secrets.add(value)
        return REDACTED if self.redact else value


# ---------------------------------------------------------------------------------- settings

SETTING_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        "scope": {
            "type": ["string"],
            "description": "Where the setting applies: `console` for the console-wide one, else "
            "the flock id (part of the primary key).",
        },
        "setting": {
            "type": ["string"],
            "description": "The setting, `category.name`, e.g. `notifications.email`, "
            "`webhooks.slack_webhooks`, `ignore_lists.ip_ignore_list` (part of the primary key).",
        },
        "flock_id": {
            "type": ["string", "null"],
            "description": "The flock of a flock's setting; null for a console-wide one.",
        },
        "category": {
            "type": ["string", "null"],
            "description": "`notifications`, `webhooks`, `ignore_lists`, `change_alerts`, "
            "`features`, or `other` for the rest of the console-wide settings.",
        },
        "name": {
            "type": ["string", "null"],
            "description": "The setting's name within its category, e.g. `email`, `syslog`, "
            "`generic_webhooks`, `hostname_ignore_list`, a feature's name.",
        },
        "enabled": {
            "type": ["boolean", "null"],
            "description": "Whether the setting is on; for a webhook channel, whether the "
            "scope's webhooks are on. Null when the setting has no switch, or a flock's setting "
            "follows the console's (`follows_console`).",
        },
        "follows_console": {
            "type": ["boolean", "null"],
            "description": "For a flock's setting: whether the flock uses the console-wide one "
            "(the console says `Global`, `is_global` or `inherit_global_whitelist_ips`). Null "
            "for console-wide settings and where the console does not say.",
        },
        "value": {
            "type": ["object", "null"],
            "additionalProperties": True,
            "description": "What the setting holds, as JSON: e.g. `addresses`, `numbers`, "
            "`webhooks`, `ips`, `hostnames`, syslog's `host` and `port`. Lists the console sends "
            "as comma- or newline-separated strings are arrays. Credentials are '[REDACTED]' "
            "unless `redact_secrets` is false: channel tokens and keys, and in URLs the user "
            "name and password, credential path segments and query parameters.",
        },
        "extra": EXTRA_SCHEMA,
    }
)


def _setting(
    scope: str,
    category: str,
    name: str,
    *,
    enabled: Any = None,
    value: Mapping[str, Any] | None = None,
    follows_console: bool | None = None,
) -> Row:
    """One setting's row. A flock setting whose switch says ``Global`` follows the console's."""
    typed = to_boolean(enabled)
    extra = None
    if type(enabled) is str and enabled.strip().lower() == "global":
        typed, follows_console = None, True
    elif typed is INVALID:
        typed, extra = None, {"enabled": enabled}
    return {
        "scope": scope,
        "setting": f"{category}.{name}",
        "flock_id": None if scope == CONSOLE_SCOPE else scope,
        "category": category,
        "name": name,
        "enabled": typed,
        "follows_console": follows_console,
        "value": None if value is None else dict(value),
        "extra": extra,
    }


def _as_list(value: Any) -> Any:
    """A list the console sends as ``"a,b"`` or ``"a\\nb"`` -> ``["a", "b"]``; lists as they are."""
    if type(value) is str:
        return [item.strip() for item in _LIST_SEPARATOR.split(value) if item.strip()]
    return value


def _object(value: Any) -> dict[str, Any]:
    return value if type(value) is dict else {}


def _url_list(values: Any, redactor: Redactor) -> Any:
    return redactor.value(_as_list(values))


# `/settings` keys that the rows below read; every other key becomes an `other` row.
_CONSOLE_NOTIFICATIONS: Final = (
    ("email", "email_notification_enable", "addresses", "notification_addresses"),
    ("sms", "sms_notification_enable", "numbers", "notification_numbers"),
    ("summary_email", "summary_email_enable", "addresses", "summary_email_addresses"),
)
_CONSOLE_IGNORE_LISTS: Final = (
    ("ip_ignore_list", "whitelist_enable", "ips", "whitelist_ips"),
    ("hostname_ignore_list", "whitelist_hostnames_enable", "hostnames", "whitelist_hostnames"),
    ("src_port_ignore_list", "whitelist_src_port_enable", "src_ports", "whitelist_src_port_ips"),
    ("oid_ignore_list", "whitelist_oid_enable", "oids", "whitelist_oids"),
)
_CONSOLE_WEBHOOKS: Final = (
    ("ms_teams_webhooks", "ms_teams_webhooks"),
    ("slack_webhooks", "slack_incident_webhook"),
    ("hipchat_webhooks", "hipchat_integration_urls"),
)
_CONSOLE_CHANGE_ALERTS: Final = (
    ("console_settings_change", "console_settings_change_enable"),
    ("device_settings_change", "device_settings_change_enable"),
)
_SYSLOG_PREFIX: Final = "syslog_"
_SYSLOG_SWITCH: Final = "syslog_enabled"
_CONSOLE_KEYS_READ: Final = frozenset(
    {
        "result",
        "generic_incident_webhooks",
        "incident_webhooks_enabled",
        "sensitive_data_masking_enable",
        *(key for row in _CONSOLE_NOTIFICATIONS for key in (row[1], row[3])),
        *(key for row in _CONSOLE_IGNORE_LISTS for key in (row[1], row[3])),
        *(key for _, key in _CONSOLE_WEBHOOKS),
        *(key for _, key in _CONSOLE_CHANGE_ALERTS),
    }
)


def console_setting_records(
    settings: Any,
    generic_webhooks: Any,
    ignored_annotations: Any,
    features: Any,
    *,
    redactor: Redactor,
) -> list[Row]:
    """The console-wide settings: the answers of ``/settings``, ``/settings/generic/list``,
    ``/settings/ignored_annotations`` and ``/console/features`` -> one row per setting."""
    answer = _object(settings)
    scope = CONSOLE_SCOPE
    rows = [
        _setting(scope, "notifications", name, enabled=answer.get(switch),
                 value={field_name: _as_list(answer.get(key))})
        for name, switch, field_name, key in _CONSOLE_NOTIFICATIONS
    ]  # fmt: skip
    syslog = {
        key.removeprefix(_SYSLOG_PREFIX): _as_port(key, value)
        for key, value in answer.items()
        if key.startswith(_SYSLOG_PREFIX) and key != _SYSLOG_SWITCH
    }
    rows.append(
        _setting(scope, "notifications", "syslog", enabled=answer.get(_SYSLOG_SWITCH),
                 value=redactor.value(syslog))
    )  # fmt: skip
    rows.append(
        _setting(scope, "notifications", "sensitive_data_masking",
                 enabled=answer.get("sensitive_data_masking_enable"))
    )  # fmt: skip
    webhooks_on = answer.get("incident_webhooks_enabled")
    listed = _object(generic_webhooks).get("generic_webhooks")
    hooks = listed if type(listed) is list else _as_list(answer.get("generic_incident_webhooks"))
    rows.append(
        _setting(scope, "webhooks", "generic_webhooks", enabled=webhooks_on,
                 value={"webhooks": redactor.value(hooks)})
    )  # fmt: skip
    rows += [
        _setting(scope, "webhooks", name, enabled=webhooks_on,
                 value={"webhooks": _url_list(answer.get(key), redactor)})
        for name, key in _CONSOLE_WEBHOOKS
    ]  # fmt: skip
    rows += [
        _setting(scope, "ignore_lists", name, enabled=answer.get(switch),
                 value={field_name: _as_list(answer.get(key))})
        for name, switch, field_name, key in _CONSOLE_IGNORE_LISTS
    ]  # fmt: skip
    annotations = _object(ignored_annotations).get("ignored_annotations")
    rows.append(
        _setting(scope, "ignore_lists", "annotation_ignore_list",
                 value={"annotations": annotations if type(annotations) is list else []})
    )  # fmt: skip
    rows += [
        _setting(scope, "change_alerts", name, enabled=answer.get(key))
        for name, key in _CONSOLE_CHANGE_ALERTS
    ]
    flags = _object(features).get("features")
    rows += [
        _setting(scope, "features", str(name), enabled=enabled)
        for name, enabled in _object(flags).items()
    ]
    rows += [
        _setting(scope, "other", key, enabled=value if type(value) is bool else None,
                 value={key: redactor.value(value, under_secret=is_channel_secret_field(key))})
        for key, value in answer.items()
        if key not in _CONSOLE_KEYS_READ and not key.startswith(_SYSLOG_PREFIX)
    ]  # fmt: skip
    return rows


def _as_port(key: str, value: Any) -> Any:
    if key.endswith("_port"):
        port = to_integer(value)
        return value if port is INVALID else port
    return value


@dataclass(frozen=True)
class FlockSettingsAnswers:
    """What the console answered about one flock's settings, endpoint by endpoint."""

    ignore_lists: Any = None  # /flock/settings/whitelisting/info
    notifications: Any = None  # /flock/settings/notifications/info
    webhooks: Any = None  # /flock/settings/webhooks/info
    generic_webhooks: Any = None  # /flock/settings/webhooks/generic/list
    webhooks_global: Any = None  # /flock/settings/webhooks/is_global
    summary_settings: Any = None  # the flock's `settings` in /flocks/summary


_FLOCK_NOTIFICATIONS: Final = (
    ("email", "emails", "addresses"),
    ("sms", "sms", "numbers"),
    ("summary_email", "summary_email", "addresses"),
)
_FLOCK_IGNORE_LISTS: Final = (
    ("ip_ignore_list", "ip_whitelisting", "ips"),
    ("hostname_ignore_list", "hostname_ignorelisting", "hostnames"),
    ("src_port_ignore_list", "src_port_ignorelisting", "src_ports"),
)
_FLOCK_WEBHOOKS: Final = (
    ("ms_teams_webhooks", "ms_teams"),
    ("slack_webhooks", "slack_webhooks"),
    ("hipchat_webhooks", "hipchat_webhooks"),
)
_FLOCK_CHANGE_ALERTS: Final = (
    ("device_settings_change", "device_settings_notifications"),
    ("flock_settings_change", "flock_settings_notifications"),
)


def flock_setting_records(
    flock_id: str, answers: FlockSettingsAnswers, *, redactor: Redactor
) -> list[Row]:
    """One flock's settings -> one row per setting, with ``scope`` the flock id."""
    scope = flock_id
    notifications = _object(_object(answers.notifications).get("notification_info"))
    rows = []
    for name, key, field_name in _FLOCK_NOTIFICATIONS:
        channel = _object(notifications.get(key))
        rows.append(
            _setting(scope, "notifications", name, enabled=channel.get("enabled"),
                     value={field_name: _as_list(channel.get(field_name))})
        )  # fmt: skip

    info = _object(_object(answers.webhooks).get("webhook_info"))
    webhooks_on = info.get("webhooks_enabled")
    uses_console = to_boolean(_object(answers.webhooks_global).get("is_global"))
    follows = uses_console if type(uses_console) is bool else None
    listed = _object(answers.generic_webhooks).get("generic_webhooks")
    hooks = listed if type(listed) is list else info.get("generic_webhooks")
    rows.append(
        _setting(scope, "webhooks", "generic_webhooks", enabled=webhooks_on,
                 value={"webhooks": redactor.value(_as_list(hooks))}, follows_console=follows)
    )  # fmt: skip
    rows += [
        _setting(scope, "webhooks", name, enabled=webhooks_on,
                 value={"webhooks": _url_list(info.get(key), redactor)}, follows_console=follows)
        for name, key in _FLOCK_WEBHOOKS
    ]  # fmt: skip
    splunk = info.get("splunk_webhook")
    rows.append(
        _setting(scope, "webhooks", "splunk_webhook", enabled=webhooks_on,
                 value=redactor.value(_splunk(splunk)), follows_console=follows)
    )  # fmt: skip

    ignore_lists = _object(_object(answers.ignore_lists).get("whitelisting_info"))
    inherits_ips = to_boolean(ignore_lists.get("inherit_global_whitelist_ips"))
    for name, key, field_name in _FLOCK_IGNORE_LISTS:
        ignore_list = _object(ignore_lists.get(key))
        inherits = inherits_ips if name == "ip_ignore_list" and type(inherits_ips) is bool else None
        rows.append(
            _setting(scope, "ignore_lists", name, enabled=ignore_list.get("enabled"),
                     value={field_name: _as_list(ignore_list.get(field_name))},
                     follows_console=inherits)
        )  # fmt: skip

    change_control = _object(_object(answers.summary_settings).get("change_control"))
    rows += [
        _setting(scope, "change_alerts", name, enabled=change_control.get(key))
        for name, key in _FLOCK_CHANGE_ALERTS
        if key in change_control
    ]
    return rows


def _splunk(splunk: Any) -> dict[str, Any]:
    """The Splunk HEC of a flock, its port an integer; an empty object when there is none."""
    if type(splunk) is not dict:
        return {}
    port = to_integer(splunk.get("port"))
    return {**splunk, "port": port} if "port" in splunk and port is not INVALID else dict(splunk)


def flock_ids_of(summary: Any) -> Iterator[tuple[str, Any]]:
    """A ``/flocks/summary`` answer -> each flock's id and its ``settings``."""
    summaries = _object(summary).get("flocks_summary")
    for flock_id, flock in _object(summaries).items():
        if type(flock_id) is str:
            yield flock_id, _object(flock).get("settings")


# ---------------------------------------------------------------------------------- licenses

_DETAILS_SUFFIX: Final = "_details"

LICENSE_SCHEMA: Final[dict[str, Any]] = object_schema(
    {
        "kind": {
            "type": ["string"],
            "description": "The kind of bird the licenses are for, as the console names it: "
            "`canaryvm`, `cloudcanary`, `containercanary`, `azurecanary`, `gcpcanary`, "
            "`hypervcanary` (primary key).",
        },
        "bird_count": {
            "type": ["integer", "null"],
            "description": "Birds of this kind on the console (`<kind>_count`).",
        },
        "license_count": {
            "type": ["integer", "null"],
            "description": "Licenses of this kind the console holds (`<kind>_license_count`).",
        },
        "remaining_licenses": {
            "type": ["integer", "null"],
            "description": "Licenses of this kind not in use (`<kind>_remaining_licenses`).",
        },
        "details": {
            "type": ["object", "null"],
            "additionalProperties": True,
            "description": "The rest of the kind's details as JSON (versions, images, download "
            "links), with passwords, registry pull credentials and credential path segments "
            "'[REDACTED]' unless `redact_secrets` is false.",
        },
        "extra": EXTRA_SCHEMA,
    }
)


def license_records(answer: Any, *, redactor: Redactor) -> list[Row]:
    """A ``/license/detailed/info`` answer -> one row per kind of bird."""
    rows = []
    extra = {
        key: value
        for key, value in _object(answer).items()
        if key != "result" and not key.endswith(_DETAILS_SUFFIX)
    }
    for key, details in _object(answer).items():
        if not key.endswith(_DETAILS_SUFFIX):
            continue
        kind = key.removesuffix(_DETAILS_SUFFIX)
        rest = dict(_object(details))
        counts = {
            column: _count(rest.pop(f"{kind}{suffix}", None))
            for column, suffix in (
                ("bird_count", "_count"),
                ("license_count", "_license_count"),
                ("remaining_licenses", "_remaining_licenses"),
            )
        }
        rows.append(
            {
                "kind": kind,
                **counts,
                "details": redactor.value(rest),
                "extra": redactor.value(extra) or None,
            }
        )
    return rows


def _count(value: Any) -> int | None:
    count = to_integer(value)
    return None if count is INVALID else count


__all__ = [
    "CONSOLE_SCOPE",
    "LICENSE_SCHEMA",
    "SETTING_SCHEMA",
    "FlockSettingsAnswers",
    "Redactor",
    "console_setting_records",
    "flock_ids_of",
    "flock_setting_records",
    "license_records",
]
