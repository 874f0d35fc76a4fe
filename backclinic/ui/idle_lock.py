"""The idle lock: after the clinic's idle time the window hides patient data behind sign-in.

Open dialogs are not closed. A dialog in exec() ends its event loop the moment it is hidden
(Qt's QDialog::setVisible(false) exits it, and the caller takes that as Cancel), so while
locked a dialog keeps running with its contents hidden; the same clinician signing in gets
it back exactly as it was. When another clinician signs in, the dialogs are set aside, kept
alive in a DraftStore for the first clinician, and shown again at their next sign-in.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from backclinic.services.accounts import AccountService
from backclinic.services.clinic import Clinician, ClinicService
from backclinic.services.errors import AuthenticationFailed
from backclinic.ui.field_errors import ERROR_STYLE

MINUTE_MS = 60_000
LOCKED_TITLE = "BackClinic — locked"

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TabletPress,
        QEvent.Type.TabletMove,
    }
)


def idle_interval_ms(minutes: int) -> int:
    """The clinic setting (1–30 minutes) as a timer interval."""
    return minutes * MINUTE_MS


class IdleLock(QObject):
    """Watches every key and mouse event of the application; emits locked when idle too long.

    The filter only notes the time of the last input, and the one timer re-arms itself for
    the time that is left, so a moving mouse costs no timer restarts. The interval is given
    in milliseconds so tests can use a short one.
    """

    locked = Signal()

    def __init__(
        self, app: QCoreApplication, *, interval_ms: int, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._interval_ms = interval_ms
        self._since_input = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._app = app
        app.installEventFilter(self)

    @property
    def interval_ms(self) -> int:
        return self._interval_ms

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def set_interval_ms(self, interval_ms: int) -> None:
        self._interval_ms = interval_ms
        if self.running:
            self.start()

    def start(self) -> None:
        self._since_input.start()
        self._timer.start(self._interval_ms)

    def stop(self) -> None:
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self._timer.isActive():
            self._since_input.restart()
        return False

    def _on_timer_timeout(self) -> None:
        remaining = self._interval_ms - self._since_input.elapsed()
        if remaining > 0:
            self._timer.start(int(remaining))
            return
        self.locked.emit()


class LockScreen(QWidget):
    """A sign-in form in its own application-modal window, over everything else."""

    signed_in = Signal(object)

    def __init__(self, clinic: ClinicService, *, username: str, locked_name: str) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self._clinic = clinic
        self.setObjectName("lock_screen")
        self.setWindowTitle(LOCKED_TITLE)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        heading = QLabel(
            f"<b>{clinic.settings().clinic_name}</b><br>"
            f"Locked after a time without input. {locked_name} can sign in to continue "
            "where they were; anyone else signing in gets a clean window."
        )
        heading.setObjectName("lock_heading")
        heading.setWordWrap(True)
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("sign_in")
        self.sign_in_button.setDefault(True)

        form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        column = QVBoxLayout()
        column.addWidget(heading)
        column.addLayout(form)
        column.addWidget(self.message)
        column.addWidget(self.sign_in_button)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(420)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(holder, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

        self.sign_in_button.clicked.connect(self._on_sign_in_button_clicked)
        self.password.returnPressed.connect(self._on_sign_in_button_clicked)
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.setFocus()

    def closeEvent(self, event: QEvent) -> None:
        # Closing the window must not uncover the one beneath; only a sign-in does.
        if self.property("unlocked"):
            event.accept()
        else:
            event.ignore()

    def _on_sign_in_button_clicked(self) -> None:
        try:
            clinician = self._clinic.sign_in(self.username.text(), self.password.text())
        except AuthenticationFailed as error:
            self.message.setText(str(error))
            self.message.show()
            self.password.clear()
            self.password.setFocus()
            return
        self.setProperty("unlocked", True)
        self.signed_in.emit(clinician)


class _CoveredDialog:
    """One open dialog with its contents hidden and its title neutral; undone by uncover()."""

    def __init__(self, dialog: QDialog) -> None:
        self.dialog = dialog
        self._title = dialog.windowTitle()
        self._hidden = [
            child
            for child in dialog.findChildren(
                QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
            )
            if not child.isWindow() and not child.isHidden()
        ]
        for child in self._hidden:
            child.hide()
        self._placeholder = QLabel("Locked", dialog)
        self._placeholder.setObjectName("locked_placeholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setGeometry(dialog.rect())
        self._placeholder.show()
        dialog.setWindowTitle(LOCKED_TITLE)

    def uncover(self) -> None:
        if not isValid(self.dialog):
            return
        self._placeholder.deleteLater()
        for child in self._hidden:
            if isValid(child):
                child.show()
        self.dialog.setWindowTitle(self._title)


class DraftStore:
    """Dialogs a clinician left open when someone else took over the screen, by clinician id.

    Held in memory for this app instance only; nothing unsaved is written anywhere.
    """

    def __init__(self) -> None:
        self._drafts: dict[int, list[QDialog]] = {}

    def keep(self, clinician_id: int, dialogs: list[QDialog]) -> None:
        for dialog in dialogs:
            # Detached first, so the old main window can be deleted without taking it along.
            dialog.setParent(None, dialog.windowFlags())
            # Ends a running exec() as Cancel; the dialog object and its input stay.
            dialog.hide()
        if dialogs:
            self._drafts.setdefault(clinician_id, []).extend(dialogs)

    def count(self, clinician_id: int) -> int:
        return len(self._drafts.get(clinician_id, []))

    def restore(self, clinician_id: int, parent: QWidget) -> list[QDialog]:
        """Show the clinician's drafts over their new window; saving one saves as them."""
        dialogs = [d for d in self._drafts.pop(clinician_id, []) if isValid(d)]
        for dialog in dialogs:
            dialog.setParent(parent, dialog.windowFlags())
            dialog.open()
        return dialogs


