"""The Python versions the tap supports, and an interpreter for each on this machine.

The supported versions are the `Programming Language :: Python :: 3.X` classifiers of
`pyproject.toml`, the one place they are written (`--about` reports them from there too).

    python3 scripts/supported_pythons.py          # "3.11 /path/to/python3.11" per version
    python3 scripts/supported_pythons.py --ends   # only the lowest and the highest

An interpreter is `python3.X` on PATH, or else pyenv's newest installed 3.X. A version with
neither is an error naming it, so a machine that lacks one cannot pass for tested.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLASSIFIER = re.compile(r'"Programming Language :: Python :: (3\.\d+)"')


def supported_versions(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The classifiers' versions, oldest first."""
    found = CLASSIFIER.findall(pyproject.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"no 'Programming Language :: Python :: 3.X' classifier in {pyproject}")
    return sorted(set(found), key=lambda version: tuple(map(int, version.split("."))))


def reports_version(executable: str, version: str) -> bool:
    result = subprocess.run(
        [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == version


def interpreter(version: str) -> str:
    """A Python `version` interpreter, or SystemExit naming the version that is missing."""
    on_path = shutil.which(f"python{version}")
    if on_path and reports_version(on_path, version):
        return on_path
    if shutil.which("pyenv"):
        prefix = subprocess.run(
            ["pyenv", "prefix", version], capture_output=True, text=True, check=False
        )
        candidate = str(Path(prefix.stdout.strip()) / "bin" / "python")
        if prefix.returncode == 0 and reports_version(candidate, version):
            return candidate
    raise SystemExit(
        f"no Python {version} found (python{version} on PATH or pyenv's {version}): "
        f"install it, e.g. `pyenv install {version}`"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ends", action="store_true", help="only the lowest and the highest")
    args = parser.parse_args(argv)
    versions = supported_versions()
    if args.ends:
        versions = sorted({versions[0], versions[-1]}, key=versions.index)
    for version in versions:
        print(version, interpreter(version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
