"""How far a console's worker fetches ahead of the main thread, which writes the records.

Small pages (a flock's settings, its API keys: a request or a few each) are fetched ahead while
the main thread writes the other consoles, so that many consoles take about as long as the
slowest alone; large pages still wait, so the memory held stays about a page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tap_thinkst_canary.client import Feed, Page

WAIT_SECONDS = 5.0


class CountingPages:
    """`count` pages of `size` records, counting how many the worker has produced."""

    def __init__(self, count: int, size: int) -> None:
        self.count = count
        self.size = size
        self.produced = 0
        self.exhausted = threading.Event()

    def __call__(self) -> Iterator[Page]:
        for number in range(self.count):
            self.produced += 1
            yield Page([{"id": number * self.size + i} for i in range(self.size)])
        self.exhausted.set()


def start_worker(feed: Feed) -> threading.Thread:
    worker = threading.Thread(target=feed.run, daemon=True)
    worker.start()
    return worker


def test_small_pages_are_all_fetched_before_the_main_thread_takes_one() -> None:
    pages = CountingPages(count=8, size=3)
    feed = Feed("console-1", pages, records_ahead=30)
    worker = start_worker(feed)

    assert pages.exhausted.wait(WAIT_SECONDS), f"only {pages.produced} of 8 pages fetched ahead"
    worker.join(WAIT_SECONDS)
    assert not worker.is_alive()  # its work is done: a slot for another console's worker
    written = [record["id"] for page in feed for record in page.records]
    assert written == list(range(24))


def wait_until_produced(pages: CountingPages, count: int) -> None:
    """Until the worker has made `count` pages (or the test's patience runs out)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while pages.produced < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_large_pages_wait_for_the_main_thread() -> None:
    pages = CountingPages(count=6, size=10)
    feed = Feed("console-1", pages, records_ahead=10)
    worker = start_worker(feed)

    wait_until_produced(pages, 2)
    time.sleep(0.2)  # room for a worker that does not wait to go on
    # One page ready for the main thread, one in the worker's hands: no more.
    assert pages.produced == 2

    taken = iter(feed)
    first = next(taken)
    assert [record["id"] for record in first.records] == list(range(10))
    rest = [record["id"] for page in taken for record in page.records]
    assert rest == list(range(10, 60))
    worker.join(WAIT_SECONDS)
    assert not worker.is_alive()


def test_empty_pages_count_against_the_room_ahead() -> None:
    pages = CountingPages(count=50, size=0)
    feed = Feed("console-1", pages, records_ahead=5)
    start_worker(feed)

    time.sleep(0.3)
    assert pages.produced <= 6  # five ready and one in hand
    assert sum(1 for _ in feed) == 50


def test_a_stopped_feed_stops_its_waiting_worker() -> None:
    pages = CountingPages(count=100, size=10)
    feed = Feed("console-1", pages, records_ahead=10)
    worker = start_worker(feed)
    wait_until_produced(pages, 2)

    feed.stop()
    worker.join(WAIT_SECONDS)
    assert not worker.is_alive()
    assert pages.produced == 2


def test_what_the_worker_raises_comes_after_the_pages_before_it() -> None:
    def failing() -> Iterator[Page]:
        yield Page([{"id": 1}])
        raise RuntimeError("the console went away")

    feed = Feed("console-1", failing, records_ahead=10)
    start_worker(feed)
    taken = iter(feed)
    assert next(taken).records == [{"id": 1}]
    with pytest.raises(RuntimeError, match="the console went away"):
        next(taken)
