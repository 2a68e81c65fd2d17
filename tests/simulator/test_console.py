"""The console's data: reproducible, rich enough, and changing as time moves on."""

from __future__ import annotations

import gc
import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from importlib import resources

import psutil
import pytest

from canary_simulator import Console, Simulator

from .helpers import api_json, follow_cursor

FIXED_NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=timezone.utc)


def _catalogue() -> list[dict]:
    text = resources.files("canary_simulator").joinpath("logtypes.json").read_text()
    return json.loads(text)


def _snapshot(console: Console) -> dict:
    return {
        "incidents": list(console.iter_incidents()),
        "birds": console.birds(),
        "tokens": console.tokens(),
        "audit": console.audit_entries(),
        "flocks": console.flocks(),
    }


def test_same_seed_same_data() -> None:
    assert _snapshot(Console(seed=3, now=FIXED_NOW)) == _snapshot(Console(seed=3, now=FIXED_NOW))


def test_another_seed_other_data() -> None:
    a, b = Console(seed=3, now=FIXED_NOW), Console(seed=4, now=FIXED_NOW)

    assert a.incident_ids().isdisjoint(b.incident_ids())
    assert a.token_ids().isdisjoint(b.token_ids())


def test_more_incidents_only_appends() -> None:
    small = list(Console(seed=3, incidents=50, now=FIXED_NOW).iter_incidents())
    large = list(Console(seed=3, incidents=65, now=FIXED_NOW).iter_incidents())

    assert large[:50] == small
    assert [i["updated_id"] for i in large[50:]] == list(range(51, 66))


def test_audit_ids_are_stable_across_restarts_the_same_day() -> None:
    morning = Console(seed=3, now=FIXED_NOW.replace(hour=9))
    evening = Console(seed=3, now=FIXED_NOW.replace(hour=21))

    today = FIXED_NOW.date()
    assert morning.audit_ids(end=today - timedelta(days=1)) == evening.audit_ids(
        end=today - timedelta(days=1)
    )
    # Later the same day, today's entries so far keep their ids and more may follow.
    assert morning.audit_ids(today, today) <= evening.audit_ids(today, today)


def test_every_documented_logtype_appears_with_its_fields(console: Console) -> None:
    catalogue = _catalogue()
    seen: dict[str, list[dict]] = {}
    for incident in console.iter_incidents():
        description = incident["description"]
        seen.setdefault(description["logtype"], []).extend(description["events"])

    documented = {code for section in catalogue for code in section["logtypes"]}
    assert documented <= set(seen)
    for section in catalogue:
        fields = {f for f in section["fields"] if f not in ("EVENT_DICT", "timestamp_std")}
        for code in section["logtypes"]:
            events = [e for e in seen[code] if "timestamp" in e]
            if code == "5007":
                continue  # consolidated scans map ports to birds instead of named fields
            assert events, code
            # Codes shared by two sections (17022, 29001) carry one section's fields.
            if code not in ("17022", "29001"):
                assert all(fields - {"timestamp"} <= set(e) for e in events), code


def test_incidents_carry_flock_and_string_typed_fields(console: Console) -> None:
    flocks = console.flocks()
    for incident in console.iter_incidents():
        description = incident["description"]
        assert description["flock_id"] in flocks
        assert description["flock_name"] == flocks[description["flock_id"]]["name"]
        for field in ("created", "events_count", "src_port", "dst_port", "logtype"):
            assert isinstance(description[field], str)
            assert description[field].isdigit()
        assert description["acknowledged"] in ("True", "False")
        assert isinstance(incident["updated_id"], int)
        assert isinstance(incident["updated_time"], str)
        assert int(description["events_count"]) >= len(description["events"])


def test_data_includes_the_awkward_cases(console: Console) -> None:
    incidents = list(console.iter_incidents())
    counts = [int(i["description"]["events_count"]) for i in incidents]
    events = [e for i in incidents for e in i["description"]["events"]]
    text = json.dumps(events, ensure_ascii=False)
    undocumented = {"matched_annotations", "reverse_dns_lookup_status", "incident_tags"}

    assert max(counts) == 3000  # a brute force with thousands of events
    assert 0 in counts  # a few incidents have none
    assert any(i["description"]["logtype"] == "5003" for i in incidents)  # port scans
    assert any(None in e.values() for e in events)
    assert any(ord(ch) > 0x2FFF for ch in text)  # CJK and emoji
    assert any(undocumented & set(i["description"]) for i in incidents)


def test_tokens_cover_many_kinds_with_their_secrets(console: Console) -> None:
    tokens = console.tokens()
    kinds = Counter(t["kind"] for t in tokens)

    assert len(kinds) >= 25
    aws = next(t for t in tokens if t["kind"] == "aws-id")
    for field in ("access_key_id", "secret_access_key", "factory_auth", "renders"):
        assert aws[field]
    assert aws["secret_access_key"] in aws["renders"]["aws-id"]
    for kind, secret in [
        ("azure-id", "renders"),
        ("wireguard", "wg_private_key"),
        ("slack-api", "slack_api_key"),
        ("cloned-web", "renders"),
    ]:
        assert next(t for t in tokens if t["kind"] == kind)[secret]


