"""BackClinic's start as a clinician feels it, against a bare Qt window, in one run.

Each measurement is a fresh subprocess: (a) benchmarks.bare_window, a QMainWindow with an
empty QTableView; (b) benchmarks.backclinic_sign_in, BackClinic started exactly as
`python main.py` starts it on a 100,000-patient database, signing in as a person would.
Two figures, each a median over the runs:
- sign-in dialog ready for typing: process start to the dialog shown (goal <= 2x the bare
  window's process start to shown);
- Enter to the main window with the Today list shown and painted, argon2 included
  (goal <= 400 ms).
"Shown" is the first zero-timer tick after show() plus processEvents(). Without a display
it uses Qt's offscreen platform; run under xvfb-run for the xcb one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.clinic_db import database_argument, ensure, sqlite_url

GOAL_RATIO = 2.0
GOAL_ENTER_MS = 400.0
BARE = "bare"
BACKCLINIC = "backclinic"
ROOT = Path(__file__).resolve().parents[1]


def child_environment() -> dict[str, str]:
    environment = dict(os.environ)
    has_display = environment.get("DISPLAY") or environment.get("WAYLAND_DISPLAY")
    if not has_display and "QT_QPA_PLATFORM" not in environment:
        environment["QT_QPA_PLATFORM"] = "offscreen"
    return environment


def launch(command: list[str], environment: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Seconds from spawning the process to its window being shown, and its report."""
    started = time.time()
    finished = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{finished.stderr}")
    report: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return report["shown"] - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    database_argument(parser)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    path = ensure(arguments.database)
    environment = child_environment()
    commands = {
        BARE: [sys.executable, "-m", "benchmarks.bare_window"],
        BACKCLINIC: [sys.executable, "-m", "benchmarks.backclinic_sign_in", sqlite_url(path)],
    }
    platform = environment.get("QT_QPA_PLATFORM", "default (display present)")
    print(f"Qt platform: {platform}; {arguments.runs} runs each after one warm-up")
    for command in commands.values():
        launch(command, environment)
    shown: dict[str, list[float]] = {name: [] for name in commands}
    reports: list[dict[str, Any]] = []
    for run in range(arguments.runs):
        # Alternate the order so neither side always benefits from the other's warm cache.
        order = list(commands) if run % 2 == 0 else list(reversed(commands))
        for name in order:
            started = time.time()
            elapsed, report = launch(commands[name], environment)
            shown[name].append(elapsed)
            if name == BACKCLINIC:
                report["services_after"] = report["services_loaded"] - started
                reports.append(report)
    bare = statistics.median(shown[BARE])
    sign_in = statistics.median(shown[BACKCLINIC])
    enter = [(r["main_window_shown"] - r["enter"]) for r in reports]
    print(f"{'bare window shown':<34} median {bare * 1000:6.0f} ms   ({runs(shown[BARE])})")
    ratio = sign_in / bare
    print(
        f"{'sign-in dialog ready for typing':<34} median {sign_in * 1000:6.0f} ms   "
        f"({runs(shown[BACKCLINIC])})"
    )
    verdict = met(ratio <= GOAL_RATIO)
    print(f"  ratio {ratio:.2f}x the bare window, goal <= {GOAL_RATIO:.0f}x: {verdict}")
    loaded = statistics.median(r["services_after"] for r in reports)
    print(f"  services loaded behind it after  {loaded * 1000:6.0f} ms (median)")
    enter_median = statistics.median(enter)
    print(
        f"{'Enter -> main window painted':<34} median {enter_median * 1000:6.0f} ms   "
        f"({runs(enter)})"
    )
    print(f"  goal <= {GOAL_ENTER_MS:.0f} ms: {met(enter_median * 1000 <= GOAL_ENTER_MS)}")
    print("  phases, median ms:")
    for phase in reports[0]["phases"]:
        value = statistics.median(r["phases"][phase] for r in reports)
        print(f"    {phase:<18}{value * 1000:7.0f}")
    print(f"  main window title: {reports[0]['main_window_title']}")


def runs(values: list[float]) -> str:
    return "runs: " + ", ".join(f"{value * 1000:.0f}" for value in values)


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    main()
