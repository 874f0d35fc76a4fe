"""Python's cyclic garbage collector, run on the GUI thread only.

Work runs on worker threads (the task runner, the start-up load), and the automatic
collector runs in whichever thread happens to allocate when a threshold is passed. A cycle
holding a Qt widget collected there deletes the widget off the GUI thread, which Qt does
not survive (seen as a segmentation fault while a worker was inside SQLAlchemy). So the
automatic collector is switched off and the same thresholds are checked on a GUI-thread
timer instead.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collects garbage by generation on a timer of the thread it was made in."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(CHECK_INTERVAL_MS)

    def collect_due(self) -> None:
        """Collect the generations whose counts have passed their thresholds."""
        first, second, third = gc.get_count()
        if first > self._thresholds[0]:
            gc.collect(0)
            if second > self._thresholds[1]:
                gc.collect(1)
                if third > self._thresholds[2]:
                    gc.collect(2)
