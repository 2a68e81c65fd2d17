"""Incident events: one typed object per event, with names normalised across logtypes.

Each logtype documents its own event fields, and different services spell the same
thing differently (``USERNAME``, ``username``, ``USER``, ``user``,
``cmd_user_name``...). Every spelling of one idea feeds one column here; any
capitalisation of a documented name is recognised.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from tap_thinkst_canary.model._table import (
    BOOLEAN,
    DATETIME,
    EXTRA_SCHEMA,
    FLAG,
    INTEGER,
    OBJECT,
    PORT_LIST,
    REDACTED,
    STRING,
    Column,
    Table,
)

EVENT_COLUMNS: Final = (
    Column("timestamp", DATETIME, "When the event happened (UTC).", ("timestamp", "timestamp_std")),
    # Who: credentials and identities the attacker supplied or the token reported.
    Column(
        "username",
        STRING,
        "Username supplied by the attacker, or the user a Canarytoken reported.",
        (
            "USERNAME",
            "USER",
            "User",
            "ms_macro_username",
            "cmd_user_name",
            "windows_desktopini_access_username",
        ),
    ),
    Column(
        "password",
        STRING,
        "Password supplied by the attacker (or recovered from a hash).",
        ("PASSWORD",),
    ),
    Column(
        "domain",
        STRING,
        "Domain or workgroup name supplied by the attacker.",
        ("DOMAIN", "DOMAINNAME", "DOMANNAME", "windows_desktopini_access_domain"),
    ),
    Column(
        "hostname",
        STRING,
        "Host name: the requested host (HTTP, Git), the attacker's "
        "host (MSSQL) or the Canarytoken's DNS name.",
        ("HOSTNAME", "HOST"),
    ),
    Column(
        "computer_name",
        STRING,
        "Name of the computer that triggered a Canarytoken.",
        ("windows_desktopini_computer_name", "cmd_computer_name"),
    ),
    Column(
        "workstation", STRING, "Workstation name of the client.", ("WORKSTATION", "cmd_workstation")
    ),
    Column(
        "client_ip",
        STRING,
        "IP address of the client, as seen by the token.",
        ("ms_macro_ip", "cmd_resolved_ip"),
    ),
    Column(
        "public_key",
        STRING,
        "Public key the client offered (SSH, WireGuard).",
        ("KEY", "client_public_key"),
    ),
    # Network.
    Column("src_host", STRING, "Source address of this event.", ("src_host",)),
    Column("src_port", INTEGER, "Source port of this event.", ("src_port",)),
    Column("dst_host", STRING, "Destination address of this event.", ("dst_host",)),
    Column("dst_port", INTEGER, "Destination port of this event.", ("dst_port",)),
    Column("ports", PORT_LIST, "Ports probed by a port scan.", ("ports",)),
    # HTTP.
    Column("http_method", STRING, "HTTP request method.", ("METHOD",)),
    Column("http_path", STRING, "Web path requested.", ("PATH",)),
    Column("http_response_code", INTEGER, "HTTP response code returned.", ("RESPONSE",)),
    Column("user_agent", STRING, "User agent of the client.", ("USERAGENT", "user_agent")),
    Column("headers", OBJECT, "Request headers (HTTP, SIP, Canarytokens).", ("headers",)),
    Column("post_data", OBJECT, "POST data sent by the client.", ("POSTDATA",)),
    Column("url", STRING, "URL requested or the Canarytoken's URL.", ("URL",)),
    Column("skin", STRING, "Web server skin the Canary showed.", ("SKIN",)),
    Column("channel", STRING, "'TLS' when the site is served encrypted.", ("CHANNEL",)),
    Column("referer", STRING, "HTTP referer.", ("referer",)),
    Column(
        "browser_redirect_url",
        STRING,
        "URL the browser was redirected from.",
        ("browser_redirect_url",),
    ),
    # Canarytokens.
    Column("canarytoken", STRING, "The Canarytoken that was triggered.", ("canarytoken",)),
    Column("token_type", STRING, "Canarytoken type reported by the event.", ("type",)),
    Column("token_kind", STRING, "Kind of Canarytoken triggered.", ("kind",)),
    Column("event_name", STRING, "Name of the token event.", ("event_name",)),
    Column("geoip", OBJECT, "Geographic lookup of the source address.", ("geoip",)),
    Column(
        "ip_blocklist",
        OBJECT,
        "Whether the source is a known proxy, Tor or VPN exit.",
        ("ip_blocklist",),
    ),
    Column(
        "additional_info",
        OBJECT,
        "Token-specific details (for example AWS API calls).",
        ("additional_info",),
    ),
    Column("generic_data", STRING, "Data encoded into a DNS token lookup.", ("generic_data",)),
    Column("cloned_site", STRING, "URL of the cloned site.", ("cloned_site",)),
    Column(
        "original_site", STRING, "Domain of the protected site.", ("original_site", "cloned_web")
    ),
    Column(
        "os", STRING, "Operating system of the host that opened a macro document.", ("ms_macro_os",)
    ),
    Column(
        "invocation_id",
        STRING,
        "Identifier of one execution of a sensitive command.",
        ("cmd_invocation_id",),
    ),
    Column(
        "machine_name",
        STRING,
        "Domain controller that reported an AD login.",
        ("cmd_machine_name",),
    ),
    Column(
        "event_record_id",
        STRING,
        "Windows event record id of an AD login.",
        ("cmd_event_record_id",),
    ),
    Column("session_index", STRING, "WireGuard client session index.", ("client_session_index",)),
    Column("access_key_id", STRING, "AWS access key id the attacker used.", ("access_key_id",)),
    Column(
        "secret_access_key",
        STRING,
        "AWS secret key of the token ('[REDACTED]' unless redaction is off).",
        ("secret_access_key",),
    ),
    Column("online", BOOLEAN, "Whether the token is online.", ("online",)),
    Column(
        "masked_card_number",
        STRING,
        "Credit card token: masked card number.",
        ("masked_card_number",),
    ),
    Column(
        "transaction_amount",
        STRING,
        "Credit card token: transaction amount.",
        ("transaction_amount",),
    ),
    Column(
        "transaction_currency",
        STRING,
        "Credit card token: transaction currency.",
        ("transaction_currency",),
    ),
    Column(
        "transaction_date",
        STRING,
        "Credit card token: transaction date as reported.",
        ("transaction_date",),
    ),
    Column(
        "transaction_type", STRING, "Credit card token: transaction type.", ("transaction_type",)
    ),
    Column("merchant", STRING, "Credit card token: merchant.", ("merchant",)),
    Column("location", STRING, "Fake app token: reported location.", ("location",)),
    Column("document_name", STRING, "Name of the tokened document.", ("document_name", "doc_name")),
    Column("document_type", STRING, "Type of the tokened document.", ("doc_type",)),
    Column("docs_link", STRING, "Link to the tokened Google document.", ("docs_link",)),
    Column("email_link", STRING, "Link used for e-mail.", ("email_link",)),
    Column("exe_name", STRING, "Name of the tokened executable.", ("exe_name",)),
    Column("exe_type", STRING, "Type of the tokened executable.", ("exe_type",)),
    Column("web_image_name", STRING, "Name of the tokened web image.", ("web_image_name",)),
    Column("web_image_type", STRING, "Type of the tokened web image.", ("web_image_type",)),
    Column("document_data", STRING, "Content of the tokened document.", ("doc",)),
    Column("exe_data", STRING, "Content of the tokened executable.", ("exe",)),
    Column("web_image_data", STRING, "Content of the tokened web image.", ("web_image",)),
    Column("qr_code_data", STRING, "Content of the tokened QR code.", ("qr_code",)),
    Column("s3_source_bucket", STRING, "S3 bucket the token watches.", ("s3_source_bucket",)),
    Column("s3_log_bucket", STRING, "S3 bucket holding the access logs.", ("s3_log_bucket",)),
    Column(
        "sql_trigger_type",
        STRING,
        "SQL token: SELECT, UPDATE, INSERT or DELETE.",
        ("trigger_type",),
    ),
    Column("sql_table_name", STRING, "SQL token: table name.", ("table_name",)),
    Column("sql_trigger_name", STRING, "SQL token: trigger name.", ("trigger_name",)),
    Column("sql_view_name", STRING, "SQL token: view name.", ("view_name",)),
    Column("sql_function_name", STRING, "SQL token: function name.", ("function_name",)),
    # Services.
    Column("local_version", STRING, "The Canary's SSH version string.", ("LOCALVERSION",)),
    Column("remote_version", STRING, "The client's SSH version string.", ("REMOTEVERSION",)),
    Column(
        "watched_credentials",
        BOOLEAN,
        "Whether Watched Credentials were enabled.",
        ("WATCHED_CREDENTIALS",),
    ),
    Column("service", STRING, "Service targeted with an SSH key breadcrumb.", ("SERVICE",)),
    Column("reminder", STRING, "Reminder set when the breadcrumb was created.", ("reminder",)),
    Column("command", STRING, "Command issued (Redis, MongoDB, NTP).", ("CMD", "NTP_CMD")),
    Column("arguments", STRING, "Arguments of the command.", ("ARGS",)),
    Column("database", STRING, "Database accessed.", ("db",)),
    Column("settings", STRING, "Settings that changed.", ("SETTINGS",)),
    Column("filename", STRING, "File accessed (file share, TFTP).", ("FILENAME",)),
    Column("share_name", STRING, "File share name.", ("SHARENAME",)),
    Column("audit_action", STRING, "File share action or Windows API queried.", ("AUDITACTION",)),
    Column("local_name", STRING, "Windows name of the Canary.", ("LOCALNAME",)),
    Column("remote_name", STRING, "Windows name of the client machine.", ("REMOTENAME",)),
    Column(
        "mode", STRING, "File share mode (workgroup or domain) or TFTP transfer mode.", ("MODE",)
    ),
    Column("offset", INTEGER, "Starting position of a file read.", ("OFFSET",)),
    Column("size", INTEGER, "Bytes read.", ("SIZE",)),
    Column("smb_arch", STRING, "Guess of the client's Windows version.", ("SMBARCH",)),
    Column("smb_version", STRING, "SMB protocol version.", ("SMBVER",)),
    Column("status", STRING, "Result of the file read.", ("STATUS",)),
    Column("login_type", STRING, "File share login type.", ("LOGINTYPE",)),
    Column("rid", STRING, "Relative identifier (group enumeration).", ("RID",)),
    Column("sid", STRING, "Security identifier (group enumeration).", ("SID",)),
    Column(
        "security_group_name", STRING, "Security group name (group enumeration).", ("SGROUPNAME",)
    ),
    Column("registry_hive", STRING, "Registry hive accessed.", ("HIVE",)),
    Column("registry_key", STRING, "Registry key accessed.", ("REGISTRY_KEY",)),
    Column("opcode", STRING, "TFTP file action: READ or WRITE.", ("OPCODE",)),
    Column("terminal_size", STRING, "Telnet terminal size.", ("TERMSIZE",)),
    Column("terminal_type", STRING, "Telnet terminal type.", ("TERMTYPE",)),
    Column("community_string", STRING, "SNMP community string.", ("COMMUNITY_STRING",)),
    Column("snmp_requests", STRING, "SNMP OIDs requested.", ("REQUESTS",)),
    Column("server_challenge", STRING, "VNC password hashing parameter.", ("SERVER_CHALLENGE",)),
    Column("client_response", STRING, "VNC password hashing parameter.", ("CLIENT_RESPONSE",)),
    Column("client_hash", STRING, "Password hash the MySQL client sent.", ("CLIENT_HASH",)),
    Column("salt", STRING, "Salt of the MySQL password hash.", ("SALT",)),
    Column("app_name", STRING, "Application that made the MSSQL login.", ("APPNAME",)),
    Column("server_name", STRING, "MSSQL server name the client asked for.", ("SERVERNAME",)),
    Column("repository", STRING, "Git repository the client tried to clone.", ("REPO",)),
    Column("banner_id", STRING, "Custom TCP service banner that fired.", ("BANNER_ID",)),
    Column("data", STRING, "Data the client sent to a custom TCP service.", ("DATA",)),
    Column(
        "function", STRING, "Custom TCP trigger: DATA_RECEIVED or CONNECTION_MADE.", ("FUNCTION",)
    ),
    Column("modbus_unit_id", INTEGER, "Modbus unit targeted.", ("UNIT_ID",)),
    Column("modbus_function_code", INTEGER, "Modbus function code.", ("FUNC_CODE",)),
    Column("modbus_function_name", STRING, "Modbus function name.", ("FUNC_NAME",)),
    Column("modbus_subfunction_code", INTEGER, "Modbus subfunction code.", ("SFUNC_CODE",)),
    Column(
        "modbus_subfunction_name", STRING, "Modbus subfunction name.", ("SFUNC_NAME", "sfunc_nmae")
    ),
    Column("rdp_client_build", STRING, "Build number of the RDP client.", ("BUILD",)),
    Column(
        "rdp_client_major_version", INTEGER, "Major version of the RDP client.", ("MAJORVERSION",)
    ),
    Column(
        "rdp_client_minor_version", INTEGER, "Minor version of the RDP client.", ("MINORVERSION",)
    ),
    Column("auth_type", STRING, "Authentication type (WinRM, LDAP).", ("AUTHTYPE", "TYPE")),
    Column("kerberos_service_name", STRING, "Kerberos service name.", ("SNAME",)),
    Column("kerberos_realm", STRING, "Kerberos realm.", ("REALM",)),
    Column("kerberos_ticket_version", INTEGER, "Kerberos ticket format version.", ("TKTVNO",)),
    Column("winrm_payload", STRING, "XML payload of the WinRM connection.", ("WINRMPAYLOAD",)),
    Column("ldap_dn", STRING, "LDAP distinguished name.", ("DN",)),
    Column("ldap_mechanism", STRING, "LDAP SASL mechanism.", ("MECH",)),
    Column("ldap_version", STRING, "LDAP version.", ("VER",)),
    Column("ldap_search_attribute", STRING, "LDAP search target.", ("SEARCH_ATTRIBUTE",)),
    Column("ldap_request", STRING, "LDAP request.", ("REQ",)),
    Column("message", STRING, "Tampering cause summary.", ("MESSAGE",)),
    Column("message_details", STRING, "Tampering cause details.", ("MESSAGE_THINKST",)),
    Column(
        "canary_status",
        STRING,
        "Status of the Canary after a settings roll-back.",
        ("Canary Status",),
    ),
    Column(
        "erroneous_network_settings",
        STRING,
        "Network settings that caused a roll-back.",
        ("Erroneous network settings",),
    ),
    Column(
        "restored_network_settings",
        STRING,
        "Network settings restored by a roll-back.",
        ("Restored network settings",),
    ),
    Column(
        "rollback_at",
        DATETIME,
        "When the network settings were rolled back (UTC).",
        ("Rollback time",),
    ),
    # Packets seen by NMAP scan detection.
    Column("ip_id", INTEGER, "IP packet id.", ("ID",)),
    Column("ip_length", INTEGER, "IP packet length.", ("LEN",)),
    Column(
        "packet_head",
        STRING,
        "First bytes of the packet (destination and source MAC...).",
        ("MAC",),
    ),
    Column("ip_precedence", STRING, "IP precedence bits.", ("PREC",)),
    Column("protocol", STRING, "IP protocol.", ("PROTO",)),
    Column("ip_reserved", STRING, "IP reserved bits.", ("RES",)),
    Column("ip_tos", STRING, "IP type of service.", ("TOS",)),
    Column("ip_ttl", INTEGER, "IP time to live.", ("TTL",)),
    Column("tcp_urgent_pointer", INTEGER, "TCP urgent pointer.", ("URGP",)),
    Column("tcp_window", INTEGER, "TCP window size.", ("WINDOW",)),
    Column("tcp_syn", FLAG, "Whether the SYN flag was set.", ("SYN",)),
    Column("tcp_ack", FLAG, "Whether the ACK flag was set.", ("ACK",)),
)

EVENT_TABLE: Final = Table(EVENT_COLUMNS, any_case=True)

# Canarytoken credentials an event may echo back; they are as live as the token's own.
# (Passwords attackers typed are not secrets of ours: they are the evidence.)
EVENT_SECRET_KEYS: Final = frozenset(
    {"aws_secret_access_key", "factory_auth", "wg_private_key", "private_key", "slack_api_key"}
)
# Every spelling of them an event may use, in the capitalisations the event table reads.
EVENT_SECRET_SPELLINGS: Final = frozenset(
    spelling
    for key in (*EVENT_SECRET_KEYS, "secret_access_key")
    for spelling in (key, key.lower(), key.upper(), key.title())
)

PORTS_SCANNED_SCHEMA: Final = {
    "type": ["object", "null"],
    "additionalProperties": {"type": "array", "items": {}},
    "description": "Consolidated network port scan: port -> addresses of the Canaries probed.",
}

EVENT_PROPERTIES: Final[dict[str, Any]] = {
    **EVENT_TABLE.properties(),
    "ports_scanned": PORTS_SCANNED_SCHEMA,
    "extra": EXTRA_SCHEMA,
}


def event_object(raw: Any, redact: bool = True) -> dict[str, Any]:
    """One raw event -> a flat typed event object (the shape of an ``incident_events`` row).

    Event objects are sparse: a column is present only when the event has a value
    for it. Logtypes share one wide event schema, and a brute-force incident can
    carry 100,000 events; writing every null would multiply memory and output.
    """
    out: dict[str, Any] = {}
    fill_event(redact_event(raw) if redact and type(raw) is dict else raw, out)
    return out


def fill_event(raw: Any, out: dict[str, Any]) -> None:
    """Put the typed columns of one raw event (already redacted if it is to be) into ``out``,
    a row that holds none of the event's columns yet: an event row is made in one dictionary."""
    if type(raw) is not dict:
        if raw is not None:
            out["extra"] = {"value": raw}
        return
    extra = EVENT_TABLE.fill(raw, out)
    if extra:
        ports_scanned, rest = _split_extra(extra)
        if ports_scanned:
            out["ports_scanned"] = ports_scanned
        if rest:
            out["extra"] = rest


