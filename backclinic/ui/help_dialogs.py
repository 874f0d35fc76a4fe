"""The Help menu's two dialogs: the window's keyboard shortcuts, and About."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from backclinic import __version__

APP_SUMMARY = (
    "Integrative acupuncture and physical therapy records for back-pain clinics: intake, "
    "phased plans, sessions, progress and printed summaries."
)

# Each thing BackClinic ships or shows that is someone else's work, and the terms it is used on.
LICENCES: tuple[tuple[str, str], ...] = (
    (
        "DejaVu fonts",
        "The fonts of every printed page. Bitstream Vera licence, with the DejaVu changes "
        "in the public domain (resources/fonts/LICENSE-DejaVu.txt).",
    ),
    (
        "The Keele STarT Back Screening Tool",
        "© Keele University. Used unchanged, for clinical care, as Keele University allows; "
        "not for sale or modification (Hill et al. 2008, Arthritis Rheum 59:632).",
    ),
    (
        "Oswestry Disability Index 2.1a",
        "© Jeremy Fairbank. Reproduced for clinical use (Fairbank & Pynsent 2000, Spine 25:2940).",
    ),
    ("Qt for Python (PySide6)", "The window toolkit. GNU Lesser General Public License v3."),
    ("SQLAlchemy and Alembic", "The database layer and its migrations. MIT License."),
    ("ReportLab", "The printed documents. BSD License."),
    ("platformdirs", "The user's data and settings folders. MIT License."),
)


class ShortcutsDialog(QDialog):
    """Built from the window's own actions, so the list cannot drift from what the keys do."""

    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [
            (action.text().replace("&", "").rstrip("…"), action.shortcut())
            for action in actions
            if not action.shortcut().isEmpty()
        ]
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("shortcuts")
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for row, (name, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            shown = keys.toString(QKeySequence.SequenceFormat.NativeText)
            self.table.setItem(row, 1, QTableWidgetItem(shown))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(420, 320)

    @classmethod
    def show_for(cls, parent: QWidget, actions: Iterable[QAction]) -> None:
        cls(actions, parent).exec()


class AboutDialog(QDialog):
    """Says which BackClinic this is, on which database, and whose work it carries."""

    def __init__(self, *, database_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About BackClinic")
        self.text = QTextBrowser()
        self.text.setObjectName("about")
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(self._html(database_label))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(520, 460)

    @staticmethod
    def _html(database_label: str) -> str:
        database = escape(database_label) if database_label else "not shown"
        licences = "".join(
            f"<p><b>{escape(name)}</b><br>{escape(terms)}</p>" for name, terms in LICENCES
        )
        return (
            f"<h3>BackClinic</h3><p>Version {escape(__version__)}</p>"
            f"<p>{escape(APP_SUMMARY)}</p>"
            f"<p>Database: {database}</p>"
            f"<h4>Licences</h4>{licences}"
        )

    @classmethod
    def show_for(cls, parent: QWidget, *, database_label: str) -> None:
        cls(database_label=database_label, parent=parent).exec()