class WindowLock(QObject):
    """Locks one main window and unlocks it for whoever signs in on its lock screen.

    resumed: the same clinician is back, the window and its dialogs as they were.
    switched: another clinician signed in; the first one's dialogs are kept as drafts and
    the app should give the newcomer a clean window (and retire this one).
    """

    resumed = Signal(object)
    switched = Signal(object)

    def __init__(
        self,
        window: QMainWindow,
        clinician: Clinician,
        *,
        clinic: ClinicService,
        accounts: AccountService,
        drafts: DraftStore,
        idle: IdleLock | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._clinician = clinician
        self._clinic = clinic
        self._accounts = accounts
        self._drafts = drafts
        self._idle = idle
        self._screen: LockScreen | None = None
        self._covered: list[_CoveredDialog] = []
        self._focus: QWidget | None = None
        if idle is not None:
            idle.locked.connect(self.lock)

    @property
    def is_locked(self) -> bool:
        return self._screen is not None

    @property
    def lock_screen(self) -> LockScreen | None:
        return self._screen

    def lock(self) -> None:
        if self.is_locked:
            return
        if not self._window.isVisible():
            # A retired or not yet shown window; the watch goes on for whichever is shown.
            self._restart_idle()
            return
        self._focus = QApplication.focusWidget()
        central = self._window.centralWidget()
        if central is not None:
            central.hide()
        self._covered = [_CoveredDialog(dialog) for dialog in _open_dialogs()]
        screen = LockScreen(
            self._clinic,
            username=self._clinician.username,
            locked_name=self._clinician.full_name,
        )
        screen.setGeometry(self._window.geometry())
        screen.signed_in.connect(self._on_screen_signed_in)
        self._screen = screen
        screen.show()
        screen.activateWindow()
        screen.password.setFocus()
        self._accounts.record_lock(self._clinician.as_actor())

    def _on_screen_signed_in(self, clinician: Clinician) -> None:
        screen, self._screen = self._screen, None
        for covered in self._covered:
            covered.uncover()
        dialogs = [c.dialog for c in self._covered if isValid(c.dialog)]
        self._covered = []
        if screen is not None:
            screen.close()
            screen.deleteLater()
        self._accounts.record_unlock(clinician.as_actor(), locked_for=self._clinician.as_actor())
        if clinician.id == self._clinician.id:
            central = self._window.centralWidget()
            if central is not None:
                central.show()
            if self._focus is not None and isValid(self._focus):
                self._focus.window().activateWindow()
                self._focus.setFocus()
            self._restart_idle()
            self.resumed.emit(clinician)
            return
        self._drafts.keep(self._clinician.id, dialogs)
        self._restart_idle()
        self.switched.emit(clinician)

    def _restart_idle(self) -> None:
        if self._idle is not None:
            self._idle.start()


def _open_dialogs() -> list[QDialog]:
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, QDialog) and widget.isVisible()
    ]
