"""The `tap-thinkst-canary` command, also run as `python -m tap_thinkst_canary`."""

from __future__ import annotations

import logging
import os
import sys

from tap_thinkst_canary.errors import CanaryError, OutputClosedError, SyncStopped
from tap_thinkst_canary.inputs import check_input_files
from tap_thinkst_canary.tap import TapThinkstCanary


def main() -> None:
    """Run the tap; a problem the user can fix ends it with one line on stderr, no traceback."""
    try:
        command = TapThinkstCanary.cli  # building the command also sets up the SDK's logging
        check_input_files(sys.argv[1:])
        command()
    except SyncStopped as stop:
        _exit_with(stop.cause)
    except CanaryError as error:
        _exit_with(error)


def _exit_with(error: CanaryError) -> None:
    if isinstance(error, OutputClosedError):
        # Nobody reads stdout any more: point it at /dev/null, or the interpreter's own final
        # flush would fail again, with a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    logger = logging.getLogger(TapThinkstCanary.name)
    logger.debug("Where the error below came from:", exc_info=error)
    logger.error("%s", error)
    sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
