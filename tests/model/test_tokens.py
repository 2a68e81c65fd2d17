"""Canarytokens: every live credential is redacted by default, and only when asked to be kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tap_thinkst_canary.model import REDACTED, TOKEN_SCHEMA, token_record
from tap_thinkst_canary.model.tokens import is_secret_field

from .helpers import assert_valid, frozen

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
FACTORY = "f4c70ry0a7hs7r1ng0123456789abcdef"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
WG_PRIVATE = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
SLACK = "xoxp-2736482-2736482-27364827364-abcdef0123456789"


def token(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "canarytoken": f"code-{kind}",
        "created": "1586249510.069870",
        "created_printable": "2020-04-07 08:51:50 (UTC)",
        "enabled": True,
        "flock_id": "flock:default",
        "hostname": f"{kind}.canarytokens.example",
        "key": "k",
        "kind": kind,
        "memo": "Example Memo",
        "node_id": "n",
        "triggered_count": 0,
        "updated_id": 7,
        "url": "http://canarytokens.example/x",
        **fields,
    }


# (token, every secret string that must not survive redaction)
KINDS: list[tuple[dict[str, Any], list[str]]] = [
    (
        token(
            "aws-id",
            access_key_id="AKIAEXAMPLE",
            secret_access_key=AWS_SECRET,
            factory_auth=FACTORY,
            username="canarytoken-user",
            renders={
                "aws-id": "\n    [default]\n    aws_access_key_id = AKIAEXAMPLE\n"
                f"    aws_secret_access_key = {AWS_SECRET}"
            },
        ),
        [AWS_SECRET, FACTORY],
    ),
    (
        token(
            "azure-id",
            factory_auth=FACTORY,
            app_id="0000-app",
            tenant_id="0000-tenant",
            azure_id_cert_file_name="azure_cert.pem",
            renders={"azure-id": f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END"},
        ),
        [FACTORY, PEM_BODY],
    ),
    (
        token(
            "azure-id",
            renders={
                "azure-id": {
                    "config.json": '{"appId": "0000-app", "password": "s3cr3t-pass"}',
                    "cert.pem": "-----BEGIN RSA PRIVATE KEY-----\n"
                    f"{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n",
                }
            },
        ),
        ["s3cr3t-pass", PEM_BODY],
    ),
    (
        token(
            "wireguard",
            wg_private_key=WG_PRIVATE,
            wg_public_key="pub-key-is-fine",
            renders={
                "wireguard": f"[Interface]\nPrivateKey = {WG_PRIVATE}\nAddress = 10.0.0.2/32\n"
            },
        ),
        [WG_PRIVATE],
    ),
    (token("slack-api", factory_auth=FACTORY, slack_api_key=SLACK), [FACTORY, SLACK]),
    (
        token("slack-api", renders={"slack-api": f"export SLACK_TOKEN={SLACK}\n"}),
        [SLACK],
    ),
    (
        token("credit-card", cc_number="4000123412341234", cc_cvc="123", cc_expiry="12/29"),
        ["4000123412341234", "12/29"],
    ),
    (token("mysql-dump", mysql_username="bk_user", mysql_password="dumppass99"), ["dumppass99"]),
    (
        token("kubeconfig", kubeconfig="apiVersion: v1\nusers:\n- user:\n    token: abcdefgh12345"),
        ["abcdefgh12345"],
    ),
    (
        token("future-kind", some_new_client_secret="n3w-s3cr3t", nested={"api_key": "ak-9999"}),
        ["n3w-s3cr3t", "ak-9999"],
    ),
]


@pytest.mark.parametrize(
    ("raw", "secrets"), KINDS, ids=lambda v: v["kind"] if isinstance(v, dict) else ""
)
def test_secrets_never_survive_redaction(raw: dict[str, Any], secrets: list[str]) -> None:
    before = frozen(raw)
    record = token_record(raw)
    assert_valid(record, TOKEN_SCHEMA)
    assert raw == before
    text = json.dumps(record, ensure_ascii=False)
    for secret in secrets:
        assert secret not in text
    assert REDACTED in text


@pytest.mark.parametrize(
    ("raw", "secrets"), KINDS, ids=lambda v: v["kind"] if isinstance(v, dict) else ""
)
def test_redaction_off_keeps_every_value(raw: dict[str, Any], secrets: list[str]) -> None:
    record = token_record(raw, redact=False)
    assert_valid(record, TOKEN_SCHEMA)
    text = json.dumps(record, ensure_ascii=False)
    for secret in secrets:
        assert secret in text
    assert REDACTED not in text


def test_redaction_keeps_keys_and_structure() -> None:
    raw, _ = KINDS[0]
    record = token_record(raw)
    assert record["secret_access_key"] == REDACTED
    assert record["factory_auth"] == REDACTED
    assert record["access_key_id"] == "AKIAEXAMPLE"
    assert record["username"] == "canarytoken-user"
    assert record["renders"] == {
        "aws-id": "\n    [default]\n    aws_access_key_id = AKIAEXAMPLE\n"
        f"    aws_secret_access_key = {REDACTED}"
    }
    wireguard = token_record(KINDS[3][0])
    assert wireguard["extra"] == {"wg_private_key": REDACTED, "wg_public_key": "pub-key-is-fine"}
    assert wireguard["renders"] == {
        "wireguard": f"[Interface]\nPrivateKey = {REDACTED}\nAddress = 10.0.0.2/32\n"
    }
    azure = token_record(KINDS[2][0])
    assert azure["renders"]["azure-id"]["cert.pem"] == (
        f"-----BEGIN RSA PRIVATE KEY-----\n{REDACTED}\n-----END RSA PRIVATE KEY-----\n"
    )
    assert azure["renders"]["azure-id"]["config.json"] == (
        f'{{"appId": "0000-app", "password": "{REDACTED}"}}'
    )
    card = token_record(KINDS[6][0])
    assert card["extra"] == {"cc_number": REDACTED, "cc_cvc": REDACTED, "cc_expiry": REDACTED}


def test_empty_secrets_stay_empty() -> None:
    record = token_record(token("aws-id", secret_access_key="", factory_auth=None))
    assert record["secret_access_key"] == ""
    assert record["factory_auth"] is None


def test_a_secret_repeated_in_another_field_is_redacted_there_too() -> None:
    raw = token("aws-id", secret_access_key=AWS_SECRET, memo=f"key is {AWS_SECRET}")
    record = token_record(raw)
    assert record["memo"] == f"key is {REDACTED}"


def test_non_secret_fields_are_untouched() -> None:
    raw = token(
        "cloned-web",
        cloned_web="intranet.example.com",
        renders={
            "cloned-web": '<script>if (document.domain != "intranet.example.com") '
            '{ m.src = "http://t"; }</script>'
        },
    )
    record = token_record(raw)
    assert record["renders"] == raw["renders"]
    assert record["cloned_web"] == "intranet.example.com"
    assert record["extra"] is None


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("factory_auth", True),
        ("secret_access_key", True),
        ("aws_secret_access_key", True),
        ("wg_private_key", True),
        ("PrivateKey", True),
        ("slack_api_key", True),
        ("mysql_password", True),
        ("cc_cvc", True),
        ("cc_number", True),
        ("Client-Secret", True),
        ("access_key_id", False),
        ("wg_public_key", False),
        ("key", False),
        ("hostname", False),
        ("azure_id_cert_file_name", False),
        ("username", False),
        ("canarytoken", False),
    ],
)
def test_secret_field_names(name: str, secret: bool) -> None:
    assert is_secret_field(name) is secret


def test_typed_token_columns() -> None:
    record = token_record(
        token("http", enabled="False", triggered_count="4", browser_scanner_enabled="true")
    )
    assert record["enabled"] is False
    assert record["triggered_count"] == 4
    assert record["browser_scanner_enabled"] is True
    assert record["created_at"] == "2020-04-07T08:51:50.069870Z"
    assert record["updated_id"] == 7


@pytest.mark.parametrize("raw", [None, "x", [], {}, {"canarytoken": None, "renders": "flat"}])
def test_odd_tokens(raw: Any) -> None:
    for redact in (True, False):
        record = token_record(raw, redact=redact)
        assert_valid(record, TOKEN_SCHEMA)
