"""The birds' depth against the simulator: their services (one `/device/info` per selected bird),
the updates they can take and the birds waiting to be commissioned."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from canary_simulator import Console, Simulator, estate
from testkit.tap import TapRun, sync_in_process

CONSOLE = "127.0.0.1"


def small_console(**sizes: Any) -> Console:
    return Console(**{"seed": 11, "incidents": 3, "audit_days": 2, "birds": 8, **sizes})


def sync(sim: Simulator, **settings: Any) -> TapRun:
    return sync_in_process({"base_url": sim.base_url, "auth_token": sim.auth_token, **settings})


def expected_services(console: Console, flock_id: str | None = None) -> set[tuple[str, str, str]]:
    return {
        (CONSOLE, bird["id"], service)
        for bird in console.birds()
        if flock_id is None or console.bird(bird["id"])["flock_id"] == flock_id
        for service in estate.PERSONALITY_SERVICES.get(bird["personality"], {})
    }


def behind_latest(console: Console) -> set[str]:
    latest = estate.version_key(estate.LATEST_FIRMWARE)
    return {b["id"] for b in console.birds() if estate.version_key(b["version"]) < latest}


def device_info_nodes(sim: Simulator) -> list[str]:
    return [r.params["node_id"] for r in sim.requests if r.path == "/device/info"]


def test_every_enabled_service_of_every_bird_typed_with_one_request_per_bird(
    make_simulator: Callable[..., Simulator],
) -> None:
    console = small_console()
    sim = make_simulator(console)
    output = sync(sim)

    assert set(output.keys("bird_services")) == expected_services(console)
    assert len(output.keys("bird_services")) == len(expected_services(console))
    assert sorted(device_info_nodes(sim)) == sorted(console.bird_ids())
    assert all(r.params.get("settings") == "true" for r in sim.requests if r.path == "/device/info")
    # Birds and their services read one answer of `/devices/all`, asked for in UTC.
    (devices_all,) = [r for r in sim.requests if r.path == "/devices/all"]
    assert devices_all.params.get("tz") == "UTC"

    for record in output.records("bird_services"):
        bird = console.bird(record["node_id"])
        settings = estate.PERSONALITY_SERVICES[bird["personality"]][record["service"]]
        assert record["personality"] == bird["personality"]
        assert record["flock_id"] == bird["flock_id"]
        assert record["bird_name"] == bird["name"]
        assert record["port"] == settings.get("port")
        assert record["port"] is None or type(record["port"]) is int
        assert record["banner"] == settings.get("banner")
        assert record["service_version"] == settings.get("version")
        untyped = {k: v for k, v in settings.items() if k not in ("port", "banner", "version")}
        assert record["settings"] == untyped
        assert record["extra"] is None
    smb = [r for r in output.records("bird_services") if r["service"] == "smb"]
    assert smb, "the seed should give some bird an SMB share"
    assert all(r["settings"]["sharename"] for r in smb)


def test_a_flock_restricted_sync_asks_only_about_the_flocks_birds(
    make_simulator: Callable[..., Simulator],
) -> None:
    console = small_console(flocks=4)
    sim = make_simulator(console)
    by_flock: dict[str, set[str]] = {flock: set() for flock in console.flock_ids()}
    for node_id in console.bird_ids():
        by_flock[console.bird(node_id)["flock_id"]].add(node_id)
    flock, birds = max(by_flock.items(), key=lambda item: len(item[1]))
    assert 0 < len(birds) < len(console.bird_ids())

    output = sync(sim, flock_id=flock)

    assert sorted(device_info_nodes(sim)) == sorted(birds)
    assert set(output.keys("bird_services")) == expected_services(console, flock)
    assert {r["id"] for r in output.records("birds")} == birds


def test_a_flock_without_birds_asks_no_bird_about_its_services(
    make_simulator: Callable[..., Simulator],
) -> None:
    console = small_console(flocks=4)
    for node_id in console.bird_ids():
        if console.bird(node_id)["flock_id"] != "flock:default":
            console.remove_bird(node_id)
    empty = next(f for f in console.flock_ids() if f != "flock:default")
    sim = make_simulator(console)

    output = sync(sim, flock_id=empty)

    assert "bird_services" in {m["stream"] for m in output.messages if m["type"] == "SCHEMA"}
    assert output.counts()["bird_services"] == 0
    assert device_info_nodes(sim) == []
    assert output.counts()["birds"] == 0


def test_updatable_birds_from_which_version_to_which(
    make_simulator: Callable[..., Simulator],
) -> None:
    console = small_console()
    behind = behind_latest(console)
    assert 0 < len(behind) < len(console.bird_ids())
    sim = make_simulator(console)
    output = sync(sim)

    assert sorted(output.keys("bird_updates")) == sorted((CONSOLE, b) for b in behind)
    latest = estate.FIRMWARE_UPDATES[-1]
    for record in output.records("bird_updates"):
        bird = console.bird(record["node_id"])
        assert record["current_version"] == bird["version"]
        assert record["available_version"] == latest["version"]
        assert record["flock_id"] == bird["flock_id"]
        assert record["automatic_updates_enabled"] is True
        assert record["update_description"] == latest["description"]
        assert record["update_supported_versions"] == latest["supported_versions"]
        assert record["update_ignored"] is False
        assert record["extra"] is None
    assert sim.request_counts()["/updates/list"] == 1


def test_no_updatable_bird_is_an_empty_snapshot_without_asking_for_updates(
    make_simulator: Callable[..., Simulator],
) -> None:
    console = small_console()
    for node_id in behind_latest(console):
        console.remove_bird(node_id)
    sim = make_simulator(console)
    output = sync(sim)

    assert output.counts()["bird_updates"] == 0
    assert output.counts()["birds"] == len(console.bird_ids()) > 0
    assert sim.request_counts()["/update/updatable_birds"] == 1
    assert "/updates/list" not in sim.request_counts()


def test_a_flock_restricted_sync_asks_for_the_flocks_updatable_birds(
    make_simulator: Callable[..., Simulator],
) -> None:
    console = small_console(flocks=4)
    flock = console.bird(sorted(behind_latest(console))[0])["flock_id"]
    sim = make_simulator(console)
    output = sync(sim, flock_id=flock)

    (asked,) = [r for r in sim.requests if r.path == "/update/updatable_birds"]
    assert asked.params.get("flock_id") == flock
    expected = {b for b in behind_latest(console) if console.bird(b)["flock_id"] == flock}
    assert {r["node_id"] for r in output.records("bird_updates")} == expected


def test_birds_waiting_to_be_commissioned(make_simulator: Callable[..., Simulator]) -> None:
    console = small_console()
    added = console.add_pending_bird()
    pending = console.estate.pending_birds
    sim = make_simulator(console)
    output = sync(sim)

    assert sorted(output.keys("bird_registrations")) == sorted((CONSOLE, n) for n in pending)
    record = next(r for r in output.records("bird_registrations") if r["node_id"] == added)
    bird = pending[added]
    assert record["name"] == bird.name
    assert record["firmware_version"] == bird.device_version
    assert record["live"] is False
    assert record["user"] == bird.user
    since = datetime.datetime.fromtimestamp(bird.pending_since, datetime.timezone.utc)
    assert record["pending_since"] == since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert record["extra"] is None


def test_a_flock_restricted_sync_reads_the_flocks_own_queue(
    make_simulator: Callable[..., Simulator],
) -> None:
    console = small_console(flocks=4)
    flock = sorted(console.flock_ids())[1]
    console.add_pending_bird(flock)
    sim = make_simulator(console)
    output = sync(sim, flock_id=flock)

    expected = {n for n, b in console.estate.pending_birds.items() if b.flock_id == flock}
    assert expected
    assert {r["node_id"] for r in output.records("bird_registrations")} == expected
    assert all(r["flock_id"] == flock for r in output.records("bird_registrations"))
    assert "/devices/commission/pending" not in sim.request_counts()


@pytest.mark.parametrize("key_type", ["read-only", "flock"])
def test_a_key_that_is_not_an_admin_key_syncs_every_bird_stream(
    make_simulator: Callable[..., Simulator], key_type: str
) -> None:
    console = small_console()
    sim = make_simulator(console, key_type=key_type)
    output = sync(sim)

    assert output.counts()["bird_services"] == len(expected_services(console))
    assert output.counts()["bird_updates"] == len(behind_latest(console))
    assert output.counts()["bird_registrations"] == len(console.estate.pending_birds)
