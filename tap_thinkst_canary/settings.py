"""The tap's settings: their JSON schema (for `--about`, Meltano and the README) and their checks.

Every check runs before the first request and ends in a `ConfigError` whose one-line message
names the setting, what is wrong with it and how to fix it.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import json
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_thinkst_canary import clock
from tap_thinkst_canary.errors import API_KEY_HELP, ConfigError
from tap_thinkst_canary.scrubbing import MIN_SECRET_LENGTH, TokenScrubber


@dataclass(frozen=True)
class Bounds:
    """An integer setting's default and inclusive range."""

    default: int
    minimum: int
    maximum: int


PAGE_SIZE = Bounds(default=1000, minimum=1, maximum=10_000)
REQUEST_TIMEOUT = Bounds(default=60, minimum=1, maximum=600)
MAX_TRIES = Bounds(default=8, minimum=1, maximum=20)
MAX_RETRY_WAIT = Bounds(default=300, minimum=0, maximum=3600)
AUDIT_TRAIL_WINDOW_DAYS = Bounds(default=30, minimum=1, maximum=366)
MAX_PARALLEL_CONSOLES = Bounds(default=16, minimum=1, maximum=64)


def _integer(name: str, bounds: Bounds, title: str, description: str) -> th.Property:
    return th.Property(
        name,
        th.IntegerType(minimum=bounds.minimum, maximum=bounds.maximum),
        default=bounds.default,
        title=title,
        description=f"{description} Default {bounds.default}, from {bounds.minimum} "
        f"to {bounds.maximum}.",
    )


CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property(
        "domain",
        th.StringType,
        title="Console domain",
        description="The console's domain hash: `ab12cd34` for `ab12cd34.canary.tools`. "
        "The API is then `https://ab12cd34.canary.tools/api/v1`. Either this or `base_url` "
        "is required.",
        examples=["ab12cd34"],
    ),
    th.Property(
        "base_url",
        th.StringType,
        title="API base URL",
        description="The full API base URL, e.g. `https://ab12cd34.canary.tools/api/v1`; "
        "overrides `domain`. Plain `http` is accepted only for a loopback host (a local "
        "simulator or tunnel).",
    ),
    th.Property(
        "auth_token",
        th.StringType,
        secret=True,
        title="API auth token",
        description="A Canary Console API key; a read-only key is enough. Create one under "
        "Settings > API > Add API Key. Sent only in the `X-Canary-Auth-Token` header. "
        "Required unless `consoles` is set.",
    ),
    th.Property(
        "console_name",
        th.StringType,
        title="Console name",
        description="The value of every record's `console` column, which starts every primary "
        "key, so that several consoles can share tables. Default: the domain hash, or the host "
        "of `base_url`.",
        examples=["acme-prod"],
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Earliest incident update and audit-trail day to sync on the first run "
        "(ISO 8601, e.g. `2024-01-01T00:00:00Z`). Without it, all history is synced. Once a "
        "stream has a bookmark, the bookmark wins.",
    ),
    _integer(
        "page_size",
        PAGE_SIZE,
        title="Page size",
        description="Records asked for per request, for incidents, Canarytokens and the "
        "audit trail.",
    ),
    th.Property(
        "flock_id",
        th.StringType,
        title="Flock ID",
        description="Only sync this flock (e.g. `flock:default`): its incidents and their "
        "events, birds, Canarytokens and its own flock record. The audit trail is console-wide "
        "and is always synced in full.",
    ),
    _integer(
        "request_timeout",
        REQUEST_TIMEOUT,
        title="Request timeout",
        description="Seconds to wait for the console to answer one request before retrying it.",
    ),
    _integer(
        "max_tries",
        MAX_TRIES,
        title="Maximum tries",
        description="Attempts per request, the first included, before a transient failure "
        "(rate limit, 5xx, timeout, dropped connection, truncated body) stops the sync.",
    ),
    _integer(
        "max_retry_wait",
        MAX_RETRY_WAIT,
        title="Maximum retry wait",
        description="The longest single wait, in seconds, between two tries of a request; it "
        "also caps the console's `Retry-After`.",
    ),
    th.Property(
        "redact_secrets",
        th.BooleanType,
        default=True,
        title="Redact Canarytoken secrets",
        description="Replace the live credentials that Canarytokens carry (AWS keys, factory "
        "auth strings, credentials inside rendered tokens) with `[REDACTED]`. Set to false "
        "only if the warehouse is as trusted as the console.",
    ),
    th.Property(
        "consoles",
        th.ArrayType(
            th.ObjectType(
                th.Property("name", th.StringType, required=True),
                th.Property("domain", th.StringType),
                th.Property("base_url", th.StringType),
                th.Property("auth_token", th.StringType, required=True, secret=True),
                th.Property("flock_id", th.StringType),
                th.Property("start_date", th.DateTimeType),
            )
        ),
        secret=True,
        title="Consoles",
        description="Several consoles in one sync, in place of `domain`/`base_url`, "
        "`auth_token` and `console_name`: a list of objects, each with `name` (its records' "
        "`console`), `domain` or `base_url`, `auth_token`, and optionally its own `flock_id` "
        "and `start_date` (else the top-level ones). Each console keeps its own bookmarks; "
        "one that fails does not stop the others.",
    ),
    _integer(
        "max_parallel_consoles",
        MAX_PARALLEL_CONSOLES,
        title="Consoles fetched at once",
        description="How many consoles are asked for data at the same time.",
    ),
    _integer(
        "audit_trail_window_days",
        AUDIT_TRAIL_WINDOW_DAYS,
        title="Audit trail window (days)",
        description="Days of audit trail fetched per request window. Each day is still "
        "emitted in order and checkpointed on its own; larger windows mean fewer requests "
        "on a long backfill.",
    ),
).to_dict()

