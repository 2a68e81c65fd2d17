"""Every problem a user can fix ends the console script with one clear line: the problem and
the fix, a non-zero exit, no traceback and never the token."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from canary_simulator import Console, Simulator
from tap_thinkst_canary.state import console_bookmark
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import TAP_EXECUTABLE, TapRun, parse_messages

TOKEN = "s3cret-Token-0123456789abcdef"
CONSOLE = "127.0.0.1"  # a console's name, with no `console_name`: the host of its `base_url`
FAST_RETRIES = {"max_tries": 2, "max_retry_wait": 0, "request_timeout": 5}


def assert_one_line_error(run: TapRun, *phrases: str, exit_code: int = 1) -> None:
    """Exactly one line on stderr, naming the problem; the token nowhere."""
    assert run.returncode == exit_code, run.stderr
    assert len(run.stderr_lines) == 1, run.stderr
    for phrase in phrases:
        assert phrase in run.stderr_lines[0], run.stderr
    assert_token_absent(run)


def assert_stopped_at_the_first_request(run: TapRun, *phrases: str) -> None:
    """A console problem found by the sync's first request: one ERROR line, the last, after
    the SDK's start-up lines, and no record."""
    assert_error_is_last_and_only_error(run, *phrases)
    assert not [m for m in run.messages if m["type"] == "RECORD"]


def assert_error_is_last_and_only_error(run: TapRun, *phrases: str, exit_code: int = 1) -> None:
    """For a failure in the middle of a sync, after progress lines: one ERROR line, the last."""
    assert run.returncode == exit_code, run.stderr
    errors = [line for line in run.stderr_lines if "| ERROR" in line or "| CRITICAL" in line]
    assert errors == [run.stderr_lines[-1]], run.stderr
    for phrase in phrases:
        assert phrase in errors[0], run.stderr
    assert "Traceback" not in run.stderr
    assert_token_absent(run)


def assert_token_absent(run: TapRun) -> None:
    assert TOKEN not in run.stderr
    assert TOKEN not in json.dumps(run.messages)


CONFIG_ERRORS = {
    "missing token": ({"base_url": "http://127.0.0.1:9/api/v1"}, "`auth_token` is missing"),
    "neither domain nor base_url": ({"auth_token": TOKEN}, "neither `domain` nor `base_url`"),
    "malformed start_date": (
        {"domain": "ab12cd34", "auth_token": TOKEN, "start_date": "2024-13-45"},
        "`start_date` '2024-13-45' is not a date-time",
    ),
    "future start_date": (
        {"domain": "ab12cd34", "auth_token": TOKEN, "start_date": "2999-01-01T00:00:00Z"},
        "is in the future",
    ),
    "http to a remote host": (
        {"base_url": "http://console.example.com/api/v1", "auth_token": TOKEN},
        "plain http to console.example.com",
    ),
    "page_size too small": (
        {"domain": "ab12cd34", "auth_token": TOKEN, "page_size": 0},
        "`page_size` is 0, out of range",
    ),
    "page_size too large": (
        {"domain": "ab12cd34", "auth_token": TOKEN, "page_size": 10_001},
        "`page_size` is 10001, out of range",
    ),
    "domain that is a URL": (
        {"domain": "https://ab12cd34.canary.tools/", "auth_token": TOKEN},
        "is not a console domain hash",
    ),
    "token pasted into base_url": (
        {"base_url": f"ab12cd34.canary.tools/api/v1?auth_token={TOKEN}", "auth_token": TOKEN},
        "is not an http(s) URL",
    ),
    "token too short": (
        {"domain": "ab12cd34", "auth_token": "abc"},
        "`auth_token` is too short",
    ),
    "misspelled domain": (
        {"domian": "ab12cd34", "auth_token": TOKEN},
        "unknown setting `domian`; did you mean `domain`?",
    ),
    "misspelled optional setting": (
        {"domain": "ab12cd34", "auth_token": TOKEN, "start-date": "2024-01-01T00:00:00Z"},
        "unknown setting `start-date`; did you mean `start_date`?",
    ),
    "token with spaces": (
        {"domain": "ab12cd34", "auth_token": TOKEN + " x"},
        "`auth_token` is not a valid API key",
    ),
}


@pytest.mark.parametrize("case", CONFIG_ERRORS, ids=list(CONFIG_ERRORS))
def test_configuration_errors_stop_before_any_request(
    case: str, run_cli: Callable[..., TapRun]
) -> None:
    config, phrase = CONFIG_ERRORS[case]
    run = run_cli(config)
    assert_one_line_error(run, "Configuration error", phrase, exit_code=2)
    assert not run.counts()
    assert TOKEN + " x" not in run.stderr


def test_rejected_token_names_where_to_create_a_key(run_cli: Callable[..., TapRun]) -> None:
    with Simulator(Console(seed=1, incidents=5), auth_token="the-right-token") as sim:
        run = run_cli({"base_url": sim.base_url, "auth_token": TOKEN, **FAST_RETRIES})
    assert_stopped_at_the_first_request(
        run, "rejected the API token", "Settings > API > Add API Key"
    )
    assert not run.counts()


