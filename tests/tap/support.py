"""What the tap's tests share: running a sync in-process or as the console script, reading its
Singer output, and a scripted loopback console for the failures the simulator does not make."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tap_thinkst_canary.tap import TapThinkstCanary

TAP_EXECUTABLE = Path(sys.executable).with_name("tap-thinkst-canary")
# The start-up code of every tap process a test runs: a network guard (loopback only, no DNS
# query ever sent) and, when TAP_FROZEN_NOW is set, the tap's clock frozen at that instant.
TAP_SITE = Path(__file__).resolve().parent.parent / "tap_site"

Message = dict[str, Any]


@dataclass
class SyncOutput:
    """The Singer messages of one sync."""

    messages: list[Message]
    stderr: str = ""
    returncode: int = 0

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def counts(self) -> Counter[str]:
        return Counter(m["stream"] for m in self.messages if m["type"] == "RECORD")

    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, Any]:
        return self.states()[-1]

    def keys(self, stream: str) -> list[tuple[Any, ...]]:
        """The primary keys of `stream`'s records, as its SCHEMA message names them."""
        schemas = [m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream]
        if not schemas:
            return []
        names = schemas[0]["key_properties"]
        return [tuple(record[name] for name in names) for record in self.records(stream)]

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def parse_messages(text: str) -> list[Message]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sync_in_process(
    config: Mapping[str, Any],
    state: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,
) -> SyncOutput:
    """Run a whole sync in this process and collect its messages."""
    stdout = io.StringIO()
    tap = TapThinkstCanary(
        config=dict(config),
        state=dict(state) if state else None,
        catalog=dict(catalog) if catalog else None,
    )
    with contextlib.redirect_stdout(stdout):
        tap.sync_all()
    return SyncOutput(parse_messages(stdout.getvalue()))


def sync_with_cli(
    workdir: Path,
    config: Mapping[str, Any],
    *args: str,
    state: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> SyncOutput:
    """Run the console script as a user would, with the default log level."""
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    command = [str(TAP_EXECUTABLE), "--config", str(config_path), *args]
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    environment = {k: v for k, v in os.environ.items() if not k.endswith("LOGLEVEL")}
    environment["PYTHONPATH"] = str(TAP_SITE)
    environment.update(env or {})
    done = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=timeout, check=False
    )
    return SyncOutput(parse_messages(done.stdout), done.stderr, done.returncode)


@dataclass
class ScriptedRequest:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"result": "success"}'
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedConsole:
    """A loopback HTTP server that answers each request with ``responder(request)``."""

    def __init__(self, responder: Callable[[ScriptedRequest], Reply]) -> None:
        self.requests: list[ScriptedRequest] = []
        console = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                request = ScriptedRequest(
                    url.path.removeprefix("/api/v1"),
                    dict(parse_qsl(url.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                console.requests.append(request)
                reply = responder(request)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"

    def __enter__(self) -> ScriptedConsole:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
