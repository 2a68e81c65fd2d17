"""What a sync emits and how it resumes, against a console that changes between runs."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from canary_simulator import Simulator
from canary_simulator.estate_api import LICENSE_KINDS, expected_settings
from tap_thinkst_canary.api import CanaryApi
from tap_thinkst_canary.errors import ConsoleError, SyncStopped
from tap_thinkst_canary.model.events import EVENT_TABLE
from tap_thinkst_canary.state import console_bookmark
from tap_thinkst_canary.streams import IncidentsStream
from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import TapRun, parse_messages, sync_in_process

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
CONSOLE = "127.0.0.1"  # a console's name, with no `console_name`: the host of its `base_url`
MakeSimulator = Callable[..., Simulator]
Freeze = Callable[[datetime.datetime], None]


def config_for(sim: Simulator, **settings: Any) -> dict[str, Any]:
    return {"base_url": sim.base_url, "auth_token": sim.auth_token, **settings}


def ids(output: TapRun, stream: str, key: str = "id") -> list[Any]:
    return [record[key] for record in output.records(stream)]


@pytest.fixture
def changing_console(make_simulator: MakeSimulator, frozen_now: Freeze) -> Simulator:
    frozen_now(NOW)
    return make_simulator(seed=5, incidents=60, audit_days=12, tokens=12, now=NOW)


def test_incremental_syncs_emit_exactly_what_changed(
    changing_console: Simulator, frozen_now: Freeze
) -> None:
    sim, console = changing_console, changing_console.console
    config = config_for(sim, page_size=25)
    first = sync_in_process(config)
    assert set(ids(first, "incidents")) == console.incident_ids()
    assert set(ids(first, "audit_trail")) == console.audit_ids()
    assert len(first.records("incident_events")) == console.event_count()

    added = console.add_incidents(3)
    acknowledged_id = sorted(console.incident_ids() - set(added))[0]
    console.acknowledge(acknowledged_id)
    audit_today = console.add_audit_entries(4)
    tomorrow = console.advance(days=1)
    frozen_now(tomorrow)
    audit_tomorrow = console.add_audit_entries(2)

    second = sync_in_process(config, state=first.last_state)
    assert sorted(ids(second, "incidents")) == sorted([*added, acknowledged_id])
    acknowledged = next(r for r in second.records("incidents") if r["id"] == acknowledged_id)
    assert acknowledged["acknowledged"] is True
    assert {r["incident_id"] for r in second.records("incident_events")} == {
        *added,
        acknowledged_id,
    }
    assert ids(second, "audit_trail") == [*audit_today, *audit_tomorrow]
    # Snapshots come whole every time.
    assert set(ids(second, "birds")) == console.bird_ids()
    assert set(ids(second, "tokens", "canarytoken")) == console.token_ids()

    third = sync_in_process(config, state=second.last_state)
    assert third.counts()["incidents"] == 0
    assert third.counts()["incident_events"] == 0
    assert third.counts()["audit_trail"] == 0


def test_audit_trail_days_come_in_order_sorted_and_checkpointed(
    changing_console: Simulator,
) -> None:
    sim, console = changing_console, changing_console.console
    output = sync_in_process(config_for(sim, page_size=7, audit_trail_window_days=5))
    entries = output.records("audit_trail")
    days = [entry["timestamp"][:10] for entry in entries]
    assert days == sorted(days)
    for day in set(days):
        day_ids = [entry["id"] for entry in entries if entry["timestamp"][:10] == day]
        assert day_ids == sorted(day_ids)
    assert {entry["id"] for entry in entries} == console.audit_ids()
    resume_days = [
        day
        for state in output.states
        if (day := console_bookmark(state, "audit_trail", CONSOLE).get("resume_day"))
    ]
    # One checkpoint per day, each a day further, up to today which is never "finished".
    distinct = list(dict.fromkeys(resume_days))
    assert distinct == sorted(distinct)
    assert distinct[-1] == NOW.date().isoformat()
    assert len(distinct) >= 12
    windows = [
        r.params
        for r in sim.requests
        if r.path == "/audit_trail/fetch" and "start_date" in r.params
    ]
    assert len(windows) == 3  # 13 days in windows of 5


def test_an_interrupted_sync_resumes_without_losing_records(
    changing_console: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, console = changing_console, changing_console.console
    config = config_for(sim, page_size=10, audit_trail_window_days=4)
    real_get = CanaryApi.get
    calls = {"/incidents/all": 0, "/audit_trail/fetch": 0}

    def stop_at(limits: dict[str, int]) -> Callable[..., Any]:
        def get(api: CanaryApi, endpoint: str, params: Any = None, **options: Any) -> Any:
            if endpoint in limits:
                calls[endpoint] += 1
                if calls[endpoint] > limits[endpoint]:
                    raise ConsoleError("stopped by the test")
            return real_get(api, endpoint, params, **options)

        return get

    outputs: list[TapRun] = []
    state: dict[str, Any] | None = None
    for limits in ({"/audit_trail/fetch": 3}, {"/incidents/all": 3}, {}):
        calls.update(dict.fromkeys(calls, 0))
        monkeypatch.setattr(CanaryApi, "get", stop_at(limits))
        captured = _sync_until_stopped(config, state)
        outputs.append(captured)
        state = captured.last_state
    first, second, last = outputs
    assert first.counts()["incidents"] == 0  # stopped in the audit trail, which comes first
    assert 0 < second.counts()["incidents"] < console.incident_count()
    union = {(s, key) for output in outputs for s in output.counts() for key in output.keys(s)}
    name = "127.0.0.1"  # the console's name: the host of its `base_url`
    expected = {("incidents", (name, i)) for i in console.incident_ids()}
    expected |= {("audit_trail", (name, i)) for i in console.audit_ids()}
    assert expected <= union
    events = {key for output in outputs for key in output.keys("incident_events")}
    assert len(events) == console.event_count()
    # The resumed run starts at the page after the last one checkpointed.
    assert not set(ids(last, "incidents")) & set(ids(second, "incidents"))


def _sync_until_stopped(config: dict[str, Any], state: dict[str, Any] | None) -> TapRun:
    stdout = io.StringIO()
    tap = TapThinkstCanary(config=config, state=state)
    with contextlib.redirect_stdout(stdout), contextlib.suppress(SyncStopped):
        tap.sync_all()
    return TapRun(parse_messages(stdout.getvalue()))


def test_start_date_skips_older_history_on_the_first_sync_only(
    changing_console: Simulator,
) -> None:
    sim, console = changing_console, changing_console.console
    updated = {
        incident["id"]: int(incident["updated_time"]) for incident in console.iter_incidents()
    }
    median = sorted(updated.values())[len(updated) // 2]
    start = datetime.datetime.fromtimestamp(median, UTC)
    config = config_for(sim, start_date=start.isoformat())
    first = sync_in_process(config)
    recent = {i for i, when in updated.items() if when >= median}
    assert recent
    assert recent != set(updated)
    assert set(ids(first, "incidents")) == recent
    assert set(ids(first, "audit_trail")) == console.audit_ids(start=start.date())
    assert console_bookmark(first.last_state, "incidents", CONSOLE)["replication_key_value"] == max(
        console.max_updated_id(), 0
    )
    # Later, an old incident that gets acknowledged comes back, start_date notwithstanding.
    oldest = min(updated, key=updated.__getitem__)
    console.acknowledge(oldest)
    second = sync_in_process(config, state=first.last_state)
    assert ids(second, "incidents") == [oldest]


def test_requests_ask_for_utc_and_page_by_cursor_alone(changing_console: Simulator) -> None:
    sim = changing_console
    sync_in_process(config_for(sim, page_size=20))
    for path in ("/incidents/all", "/audit_trail/fetch", "/devices/all"):
        first_pages = [
            r.params for r in sim.requests if r.path == path and "cursor" not in r.params
        ]
        assert first_pages, path
        assert all(p.get("tz") == "UTC" for p in first_pages), path
    later_pages = [r.params for r in sim.requests if "cursor" in r.params]
    assert later_pages
    assert all(set(p) == {"cursor"} for p in later_pages)
    assert all("auth_token" not in r.params for r in sim.requests)


def test_audit_entries_are_split_by_their_utc_day(
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
    frozen_now: Freeze,
) -> None:
    frozen_now(NOW)
    # 01:30 at UTC+2 on the 9th is 23:30 UTC on the 8th; 23:30 at UTC-5 on the 8th is the 9th.
    entries = [
        {"id": 7, "timestamp": "2026-03-09 01:30:00 UTC+0200", "action_type": "a"},
        {"id": 5, "timestamp": "2026-03-08 23:30:00 UTC-0500", "action_type": "b"},
        {"id": 6, "timestamp": "2026-03-08 10:00:00 UTC+0000", "action_type": "c"},
    ]

    def respond(request: Request) -> Reply:
        body: dict[str, Any] = {"result": "success", "cursor": {"next": None}}
        if request.path == "/audit_trail/fetch":
            body["audit_trail"] = entries
        return Reply(200, json.dumps(body).encode())

    console = scripted_console(respond)
    catalog = _only("audit_trail")
    output = sync_in_process(
        {
            "base_url": console.base_url,
            "auth_token": "scripted-token",
            "start_date": "2026-03-08T00:00:00Z",
        },
        catalog=catalog,
    )
    assert [(r["id"], r["timestamp"]) for r in output.records("audit_trail")] == [
        (6, "2026-03-08T10:00:00Z"),
        (7, "2026-03-08T23:30:00Z"),
        (5, "2026-03-09T04:30:00Z"),
    ]


def test_days_without_entries_still_move_the_bookmark(
    make_simulator: MakeSimulator, frozen_now: Freeze
) -> None:
    frozen_now(NOW)
    sim = make_simulator(seed=2, incidents=0, audit_days=0, now=NOW)
    console = sim.console
    early = console.add_audit_entries(2, day=NOW.date() - datetime.timedelta(days=9))
    late = console.add_audit_entries(1, day=NOW.date() - datetime.timedelta(days=2))
    start = (NOW - datetime.timedelta(days=10)).date().isoformat()
    output = sync_in_process(config_for(sim, start_date=start, audit_trail_window_days=3))
    assert ids(output, "audit_trail") == [*early, *late]
    bookmark = console_bookmark(output.last_state, "audit_trail", CONSOLE)
    assert bookmark["resume_day"] == NOW.date().isoformat()
    assert bookmark["resume_after_id"] is None
    again = sync_in_process(config_for(sim), state=output.last_state)
    assert again.counts()["audit_trail"] == 0


def test_an_empty_console(make_simulator: MakeSimulator, frozen_now: Freeze) -> None:
    frozen_now(NOW)
    sim = make_simulator(seed=4, incidents=0, birds=0, tokens=0, audit_days=0, flocks=1, now=NOW)
    # The simulator's console always has birds waiting to be commissioned, suppressed
    # incidents that do not depend on its size, its users and the API keys of its one flock
    # and its own.
    expected = {
        "flocks": 1,
        "bird_registrations": len(sim.console.estate.pending_birds),
        "ignored_incidents": sum(sim.console.estate.ignored_annotations.values()),
        "users": len(sim.console.user_emails()),
        "api_keys": len(sim.console.api_key_ids()),
        # Settings and licenses are the console's own, birds or not.
        "settings": len(expected_settings(sim.console)),
        "licenses": len(LICENSE_KINDS),
    }
    output = sync_in_process(config_for(sim))
    assert output.counts() == expected
    again = sync_in_process(config_for(sim), state=output.last_state)
    assert again.counts() == expected


def test_undocumented_fields_are_kept_in_extra(
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
    frozen_now: Freeze,
) -> None:
    frozen_now(NOW)
    incident = {
        "id": "incident:x",
        "updated_id": 4,
        "updated_time": "1773000000",
        "brand_new_field": {"nested": [1, 2]},
        "description": {"logtype": "4002", "events": [], "new_in_description": "yes"},
    }
    bird = {"id": "bird1", "live": True, "mystery_toggle": "on"}

    def respond(request: Request) -> Reply:
        body: dict[str, Any] = {"result": "success", "cursor": {"next": None}}
        if request.path == "/incidents/all":
            body["incidents"] = [incident]
        if request.path == "/devices/all":
            body["devices"] = [bird]
        return Reply(200, json.dumps(body).encode())

    console = scripted_console(respond)
    output = sync_in_process({"base_url": console.base_url, "auth_token": "scripted-token"})
    (record,) = output.records("incidents")
    assert record["extra"]["brand_new_field"] == {"nested": [1, 2]}
    assert record["extra"]["description"]["new_in_description"] == "yes"
    (bird_record,) = output.records("birds")
    assert bird_record["extra"]["mystery_toggle"] == "on"


def test_tokens_are_redacted_unless_asked_not_to(
    make_simulator: MakeSimulator, frozen_now: Freeze
) -> None:
    frozen_now(NOW)
    sim = make_simulator(seed=5, incidents=0, tokens=60, now=NOW)
    secrets = [
        token[field]
        for token in sim.console.tokens()
        for field in ("secret_access_key", "factory_auth")
        if token.get(field)
    ]
    assert secrets  # the console really holds some
    catalog = _only("tokens")
    redacted = json.dumps(sync_in_process(config_for(sim), catalog=catalog).records("tokens"))
    clear = json.dumps(
        sync_in_process(config_for(sim, redact_secrets=False), catalog=catalog).records("tokens")
    )
    assert all(secret not in redacted for secret in secrets)
    assert all(secret in clear for secret in secrets)
    assert "[REDACTED]" in redacted


def test_flock_id_restricts_everything_but_the_audit_trail(changing_console: Simulator) -> None:
    sim, console = changing_console, changing_console.console
    flock = sorted(console.flock_ids())[0]
    output = sync_in_process(config_for(sim, flock_id=flock))
    assert {r["flock_id"] for r in output.records("incidents")} <= {flock}
    assert {r["flock_id"] for r in output.records("birds")} <= {flock}
    assert {r["flock_id"] for r in output.records("tokens")} <= {flock}
    assert ids(output, "flocks", "flock_id") == [flock]
    assert set(ids(output, "audit_trail")) == console.audit_ids()
    incident_pages = [r.params for r in sim.requests if r.path == "/incidents/all"]
    assert all(p.get("flock_id") == flock for p in incident_pages if "cursor" not in p)


def test_birds_take_their_flock_from_the_flocks_summary(
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    """The published `/devices/all` objects carry no `flock_id`: a flock filter must not drop
    them, and every bird still says which flock it is in."""
    birds = {"devices": [{"id": "node-a", "name": "a"}, {"id": "node-b", "name": "b"}]}
    flocks = {
        "flocks_summary": {
            "flock:default": {"name": "Default", "devices": ["node-a", "token-x"]},
            "flock:dmz": {"name": "DMZ", "devices": ["node-b"]},
        }
    }
    answers = {"/ping": {}, "/devices/all": birds, "/flocks/summary": flocks}

    def respond(request: Request) -> Reply:
        return Reply(body=json.dumps({"result": "success", **answers[request.path]}).encode())

    console = scripted_console(respond)
    config = {"base_url": console.base_url, "auth_token": "scripted-token-0123456789abcdef01"}
    every_flock = sync_in_process(config, catalog=_only("birds"))
    assert {r["id"]: r["flock_id"] for r in every_flock.records("birds")} == {
        "node-a": "flock:default",
        "node-b": "flock:dmz",
    }
    one_flock = sync_in_process({**config, "flock_id": "flock:dmz"}, catalog=_only("birds"))
    assert [r["id"] for r in one_flock.records("birds")] == ["node-b"]

    console.requests.clear()
    sync_in_process(config, catalog=_only_these("birds", "flocks"))
    # Birds and flocks share one answer of the flocks' summary.
    paths = Counter(r.path for r in console.requests)
    assert paths == {"/ping": 1, "/devices/all": 1, "/flocks/summary": 1}


@pytest.mark.parametrize("stream", ["incidents", "audit_trail", "birds"])
def test_a_first_sync_asks_for_ping_first_whichever_stream_it_starts_with(
    changing_console: Simulator, stream: str
) -> None:
    """The access check is the first request of a sync without a state, also when the first
    stream selected is incremental (the SDK writes its starting value into the state first)."""
    changing_console.clear_request_log()
    output = sync_in_process(config_for(changing_console), catalog=_only(stream))
    assert output.records(stream)
    assert changing_console.requests[0].path == "/ping"
    assert Counter(r.path for r in changing_console.requests)["/ping"] == 1

    changing_console.clear_request_log()
    sync_in_process(config_for(changing_console), state=output.last_state, catalog=_only(stream))
    assert "/ping" not in {r.path for r in changing_console.requests}


def test_incidents_carry_their_events_as_sent_and_only_incident_events_types_them(
    changing_console: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = changing_console.console
    sent = {raw["id"]: raw["description"]["events"] for raw in console.iter_incidents(tz="UTC")}
    assert sum(map(len, sent.values())) == console.event_count() > 0

    def typed(*args: Any) -> None:
        raise AssertionError("an event was typed")

    with monkeypatch.context() as patched:
        patched.setattr(EVENT_TABLE, "fill", typed)
        alone = sync_in_process(config_for(changing_console), catalog=_only("incidents"))
    assert alone.counts() == {"incidents": len(sent)}
    assert {record["id"]: record["events"] for record in alone.records("incidents")} == sent

    both = sync_in_process(config_for(changing_console))
    assert {record["id"]: record["events"] for record in both.records("incidents")} == sent
    rows = both.records("incident_events")
    assert len(rows) == console.event_count()
    assert all("timestamp" in row and row["timestamp"].endswith("Z") for row in rows)


def _only(stream: str) -> dict[str, Any]:
    """A catalog that selects one stream."""
    return _only_these(stream)


def _only_these(*streams: str) -> dict[str, Any]:
    """A catalog that selects these streams."""
    catalog = TapThinkstCanary(
        config={"base_url": "http://127.0.0.1:9/api/v1", "auth_token": "scripted-token"}
    ).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


@pytest.mark.parametrize(("page_size", "most_probes"), [(1000, 1), (20, 16)])
def test_without_start_date_the_audit_trail_starts_at_its_oldest_entry(
    make_simulator: MakeSimulator, frozen_now: Freeze, page_size: int, most_probes: int
) -> None:
    frozen_now(NOW)
    sim = make_simulator(seed=8, incidents=0, audit_days=40, now=NOW)
    output = sync_in_process(config_for(sim, page_size=page_size, audit_trail_window_days=10))
    entries = output.records("audit_trail")
    assert {entry["id"] for entry in entries} == sim.console.audit_ids()
    audit_requests = [r.params for r in sim.requests if r.path == "/audit_trail/fetch"]
    probes = [p for p in audit_requests if "end_date" in p and "start_date" not in p]
    assert 1 <= len(probes) <= most_probes
    windows = [p for p in audit_requests if "start_date" in p]
    first_asked = min(datetime.date.fromisoformat(p["start_date"]) for p in windows)
    oldest = datetime.date.fromisoformat(min(entry["timestamp"] for entry in entries)[:10])
    # Not a day of history missed, and no long run of empty windows before it.
    assert oldest - datetime.timedelta(days=3) <= first_asked < oldest


def test_no_state_claims_an_incident_before_its_events_are_out(
    changing_console: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK also writes a STATE every so many records, in the middle of a page: make it often.
    monkeypatch.setattr(IncidentsStream, "STATE_MSG_FREQUENCY", 7)
    output = sync_in_process(config_for(changing_console, page_size=10))
    events_seen: Counter[str] = Counter()
    incidents_seen: dict[str, dict[str, Any]] = {}
    checked_states = 0
    for message in output.messages:
        if message["type"] == "RECORD" and message["stream"] == "incident_events":
            events_seen[message["record"]["incident_id"]] += 1
        elif message["type"] == "RECORD" and message["stream"] == "incidents":
            incidents_seen[message["record"]["id"]] = message["record"]
        elif message["type"] == "STATE":
            bookmark = console_bookmark(message["value"], "incidents", CONSOLE)
            claimed = bookmark.get("replication_key_value") or 0
            for incident in incidents_seen.values():
                if incident["updated_id"] <= claimed:
                    assert events_seen[incident["id"]] == len(incident["events"]), incident["id"]
            checked_states += 1
    assert checked_states > changing_console.console.incident_count() / 7


def test_the_streams_that_write_their_own_records_write_what_the_sdk_would(
    simulator: Simulator,
) -> None:
    """A stream map that keeps every record (a filter that is always true) hands each record
    to the SDK, one at a time; without one, every stream writes its own messages, follows its
    child streams and moves its bookmark. Both syncs write the same records in the same order,
    and end in the same state."""
    streams = list(TapThinkstCanary(config=config_for(simulator)).streams)
    keep_all = {"stream_maps": {name: {"__filter__": "True"} for name in streams}}
    by_the_sdk = sync_in_process(config_for(simulator, **keep_all))
    written_directly = sync_in_process(config_for(simulator))

    def messages(run: TapRun) -> list[tuple[str, dict[str, Any]]]:
        return [(m["stream"], m["record"]) for m in run.record_messages]

    assert messages(written_directly) == messages(by_the_sdk)
    assert written_directly.last_state == by_the_sdk.last_state
    assert {stream for stream, _ in messages(written_directly)} == set(streams)
    times = {m["time_extracted"][-6:] for m in written_directly.record_messages}
    assert times == {"+00:00"}
