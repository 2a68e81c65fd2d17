"""What a console holds beyond incidents, audit trail, birds, tokens and flocks.

Users, API keys, Outside Bird alerts, incidents suppressed by ignored annotations, birds waiting
to be commissioned, firmware updates and the settings that route alerts. All of it is small
(hundreds of items), so it is built once from the seed and kept as plain objects; the incidents
an annotation suppressed are the exception, counted per annotation and rebuilt on demand.
Values hold their natural types here; the API layer renders them the way each endpoint's
documentation shows (booleans as ``"True"``, epochs as `*_std` strings, and so on).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from canary_simulator import generators
from canary_simulator.generators import JsonObject, hex_string, ip_address

ACCESS_LEVELS = ("admin", "user")
GLOBAL_KEY_TYPES = ("Admin", "Read-only", "Analyst")
FLOCK_KEY_TYPES = ("admin", "read-only", "analyst", "canarytoken-deploy")
# A console key creates other keys; the docs show it as their `created_by`.
CONSOLE_KEY_CREATOR = "Global-API-Token[key_id:ffffffff]"
OUTSIDE_BIRD_SERVICES = (
    "SSH Login Attempt", "SIP Request", "Telnet Login Attempt", "HTTP Login Attempt",
    "RDP Login Attempt", "VNC Login Attempt",
)  # fmt: skip
ANNOTATIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "palo_alto_pdf_token_trigger", "Palo Alto WildFire PDF Scan",
        "This looks like it was automatically triggered by Palo Alto's WildFire service.",
        "https://help.canary.tools/hc/en-gb/articles/360013051378",
    ),
    (
        "microsoft_safelinks_scan", "Microsoft Safe Links Scan",
        "This looks like Microsoft Defender for Office 365 followed the link to check it.",
        "https://help.canary.tools/hc/en-gb/articles/360002426577",
    ),
    (
        "shodan_scanner", "Shodan Scanner",
        "This source address belongs to Shodan's internet-wide scanners.",
        "https://help.canary.tools/hc/en-gb/articles/360012727538",
    ),
)  # fmt: skip
# Annotations the seeded console ignores, and how many incidents each has suppressed.
IGNORED_AT_START = {"palo_alto_pdf_token_trigger": 24, "shodan_scanner": 7}
ANNOTATED_LOGTYPES = {
    "palo_alto_pdf_token_trigger": "16008",
    "microsoft_safelinks_scan": "17000",
    "shodan_scanner": "4002",
}
# The services a personality runs, with their settings as `/device/info?settings=true` shows.
PERSONALITY_SERVICES: dict[str, dict[str, JsonObject]] = {
    "linux-db": {
        "ssh": {"port": 22, "version": "SSH-2.0-OpenSSH_7.4"},
        "mysql": {"port": 3306, "banner": "5.5.43-0ubuntu0.14.04.1"},
    },
    "windows-fileshare": {
        "smb": {"sharename": "Documents", "netbiosname": "FILESHARE01", "domain": "CORP"},
        "rdp": {"port": 3389},
    },
    "cisco-router": {
        "telnet": {"port": 23, "banner": "User Access Verification"},
        "snmp": {"port": 161, "community": "public"},
        "http": {"port": 80, "skin": "cisco_asa"},
    },
    "nas": {
        "smb": {"sharename": "Backups", "netbiosname": "NAS01", "domain": "WORKGROUP"},
        "http": {"port": 5000, "skin": "synology"},
        "ftp": {"port": 21, "banner": "Synology FTP server ready."},
    },
}
ALL_SERVICES = ("ftp", "http", "mysql", "rdp", "smb", "snmp", "ssh", "telnet", "vnc")
PERSONALITY_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("General", (("", "Pick One"), ("bare", "Bare Canary (no services)"))),
    ("Linux", (("linux-db", "Linux Database Server"), ("nas", "Synology NAS"))),
    ("Windows", (("windows-fileshare", "Windows File Share"),)),
    ("Network", (("cisco-router", "Cisco Router"),)),
    ("Custom", ()),
)
FIRMWARE_UPDATES: tuple[JsonObject, ...] = (
    {"version": "3.8.0", "supported_versions": ["2.3", "3.7"], "description": "SMB fixes"},
    {"version": "4.1.2", "supported_versions": ["3.8", "4.0", "4.1"], "description": "Fix to "
     "Canary sandbox configuration"},
)  # fmt: skip
LATEST_FIRMWARE = FIRMWARE_UPDATES[-1]["version"]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


@dataclass
class User:
    email: str
    id: str
    access_level: str  # "admin" or "user"
    note: str = ""
    disabled: bool | None = None  # None: never disabled (the list shows "None")
    supervisor: bool = False
    totp_enabled: bool = False
    webauthn_enabled: bool = False
    saml_provisioned: bool = False
    summary_email_enabled: bool = True
    managed_flocks: list[str] = field(default_factory=list)
    watched_flocks: list[str] = field(default_factory=list)


@dataclass
class ApiKey:
    key_id: str
    auth_token: str
    auth_token_type: str
    note: str
    created: int
    created_by: str
    flock_id: str | None = None  # None: a global key
    last_used: int | None = None
    managed_flocks: list[str] = field(default_factory=list)
    watched_flocks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OutsideBirdAlert:
    node_id: str
    src_ip: str
    service: str
    timestamp: int


@dataclass
class PendingBird:
    node_id: str
    name: str
    description: str
    device_version: str
    flock_id: str
    pending_since: float
    user: str


def api_key_value(rng: random.Random) -> str:
    """An API key as a console hands them out: 32 hex digits, as long as the real ones."""
    return hex_string(rng, 32)


class Estate:
    """The rest of a console's data, from the seed; `Console` owns it and guards its lock."""

    def __init__(
        self,
        seed: int,
        name: str,
        flock_ids: list[str],
        birds: list[JsonObject],
        history_start: int,
        history_end: int,
        outside_bird_alerts: int,
    ) -> None:
        self.seed = seed
        self.domain = f"{name}.canary.tools"
        self._history = (history_start, history_end)
        self.users: dict[str, User] = {}
        self.removed_users: dict[str, User] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.removed_api_keys: dict[str, ApiKey] = {}
        self._serial = 0
        self._make_users(flock_ids)
        self._make_api_keys(flock_ids)
        outside = [b for b in birds if b["outside_bird"]]
        self.outside_bird_alerts: list[OutsideBirdAlert] = []
        self.add_outside_bird_alerts(outside, outside_bird_alerts, history_end)
        self.ignored_annotations: dict[str, int] = dict(IGNORED_AT_START)
        self.pending_birds: dict[str, PendingBird] = {}
        for i in range(3):
            self.add_pending_bird(flock_ids[i % len(flock_ids)], history_end - 3600 * (i + 1))
        self.outside_bird_webhooks = [
            f"https://siem.example.com/outside-bird-alerts?token={self._secret('obw', 24)}"
        ]
        self.flock_webhooks: dict[str, JsonObject] = {}
        for i, flock_id in enumerate(flock_ids):
            self.add_flock_settings(flock_id, i)
        self.console_webhooks = self._webhooks("console", generic=2, teams=1, slack=1)
        rng = self._rng("console-ignore-lists")
        self.console_ignore_lists: JsonObject = {
            "whitelist_enable": True,
            "whitelist_ips": [ip_address(rng, private=True), ip_address(rng, private=True)],
            "whitelist_hostnames_enable": True,
            "whitelist_hostnames": ["backup01.corp.example", "scanner.corp.example"],
            "whitelist_src_port_enable": False,
            "whitelist_src_port_ips": [f"{ip_address(rng, private=True)}:445"],
        }

    def webhooks_of(self, flock_id: str | None) -> JsonObject:
        """The webhooks of a flock, or the console's (None)."""
        if flock_id is None:
            return self.console_webhooks
        try:
            return self.flock_webhooks[flock_id]
        except KeyError:
            raise KeyError(f"no flock {flock_id!r}") from None

    def add_generic_webhook(self, url: str, flock_id: str | None = None) -> str:
        hooks = self.webhooks_of(flock_id)["generic_webhooks"]
        if any(h["url"] == url for h in hooks):
            raise ValueError("that webhook exists already")
        webhook_id = hex_string(self._rng("webhook", flock_id, url), 16)
        hooks.append({"url": url, "header_names": [], "webhook_id": webhook_id})
        return webhook_id

    def remove_generic_webhook(self, url: str, flock_id: str | None = None) -> None:
        hooks = self.webhooks_of(flock_id)["generic_webhooks"]
        kept = [h for h in hooks if h["url"] != url]
        if len(kept) == len(hooks):
            raise KeyError("no such webhook")
        hooks[:] = kept

    # ----------------------------------------------------------------------------- helpers

    def _rng(self, *key: object) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, "estate", *key))))

    def _secret(self, purpose: str, length: int) -> str:
        return hex_string(self._rng("secret", purpose, length), length)

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _history_moment(self, rng: random.Random) -> int:
        start, end = self._history
        return start + rng.randrange(max(1, end - start))

    # ------------------------------------------------------------------------------- users

    def _make_users(self, flock_ids: list[str]) -> None:
        others = flock_ids[1:] or flock_ids
        # (email, access, totp, webauthn, saml, disabled, supervisor, managed, watched)
        people: tuple[tuple[Any, ...], ...] = (
            ("alice@example.com", "admin", True, False, False, None, False, [], []),
            ("bob@example.com", "admin", False, False, False, None, False, [], []),
            ("zoë@example.com", "admin", False, True, False, None, True, [], []),
            ("carol@example.com", "user", True, False, True, None, False, [others[0]], []),
            ("dave@example.com", "user", False, False, False, True, False, [], others[:2]),
            ("erin@example.com", "user", False, True, False, False, False, [], [flock_ids[0]]),
            ("frank@example.com", "user", False, False, True, None, True, others[-1:], []),
            ("o'brien@example.com", "admin", True, True, False, None, False, [], []),
        )
        for email, access, totp, webauthn, saml, disabled, supervisor, managed, watched in people:
            self.add_user(
                email, access, totp_enabled=totp, webauthn_enabled=webauthn,
                saml_provisioned=saml, disabled=disabled, supervisor=supervisor,
                managed_flocks=list(managed), watched_flocks=list(watched),
            )  # fmt: skip

    def add_user(self, email: str, access_level: str = "user", **fields: Any) -> User:
        if access_level not in ACCESS_LEVELS:
            raise ValueError(f"unknown access_level {access_level!r}; use admin or user")
        if email in self.users:
            raise ValueError(f"a user {email!r} exists already")
        rng = self._rng("user", email)
        fields.setdefault("note", rng.choice(("", "SOC lead", "Contractor until June")))
        user = User(email=email, id=hex_string(rng, 32), access_level=access_level, **fields)
        self.users[email] = user
        return user

    def user(self, email: str) -> User:
        try:
            return self.users[email]
        except KeyError:
            raise KeyError(f"no user {email!r}") from None

    def change_user(self, email: str, **fields: Any) -> User:
        user = self.user(email)
        changeable = set(User.__dataclass_fields__) - {"email", "id"}
        unknown = set(fields) - changeable
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a user")
        if fields.get("access_level", user.access_level) not in ACCESS_LEVELS:
            raise ValueError("access_level must be admin or user")
        for name, value in fields.items():
            setattr(user, name, value)
        return user

    def remove_user(self, email: str) -> None:
        self.removed_users[email] = self.users.pop(self.user(email).email)

    def restore_user(self, email: str) -> None:
        if email not in self.removed_users:
            raise KeyError(f"no removed user {email!r}")
        self.users[email] = self.removed_users.pop(email)

    # ---------------------------------------------------------------------------- API keys

    def _make_api_keys(self, flock_ids: list[str]) -> None:
        admins = [u.email for u in self.users.values() if u.access_level == "admin"]
        for i, (kind, note) in enumerate(
            (("Admin", "Infrastructure Team"), ("Read-only", "SIEM export"), ("Analyst", ""))
        ):
            self.add_api_key(kind, note, created_by=CONSOLE_KEY_CREATOR if i else admins[0])
        for i, flock_id in enumerate(flock_ids):
            # Every flock has an admin key, as in the docs' example; some also a narrower one.
            kinds = ("admin", FLOCK_KEY_TYPES[1 + i % (len(FLOCK_KEY_TYPES) - 1)])[: 1 + i % 2]
            for kind in kinds:
                self.add_api_key(
                    kind, f"{kind} key for flock {i}", flock_id=flock_id,
                    created_by=admins[i % len(admins)],
                )  # fmt: skip

    def add_api_key(
        self,
        auth_token_type: str,
        note: str = "",
        flock_id: str | None = None,
        created_by: str = CONSOLE_KEY_CREATOR,
        created: int | None = None,
    ) -> ApiKey:
        allowed = FLOCK_KEY_TYPES if flock_id else GLOBAL_KEY_TYPES
        if auth_token_type not in allowed:
            scope = "flock" if flock_id else "global"
            raise ValueError(
                f"unknown {scope} key type {auth_token_type!r}; use one of {', '.join(allowed)}"
            )
        serial = self._next_serial()
        rng = self._rng("api-key", serial)
        created = created if created is not None else self._history_moment(rng)
        # A key created after the history (one added now) has not been used yet.
        unused = rng.random() < 0.3 or created > self._history[1]
        used = None if unused else created + rng.randrange(1 + self._history[1] - created)
        key = ApiKey(
            key_id=hex_string(rng, 8),
            auth_token=api_key_value(rng),
            auth_token_type=auth_token_type,
            note=note,
            created=created,
            created_by=created_by,
            flock_id=flock_id,
            last_used=used if used is None or used <= self._history[1] else None,
            managed_flocks=[flock_id] if flock_id and auth_token_type == "admin" else [],
            watched_flocks=[flock_id] if flock_id and auth_token_type != "admin" else [],
        )
        self.api_keys[key.key_id] = key
        return key

    def api_key(self, key_id: str) -> ApiKey:
        try:
            return self.api_keys[key_id]
        except KeyError:
            raise KeyError(f"no API key {key_id!r}") from None

    def remove_api_key(self, key_id: str) -> None:
        self.removed_api_keys[key_id] = self.api_keys.pop(self.api_key(key_id).key_id)

    def restore_api_key(self, key_id: str) -> None:
        if key_id not in self.removed_api_keys:
            raise KeyError(f"no removed API key {key_id!r}")
        self.api_keys[key_id] = self.removed_api_keys.pop(key_id)

    def global_keys(self) -> list[ApiKey]:
        return [k for k in self.api_keys.values() if k.flock_id is None]

    def flock_keys(self, flock_id: str) -> list[ApiKey]:
        return [k for k in self.api_keys.values() if k.flock_id == flock_id]

    # ------------------------------------------------------------------ Outside Bird alerts

    def add_outside_bird_alerts(
        self, outside_birds: list[JsonObject], count: int, until: int
    ) -> list[OutsideBirdAlert]:
        """`count` alerts spread over the outside birds; sources recur, as scanners do."""
        if count and not outside_birds:
            raise ValueError("there is no outside bird to raise alerts")
        rng = self._rng("outside-bird-alerts", len(self.outside_bird_alerts))
        added = []
        for i in range(count):
            bird = outside_birds[i % len(outside_birds)]
            source = generators.attacker_address(self.seed, rng)
            service = OUTSIDE_BIRD_SERVICES[int(len(OUTSIDE_BIRD_SERVICES) * rng.random() ** 2)]
            start = self._history[0]
            alert = OutsideBirdAlert(bird["id"], source, service, rng.randrange(start, until))
            added.append(alert)
        self.outside_bird_alerts.extend(added)
        return added

    def delete_outside_bird_alerts(self, node_id: str, src_ip: str | None = None) -> int:
        before = len(self.outside_bird_alerts)
        self.outside_bird_alerts = [
            a
            for a in self.outside_bird_alerts
            if not (a.node_id == node_id and (src_ip is None or a.src_ip == src_ip))
        ]
        return before - len(self.outside_bird_alerts)

    # ----------------------------------------------------------------- ignored annotations

    def ignore_annotation(self, name: str, suppressed: int = 0) -> None:
        if name not in ANNOTATED_LOGTYPES:
            known = ", ".join(ANNOTATED_LOGTYPES)
            raise ValueError(f"unknown annotation {name!r}; use one of {known}")
        self.ignored_annotations[name] = self.ignored_annotations.get(name, 0) + suppressed

    def unignore_annotation(self, name: str) -> None:
        if self.ignored_annotations.pop(name, None) is None:
            raise KeyError(f"annotation {name!r} is not ignored")

    # ---------------------------------------------------------------------- pending birds

    def add_pending_bird(self, flock_id: str, since: float) -> PendingBird:
        serial = self._next_serial()
        rng = self._rng("pending-bird", serial)
        node_id = f"0000000{hex_string(rng, 9)}"
        bird = PendingBird(
            node_id=node_id,
            name=f"{rng.choice(('new-bird', 'Branch-NAS', 'Lab-Box'))}-{node_id[-4:]}",
            description=rng.choice(("SRV Room", "", "Shipped to Kapstadt")),
            device_version=rng.choice(("3.8.0", LATEST_FIRMWARE)),
            flock_id=flock_id,
            pending_since=since + rng.random(),
            user=rng.choice([u.email for u in self.users.values()]),
        )
        self.pending_birds[node_id] = bird
        return bird

    def remove_pending_bird(self, node_id: str) -> None:
        if self.pending_birds.pop(node_id, None) is None:
            raise KeyError(f"no pending bird {node_id!r}")

    # ---------------------------------------------------------------- settings, webhooks

    def _webhooks(self, scope: str, generic: int, teams: int, slack: int) -> JsonObject:
        """Webhooks carrying secrets where real ones do: credentials and tokens in the URLs,
        a Splunk HEC token."""
        rng = self._rng("webhooks", scope)
        user, password = f"canary-{hex_string(rng, 4)}", hex_string(rng, 20)
        generic_hooks = [
            {
                "url": f"https://{user}:{password}@siem.example.com/hooks/canary",
                "header_names": ["Authorization", "X-Tenant"],
                "webhook_id": hex_string(rng, 16),
            },
            {
                "url": f"https://events.pagerduty.com/integration/{hex_string(rng, 32)}/enqueue",
                "header_names": [],
                "webhook_id": hex_string(rng, 16),
            },
        ][:generic]
        return {
            "generic_webhooks": generic_hooks,
            "ms_teams": [
                f"https://example.webhook.office.com/webhookb2/{hex_string(rng, 36)}/"
                f"IncomingWebhook/{hex_string(rng, 32)}"
            ][:teams],
            "slack_webhooks": [
                {
                    "channel": "#canary-alerts",
                    "configuration_url": "https://example.slack.com/services/B0123",
                    "team": "Example SOC",
                    "url": f"https://hooks.slack.com/services/T{hex_string(rng, 8).upper()}/"
                    f"B{hex_string(rng, 8).upper()}/{hex_string(rng, 24)}",
                }
            ][:slack],
            "splunk_webhook": {
                "host": "splunk.example.com",
                "port": "8088",
                "token": f"{hex_string(rng, 8)}-{hex_string(rng, 4)}-{hex_string(rng, 12)}",
            },
            "webhooks_enabled": True,
            "is_global": False,
        }

    def add_flock_settings(self, flock_id: str, index: int) -> None:
        """A flock's own webhooks: the default flock inherits the console's, others vary."""
        hooks = self._webhooks(flock_id, generic=index % 3, teams=index % 2, slack=index % 2)
        hooks["is_global"] = index == 0
        rng = self._rng("flock-settings", flock_id)
        hooks["whitelisting"] = {
            "hostname_ignorelisting": {"enabled": index % 2 == 1, "hostnames": ["scanner.local"]},
            "inherit_global_whitelist_ips": index == 0,
            "ip_whitelisting": {"enabled": index % 2 == 1, "ips": ip_address(rng, private=True)},
            "src_port_ignorelisting": {
                "enabled": False,
                "src_ports": f"{ip_address(rng, private=True)}:445",
            },
        }
        hooks["notification_info"] = {
            "emails": {"addresses": "soc@example.com,oncall@example.com", "enabled": True},
            "sms": {"enabled": index % 2 == 1, "numbers": "+27825550100" if index % 2 else ""},
            "summary_email": {"addresses": "ciso@example.com", "enabled": index == 0},
        }
        self.flock_webhooks[flock_id] = hooks
