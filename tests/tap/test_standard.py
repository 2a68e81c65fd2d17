"""The Singer SDK's standard tap tests, against the console simulator, and a primary key check
they lack: every record of a full sync has its own key."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from singer_sdk.testing import get_tap_test_class

from canary_simulator import Console, Simulator
from tap_thinkst_canary.streams import STREAM_TYPES
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.tap import sync_in_process

AUTH_TOKEN = "standard-tests-token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The SDK builds its test class, and the tap's streams, when this module is imported, so the
# address must be known then; the simulator itself only runs while the class's tests do.
PORT = _free_port()
CONFIG = {
    "base_url": f"http://127.0.0.1:{PORT}/api/v1",
    "auth_token": AUTH_TOKEN,
    "page_size": 50,
}

StandardTests = get_tap_test_class(TapThinkstCanary, config=CONFIG)


class TestStandard(StandardTests):  # type: ignore[misc, valid-type]
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def console_simulator(cls) -> Iterator[Simulator]:
        console = Console(seed=11, incidents=120, audit_days=20)
        with Simulator(console, auth_token=AUTH_TOKEN, port=PORT) as sim:
            yield sim


def test_primary_keys_are_unique_and_complete(simulator: Simulator) -> None:
    console = simulator.console
    output = sync_in_process(
        {"base_url": simulator.base_url, "auth_token": simulator.auth_token, "page_size": 37}
    )
    console_name = "127.0.0.1"  # the host of `base_url`, with no `console_name` set
    for stream_type in STREAM_TYPES:
        keys = output.keys(stream_type.name)
        assert keys, stream_type.name
        assert len(keys) == len(set(keys)), f"duplicate keys in {stream_type.name}"
        assert {key[0] for key in keys} == {console_name}, stream_type.name
    assert {key for (_, key) in output.keys("incidents")} == console.incident_ids()
    assert len(output.keys("incident_events")) == console.event_count()
    assert {key for (_, key) in output.keys("audit_trail")} == console.audit_ids()
    assert {key for (_, key) in output.keys("birds")} == console.bird_ids()
    assert {key for (_, key) in output.keys("tokens")} == console.token_ids()
    assert {key for (_, key) in output.keys("flocks")} == console.flock_ids()
