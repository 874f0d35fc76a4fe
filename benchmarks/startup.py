"""Time from process start to the first window shown: BackClinic against a bare Qt window.

Each measurement is a fresh subprocess: (a) benchmarks.bare_window, a QMainWindow with an
empty QTableView; (b) benchmarks.backclinic_startup_window, BackClinic's first window as
`python main.py` shows it (before the database layers load); (c) benchmarks.backclinic_window,
BackClinic's main window on a 100,000-patient database, signed in programmatically. "Shown"
is the first zero-timer tick after show() plus processEvents(). Prints the median of each
and each BackClinic figure's ratio to the bare window (goal for the first window: <= 2x).
Without a display it uses Qt's offscreen platform; run under xvfb-run for the xcb one.
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
        "bare QMainWindow + QTableView": [sys.executable, "-m", "benchmarks.bare_window"],
        "BackClinic first window": [sys.executable, "-m", "benchmarks.backclinic_startup_window"],
        "BackClinic main window (100k)": [
            sys.executable,
            "-m",
            "benchmarks.backclinic_window",
            sqlite_url(path),
        ],
    }
    platform = environment.get("QT_QPA_PLATFORM", "default (display present)")
    print(f"Qt platform: {platform}; {arguments.runs} runs each after one warm-up")
    for command in commands.values():
        launch(command, environment)
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    phases: list[dict[str, float]] = []
    for run in range(arguments.runs):
        # Alternate the order so neither side always benefits from the other's warm cache.
        order = list(commands) if run % 2 == 0 else list(reversed(commands))
        for name in order:
            elapsed, report = launch(commands[name], environment)
            seconds[name].append(elapsed)
            if name.startswith("BackClinic main"):
                phases.append(report["phases"])
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    for name, values in seconds.items():
        runs = ", ".join(f"{value * 1000:.0f}" for value in values)
        print(f"{name:<32} median {medians[name] * 1000:6.0f} ms   (runs: {runs})")
    bare, first_window, main_window = medians.values()
    ratio = first_window / bare
    verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
    print(f"first window ratio: {ratio:.2f}x  goal <= {GOAL_RATIO:.0f}x: {verdict}")
    print(f"main window (signed in) ratio: {main_window / bare:.2f}x")
    print("BackClinic main window phases, median ms (after interpreter start):")
    for phase in phases[0]:
        value = statistics.median(report[phase] for report in phases)
        print(f"  {phase:<16}{value * 1000:7.0f}")


if __name__ == "__main__":
    main()
