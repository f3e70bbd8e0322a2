"""Render an ``automl-pl report`` page in headless Chromium and save a PNG, to look at it as a reader would.

    automl-pl report studies/demo.toml -o report.html
    python scripts/report_screenshot.py report.html -o report.png [--width 1280] [--height 4200]

Needs Chromium (Debian: ``apt-get install chromium``). The page's plotly figures are drawn by
JavaScript, so Chromium is given a few seconds of virtual time before it takes the picture.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable on ``PATH``, or ``None``."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(page: str | os.PathLike, png: str | os.PathLike, *, width: int = 1280, height: int = 4200,
               wait_ms: int = 5000, timeout: float = 120) -> Path:
    """Save a ``width`` x ``height`` PNG of the HTML file ``page`` as headless Chromium renders it.

    Raises:
        FileNotFoundError: no Chromium on ``PATH``, or ``page`` does not exist.
        RuntimeError: Chromium failed or wrote no picture.
    """
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError(f"no Chromium found (tried {', '.join(BROWSERS)}): apt-get install chromium")
    page, png = Path(page).resolve(), Path(png).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"{page} does not exist")
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a throwaway profile: nothing of the user's is read or kept
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   f"--user-data-dir={profile}", f"--window-size={width},{height}",
                   f"--virtual-time-budget={wait_ms}", f"--screenshot={png}", page.as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium exited with {done.returncode} and wrote no {png.name}: {done.stderr[-1000:]}")
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="HTML file written by automl-pl report")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=4200)
    args = parser.parse_args(argv)
    try:
        print(screenshot(args.page, args.output, width=args.width, height=args.height))
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
