"""Deterministic fake data shaped like a real Canary Console's.

Every generator takes a `random.Random` seeded from the console seed and the object's own
index, so any object can be rebuilt on demand, identically, without keeping it in memory.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

from canary_simulator import clock

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class IncidentKind:
    """One documented logtype with the event fields its section lists."""

    logtype: str
    description: str
    name: str
    fields: tuple[str, ...]
    section: str

    @cached_property
    def slug(self) -> str:
        """The short name in incident ids, as in ``incident:sshlogin:...``."""
        return "".join(c for c in self.section.lower() if c.isalnum())[:16]

    @property
    def is_token(self) -> bool:
        return self.logtype.startswith(("16", "17"))

    @property
    def is_port_scan(self) -> bool:
        return self.logtype.startswith("50") and self.logtype not in SMB_LOGTYPES

    @property
    def is_brute_force(self) -> bool:
        return "PASSWORD" in self.fields or "password" in self.fields


SMB_LOGTYPES = frozenset({"5000", "5010", "5013", "5014", "5015"})


def _load_kinds() -> tuple[IncidentKind, ...]:
    text = resources.files("canary_simulator").joinpath("logtypes.json").read_text()
    kinds = []
    for section in json.loads(text):
        for code in section["logtypes"]:
            kinds.append(
                IncidentKind(
                    logtype=code,
                    description=section["description"],
                    name=section["names"].get(code, section["section"]),
                    fields=tuple(section["fields"])
                    + tuple(section.get("observed_fields", {}).get(code, ())),
                    section=section["section"],
                )
            )
    return tuple(kinds)


KINDS: tuple[IncidentKind, ...] = _load_kinds()
LOGTYPES: frozenset[str] = frozenset(kind.logtype for kind in KINDS)
KIND_BY_LOGTYPE: dict[str, IncidentKind] = {}
for _kind in KINDS:
    KIND_BY_LOGTYPE.setdefault(_kind.logtype, _kind)
SSH_LOGIN_LOGTYPE = "4002"
BRUTE_FORCE_KINDS = tuple(
    k for k in KINDS if k.logtype in {SSH_LOGIN_LOGTYPE, "3001", "2000", "6001"}
)
PORT_SCAN_KINDS = tuple(k for k in KINDS if k.is_port_scan)

USERNAMES = (
    "admin", "root", "administrator", "backup", "oracle", "svc_sql", "jürgen", "管理员",
    "пользователь", "O'Brien", "user\u00a0name", "🦜parrot", "", "guest",
)  # fmt: skip
PASSWORDS = ("123456", "password", "Winter2024!", "hunter2", "pässwörd", "密码", "", "letmein")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Nmap Scripting Engine; https://nmap.org/book/nse.html",
    "",
)
PATHS = ("/index.html", "/login", "/admin/", "/wp-login.php", "/.env", "/cgi-bin/luci", "/ñ/ü")
SKINS = ("nasLogin", "iis7", "synology", "apache_tomcat", "juniper", "sonicwall")
TOKEN_KIND_BY_LOGTYPE = {
    "16000": "dns", "16006": "windows-dir", "16008": "pdf-acrobat-reader",
    "16009": "msword-macro", "16010": "msexcel-macro", "16011": "sensitive-cmd",
    "16012": "active-directory-login", "17000": "http", "17001": "web-image",
    "17003": "cloned-web", "17004": "doc-msword", "17005": "aws-s3", "17006": "google-docs",
    "17007": "google-sheets", "17008": "signed-exe", "17009": "qr-code", "17012": "aws-id",
    "17016": "fast-redirect", "17017": "slow-redirect", "17019": "office365mail",
    "17020": "slack-api", "17021": "gmail", "17022": "wireguard", "17023": "doc-msexcel",
    "17024": "azure-id", "17025": "cloned-css", "17026": "azure-entra-login",
    "17027": "credit-card", "17028": "pwa", "17029": "mysql-dump",
}  # fmt: skip
TOKEN_KINDS = tuple(dict.fromkeys(TOKEN_KIND_BY_LOGTYPE.values()))
UNDOCUMENTED_INCIDENT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("matched_annotations", {"scanner": "Shodan"}),
    ("reverse_dns_lookup_status", "ok"),
    ("incident_tags", ["lateral-movement"]),
)


def hex_string(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"


def ip_address(rng: random.Random, private: bool = False) -> str:
    bits = rng.getrandbits(32)
    first = 10 if private else 1 + (bits >> 24) % 223
    return f"{first}.{(bits >> 16) & 255}.{(bits >> 8) & 255}.{1 + (bits & 255) % 254}"


ATTACKER_POOL_SIZE = 24


def attacker_address(seed: int, rng: random.Random) -> str:
    """The source of an incident: mostly one of a few recurring attackers, as on a real network,
    where the same scanners and compromised hosts come back again and again."""
    roll = rng.random()
    if roll < 0.25:
        return ip_address(rng)
    # Squaring a uniform draw skews it toward the pool's first addresses: a few top offenders.
    rank = int(ATTACKER_POOL_SIZE * (roll - 0.25) ** 2 / 0.5625)
    return ip_address(random.Random(f"{seed}:attacker:{rank}"))


def _event_value(field: str, rng: random.Random, kind: IncidentKind, ctx: JsonObject) -> Any:
    """A plausible value for one documented event field, typed as the real API types it."""
    upper = field.upper()
    if field == "canarytoken":
        return ctx["canarytoken"]
    if field in ("type", "kind"):
        return "dns" if kind.logtype.startswith("16") else ctx.get("token_kind", "http")
    if field in ("headers", "HEADERS"):
        return {
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": rng.choice(("close", "keep-alive")),
            "User-Agent": rng.choice(USER_AGENTS),
            "X-Forwarded-For": ip_address(rng),
            "Via": None if rng.random() < 0.3 else "1.1 proxy",
        }
    if field == "geoip":
        return {
            "country": rng.choice(("ZA", "US", "DE", "JP")),
            "city": rng.choice(("Köln", "東京")),
        }
    if field == "ip_blocklist":
        return {"is_tor_relay": rng.random() < 0.1, "is_vpn": False, "is_proxy": None}
    if field in ("additional_info", "POSTDATA"):
        return {"bucket": "finance-backups", "operation": "GetObject"}
    if upper in ("USERNAME", "USER", "MS_MACRO_USERNAME", "CMD_USER_NAME"):
        return ctx["username"]
    if upper == "PASSWORD":
        return None if rng.random() < 0.05 else rng.choice(PASSWORDS)
    if upper in ("USERAGENT",):
        return rng.choice(USER_AGENTS)
    if upper in ("PATH", "URL", "URL"):
        return rng.choice(PATHS)
    if upper == "METHOD":
        return rng.choice(("GET", "POST", "HEAD"))
    if upper == "RESPONSE":
        return rng.choice((200, 302, 401, 404))
    if upper == "SKIN":
        return rng.choice(SKINS)
    if upper in ("PORTS",):
        return ",".join(str(p) for p in sorted(rng.sample(range(1, 65536), rng.randint(3, 40))))
    if field in ("dst_port", "SIZE", "OFFSET", "UNIT_ID", "FUNC_CODE", "TTL", "LEN", "WINDOW"):
        return rng.randrange(1, 65536)
    if upper in ("HOSTNAME", "HOST", "cmd_computer_name".upper(), "LOCALNAME"):
        return rng.choice(("fileserver01", "DESKTOP-7Q2X", "büro-pc", None))
    if upper == "SETTINGS":
        return "enable_emails_notifications=True\nModified by user"
    if upper == "EVENT_DICT":
        return {}
    if "VERSION" in upper:
        return rng.choice(("SSH-2.0-OpenSSH_7.9", "SSH-2.0-libssh_0.9.6", "6.1", "2.3.1"))
    if upper == "MAC":
        return "00:00:00:00:00:00"
    if field == "src_host":
        return ip_address(rng)
    if field == "event_name":
        return ""
    if field.endswith("_ip") or field == "canary_IP":
        return ip_address(rng, private=True)
    return rng.choice((f"{field.lower()}-{rng.randrange(1000)}", "värde", ""))


EVENT_VARIANTS = 32  # distinct event bodies per logtype; events pick one and get their own time


class EventFactory:
    """Builds incident events from a few pre-generated variants per logtype.

    A real brute-force incident repeats the same few fields thousands of times; copying a
    prepared variant and stamping its time keeps a page of incidents cheap to serve.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._variants: dict[str, list[JsonObject]] = {}

    def _variants_of(self, kind: IncidentKind) -> list[JsonObject]:
        variants = self._variants.get(kind.logtype)
        if variants is None:
            rng = random.Random(f"{self._seed}:events:{kind.logtype}")
            documented = [f for f in kind.fields if f not in ("timestamp", "timestamp_std")]
            variants = []
            for _ in range(EVENT_VARIANTS):
                ctx = {"username": rng.choice(USERNAMES), "canarytoken": ""}
                variants.append({f: _event_value(f, rng, kind, ctx) for f in documented})
            self._variants[kind.logtype] = variants
        return variants

    def make(
        self,
        kind: IncidentKind,
        rng: random.Random,
        start: int,
        count: int,
        shown: int,
        tz: Any,
        token: JsonObject | None,
    ) -> tuple[list[JsonObject], int]:
        """The first `shown` of `count` events starting at `start`, and the last one's time."""
        if kind.logtype == "5007":
            # The consolidated scan's events map each probed port to the birds that saw it.
            ports = sorted(rng.sample(range(1, 65536), count))
            events = [
                {str(port): [ip_address(rng, private=True) for _ in range(rng.randint(1, 3))]}
                for port in ports[:shown]
            ]
            return events, start
        variants = self._variants_of(kind)
        token_fields: JsonObject = {}
        if token is not None:
            token_fields["canarytoken"] = token["canarytoken"]
            for field in ("type", "kind"):
                if field in variants[0]:
                    token_fields[field] = "dns" if kind.logtype.startswith("16") else token["kind"]
        events = []
        ts = start
        getrandbits = rng.getrandbits
        for position in range(count):
            if position < shown:
                event = variants[getrandbits(5)].copy()
                if token_fields:
                    event.update(token_fields)
                event["timestamp"] = ts
                event["timestamp_std"] = clock.std(ts, tz)
                events.append(event)
            ts += getrandbits(3)
        return events, ts


