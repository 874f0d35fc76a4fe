"""Crash-surviving drafts: an unsaved intake or session form, kept on this workstation.

While a new intake, reassessment or session form has changes, what it holds is written a
few seconds after each change to a file of its own (0600, in a 0700 folder of the user's
data folder; one per clinician, patient and form), through a temporary file and a rename,
so a crash leaves either the previous draft or the new one, never half of one. Saving the
form, or discarding its changes when asked, removes the file. At the next sign-in of the
same clinician each draft left behind is offered back: restore it, or discard it.

The draft holds what the form would save (the same plain data the service takes), not
widget positions, so it reopens in the same form however the form is laid out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import os
import tempfile
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import platformdirs
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from backclinic.ui.workstation import APP_FOLDER_NAME

DRAFTS_FOLDER_VARIABLE = "BACKCLINIC_DRAFTS_FOLDER"
DRAFT_FORMAT = "backclinic-draft/1"
# A draft is written this long after the change that started it, at most this often.
DRAFT_DELAY_MS = 3000
RESTORE = "Restore"
DISCARD = "Discard"


def drafts_folder() -> Path:
    configured = os.environ.get(DRAFTS_FOLDER_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir(APP_FOLDER_NAME, appauthor=False)) / "drafts"


@dataclass(frozen=True)
class DraftKey:
    """Whose draft of which form, about whom, in which database.

    Ids repeat across databases (a demo clinic and the real one on the same workstation),
    so the database's tag is part of the key: a draft is never offered on another one.
    """

    form: str  # "intake", "reassessment" or "session"
    database: str
    clinician_id: int
    patient_id: int

    @property
    def file_name(self) -> str:
        return f"{self.form}-{self.database}-{self.clinician_id}-{self.patient_id}.json"


@dataclass(frozen=True)
class SavedDraft:
    key: DraftKey
    patient_name: str
    saved_at: dt.datetime
    data: dict[str, Any]
    path: Path


class DraftFiles:
    """The drafts folder of this workstation's user."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or drafts_folder()

    def path(self, key: DraftKey) -> Path:
        return self.folder / key.file_name

    def write(self, key: DraftKey, patient_name: str, data: dict[str, Any]) -> Path:
        """Write the draft whole or not at all (0600, through a temporary file)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        document = {
            "format": DRAFT_FORMAT,
            "form": key.form,
            "database": key.database,
            "clinician_id": key.clinician_id,
            "patient_id": key.patient_id,
            "patient_name": patient_name,
            "saved_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "data": data,
        }
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{key.file_name}.", suffix=".partial", dir=self.folder
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path(key))
        finally:
            Path(temporary).unlink(missing_ok=True)
        return self.path(key)

    def remove(self, key: DraftKey) -> None:
        self.path(key).unlink(missing_ok=True)

    def for_clinician(self, database: str, clinician_id: int) -> list[SavedDraft]:
        """The clinician's drafts in this database, oldest first; unreadable files are left
        alone."""
        found = []
        if not self.folder.is_dir():
            return []
        for path in sorted(self.folder.glob(f"*-{database}-{clinician_id}-*.json")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
                if document.get("format") != DRAFT_FORMAT:
                    continue
                key = DraftKey(
                    str(document["form"]),
                    str(document["database"]),
                    int(document["clinician_id"]),
                    int(document["patient_id"]),
                )
                if (key.database, key.clinician_id) != (database, clinician_id) or (
                    key.file_name != path.name
                ):
                    continue
                found.append(
                    SavedDraft(
                        key,
                        str(document["patient_name"]),
                        dt.datetime.fromisoformat(document["saved_at"]),
                        dict(document["data"]),
                        path,
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(found, key=lambda draft: draft.saved_at)


class DraftableForm(Protocol):
    """A form that keeps drafts: what it would save, as plain data, and back."""

    def has_changes(self) -> bool: ...

    def draft_data(self) -> Any: ...


class DraftKeeper(QObject):
    """Writes a form's draft a few seconds after a change; removes it when the form is
    saved or its changes are discarded (the dialog finishes). A crash finishes nothing, so
    the draft stays for the next sign-in."""

    def __init__(
        self,
        form: QDialog,
        key: DraftKey,
        patient_name: str,
        data: Callable[[], Any],
        has_changes: Callable[[], bool],
        files: DraftFiles | None = None,
    ) -> None:
        super().__init__(form)
        self.key = key
        self.files = files or DraftFiles()
        self._patient_name = patient_name
        self._data = data
        self._has_changes = has_changes
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DRAFT_DELAY_MS)
        self.timer.timeout.connect(self.write_now)
        form.finished.connect(self._on_form_finished)
        self._finished = False

    def changed(self) -> None:
        """A change in the form: the draft is written when the timer runs out (a timer
        already running is left to run, so typing never postpones the draft forever)."""
        if not self._finished and not self.timer.isActive():
            self.timer.start()

    def write_now(self) -> None:
        if self._finished:
            return
        try:
            if self._has_changes():
                self.files.write(self.key, self._patient_name, encode(self._data()))
            else:
                self.files.remove(self.key)
        except OSError:
            # A draft is a safety net: a full disk must not stop the clinician typing.
            pass

    def _on_form_finished(self, _result: int) -> None:
        self._finished = True
        self.timer.stop()
        self.files.remove(self.key)


def watch_edits(root: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback`` after any edit in ``root``'s editors."""
    for line in root.findChildren(QLineEdit):
        line.textChanged.connect(lambda _text: callback())
    for text in root.findChildren(QPlainTextEdit):
        text.textChanged.connect(callback)
    for button in root.findChildren(QAbstractButton):
        button.toggled.connect(lambda _checked: callback())
    for combo in root.findChildren(QComboBox):
        combo.currentIndexChanged.connect(lambda _index: callback())
    for spin in root.findChildren(QSpinBox):
        spin.valueChanged.connect(lambda _value: callback())
    for date in root.findChildren(QDateEdit):
        date.dateChanged.connect(lambda _date: callback())
    for moment in root.findChildren(QDateTimeEdit):
        moment.dateTimeChanged.connect(lambda _moment: callback())


