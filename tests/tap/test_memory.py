"""The tap's memory stays flat over a long sync: freed blocks of a page's size go back to the
system (`give_large_blocks_back_when_freed`)."""

from __future__ import annotations

import subprocess
import sys

# In a fresh interpreter: a 16 MiB block freed (the largest response body so far), then a page's
# worth of 1 MiB blocks made, a small block made after them and kept (as the sync keeps its
# state, its logs...), and the large ones freed: how much of them the process still holds.
_KEPT_AFTER_FREEING = """
import sys
from pathlib import Path
from tap_thinkst_canary.__main__ import give_large_blocks_back_when_freed

def resident_mib():
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024

if sys.argv[1] == "set":
    give_large_blocks_back_when_freed()
body = bytearray(16 * 1024 * 1024)
del body
before = resident_mib()
blocks = [bytearray(1024 * 1024) for _ in range(40)]
kept = bytearray(64 * 1024)
del blocks
print(resident_mib() - before)
"""


def kept_mib(how: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _KEPT_AFTER_FREEING, how],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def test_blocks_of_a_page_s_size_go_back_to_the_system_once_freed() -> None:
    assert kept_mib("set") < 8


def test_without_it_the_heap_keeps_them() -> None:
    # What the setting is for: left to itself, malloc keeps most of the 64 MiB.
    assert kept_mib("default") > 32