def incident_count_of_events(kind: IncidentKind, rng: random.Random, big: int) -> int:
    roll = rng.getrandbits(10)  # per mille, near enough
    if roll < 4:
        return 0  # the docs never promise events; a few incidents carry none
    if kind.is_brute_force and roll > 1021:
        return big
    if kind.is_port_scan:
        return 1 + rng.getrandbits(6) % 60
    return 1 + rng.getrandbits(2)


def make_bird(rng: random.Random, flock_id: str, first_seen: int, now: int) -> JsonObject:
    node_id = f"0000000{hex_string(rng, 9)}"
    ip = ip_address(rng, private=True)
    name = rng.choice(("FileServer", "DC-Backup", "NAS", "HR-Share", "Jump-Box", "Ünïcode-Bird"))
    return {
        "description": rng.choice(("SVR Room", "Branch office", "DMZ rack 2", "")),
        "first_seen_epoch": first_seen,
        "flock_id": flock_id,
        "gcp_project": "",
        "gcp_zone": "",
        "id": node_id,
        "ignore_notifications": False,
        "ignore_notifications_disconnects": False,
        "ignore_notifications_reconnects": rng.random() < 0.2,
        "instance_id": "",
        "ip_address": ip,
        "ippers": rng.choice(("linux", "win2016", "")),
        "last_seen_epoch": now - rng.randrange(0, 3600),
        "live": rng.random() < 0.85,
        "location": rng.choice(("SVR Room", "London HQ", "Kapstadt")),
        "mac_address": ":".join(f"{rng.randrange(256):02x}" for _ in range(6)),
        "migration_status": "",
        "name": f"{name}-{node_id[-4:]}",
        "netmask": "24",
        "note": "",
        "outside_bird": False,
        "public_ip": "",
        "personality": rng.choice(("linux-db", "windows-fileshare", "cisco-router", "nas")),
        "region_id": "",
        "sensor": "thinkstcanary",
        "subnet": ip.rsplit(".", 1)[0] + ".0/24",
        "uptime": rng.randrange(60, 5_000_000),
        "version": rng.choice(("2.3.1", "3.8.0", "4.1.2")),
    }


