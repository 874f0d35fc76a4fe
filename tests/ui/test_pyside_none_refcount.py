"""PySide6 6.12.0 on CPython 3.11 drops a reference to None on every Qt call that returns
nothing, until the interpreter aborts with "none_dealloc"; this guards the pinned version."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

CALLS = 100_000


def test_a_hundred_thousand_void_qt_calls_leave_nones_reference_count_intact(
    qtbot: QtBot,
) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for number in range(CALLS // 2):
        widget.setVisible(False)
        widget.setObjectName("probe" if number % 2 else "other")
    after = sys.getrefcount(None)
    # A defective binding loses one per call (~100,000). Other threads still finishing an
    # earlier test's background reads take and drop references meanwhile (a few hundred
    # were seen in CI), so the bound is a tenth of the calls, not an exact count.
    lost = before - after
    assert lost < CALLS // 10, f"None lost {lost} references over {CALLS} calls"
