"""SIGTERM and SIGINT: the sync stops where no message can be cut in two.

Python runs a signal handler in the main thread between any two of its bytecodes, so also in the
middle of writing a message to a pipe the target has not emptied yet. A handler that wrote a
STATE there would cut that message in two, or write part of it twice. So the handler here never
writes. Until the tap writes its first message nothing can be cut, and a signal stops the tap at
once (while it imports, builds its command line, checks its files or asks for `/ping`). Once the
tap writes messages, the handler only records the signal, and the sync stops at the next safe
point:

- right after a record, when it is written and counted in the state;
- while the main thread waits for the console's answer, at once, however slow the answer is:
  nothing is being written then, and the request still in flight is abandoned;
- at the end of the run, if the signal came after the last record.

The stream that stops writes a STATE of everything written so far, as the last message, and the
command line ends with one ERROR line and exit 128 + the signal. A write blocked on a full pipe
is finished first: while a target reads nothing at all, the tap waits with it. A second signal
changes nothing; SIGKILL still ends the tap at once, and the last STATE the target got stands.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import typing as t

from tap_thinkst_canary.errors import SyncInterrupted, SyncInterruptedError

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interruption:
    """The stop a signal asked for, and whether the tap may stop at the point it has reached."""

    def __init__(self) -> None:
        self.requested: SyncInterruptedError | None = None
        self._writing_messages = False
        self._waits = 0

    def install(self) -> None:
        """Handle SIGTERM and SIGINT here from now on (only the main thread may set handlers)."""
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                signal.signal(signum, self.handle)

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The signal handler: it writes nothing, and raises only where nothing is written."""
        if self.requested is not None:
            return  # already stopping
        self.requested = SyncInterruptedError(signal.Signals(signum).name, signum)
        if not self._writing_messages or self._waits:
            raise SyncInterrupted(self.requested)

    def messages_begin(self) -> None:
        """From now on the tap writes messages: a signal waits for the next safe point."""
        self._writing_messages = True

    def stop_here_if_requested(self) -> None:
        """A safe point: stop now if a signal asked for it."""
        if self.requested is not None:
            raise SyncInterrupted(self.requested)

    @contextlib.contextmanager
    def stoppable_wait(self) -> Iterator[None]:
        """A wait for the console during which a signal stops the sync at once."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signals interrupt the main thread only, wherever it is
            return
        self._waits += 1
        try:
            self.stop_here_if_requested()
            yield
        finally:
            self._waits -= 1


#: Signals reach the process as a whole: one interruption for it.
INTERRUPTION = Interruption()
