"""Resident memory of BackClinic's main window idling on 100,000 patients (goal <= 150 MB).

Runs benchmarks.backclinic_window in a subprocess, lets its event loop idle, and reads
VmRSS (and the peak, VmHWM) from /proc/self/status; the bare Qt window is shown for scale.
Linux only.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from benchmarks.clinic_db import database_argument, ensure, sqlite_url
from benchmarks.startup import child_environment, launch

GOAL_MB = 150.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    database_argument(parser)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    path = ensure(arguments.database)
    environment = child_environment()
    idle = ["--idle", str(arguments.idle)]
    commands = {
        "bare QMainWindow + QTableView": [sys.executable, "-m", "benchmarks.bare_window"],
        "BackClinic main window (100k)": [
            sys.executable,
            "-m",
            "benchmarks.backclinic_window",
            sqlite_url(path),
            *idle,
        ],
    }
    for name, command in commands.items():
        reports = [launch(command, environment)[1] for _ in range(arguments.runs)]
        shown = statistics.median(r["rss_kib"] for r in reports) / 1024
        line = f"{name:<32} RSS when shown {shown:6.1f} MB"
        if "idle_rss_kib" in reports[0]:
            idle_mb = statistics.median(r["idle_rss_kib"] for r in reports) / 1024
            peak_mb = statistics.median(r["peak_rss_kib"] for r in reports) / 1024
            verdict = "met" if idle_mb <= GOAL_MB else "MISSED"
            line += f", idle {idle_mb:6.1f} MB, peak {peak_mb:6.1f} MB"
            line += f"  goal <= {GOAL_MB:.0f} MB: {verdict}"
        print(line)


if __name__ == "__main__":
    main()
