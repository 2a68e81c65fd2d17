"""Serving HTTP on a loopback port from a background thread, as the simulator, a fleet of
simulators and the benchmark's recorded console all do."""

from __future__ import annotations

import abc
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from typing_extensions import override


class Background(abc.ABC):
    """Something that serves in the background: started by `start` or by `with`, stopped by
    `stop` or at the end of the `with`."""

    @abc.abstractmethod
    def start(self) -> Self:
        """Start serving; starting what serves already changes nothing."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop serving; stopping what is stopped changes nothing."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A thread per connection, many connections waiting at once (a client of many consoles
    opens them together), and quiet about clients that go away mid-answer."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def serve_in_background(self, name: str) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=name
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving, release the port and wait for the serving thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self.shutdown()  # waits for `serve_forever`, so only once it runs
        self.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @override
    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # An answer goes out in two writes, its headers and then its body. With Nagle's
        # algorithm on, a small body waits for the client to acknowledge the headers, which it
        # delays by 40 ms: every small answer took 44 ms instead of 1. A console answers
        # without that wait (nginx sets TCP_NODELAY).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    @override
    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away mid-answer, as timeout and reset faults make it do
        super().handle_error(request, client_address)
