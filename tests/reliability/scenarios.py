"""Every way a sync can fail that the user must act on, each with the console that causes it.

A `Scenario` builds its console (the simulator, or one of the purpose-built servers), returns the
tap configuration that meets it, and says what the one-line error must tell the user. The error
table runs each once at the default log level; the token-leak sweep runs them all again with
everything logged.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit.console import Reply, Request, ScriptedConsole, closed_port

from .suite import AUTH_TOKEN, FROZEN_NOW, new_console, simulator, tap_config

CONFIG_ERROR_EXIT = 2
RUNTIME_ERROR_EXIT = 1
# A well-formed key the console does not know.
UNKNOWN_TOKEN = "0f9e8d7c6b5a49382716a5b4c3d2e1f0"
MISSPELT_DOMAIN = "nosuchconsole0"

LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Sign in</title></head>"
    "<body><form action='/login'><input name='email'></form></body></html>"
)


@dataclass
class Setup:
    """A console made ready for one scenario, and the configuration that meets it."""

    config: dict[str, Any]
    #: How many requests (or connections) reached a console: config errors must make none.
    requests_made: Callable[[], int] = lambda: 0
    #: Environment for the tap process on top of the harness's.
    env: dict[str, str] = field(default_factory=dict)
    #: What else the scenario checks once the tap has run.
    check: Callable[[], None] = lambda: None
    #: Command-line arguments beyond `--config config.json`.
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    #: What the user did or what happened, for the README's failure-modes table.
    situation: str
    #: Builds the consoles (entered into the stack, closed after the run) and the config.
    setup: Callable[[ExitStack, Path], Setup]
    #: Pieces of the error line, each of which must appear in it (case-insensitive).
    says: tuple[str, ...]
    exit_code: int

    @property
    def is_config_error(self) -> bool:
        return self.exit_code == CONFIG_ERROR_EXIT


def _no_console(config: dict[str, Any]) -> Callable[[ExitStack, Path], Setup]:
    """A configuration error: a loopback listener stands ready to catch any request made."""

    def setup(stack: ExitStack, workdir: Path) -> Setup:
        recorder = stack.enter_context(ScriptedConsole(lambda request: Reply.json({})))
        # One short try, should the tap wrongly make a request: the failure is then quick.
        full = {
            "base_url": recorder.base_url,
            "auth_token": AUTH_TOKEN,
            "max_tries": 1,
            "request_timeout": 1,
            **config,
        }
        return Setup(
            {key: value for key, value in full.items() if value is not None},
            requests_made=lambda: recorder.connections,
        )

    return setup


def _bad_file(option: str, name: str, text: str | None) -> Callable[[ExitStack, Path], Setup]:
    """A good configuration plus `option <name>`, a file holding `text` (missing if None)."""
    good = _no_console({})

    def setup(stack: ExitStack, workdir: Path) -> Setup:
        ready = good(stack, workdir)
        path = workdir / name
        if text is not None:
            workdir.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        ready.args = (option, str(path))
        return ready

    return setup


def _scripted(respond: Callable[[Request], Reply], **settings: Any) -> Callable[..., Setup]:
    def setup(stack: ExitStack, workdir: Path) -> Setup:
        server = stack.enter_context(ScriptedConsole(respond))
        return Setup(
            tap_config(server.base_url, **settings), requests_made=lambda: len(server.requests)
        )

    return setup


def _token_rejected(stack: ExitStack, workdir: Path) -> Setup:
    sim = stack.enter_context(simulator(new_console(incidents=10)))
    return Setup(tap_config(sim.base_url, UNKNOWN_TOKEN), requests_made=lambda: len(sim.requests))


def _api_disabled(request: Request) -> Reply:
    return Reply.json({"result": "error", "message": "API access is disabled"}, status=403)


def _domain_not_found(stack: ExitStack, workdir: Path) -> Setup:
    """`domain` is turned into https://<domain>.canary.tools, which the tap tries to resolve.

    The network guard answers as a resolver does for a name that does not exist, and logs the
    attempt: the tap asked for that one name, and nothing left the machine.
    """
    config = tap_config("", domain=MISSPELT_DOMAIN, max_tries=2)
    del config["base_url"]
    guard_log = workdir / "netguard.log"

    def only_the_console_name_was_looked_up() -> None:
        attempts = set(guard_log.read_text().splitlines())
        assert attempts == {f"resolve {MISSPELT_DOMAIN}.canary.tools"}

    return Setup(
        config, env={"NETGUARD_LOG": str(guard_log)}, check=only_the_console_name_was_looked_up
    )


def _unreachable(stack: ExitStack, workdir: Path) -> Setup:
    return Setup(tap_config(f"http://127.0.0.1:{closed_port()}/api/v1", max_tries=2))


def _tls_failure(stack: ExitStack, workdir: Path) -> Setup:
    cert_dir = workdir / "cert"
    cert_dir.mkdir(parents=True)
    server = stack.enter_context(ScriptedConsole(lambda request: Reply.json({}), tls_dir=cert_dir))
    return Setup(tap_config(server.base_url), requests_made=lambda: len(server.requests))


def _cursor_rejected(stack: ExitStack, workdir: Path) -> Setup:
    """The simulator itself refuses the cursor: a proxy spoils it on its way back to it."""
    sim = stack.enter_context(simulator(new_console()))

    def spoil_cursor(request: Request) -> Reply | None:
        cursor = request.params.get("cursor")
        if request.path != "/incidents/all" or cursor is None:
            return None
        return proxy.forward(request, {**request.params, "cursor": "expired" + cursor})

    proxy = stack.enter_context(ScriptedConsole(spoil_cursor, upstream=sim.base_url))
    return Setup(tap_config(proxy.base_url), requests_made=lambda: len(sim.requests))


def _always(status: int, **headers: str) -> Callable[[Request], Reply]:
    def respond(request: Request) -> Reply:
        return Reply(status=status, body=b"<html>Service Unavailable</html>",
                     content_type="text/html", headers=dict(headers))  # fmt: skip

    return respond


def _console_error(request: Request) -> Reply:
    return Reply.json({"result": "error", "message": "Something went wrong on the console"})


def _wrong_path(stack: ExitStack, workdir: Path) -> Setup:
    sim = stack.enter_context(simulator(new_console(incidents=10)))
    base_url = sim.base_url.removesuffix("/api/v1") + "/api/v2"
    return Setup(tap_config(base_url), requests_made=lambda: len(sim.requests))


def _redirect(request: Request) -> Reply:
    return Reply(status=302, headers={"Location": "https://login.example.com/sso"})


FUTURE = (FROZEN_NOW + datetime.timedelta(days=30)).isoformat()
CONSOLE_URL = "ab12cd34.canary.tools/api/v1"

CONFIG_ERRORS = (
    Scenario("missing-token", "`auth_token` not set",
             _no_console({"auth_token": None}),
             ("`auth_token` is missing", "read-only API key", "Settings > API"),
             CONFIG_ERROR_EXIT),
    Scenario("no-console-address", "neither `domain` nor `base_url` set",
             _no_console({"base_url": None}),
             ("neither `domain` nor `base_url`", "domain hash"), CONFIG_ERROR_EXIT),
    Scenario("malformed-start-date", "`start_date` not a date-time",
             _no_console({"start_date": "2024-13-45"}),
             ("`start_date`", "not a date-time", "ISO 8601"), CONFIG_ERROR_EXIT),
    Scenario("future-start-date", "`start_date` in the future",
             _no_console({"start_date": FUTURE}),
             ("`start_date`", "in the future"), CONFIG_ERROR_EXIT),
    Scenario("plain-http-to-remote-host", "`base_url` with plain `http` to a non-loopback host",
             _no_console({"base_url": f"http://{CONSOLE_URL}"}),
             ("plain http", "use https"), CONFIG_ERROR_EXIT),
    Scenario("page-size-zero", "`page_size` below 1",
             _no_console({"page_size": 0}),
             ("`page_size`", "out of range", "from 1 to 10000"), CONFIG_ERROR_EXIT),
    Scenario("page-size-too-large", "`page_size` above 10000",
             _no_console({"page_size": 10001}),
             ("`page_size`", "out of range", "from 1 to 10000"), CONFIG_ERROR_EXIT),
    Scenario("token-in-base-url", "`base_url` copied with `?auth_token=...` in it",
             _no_console({"base_url": f"https://{CONSOLE_URL}?auth_token={AUTH_TOKEN}"}),
             ("`base_url` must not carry credentials", "`auth_token`"), CONFIG_ERROR_EXIT),
    Scenario("token-in-domain", "the console's whole API URL, token included, put in `domain`",
             _no_console({"base_url": None, "domain": f"https://{CONSOLE_URL}?auth_token={AUTH_TOKEN}"}),
             ("`domain`", "not a console domain hash"), CONFIG_ERROR_EXIT),
    Scenario("config-file-missing", "the configuration file does not exist",
             _bad_file("--config", "missing.json", None),
             ("missing.json", "not found"), CONFIG_ERROR_EXIT),
    Scenario("config-file-not-json", "the configuration file is not JSON",
             _bad_file("--config", "broken-config.json", "{auth_token: 1"),
             ("broken-config.json", "JSON"), CONFIG_ERROR_EXIT),
    Scenario("state-file-not-json", "the state file is not JSON (e.g. cut short)",
             _bad_file("--state", "broken-state.json", '{"bookmarks": {"incidents": {"repl'),
             ("broken-state.json", "JSON"), CONFIG_ERROR_EXIT),
    Scenario("catalog-not-a-catalog", "the catalog file is not a Singer catalog",
             _bad_file("--catalog", "broken-catalog.json", '{"streams": 5}'),
             ("broken-catalog.json", "catalog"), CONFIG_ERROR_EXIT),
    Scenario("token-in-schemeless-base-url", "`base_url` without `https://`, token in its query",
             _no_console({"base_url": f"{CONSOLE_URL}/ping?auth_token={AUTH_TOKEN}"}),
             ("`base_url`", "not an http(s) URL"), CONFIG_ERROR_EXIT),
)  # fmt: skip

RUNTIME_ERRORS = (
    Scenario("token-rejected", "the console rejects the API token",
             _token_rejected,
             ("rejected the API token", "read-only API key", "Settings > API"),
             RUNTIME_ERROR_EXIT),
    Scenario("api-disabled", "the console's API is switched off",
             _scripted(_api_disabled),
             ("API is disabled", "Settings > API"), RUNTIME_ERROR_EXIT),
    Scenario("domain-not-found", "`domain` names no console (the host name does not resolve)",
             _domain_not_found,
             (f"{MISSPELT_DOMAIN}.canary.tools does not resolve", "check `domain`"),
             RUNTIME_ERROR_EXIT),
    Scenario("console-unreachable", "nothing answers at the address (refused, firewalled)",
             _unreachable,
             ("cannot connect to 127.0.0.1", "still after 2 tries", "reachable"),
             RUNTIME_ERROR_EXIT),
    Scenario("tls-failure", "the certificate cannot be verified (e.g. an intercepting proxy)",
             _tls_failure,
             ("TLS verification failed", "REQUESTS_CA_BUNDLE"), RUNTIME_ERROR_EXIT),
    Scenario("html-instead-of-json", "an HTML page where JSON was expected (login page, proxy)",
             _scripted(lambda request: Reply.html(LOGIN_PAGE)),
             ("got an HTML page", "/api/v1"), RUNTIME_ERROR_EXIT),
    Scenario("redirect", "the address redirects elsewhere (e.g. to a single sign-on page)",
             _scripted(_redirect),
             ("redirected", "https://login.example.com/sso", "/api/v1"), RUNTIME_ERROR_EXIT),
    Scenario("wrong-api-path", "`base_url` does not end in `/api/v1`",
             _wrong_path,
             ("HTTP 404", "/api/v1"), RUNTIME_ERROR_EXIT),
    Scenario("cursor-rejected", "the console rejects a paging cursor it handed out",
             _cursor_rejected,
             ("rejected the paging cursor", "resumes from its last state"),
             RUNTIME_ERROR_EXIT),
    Scenario("console-error-body", "the console answers `result: error` with a message",
             _scripted(_console_error),
             ("Something went wrong on the console", "run the sync again"),
             RUNTIME_ERROR_EXIT),
    Scenario("retries-exhausted", "the console keeps failing (HTTP 503) past `max_tries`",
             _scripted(_always(503, **{"Retry-After": "0"}), max_tries=3),
             ("HTTP 503", "still after 3 tries", "max_tries"), RUNTIME_ERROR_EXIT),
)  # fmt: skip

SCENARIOS = CONFIG_ERRORS + RUNTIME_ERRORS