def test_resumed_run_reports_a_rejected_token_in_one_error_line(
    run_cli: Callable[..., TapRun],
) -> None:
    state = {"bookmarks": {"incidents": {"replication_key_value": 3}}}
    with Simulator(Console(seed=1, incidents=5), auth_token="the-right-token") as sim:
        run = run_cli({"base_url": sim.base_url, "auth_token": TOKEN, **FAST_RETRIES}, state=state)
        assert "/ping" not in sim.request_counts()
    assert_error_is_last_and_only_error(run, "rejected the API token", "Add API Key")


def test_api_disabled(
    run_cli: Callable[..., TapRun],
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    body = json.dumps({"result": "error", "message": "The API is disabled on this console"})
    console = scripted_console(lambda request: Reply(403, body.encode()))
    run = run_cli({"base_url": console.base_url, "auth_token": TOKEN, **FAST_RETRIES})
    assert_stopped_at_the_first_request(run, "API is disabled", "enable it")


def test_domain_not_found(run_cli: Callable[..., TapRun]) -> None:
    run = run_cli({"domain": "nosuchconsole0", "auth_token": TOKEN, **FAST_RETRIES})
    assert_stopped_at_the_first_request(
        run, "nosuchconsole0.canary.tools does not resolve", "check `domain`"
    )


def test_nothing_listening(run_cli: Callable[..., TapRun]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"base_url": f"http://127.0.0.1:{port}/api/v1", "auth_token": TOKEN}
    run = run_cli({**config, **FAST_RETRIES, "max_tries": 1})
    assert_stopped_at_the_first_request(run, "cannot connect to 127.0.0.1", "still after 1 try")


def test_html_page_instead_of_json(
    run_cli: Callable[..., TapRun],
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    login_page = b"<!doctype html><html><body>Sign in</body></html>"
    console = scripted_console(lambda request: Reply(200, login_page, "text/html"))
    run = run_cli({"base_url": console.base_url, "auth_token": TOKEN, **FAST_RETRIES})
    assert_stopped_at_the_first_request(run, "got an HTML page", "check that `domain`/`base_url`")


def test_transient_failures_that_outlast_the_retries(
    run_cli: Callable[..., TapRun],
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    console = scripted_console(lambda request: Reply(503, b"<html>busy</html>", "text/html"))
    run = run_cli({"base_url": console.base_url, "auth_token": TOKEN, **FAST_RETRIES})
    assert_error_is_last_and_only_error(run, "HTTP 503", "still after 2 tries", "`max_tries`")
    warnings = [line for line in run.stderr_lines if "| WARNING" in line]
    assert len(warnings) == 1
    assert "retrying in 0.0 s (try 2 of 2)" in warnings[0]
    assert len(console.requests) == 2


def test_tls_failure(run_cli: Callable[..., TapRun], tls_console: str) -> None:
    run = run_cli({"base_url": tls_console, "auth_token": TOKEN, **FAST_RETRIES})
    assert_stopped_at_the_first_request(
        run, "TLS verification failed for 127.0.0.1", "REQUESTS_CA_BUNDLE"
    )


def test_console_echoing_the_token_in_an_error(
    run_cli: Callable[..., TapRun],
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    def echo(request: Request) -> Reply:
        message = f"Invalid auth_token {request.headers.get('x-canary-auth-token')}"
        return Reply(401, json.dumps({"result": "error", "message": message}).encode())

    console = scripted_console(echo)
    run = run_cli({"base_url": console.base_url, "auth_token": TOKEN, **FAST_RETRIES})
    assert_stopped_at_the_first_request(run, "rejected the API token", "[REDACTED]")
    assert all("auth_token" not in request.params for request in console.requests)


def _console_that_fails_on(
    failing: Callable[[Request], Reply | None],
) -> Callable[[Request], Reply]:
    """An otherwise empty console with two incidents on a first page and a third behind a
    cursor, answering with `failing(request)` where that is not None."""
    incident = {
        "id": "incident:1",
        "updated_id": 1,
        "updated_time": "1700000000",
        "description": {"events": [{"timestamp": 1700000000}], "logtype": "4002"},
    }
    empty_pages = {
        "/audit_trail/fetch": {"audit_trail": [], "cursor": {"next": None}, "page_count": 1},
        "/devices/all": {"devices": []},
        "/flocks/summary": {"flocks_summary": {}},
        "/canarytokens/paginate": {"canarytokens": [], "cursor": {"next": None}},
    }

    def respond(request: Request) -> Reply:
        reply = failing(request)
        if reply is not None:
            return reply
        if request.path == "/incidents/all" and "cursor" in request.params:
            body: dict[str, Any] = {
                "incidents": [{**incident, "id": "incident:3", "updated_id": 3}],
                "cursor": {"next": None},
            }
        elif request.path == "/incidents/all":
            body = {
                "incidents": [incident, {**incident, "id": "incident:2", "updated_id": 2}],
                "cursor": {
                    "next": "page-2",
                    "next_link": f"http://x/?cursor=page-2&auth_token={TOKEN}",
                },
            }
        else:
            body = empty_pages.get(request.path, {})
        return Reply(200, json.dumps({**body, "result": "success"}).encode())

    return respond


def test_rejected_cursor_keeps_the_state_of_what_was_emitted(
    run_cli: Callable[..., TapRun],
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    def reject_cursor(request: Request) -> Reply | None:
        if "cursor" in request.params:
            return Reply(200, b'{"result": "error", "message": "Invalid cursor"}')
        return None

    console = scripted_console(_console_that_fails_on(reject_cursor))
    run = run_cli({"base_url": console.base_url, "auth_token": TOKEN, **FAST_RETRIES})
    assert_error_is_last_and_only_error(run, "rejected the paging cursor", "run the sync again")
    assert [r["id"] for r in run.records("incidents")] == ["incident:1", "incident:2"]
    assert console_bookmark(run.last_state, "incidents", CONSOLE)["replication_key_value"] == 2
    cursor_requests = [r.params for r in console.requests if "cursor" in r.params]
    assert cursor_requests == [{"cursor": "page-2"}]  # the cursor alone, never the next_link


def test_error_body_on_a_200_stops_the_sync_with_the_console_message(
    run_cli: Callable[..., TapRun],
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    def fail_tokens(request: Request) -> Reply | None:
        if request.path == "/canarytokens/paginate":
            return Reply(200, b'{"result": "error", "message": "Database is being upgraded"}')
        return None

    console = scripted_console(_console_that_fails_on(fail_tokens))
    run = run_cli({"base_url": console.base_url, "auth_token": TOKEN, **FAST_RETRIES})
    assert_error_is_last_and_only_error(run, "Database is being upgraded")
    # Everything synced before the failing stream is covered by the last state.
    assert console_bookmark(run.last_state, "incidents", CONSOLE)["replication_key_value"] == 3


@pytest.fixture
def tls_console(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on loopback with a self-signed certificate that nobody trusts."""
    answer = Reply(body=b'{"result": "success"}')
    with ScriptedConsole(lambda request: answer, tls_dir=tmp_path / "cert") as console:
        yield console.base_url


BAD_FILES = {
    "config file missing": ("--config", None, "was not found"),
    "config file not JSON": ("--config", "{auth_token: 1", "is not valid JSON"),
    "config file not an object": ("--config", "[1, 2]", "holds JSON, but not an object"),
    "state file cut short": ("--state", '{"bookmarks": {"incidents": {"repl', "is not valid JSON"),
    "catalog that is not one": ("--catalog", '{"streams": 5}', "is not a Singer catalog"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_unreadable_files_are_named_in_one_line(case: str, tmp_path: Path) -> None:
    option, content, phrase = BAD_FILES[case]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"domain": "ab12cd34", "auth_token": TOKEN}))
    bad = tmp_path / f"bad{option.replace('-', '_')}.json"
    if content is not None:
        bad.write_text(content)
    arguments = {"--config": str(config), option: str(bad)}
    command = [str(TAP_EXECUTABLE)] + [part for pair in arguments.items() for part in pair]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    run = TapRun(parse_messages(done.stdout), stderr=done.stderr, returncode=done.returncode)
    assert_one_line_error(run, str(bad), f"(given to {option}) {phrase}", exit_code=2)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_sync_with_its_state_and_a_non_zero_exit(
    signum: int,
    tmp_path: Path,
    scripted_console: Callable[[Callable[[Request], Reply]], ScriptedConsole],
) -> None:
    second_page_asked = threading.Event()

    def hold_second_page(request: Request) -> Reply | None:
        if "cursor" in request.params:
            second_page_asked.set()
            time.sleep(20)
        return None

    console = scripted_console(_console_that_fails_on(hold_second_page))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"base_url": console.base_url, "auth_token": TOKEN}))
    process = subprocess.Popen(
        [str(TAP_EXECUTABLE), "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert second_page_asked.wait(timeout=60)
    # The next page is asked for while the first is still being processed: signal only once
    # the first page's checkpoint is out, so the state to resume from is known.
    assert process.stdout is not None
    before_signal = _lines_until_incidents_bookmark(process.stdout)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    run = TapRun(
        parse_messages(before_signal + stdout), stderr=stderr, returncode=process.returncode
    )
    name = signal.Signals(signum).name
    assert_error_is_last_and_only_error(run, name, "resumes", exit_code=128 + signum)
    assert run.messages[-1]["type"] == "STATE"
    assert console_bookmark(run.last_state, "incidents", CONSOLE)["replication_key_value"] == 2


def _lines_until_incidents_bookmark(stdout: IO[str]) -> str:
    """What the tap writes up to and including its first STATE with an incidents bookmark."""
    lines = []
    for line in stdout:
        lines.append(line)
        message = json.loads(line)
        bookmark = console_bookmark(message.get("value", {}), "incidents", CONSOLE)
        if message.get("type") == "STATE" and "replication_key_value" in bookmark:
            break
    return "".join(lines)