def render_bird(bird: JsonObject, tz: Any) -> JsonObject:
    first, last = bird["first_seen_epoch"], bird["last_seen_epoch"]
    # The published bird carries no flock_id: a bird's flock is in `/flocks/summary`.
    out = {k: v for k, v in bird.items() if not k.endswith("_epoch") and k != "flock_id"}
    out.update(
        first_seen=clock.printable(first),
        first_seen_std=clock.std(first, tz),
        last_seen=clock.printable(last),
        last_seen_std=clock.std(last, tz),
        local_time=clock.local_time(last),
        updated=clock.http_date(last),
        updated_std=clock.std(last, tz),
        updated_timestamp=last,
        uptime_age=f"{max(1, bird['uptime'] // 604800)} week",
    )
    return out


def make_token(
    rng: random.Random, kind: str, flock_id: str, created: float, updated_id: int
) -> JsonObject:
    code = hex_string(rng, 25)
    hostname = f"{code}.canarytokens.example"
    url = f"http://canarytokens.example/{hex_string(rng, 8)}/{code}/index.html"
    token: JsonObject = {
        "canarytoken": code,
        "created": f"{created:.6f}",
        "created_printable": clock.token_printable(created),
        "enabled": rng.random() < 0.9,
        "flock_id": flock_id,
        "hostname": hostname,
        "key": hex_string(rng, 32),
        "kind": kind,
        "memo": rng.choice(("Example Memo", "Finance share bait", "Gehälter 2024.xlsx", "")),
        "node_id": f"{code[:16]}",
        "triggered_count": rng.choice((0, 0, 0, 1, 4, 17)),
        "unacked_alert_count": rng.choice((0, 0, 1)),
        "updated_id": updated_id,
        "url": url,
    }
    if kind == "aws-id":
        access_key = f"AKIA{hex_string(rng, 16).upper()}"
        secret = hex_string(rng, 40)
        token.update(
            access_key_id=access_key,
            secret_access_key=secret,
            factory_auth=hex_string(rng, 32),
            username=f"canarytoken-{code[:8]}",
            renders={
                "aws-id": "\n    [default]\n"
                f"    aws_access_key_id = {access_key}\n    aws_secret_access_key = {secret}"
            },
        )
    elif kind == "azure-id":
        token.update(
            factory_auth=hex_string(rng, 32),
            azure_id_cert_file_name="azure_cert.pem",
            app_id=f"{hex_string(rng, 8)}-{hex_string(rng, 4)}-{hex_string(rng, 4)}",
            tenant_id=f"{hex_string(rng, 8)}-{hex_string(rng, 4)}",
            renders={"azure-id": f"-----BEGIN PRIVATE KEY-----\n{hex_string(rng, 64)}\n-----END"},
        )
    elif kind == "wireguard":
        token.update(
            wg_private_key=hex_string(rng, 44),
            wg_public_key=hex_string(rng, 44),
            renders={"wireguard": f"[Interface]\nPrivateKey = {hex_string(rng, 44)}\n"},
        )
    elif kind == "slack-api":
        token.update(factory_auth=hex_string(rng, 32), slack_api_key=f"xoxp-{hex_string(rng, 40)}")
    elif kind in ("cloned-web", "cloned-css"):
        domain = rng.choice(("intranet.example.com", "portal.example.org"))
        script = f'if (document.domain != "{domain}") {{ new Image().src = "{url}"; }}'
        token.update(cloned_web=domain, renders={kind: f"<script>{script}</script>"})
    elif kind == "http":
        token["browser_scanner_enabled"] = rng.random() < 0.5
    elif kind in ("doc-msword", "doc-msexcel", "pdf-acrobat-reader", "msword-macro"):
        token.update(doc_name=rng.choice(("Salaries 2024.docx", "Passwörter.xlsx")))
    elif kind == "credit-card":
        token.update(
            cc_number=f"4{rng.randrange(10**14, 10**15)}",
            cc_cvc=f"{rng.randrange(100, 1000)}",
            cc_expiry="12/29",
            cc_name="Jane Doe",
        )
    elif kind == "mysql-dump":
        token.update(mysql_username=f"bk_{code[:6]}", mysql_password=hex_string(rng, 20))
    return token


