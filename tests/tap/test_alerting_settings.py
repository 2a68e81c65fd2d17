"""The `settings` and `licenses` streams against the simulator: every setting of the console and
of each flock, typed; no credential of a channel, webhook or license in any output, log or state;
skipped, with a warning, for a key that may not read them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests

from canary_simulator import Simulator
from canary_simulator.estate_api import LICENSE_KINDS, expected_settings, planted_secrets
from tap_thinkst_canary.model import REDACTED, Redactor
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import TapRun, sync_in_process

MakeSimulator = Callable[..., Simulator]
RunCli = Callable[..., TapRun]


def config_for(sim: Simulator, **settings: Any) -> dict[str, Any]:
    return {"base_url": sim.base_url, "auth_token": sim.auth_token, **settings}


def by_key(output: TapRun) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["scope"], row["setting"]): row for row in output.records("settings")}


def secret_forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


def leaked(secrets: dict[str, str], *texts: str) -> list[str]:
    return [
        f"{what}: {form!r}"
        for what, secret in secrets.items()
        for form in secret_forms(secret)
        for text in texts
        if form in text
    ]


@pytest.fixture
def sim(make_simulator: MakeSimulator) -> Simulator:
    return make_simulator(seed=11, incidents=5, tokens=3, audit_days=2)


def test_a_full_sync_emits_every_setting_of_the_console_and_of_each_flock(sim: Simulator) -> None:
    output = sync_in_process(config_for(sim))
    expected = expected_settings(sim.console)
    keys = output.keys("settings")
    assert len(keys) == len(set(keys)), "a setting came out twice"
    assert {(scope, setting) for _, scope, setting in keys} == expected
    assert {console for console, _, _ in keys} == {"127.0.0.1"}
    assert {row["kind"] for row in output.records("licenses")} == LICENSE_KINDS


def test_settings_are_typed(sim: Simulator) -> None:
    rows = by_key(sync_in_process(config_for(sim)))
    estate = sim.console.estate
    for row in rows.values():
        assert row["enabled"] in (True, False, None)
        assert row["follows_console"] in (True, False, None)
        assert row["flock_id"] == (None if row["scope"] == "console" else row["scope"])
        assert row["setting"] == f"{row['category']}.{row['name']}"
    email = rows["console", "notifications.email"]
    assert email["enabled"] is True
    assert email["value"] == {"addresses": ["soc@example.com", "oncall@example.com"]}
    syslog = rows["console", "notifications.syslog"]["value"]
    assert syslog["port"] == 514
    assert syslog["protocol"] == "tcp"
    # "a,b" from the console is a list.
    assert (
        rows["console", "ignore_lists.ip_ignore_list"]["value"]["ips"]
        == (estate.console_ignore_lists["whitelist_ips"])
    )
    assert rows["console", "features.console_api"]["enabled"] is True
    annotations = rows["console", "ignore_lists.annotation_ignore_list"]["value"]["annotations"]
    assert {a["name"] for a in annotations} == set(estate.ignored_annotations)
    for flock_id, hooks in estate.flock_webhooks.items():
        generic = rows[flock_id, "webhooks.generic_webhooks"]
        assert generic["enabled"] is True
        assert generic["follows_console"] is hooks["is_global"]
        assert [h["webhook_id"] for h in generic["value"]["webhooks"]] == [
            h["webhook_id"] for h in hooks["generic_webhooks"]
        ]
        splunk = rows[flock_id, "webhooks.splunk_webhook"]["value"]
        assert splunk == {"host": "splunk.example.com", "port": 8088, "token": REDACTED}
        # The flocks' summary says "Global": the flock follows the console.
        change = rows[flock_id, "change_alerts.device_settings_change"]
        assert change["enabled"] is None
        assert change["follows_console"] is True
        ip_list = rows[flock_id, "ignore_lists.ip_ignore_list"]
        assert ip_list["follows_console"] is hooks["whitelisting"]["inherit_global_whitelist_ips"]
        assert ip_list["enabled"] is hooks["whitelisting"]["ip_whitelisting"]["enabled"]


def test_licenses_are_typed(sim: Simulator) -> None:
    licenses = {row["kind"]: row for row in sync_in_process(config_for(sim)).records("licenses")}
    assert licenses["canaryvm"]["license_count"] == 5
    assert licenses["canaryvm"]["remaining_licenses"] == 5
    assert licenses["containercanary"]["bird_count"] == 1
    docker = licenses["containercanary"]["details"]["containercanary_image_details"]["docker"][0]
    assert docker["pull_credentials"]["token"] == REDACTED
    assert docker["registry"] == "https://index.docker.io/v1/"
    assert docker["tags"] == ["4.1.2", "latest"]
    assert licenses["canaryvm"]["details"]["canaryvm_version_details"][0]["password"] == REDACTED


def test_no_channel_webhook_or_license_secret_reaches_the_output_logs_or_state(
    sim: Simulator, run_cli: RunCli
) -> None:
    secrets = planted_secrets(sim.console)
    assert len(secrets) >= 20  # every kind planted, for the console and each flock
    output = run_cli(config_for(sim), env={"LOGLEVEL": "DEBUG"})
    assert output.returncode == 0, output.stderr
    stdout = "\n".join(json.dumps(message) for message in output.messages)
    assert output.records("settings")
    assert output.records("licenses")
    assert not leaked(secrets, stdout, output.stderr)
    # What is not a secret is kept, around what is.
    assert "https://[REDACTED]@siem.example.com/hooks/canary" in stdout
    assert "https://events.pagerduty.com/integration/[REDACTED]/enqueue" in stdout
    assert "https://example.webhook.office.com/webhookb2/[REDACTED]/IncomingWebhook/[REDACTED]" in (
        stdout
    )
    assert '"channel": "#canary-alerts"' in stdout
    assert "https://hooks.slack.com/services/T" in stdout


def test_credentials_in_a_webhook_url_are_redacted_and_the_rest_kept(sim: Simulator) -> None:
    flock_id = sorted(sim.console.flock_ids())[1]
    url = (
        "https://ops:hunter2hunter2@hooks.example.com:8443/alert"
        "?sig=0123abcdsig&team=red&api_key=k3yk3yk3y"
    )
    sim.console.add_webhook(url, flock_id=flock_id)
    rows = by_key(sync_in_process(config_for(sim)))
    urls = [h["url"] for h in rows[flock_id, "webhooks.generic_webhooks"]["value"]["webhooks"]]
    assert urls[-1] == (
        f"https://{REDACTED}@hooks.example.com:8443/alert?sig={REDACTED}&team=red&api_key={REDACTED}"
    )
    assert "hunter2" not in urls[-1]
    assert "0123abcdsig" not in urls[-1]
    assert "k3yk3y" not in urls[-1]


def test_a_secret_met_in_the_settings_is_scrubbed_from_a_later_error(
    sim: Simulator, run_cli: RunCli
) -> None:
    """A console that quotes, in a later error, a webhook credential the tap has met: the
    message is logged without it."""
    secrets = planted_secrets(sim.console)
    echoed = [secrets["console webhook password"], secrets["console PagerDuty integration key"]]

    def respond(request: Request) -> Reply:
        if request.path.startswith("/flock/settings/"):
            message = f"Webhooks {' and '.join(echoed)} are failing"
            body = json.dumps({"result": "error", "message": message}).encode()
            return Reply(status=400, body=body)
        upstream = requests.get(
            sim.base_url + request.path, params=request.params, headers=_auth(request), timeout=30
        )
        return Reply(status=upstream.status_code, body=upstream.content)

    with ScriptedConsole(respond) as proxy:
        output = run_cli(config_for(sim, base_url=proxy.base_url))
    assert output.returncode != 0
    assert "are failing" in output.stderr
    assert not leaked({"echoed": echoed[0], "echoed too": echoed[1]}, output.stderr)
    assert f"Webhooks {REDACTED} and {REDACTED} are failing" in output.stderr


def _auth(request: Request) -> dict[str, str]:
    return {"X-Canary-Auth-Token": request.headers.get("x-canary-auth-token", "")}


def test_with_redaction_off_secrets_are_kept_as_the_console_sent_them(sim: Simulator) -> None:
    secrets = planted_secrets(sim.console)
    rows = by_key(sync_in_process(config_for(sim, redact_secrets=False)))
    flock_id = next(f for f in sim.console.flock_ids() if f"{f} Splunk HEC token" in secrets)
    assert (
        rows[flock_id, "webhooks.splunk_webhook"]["value"]["token"]
        == (secrets[f"{flock_id} Splunk HEC token"])
    )
    console_hooks = sim.console.estate.console_webhooks["generic_webhooks"]
    assert rows["console", "webhooks.generic_webhooks"]["value"]["webhooks"] == console_hooks


def test_a_read_only_key_skips_settings_and_licenses_with_a_warning(
    make_simulator: MakeSimulator, run_cli: RunCli
) -> None:
    sim = make_simulator(seed=11, incidents=5, tokens=3, audit_days=2, key_type="read-only")
    output = run_cli(config_for(sim))
    assert output.returncode == 0, output.stderr
    assert output.counts()["settings"] == 0
    assert output.counts()["licenses"] == 0
    for stream in ("settings", "licenses"):
        warnings = [line for line in output.stderr_lines if f"{stream} skipped for console" in line]
        assert len(warnings) == 1, output.stderr
        assert "WARNING" in warnings[0]
        assert "needs an admin API key" in warnings[0]
    # The rest syncs and bookmarks.
    assert len(output.records("incidents")) == sim.console.incident_count()
    assert len(output.records("birds")) == len(sim.console.birds())
    bookmarks = output.last_state["bookmarks"]["incidents"]["partitions"]
    assert bookmarks
    assert bookmarks[0]["context"] == {"console": "127.0.0.1"}


def test_a_sync_restricted_to_a_flock_reads_the_console_and_that_flock(sim: Simulator) -> None:
    flock_id = sorted(sim.console.flock_ids())[2]
    requests_before = len(sim.requests)
    output = sync_in_process(config_for(sim, flock_id=flock_id))
    assert {row["scope"] for row in output.records("settings")} == {"console", flock_id}
    asked = {
        request.params.get("flock_id")
        for request in sim.requests[requests_before:]
        if request.path.startswith("/flock/settings/")
    }
    assert asked == {flock_id}


def test_the_redactor_keeps_what_is_not_a_credential() -> None:
    redactor = Redactor()
    assert redactor.url("https://siem.example.com/hooks?channel=alerts") == (
        "https://siem.example.com/hooks?channel=alerts"
    )
    assert redactor.value({"enabled": True, "host": "h", "token": "abcdefgh1234"}) == {
        "enabled": True,
        "host": "h",
        "token": REDACTED,
    }
    assert redactor.secrets == {"abcdefgh1234"}


def test_settings_rows_are_written_as_the_schema_says(sim: Simulator) -> None:
    output = sync_in_process(config_for(sim))
    schema = next(
        m["schema"] for m in output.messages if m["type"] == "SCHEMA" and m["stream"] == "settings"
    )
    for row in output.records("settings"):
        assert set(row) == set(schema["properties"])
        assert row["value"] is None or isinstance(row["value"], dict)
