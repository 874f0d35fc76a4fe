"""Shared by the window child processes: mark "shown", report, optionally idle, quit."""

from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def rss_kib(field: str = "VmRSS") -> int:
    """This process's resident set (or VmHWM, its peak) from /proc/self/status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


def report_when_shown(
    app: QApplication, *, phases: dict[str, float], idle_seconds: float = 0.0
) -> None:
    """After show(): the first zero-timer tick (plus pending events) marks "shown".

    Prints {"shown": wall-clock time, "phases": ..., "rss_kib": ...}; with idle_seconds, it
    then leaves the event loop idle that long and reports the idle RSS before quitting.
    """

    def shown() -> None:
        app.processEvents()
        report = {"shown": time.time(), "phases": phases, "rss_kib": rss_kib()}
        if idle_seconds <= 0:
            print(json.dumps(report), flush=True)
            app.quit()
            return

        def idle_done() -> None:
            report["idle_rss_kib"] = rss_kib()
            report["peak_rss_kib"] = rss_kib("VmHWM")
            print(json.dumps(report), flush=True)
            app.quit()

        QTimer.singleShot(int(idle_seconds * 1000), idle_done)

    QTimer.singleShot(0, shown)