AUDIT_ACTIONS = (
    ("user_login", "User {user} logged in", None),
    ("user_logout", "User {user} logged out", None),
    ("device_schedule_reboot", "User 'API Token' scheduled the device {node} to be rebooted", "f"),
    ("canarytoken_create", "User {user} created a Canarytoken", "f"),
    ("incident_acknowledge", "User {user} acknowledged an incident", "f"),
    ("flock_move", "User {user} moved a device to another flock", "f"),
    ("settings_change", "User {user} changed the notification settings", None),
)
USER_EMAILS = ("alice@example.com", "bob@example.com", "zoë@example.com", "api-token")
BROWSER_LANGUAGES = ("en-US,en;q=0.9", "en-GB,en-US;q=0.9,en;q=0.8", "de-DE,de;q=0.9", "")


def make_audit_entry(
    rng: random.Random, entry_id: int, ts: int, flock_ids: list[str]
) -> JsonObject:
    action, template, has_flock = rng.choice(AUDIT_ACTIONS)
    user = rng.choice(USER_EMAILS)
    return {
        "action_type": action,
        "additional_information": None if rng.random() < 0.8 else {"reason": "scheduled"},
        "flock_id": rng.choice(flock_ids) if has_flock else None,
        "id": entry_id,
        "message": template.format(user=user, node=f"0000000{hex_string(rng, 9)}"),
        "timestamp_epoch": ts,
        "user": user,
        "user_browser_agent": rng.choice(USER_AGENTS),
        "user_browser_language": rng.choice(BROWSER_LANGUAGES),
        "user_ip": ip_address(rng),
    }


def render_audit_entry(entry: JsonObject, tz: Any) -> JsonObject:
    out = {k: v for k, v in entry.items() if k != "timestamp_epoch"}
    out["timestamp"] = clock.std(entry["timestamp_epoch"], tz)
    return out
