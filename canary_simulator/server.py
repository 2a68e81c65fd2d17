"""The HTTP side: a threaded loopback server with auth, faults, latency and a request log."""

from __future__ import annotations

import hmac
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson
from typing_extensions import override

from canary_simulator.api import ApiError, ConsoleApi, error_body
from canary_simulator.console import Console
from canary_simulator.estate_api import KEY_TYPES, needs_admin_key, refusal_message
from canary_simulator.faults import FaultPlan
from canary_simulator.loopback import Background, LoopbackHTTPServer

if TYPE_CHECKING:
    from canary_simulator.fleet import SimulatorFleet

API_PREFIX = "/api/v1"
ADMIN_PREFIX = "/admin"
HTML_503 = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"


@dataclass(frozen=True)
class RequestLogEntry:
    """One request the simulator answered. `params` never holds the auth token."""

    path: str
    params: dict[str, str]
    status: int
    fault: str | None = None
    method: str = "GET"


class Simulator(Background):
    """Serves a `Console` over HTTP on a loopback port, in a background thread."""

    def __init__(
        self,
        console: Console,
        auth_token: str = "test-token",
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0,
        faults: Mapping[str, float] | None = None,
        fault_seed: int = 0,
        fault_timeout_seconds: float = 3.0,
        retry_after_seconds: int = 1,
        cache_mb: int = 64,
        prefetch: bool = False,
        key_type: str = "admin",
    ) -> None:
        if not auth_token:
            raise ValueError("auth_token must not be empty")
        self.console = console
        self.auth_token = auth_token
        self.key_type = "admin"
        self.set_key_type(key_type)
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.fault_timeout_seconds = fault_timeout_seconds
        self.retry_after_seconds = retry_after_seconds
        self.faults = FaultPlan(faults, fault_seed)
        self.api = ConsoleApi(
            console, lambda: self.base_url, auth_token, cache_mb * 1024 * 1024, prefetch
        )
        self.fleet: SimulatorFleet | None = None  # set when it serves as one of several
        self._log: list[RequestLogEntry] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None

    # ---------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.port}{ADMIN_PREFIX}"

    @override
    def start(self) -> Simulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.simulator = self
        self.port = server.port
        self._server = server
        server.serve_in_background(f"canary-simulator:{self.port}")
        return self

    @override
    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        self.api.close()

    # ---------------------------------------------------------------------- request log

    @property
    def requests(self) -> list[RequestLogEntry]:
        with self._log_lock:
            return list(self._log)

    def request_counts(self) -> Counter[str]:
        with self._log_lock:
            return Counter(entry.path for entry in self._log if not entry.path.startswith("/admin"))

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, entry: RequestLogEntry) -> None:
        with self._log_lock:
            self._log.append(entry)

    def set_key_type(self, key_type: str) -> None:
        """What kind of API key the clients' token is: anything but "admin" is refused the
        admin-only endpoints (users, API keys, settings)."""
        if key_type not in KEY_TYPES:
            raise ValueError(f"unknown key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")
        self.key_type = key_type

    def set_faults(self, faults: Mapping[str, float], seed: int = 0) -> None:
        """Change the fault plan while running; ``{}`` turns faults off."""
        self.faults.reset(faults, seed)

    # -------------------------------------------------------------------------- admin

    def admin(self, method: str, path: str, params: Mapping[str, str]) -> Any:
        """The admin interface: the same operations tests call on the console, over HTTP."""
        console = self.console
        parts = [unquote(p) for p in path.strip("/").split("/")]
        route = (method, *parts)
        match route:
            case ("GET", "stats"):
                return console.stats()
            case ("GET", "consoles"):
                if self.fleet is not None:
                    return {"consoles": self.fleet.describe()}
                alone = {"name": console.name, "seed": console.seed, "base_url": self.base_url,
                         "admin_url": self.admin_url, "auth_token": self.auth_token,
                         "domain": console.estate.domain}  # fmt: skip
                return {"consoles": [alone]}
            case ("GET", "requests"):
                return {
                    "counts": dict(self.request_counts()),
                    "requests": [asdict(entry) for entry in self.requests],
                }
            case ("DELETE", "requests"):
                self.clear_request_log()
                return {}
            case ("POST", "incidents"):
                count = _admin_int(params, "count", 1)
                return {"ids": console.add_incidents(count, params.get("logtype"))}
            case ("POST", "incidents", incident_id, "acknowledge"):
                return {"updated_id": console.acknowledge(incident_id)}
            case ("DELETE", "incidents", incident_id):
                return {"audit_id": console.delete_incident(incident_id)}
            case ("POST", "audit"):
                day = date.fromisoformat(params["day"]) if params.get("day") else None
                return {"ids": console.add_audit_entries(_admin_int(params, "count", 1), day)}
            case ("POST", "audit", "purge"):
                return {"purged": console.purge_audit(_admin_int(params, "id", 0))}
            case ("POST", "birds"):
                return {"node_id": console.add_bird()}
            case ("DELETE", "birds", node_id):
                console.remove_bird(node_id)
                return {}
            case ("POST", "birds", node_id, "restore"):
                console.restore_bird(node_id)
                return {}
            case ("POST", "tokens"):
                return {"canarytoken": console.add_token(params.get("kind"))}
            case ("DELETE", "tokens", code):
                console.remove_token(code)
                return {}
            case ("POST", "tokens", code, "restore"):
                console.restore_token(code)
                return {}
            case ("DELETE", "flocks", flock_id):
                console.remove_flock(flock_id)
                return {}
            case ("POST", "flocks", flock_id, "restore"):
                console.restore_flock(flock_id)
                return {}
            case ("POST", "users"):
                fields = _user_fields(params)
                email = fields.pop("email", None)
                if not email:
                    raise ValueError("Missing email: give ?email=ADDRESS")
                access_level = fields.pop("access_level", "user")
                return {"id": console.add_user(email, access_level, **fields)}
            case ("POST", "users", email):
                console.change_user(email, **_user_fields(params))
                return {}
            case ("DELETE", "users", email):
                console.remove_user(email)
                return {}
            case ("POST", "users", email, "restore"):
                console.restore_user(email)
                return {}
            case ("POST", "api_keys"):
                key_id = console.add_api_key(
                    params.get("type", "Read-only"), params.get("note", ""),
                    params.get("flock_id") or None,
                )  # fmt: skip
                return {"key_id": key_id}
            case ("DELETE", "api_keys", key_id):
                console.remove_api_key(key_id)
                return {}
            case ("POST", "api_keys", key_id, "restore"):
                console.restore_api_key(key_id)
                return {}
            case ("POST", "outside_bird_alerts"):
                count = _admin_int(params, "count", 1)
                on_bird = params.get("node_id") or None
                return {"alerts": console.add_outside_bird_alerts(count, on_bird)}
            case ("DELETE", "outside_bird_alerts"):
                if not params.get("node_id"):
                    raise ValueError("Missing node_id: give ?node_id=NODE_ID[&src_ip=IP]")
                deleted = console.delete_outside_bird_alerts(
                    params["node_id"], params.get("src_ip")
                )
                return {"deleted": deleted}
            case ("POST", "ignored_annotations", name):
                console.ignore_annotation(name, _admin_int(params, "count", 0))
                return {}
            case ("DELETE", "ignored_annotations", name):
                console.unignore_annotation(name)
                return {}
            case ("POST", "pending_birds"):
                flock_id = params.get("flock_id") or "flock:default"
                return {"node_id": console.add_pending_bird(flock_id)}
            case ("DELETE", "pending_birds", node_id):
                console.remove_pending_bird(node_id)
                return {}
            case ("POST", "webhooks"):
                url = params.get("url")
                if not url:
                    raise ValueError("Missing url: give ?url=URL[&flock_id=FLOCK]")
                return {"webhook_id": console.add_webhook(url, params.get("flock_id") or None)}
            case ("DELETE", "webhooks"):
                console.remove_webhook(params.get("url", ""), params.get("flock_id") or None)
                return {}
            case ("POST", "permissions"):
                self.set_key_type(params.get("key_type", "admin"))
                return {"key_type": self.key_type}
            case ("POST", "clock"):
                if params.get("now"):
                    console.set_now(datetime.fromisoformat(params["now"]))
                else:
                    console.advance(
                        days=float(params.get("days", 0)), hours=float(params.get("hours", 0))
                    )
                return {"now": console.now().isoformat()}
            case ("POST", "faults"):
                seed = _admin_int(params, "seed", 0)
                rates = {k: float(v) for k, v in params.items() if k != "seed"}
                self.set_faults(rates, seed)
                return {"faults": self.faults.rates, "seed": seed}
        raise ApiError(f"Unknown admin operation {method} /admin/{'/'.join(parts)}", 404)


