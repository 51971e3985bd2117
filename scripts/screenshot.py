"""Render a brief and the panel summary to PNG in headless Chromium, to look at them.

Usage: python scripts/screenshot.py OUTDIR [EMPLOYEE_ID] [--into DIR] [--height PX]

OUTDIR is a folder written by ``talentrules evaluate``. Writes brief-<id>.png and
summary.png (A4-width pages, tall enough for the whole document) into --into
(default: OUTDIR/screenshots). Debian's chromium:
``apt-get install -y chromium``. Every run uses a fresh, throwaway profile and
no network features, so nothing outside the documents is loaded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium not found: apt-get update && apt-get install -y chromium")


def screenshot(browser: str, page: Path, png: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="talentrules-chromium-") as profile:
        command = [
            browser,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not png.is_file():
        sys.exit(f"chromium failed on {page}:\n{done.stderr[-2000:]}")
    print(f"wrote {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("employee_id", nargs="?")
    parser.add_argument("--into", type=Path)
    parser.add_argument("--width", type=int, default=900)
    parser.add_argument("--height", type=int, default=4200)
    args = parser.parse_args()
    data = json.loads((args.outdir / "recommendations.json").read_text(encoding="utf-8"))
    people = {p["employee_id"]: p for p in data["people"]}
    employee_id = args.employee_id or next(iter(people))
    if employee_id not in people:
        sys.exit(f"{employee_id}: not in {args.outdir}/recommendations.json")
    into = args.into or args.outdir / "screenshots"
    into.mkdir(parents=True, exist_ok=True)
    browser = find_chromium()
    brief = args.outdir / people[employee_id]["brief"]["html"]
    safe = Path(people[employee_id]["brief"]["html"]).stem
    screenshot(browser, brief, into / f"brief-{safe}.png", args.width, args.height)
    screenshot(
        browser, args.outdir / "summary.html", into / "summary.png", args.width, args.height * 2
    )


if __name__ == "__main__":
    main()
