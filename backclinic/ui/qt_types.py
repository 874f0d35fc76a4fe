"""Qt for Python's wrapper types, readied before the clinician presses Enter.

PySide6 creates its wrapper types, and their enums, lazily. The first time Qt hands Python
an object by a base class (a QObject* or QWidget* list), shiboken finds its most derived
type by readying every subclass the loaded Qt modules declare. Measured on the sign-in
path: 112 enum types, about 45 ms on the GUI thread, paid inside the main window's first
paint right after Enter. Readied while the clinician is still typing, the keystroke it
delays is not noticed; the main window is not kept waiting.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def ready_wrapper_types() -> None:
    """Resolve Qt objects by their base classes once, on the GUI thread, so that shiboken
    readies the types behind them now rather than during the main window's first paint."""
    application = QApplication.instance()
    if not isinstance(application, QApplication):
        return
    application.allWidgets()
    application.children()
