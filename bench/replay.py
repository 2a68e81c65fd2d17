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
from urllib.parse import parse_qsl, urlsplit

import orjson
from harness import Request, SimulatorProcess

from testkit.console import API_PREFIX, Reply, ScriptedConsole
from testkit.console import Request as ConsoleRequest

# A request as recorded: its path and its query, parameters in sorted order, so that the
# floor's `?incidents_since=0&tz=UTC&limit=1000` and the tap's same query in another
# order are one request.
Key = tuple[str, tuple[tuple[str, str], ...]]


def request_key(target: str) -> Key:
    parts = urlsplit(target)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class RecordedConsole(ScriptedConsole):
    """A loopback console that replays what `upstream` answered, optionally late.

    It offers what the benchmark reads from a simulator: `base_url`, `auth_token` and the
    request log.
    """

    def __init__(self, upstream: SimulatorProcess) -> None:
        super().__init__(
            self._replay, upstream=upstream.base_url, keep_alive=True, upstream_timeout=600
        )
        self.auth_token = upstream.auth_token
        #: Seconds each answer waits before it is sent: a console's response time.
        self.latency_seconds = 0.0
        self.recording = True
        self._answers: dict[Key, Reply] = {}
        self._lock = threading.Lock()

    @property
    def recorded_requests(self) -> int:
        return len(self._answers)

    @property
    def recorded_megabytes(self) -> float:
        return sum(len(reply.body) for reply in self._answers.values()) / 1e6

    def request_log(self) -> list[Request]:
        """Every API request answered so far, oldest first, as the simulator logs them."""
        return [_logged(request) for request in self._answered()]

    def count_requests(self) -> int:
        return len(self._answered())

    def _answered(self) -> list[ConsoleRequest]:
        """The requests that carried the token: those a console answers."""
        token = self.auth_token
        return [r for r in list(self.requests) if r.headers.get("x-canary-auth-token") == token]

    def _replay(self, request: ConsoleRequest) -> Reply:
        if request.headers.get("x-canary-auth-token") != self.auth_token:
            return _error(HTTPStatus.UNAUTHORIZED, "bad or missing X-Canary-Auth-Token")
        key = request_key(request.target)
        with self._lock:
            recorded = self._answers.get(key)
        if recorded is None:
            if not self.recording:
                return _error(
                    HTTPStatus.NOT_FOUND,
                    f"{request.target} was not recorded: record it before the timed runs",
                )
            forwarded = self.forward(request, dict(key[1]))
            recorded = Reply(status=forwarded.status, body=forwarded.body)
            with self._lock:
                self._answers[key] = recorded
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        return recorded


def _logged(request: ConsoleRequest) -> Request:
    path, params = request_key(request.target)
    return Request(path.removeprefix(API_PREFIX), params)


def _error(status: int, message: str) -> Reply:
    return Reply(status=status, body=orjson.dumps({"result": "error", "message": message}))
