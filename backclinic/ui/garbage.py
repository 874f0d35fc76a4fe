"""Python's cyclic garbage collector, run on the GUI thread only.

Work runs on worker threads (the task runner, the start-up load), and the automatic
collector runs in whichever thread happens to allocate when a threshold is passed. A cycle
holding a Qt widget collected there deletes the widget off the GUI thread, which Qt does
not survive (seen as a segmentation fault while a worker was inside SQLAlchemy). So the
automatic collector is switched off and the same thresholds are checked on a GUI-thread
timer instead.

What start-up loaded (modules, classes, the mapped tables, the main window) lives as long
as the process: once the main window is up it is moved out of the collector's sight
(``gc.freeze``), so a full collection goes through what was made since (measured on
100,000 patients after opening a patient with 200 sessions: 85,000 objects, a full
collection 66-150 ms on the GUI thread; after the freeze 6-10 ms).

The C heap is handed back to the operating system once the application is idle after a
collection: glibc keeps freed memory for reuse, so after rendering a document or loading a
long history the process would otherwise stay at its peak size all day.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500
# Growth of the resident set since the last trim that makes the next idle tick trim: opening a
# long history or rendering a document grows it by tens of megabytes; typing, by nothing.
TRIM_AFTER_GROWTH_BYTES = 4 * 1024 * 1024


def heap_trimmer() -> Callable[[], None] | None:
    """glibc's malloc_trim(0), which returns free heap pages to the system; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def trim_heap() -> None:
        trim(0)

    return trim_heap


def resident_bytes() -> int:
    """This process's resident set size, from /proc (0 where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def freeze_what_start_up_loaded() -> None:
    """Keep every object alive now out of later collections, once per process.

    Garbage pending at this moment is kept too (a one-off, small next to what is frozen).
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()


class GuiThreadCollector(QObject):
    """Collects garbage by generation on a timer of the thread it was made in."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._trim_heap = heap_trimmer()
        self._resident_after_trim = resident_bytes()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(CHECK_INTERVAL_MS)

    def collect_due(self) -> None:
        """Collect the generations whose counts have passed their thresholds.

        A tick with nothing to collect is an idle moment: if the process has grown since
        the last trim, the heap is trimmed then (a few milliseconds).
        """
        first, second, third = gc.get_count()
        if first > self._thresholds[0]:
            gc.collect(0)
            if second > self._thresholds[1]:
                gc.collect(1)
                if third > self._thresholds[2]:
                    gc.collect(2)
        elif self._trim_heap is not None and self._grown_since_trim():
            self._trim_heap()
            self._resident_after_trim = resident_bytes()

    def _grown_since_trim(self) -> bool:
        return resident_bytes() - self._resident_after_trim >= TRIM_AFTER_GROWTH_BYTES
