"""The users' and API keys' data model: one form for the two answers' spellings, no key value."""

from __future__ import annotations

import json

from tap_thinkst_canary.model import (
    API_KEY_SCHEMA,
    DERIVED_KEY_ID_PREFIX,
    USER_SCHEMA,
    api_key_record,
    derived_key_id,
    key_value,
    user_record,
)

LISTED_USER = {
    "access_level": "1",
    "disabled": "None",
    "email": "ann@example.com",
    "id": "u1",
    "managed_flocks": "flock:a, flock:b",
    "note": "",
    "supervisor": "False",
    "totp_enabled": "True",
    "watched_flocks": "",
    "webauthn_enabled": False,
}
USER_DETAILS = {
    "access_level": "admin",
    "disabled": False,
    "email": "ann@example.com",
    "id": "u1",
    "managed_flocks": "flock:a,flock:b",
    "no_direct_login": True,
    "saml_provisioned": True,
    "summary_email_enabled": True,
    "supervisor": False,
    "totp_enabled": True,
    "watched_flocks": "",
    "webauthn_credential": "",
    "webauthn_enabled": False,
}
VALUE = "0123456789abcdef0123456789abcdef"


def test_the_list_and_the_details_agree_in_one_typed_record() -> None:
    record = user_record(LISTED_USER, USER_DETAILS)
    assert set(record) == set(USER_SCHEMA["properties"])
    assert record["access_level"] == "admin"
    assert record["is_admin"] is True
    assert record["disabled"] is False
    assert record["supervisor"] is False
    assert record["totp_enabled"] is True
    assert record["saml_provisioned"] is True
    assert record["managed_flocks"] == ["flock:a", "flock:b"]
    assert record["watched_flocks"] == []
    assert record["extra"] is None


def test_a_user_access_level_the_model_does_not_know_is_kept_raw() -> None:
    record = user_record({**LISTED_USER, "access_level": "7"})
    assert record["access_level"] is None
    assert record["is_admin"] is None
    assert record["extra"] == {"access_level": "7"}
    assert user_record({**LISTED_USER, "access_level": "0"})["is_admin"] is False


def test_a_key_record_never_holds_the_value() -> None:
    raw = {
        "auth_token": VALUE,
        "auth_token_type": "Admin",
        "created": "2023-04-13 19:12:15 UTC+0000",
        "key_id": "ffffffff",
        "note": f"copy of {VALUE}",
        "comment": {"deep": [VALUE]},
    }
    record = api_key_record(raw, console="c")
    assert set(record) == set(API_KEY_SCHEMA["properties"])
    assert VALUE not in json.dumps(record)
    assert record["created_at"] == "2023-04-13T19:12:15Z"
    assert record["key_id"] == "ffffffff"
    assert record["scope"] == "global"
    assert record["extra"] == {"comment": {"deep": ["[REDACTED]"]}}
    assert key_value(raw) == VALUE


def test_a_key_without_an_id_gets_a_stable_one_that_reveals_nothing() -> None:
    raw = {"auth_token": VALUE, "auth_token_type": "admin", "note": "n"}
    record = api_key_record(raw, console="c", flock_id="flock:x")
    assert record["key_id"] == derived_key_id("c", VALUE)
    assert record["key_id"].startswith(DERIVED_KEY_ID_PREFIX)
    assert VALUE[:8] not in record["key_id"]
    assert api_key_record(dict(raw), console="c", flock_id="flock:x") == record
    assert derived_key_id("other", VALUE) != record["key_id"]
    assert record["scope"] == "flock"
    assert record["flock_id"] == "flock:x"
