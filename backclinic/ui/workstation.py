"""What this workstation remembers between runs: only the last user name, never a password."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

APP_FOLDER_NAME = "BackClinic"
SETTINGS_FILE_VARIABLE = "BACKCLINIC_WORKSTATION_SETTINGS"
_LAST_USER_KEY = "sign_in/last_user_name"


def workstation_settings_path() -> Path:
    """The user config folder's settings file; tests point the variable at their own."""
    configured = os.environ.get(SETTINGS_FILE_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser()
    folder = Path(platformdirs.user_config_dir(APP_FOLDER_NAME, appauthor=False))
    return folder / "workstation.ini"


class WorkstationMemory:
    """An INI file rather than the registry, so every platform keeps it in the same place."""

    def __init__(self, path: Path | None = None) -> None:
        self._settings = QSettings(
            str(path or workstation_settings_path()), QSettings.Format.IniFormat
        )

    def last_user_name(self) -> str:
        value = self._settings.value(_LAST_USER_KEY, "")
        return value if isinstance(value, str) else ""

    def remember_user_name(self, username: str) -> None:
        self._settings.setValue(_LAST_USER_KEY, username)
        self._settings.sync()
