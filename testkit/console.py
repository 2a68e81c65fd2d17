"""The scripted console: one loopback HTTP server for what the console simulator cannot do.

`ScriptedConsole` listens on 127.0.0.1 only, on a free port, in a background thread, and answers
each request with a function of it. That one server covers every case the tests and the
benchmark need:

- scripted answers: an HTML login page, an "API disabled" body, a console that echoes the token
  back in its error message, an answer that trickles in a byte at a time...;
- a proxy in front of a real simulator (`upstream=`): every request the script does not answer
  itself (it returns None) is forwarded, and the script may forward with altered parameters;
- HTTPS (`tls_dir=`) with a self-signed certificate made at test time, so certificate
  verification fails as it does behind an intercepting proxy;
- a record of what reached it: every request, with when it arrived and, for an answer the client
  gave up on, when the client closed the connection; and every connection accepted, including
  those that never sent a request.

`closed_port()` gives a loopback port nothing listens on.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self

import requests
from typing_extensions import override

from canary_simulator.loopback import Background, LoopbackHTTPServer

API_PREFIX = "/api/v1"
# The headers a proxy passes on to its upstream console.
FORWARDED_HEADERS = ("x-canary-auth-token", "accept")


@dataclass
class Request:
    """One request as the console received it."""

    #: The path below the API prefix, e.g. `/incidents/all`.
    path: str
    params: dict[str, str]
    #: Header names in lower case.
    headers: dict[str, str]
    #: The request line's target as sent: the full path and the query, untouched.
    target: str = ""
    #: `time.monotonic()` when the request arrived.
    arrived: float = field(default_factory=time.monotonic)
    #: `time.monotonic()` when the client closed the connection before the whole answer was
    #: sent, if it did: the moment it gave up.
    abandoned: float | None = None


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: The status line's reason phrase, if not the standard one.
    reason: str | None = None
    #: Seconds between one byte of the body and the next: an answer that trickles in.
    byte_interval: float = 0.0

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status=status, body=json.dumps(value).encode())

    @classmethod
    def html(cls, text: str, status: int = 200) -> Reply:
        return cls(status=status, body=text.encode(), content_type="text/html; charset=utf-8")


#: The script: a reply, or None to let the upstream console answer.
Responder = Callable[[Request], "Reply | None"]


class ScriptedConsole(Background):
    """A console that answers every request with `responder(request)`.

    With `upstream` (a simulator's base URL), a request the responder leaves unanswered (None)
    is forwarded there; without it, every request must be answered. `tls_dir` makes it speak
    HTTPS with a certificate made in that directory, which no trust store knows. `keep_alive`
    keeps connections open between requests (HTTP/1.1), as a console does; otherwise each
    request has a connection of its own.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        upstream: str | None = None,
        tls_dir: Path | None = None,
        keep_alive: bool = False,
        upstream_timeout: float = 30,
    ) -> None:
        if responder is None and upstream is None:
            raise TypeError("a ScriptedConsole needs a responder, an upstream, or both")
        self.requests: list[Request] = []
        #: Connections accepted, whether or not a request came over them.
        self.connections = 0
        self._responder = responder
        self._upstream = upstream
        self._upstream_timeout = upstream_timeout
        self._session = requests.Session()
        self.scheme = "https" if tls_dir is not None else "http"
        self._httpd = _CountingServer(self, ("127.0.0.1", 0), self._handler_class(keep_alive))
        if tls_dir is not None:
            cert, key = self_signed_certificate(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)

    @property
    def port(self) -> int:
        return self._httpd.port

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{API_PREFIX}"

    def respond(self, request: Request) -> Reply:
        reply = self._responder(request) if self._responder is not None else None
        if reply is not None:
            return reply
        if self._upstream is None:
            raise AssertionError(f"the script has no answer for {request.target}")
        return self.forward(request)

    def forward(self, request: Request, params: dict[str, str] | None = None) -> Reply:
        """The upstream console's answer to `request`, with `params` instead of its own."""
        if self._upstream is None:
            raise AssertionError("forward() needs a ScriptedConsole with an upstream")
        upstream = self._session.get(
            self._upstream + request.path,
            params=request.params if params is None else params,
            headers={k: v for k, v in request.headers.items() if k in FORWARDED_HEADERS},
            timeout=self._upstream_timeout,
        )
        return Reply(
            status=upstream.status_code,
            body=upstream.content,
            content_type=upstream.headers.get("Content-Type", "application/json"),
        )

    @override
    def start(self) -> Self:
        self._httpd.serve_in_background("scripted-console")
        return self

    @override
    def stop(self) -> None:
        self._httpd.close()

    def _handler_class(self, keep_alive: bool) -> type[BaseHTTPRequestHandler]:
        console = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                request = Request(
                    path=url.path.removeprefix(API_PREFIX),
                    params=dict(urllib.parse.parse_qsl(url.query)),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    target=self.path,
                )
                console.requests.append(request)
                reply = console.respond(request)
                self.send_response(reply.status, reply.reason)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.byte_interval:
                    self._trickle(request, reply)
                else:
                    self.wfile.write(reply.body)

            def _trickle(self, request: Request, reply: Reply) -> None:
                """Send the body a byte at a time; stop, noting when, once the client hangs up."""
                try:
                    for position in range(len(reply.body)):
                        self.wfile.write(reply.body[position : position + 1])
                        self.wfile.flush()
                        if self._client_hung_up(reply.byte_interval):
                            request.abandoned = time.monotonic()
                            return
                except OSError:
                    request.abandoned = time.monotonic()

            def _client_hung_up(self, within: float) -> bool:
                """Whether the client closes its end within `within` seconds (it sends nothing
                more while it waits for the answer, so anything readable is its hang-up)."""
                readable, _, _ = select.select([self.connection], [], [], within)
                if not readable:
                    return False
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True

            @override
            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class _CountingServer(LoopbackHTTPServer):
    """Counts each connection it accepts on its console."""

    def __init__(self, console: ScriptedConsole, *args: Any) -> None:
        self._console = console
        super().__init__(*args)

    @override
    def get_request(self) -> tuple[socket.socket, Any]:
        accepted = super().get_request()
        self._console.connections += 1
        return accepted


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, made with the openssl command-line tool."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "console.crt", directory / "console.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def closed_port() -> int:
    """A loopback port that was free a moment ago and has no listener: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