def restore_question(parent: QWidget | None, draft: SavedDraft, form_label: str) -> bool:
    """Ask whether to restore the draft; Discard removes it. True to restore."""
    box = QMessageBox(parent)
    box.setObjectName("restore_draft_message")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved draft")
    local = draft.saved_at.astimezone()
    today = dt.datetime.now().astimezone().date()
    when = f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"
    box.setText(f"Restore the draft {form_label} for {draft.patient_name} from {when}?")
    box.setInformativeText(
        "It was not saved when BackClinic last closed. Restore it to carry on where you "
        "left off, or discard it."
    )
    restore = box.addButton(RESTORE, QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton(DISCARD, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(restore)
    box.setEscapeButton(restore)
    box.exec()
    return box.clickedButton() is not discard


# Plain data to JSON and back, by the dataclasses' own type hints.


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def decode(kind: Any, value: Any) -> Any:
    """``value`` (from ``encode``) as ``kind``; ValueError when it does not fit."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        for option in options:
            try:
                return decode(option, value)
            except (ValueError, TypeError, KeyError):
                continue
        raise ValueError(f"{value!r} fits none of {kind}")
    if origin is typing.Literal:
        if value not in typing.get_args(kind):
            raise ValueError(f"{value!r} is not one of {kind}")
        return value
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(value, list):
            raise ValueError(f"{value!r} is not a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], item) for item in value)
        return tuple(decode(arg, item) for arg, item in zip(args, value, strict=True))
    if origin is dict:
        _key, item_kind = typing.get_args(kind)
        if not isinstance(value, dict):
            raise ValueError(f"{value!r} is not an object")
        return {key: decode(item_kind, item) for key, item in value.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ValueError(f"{value!r} is not an object")
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                f.name: decode(hints[f.name], value[f.name])
                for f in dataclasses.fields(kind)
                if f.init and f.name in value
            }
        )
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if kind is Any:
        return value
    if isinstance(kind, type) and not isinstance(value, kind):
        raise ValueError(f"{value!r} is not {kind.__name__}")
    return value