# Console API keys are 32 characters or more. A much shorter value is a mistake, and it could
# not be scrubbed from the output without mangling everything else that happens to contain it.
MIN_TOKEN_LENGTH = MIN_SECRET_LENGTH
# How alike (difflib's ratio) an unknown setting's name must be to a known one to be its typo.
SIMILAR_NAME = 0.75
_DOMAIN_HASH = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CANARY_SUFFIX = ".canary.tools"


@dataclass(frozen=True)
class ConsoleSettings:
    """Where one console is, how to reach it, and what of it to sync."""

    name: str
    base_url: str
    auth_token: str
    flock_id: str | None
    start_date: datetime.datetime | None


@dataclass(frozen=True)
class Settings:
    """The validated, parsed configuration."""

    consoles: tuple[ConsoleSettings, ...]
    page_size: int
    request_timeout: int
    max_tries: int
    max_retry_wait: int
    redact_secrets: bool
    audit_trail_window_days: int
    max_parallel_consoles: int

    @classmethod
    def from_config(
        cls, config: t.Mapping[str, t.Any], *, known_settings: t.Collection[str] = ()
    ) -> Settings:
        """Check `config` and parse it; raise `ConfigError` at the first problem found.

        `known_settings` are the settings the tap accepts beyond its own (the SDK's).
        """
        # First the tokens: every other message is scrubbed of them.
        scrubber = TokenScrubber(*every_token(config))
        try:
            _check_names(config, {*CONFIG_SCHEMA["properties"], *known_settings})
            return cls(
                consoles=_consoles(config),
                page_size=_bounded(config, "page_size", PAGE_SIZE),
                request_timeout=_bounded(config, "request_timeout", REQUEST_TIMEOUT),
                max_tries=_bounded(config, "max_tries", MAX_TRIES),
                max_retry_wait=_bounded(config, "max_retry_wait", MAX_RETRY_WAIT),
                redact_secrets=_boolean(config, "redact_secrets", default=True),
                audit_trail_window_days=_bounded(
                    config, "audit_trail_window_days", AUDIT_TRAIL_WINDOW_DAYS
                ),
                max_parallel_consoles=_bounded(
                    config, "max_parallel_consoles", MAX_PARALLEL_CONSOLES
                ),
            )
        except ConfigError as error:
            # A value quoted back, such as a `base_url` pasted with `?auth_token=` in it, must
            # not carry a token into the message.
            raise ConfigError(scrubber.scrub(str(error))) from None


