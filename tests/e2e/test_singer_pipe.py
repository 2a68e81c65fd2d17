"""Plain Singer: `tap-thinkst-canary --config ... | target-jsonl --config ...`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from canary_simulator import Simulator
from e2e.conftest import AUTH_TOKEN
from e2e.pipeline import (
    KEYS,
    ROOT,
    STREAMS,
    TAP,
    expected_counts,
    plugin_executable,
    read_jsonl,
    write_json,
)
from tap_thinkst_canary.state import console_bookmark

pytestmark = pytest.mark.e2e


def test_tap_piped_into_target_jsonl_lands_every_record(
    e2e_simulator: Simulator, tmp_path: Path
) -> None:
    console = e2e_simulator.console
    destination = tmp_path / "jsonl"
    destination.mkdir()
    tap_config = write_json(
        tmp_path / "tap.json", {"base_url": e2e_simulator.base_url, "auth_token": AUTH_TOKEN}
    )
    target_config = write_json(
        tmp_path / "target.json", {"destination_path": str(destination), "do_timestamp_file": False}
    )

    tap = subprocess.Popen(
        [str(TAP), "--config", str(tap_config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "tap.log").open("w"),
    )
    target = subprocess.run(
        [str(plugin_executable("loaders", "target-jsonl")), "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    assert tap.wait(timeout=60) == 0, (tmp_path / "tap.log").read_text()[-3000:]
    assert target.returncode == 0, target.stderr[-3000:]

    expected = expected_counts(console)
    for stream in STREAMS:
        rows = read_jsonl(destination / f"{stream}.jsonl")
        assert len(rows) == expected[stream], stream
        keys = {tuple(row[key] for key in KEYS[stream]) for row in rows}
        assert len(keys) == len(rows), f"{stream} has duplicate keys"
    incident_ids = {row["id"] for row in read_jsonl(destination / "incidents.jsonl")}
    assert incident_ids == console.incident_ids()

    # target-jsonl echoes the last STATE it received: the incidents bookmark is the console's top.
    final_state = json.loads(target.stdout.strip().splitlines()[-1])
    bookmark = console_bookmark(final_state, "incidents", "127.0.0.1")["replication_key_value"]
    assert int(bookmark) == console.max_updated_id()

    everything = [target.stdout, target.stderr, (tmp_path / "tap.log").read_text()]
    everything += [path.read_text() for path in destination.iterdir()]
    assert not any(AUTH_TOKEN in text for text in everything)


def test_the_readmes_plain_singer_commands_run_as_written(
    e2e_simulator: Simulator, tmp_path: Path
) -> None:
    """The README's plain-Singer example, first run included, run by a shell as written."""
    readme = (ROOT / "README.md").read_text()
    block = next(
        part.split("```", 1)[0]
        for part in readme.split("```sh\n")[1:]
        if "tap-thinkst-canary --config config.json |" in part
    )
    commands = [line.strip() for line in block.splitlines() if line.strip()]
    assert commands[0].startswith("echo ")
    assert commands[0].endswith("> config.json")
    write_json(
        tmp_path / "config.json", {"base_url": e2e_simulator.base_url, "auth_token": AUTH_TOKEN}
    )
    path = f"{TAP.parent}:{plugin_executable('loaders', 'target-jsonl').parent}:/usr/bin:/bin"
    first_run, keep_state, later_run = commands[1:]

    def shell(command: str) -> None:
        subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=tmp_path,
            env={"PATH": path, "HOME": str(tmp_path)},
            check=True,
            capture_output=True,
            timeout=300,
        )

    shell(first_run)
    shell(keep_state)
    first_state = json.loads((tmp_path / "state.json").read_text())
    bookmark = console_bookmark(first_state, "incidents", "127.0.0.1")["replication_key_value"]
    assert int(bookmark) == e2e_simulator.console.max_updated_id()
    e2e_simulator.clear_request_log()
    shell(later_run)
    resumed = [r for r in e2e_simulator.requests if r.path == "/incidents/all"]
    assert resumed[0].params["incidents_since"] == str(e2e_simulator.console.max_updated_id())
