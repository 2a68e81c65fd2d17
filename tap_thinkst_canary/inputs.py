"""The files named on the command line, checked before anything reads them.

The SDK reads `--config`, `--state` and `--catalog` files itself and, when one is missing or
broken, fails with a traceback that does not say which file it was. Checked here first, each
problem ends in one line that names the file and what to do about it. A state file is also
checked for a state this tap can resume from (`tap_thinkst_canary.state`).
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterator, Sequence
from pathlib import Path

from tap_thinkst_canary.errors import ConfigError
from tap_thinkst_canary.state import InvalidStateError, check_state

FIXES = {
    "--config": "fix it, or point --config at the right file",
    "--state": "restore the last good state, or run without --state for a full sync",
    "--catalog": "make a new one with --discover",
}


def check_input_files(argv: Sequence[str]) -> None:
    """Raise `ConfigError` for the first file option in `argv` that names no readable JSON."""
    for option, path in _file_arguments(argv):
        if option == "--config" and path == "ENV":
            continue  # settings from the environment, not a file
        value = _read_json(option, path)
        if not isinstance(value, dict):
            raise _problem(option, path, "holds JSON, but not an object")
        if option == "--catalog" and not _is_catalog(value):
            raise _problem(option, path, "is not a Singer catalog (a list of `streams`)")
        if option == "--state":
            try:
                check_state(value)
            except InvalidStateError as problem:
                raise _problem(option, path, str(problem)) from None


def _file_arguments(argv: Sequence[str]) -> Iterator[tuple[str, str]]:
    arguments = iter(argv)
    for argument in arguments:
        option, equals, value = argument.partition("=")
        if option in FIXES:
            path = value if equals else next(arguments, None)
            if path is not None:
                yield option, path


def _read_json(option: str, path: str) -> t.Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _problem(option, path, "was not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise _problem(option, path, f"cannot be read ({error.__class__.__name__})") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise _problem(option, path, f"is not valid JSON ({error})") from None


def _is_catalog(value: dict[str, t.Any]) -> bool:
    streams = value.get("streams")
    return isinstance(streams, list) and all(
        isinstance(entry, dict) and ("tap_stream_id" in entry or "stream" in entry)
        for entry in streams
    )


def _problem(option: str, path: str, what: str) -> ConfigError:
    return ConfigError(f"Configuration error: {path} (given to {option}) {what}; {FIXES[option]}.")
