"""Answers a console should never give, but an attacker or a broken console can: text that is
not valid Unicode, an answer that trickles in a byte at a time, empty pages with a new cursor
each time, a bookmark from before any console existed.

Each must end well: a page with broken text is synced with replacement characters, one warning
naming where; a try lasts `request_timeout` seconds at most, whatever the server does; paging
that goes nowhere stops with one line, its state written; a bookmark from 1900 costs no more
requests than a first sync.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from canary_simulator import Console
from tap_thinkst_canary.client import MAX_EMPTY_PAGES_IN_A_ROW
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import discover, selecting

from .suite import AUTH_TOKEN, CleanSync, simulator, sync, tap_config
from .test_unexpected_data import holds

pytestmark = pytest.mark.slow

INCIDENTS_PATH = "/incidents/all"
AUDIT_PATH = "/audit_trail/fetch"

# Markers swapped for broken bytes after the page is encoded: a lone high surrogate escape
# (valid JSON text, no character) and a byte that is never UTF-8.
LONE_SURROGATE = ("adm-LONE-in", b"adm\\ud800in", "adm\ufffdin")
INVALID_BYTE = ("r-BYTE-oot", b"r\xffoot", "r\ufffdoot")
BROKEN = (LONE_SURROGATE, INVALID_BYTE)


def catalog_of(streams: list[str], workdir: Path) -> dict[str, Any]:
    config = tap_config("https://ab12cd34.canary.tools/api/v1")
    return selecting(discover(config, workdir), streams)


class BrokenText:
    """Breaks the text of two incidents on the first page of incidents, every time it is asked
    for: a lone surrogate in an event's username in one, an invalid byte in the other's."""

    def __init__(self) -> None:
        self.proxy: ScriptedConsole | None = None
        self.broken_ids: list[str] = []

    def __call__(self, request: Request) -> Reply | None:
        if request.path != INCIDENTS_PATH or "cursor" in request.params:
            return None
        assert self.proxy is not None
        reply = self.proxy.forward(request)
        page = json.loads(reply.body)
        with_events = [i for i in page["incidents"] if i["description"].get("events")]
        self.broken_ids = []
        for incident, (marker, _, _) in zip(with_events[:2], BROKEN, strict=True):
            incident["description"]["events"][0]["USERNAME"] = marker
            self.broken_ids.append(incident["id"])
        body = json.dumps(page, ensure_ascii=False).encode()
        for marker, broken, _ in BROKEN:
            body = body.replace(marker.encode(), broken)
        assert AUTH_TOKEN.encode() in body  # the page's `next_link` embeds it
        return Reply(body=body)


def test_text_that_is_not_unicode_is_synced_with_replacement_characters(
    reliability_console: Console, clean_sync: CleanSync, tmp_path: Path
) -> None:
    rule = BrokenText()
    with (
        simulator(reliability_console) as sim,
        ScriptedConsole(rule, upstream=sim.base_url) as proxy,
    ):
        rule.proxy = proxy
        run = sync(tap_config(proxy.base_url), tmp_path)
    assert run.returncode == 0, run.describe()
    assert len(rule.broken_ids) == 2
    # Every record of the clean sync, the broken incidents and their events included.
    assert run.key_set() == clean_sync.run.key_set()
    events = run.records("incident_events")
    assert len(events) == len(clean_sync.run.records("incident_events"))
    for incident_id, (_, _, repaired) in zip(rule.broken_ids, BROKEN, strict=True):
        first_event = next(
            row for row in events if row["incident_id"] == incident_id and row["position"] == 0
        )
        assert holds(first_event, repaired), first_event
        incident = next(r for r in run.records("incidents") if r["id"] == incident_id)
        assert holds(incident, repaired)
    # What a target reads: strict UTF-8 (the harness decodes it so), no surrogate escapes.
    assert not re.search(r"\\u[dD][89a-fA-F]", run.stdout)
    assert all(not re.search("[\ud800-\udfff]", line) for line in run.stdout.splitlines())
    warnings = [line for line in run.stderr_lines if "not valid Unicode" in line]
    assert len(warnings) == 1, run.stderr
    (warning,) = warnings
    assert "WARNING" in warning
    assert INCIDENTS_PATH in warning
    assert "1 lone surrogate escape and 1 invalid UTF-8 sequence" in warning
    assert all(incident_id in warning for incident_id in rule.broken_ids), warning
    assert "retrying" not in run.stderr
    assert AUTH_TOKEN not in run.stdout + run.stderr


def test_an_answer_that_trickles_in_is_given_up_after_request_timeout(tmp_path: Path) -> None:
    body = b'{"result": "success"}' + b" " * 60  # a minute's worth at a byte a second

    with ScriptedConsole(lambda request: Reply(body=body, byte_interval=1.0)) as console:
        config = tap_config(console.base_url, request_timeout=3, max_tries=2, max_retry_wait=1)
        run = sync(config, tmp_path, timeout=45)
        tries = list(console.requests)
    assert run.returncode == 1, run.describe()
    assert len(tries) == 2
    # Each try is given up `request_timeout` after it started, where the whole body would take
    # a minute: the console sees the tap hang up on each answer within that time (plus the
    # second the trickle waits between bytes, and a little for a loaded machine).
    for number, attempt in enumerate(tries, 1):
        assert attempt.abandoned is not None, f"try {number} was never given up"
        assert attempt.abandoned - attempt.arrived < 3 + 1.5, f"try {number}"
    assert tries[1].arrived - tries[0].arrived < 3 + 1 + 1
    assert any(
        "WARNING" in line and "no complete answer from 127.0.0.1 within 3 s" in line
        for line in run.stderr_lines
    ), run.stderr
    assert "still after 2 tries" in run.stderr_lines[-1]


def empty_pages_forever(request: Request) -> Reply:
    if request.path == INCIDENTS_PATH:
        cursor = f"c{len(request.params.get('cursor', ''))}-{time.monotonic_ns()}"
        return Reply.json({"result": "success", "incidents": [], "cursor": {"next": cursor}})
    return Reply.json({"result": "success"})


def test_empty_pages_with_new_cursors_stop_the_sync_with_one_line(tmp_path: Path) -> None:
    catalog = catalog_of(["incidents"], tmp_path / "discover")
    with ScriptedConsole(empty_pages_forever) as console:
        run = sync(tap_config(console.base_url), tmp_path / "run", catalog=catalog, timeout=60)
        pages = [request for request in console.requests if request.path == INCIDENTS_PATH]
    assert run.returncode == 1, run.describe()
    # The one page the tap reads ahead may have been asked for as well.
    assert MAX_EMPTY_PAGES_IN_A_ROW <= len(pages) <= MAX_EMPTY_PAGES_IN_A_ROW + 1
    last = run.stderr_lines[-1]
    assert "ERROR" in last, run.stderr
    assert f"{MAX_EMPTY_PAGES_IN_A_ROW} pages of /incidents/all in a row with no records" in last
    assert "Traceback" not in run.stderr
    assert run.messages[-1]["type"] == "STATE"


def test_a_few_empty_pages_in_a_row_are_followed(tmp_path: Path) -> None:
    pages = itertools.count(1)

    def some_empty_pages(request: Request) -> Reply:
        if request.path != INCIDENTS_PATH:
            return Reply.json({"result": "success"})
        number = next(pages)
        cursor = {"next": f"page-{number + 1}"} if number < MAX_EMPTY_PAGES_IN_A_ROW - 1 else {}
        return Reply.json({"result": "success", "incidents": [], "cursor": cursor})

    catalog = catalog_of(["incidents"], tmp_path / "discover")
    with ScriptedConsole(some_empty_pages) as console:
        run = sync(tap_config(console.base_url), tmp_path / "run", catalog=catalog, timeout=60)
    assert run.returncode == 0, run.describe()
    assert next(pages) == MAX_EMPTY_PAGES_IN_A_ROW


@pytest.mark.parametrize(
    ("state", "settings"),
    [
        ({"bookmarks": {"audit_trail": {"resume_day": "1900-01-01"}}}, {}),
        (None, {"start_date": "1990-01-01T00:00:00Z"}),
    ],
    ids=["bookmark-1900", "start-date-1990"],
)
def test_audit_days_before_any_console_cost_no_more_than_a_first_sync(
    state: dict[str, Any] | None,
    settings: dict[str, Any],
    reliability_console: Console,
    clean_sync: CleanSync,
    tmp_path: Path,
) -> None:
    catalog = catalog_of(["audit_trail"], tmp_path / "discover")
    with simulator(reliability_console) as sim:
        config = tap_config(sim.base_url, **settings)
        run = sync(config, tmp_path / "run", state=state, catalog=catalog)
        requests = sim.request_counts()[AUDIT_PATH]
    assert run.returncode == 0, run.describe()
    clean_audit = {pair for pair in clean_sync.run.key_set() if pair[0] == "audit_trail"}
    assert run.key_set() == clean_audit
    assert requests <= clean_sync.requests_per_path[AUDIT_PATH], requests
