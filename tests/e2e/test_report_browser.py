"""`make demo` writes the report page; a real headless Chromium opens it from file:// and every
chart renders. The screenshot is kept in output/report-screenshot.png."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.pipeline import ROOT, require_meltano, run
from report.render import CHARTS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCREENSHOT = ROOT / "output" / "report-screenshot.png"
# No first-run work, no sync, no updates, nothing but the page.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, installed with apt-get when it is missing and the tests run as root;
    or the Chromium-based browser `CHROMIUM` names (a hosted CI runner's Chrome)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if found:
        return Path(found)
    if os.geteuid() != 0:
        message = "chromium is not installed: run `apt-get install -y chromium` as root"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr[-3000:]}"
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium, yet it is not on PATH"
    return Path(found)


def browse(chromium: Path, profile: Path, *args: str) -> str:
    result = subprocess.run(
        [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_demo_report_renders_every_chart_in_a_browser(chromium: Path, tmp_path: Path) -> None:
    require_meltano()
    output = tmp_path / "demo"
    demo = run(
        [sys.executable, "-m", "demo"], cwd=ROOT, env={**os.environ, "DEMO_OUTPUT": str(output)}
    )
    assert "== Report ==" in demo.stdout
    report = output / "report.html"
    page = report.read_text(encoding="utf-8")
    # Self-contained: nothing to load, and every chart waits for the page's own script.
    assert not re.search(r"\b(?:src|href)\s*=", page)
    assert page.count('data-rendered="pending"') == len(CHARTS)

    dom = browse(chromium, tmp_path / "profile-dom", "--dump-dom", report.as_uri())

    assert f'data-charts-rendered="{len(CHARTS)}/{len(CHARTS)}"' in dom
    for chart in CHARTS:
        figure = re.search(rf'<figure[^>]*data-chart="{chart}"[^>]*>', dom)
        assert figure, f"no {chart} chart in the page"
        assert 'data-rendered="true"' in figure[0], figure[0]
        marks = re.search(r'data-marks="(\d+)"', figure[0])
        assert marks, figure[0]
        assert int(marks[1]) > 0, figure[0]

    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    browse(
        chromium,
        tmp_path / "profile-shot",
        f"--screenshot={SCREENSHOT}",
        "--window-size=1000,1900",
        "--hide-scrollbars",
        report.as_uri(),
    )
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 20_000
