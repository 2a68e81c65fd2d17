"""The typed data model: JSON schemas and the functions that turn API objects into records.

Every stream has a schema (``*_SCHEMA``) and a pure function that turns one raw API
object into a record of that schema. The functions never raise on odd input and
never change their input.

General rules
-------------

* **Types.** Strings that hold numbers, booleans or instants become integers,
  booleans and date-times: ``"8080"`` -> ``8080``, ``"True"`` -> ``true``,
  ``"1586338742"`` and ``"2020-04-08 09:39:02 UTC+0000"`` -> ``"2020-04-08T09:39:02Z"``.
* **Date-times** are RFC 3339 in UTC with a ``Z``, in one form everywhere:
  ``YYYY-MM-DDTHH:MM:SSZ``, with ``.ffffff`` only when the instant has a fraction
  of a second (``"1586249510.069870"`` -> ``"2020-04-07T08:51:50.069870Z"``).
  ``*_std`` values asked for in another time zone (``tz``) are converted to UTC.
  A value without a time zone is not an instant and is never guessed at.
* **One column per instant.** When the API renders one instant several ways
  (``created``/``created_std``, ``updated_time``/``updated_std``/``updated``), one
  ``*_at`` column holds it, at the finest precision given, and the redundant
  renderings are dropped; a rendering that disagrees is kept in ``extra``. Two
  renderings agree when they name the same second and at most one of them has a
  fraction of it (``.250000`` and ``.500000`` of one second disagree).
* **Nothing is lost.** Fields without a typed column are kept, under their
  original names, in the JSON object column ``extra``. A value that cannot be
  converted to its column's type (``"src_port": "n/a"``, an integer beyond 64
  bits) leaves the column null and is kept raw in ``extra``. An empty or blank
  string in a number, boolean or date-time column reads as null.
* ``extra`` is null when there is nothing to keep. DuckDB holds that as SQL NULL;
  MeltanoLabs target-postgres writes a missing JSON object as the JSON value
  ``null`` (its insert path has no way to write SQL NULL into a ``jsonb`` column),
  so there ``extra IS NULL`` is false: read the staging views of ``transform/``,
  which turn JSON ``null`` into SQL NULL, or write ``nullif(extra, 'null'::jsonb)``.
* ``local_time`` values carry no time zone and stay strings.

Streams
-------

``incidents`` (key ``id``, replication key ``updated_id``): one flat record per
incident. The incident's own keys keep their names except ``updated_time``,
``updated_std`` and ``updated`` -> ``updated_at``. The keys of its ``description``
object are promoted onto the record: ``description`` (what happened, e.g.
"SSH Login Attempt"), ``logtype``,
``created``/``created_std`` -> ``created_at``, ``acknowledged`` and ``notified``
(booleans), ``events_count``, ``src_port`` and ``dst_port`` (integers), ``name``
-> ``node_name``, and ``node_id``, ``flock_id``, ``flock_name``, ``src_host``,
``src_host_reverse``, ``dst_host``, ``ip_address``, ``mac_address``, ``ippers``,
``local_time``, ``memo`` unchanged. ``logtype_name`` and ``logtype_category`` come
from the logtype catalogue. ``events`` carries the incident's events as the console
sent them (JSON objects with the console's own keys and values; anything else in the
list is kept as ``{"value": ...}``), token credentials redacted. ``typed_page`` reads a
whole page of incidents from its bytes into the same records, faster, with each incident's
events kept as the JSON text the console sent (an ``EventsJson``, written out byte for byte,
numbers included) wherever they need no redaction; the typed, normalised
per-event columns are in ``incident_events``. Unknown
keys of ``description`` are kept in ``extra.description``.

``incident_events`` (key ``incident_id``, ``position``): one row per event, with
the incident's ``incident_id``, ``incident_updated_id``, ``flock_id``, ``node_id``,
``logtype``, ``logtype_name`` and ``logtype_category``, the event's ``position``
(from 0), its ``timestamp`` (from ``timestamp``/``timestamp_std``) and typed columns
for the attributes every logtype documents. Spellings of one attribute share one
column, in any capitalisation: ``USERNAME``/``USER``/``User``/``cmd_user_name``/
``ms_macro_username``/``windows_desktopini_access_username`` -> ``username``;
``DOMAIN``/``DOMAINNAME`` -> ``domain``; ``HOST``/``HOSTNAME`` -> ``hostname``;
``KEY``/``client_public_key`` -> ``public_key``; ``CMD``/``NTP_CMD`` -> ``command``;
``PATH`` -> ``http_path``; ``METHOD`` -> ``http_method``; ``RESPONSE`` ->
``http_response_code``; ``USERAGENT`` -> ``user_agent``; ``headers``/``HEADERS`` ->
``headers``; ``type`` -> ``token_type``; ``kind`` -> ``token_kind``; ``ports``
(``"23,80,443"``) -> an array of integers; the port map of a consolidated port scan
-> ``ports_scanned``; NMAP packet fields -> ``ip_id``, ``ip_length``, ``ip_ttl``,
``tcp_window``, ``tcp_syn``, ``tcp_ack``...; the full list is in ``events.py`` and
in the schema's descriptions. Event objects are sparse: a column appears only when
the event has a value for it. What the documentation does not describe is kept in
``extra``. Token credentials an event echoes back (``secret_access_key``,
``factory_auth``...) are redacted, in any capitalisation, both here and in
``incidents.events``, unless ``redact=False``; passwords attackers typed are evidence
and are kept. ``incident_event_records(raw)`` types the events of a raw incident;
``incident_event_rows(record)`` types those of an incident record. Events are typed
only for this stream: a sync of ``incidents`` alone never types one.

``audit_trail`` (key ``id``): ``id`` integer, ``timestamp`` date-time,
``additional_information`` JSON object, and ``action_type``, ``message``, ``user``,
``user_ip``, ``user_browser_agent``, ``user_browser_language``, ``flock_id``.

``birds`` (key ``id``): ``live`` and the ``ignore_notifications*`` flags booleans;
``uptime``, ``netmask``, ``reconnect_count``, ``service_count`` integers;
``first_seen_std``/``first_seen`` -> ``first_seen_at``, ``last_seen_std``/
``last_seen`` -> ``last_seen_at``, ``updated_timestamp``/``updated_std``/``updated``
-> ``updated_at``, ``last_heartbeat`` -> ``last_heartbeat_at``; ``flock_id``.

``tokens`` (key ``canarytoken``): ``created``/``created_printable`` ->
``created_at``; ``enabled`` and ``browser_scanner_enabled`` booleans;
``triggered_count``, ``unacked_alert_count``, ``updated_id`` integers; ``renders``
object. Live credentials are replaced by ``"[REDACTED]"`` unless redaction is
turned off: ``factory_auth``, ``secret_access_key``, private keys, API keys,
passwords, the bait card of credit-card tokens, any field whose name says it holds a
secret, and the credential lines and private-key blocks inside ``renders``.

``flocks`` (key ``flock_id``): ``name``, ``note``, device and token counts
(``online_devices``, ``offline_devices``, ``total_tokens``, ``enabled_tokens``,
``disabled_tokens``, ``incident_count``), ``devices``, the flock's notification
settings (``email_notifications``, ``sms_notifications``, ``summary_emails``,
``webhook_notifications``, ``ip_ignorelist``: ``Global`` means the console-wide
setting applies), the console-wide toggles (``console_email_notifications``...),
and the whole ``settings`` and ``global_settings`` objects as JSON.

``outside_bird_incidents`` (key ``node_id``, ``ip_address``): one record per Outside
Bird and internet source address, from ``/incidents/outside_bird/search``: ``count`` ->
``alert_count``, ``incident_counts`` (alerts by service, named as incident logtypes are)
an object of integers; ``flock_id`` from ``/flocks/summary``.

``ignored_incidents`` (key ``annotation``, ``incident_key``): one record per incident an
ignored annotation suppressed and annotation it was listed under. Its keys are those of an
incident's ``description``, typed and renamed as in ``incidents`` (``created_at``,
``node_name``, ``logtype_name``...), plus ``events_list`` and ``matched_annotations``
unchanged and ``events`` as sent, token credentials redacted. The listing gives no id:
``incident_key`` joins ``node_id``, ``logtype``, ``src_host`` and ``created_at`` with ``|``.
``annotation_nice_name``, ``annotation_text`` and ``annotation_kb_link`` come from
``/settings/ignored_annotations``; ``flock_id``, when the incident does not carry it, from
``/flocks/summary`` (a bird's node id, or the Canarytoken its events name).

``users`` (key ``id``): one record per console user, from ``/users/list`` and each
user's ``/user/get``: ``access_level`` ``'admin'`` or ``'user'`` (the list's ``"1"``
and ``"0"``) and ``is_admin``; ``disabled`` (``"None"``, never disabled, is false),
``supervisor``, ``totp_enabled``, ``webauthn_enabled``, ``saml_provisioned``,
``no_direct_login``, ``summary_email_enabled`` booleans; ``managed_flocks`` and
``watched_flocks`` (``"flock:a,flock:b"``) arrays of flock ids.

``api_keys`` (key ``key_id``): global and flock API keys: ``scope`` (``global`` or
``flock``), ``flock_id``, ``auth_token_type``, ``note``, ``created`` -> ``created_at``,
``created_by``, ``last_used`` -> ``last_used_at``, ``managed_flocks`` and
``watched_flocks`` arrays. The key's value (``auth_token``) is never part of a record,
whatever ``redact_secrets`` says; a listing without ``key_id`` gets one derived from a
SHA-256 digest (``sha256:`` and 16 hex digits).

``settings`` (key ``scope``, ``setting``): one row per setting that decides whether
an alert reaches anyone, console-wide (``scope`` ``console``) or a flock's (``scope`` and
``flock_id`` the flock id): ``category`` (``notifications``, ``webhooks``,
``ignore_lists``, ``change_alerts``, ``features``, ``other``), ``name``, ``setting``
(``category.name``), ``enabled`` and ``follows_console`` booleans (a flock's ``Global``
reads as ``follows_console`` true), and ``value`` a JSON object (``addresses``,
``webhooks``, ``ips``...; comma- or newline-separated lists become arrays). Channel
credentials are replaced by ``"[REDACTED]"`` unless redaction is turned off: tokens and
keys, and in URLs the user name and password, credential path segments (PagerDuty,
Slack, Teams) and query parameters named like a token, key, secret, password or
signature; the rest of each URL is kept.

``licenses`` (key ``kind``): ``bird_count``, ``license_count``, ``remaining_licenses``
integers and ``details`` (versions, images), passwords and pull credentials redacted.

Logtype catalogue
-----------------

``LOGTYPES`` maps every documented logtype code to ``(name, category)``, e.g.
``"4002"`` -> ``("SSH Login Attempt", "SSH")`` and ``"17012"`` ->
``("Canarytoken: AWS ID", "Canarytoken")``. It is generated from the API
documentation by ``scripts/generate_logtypes.py``.
"""

