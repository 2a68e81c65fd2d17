"""Loaded by the tap subprocesses of these tests: only loopback names resolve.

Any other host name fails in the resolver, as an unknown domain does, without a DNS query ever
leaving the machine; so no test can reach a real console, whatever its configuration says.
"""

import socket

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
_real_getaddrinfo = socket.getaddrinfo


def _loopback_only_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _LOOPBACK_NAMES and not str(name).startswith("127."):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only_getaddrinfo
