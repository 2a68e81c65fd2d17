"""The console script as a user runs it: a full sync, a second one from the final state, and the
SDK's built-in commands."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Callable

import pytest
from console_keys import console_counts

from canary_simulator import Simulator
from canary_simulator.estate_api import (
    IGNORED_INCIDENTS_PAGE_SIZE,
)
from tap_thinkst_canary.settings import CONFIG_SCHEMA
from tap_thinkst_canary.streams import STREAM_NAMES
from testkit.tap import TAP_EXECUTABLE, TapRun

# What the `settings` stream asks of each flock.
FLOCK_ENDPOINTS = (
    "whitelisting/info",
    "notifications/info",
    "webhooks/info",
    "webhooks/generic/list",
    "webhooks/is_global",
)


def test_full_sync_then_nothing_new(
    make_simulator: Callable[..., Simulator], run_cli: Callable[..., TapRun]
) -> None:
    sim = make_simulator(seed=9, incidents=450, audit_days=45)
    console = sim.console
    config = {"base_url": sim.base_url, "auth_token": sim.auth_token, "page_size": 100}
    outside_bird_sources = {(a.node_id, a.src_ip) for a in console.estate.outside_bird_alerts}
    suppressed = console.estate.ignored_annotations
    first = run_cli(config)
    assert first.returncode == 0, first.stderr
    assert first.counts() == console_counts(console)
    # A console's pages are fetched at most two ahead of the one being written.
    progress = re.search(
        r"incidents: page 5 fetched; 450 records fetched, (\d+) emitted", first.stderr
    )
    assert progress, first.stderr
    assert 200 <= int(progress[1]) <= 450
    assert "Traceback" not in first.stderr

    sim.clear_request_log()
    second = run_cli(config, state=first.last_state)
    assert second.returncode == 0, second.stderr
    # One request per incremental stream and one per snapshot page (and per bird for its
    # services): no access check on resume.
    assert sim.request_counts() == {
        "/incidents/all": 1,
        "/audit_trail/fetch": 1,
        "/devices/all": 1,
        "/device/info": len(console.bird_ids()),
        "/update/updatable_birds": 1,
        "/updates/list": 1,
        "/devices/commission/pending": 1,
        "/canarytokens/paginate": 1,
        "/flocks/summary": 1,
        "/incidents/outside_bird/search": math.ceil(len(outside_bird_sources) / 100),
        # Read once, for the suppressed incidents and for the settings.
        "/settings/ignored_annotations": 1,
        "/settings/ignored_annotations/incidents": sum(
            math.ceil(count / IGNORED_INCIDENTS_PAGE_SIZE) for count in suppressed.values()
        ),
        # Users: the list, then each user's details; API keys: the global ones, then each flock's.
        "/users/list": 1,
        "/user/get": len(console.user_emails()),
        "/auth_token/list": 1,
        "/flock/auth_token/list": len(console.flock_ids()),
        "/settings": 1,
        "/settings/generic/list": 1,
        "/console/features": 1,
        **{f"/flock/settings/{endpoint}": len(console.flock_ids()) for endpoint in FLOCK_ENDPOINTS},
        "/license/detailed/info": 1,
    }
    assert second.counts()["incidents"] == 0
    assert second.counts()["audit_trail"] == 0
    assert second.counts()["incident_events"] == 0
    assert sim.auth_token not in first.stderr + second.stderr


@pytest.mark.parametrize("output_format", ["json", "markdown"])
def test_about_lists_every_setting_with_title_and_description(output_format: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tap_thinkst_canary", "--about", "--format", output_format],
        capture_output=True,
        text=True,
        check=True,
    )
    for name, spec in CONFIG_SCHEMA["properties"].items():
        assert spec.get("title"), name
        assert spec.get("description"), name
        assert name in done.stdout
    if output_format == "markdown":
        # Indented, the title would render as a code block.
        assert done.stdout.startswith("# `tap-thinkst-canary`\n"), done.stdout[:80]
    if output_format == "json":
        about = json.loads(done.stdout)
        assert about["settings"]["properties"]["auth_token"]["secret"] is True
        # One console's token, or each console's own in `consoles`: neither alone is required.
        assert about["settings"].get("required", []) == []
        console = about["settings"]["properties"]["consoles"]["items"]
        assert set(console["required"]) == {"name", "auth_token"}
        assert console["properties"]["auth_token"]["secret"] is True
        assert about["settings"]["properties"]["consoles"]["secret"] is True
        assert {"state", "catalog", "discover", "stream-maps"} <= set(about["capabilities"])


def test_discover_describes_every_stream(tmp_path: pytest.TempPathFactory) -> None:
    config = tmp_path / "config.json"  # type: ignore[operator]
    config.write_text(json.dumps({"domain": "ab12cd34", "auth_token": "offline-discovery"}))
    done = subprocess.run(
        [str(TAP_EXECUTABLE), "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
    )
    catalog = json.loads(done.stdout)
    entries = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert set(entries) == set(STREAM_NAMES)
    assert entries["incidents"]["replication_key"] == "updated_id"
    assert entries["incidents"]["replication_method"] == "INCREMENTAL"
    assert entries["incident_events"]["key_properties"] == ["console", "incident_id", "position"]
    assert all(entry["key_properties"][0] == "console" for entry in entries.values())
    assert entries["birds"]["replication_method"] == "FULL_TABLE"


def test_connection_test_and_stream_maps(
    simulator: Simulator, run_cli: Callable[..., TapRun]
) -> None:
    config = {"base_url": simulator.base_url, "auth_token": simulator.auth_token}
    tested = run_cli(config, "--test")
    assert tested.returncode == 0, tested.stderr
    # One record of each stream, and a clean log: a dry run stopping early is no error.
    assert tested.counts() == dict.fromkeys(STREAM_NAMES, 1)
    assert not [line for line in tested.stderr_lines if "| ERROR" in line or "WARNING" in line]

    mapped = run_cli(
        {
            **config,
            "stream_maps": {
                "incidents": {"__filter__": "logtype == '4002'", "summary": "summary.upper()"},
                "birds": None,
            },
            "flattening_enabled": True,
            "flattening_max_depth": 1,
        }
    )
    assert mapped.returncode == 0, mapped.stderr
    incidents = mapped.records("incidents")
    assert incidents
    assert {r["logtype"] for r in incidents} == {"4002"}
    assert all(r["summary"] == r["summary"].upper() for r in incidents)
    # The events of the incidents filtered out are not synced either.
    assert {r["logtype"] for r in mapped.records("incident_events")} == {"4002"}
    assert mapped.counts()["birds"] == 0
    # Flattened to depth 1: nested objects arrive as JSON text.
    flocks = mapped.records("flocks")
    assert flocks
    assert all(isinstance(json.loads(r["settings"]), dict) for r in flocks)