def test_birds_and_flocks(console: Console) -> None:
    birds = console.birds()

    assert len(birds) == 6
    assert len(console.flock_ids()) == 4
    assert {b["flock_id"] for b in birds} <= console.flock_ids()
    assert len({b["flock_id"] for b in birds}) > 1


def test_added_and_acknowledged_incidents_get_higher_updated_ids(
    simulator: Simulator, console: Console
) -> None:
    before = console.max_updated_id()
    first_id = next(console.iter_incidents())["id"]

    added = console.add_incidents(3, logtype="4002")
    new_uid = console.acknowledge(first_id)

    assert console.incident_count() == 203
    assert new_uid == before + 4 == console.max_updated_id()
    changed = api_json(simulator, "/incidents/all", incidents_since=before)["incidents"]
    assert [i["id"] for i in changed] == [*added, first_id]
    assert [i["updated_id"] for i in changed] == list(range(before + 1, before + 5))
    assert all(i["description"]["logtype"] == "4002" for i in changed[:3])
    assert changed[-1]["description"]["acknowledged"] == "True"
    # The full feed shows the acknowledged incident once, at its new place.
    pages = follow_cursor(simulator, "/incidents/all", "incidents", limit=17)
    ids = [i["id"] for p in pages for i in p["incidents"]]
    assert len(ids) == len(set(ids)) == 203
    assert ids[-1] == first_id
    unacked = api_json(simulator, "/incidents/unacknowledged", incidents_since=before)
    assert first_id not in {i["id"] for i in unacked["incidents"]}


def test_acknowledge_unknown_incident_fails(console: Console) -> None:
    with pytest.raises(KeyError):
        console.acknowledge("incident:nothing:0000")


def test_audit_entries_added_today_and_on_a_past_day_then_purged(
    simulator: Simulator, console: Console
) -> None:
    console.set_now(console.now() + timedelta(minutes=1))
    today = console.now().date()
    past = today - timedelta(days=3)
    before = console.audit_ids()

    new_today = console.add_audit_entries(2)
    new_past = console.add_audit_entries(1, day=past)

    assert min(new_today) > max(before)
    assert min(new_past) > max(new_today)
    assert set(new_today) <= console.audit_ids(today, today)
    assert set(new_past) <= console.audit_ids(past, past)
    newest = api_json(simulator, "/audit_trail/fetch", limit=3)["audit_trail"]
    assert [e["id"] for e in newest] == [*new_past, *reversed(new_today)]

    cut = sorted(before)[10]
    purged = console.purge_audit(cut)
    assert purged == len([i for i in before if i <= cut])
    assert min(console.audit_ids()) > cut
    # Ids are never reused after a purge.
    assert console.add_audit_entries(1)[0] > max(new_past)


def test_birds_and_tokens_come_and_go(simulator: Simulator, console: Console) -> None:
    gone_bird = sorted(console.bird_ids())[0]
    new_bird = console.add_bird()
    console.remove_bird(gone_bird)
    new_token = console.add_token("aws-id")
    gone_token = sorted(console.token_ids())[0]
    console.remove_token(gone_token)

    birds = {b["id"] for b in api_json(simulator, "/devices/all")["devices"]}
    pages = follow_cursor(simulator, "/canarytokens/paginate", "canarytokens", limit=50)
    tokens = [t for p in pages for t in p["canarytokens"]]
    assert birds == console.bird_ids()
    assert new_bird in birds
    assert gone_bird not in birds
    assert {t["canarytoken"] for t in tokens} == console.token_ids()
    assert tokens[0]["canarytoken"] == new_token  # newest first
    assert gone_token not in {t["canarytoken"] for t in tokens}
    with pytest.raises(KeyError):
        console.remove_bird(gone_bird)
    with pytest.raises(ValueError, match="unknown token kind"):
        console.add_token("carrier-pigeon")


def test_clock_can_be_set_and_advanced(console: Console) -> None:
    console.set_now(FIXED_NOW)
    assert console.now() == FIXED_NOW

    assert console.advance(days=1, hours=2) == FIXED_NOW + timedelta(days=1, hours=2)
    assert console.now().tzinfo is not None
    console.add_audit_entries(1)
    assert console.audit_ids(FIXED_NOW.date() + timedelta(days=1))


def test_event_count_matches_what_the_api_serves(simulator: Simulator, console: Console) -> None:
    pages = follow_cursor(simulator, "/incidents/all", "incidents", limit=50)

    served = sum(len(i["description"]["events"]) for p in pages for i in p["incidents"])
    assert served == console.event_count()


@pytest.mark.slow
def test_a_million_incidents_in_modest_memory() -> None:
    gc.collect()
    before = psutil.Process().memory_info().rss

    console = Console(seed=1, incidents=1_000_000, big_incident_events=100)
    with Simulator(console) as sim:
        last = api_json(sim, "/incidents/all", incidents_since=999_900, limit=100)
        first = api_json(sim, "/incidents/all", limit=100)
        grown = psutil.Process().memory_info().rss - before

    assert [i["updated_id"] for i in last["incidents"]] == list(range(999_901, 1_000_001))
    assert last["cursor"]["next"] is None
    assert first["cursor"]["next"] is not None
    assert grown < 150 * 1024 * 1024, f"{grown / 2**20:.0f} MiB for a million incidents"
