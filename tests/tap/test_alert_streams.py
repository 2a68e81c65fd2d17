"""The alerts that never reach `/incidents/all`: Outside Bird alerts and the incidents ignored
annotations suppressed, synced against the simulator."""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from canary_simulator import Console, Simulator
from tap_thinkst_canary.client import DELETED_AT
from tap_thinkst_canary.errors import CursorRejectedError
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import run_tap, sync_in_process

UTC = datetime.timezone.utc
MakeSimulator = Callable[..., Simulator]
OUTSIDE = "outside_bird_incidents"
IGNORED = "ignored_incidents"


def config_for(sim: Simulator, **settings: Any) -> dict[str, Any]:
    # A small page, so that both streams page.
    return {"base_url": sim.base_url, "auth_token": sim.auth_token, "page_size": 7, **settings}


def only(*streams: str) -> dict[str, Any]:
    """A catalog that selects these streams."""
    catalog = TapThinkstCanary(
        config={"base_url": "http://127.0.0.1:9/api/v1", "auth_token": "scripted-token"}
    ).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def outside_alerts_by_source(console: Console) -> dict[tuple[str, str], Counter[str]]:
    """The simulator's own Outside Bird alerts: services counted per bird and source."""
    by_source: dict[tuple[str, str], Counter[str]] = {}
    for alert in console.estate.outside_bird_alerts:
        by_source.setdefault((alert.node_id, alert.src_ip), Counter())[alert.service] += 1
    return by_source


def suppressed_incidents(console: Console) -> list[tuple[str, dict[str, Any]]]:
    """The simulator's own suppressed incidents, with the annotation of each."""
    return [
        (name, console.suppressed_incident(name, position, UTC))
        for name, count in console.estate.ignored_annotations.items()
        for position in range(count)
    ]


@pytest.fixture
def sim(make_simulator: MakeSimulator) -> Simulator:
    return make_simulator(seed=5, incidents=20, tokens=12)


def test_outside_bird_alerts_are_the_consoles_own(sim: Simulator) -> None:
    output = sync_in_process(config_for(sim), catalog=only(OUTSIDE))
    expected = outside_alerts_by_source(sim.console)
    records = output.records(OUTSIDE)

    assert len(expected) > 7  # more than one page
    assert sorted(output.keys(OUTSIDE)) == sorted(
        ("127.0.0.1", node_id, address) for node_id, address in expected
    )
    for record in records:
        services = expected[(record["node_id"], record["ip_address"])]
        assert record["incident_counts"] == dict(services)
        assert record["alert_count"] == sum(services.values())
        assert record["flock_id"] == sim.console.bird(record["node_id"])["flock_id"]
        assert record["extra"] is None
    total = sum(record["alert_count"] for record in records)
    assert total == sim.console.outside_bird_alert_count()
    assert all(type(n) is int for r in records for n in r["incident_counts"].values())


def test_each_sync_takes_the_outside_bird_alerts_as_they_are_now(sim: Simulator) -> None:
    first = sync_in_process(config_for(sim), catalog=only(OUTSIDE))
    node_id, address = next(iter(outside_alerts_by_source(sim.console)))
    sim.console.add_outside_bird_alerts(25)
    sim.console.delete_outside_bird_alerts(node_id, address)

    again = sync_in_process(config_for(sim), state=first.last_state, catalog=only(OUTSIDE))
    expected = outside_alerts_by_source(sim.console)
    live = [r for r in again.records(OUTSIDE) if r["_sdc_deleted_at"] is None]
    counts = {(r["node_id"], r["ip_address"]): r["alert_count"] for r in live}
    assert counts == {source: sum(services.values()) for source, services in expected.items()}
    assert (node_id, address) not in counts
    # The pair the console no longer has comes as a tombstone: its key, marked deleted.
    gone = [r for r in again.records(OUTSIDE) if r["_sdc_deleted_at"] is not None]
    assert [(r["node_id"], r["ip_address"], r["alert_count"]) for r in gone] == [
        (node_id, address, None)
    ]


def test_suppressed_incidents_are_the_consoles_own_with_their_annotation(sim: Simulator) -> None:
    output = sync_in_process(config_for(sim), catalog=only(IGNORED))
    expected = suppressed_incidents(sim.console)
    records = output.records(IGNORED)

    assert len(expected) == sum(sim.console.estate.ignored_annotations.values()) > 10
    assert len(records) == len(expected)
    keys = output.keys(IGNORED)
    assert len(set(keys)) == len(keys)  # the derived key tells every incident apart
    assert Counter(record["annotation"] for record in records) == Counter(
        name for name, _ in expected
    )
    listed = {
        annotation["name"]: annotation
        for annotation in sim_json(sim, "/settings/ignored_annotations")["ignored_annotations"]
    }
    for record, (name, raw) in zip(records, expected, strict=True):
        assert record["annotation"] == name
        assert record["annotation_nice_name"] == listed[name]["nice_name"]
        assert record["annotation_text"] == listed[name]["text"]
        assert record["annotation_kb_link"] == listed[name]["kb_link"]
        assert record["incident_key"] == "|".join(
            (raw["node_id"], str(raw["logtype"]), raw["src_host"], utc(raw["created"]))
        )
        assert record["created_at"] == utc(raw["created"])
        assert record["acknowledged"] is raw["acknowledged"]
        assert record["notified"] is False
        assert record["src_port"] == raw["src_port"]
        assert type(record["src_port"]) is int
        assert record["events_count"] == raw["events_count"] == len(record["events"])
        assert record["logtype"] == str(raw["logtype"])
        assert record["logtype_name"]
        assert record["matched_annotations"] == raw["matched_annotations"]
        assert record["flock_id"] in sim.console.flock_ids()
        assert record["extra"] is None