def redact_event(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw event with the token credentials it echoes replaced by ``"[REDACTED]"``.

    Most events carry none: those come back as they are, not copied.
    """
    if EVENT_SECRET_SPELLINGS.isdisjoint(raw):
        return raw
    return {
        key: REDACTED if value and key in EVENT_SECRET_SPELLINGS else value
        for key, value in raw.items()
    }


class EventsJson:
    """An incident's events kept as the JSON text the console sent (see `incident_pages`):
    written out as they are when they are a list of objects with nothing to redact (`clean`),
    decoded only for the rows of ``incident_events``.

    Whether they are clean is known from the start when the page reader checked them. The
    reader leaves it to the rows when those are wanted: they decode the events anyway, and
    before the incident is written (a child stream's rows come before its parent's records).
    Nothing is written unchecked: the writer checks the events itself if nothing has yet.
    (The reader runs ahead in a thread of its own; decoding the events there too cost more CPU,
    objects made in one thread and used in another, and saved no time: the threads share the
    interpreter.)

    Not a dataclass: orjson would write a dataclass as an object of its fields, where the
    tap's writer is to write the text itself."""

    __slots__ = ("clean", "json", "redact")

    def __init__(self, json: bytes, *, redact: bool, clean: bool | None = None) -> None:
        self.json = json
        self.redact = redact
        self.clean = clean

    def decoded(self) -> list[Any]:
        """The events as `events_as_sent` has them (the record of an incident read the general
        way): as sent, unless they hold something to redact or not an object."""
        events: list[Any] = orjson.loads(self.json)
        if self.clean:
            return events
        as_sent = events_as_sent(events, self.redact)
        self.clean = as_sent is events
        return as_sent

    def written(self) -> Any:
        """What the writer writes for these events: their text, if it can go out as sent."""
        events = self.decoded() if self.clean is None else None
        if self.clean:
            return orjson.Fragment(self.json)
        return events if events is not None else self.decoded()


def events_as_sent(raw_events: list[Any], redact: bool = True) -> list[Any]:
    """An incident's events as the console sent them, token credentials redacted: the list
    itself when every event is an object with nothing to redact, the usual case.

    Otherwise a new list, where only the rare event that echoes a credential is copied. An
    event that is not an object (which the console never sends) is kept as
    ``{"value": ...}``, so that every item is one.
    """
    if all(type(event) is dict for event in raw_events) and (
        not redact or all(map(EVENT_SECRET_SPELLINGS.isdisjoint, raw_events))
    ):
        return raw_events
    return [_event_as_sent(event, redact) for event in raw_events]


def _event_as_sent(event: Any, redact: bool) -> dict[str, Any] | None:
    if type(event) is dict:
        return redact_event(event) if redact else event
    return None if event is None else {"value": event}


def _split_extra(extra: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    # A consolidated port scan event is a map of port numbers to Canary addresses.
    for key, value in extra.items():
        if key.isdigit() and type(value) is list:
            break
    else:
        return None, extra  # the usual case: no port, and no copy
    ports: dict[str, Any] | None = None
    rest: dict[str, Any] = {}
    for key, value in extra.items():
        if key.isdigit() and type(value) is list:
            if ports is None:
                ports = {}
            ports[key] = value
        else:
            rest[key] = value
    return ports, rest or None


def event_column_for(raw_key: str) -> str | None:
    """The column a raw event key feeds, or None when it is kept in ``extra``."""
    return EVENT_TABLE.column_for(raw_key)