from tap_thinkst_canary.model._table import REDACTED
from tap_thinkst_canary.model.alerting import (
    CONSOLE_SCOPE,
    LICENSE_SCHEMA,
    SETTING_SCHEMA,
    FlockSettingsAnswers,
    Redactor,
    console_setting_records,
    flock_ids_of,
    flock_setting_records,
    license_records,
)
from tap_thinkst_canary.model.api_keys import (
    API_KEY_SCHEMA,
    DERIVED_KEY_ID_PREFIX,
    api_key_record,
    derived_key_id,
    key_value,
)
from tap_thinkst_canary.model.audit import AUDIT_ENTRY_SCHEMA, audit_record
from tap_thinkst_canary.model.bird_registrations import (
    BIRD_REGISTRATION_SCHEMA,
    bird_registration_record,
)
from tap_thinkst_canary.model.bird_services import BIRD_SERVICE_SCHEMA, bird_service_records
from tap_thinkst_canary.model.bird_updates import (
    BIRD_UPDATE_SCHEMA,
    bird_update_records,
    updatable_birds,
)
from tap_thinkst_canary.model.birds import BIRD_SCHEMA, bird_record
from tap_thinkst_canary.model.flocks import (
    FLOCK_SCHEMA,
    flock_of_devices,
    flock_record,
    flock_records,
)
from tap_thinkst_canary.model.ignored_incidents import (
    IGNORED_INCIDENT_SCHEMA,
    ignored_incident_record,
)
from tap_thinkst_canary.model.incident_pages import TypedIncidents, typed_page
from tap_thinkst_canary.model.incidents import (
    INCIDENT_EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    incident_event_records,
    incident_event_rows,
    incident_record,
)
from tap_thinkst_canary.model.logtypes import LOGTYPES, Logtype, logtype_category, logtype_name
from tap_thinkst_canary.model.outside_birds import (
    OUTSIDE_BIRD_INCIDENT_SCHEMA,
    outside_bird_incident_record,
)
from tap_thinkst_canary.model.tokens import TOKEN_SCHEMA, redact_token, token_record
from tap_thinkst_canary.model.users import USER_SCHEMA, user_record

