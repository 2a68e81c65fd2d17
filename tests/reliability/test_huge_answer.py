"""How much memory one huge answer costs: an incident whose events make a page of 100 MB.

The API sends an incident with all its events in one answer, so the tap must hold that answer,
parsed, while it turns it into records. What it must not do is hold several copies of it at
once (the bytes, a scrubbed copy, the parsed objects and the records). The bound: the tap's
peak resident memory, less that of the same sync with a small page, is at most 4.5 times the
size of the answer (the parsed objects alone take more than twice its size).

`HUGE_ANSWER_MB=380 pytest tests/reliability/test_huge_answer.py -s` measures another size.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from testkit.console import Reply, Request, ScriptedConsole
from testkit.process import MEGABYTE, measure
from testkit.tap import TAP_EXECUTABLE, discover, selecting, tap_env, write_json

from .suite import AUTH_TOKEN, tap_config

pytestmark = pytest.mark.slow

ANSWER_MEGABYTES = float(os.environ.get("HUGE_ANSWER_MB", "100"))
# Measured 4.25x (107 MB answer; it was 6.3x to 7x before); the aim is 3x, see the README.
PEAK_ABOVE_BASELINE_PER_ANSWER_BYTE = 4.5

# One SSH login attempt, as the console reports each of an incident's events.
EVENT = (
    b'{"timestamp": %d, "timestamp_std": "2026-03-14 15:09:26 UTC+0000", '
    b'"USERNAME": "admin%d", "PASSWORD": "hunter%d!", "LOCALVERSION": "SSH-2.0-OpenSSH_8.4", '
    b'"REMOTEVERSION": "SSH-2.0-libssh_0.9.6", "SESSION": "%d"}'
)


def incident_page(events: int) -> bytes:
    """A page of one brute-force incident with `events` events; the next page is empty.

    Its `next_link` embeds the token, as the console's do, so the tap has it to scrub."""
    event_list = b",".join(EVENT % (1773500966 + n, n, n, n) for n in range(events))
    head = (
        b'{"result": "success", "feed": "All Incidents", "max_updated_id": 1, '
        b'"cursor": {"next": "page-2", "next_link": "https://x/api/v1/incidents/all?cursor='
        b'page-2&auth_token=%s"}, "incidents": [{"id": "incident:huge", '
        b'"updated_id": 1, "summary": "SSH Login Attempt", "updated": "Sat, 14 Mar 2026", '
        b'"description": {"acknowledged": "False", "created": "1773500966", '
        b'"dst_host": "10.0.0.2", "dst_port": "22", "events_count": "%d", "logtype": "4002", '
        b'"node_id": "0000000000000001", "src_host": "10.0.0.9", "src_port": "0", '
        b'"flock_id": "flock:default", "events": ['
    ) % (AUTH_TOKEN.encode(), events)
    return head + event_list + b"]}}]}"


def events_for(megabytes: float) -> int:
    return max(1, int(megabytes * 1024 * 1024 / len(EVENT % (1773500966, 0, 0, 0))))


@dataclass
class Synced:
    peak_rss_bytes: float
    records: Counter[str]
    returncode: int


def sync_one_page(page: bytes, catalog: dict[str, Any], workdir: Path) -> Synced:
    """Run the tap against a console whose only incident page is `page`, output to a file."""

    def answer(request: Request) -> Reply:
        if request.path == "/incidents/all" and "cursor" not in request.params:
            return Reply(body=page)
        if request.path == "/incidents/all":
            return Reply.json({"result": "success", "incidents": [], "cursor": {"next": None}})
        return Reply.json({"result": "success"})

    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / "stdout.jsonl"
    with ScriptedConsole(answer) as console:
        config = tap_config(console.base_url, request_timeout=300)
        command = [
            str(TAP_EXECUTABLE),
            "--config", str(write_json(workdir / "config.json", config)),
            "--catalog", str(write_json(workdir / "catalog.json", catalog)),
        ]  # fmt: skip
        measured = measure(command, stdout=output, stderr=workdir / "stderr.txt", env=tap_env())
    records: Counter[str] = Counter()
    with output.open("rb") as lines:
        for line in lines:
            assert AUTH_TOKEN.encode() not in line
            if line.startswith(b'{"type":"RECORD","stream":"'):
                records[line[27:].split(b'"', 1)[0].decode()] += 1
    output.unlink()
    return Synced(measured.peak_rss_mb * MEGABYTE, records, measured.returncode)


def test_a_huge_answer_costs_a_bounded_multiple_of_its_size(tmp_path: Path) -> None:
    config = tap_config("https://ab12cd34.canary.tools/api/v1")
    catalog = selecting(discover(config, tmp_path / "discover"), ["incidents", "incident_events"])
    baseline = sync_one_page(incident_page(1), catalog, tmp_path / "baseline")
    assert baseline.returncode == 0
    events = events_for(ANSWER_MEGABYTES)
    page = incident_page(events)
    huge = sync_one_page(page, catalog, tmp_path / "huge")
    assert huge.returncode == 0, (tmp_path / "huge" / "stderr.txt").read_text()
    assert huge.records == {"incidents": 1, "incident_events": events}
    above = huge.peak_rss_bytes - baseline.peak_rss_bytes
    ratio = above / len(page)
    megabyte = 1024 * 1024
    print(
        f"answer {len(page) / megabyte:.0f} MB ({events} events): peak RSS "
        f"{huge.peak_rss_bytes / megabyte:.0f} MB, "
        f"baseline {baseline.peak_rss_bytes / megabyte:.0f} MB, "
        f"{ratio:.2f}x the answer above the baseline"
    )
    assert ratio <= PEAK_ABOVE_BASELINE_PER_ANSWER_BYTE, f"{ratio:.2f}x"
