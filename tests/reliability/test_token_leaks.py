"""The API token appears nowhere in what the tap writes, whatever happens.

Every scenario of the error table, every fault of the simulator (at rates high enough that some
requests run out of tries), a kill, and consoles that go out of their way to hand the token back
(in an error message, a redirect, a status line, the data itself) are run with everything logged
(LOGLEVEL=DEBUG). Then stdout, stderr and every file the tap could have written (its working
directory, and HOME and TMPDIR pointed inside it) are searched for the token, raw and encoded.
The configuration file is the one place it belongs, and the only file not searched.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from canary_simulator.estate_api import planted_secrets
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import KillPoint, TapRun, run_concurrently, run_tap

from .scenarios import SCENARIOS, Setup
from .suite import AUTH_TOKEN, FROZEN_NOW, new_console, simulator, tap_config

pytestmark = pytest.mark.slow

TRANSIENT_AND_ERROR_FAULTS = ("429", "500", "502", "503", "timeout", "reset", "truncate")
# Characters that URL and form encodings change, in a token the console accepts as any other.
AWKWARD_TOKEN = "k3y+with/slash=and&amp;%25"


@dataclass(frozen=True)
class LeakCase:
    name: str
    setup: Callable[[ExitStack, Path], Setup]
    args: tuple[str, ...] = ()
    kill_at: KillPoint | None = None


def token_forms(token: str) -> set[str]:
    """The token as it could appear: raw, URL-encoded both ways, JSON-escaped, base64."""
    return {
        token,
        quote(token, safe=""),
        quote_plus(token),
        json.dumps(token)[1:-1],
        base64.b64encode(token.encode()).decode(),
    }


def leaks(run: TapRun, token: str) -> list[str]:
    """Where any form of `token` appears in what the tap wrote."""
    found = []
    for form in token_forms(token):
        if form in run.stdout:
            found.append(f"stdout holds {form!r}")
        if form in run.stderr:
            found.append(f"stderr holds {form!r}")
        for path in sorted(run.workdir.rglob("*")):
            if path.is_file() and path.name != "config.json" and form.encode() in path.read_bytes():
                found.append(f"{path.relative_to(run.workdir)} holds {form!r}")
    return found


# ------------------------------------------------------------------------------ the consoles


# The API key values every simulated console's key listings hand out: no more to be written
# than the token itself.
API_KEY_VALUES: set[str] = set()


def _full_sync(stack: ExitStack, workdir: Path, token: str = AUTH_TOKEN, **kwargs: object) -> Setup:
    sim = stack.enter_context(simulator(new_console(incidents=60), auth_token=token, **kwargs))
    API_KEY_VALUES.update(sim.console.api_key_values())
    return Setup(tap_config(sim.base_url, token, max_tries=2))


def _full_sync_unredacted(stack: ExitStack, workdir: Path) -> Setup:
    setup = _full_sync(stack, workdir)
    setup.config["redact_secrets"] = False
    return setup


def _echoing(reply: Callable[[str], Reply]) -> Callable[[ExitStack, Path], Setup]:
    """A console whose answer quotes the token back."""

    def setup(stack: ExitStack, workdir: Path) -> Setup:
        server = stack.enter_context(ScriptedConsole(lambda request: reply(AUTH_TOKEN)))
        return Setup(tap_config(server.base_url, max_tries=2, max_retry_wait=0))

    return setup


def _token_in_the_data(stack: ExitStack, workdir: Path) -> Setup:
    """Audit entries whose message holds the token, as a careless console might log it."""
    sim = stack.enter_context(simulator(new_console(incidents=20)))

    def plant_token(request: Request) -> Reply | None:
        if request.path != "/audit_trail/fetch":
            return None
        answer = proxy.forward(request)
        page = json.loads(answer.body)
        for entry in page.get("audit_trail", []):
            entry["message"] = f"API call with auth_token={AUTH_TOKEN} from {entry.get('user_ip')}"
        return Reply.json(page)

    proxy = stack.enter_context(ScriptedConsole(plant_token, upstream=sim.base_url))
    return Setup(tap_config(proxy.base_url))


def _token_in_bird_settings(stack: ExitStack, workdir: Path) -> Setup:
    """Birds whose service settings hold the token, as a banner someone pasted it into."""
    sim = stack.enter_context(simulator(new_console(incidents=20)))

    def plant_token(request: Request) -> Reply | None:
        if request.path != "/device/info":
            return None
        answer = json.loads(proxy.forward(request).body)
        settings = answer["device"]["settings"]
        for key in [key for key in settings if key.endswith(".enabled") and settings[key]]:
            settings[key.replace(".enabled", ".banner")] = f"Welcome; key {AUTH_TOKEN}"
        return Reply.json(answer)

    proxy = stack.enter_context(ScriptedConsole(plant_token, upstream=sim.base_url))
    return Setup(tap_config(proxy.base_url))


def _token_in_the_alerts(stack: ExitStack, workdir: Path) -> Setup:
    """Outside Bird alerts and suppressed incidents that quote the token, in a field with a
    column and in one without."""
    sim = stack.enter_context(simulator(new_console(incidents=20)))
    quoting = f"seen with auth_token={AUTH_TOKEN}"
    planted = {
        "/incidents/outside_bird/search": ("src_ips", "ip_address"),
        "/settings/ignored_annotations/incidents": ("ignored_incidents", "memo"),
    }

    def plant_token(request: Request) -> Reply | None:
        if request.path not in planted:
            return None
        records_key, field = planted[request.path]
        page = json.loads(proxy.forward(request).body)
        for item in page.get(records_key, []):
            item[field] = f"{item.get(field)} {quoting}"
            item["note"] = quoting
        return Reply.json(page)

    proxy = stack.enter_context(ScriptedConsole(plant_token, upstream=sim.base_url))
    return Setup(tap_config(proxy.base_url))


def _api_keys_in_the_data(stack: ExitStack, workdir: Path) -> Setup:
    """Audit entries and incidents that quote the console's API keys, read after the key
    listings that hand them out."""
    sim = stack.enter_context(simulator(new_console(incidents=20)))
    values = sorted(sim.console.api_key_values())
    API_KEY_VALUES.update(values)

    def plant_keys(request: Request) -> Reply | None:
        if request.path not in ("/audit_trail/fetch", "/incidents/all"):
            return None
        answer = proxy.forward(request)
        page = json.loads(answer.body)
        for number, entry in enumerate(page.get("audit_trail", [])):
            entry["message"] = f"API key {values[number % len(values)]} used"
        for number, incident in enumerate(page.get("incidents", [])):
            incident["description"]["memo"] = f"seen with {values[number % len(values)]}"
        return Reply.json(page)

    proxy = stack.enter_context(ScriptedConsole(plant_keys, upstream=sim.base_url))
    return Setup(tap_config(proxy.base_url))


def _token_from_environment(stack: ExitStack, workdir: Path) -> Setup:
    setup = _full_sync(stack, workdir)
    del setup.config["auth_token"]
    setup.env["TAP_THINKST_CANARY_AUTH_TOKEN"] = AUTH_TOKEN
    return setup


def _token_not_text(stack: ExitStack, workdir: Path) -> Setup:
    setup = _full_sync(stack, workdir)
    setup.config["auth_token"] = int(AUTH_TOKEN[:12], 16)
    return setup


def _settings_secret_echoed(stack: ExitStack, workdir: Path) -> Setup:
    """A console that quotes, in the errors of its flock settings, every credential its
    console-wide settings hold: the tap has met each of them by then."""
    console = new_console(incidents=20)
    sim = stack.enter_context(simulator(console))
    echoed = " ".join(
        secret for what, secret in planted_secrets(console).items() if not what.startswith("flock")
    )

    def echo_secrets(request: Request) -> Reply | None:
        if not request.path.startswith("/flock/settings/"):
            return None
        return Reply.json({"result": "error", "message": f"Webhooks {echoed} fail"}, status=400)

    proxy = stack.enter_context(ScriptedConsole(echo_secrets, upstream=sim.base_url))
    return Setup(tap_config(proxy.base_url))


def _reason(reason: str) -> Callable[[str], Reply]:
    def reply(token: str) -> Reply:
        return Reply(status=503, body=b"", content_type="text/plain",
                     headers={"Retry-After": "0"}, reason=reason.format(token=token))  # fmt: skip

    return reply


LEAK_CASES = (
    *(LeakCase(f"error-{scenario.name}", scenario.setup) for scenario in SCENARIOS),
    LeakCase("full-sync", _full_sync),
    LeakCase("full-sync-awkward-token", partial(_full_sync, token=AWKWARD_TOKEN)),
    *(
        LeakCase(f"fault-{kind}", partial(_full_sync, faults={kind: 0.4}, fault_seed=3))
        for kind in TRANSIENT_AND_ERROR_FAULTS
    ),
    LeakCase("fault-error-body", partial(_full_sync, faults={"error-body": 0.1}, fault_seed=2)),
    LeakCase("killed", _full_sync, kill_at=KillPoint("incidents", 30)),
    LeakCase("discover", _full_sync, args=("--discover",)),
    LeakCase("token-from-environment", _token_from_environment, args=("--config", "ENV")),
    LeakCase("token-not-text", _token_not_text),
    LeakCase("token-in-the-data", _token_in_the_data),
    LeakCase("token-in-bird-settings", _token_in_bird_settings),
    LeakCase("token-in-the-alerts", _token_in_the_alerts),
    LeakCase("full-sync-unredacted", _full_sync_unredacted),
    LeakCase("api-keys-in-the-data", _api_keys_in_the_data),
    LeakCase("settings-secret-echoed", _settings_secret_echoed),
    LeakCase("echoed-in-error-message", _echoing(
        lambda token: Reply.json({"result": "error", "message": f"Invalid auth_token {token}"},
                                 status=403))),
    LeakCase("echoed-in-console-error", _echoing(
        lambda token: Reply.json({"result": "error", "message": f"bad ?auth_token={token}"}))),
    LeakCase("echoed-in-html-page", _echoing(
        lambda token: Reply.html(f"<html><a href='/login?auth_token={token}'>Sign in</a></html>"))),
    LeakCase("echoed-in-redirect", _echoing(
        lambda token: Reply(status=302, headers={"Location": f"/login?auth_token={token}"}))),
    LeakCase("echoed-in-status-line", _echoing(_reason("Busy for {token}"))),
)  # fmt: skip


@pytest.fixture(scope="module")
def leak_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[TapRun, str]]:
    """Every case, run once with everything logged; with the token each one was given."""
    root = tmp_path_factory.mktemp("leaks")

    def run_case(case: LeakCase) -> tuple[TapRun, str]:
        workdir = root / case.name
        for private in ("home", "tmp"):
            (workdir / private).mkdir(parents=True)
        with ExitStack() as stack:
            setup = case.setup(stack, workdir)
            env = {
                "LOGLEVEL": "DEBUG",
                "HOME": str(workdir / "home"),
                "TMPDIR": str(workdir / "tmp"),
                **setup.env,
            }
            run = run_tap(
                setup.config, workdir, args=case.args + setup.args, kill_at=case.kill_at, env=env,
                frozen_now=FROZEN_NOW, singer_output=case.args != ("--discover",),
            )  # fmt: skip
        # A case without a token in its configuration must not leak the one it would have had.
        token = setup.env.get("TAP_THINKST_CANARY_AUTH_TOKEN") or setup.config.get(
            "auth_token", AUTH_TOKEN
        )
        return run, str(token)

    jobs = {case.name: partial(run_case, case) for case in LEAK_CASES}
    return run_concurrently(jobs, workers=4)


@pytest.mark.parametrize("case", [case.name for case in LEAK_CASES])
def test_token_appears_nowhere(case: str, leak_runs: dict[str, tuple[TapRun, str]]) -> None:
    run, token = leak_runs[case]
    assert run.stderr_lines, "the run must have written something to search"
    assert not leaks(run, token), run.describe()


# Cases whose console is `new_console()` of the suite: they plant its settings' secrets.
SETTINGS_SECRET_CASES = (
    "full-sync",
    *(f"fault-{kind}" for kind in TRANSIENT_AND_ERROR_FAULTS),
    "fault-error-body",
    "killed",
    "settings-secret-echoed",
)


@pytest.mark.parametrize("case", SETTINGS_SECRET_CASES)
def test_settings_secrets_appear_nowhere(
    case: str, leak_runs: dict[str, tuple[TapRun, str]]
) -> None:
    """Channel tokens, webhook credentials, the console's API key in its settings, license
    passwords and pull tokens: in no output, log or state."""
    run, _ = leak_runs[case]
    secrets = planted_secrets(new_console())
    found = {what: where for what, secret in secrets.items() if (where := leaks(run, secret))}
    assert not found, run.describe()


def test_the_settings_were_synced_with_their_secrets_redacted(
    leak_runs: dict[str, tuple[TapRun, str]],
) -> None:
    run, _ = leak_runs["full-sync"]
    settings = run.records("settings")
    assert settings
    splunk = [row["value"] for row in settings if row["setting"] == "webhooks.splunk_webhook"]
    assert splunk
    assert all(value["token"] == "[REDACTED]" for value in splunk)
    assert run.records("licenses")


def test_an_echoed_settings_secret_is_redacted_not_dropped(
    leak_runs: dict[str, tuple[TapRun, str]],
) -> None:
    run, _ = leak_runs["settings-secret-echoed"]
    assert "Webhooks [REDACTED] [REDACTED]" in run.stderr, run.describe()


def test_the_search_finds_a_planted_token(tmp_path: Path) -> None:
    """The search is not blind: each form of the token, planted in a file, is found."""
    for index, form in enumerate(sorted(token_forms(AWKWARD_TOKEN))):
        workdir = tmp_path / str(index)
        workdir.mkdir()
        (workdir / "state.json").write_text(json.dumps({"cursor": form}))
        run = TapRun([], workdir=workdir)
        assert leaks(run, AWKWARD_TOKEN), form


def test_debug_logging_was_on(leak_runs: dict[str, tuple[TapRun, str]]) -> None:
    run, _ = leak_runs["full-sync"]
    assert run.returncode == 0, run.describe()
    assert any("DEBUG" in line for line in run.stderr_lines)


def test_a_token_in_the_data_is_redacted_not_dropped(
    leak_runs: dict[str, tuple[TapRun, str]],
) -> None:
    run, _ = leak_runs["token-in-the-data"]
    assert run.returncode == 0, run.describe()
    messages = [entry["message"] for entry in run.records("audit_trail")]
    assert messages
    assert all("auth_token=[REDACTED] from " in message for message in messages)


def test_a_token_in_a_birds_settings_is_redacted_not_dropped(
    leak_runs: dict[str, tuple[TapRun, str]],
) -> None:
    run, _ = leak_runs["token-in-bird-settings"]
    assert run.returncode == 0, run.describe()
    banners = [service["banner"] for service in run.records("bird_services")]
    assert banners
    assert all(banner == "Welcome; key [REDACTED]" for banner in banners)


def test_a_token_in_the_alerts_is_redacted_not_dropped(
    leak_runs: dict[str, tuple[TapRun, str]],
) -> None:
    run, _ = leak_runs["token-in-the-alerts"]
    assert run.returncode == 0, run.describe()
    for stream, field in (
        ("outside_bird_incidents", "ip_address"),
        ("ignored_incidents", "memo"),
    ):
        records = run.records(stream)
        assert records, stream
        for record in records:
            assert record[field].endswith(" seen with auth_token=[REDACTED]"), record
            assert record["extra"]["note"] == "seen with auth_token=[REDACTED]", record


@pytest.mark.parametrize("case", [case.name for case in LEAK_CASES])
def test_no_api_key_value_appears_anywhere(
    case: str, leak_runs: dict[str, tuple[TapRun, str]]
) -> None:
    run, _ = leak_runs[case]
    assert API_KEY_VALUES, "the simulated consoles must have handed out keys to look for"
    found = [where for value in sorted(API_KEY_VALUES) for where in leaks(run, value)]
    assert not found, run.describe()


def test_api_keys_in_the_data_are_redacted_not_dropped(
    leak_runs: dict[str, tuple[TapRun, str]],
) -> None:
    run, _ = leak_runs["api-keys-in-the-data"]
    assert run.returncode == 0, run.describe()
    assert run.records("api_keys")
    messages = [entry["message"] for entry in run.records("audit_trail")]
    memos = [incident["memo"] for incident in run.records("incidents")]
    assert messages
    assert memos
    assert all(message == "API key [REDACTED] used" for message in messages)
    assert all(memo == "seen with [REDACTED]" for memo in memos)