def test_suppressed_incidents_follow_the_ignored_annotations(sim: Simulator) -> None:
    first = sync_in_process(config_for(sim), catalog=only(IGNORED))
    sim.console.ignore_annotation("microsoft_safelinks_scan", 3)
    sim.console.ignore_annotation("shodan_scanner", 2)
    sim.console.unignore_annotation("palo_alto_pdf_token_trigger")

    again = sync_in_process(config_for(sim), state=first.last_state, catalog=only(IGNORED))
    live = [r for r in again.records(IGNORED) if r[DELETED_AT] is None]
    assert Counter(r["annotation"] for r in live) == {
        "microsoft_safelinks_scan": 3,
        "shodan_scanner": sim.console.estate.ignored_annotations["shodan_scanner"],
    }
    assert sim.console.estate.ignored_annotations["shodan_scanner"] > 2
    # The incidents of the annotation no longer ignored are no longer suppressed: tombstones.
    unignored = {
        r["incident_key"]
        for r in first.records(IGNORED)
        if r["annotation"] == "palo_alto_pdf_token_trigger"
    }
    assert unignored
    assert {
        (r["annotation"], r["incident_key"])
        for r in again.records(IGNORED)
        if r[DELETED_AT] is not None
    } == {("palo_alto_pdf_token_trigger", key) for key in unignored}


def test_a_flock_restricted_sync_keeps_the_alerts_of_that_flock(sim: Simulator) -> None:
    everything = sync_in_process(config_for(sim), catalog=only(OUTSIDE, IGNORED))
    flocks = Counter(r["flock_id"] for r in everything.records(IGNORED))
    flock_id, _ = flocks.most_common(1)[0]
    assert len(flocks) > 1  # there are other flocks to leave out

    restricted = sync_in_process(config_for(sim, flock_id=flock_id), catalog=only(OUTSIDE, IGNORED))
    for stream in (OUTSIDE, IGNORED):
        assert sorted(restricted.keys(stream)) == sorted(
            key
            for key, record in zip(everything.keys(stream), everything.records(stream), strict=True)
            if record["flock_id"] == flock_id
        )
    assert restricted.records(IGNORED)


def test_a_read_only_key_skips_the_suppressed_incidents_with_one_warning(
    make_simulator: MakeSimulator, tmp_path: Path
) -> None:
    sim = make_simulator(seed=5, incidents=20, key_type="read-only")
    output = run_tap(config_for(sim), tmp_path)

    assert output.returncode == 0, output.stderr
    warnings = [line for line in output.stderr_lines if "WARNING" in line and IGNORED in line]
    assert len(warnings) == 1, output.stderr
    assert "skipped for console" in warnings[0]
    assert "an admin key" in warnings[0]
    counts = output.counts()
    assert counts[IGNORED] == 0
    assert counts[OUTSIDE] == len(outside_alerts_by_source(sim.console))
    assert counts["incidents"] == 20
    bookmarks = output.last_state["bookmarks"]
    assert bookmarks["incidents"]["partitions"][0]["replication_key_value"] > 0


def test_the_token_is_in_no_output_of_either_stream(sim: Simulator, tmp_path: Path) -> None:
    output = run_tap(config_for(sim), tmp_path, args=["--catalog", write_catalog(tmp_path)])

    assert output.returncode == 0, output.stderr
    assert output.counts()[OUTSIDE]
    assert output.counts()[IGNORED]
    assert sim.auth_token not in json.dumps(output.messages)
    assert sim.auth_token not in output.stderr


def test_a_page_number_that_does_not_move_on_stops_the_console(
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    def respond(request: Request) -> Reply:
        answers: dict[str, Any] = {
            "/ping": {"result": "success"},
            "/settings/ignored_annotations": {"ignored_annotations": [{"name": "shodan_scanner"}]},
            "/settings/ignored_annotations/incidents": {
                "ignored_incidents": [{"node_id": "n1", "created": 1700000000}],
                "next_page": 1,
                "page": 1,
            },
        }
        return Reply(body=json.dumps(answers.get(request.path, {"result": "success"})).encode())

    console = scripted_console(respond)
    config = {"base_url": console.base_url, "auth_token": "scripted-token"}
    tap = TapThinkstCanary(config=config, catalog=only(IGNORED))
    stream = tap.streams[IGNORED]
    pages = stream.pages(next(iter(tap.consoles)), None)  # type: ignore[attr-defined]
    assert len(next(pages).records) == 1
    with pytest.raises(CursorRejectedError, match="next page 1"):
        next(pages)


def write_catalog(workdir: Path) -> str:
    path = workdir / "catalog.json"
    path.write_text(json.dumps(only(OUTSIDE, IGNORED)))
    return str(path)


def sim_json(sim: Simulator, path: str) -> Any:
    answer = requests.get(
        sim.base_url + path, headers={"X-Canary-Auth-Token": sim.auth_token}, timeout=10
    )
    return answer.json()


def utc(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