# The settings a console of `consoles` may have, and those they take the place of.
CONSOLE_KEYS = ("name", "domain", "base_url", "auth_token", "flock_id", "start_date")
SINGLE_CONSOLE_KEYS = ("domain", "base_url", "auth_token", "console_name")


def every_token(config: t.Mapping[str, t.Any]) -> list[str]:
    """Every API token in the configuration, valid or not: none may be quoted back."""
    consoles = _console_list(config.get("consoles"))
    entries = [config, *(entry for entry in consoles or () if isinstance(entry, dict))]
    return [e["auth_token"] for e in entries if isinstance(e.get("auth_token"), str)]


def _console_list(value: t.Any) -> list[t.Any] | None:
    """`consoles` as a list: from the environment (or a Meltano `.env`) it arrives as JSON text."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _problem(
                "`consoles` is text that is not a JSON list; give a list of objects, e.g. "
                '[{"name": "prod", "domain": "ab12cd34", "auth_token": "..."}].'
            ) from None
    if not isinstance(value, list):
        raise _problem(
            "`consoles` is not a list; give a list of objects, each with `name`, `domain` or "
            "`base_url`, and `auth_token`."
        )
    return value


def _consoles(config: t.Mapping[str, t.Any]) -> tuple[ConsoleSettings, ...]:
    start_date = _start_date(config.get("start_date"))
    flock_id = _optional_text(config, "flock_id")
    entries = _console_list(config.get("consoles"))
    if entries is None:
        return (_console(config, None, flock_id=flock_id, start_date=start_date),)
    mixed = [key for key in SINGLE_CONSOLE_KEYS if config.get(key) not in (None, "")]
    if mixed:
        names = ", ".join(f"`{key}`" for key in mixed)
        raise _problem(
            f"both `consoles` and {names} are set; give each console its own entry in "
            "`consoles`, and remove the single-console settings."
        )
    consoles: list[ConsoleSettings] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _problem(
                f"`consoles[{index}]` is not an object; give `name`, `domain` or `base_url`, "
                "and `auth_token`."
            )
        where = f"`consoles[{index}]`"
        try:
            _check_names(entry, set(CONSOLE_KEYS))
            name = _optional_text(entry, "name")
            if name is None:
                raise _problem("`name` is missing; name each console (its records' `console`).")
            where = f"`consoles[{index}]` ({name})"
            console = _console(
                entry,
                name,
                flock_id=_optional_text(entry, "flock_id") or flock_id,
                start_date=_start_date(entry.get("start_date")) or start_date,
            )
        except ConfigError as error:
            detail = str(error).removeprefix("Configuration error: ")
            raise _problem(f"{where}: {detail}") from None
        if any(other.name == console.name for other in consoles):
            raise _problem(
                f"two consoles are named {console.name!r}; give each its own `name`, or their "
                "records would be taken for one console's."
            )
        consoles.append(console)
    return tuple(consoles)


def _console(
    config: t.Mapping[str, t.Any],
    name: str | None,
    *,
    flock_id: str | None,
    start_date: datetime.datetime | None,
) -> ConsoleSettings:
    auth_token = _auth_token(config)
    base_url = _base_url(config)
    return ConsoleSettings(
        name=name or _console_name(config, base_url),
        base_url=base_url,
        auth_token=auth_token,
        flock_id=flock_id,
        start_date=start_date,
    )


def _problem(text: str) -> ConfigError:
    return ConfigError(f"Configuration error: {text}")


def _check_names(config: t.Mapping[str, t.Any], known: set[str]) -> None:
    """A setting name close to a known one is a typo, and ignoring it would silently change
    the sync (a full history for a misspelled `start_date`): it is an error. A name like no
    known one may belong to a shared configuration file: it is left alone."""
    for name in sorted(set(config) - known, key=str):
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=SIMILAR_NAME)
        if close:
            raise _problem(
                f"unknown setting `{name}`; did you mean `{close[0]}`? Rename it, or remove it."
            )


def _auth_token(config: t.Mapping[str, t.Any]) -> str:
    token = config.get("auth_token")
    if token is None or (isinstance(token, str) and not token.strip()):
        raise _problem(f"`auth_token` is missing; {API_KEY_HELP}.")
    # The token itself is never quoted back, not even a malformed one.
    if not isinstance(token, str) or any(c.isspace() for c in token):
        raise _problem(
            f"`auth_token` is not a valid API key (it has spaces or is not text); {API_KEY_HELP}."
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise _problem(
            f"`auth_token` is too short to be an API key (under {MIN_TOKEN_LENGTH} characters); "
            f"{API_KEY_HELP}."
        )
    return token


def _base_url(config: t.Mapping[str, t.Any]) -> str:
    base_url = _optional_text(config, "base_url")
    if base_url is not None:
        return _checked_base_url(base_url)
    domain = _optional_text(config, "domain")
    if domain is None:
        raise _problem(
            "neither `domain` nor `base_url` is set; set `domain` to the console's domain hash "
            "(`ab12cd34` for ab12cd34.canary.tools)."
        )
    domain_hash = domain.lower().removesuffix(_CANARY_SUFFIX)
    if not _DOMAIN_HASH.match(domain_hash):
        raise _problem(
            f"`domain` {domain!r} is not a console domain hash; use the first label of the "
            "console's address (`ab12cd34` for https://ab12cd34.canary.tools), or set "
            "`base_url` to the full API URL."
        )
    return f"https://{domain_hash}{_CANARY_SUFFIX}/api/v1"


def _checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _problem(
            f"`base_url` {base_url!r} is not an http(s) URL; use the full API URL, e.g. "
            "https://ab12cd34.canary.tools/api/v1."
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise _problem(
            f"`base_url` uses plain http to {parts.hostname}, which would send the API token "
            "unencrypted; use https (plain http is accepted only for loopback hosts)."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise _problem(
            "`base_url` must not carry credentials, a query or a fragment; give only the API "
            "URL, e.g. https://ab12cd34.canary.tools/api/v1, and the token in `auth_token`."
        )
    path = parts.path.rstrip("/") or "/api/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _console_name(config: t.Mapping[str, t.Any], base_url: str) -> str:
    name = _optional_text(config, "console_name")
    if name is not None:
        return name
    host = urlsplit(base_url).hostname or base_url
    return host.removesuffix(_CANARY_SUFFIX)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _start_date(value: t.Any) -> datetime.datetime | None:
    if value is None or value == "":
        return None
    example = "use ISO 8601, e.g. 2024-01-01T00:00:00Z"
    if not isinstance(value, str):
        raise _problem(f"`start_date` {value!r} is not a date-time; {example}.") from None
    try:
        parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _problem(f"`start_date` {value!r} is not a date-time; {example}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    parsed = parsed.astimezone(datetime.timezone.utc)
    if parsed > clock.utc_now():
        raise _problem(
            f"`start_date` {value!r} is in the future, so nothing would ever be synced; use a "
            "past date-time, or leave it out to sync all history."
        )
    return parsed


def _bounded(config: t.Mapping[str, t.Any], name: str, bounds: Bounds) -> int:
    value = config.get(name)
    if value is None:
        return bounds.default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # environment variables arrive as text
    if isinstance(value, bool) or not isinstance(value, int):
        raise _problem(
            f"`{name}` {value!r} is not a whole number; use an integer from "
            f"{bounds.minimum} to {bounds.maximum}."
        )
    if not bounds.minimum <= value <= bounds.maximum:
        raise _problem(
            f"`{name}` is {value}, out of range; use an integer from "
            f"{bounds.minimum} to {bounds.maximum} (default {bounds.default})."
        )
    return value


def _boolean(config: t.Mapping[str, t.Any], name: str, *, default: bool) -> bool:
    value = config.get(name)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise _problem(f"`{name}` {value!r} is not a boolean; use true or false.")
    return value


def _optional_text(config: t.Mapping[str, t.Any], name: str) -> str | None:
    value = config.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _problem(f"`{name}` {value!r} is not text; give it as a string.")
    return value.strip()
