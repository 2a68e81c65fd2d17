"""Cursor chains, filters and their edge cases, as the real API defines them."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from canary_simulator import Console, Simulator

from .helpers import api_get, api_json, follow_cursor


def _incident_ids(pages: list[dict]) -> list[str]:
    return [incident["id"] for page in pages for incident in page["incidents"]]


@pytest.mark.parametrize("limit", [1, 7, 200, 1000])
def test_incident_cursor_chain_returns_every_incident_once(
    simulator: Simulator, console: Console, limit: int
) -> None:
    pages = follow_cursor(simulator, "/incidents/all", "incidents", limit=limit)

    ids = _incident_ids(pages)
    assert len(ids) == len(set(ids)) == console.incident_count()
    assert set(ids) == console.incident_ids()
    assert len(pages) == math.ceil(console.incident_count() / limit)
    # Only the first request carried `limit`; every later one the cursor alone.
    later = [r for r in simulator.requests if r.path == "/incidents/all"][1:]
    assert len(later) == len(pages) - 1
    assert all(set(r.params) == {"cursor"} for r in later)


def test_incidents_come_in_ascending_updated_id_with_page_maximum(simulator: Simulator) -> None:
    pages = follow_cursor(simulator, "/incidents/all", "incidents", limit=30)

    updated_ids = [i["updated_id"] for page in pages for i in page["incidents"]]
    assert updated_ids == sorted(updated_ids)
    for page in pages:
        assert page["max_updated_id"] == max(i["updated_id"] for i in page["incidents"])
    assert pages[-1]["cursor"]["next"] is None
    assert pages[-1]["cursor"]["next_link"] is None


def test_next_link_carries_cursor_and_auth_token_like_the_real_console(
    simulator: Simulator,
) -> None:
    page = api_json(simulator, "/incidents/all", limit=10)

    link = urlsplit(page["cursor"]["next_link"])
    query = parse_qs(link.query)
    assert f"{link.scheme}://{link.netloc}{link.path}" == simulator.base_url + "/incidents/all"
    assert query["cursor"] == [page["cursor"]["next"]]
    assert query["auth_token"] == [simulator.auth_token]


def test_incidents_since_is_exclusive(simulator: Simulator, console: Console) -> None:
    page = api_json(simulator, "/incidents/all", incidents_since=50, limit=5)

    assert [i["updated_id"] for i in page["incidents"]] == [51, 52, 53, 54, 55]
    tail = api_json(simulator, "/incidents/all", incidents_since=console.max_updated_id())
    assert tail["incidents"] == []
    assert "max_updated_id" not in tail  # only present when the list has entries


def test_without_limit_all_incidents_come_in_one_response_without_cursor(
    simulator: Simulator, console: Console
) -> None:
    body = api_json(simulator, "/incidents/all", incidents_since=100)

    assert "cursor" not in body
    assert [i["updated_id"] for i in body["incidents"]] == list(range(101, 201))


def test_acknowledged_and_unacknowledged_feeds_split_the_incidents(
    simulator: Simulator, console: Console
) -> None:
    acked = _incident_ids(follow_cursor(simulator, "/incidents/acknowledged", "incidents", limit=9))
    unacked = _incident_ids(
        follow_cursor(simulator, "/incidents/unacknowledged", "incidents", limit=9)
    )

    expected_acked = {
        i["id"] for i in console.iter_incidents() if i["description"]["acknowledged"] == "True"
    }
    assert 0 < len(acked) < console.incident_count()
    assert set(acked) == expected_acked
    assert set(unacked) == console.incident_ids() - expected_acked
    assert len(acked) + len(unacked) == console.incident_count()
    feeds = {api_json(simulator, p, limit=1)["feed"] for p in ("/incidents/acknowledged",)}
    assert feeds == {"Acknowledged Incidents"}


def test_node_and_flock_filters(simulator: Simulator, console: Console) -> None:
    first = next(console.iter_incidents())["description"]
    by_node = api_json(simulator, "/incidents/all", node_id=first["node_id"])["incidents"]
    by_flock = api_json(simulator, "/incidents/all", flock_id=first["flock_id"])["incidents"]

    assert by_node
    assert all(i["description"]["node_id"] == first["node_id"] for i in by_node)
    assert by_flock
    assert all(i["description"]["flock_id"] == first["flock_id"] for i in by_flock)
    assert len(by_flock) < console.incident_count()


def test_event_limit_cuts_events_but_not_their_count(simulator: Simulator) -> None:
    incidents = api_json(simulator, "/incidents/all", event_limit=2)["incidents"]

    big = max(incidents, key=lambda i: int(i["description"]["events_count"]))
    assert int(big["description"]["events_count"]) == 3000
    assert len(big["description"]["events"]) == 2


def test_audit_cursor_chain_is_newest_first_and_complete(
    simulator: Simulator, console: Console
) -> None:
    pages = follow_cursor(simulator, "/audit_trail/fetch", "audit_trail", limit=7)

    ids = [e["id"] for page in pages for e in page["audit_trail"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids))
    assert set(ids) == console.audit_ids()
    assert [p["page_number"] for p in pages] == list(range(1, len(pages) + 1))
    assert {p["page_count"] for p in pages} == {math.ceil(len(ids) / 7)}


def test_audit_prev_cursor_returns_the_previous_page(simulator: Simulator) -> None:
    first = api_json(simulator, "/audit_trail/fetch", limit=5)
    second = api_json(simulator, "/audit_trail/fetch", cursor=first["cursor"]["next"])
    back = api_json(simulator, "/audit_trail/fetch", cursor=second["cursor"]["prev"])

    assert first["cursor"]["prev"] is None
    assert back["audit_trail"] == first["audit_trail"]
    assert back["page_number"] == 1


def test_audit_default_page_size_is_100(simulator: Simulator) -> None:
    assert len(api_json(simulator, "/audit_trail/fetch")["audit_trail"]) == 100


def test_audit_after_id_is_exclusive(simulator: Simulator, console: Console) -> None:
    ids = sorted(console.audit_ids())
    pivot = ids[len(ids) // 2]

    pages = follow_cursor(simulator, "/audit_trail/fetch", "audit_trail", after_id=pivot, limit=9)

    got = {e["id"] for page in pages for e in page["audit_trail"]}
    assert got == {i for i in ids if i > pivot}


def test_audit_after_id_with_cursor_is_refused(simulator: Simulator) -> None:
    first = api_json(simulator, "/audit_trail/fetch", limit=5)
    response = api_get(simulator, "/audit_trail/fetch", cursor=first["cursor"]["next"], after_id=1)

    assert response.status_code == 400
    assert response.json()["result"] == "error"


def test_audit_dates_are_inclusive_utc_days(simulator: Simulator, console: Console) -> None:
    today = console.now().date()
    start, end = today - timedelta(days=20), today - timedelta(days=10)

    pages = follow_cursor(
        simulator, "/audit_trail/fetch", "audit_trail",
        start_date=start.isoformat(), end_date=end.isoformat(), tz="UTC", limit=10,
    )  # fmt: skip

    entries = [e for page in pages for e in page["audit_trail"]]
    assert {e["id"] for e in entries} == console.audit_ids(start, end)
    days = {date.fromisoformat(e["timestamp"][:10]) for e in entries}
    assert min(days) >= start
    assert max(days) <= end
    assert start in days or not console.audit_ids(start, start)


def test_audit_history_has_empty_days(simulator: Simulator, console: Console) -> None:
    today = console.now().date()
    empty = [
        day
        for day in (today - timedelta(days=n) for n in range(1, 60))
        if not console.audit_ids(day, day)
    ]
    assert empty, "a 60-day history should include days without entries"

    day = empty[0].isoformat()
    body = api_json(simulator, "/audit_trail/fetch", start_date=day, end_date=day)
    assert body["audit_trail"] == []
    assert body["cursor"]["next"] is None


@pytest.mark.parametrize("limit", [1, 7, 10, 100])
def test_token_cursor_chain_returns_every_token_once(
    simulator: Simulator, console: Console, limit: int
) -> None:
    pages = follow_cursor(simulator, "/canarytokens/paginate", "canarytokens", limit=limit)

    codes = [t["canarytoken"] for page in pages for t in page["canarytokens"]]
    assert len(codes) == len(set(codes)) == len(console.token_ids())
    assert set(codes) == console.token_ids()
    assert [p["page_num"] for p in pages] == list(range(1, len(pages) + 1))
    assert {p["page_total"] for p in pages} == {math.ceil(len(codes) / limit)}


def test_token_pages_default_to_ten_and_link_the_next(simulator: Simulator) -> None:
    page = api_json(simulator, "/canarytokens/paginate")

    assert len(page["canarytokens"]) == 10
    query = parse_qs(urlsplit(page["cursor"]["next_link"]).query)
    assert query["cursor"] == [page["cursor"]["next"]]
    assert query["auth_token"] == [simulator.auth_token]


def test_token_flock_filter(simulator: Simulator, console: Console) -> None:
    flock = "flock:default"
    pages = follow_cursor(simulator, "/canarytokens/paginate", "canarytokens", flock_id=flock)

    tokens = [t for page in pages for t in page["canarytokens"]]
    assert tokens
    assert all(t["flock_id"] == flock for t in tokens)
    assert len(tokens) < len(console.token_ids())


def _parse_std(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S UTC%z")


def test_tz_moves_std_fields_to_the_requested_zone(simulator: Simulator) -> None:
    utc = api_json(simulator, "/incidents/all", limit=3)
    tokyo = api_json(simulator, "/incidents/all", limit=3, tz="Asia/Tokyo")

    for a, b in zip(utc["incidents"], tokyo["incidents"], strict=True):
        assert a["updated_std"].endswith("UTC+0000")
        assert b["updated_std"].endswith("UTC+0900")
        assert _parse_std(a["updated_std"]) == _parse_std(b["updated_std"])
        assert _parse_std(a["description"]["created_std"]) == _parse_std(
            b["description"]["created_std"]
        )
        for ea, eb in zip(a["description"]["events"], b["description"]["events"], strict=True):
            if "timestamp_std" in ea:
                assert eb["timestamp_std"].endswith("UTC+0900")
                assert _parse_std(ea["timestamp_std"]) == _parse_std(eb["timestamp_std"])
        # Epoch fields do not move.
        assert a["updated_time"] == b["updated_time"]
    # The tz travels inside the cursor.
    second = api_json(simulator, "/incidents/all", cursor=tokyo["cursor"]["next"])
    assert second["incidents"][0]["updated_std"].endswith("UTC+0900")


def test_tz_applies_to_audit_and_birds(simulator: Simulator) -> None:
    audit = api_json(simulator, "/audit_trail/fetch", tz="America/Sao_Paulo", limit=3)
    birds = api_json(simulator, "/devices/all", tz="Asia/Kolkata")

    assert all(e["timestamp"].endswith("UTC-0300") for e in audit["audit_trail"])
    assert all(b["last_seen_std"].endswith("UTC+0530") for b in birds["devices"])
    assert birds["updated_std"].endswith("UTC+0530")


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/incidents/all", {"cursor": "not-a-cursor"}, "Invalid cursor"),
        ("/incidents/all", {"limit": "ten"}, "Invalid limit"),
        ("/incidents/all", {"limit": "0"}, "Invalid limit"),
        ("/incidents/all", {"incidents_since": "-1"}, "Invalid incidents_since"),
        ("/incidents/all", {"tz": "Mars/Olympus_Mons"}, "Invalid tz"),
        ("/incidents/all", {"newer_than": "yesterday"}, "Invalid newer_than"),
        ("/audit_trail/fetch", {"start_date": "2024-13-01"}, "Invalid start_date"),
        ("/audit_trail/fetch", {"after_id": "x"}, "Invalid after_id"),
        ("/audit_trail/fetch", {"cursor": "AAAA"}, "Invalid cursor"),
        ("/canarytokens/paginate", {"cursor": "AAAAAAAAAAAAAAAA"}, "Invalid cursor"),
        ("/canarytokens/paginate", {"limit": "-3"}, "Invalid limit"),
    ],
)
def test_bad_parameters_get_an_error_body(
    simulator: Simulator, path: str, params: dict[str, str], message: str
) -> None:
    response = api_get(simulator, path, **params)

    assert response.status_code == 400
    body = response.json()
    assert body["result"] == "error"
    assert body["message"].startswith(message)


def test_a_tampered_or_foreign_cursor_is_refused(simulator: Simulator) -> None:
    cursor = api_json(simulator, "/incidents/all", limit=5)["cursor"]["next"]
    tampered = cursor[:-6] + ("A" if cursor[-6] != "A" else "B") + cursor[-5:]

    assert api_get(simulator, "/incidents/all", cursor=tampered).json()["result"] == "error"
    foreign = api_get(simulator, "/canarytokens/paginate", cursor=cursor)
    assert foreign.status_code == 400
    assert foreign.json() == {"result": "error", "message": "Invalid cursor"}


def test_newer_than_and_older_than_filter_on_creation_time(
    simulator: Simulator, console: Console
) -> None:
    incidents = list(console.iter_incidents())
    pivot = int(incidents[100]["description"]["created"])
    stamp = datetime.fromtimestamp(pivot, timezone.utc).strftime("%Y-%m-%d-%H:%M:%S")

    newer = api_json(simulator, "/incidents/all", newer_than=stamp)["incidents"]
    older = api_json(simulator, "/incidents/all", older_than=stamp)["incidents"]

    assert newer
    assert all(int(i["description"]["created"]) > pivot for i in newer)
    assert older
    assert all(int(i["description"]["created"]) < pivot for i in older)


def test_prefetched_pages_are_complete_and_current(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(prefetch=True)
    console = sim.console
    chain = follow_cursor(sim, "/incidents/all", "incidents", limit=20)
    assert sorted(_incident_ids(chain)) == sorted(console.incident_ids())

    first = api_json(sim, "/incidents/all", limit=20)
    time.sleep(0.2)  # let the next page be built ahead
    moved = next(i for i in console.iter_incidents() if i["updated_id"] == 25)
    new_updated_id = console.acknowledge(moved["id"])
    rest = follow_cursor(sim, "/incidents/all", "incidents", cursor=first["cursor"]["next"])

    later = [i for page in rest for i in page["incidents"]]
    assert [i["id"] for i in later].count(moved["id"]) == 1
    assert later[-1]["id"] == moved["id"]
    assert later[-1]["updated_id"] == new_updated_id
    assert later[-1]["description"]["acknowledged"] == "True"


@pytest.mark.parametrize("path", ["/incidents/all", "/incidents/acknowledged"])
def test_incident_prev_cursors_walk_the_chain_backwards(simulator: Simulator, path: str) -> None:
    forward = follow_cursor(simulator, path, "incidents", limit=13, incidents_since=20)

    backward = [forward[-1]]
    while backward[-1]["cursor"]["prev"]:
        backward.append(api_json(simulator, path, cursor=backward[-1]["cursor"]["prev"]))
        assert len(backward) <= len(forward)

    assert len(forward) > 2
    assert [p["incidents"] for p in reversed(backward)] == [p["incidents"] for p in forward]
    assert forward[0]["cursor"]["prev"] is None
    prev_link = parse_qs(urlsplit(forward[1]["cursor"]["prev_link"]).query)
    assert prev_link["cursor"] == [forward[1]["cursor"]["prev"]]
