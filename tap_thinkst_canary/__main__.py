"""The `tap-thinkst-canary` command, also run as `python -m tap_thinkst_canary`."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import sys

from tap_thinkst_canary.errors import CanaryError, OutputClosedError, SyncStopped
from tap_thinkst_canary.interruption import INTERRUPTION

# The tap's own logger (`TapThinkstCanary.name`), named here so that an error can be logged even
# when the tap itself was never imported.
LOGGER_NAME = "tap-thinkst-canary"
# The layout of the SDK's console log lines.
SDK_LOG_FORMAT = "{asctime:23s} | {levelname:8s} | {name:30s} | {message}"
# Allocations of container objects between two collections of the youngest generation (the
# interpreter's default is 700).
YOUNG_COLLECTION_THRESHOLD = 10_000
# glibc's `mallopt` options: the size from which an allocation gets memory of its own, given back
# to the system once freed, and how much free memory the shared heap keeps before it gives some
# back; and the sizes the tap sets.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
OWN_MEMORY_FROM_BYTES = 1024 * 1024
HEAP_KEEPS_FREE_BYTES = 32 * 1024 * 1024


def main() -> None:
    """Run the tap; a problem the user can fix ends it with one line on stderr, no traceback."""
    # First of all: a signal while the SDK is still being imported ends in one line too.
    INTERRUPTION.install()
    try:
        from tap_thinkst_canary.inputs import check_input_files
        from tap_thinkst_canary.tap import TapThinkstCanary

        command = TapThinkstCanary.cli  # building the command also sets up the SDK's logging
        _tune_garbage_collector()
        give_large_blocks_back_when_freed()
        check_input_files(sys.argv[1:])
        try:
            command()
        except SystemExit as done:
            if done.code:
                raise
        # A signal that came after the last record: the work is done and its state written,
        # but the run was asked to stop all the same, and says so.
        INTERRUPTION.stop_here_if_requested()
    except SyncStopped as stop:
        _exit_with(stop.cause)
    except CanaryError as error:
        _exit_with(error)


def _tune_garbage_collector() -> None:
    """Spare the cycle collector work that finds nothing.

    A sync makes millions of small dicts and lists (parsed pages, records, messages) that hold
    no reference cycles and are freed by reference counting as soon as they are written; the
    collector, run every 700 of them, kept walking them, and every full collection walked the
    whole heap of the imported modules too. Those modules live as long as the process: frozen,
    they are left out of every collection. The rare cycle is still collected, a little later.
    """
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def give_large_blocks_back_when_freed() -> None:
    """Keep memory flat however long the sync.

    glibc's malloc gives an allocation of 128 KiB or more memory of its own, returned to the
    system when freed, but it raises that size to the largest such block freed so far (up to
    32 MiB). A response body of a few megabytes, read and freed on every page, moves it up at
    once: from then on the bodies come from the shared heap, which grows with the sync and
    gives little back (peak memory 1.21 times as high at 1,000,000 incidents as at 10,000).
    Sizes that are set stay put. The heap's own margin is set with them, or it would fall to
    128 KiB and the heap be given back and taken again on every page, at a cost in CPU.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, OWN_MEMORY_FROM_BYTES)
    mallopt(M_TRIM_THRESHOLD, HEAP_KEEPS_FREE_BYTES)


def _exit_with(error: CanaryError) -> None:
    if isinstance(error, OutputClosedError):
        # Nobody reads stdout any more: point it at /dev/null, or the interpreter's own final
        # flush would fail again, with a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if not logging.getLogger().handlers:
        _log_as_the_sdk_does()  # stopped before the command was built
    logger = logging.getLogger(LOGGER_NAME)
    logger.debug("Where the error below came from:", exc_info=error)
    logger.error("%s", error)
    sys.exit(error.exit_code)


def _log_as_the_sdk_does() -> None:
    """Log lines laid out as the SDK's are, without importing it: the signal that stopped the
    tap may have left it half-imported, and importing it again could fail."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(SDK_LOG_FORMAT, style="{"))
    logging.getLogger().addHandler(handler)


if __name__ == "__main__":
    main()
