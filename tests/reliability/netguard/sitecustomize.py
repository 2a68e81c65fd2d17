"""Network guard for tap processes started by the reliability tests.

Python imports `sitecustomize` at start-up from the first directory on its path that has one; the
harness puts this directory first on PYTHONPATH. From then on the process can reach loopback
addresses only:

- a host name other than `localhost` fails in `getaddrinfo` with EAI_NONAME, the error the
  system resolver gives for a domain that does not exist, without sending any DNS query;
- a connection to any non-loopback address is refused.

So a test that asks the tap for `https://<hash>.canary.tools` sees exactly what a user with a
mistyped domain hash sees, and no test can ever reach a real console. Each blocked attempt is
appended to the file named by NETGUARD_LOG, if set, so tests can see what was tried.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from typing import Any

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _note(what: str) -> None:
    log_path = os.environ.get("NETGUARD_LOG")
    if log_path:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(what + "\n")


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_address(host: Any) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    # A numeric address needs no resolver; connecting to it is what the guard checks.
    if not _is_loopback(host) and not _is_address(host):
        _note(f"resolve {host}")
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        _note(f"connect {address[0]}")
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