__all__ = [
    "API_KEY_SCHEMA",
    "AUDIT_ENTRY_SCHEMA",
    "BIRD_REGISTRATION_SCHEMA",
    "BIRD_SCHEMA",
    "BIRD_SERVICE_SCHEMA",
    "BIRD_UPDATE_SCHEMA",
    "CONSOLE_SCOPE",
    "DERIVED_KEY_ID_PREFIX",
    "FLOCK_SCHEMA",
    "IGNORED_INCIDENT_SCHEMA",
    "INCIDENT_EVENT_SCHEMA",
    "INCIDENT_SCHEMA",
    "LICENSE_SCHEMA",
    "LOGTYPES",
    "OUTSIDE_BIRD_INCIDENT_SCHEMA",
    "REDACTED",
    "SETTING_SCHEMA",
    "TOKEN_SCHEMA",
    "USER_SCHEMA",
    "FlockSettingsAnswers",
    "Logtype",
    "Redactor",
    "TypedIncidents",
    "api_key_record",
    "audit_record",
    "bird_record",
    "bird_registration_record",
    "bird_service_records",
    "bird_update_records",
    "console_setting_records",
    "derived_key_id",
    "flock_ids_of",
    "flock_of_devices",
    "flock_record",
    "flock_records",
    "flock_setting_records",
    "ignored_incident_record",
    "incident_event_records",
    "incident_event_rows",
    "incident_record",
    "key_value",
    "license_records",
    "logtype_category",
    "logtype_name",
    "outside_bird_incident_record",
    "redact_token",
    "token_record",
    "typed_page",
    "updatable_birds",
    "user_record",
]
