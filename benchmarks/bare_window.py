"""Child process for startup.py: the baseline, a bare QMainWindow with an empty QTableView.

Prints one JSON line with the wall-clock moment the window was shown and painted.
"""

from __future__ import annotations

import sys

from benchmarks.window_probe import report_when_shown

from PySide6.QtWidgets import QApplication, QMainWindow, QTableView  # isort: skip


def main() -> int:
    app = QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("Baseline")
    window.resize(1100, 720)
    window.setCentralWidget(QTableView())
    window.show()
    report_when_shown(app, phases={})
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
