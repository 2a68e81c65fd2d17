"""The `tap-thinkst-canary` command, also run as `python -m tap_thinkst_canary`."""

from __future__ import annotations

import logging
import sys

from tap_thinkst_canary.errors import CanaryError, SyncStopped
from tap_thinkst_canary.tap import TapThinkstCanary


def main() -> None:
    """Run the tap; a problem the user can fix ends it with one line on stderr, no traceback."""
    try:
        TapThinkstCanary.cli()
    except SyncStopped as stop:
        _exit_with(stop.cause)
    except CanaryError as error:
        _exit_with(error)


def _exit_with(error: CanaryError) -> None:
    logger = logging.getLogger(TapThinkstCanary.name)
    logger.debug("Stopped by", exc_info=error)
    logger.error("%s", error)
    sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
