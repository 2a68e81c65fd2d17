"""Canarytokens, with their live credentials redacted by default.

A token object carries working credentials: the AWS secret key of an ``aws-id``
token, the ``factory_auth`` string that can mint tokens, private keys of WireGuard
and Azure tokens, API keys, the bait card of a credit-card token, and ``renders``
(ready-to-deploy files) that embed them. Copying those into a warehouse spreads
secrets to everyone who can read it, so :func:`token_record` replaces each secret
value with ``[REDACTED]``, keeping the key so readers can see a secret existed, and
keeps the structure of ``renders`` while blanking the credentials inside.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

from tap_thinkst_canary.model._table import (
    BOOLEAN,
    DATETIME,
    EXTRA_SCHEMA,
    INTEGER,
    OBJECT,
    REDACTED,
    STRING,
    Column,
    Table,
    object_schema,
)

# Field names of secrets, as documented or seen per token kind.
SECRET_FIELDS: Final = frozenset(
    {
        "factory_auth",  # every kind created through a factory: can mint new tokens
        "secret_access_key",  # aws-id
        "aws_secret_access_key",
        "aws_secret_key",
        "aws_session_token",
        "wg_private_key",  # wireguard
        "wg_key",
        "private_key",
        "cert",  # azure-id: the login certificate and its key
        "certificate",
        "cert_key",
        "client_secret",
        "slack_api_key",  # slack-api
        "api_key",
        "cc_number",  # credit-card: the bait card
        "cc_cvc",
        "cc_cvv",
        "cc_expiry",
        "mysql_password",  # mysql-dump
        "password",
        "kubeconfig",
        "auth_token",
        "access_token",
        "refresh_token",
    }
)
# Any other field whose name contains one of these (ignoring case and punctuation)
# is treated as a secret too: new token kinds keep appearing.
_SECRET_NAME_PARTS: Final = (
    "secret",
    "password",
    "passwd",
    "passphrase",
    "privatekey",
    "presharedkey",
    "apikey",
    "authtoken",
    "accesstoken",
    "sessiontoken",
    "factoryauth",
    "credential",
    "cvc",
    "cvv",
)
_NON_ALNUM: Final = re.compile(r"[^a-z0-9]")


@lru_cache(maxsize=4096)
def is_secret_field(name: str) -> bool:
    """Whether a token field (or a ``key = value`` line of a render) names a secret."""
    if name in SECRET_FIELDS:
        return True
    squashed = _NON_ALNUM.sub("", name.lower())
    return any(part in squashed for part in _SECRET_NAME_PARTS)


_PEM_PRIVATE_BLOCK: Final = re.compile(
    r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(.*?)"
    r"(-----END [A-Z0-9 ]*PRIVATE KEY-----|-----END|\Z)",
    re.S,
)
# 'aws_secret_access_key = X', 'PrivateKey = X', 'password: X', '"api_key": "X"'
_ASSIGNMENT: Final = re.compile(
    r"""(?P<key>["']?[A-Za-z][\w.-]*["']?)(?P<sep>\s*[:=]\s*)(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;}\n]+)"""
)
_SLACK_TOKEN: Final = re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+")


def _redact_text(text: str, secrets: frozenset[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    # Cheap substring tests first: most token fields are short plain strings.
    if "PRIVATE KEY" in text:
        text = _PEM_PRIVATE_BLOCK.sub(lambda m: f"{m[1]}\n{REDACTED}\n{m[3]}", text)
    if "=" in text or ":" in text:
        text = _ASSIGNMENT.sub(_redact_assignment, text)
    if "xox" in text:
        text = _SLACK_TOKEN.sub(REDACTED, text)
    return text


def _redact_assignment(match: re.Match[str]) -> str:
    key = match["key"].strip("\"'")
    if not is_secret_field(key):
        return match[0]
    value = match["value"]
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match['key']}{match['sep']}{quote}{REDACTED}{quote}"


def _secret_values(value: Any, found: set[str], under_secret: bool = False) -> None:
    if type(value) is dict:
        for key, item in value.items():
            _secret_values(item, found, under_secret or is_secret_field(str(key)))
    elif type(value) is list:
        for item in value:
            _secret_values(item, found, under_secret)
    elif under_secret and type(value) is str and len(value.strip()) >= 4:
        found.add(value.strip())


def _redact(value: Any, secrets: frozenset[str]) -> Any:
    if type(value) is dict:
        return {
            key: REDACTED
            if is_secret_field(str(key)) and item not in (None, "")
            else _redact(item, secrets)
            for key, item in value.items()
        }
    if type(value) is list:
        return [_redact(item, secrets) for item in value]
    if type(value) is str:
        return _redact_text(value, secrets)
    return value


def redact_token(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of a raw token with every secret replaced by ``[REDACTED]``."""
    found: set[str] = set()
    _secret_values(raw, found)
    redacted: dict[str, Any] = _redact(raw, frozenset(found))
    return redacted


_TOKEN_TABLE: Final = Table(
    (
        Column("canarytoken", STRING, "The token's code (primary key).", ("canarytoken",)),
        Column("kind", STRING, "Kind of token, e.g. 'aws-id', 'dns', 'cloned-web'.", ("kind",)),
        Column("memo", STRING, "Memo describing where the token is deployed.", ("memo",)),
        Column("enabled", BOOLEAN, "Whether the token is enabled.", ("enabled",)),
        Column(
            "created_at",
            DATETIME,
            "When the token was created (UTC).",
            ("created", "created_printable"),
        ),
        Column("updated_id", INTEGER, "Change counter of the token.", ("updated_id",)),
        Column("flock_id", STRING, "Flock the token belongs to.", ("flock_id",)),
        Column("node_id", STRING, "Node id of the token.", ("node_id",)),
        Column("hostname", STRING, "DNS name of the token.", ("hostname",)),
        Column("url", STRING, "URL of the token.", ("url",)),
        Column("key", STRING, "Console key of the token.", ("key",)),
        Column("triggered_count", INTEGER, "How often the token fired.", ("triggered_count",)),
        Column(
            "unacked_alert_count", INTEGER, "Alerts not yet acknowledged.", ("unacked_alert_count",)
        ),
        Column(
            "browser_scanner_enabled",
            BOOLEAN,
            "Whether the browser scanner is enabled.",
            ("browser_scanner_enabled",),
        ),
        Column("cloned_web", STRING, "Domain a cloned-site token protects.", ("cloned_web",)),
        Column("doc_name", STRING, "Name of the tokened document.", ("doc_name",)),
        Column(
            "access_key_id", STRING, "AWS access key id of an aws-id token.", ("access_key_id",)
        ),
        Column("username", STRING, "User name of the token's credentials.", ("username",)),
        Column(
            "secret_access_key",
            STRING,
            "AWS secret key of an aws-id token ('[REDACTED]' unless redaction is off).",
            ("secret_access_key",),
        ),
        Column(
            "factory_auth",
            STRING,
            "Factory string that can create tokens ('[REDACTED]' unless redaction is off).",
            ("factory_auth",),
        ),
        Column(
            "renders",
            OBJECT,
            "Ready-to-deploy renderings of the token by kind, with "
            "credentials redacted unless redaction is off.",
            ("renders",),
        ),
    )
)

TOKEN_SCHEMA: Final[dict[str, Any]] = object_schema(
    {**_TOKEN_TABLE.properties(), "extra": EXTRA_SCHEMA}
)

_TOKEN_TEMPLATE: Final = dict.fromkeys(TOKEN_SCHEMA["properties"])


def token_record(raw: Any, *, redact: bool = True) -> dict[str, Any]:
    """A raw Canarytoken object -> a typed record, secrets redacted unless ``redact=False``."""
    out = _TOKEN_TEMPLATE.copy()
    if type(raw) is not dict:
        out["extra"] = None if raw is None else {"value": raw}
        return out
    source = redact_token(raw) if redact else raw
    out["extra"] = _TOKEN_TABLE.fill(source, out)
    return out
