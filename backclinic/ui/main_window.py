"""The main window: the patient registry and opened patients as tabs. Features live elsewhere."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabBar, QTabWidget, QWidget

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician
from backclinic.ui.day_view import DayView
from backclinic.ui.patient_dialog import PatientDialog
from backclinic.ui.patient_list import PatientListView
from backclinic.ui.patient_workspace import PatientWorkspace
from backclinic.ui.session_dialog import SessionDialog


class MainWindow(QMainWindow):
    """Holds the views and routes between them; owns no feature of its own."""

    signed_out = Signal()

    def __init__(
        self,
        services: Services,
        clinician: Clinician,
        *,
        database_label: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self.clinician = clinician
        self._actor = clinician.as_actor()
        self.setWindowTitle("BackClinic")
        self.resize(1100, 720)

        self.day_view = DayView(services, self._actor)
        self.patients = PatientListView(services)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("main_tabs")
        self.tabs.setTabsClosable(True)
        self.tabs.addTab(self.day_view, "Today")
        self.tabs.addTab(self.patients, "Patients")
        for fixed in (0, 1):
            self.tabs.tabBar().setTabButton(fixed, QTabBar.ButtonPosition.RightSide, None)
        self.setCentralWidget(self.tabs)

        self.new_patient_action = QAction("&New patient…", self)
        self.new_patient_action.setShortcut(QKeySequence.StandardKey.New)
        self.find_patient_action = QAction("&Find patient", self)
        self.find_patient_action.setShortcut(QKeySequence.StandardKey.Find)
        self.sign_out_action = QAction("Sign &out", self)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        file_menu = self.menuBar().addMenu("&Patient")
        file_menu.addAction(self.new_patient_action)
        file_menu.addAction(self.find_patient_action)
        file_menu.addSeparator()
        file_menu.addAction(self.sign_out_action)
        file_menu.addAction(self.quit_action)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.new_patient_action)
        toolbar.addAction(self.find_patient_action)
        toolbar.addSeparator()
        toolbar.addAction(self.sign_out_action)

        clinic_name = services.clinic.settings().clinic_name
        self.user_label = QLabel(
            f"Signed in as {clinician.full_name} ({clinician.role_label}) · {clinic_name}"
        )
        self.user_label.setObjectName("signed_in")
        self.database_label = QLabel(f"Database: {database_label}" if database_label else "")
        self.database_label.setObjectName("database")
        self.statusBar().addWidget(self.user_label, 1)
        self.statusBar().addPermanentWidget(self.database_label)

        self.new_patient_action.triggered.connect(self._on_new_patient_action_triggered)
        self.find_patient_action.triggered.connect(self._on_find_patient_action_triggered)
        self.sign_out_action.triggered.connect(self._on_sign_out_action_triggered)
        self.quit_action.triggered.connect(self.close)
        self.patients.patient_opened.connect(self._on_patients_patient_opened)
        self.day_view.patient_opened.connect(self._on_patients_patient_opened)
        self.day_view.session_requested.connect(self._on_day_view_session_requested)
        self.tabs.tabCloseRequested.connect(self._on_tabs_tab_close_requested)

    def open_patient(self, patient_id: int) -> PatientWorkspace:
        """Show the patient's workspace, reusing the tab if it is already open."""
        existing = self.workspace(patient_id)
        if existing is not None:
            self.tabs.setCurrentWidget(existing)
            return existing
        workspace = PatientWorkspace(self._services, self._actor, patient_id)
        workspace.patient_saved.connect(self._on_workspace_patient_changed)
        workspace.patient_archived.connect(self._on_workspace_patient_changed)
        index = self.tabs.addTab(workspace, self._tab_title(workspace))
        self.tabs.setCurrentIndex(index)
        return workspace

    def workspace(self, patient_id: int) -> PatientWorkspace | None:
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            if isinstance(page, PatientWorkspace) and page.patient_id == patient_id:
                return page
        return None

    def workspaces(self) -> list[PatientWorkspace]:
        pages = (self.tabs.widget(index) for index in range(self.tabs.count()))
        return [page for page in pages if isinstance(page, PatientWorkspace)]

    @staticmethod
    def _tab_title(workspace: PatientWorkspace) -> str:
        return f"{workspace.patient.family_name}, {workspace.patient.given_name}"

    def _on_new_patient_action_triggered(self) -> None:
        patient = PatientDialog.create(self, self._services, self._actor)
        if patient is not None:
            self.patients.refresh()
            self.open_patient(patient.id)

    def _on_find_patient_action_triggered(self) -> None:
        self.tabs.setCurrentWidget(self.patients)
        self.patients.focus_search()

    def _on_sign_out_action_triggered(self) -> None:
        self.close()
        self.signed_out.emit()

    def _on_patients_patient_opened(self, patient_id: int) -> None:
        self.open_patient(patient_id)

    def _on_day_view_session_requested(self, patient_id: int, visit_id: int) -> None:
        record = SessionDialog.log(self, self._services, self._actor, patient_id, visit_id)
        if record is not None:
            self.day_view.reload()
            workspace = self.workspace(patient_id)
            if workspace is not None:
                workspace.sessions_tab.reload()
                workspace.progress_tab.reload()

    def _on_workspace_patient_changed(self, patient_id: int) -> None:
        workspace = self.workspace(patient_id)
        if workspace is not None:
            self.tabs.setTabText(self.tabs.indexOf(workspace), self._tab_title(workspace))
        self.patients.refresh()

    def _on_tabs_tab_close_requested(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is not None and page not in (self.patients, self.day_view):
            self.tabs.removeTab(index)
            page.deleteLater()
