"""Running the tap, Meltano and Singer targets as a user would, in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from console_keys import console_counts

from canary_simulator import Console
from tap_thinkst_canary.tap import TapThinkstCanary

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
TAP = Path(sys.executable).with_name("tap-thinkst-canary")
PLUGIN_VENVS = ROOT / ".meltano"
# An address where nothing listens: any attempt to reach Meltano Hub fails at once.
UNREACHABLE_HUB = "http://127.0.0.1:9/"


def _primary_keys() -> dict[str, tuple[str, ...]]:
    """Each stream's name and primary key, in the tap's order."""
    tap = TapThinkstCanary(
        config={"domain": "example", "auth_token": "keys-only-0123456789abcdef"},
        validate_config=False,
    )
    return {stream.name: tuple(stream.primary_keys or ()) for stream in tap.streams.values()}


KEYS = _primary_keys()
STREAMS = tuple(KEYS)


def expected_counts(console: Console) -> dict[str, int]:
    """The rows a complete sync of `console` must land, per stream."""
    return console_counts(console)


def require_meltano() -> Path:
    if not MELTANO.exists():
        raise AssertionError(
            f"Meltano is not installed at {MELTANO}: run `make meltano` (`make test` does it)"
        )
    return MELTANO


def plugin_executable(plugin_type: str, name: str) -> Path:
    executable = PLUGIN_VENVS / plugin_type / name / "venv" / "bin" / name
    if not executable.exists():
        raise AssertionError(f"{name} is not installed at {executable}: run `make meltano`")
    return executable


def meltano_env(state_dir: Path, **settings: str) -> dict[str, str]:
    """An environment for `meltano` with its own state database and no network beyond loopback."""
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "MELTANO_HUB_URL": UNREACHABLE_HUB,
        "MELTANO_DATABASE_URI": f"sqlite:///{state_dir / 'meltano.db'}",
        **settings,
    }


def run(
    command: Iterable[str | Path], *, cwd: Path, env: Mapping[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Runs a command to success, or fails the test with the end of its output."""
    argv = [str(part) for part in command]
    result = subprocess.run(
        argv, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-6000:]
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{output}")
    return result


def write_json(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def move_console_on(console: Console) -> str:
    """New incidents, one incident acknowledged, new audit entries and a new bird.

    Returns the id of the acknowledged incident, which a second sync must upsert.
    """
    opened = next(
        str(incident["id"])
        for incident in console.iter_incidents()
        if str(incident.get("description", {}).get("acknowledged")).lower() == "false"
    )
    console.add_incidents(4)
    console.acknowledge(opened)
    console.add_audit_entries(2)
    console.add_bird()
    return opened


def incidents_since(requests: Iterable[Any]) -> list[str]:
    """The `incidents_since` of each incidents request in a simulator's request log."""
    return [
        str(entry.params["incidents_since"])
        for entry in requests
        if entry.path.endswith("/incidents/all") and "incidents_since" in entry.params
    ]
