"""The `users` and `api_keys` streams against the simulator: exactly the console's users and
keys, typed; no key value anywhere in the output; skipped, with one warning each, for a key
that may not read them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from canary_simulator import Simulator
from tap_thinkst_canary.model import REDACTED
from tap_thinkst_canary.state import console_bookmark
from testkit.tap import TapRun, run_tap, sync_in_process

MakeSimulator = Callable[..., Simulator]
CONSOLE = "127.0.0.1"  # the console's name: the host of its `base_url`
UTC_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
ACCESS_STREAMS = ("users", "api_keys")


def config_for(sim: Simulator, **settings: Any) -> dict[str, Any]:
    return {"base_url": sim.base_url, "auth_token": sim.auth_token, **settings}


@pytest.fixture
def sim(make_simulator: MakeSimulator) -> Simulator:
    return make_simulator(seed=11, incidents=12, audit_days=3, tokens=6, flocks=3)


def by_email(output: TapRun) -> dict[str, dict[str, Any]]:
    return {user["email"]: user for user in output.records("users")}


def test_a_full_sync_emits_every_user_and_key_of_the_console(sim: Simulator) -> None:
    output = sync_in_process(config_for(sim))
    console = sim.console

    users = output.records("users")
    assert sorted(user["email"] for user in users) == sorted(console.user_emails())
    assert len(set(output.keys("users"))) == len(users)
    keys = output.records("api_keys")
    assert sorted(key["key_id"] for key in keys) == sorted(console.api_key_ids())
    assert len(set(output.keys("api_keys"))) == len(keys)
    assert all(key[0] == CONSOLE for key in output.keys("users") + output.keys("api_keys"))

    global_keys = [key for key in keys if key["scope"] == "global"]
    flock_keys = [key for key in keys if key["scope"] == "flock"]
    assert {key["key_id"] for key in global_keys} == {
        key.key_id for key in console.estate.global_keys()
    }
    assert all(key["flock_id"] is None for key in global_keys)
    for flock_id in console.flock_ids():
        assert {k["key_id"] for k in flock_keys if k["flock_id"] == flock_id} == {
            key.key_id for key in console.estate.flock_keys(flock_id)
        }


def test_users_are_typed_as_the_console_holds_them(sim: Simulator) -> None:
    users = by_email(sync_in_process(config_for(sim)))
    for email, user in users.items():
        held = sim.console.estate.user(email)
        assert user["id"] == held.id
        assert user["access_level"] == held.access_level
        assert user["is_admin"] is (held.access_level == "admin")
        assert user["disabled"] is bool(held.disabled)
        assert user["supervisor"] is held.supervisor
        assert user["totp_enabled"] is held.totp_enabled
        assert user["webauthn_enabled"] is held.webauthn_enabled
        assert user["saml_provisioned"] is held.saml_provisioned
        assert user["managed_flocks"] == held.managed_flocks
        assert user["watched_flocks"] == held.watched_flocks
        assert user["extra"] is None, user["extra"]
    # The seeded people cover each fact both ways.
    assert users["dave@example.com"]["disabled"] is True
    assert users["alice@example.com"]["disabled"] is False  # listed as "None": never disabled
    assert len(users["dave@example.com"]["watched_flocks"]) == 2
    assert users["carol@example.com"]["saml_provisioned"] is True
    assert {user["is_admin"] for user in users.values()} == {True, False}


def test_api_keys_are_typed_and_carry_no_value(sim: Simulator) -> None:
    keys = sync_in_process(config_for(sim)).records("api_keys")
    held = sim.console.estate.api_keys
    for key in keys:
        kept = held[key["key_id"]]
        assert "auth_token" not in key
        assert key["extra"] is None, key["extra"]
        assert key["auth_token_type"] == kept.auth_token_type
        assert key["note"] == kept.note
        assert key["created_by"] == kept.created_by
        assert UTC_DATETIME.match(key["created_at"]), key["created_at"]
        assert key["last_used_at"] is None or UTC_DATETIME.match(key["last_used_at"])
        if key["scope"] == "flock":
            assert key["managed_flocks"] == kept.managed_flocks
            assert key["watched_flocks"] == kept.watched_flocks
    assert any(key["last_used_at"] for key in keys)


@pytest.mark.parametrize("redact_secrets", [True, False])
def test_no_key_value_appears_in_the_output(sim: Simulator, redact_secrets: bool) -> None:
    output = sync_in_process(config_for(sim, redact_secrets=redact_secrets))
    assert output.records("api_keys")
    text = json.dumps(output.messages)
    values = sim.console.api_key_values()
    assert values
    assert not [value for value in values if value in text]


def test_a_key_value_met_later_in_another_answer_comes_out_redacted(sim: Simulator) -> None:
    value = sorted(sim.console.api_key_values())[0]
    sim.console.change_user("bob@example.com", note=f"uses the key {value} for the SIEM")

    output = sync_in_process(config_for(sim))

    assert by_email(output)["bob@example.com"]["note"] == f"uses the key {REDACTED} for the SIEM"
    assert value not in json.dumps(output.messages)


def test_the_snapshots_follow_the_console(sim: Simulator) -> None:
    console = sim.console
    console.change_user("bob@example.com", access_level="user", totp_enabled=True)
    console.remove_user("dave@example.com")
    added = console.add_api_key("Read-only", "new export")
    flock_id = sorted(console.flock_ids())[0]
    added_to_flock = console.add_api_key("read-only", "flock export", flock_id=flock_id)

    output = sync_in_process(config_for(sim))

    users = by_email(output)
    assert "dave@example.com" not in users
    assert users["bob@example.com"]["is_admin"] is False
    assert users["bob@example.com"]["totp_enabled"] is True
    keys = {key["key_id"]: key for key in output.records("api_keys")}
    assert keys[added]["scope"] == "global"
    assert keys[added_to_flock]["flock_id"] == flock_id


def test_a_flock_sync_has_the_console_users_and_that_flocks_keys(sim: Simulator) -> None:
    flock_id = sorted(sim.console.flock_ids())[-1]
    output = sync_in_process(config_for(sim, flock_id=flock_id))

    assert len(output.records("users")) == len(sim.console.user_emails())
    keys = output.records("api_keys")
    assert {key["key_id"] for key in keys} == {
        key.key_id for key in sim.console.estate.global_keys()
    } | {key.key_id for key in sim.console.estate.flock_keys(flock_id)}
    assert {key["flock_id"] for key in keys} == {None, flock_id}
    flock_listings = [r for r in sim.requests if r.path.endswith("/flock/auth_token/list")]
    assert len(flock_listings) == 1


@pytest.mark.parametrize("key_type", ["read-only", "flock"])
def test_a_key_that_may_not_read_them_skips_both_and_syncs_the_rest(
    make_simulator: MakeSimulator, tmp_path: Path, key_type: str
) -> None:
    sim = make_simulator(seed=11, incidents=12, audit_days=3, tokens=6, flocks=3)
    sim.set_key_type(key_type)

    output = run_tap(config_for(sim), tmp_path)

    assert output.returncode == 0, output.stderr
    for stream in ACCESS_STREAMS:
        assert not output.records(stream)
        warnings = [line for line in output.stderr_lines if f"{stream} skipped for console" in line]
        assert len(warnings) == 1, output.stderr
        assert "WARNING" in warnings[0]
        assert "needs an admin API key" in warnings[0]
    assert {record["id"] for record in output.records("incidents")} == sim.console.incident_ids()
    assert {record["id"] for record in output.records("audit_trail")} == sim.console.audit_ids()
    assert len(output.records("birds")) == len(sim.console.bird_ids())
    assert console_bookmark(output.last_state, "incidents", CONSOLE).get("replication_key_value")
    assert console_bookmark(output.last_state, "audit_trail", CONSOLE)
    assert not [line for line in output.stderr_lines if " ERROR " in line or "CRITICAL" in line]


def test_the_keys_are_listed_before_any_other_answer_is_read(sim: Simulator) -> None:
    # So that the scrubber knows every key value before an audit entry or an incident quotes it.
    output = sync_in_process(config_for(sim))
    first_schema = next(m for m in output.messages if m["type"] == "SCHEMA")
    assert first_schema["stream"] == "api_keys"
    paths = [request.path for request in sim.requests]
    assert paths[:2] == ["/ping", "/auth_token/list"]
    last_key_listing = max(i for i, path in enumerate(paths) if path.endswith("auth_token/list"))
    other = [i for i, path in enumerate(paths) if path != "/ping" and "auth_token" not in path]
    # The flocks' summary says which flocks have keys to list.
    assert [paths[i] for i in other if i < last_key_listing] == ["/flocks/summary"]
