"""Small purpose-built servers for the failures the console simulator does not produce.

Each one listens on 127.0.0.1 only, on a free port, in a background thread:

- `ScriptedConsole`: answers every request with a function of the request (an HTML login page,
  an "API disabled" body, a console that echoes the token back in its error message, an answer
  that trickles in a byte at a time...);
- `ProxyConsole`: forwards to a real simulator, except for the requests it chooses to answer
  itself (a cursor the console rejects on the second page, for example);
- `TlsConsole`: speaks HTTPS with a self-signed certificate made at test time, so certificate
  verification fails as it does behind an intercepting proxy;
- `closed_port()`: a loopback port nothing listens on.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import requests

API_PREFIX = "/api/v1"


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    #: `time.monotonic()` when the request arrived.
    arrived: float = field(default_factory=time.monotonic)


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


Responder = Callable[[Request], Reply]
ServerT = TypeVar("ServerT", bound="_Server")


class _Server:
    """A threaded HTTP server on a free loopback port, started and stopped as a context."""

    scheme = "http"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{API_PREFIX}"

    def respond(self, request: Request) -> Reply:
        raise NotImplementedError

    def __enter__(self: ServerT) -> ServerT:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                request = Request(
                    path=url.path.removeprefix(API_PREFIX),
                    params=dict(urllib.parse.parse_qsl(url.query)),
                    headers={key.lower(): value for key, value in self.headers.items()},
                )
                server.requests.append(request)
                reply = server.respond(request)
                self.send_response(reply.status, reply.reason)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if not reply.byte_interval:
                    self.wfile.write(reply.body)
                    return
                try:
                    for position in range(len(reply.body)):
                        self.wfile.write(reply.body[position : position + 1])
                        self.wfile.flush()
                        time.sleep(reply.byte_interval)
                except OSError:
                    pass  # the client gave up on the answer, as it should

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class ScriptedConsole(_Server):
    """Answers every request with `responder(request)`."""

    def __init__(self, responder: Responder) -> None:
        self._responder = responder
        super().__init__()

    def respond(self, request: Request) -> Reply:
        return self._responder(request)


class ProxyConsole(_Server):
    """Forwards to `upstream` (a simulator's base URL) unless `intercept` answers first.

    `intercept` may itself call `forward` with altered parameters.
    """

    def __init__(self, upstream: str, intercept: Callable[[Request], Reply | None]) -> None:
        self._upstream = upstream
        self._intercept = intercept
        self._session = requests.Session()
        super().__init__()

    def respond(self, request: Request) -> Reply:
        reply = self._intercept(request)
        return self.forward(request) if reply is None else reply

    def forward(self, request: Request, params: dict[str, str] | None = None) -> Reply:
        """The upstream console's answer to `request`, with `params` instead of its own."""
        forwarded = {
            name: value
            for name, value in request.headers.items()
            if name in ("x-canary-auth-token", "accept")
        }
        upstream = self._session.get(
            self._upstream + request.path,
            params=request.params if params is None else params,
            headers=forwarded,
            timeout=30,
        )
        return Reply(
            status=upstream.status_code,
            body=upstream.content,
            content_type=upstream.headers.get("Content-Type", "application/json"),
        )


class TlsConsole(ScriptedConsole):
    """HTTPS with a self-signed certificate that no trust store knows."""

    scheme = "https"

    def __init__(self, responder: Responder, cert_dir: Path) -> None:
        super().__init__(responder)
        cert, key = self_signed_certificate(cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, made with the openssl command-line tool."""
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


class ConnectionRecorder:
    """A loopback listener that only counts connection attempts, to prove none were made."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.1)
        self.connections = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}{API_PREFIX}"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def __enter__(self) -> ConnectionRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()
        self._socket.close()
