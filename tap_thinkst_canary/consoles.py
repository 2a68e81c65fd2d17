"""The consoles of a sync: each with its own API session, its own bookmarks and its own fate.

A console that fails (its token refused, unreachable, out of retries) is set aside for the rest
of the run: the others go on, each stream skips it, and the run ends non-zero naming it. What it
emitted before it failed is covered by its state, so the next run takes it up from there.
"""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

from tap_thinkst_canary.api import CanaryApi
from tap_thinkst_canary.errors import CanaryError
from tap_thinkst_canary.interruption import INTERRUPTION

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Collection, Iterable, Mapping

    from tap_thinkst_canary.api import JSON
    from tap_thinkst_canary.scrubbing import TokenScrubber
    from tap_thinkst_canary.settings import ConsoleSettings, Settings


class Console:
    """One console of the sync."""

    def __init__(
        self,
        console: ConsoleSettings,
        settings: Settings,
        scrubber: TokenScrubber,
        logger: logging.Logger,
        *,
        user_agent: str,
    ) -> None:
        self.settings = console
        self.name = console.name
        self._scrubber = scrubber
        self.api = CanaryApi(console, settings, scrubber, logger, user_agent=user_agent)
        #: Why the console was set aside, once it was.
        self.failure: CanaryError | None = None
        self._answers: dict[tuple[str, tuple[tuple[str, t.Any], ...]], JSON] = {}
        self._answers_lock = threading.Lock()

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def keep_secret(self, value: str) -> None:
        """A secret met in an answer (an API key in a key listing): from now on, no log line,
        error or record carries it."""
        self._scrubber.learn(value)

    def answer_once(self, endpoint: str, params: Mapping[str, t.Any] | None = None) -> JSON:
        """The console's answer to `GET endpoint?params`, asked for once a sync: several
        streams read the flocks' summary (flock records, and which flock each bird is in) and
        the list of birds (bird records, and the birds whose services are asked for)."""
        key = (endpoint, tuple(sorted((params or {}).items())))
        with self._answers_lock:
            if key not in self._answers:
                self._answers[key] = self.api.get(endpoint, params)
            return self._answers[key]


class Consoles:
    """Every console of the sync, in the order the settings list them."""

    def __init__(self, consoles: Iterable[Console], *, max_parallel: int) -> None:
        self._by_name = {console.name: console for console in consoles}
        self.max_parallel = max_parallel
        self._access_checked = False

    def __iter__(self) -> t.Iterator[Console]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __getitem__(self, name: str) -> Console:
        return self._by_name[name]

    @property
    def failed(self) -> list[Console]:
        return [console for console in self if console.failed]

    def check_access(self, *, skip: Collection[str], logger: logging.Logger) -> None:
        """Ask every console not in `skip` for `/ping`, all at once: the first request of the
        sync, so that a rejected token or an unreachable console is found before anything is
        synced. A console whose state shows it synced before is not asked: a scheduled run
        then makes only the requests its streams need.
        """
        if self._access_checked:
            return
        self._access_checked = True
        to_check = [console for console in self if console.name not in skip]
        if not to_check:
            return
        pool = ThreadPoolExecutor(self.max_parallel, thread_name_prefix="canary-ping")
        try:
            with INTERRUPTION.stoppable_wait():
                outcomes = list(pool.map(_access_problem, to_check))
        finally:
            # A signal stops the wait at once; the pings still in flight are left behind.
            pool.shutdown(wait=False, cancel_futures=True)
        for console, problem in zip(to_check, outcomes, strict=True):
            if problem is not None:
                self.set_aside(console, problem, logger=logger)

    def set_aside(self, console: Console, problem: CanaryError, *, logger: logging.Logger) -> None:
        """Take `console` out of the rest of the sync. With several consoles, say so now; a
        single console's problem is the run's own, said once as it ends."""
        if console.failed:
            return
        console.failure = problem
        if len(self) > 1:
            logger.error("Console %s: %s", console.name, problem)


def _access_problem(console: Console) -> CanaryError | None:
    try:
        console.api.check_access()
    except CanaryError as problem:
        return problem
    return None
