"""The simulator's answers, recorded once and served again from memory, as bytes.

The simulator builds every answer from its data model, and that costs more than parsing
it: timed against the simulator, the floor and the tap both spend most of their wall time
waiting for it. `RecordedConsole` stands between them: while recording, it forwards each
request it has not seen to the simulator and keeps the answer (status, body bytes) under
the request's path and query; once recording stops it answers from memory only, and a
request it never saw is refused with an error naming it, so a timed run can never fall
back to the simulator unnoticed.
"""

from __future__ import annotations

import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from harness import Request, SimulatorProcess
from typing_extensions import override

from canary_simulator.loopback import Background, LoopbackHTTPServer

API_PREFIX = "/api/v1"

# A request as recorded: its path and its query, parameters in sorted order, so that the
# floor's `?incidents_since=0&tz=UTC&limit=1000` and the tap's same query in another
# order are one request.
Key = tuple[str, tuple[tuple[str, str], ...]]


def request_key(target: str) -> Key:
    parts = urlsplit(target)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class RecordedConsole(Background):
    """A loopback HTTP server that replays what `upstream` answered, optionally late.

    It offers what the benchmark reads from a simulator: `base_url`, `auth_token` and the
    request log.
    """

    def __init__(self, upstream: SimulatorProcess) -> None:
        self.upstream = upstream
        self.auth_token = upstream.auth_token
        #: Seconds each answer waits before it is sent: a console's response time.
        self.latency_seconds = 0.0
        self.recording = True
        self._answers: dict[Key, tuple[int, bytes]] = {}
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._session.headers["X-Canary-Auth-Token"] = upstream.auth_token
        self._server = LoopbackHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.port}{API_PREFIX}"

    @override
    def start(self) -> RecordedConsole:
        self._server.serve_in_background("recorded-console")
        return self

    @override
    def stop(self) -> None:
        self._server.close()

    @property
    def recorded_requests(self) -> int:
        return len(self._answers)

    @property
    def recorded_megabytes(self) -> float:
        return sum(len(body) for _, body in self._answers.values()) / 1e6

    def request_log(self) -> list[Request]:
        """Every API request answered so far, oldest first, as the simulator logs them."""
        with self._lock:
            return list(self._log)

    def count_requests(self) -> int:
        with self._lock:
            return len(self._log)

    def answer(self, target: str, auth_token: str | None) -> tuple[int, bytes]:
        if auth_token != self.auth_token:
            return HTTPStatus.UNAUTHORIZED, _error("bad or missing X-Canary-Auth-Token")
        key = request_key(target)
        with self._lock:
            self._log.append(Request(key[0].removeprefix(API_PREFIX), key[1]))
            recorded = self._answers.get(key)
        if recorded is None:
            if not self.recording:
                return HTTPStatus.NOT_FOUND, _error(
                    f"{target} was not recorded: record it before the timed runs"
                )
            recorded = self._record(target, key)
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        return recorded

    def _record(self, target: str, key: Key) -> tuple[int, bytes]:
        upstream_root = self.upstream.base_url.removesuffix(API_PREFIX)
        response = self._session.get(upstream_root + target, timeout=600)
        recorded = (response.status_code, response.content)
        with self._lock:
            self._answers[key] = recorded
        return recorded

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        console = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the simulator and a console do

            def do_GET(self) -> None:
                status, body = console.answer(self.path, self.headers.get("X-Canary-Auth-Token"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request log is kept in memory; stderr stays quiet

        return Handler


def _error(message: str) -> bytes:
    return orjson.dumps({"result": "error", "message": message})
