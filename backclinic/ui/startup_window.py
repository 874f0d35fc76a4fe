"""The first window a person sees: shown before the database and services are loaded.

It imports nothing but Qt widgets, so that it appears as fast as any Qt window can.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

APP_NAME = "BackClinic"


class StartupWindow(QWidget):
    """ "BackClinic — opening the clinic's records…", until sign-in takes over."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.setWindowFlag(Qt.WindowType.SplashScreen)
        title = QLabel(APP_NAME)
        title.setStyleSheet("font-size: 22px; font-weight: 600;")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("Opening the clinic's records…")
        self.message.setObjectName("startup_message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 30, 40, 30)
        layout.addWidget(title)
        layout.addWidget(self.message)
        self.resize(360, 140)
