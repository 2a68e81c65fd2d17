"""Start-up code for every tap process a test runs.

Python imports `sitecustomize` at start-up from the first directory on its path that has one;
`testkit.tap` puts this directory first on PYTHONPATH. It does two things.

The network guard (always): the process can reach loopback addresses only.

- A host name other than `localhost` fails in `getaddrinfo` with EAI_NONAME, the error the
  system resolver gives for a domain that does not exist, without sending any DNS query.
- A connection to any non-loopback address is refused.

So a test that asks the tap for `https://<hash>.canary.tools` sees exactly what a user with a
mistyped domain hash sees, and no test can ever reach a real console. Each blocked attempt is
appended to the file named by NETGUARD_LOG, if set, so tests can see what was tried.

The frozen clock (when TAP_FROZEN_NOW holds an ISO 8601 instant): the tap's one source of
"now", `tap_thinkst_canary.clock.utc_now`, returns that instant, so that the tap and an
in-process console with the same frozen clock agree on what "today" is, whatever the hour.
"""

from __future__ import annotations

import datetime
import errno
import importlib.abc
import importlib.machinery
import ipaddress
import os
import socket
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from typing_extensions import override

# ----------------------------------------------------------------------------- network guard

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _note(what: str) -> None:
    log_path = os.environ.get("NETGUARD_LOG")
    if log_path:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(what + "\n")


def _host_text(host: Any) -> str:
    return host.decode() if isinstance(host, bytes) else str(host)


def _address(host: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(_host_text(host).split("%")[0])
    except ValueError:
        return None


def _is_loopback(host: Any) -> bool:
    if host is None or _host_text(host).lower() in _LOOPBACK_NAMES:
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    # A numeric address needs no resolver; connecting to it is what the guard checks.
    if not _is_loopback(host) and _address(host) is None:
        _note(f"resolve {_host_text(host)}")
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

# ------------------------------------------------------------------------------ frozen clock

CLOCK_MODULE = "tap_thinkst_canary.clock"


class _FrozenClockLoader(importlib.abc.Loader):
    """Runs the real module, then replaces its `utc_now` before anyone imports it from there."""

    def __init__(self, real: importlib.abc.Loader, now: datetime.datetime) -> None:
        self._real = real
        self._now = now

    @override
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._real.create_module(spec)

    @override
    def exec_module(self, module: ModuleType) -> None:
        self._real.exec_module(module)
        now = self._now
        module.utc_now = lambda: now  # type: ignore[attr-defined]


class _FrozenClockFinder(importlib.abc.MetaPathFinder):
    def __init__(self, now: datetime.datetime) -> None:
        self._now = now

    @override
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != CLOCK_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _FrozenClockLoader(spec.loader, self._now)
        return spec


_frozen_now = os.environ.get("TAP_FROZEN_NOW")
if _frozen_now:
    sys.meta_path.insert(0, _FrozenClockFinder(datetime.datetime.fromisoformat(_frozen_now)))
