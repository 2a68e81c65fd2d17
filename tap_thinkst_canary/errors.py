"""The errors a user can act on, each a single line that names the problem and the fix."""

from __future__ import annotations

import typing as t

API_KEY_HELP = (
    "create or check a read-only API key in the Canary Console under "
    "Settings > API > Add API Key, and put it in `auth_token`"
)


class CanaryError(Exception):
    """A problem the user must fix: the message is one line, with the fix in it."""

    exit_code = 1


class ConfigError(CanaryError):
    """The configuration is wrong; found before any request is made."""

    exit_code = 2


class TokenRejectedError(CanaryError):
    """The console refused the API token."""


class PermissionRefusedError(CanaryError):
    """The console knows the API key, but the key may not read this endpoint."""


class ApiDisabledError(CanaryError):
    """The console answered, but its API is switched off."""


class ConsoleUnreachableError(CanaryError):
    """No console answers at the configured address."""


class TlsError(CanaryError):
    """The console's TLS certificate could not be verified."""


class UnexpectedResponseError(CanaryError):
    """The console answered with something that is not its JSON API (an HTML page, a redirect)."""


class CursorRejectedError(CanaryError):
    """The console refused a paging cursor it had handed out."""


class ConsoleError(CanaryError):
    """A `result: error` answer: the console's own message is the best explanation."""


class RetriesExhaustedError(CanaryError):
    """A transient failure that outlasted every retry."""


class SyncInterruptedError(CanaryError):
    """A signal (SIGTERM from an orchestrator, Ctrl-C) stopped the sync before it finished."""

    def __init__(self, signal_name: str, signal_number: int) -> None:
        super().__init__(
            f"The sync was stopped by {signal_name} before it finished; the state of everything "
            "emitted was written, and the next run resumes from it."
        )
        self.exit_code = 128 + signal_number  # what a shell reports for a process so stopped


class ConsolesFailedError(CanaryError):
    """Some consoles of the sync could not be synced; the others were."""

    def __init__(self, failed: list[t.Any], total: int) -> None:
        names = ", ".join(console.name for console in failed)
        super().__init__(
            f"{len(failed)} of {total} consoles could not be synced ({names}), each said why "
            "above; the others are complete and bookmarked, and the next run takes these up "
            "from their own bookmarks."
        )


class OutputClosedError(CanaryError):
    """Whatever read the tap's output (a target) stopped reading it."""


class SyncStopped(BaseException):
    """Ends the sync once the state of everything already emitted has been written.

    A BaseException, like SystemExit, so that the generic `except Exception` handlers on its way
    up (the SDK logs every stream exception as "unhandled", with a traceback) let it through,
    and the command line reports the one-line cause exactly once.
    """

    def __init__(self, cause: CanaryError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class SyncInterrupted(SyncStopped):
    """A signal's stop, raised at a safe point: the stream it stops writes the state first."""

    cause: SyncInterruptedError

    def __init__(self, cause: SyncInterruptedError) -> None:
        super().__init__(cause)
