"""The private members of singer-sdk the tap still overrides or reads: each test fails if the
SDK stops calling the override, or changes what the tap reads, so an SDK upgrade that breaks
one says so here instead of quietly changing the tap's behaviour."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import signal
from collections import Counter
from typing import Any

import pytest

from canary_simulator import Simulator
from tap_thinkst_canary import interruption
from tap_thinkst_canary.client import CanaryStream
from tap_thinkst_canary.errors import ConfigError
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.tap import parse_messages


def test_record_messages_come_from_the_tap_s_own_writer_paths(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With no stream map to apply, every stream writes its own messages, and the counter it
    gets from `get_record_counter` (a public hook) counts them in the SDK's metrics. With one,
    `Stream._generate_record_messages` is overridden to skip the SDK's per-record walk."""
    through_the_sdk: Counter[str] = Counter()
    original = CanaryStream._generate_record_messages

    def counting(self: CanaryStream, record: dict[str, Any]) -> Any:
        through_the_sdk[self.name] += 1
        return original(self, record)

    monkeypatch.setattr(CanaryStream, "_generate_record_messages", counting)

    def sync(**settings: Any) -> Counter[str]:
        stdout = io.StringIO()
        tap = TapThinkstCanary(
            config={"base_url": simulator.base_url, "auth_token": simulator.auth_token, **settings}
        )
        with contextlib.redirect_stdout(stdout):
            tap.sync_all()
        messages = parse_messages(stdout.getvalue())
        return Counter(m["stream"] for m in messages if m["type"] == "RECORD")

    with caplog.at_level(logging.INFO, logger="singer_sdk.metrics"):
        records = sync()
    assert all(records[name] for name in ("incidents", "incident_events", "birds"))
    assert not through_the_sdk
    counted: Counter[str] = Counter()
    for entry in caplog.records:
        metric = json.loads(entry.getMessage().removeprefix("METRIC: "))
        if metric["metric"] == "record_count":
            counted[metric["tags"]["stream"]] += metric["value"]
    assert counted == records

    mapped = sync(stream_maps={"birds": {"__filter__": "True"}})
    assert through_the_sdk == {"birds": mapped["birds"]}


def test_the_settings_are_checked_by_the_tap_s_own_validation() -> None:
    """`PluginBase._validate_config` is overridden so a bad setting is the tap's one-line
    error, not the JSON-schema validator's list."""
    with pytest.raises(ConfigError, match="unknown setting `domian`; did you mean `domain`"):
        TapThinkstCanary(config={"domian": "ab12cd34", "auth_token": "x" * 32})


def test_the_tap_installs_its_own_signal_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PluginBase._setup_signal_handlers` is overridden: the SDK's handler writes a STATE
    from inside itself, in the middle of whatever message is being written."""
    installed: list[bool] = []
    monkeypatch.setattr(interruption.INTERRUPTION, "install", lambda: installed.append(True))
    before = signal.getsignal(signal.SIGTERM)
    TapThinkstCanary(config={"domain": "ab12cd34", "auth_token": "x" * 32})
    assert installed == [True]
    assert signal.getsignal(signal.SIGTERM) is before  # the SDK's own were not installed


def test_settings_from_the_environment_reach_the_check_before_the_sync(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`PluginBase._env_var_config` is read so that a bad setting given in the environment is
    the one line the run prints, before the SDK logs anything."""
    monkeypatch.setenv("TAP_THINKST_CANARY_DOMAIN", "ab12cd34")
    monkeypatch.setenv("TAP_THINKST_CANARY_PAGE_SIZE", "12345678")
    parsed = TapThinkstCanary._env_var_config
    assert parsed["domain"] == "ab12cd34"
    assert int(parsed["page_size"]) == 12345678