USER_FLAGS = ("totp_enabled", "webauthn_enabled", "saml_provisioned", "supervisor",
              "summary_email_enabled", "disabled")  # fmt: skip
USER_LISTS = ("managed_flocks", "watched_flocks")


def _user_fields(params: Mapping[str, str]) -> dict[str, Any]:
    """A user's fields from admin parameters: flags as true/false, flock lists comma-separated."""
    fields: dict[str, Any] = {}
    for name, raw in params.items():
        if name in USER_FLAGS:
            if raw.lower() not in ("true", "false"):
                raise ValueError(f"Invalid {name}: expected true or false")
            fields[name] = raw.lower() == "true"
        elif name in USER_LISTS:
            fields[name] = [flock for flock in raw.split(",") if flock]
        elif name in ("email", "access_level", "note"):
            fields[name] = raw
        else:
            raise ValueError(f"Unknown user field {name!r}")
    return fields


def _admin_int(params: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except ValueError:
        raise ApiError(f"Invalid {name}: expected an integer") from None


class _Server(LoopbackHTTPServer):
    simulator: Simulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections, as with a real console
    server: _Server

    @override
    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log is the record."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        sim = self.server.simulator
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if method != "GET":
            self._drain_body()
        token = self.headers.get("X-Canary-Auth-Token") or params.pop("auth_token", None)
        params.pop("auth_token", None)
        path = url.path.rstrip("/") or "/"
        if path.startswith(ADMIN_PREFIX + "/"):
            self._serve_admin(sim, method, path[len(ADMIN_PREFIX) :], params, token)
        elif path.startswith(API_PREFIX + "/") and method == "GET":
            self._serve_api(sim, path[len(API_PREFIX) :], params, token)
        else:
            self._send(404, error_body("Not found"))
            sim._record(RequestLogEntry(path, params, 404, None, method))

    def _drain_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _auth_error(self, sim: Simulator, token: str | None) -> tuple[int, bytes] | None:
        if not token:
            return 401, error_body("Unauthorized")
        if not hmac.compare_digest(token.encode(), sim.auth_token.encode()):
            return 403, error_body("Invalid auth_token")
        return None

    def _serve_admin(
        self, sim: Simulator, method: str, path: str, params: dict[str, str], token: str | None
    ) -> None:
        failure = self._auth_error(sim, token)
        if failure is None:
            try:
                status, body = (
                    200,
                    orjson.dumps({"result": "success", **sim.admin(method, path, params)}),
                )
            except ApiError as exc:
                status, body = exc.status, error_body(exc.message)
            except (KeyError, ValueError) as exc:
                status, body = 400, error_body(str(exc.args[0] if exc.args else exc))
        else:
            status, body = failure
        sim._record(RequestLogEntry(ADMIN_PREFIX + path, params, status, None, method))
        self._send(status, body)

    def _serve_api(
        self, sim: Simulator, path: str, params: dict[str, str], token: str | None
    ) -> None:
        fault = sim.faults.draw()
        if sim.latency_ms:
            time.sleep(sim.latency_ms / 1000)
        handler = sim.api.routes.get(path)
        failure = self._auth_error(sim, token)
        if failure is not None:
            status, body = failure
        elif handler is None:
            status, body = 404, error_body(f"Unknown endpoint {API_PREFIX}{path}")
        elif sim.key_type != "admin" and needs_admin_key(path):
            status, body = 403, error_body(refusal_message(path, sim.key_type))
        else:
            try:
                status, body = 200, handler(params)
            except ApiError as exc:
                status, body = exc.status, error_body(exc.message)
        if fault is None:
            sim._record(RequestLogEntry(path, params, status, None))
            self._send(status, body)
            return
        sim._record(RequestLogEntry(path, params, FAULT_STATUS.get(fault, 200), fault))
        FAULTS[fault](self, sim, body)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    # ------------------------------------------------------------------------- the faults

    def _fault_429(self, sim: Simulator, body: bytes) -> None:
        retry = {"Retry-After": str(sim.retry_after_seconds)}
        self._send(429, error_body("Too many requests"), headers=retry)

    def _fault_500(self, sim: Simulator, body: bytes) -> None:
        self._send(500, b"Internal Server Error", "text/plain")

    def _fault_502(self, sim: Simulator, body: bytes) -> None:
        self._send(502, HTML_502, "text/html")

    def _fault_503(self, sim: Simulator, body: bytes) -> None:
        retry = {"Retry-After": str(sim.retry_after_seconds)}
        self._send(503, HTML_503, "text/html", headers=retry)

    def _fault_timeout(self, sim: Simulator, body: bytes) -> None:
        time.sleep(sim.fault_timeout_seconds)
        try:
            self._send(200, body)
        except OSError:
            self.close_connection = True  # the client gave up waiting, as intended

    def _fault_reset(self, sim: Simulator, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        # Linger 0 turns close() into a TCP reset, mid-body.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _fault_truncate(self, sim: Simulator, body: bytes) -> None:
        self._send(200, body[: max(1, len(body) // 2)])

    def _fault_error_body(self, sim: Simulator, body: bytes) -> None:
        message = "The console could not complete the request (simulated error)"
        self._send(200, error_body(message))


FAULT_STATUS = {"429": 429, "500": 500, "502": 502, "503": 503}
FAULTS: dict[str, Callable[[_Handler, Simulator, bytes], None]] = {
    "429": _Handler._fault_429,
    "500": _Handler._fault_500,
    "502": _Handler._fault_502,
    "503": _Handler._fault_503,
    "timeout": _Handler._fault_timeout,
    "reset": _Handler._fault_reset,
    "truncate": _Handler._fault_truncate,
    "error-body": _Handler._fault_error_body,
}
