"""One child process measured: its wall time, its CPU time and the most memory it held."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from typing_extensions import override

MEGABYTE = 1_000_000


class PeakRss(threading.Thread):
    """The peak resident set size of one process, in bytes, followed while it runs.

    It reads the kernel's high-water mark of the process's memory (VmHWM), which belongs to the
    child's own address space and never goes down, so reading it every few milliseconds until the
    process exits misses at most the last few milliseconds of its life. (Not the child's
    `ru_maxrss`: on Linux that starts from the RSS of the process it was forked from, here the
    test or the benchmark itself.)
    """

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(name=f"peak-rss-{pid}", daemon=True)
        self._status = Path(f"/proc/{pid}/status")
        self._interval = interval
        self._stopped = threading.Event()
        self.peak_bytes = 0

    @override
    def run(self) -> None:
        while not self._stopped.is_set():
            self.peak_bytes = max(self.peak_bytes, self._high_water_mark())
            self._stopped.wait(self._interval)

    def _high_water_mark(self) -> int:
        try:
            status = self._status.read_text()
        except OSError:  # gone already
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0  # a zombie: its memory is released

    def stop(self) -> None:
        self._stopped.set()
        self.join()


@dataclass
class Measured:
    """One child process: how long it took and the most memory it held."""

    wall_seconds: float
    #: User plus system CPU time: steadier than wall time on a busy machine.
    cpu_seconds: float
    peak_rss_mb: float
    returncode: int
    stderr_tail: str


def measure(
    command: Sequence[str],
    *,
    stdout: Path,
    stderr: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Measured:
    """Run `command` to its end, its output into these files, and measure it."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        peak = PeakRss(process.pid)
        peak.start()
        # wait4 rather than Popen.wait: it returns the CPU time of this one child.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        peak.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    tail = stderr.read_text(errors="replace").strip().splitlines()[-5:]
    return Measured(
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak.peak_bytes / MEGABYTE,
        returncode=process.returncode,
        stderr_tail="\n".join(tail),
    )
