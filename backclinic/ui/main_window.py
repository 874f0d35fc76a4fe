"""The main window: the patient registry and opened patients as tabs. Features live elsewhere."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabBar, QTabWidget, QWidget

from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician
from backclinic.services.permissions import Permission, allows
from backclinic.ui.accounts_dialog import AccountsDialog
from backclinic.ui.audit_viewer import AuditViewer
from backclinic.ui.backup_dialog import BackupActions, may_back_up
from backclinic.ui.clinic_settings_dialog import ClinicSettingsDialog
from backclinic.ui.day_view import DayView
from backclinic.ui.help_dialogs import AboutDialog, ShortcutsDialog
from backclinic.ui.operations import Operations
from backclinic.ui.patient_dialog import PatientDialog
from backclinic.ui.patient_list import PatientListView
from backclinic.ui.patient_workspace import PatientWorkspace
from backclinic.ui.session_dialog import SessionDialog
from backclinic.ui.startup_window import APP_NAME
from backclinic.ui.tasks import LOADING


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
        # Every view of this window hears what each use case run from it changed.
        self.operations = Operations(self)
        # Names the clinic and the clinician, so it is told apart from the start-up windows.
        clinic_name = services.clinic.settings().clinic_name
        self.setWindowTitle(f"{APP_NAME} — {clinic_name} — {clinician.full_name}")
        self.resize(1100, 720)

        self.day_view = DayView(services, self._actor, operations=self.operations)
        self.patients = PatientListView(services, self._actor, operations=self.operations)
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
        self.clinic_settings_action = QAction("Clinic &settings…", self)
        self.clinic_settings_action.setVisible(services.clinic.may_administer(self._actor))
        self.accounts_action = QAction("Clinician &accounts…", self)
        self.accounts_action.setVisible(services.accounts.may_manage(self._actor))
        self.audit_action = QAction("Audit &trail…", self)
        self.audit_action.setVisible(allows(self._actor, Permission.VIEW_AUDIT))
        self.sign_out_action = QAction("Sign &out", self)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        patient_menu = self.menuBar().addMenu("&Patient")
        patient_menu.addAction(self.new_patient_action)
        patient_menu.addAction(self.find_patient_action)
        patient_menu.addSeparator()
        patient_menu.addAction(self.sign_out_action)
        patient_menu.addAction(self.quit_action)
        clinic_menu = self.menuBar().addMenu("&Clinic")
        clinic_menu.addAction(self.clinic_settings_action)
        clinic_menu.addAction(self.accounts_action)
        clinic_menu.addAction(self.audit_action)
        backups_allowed = may_back_up(self._actor)
        if backups_allowed:
            clinic_menu.addSeparator()
            clinic_menu.addAction("&Back up now…", self._on_backup_action_triggered)
            clinic_menu.addAction("&Restore…", self._on_restore_action_triggered)
        clinic_menu.menuAction().setVisible(
            backups_allowed
            or any(
                action.isVisible()
                for action in (self.clinic_settings_action, self.accounts_action, self.audit_action)
            )
        )
        self.shortcuts_action = QAction("&Keyboard shortcuts…", self)
        self.shortcuts_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.about_action = QAction("&About BackClinic…", self)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)
        self._database_label_text = database_label
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.new_patient_action)
        toolbar.addAction(self.find_patient_action)
        toolbar.addSeparator()
        toolbar.addAction(self.sign_out_action)

        self.user_label = QLabel(self._signed_in_text())
        self.user_label.setObjectName("signed_in")
        self.database_label = QLabel(f"Database: {database_label}" if database_label else "")
        self.database_label.setObjectName("database")
        self.statusBar().addWidget(self.user_label, 1)
        self.statusBar().addPermanentWidget(self.database_label)

        self.new_patient_action.triggered.connect(self._on_new_patient_action_triggered)
        self.find_patient_action.triggered.connect(self._on_find_patient_action_triggered)
        self.sign_out_action.triggered.connect(self._on_sign_out_action_triggered)
        self.clinic_settings_action.triggered.connect(self._on_clinic_settings_action_triggered)
        self.accounts_action.triggered.connect(self._on_accounts_action_triggered)
        self.audit_action.triggered.connect(self._on_audit_action_triggered)
        self.quit_action.triggered.connect(self.close)
        self.shortcuts_action.triggered.connect(self._on_shortcuts_action_triggered)
        self.about_action.triggered.connect(self._on_about_action_triggered)
        self.patients.patient_opened.connect(self._on_patients_patient_opened)
        self.day_view.patient_opened.connect(self._on_patients_patient_opened)
        self.day_view.session_requested.connect(self._on_day_view_session_requested)
        self.tabs.tabCloseRequested.connect(self._on_tabs_tab_close_requested)

    def _signed_in_text(self) -> str:
        clinic_name = self._services.clinic.settings().clinic_name
        who = self.clinician
        return f"Signed in as {who.full_name} ({who.role_label}) · {clinic_name}"

    def offer_saved_drafts(self) -> int:
        """Offer back the forms this clinician left unsaved when the app last stopped."""
        from backclinic.ui.draft_restore import offer_drafts

        return offer_drafts(self, self._services, self._actor, self.operations)

    def open_patient(self, patient_id: int) -> PatientWorkspace:
        """Show the patient's workspace, reusing the tab if it is already open."""
        existing = self.workspace(patient_id)
        if existing is not None:
            self.tabs.setCurrentWidget(existing)
            return existing
        workspace = PatientWorkspace(
            self._services, self._actor, patient_id, operations=self.operations
        )
        workspace.patient_shown.connect(self._on_workspace_patient_changed)
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
        patient = workspace.patient
        return f"{patient.family_name}, {patient.given_name}" if patient else LOADING

    def _on_new_patient_action_triggered(self) -> None:
        patient = PatientDialog.create(
            self, self._services, self._actor, operations=self.operations
        )
        if patient is not None:
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
        SessionDialog.log(
            self, self._services, self._actor, patient_id, visit_id, operations=self.operations
        )

    def _on_clinic_settings_action_triggered(self) -> None:
        if ClinicSettingsDialog.edit(self, self._services, self._actor) is not None:
            self.user_label.setText(self._signed_in_text())

    def _on_accounts_action_triggered(self) -> None:
        AccountsDialog.manage(self, self._services.accounts, self._actor)

    def _on_audit_action_triggered(self) -> None:
        AuditViewer.browse(
            self,
            self._services.audit,
            self._services.patients,
            self._services.clinic.clinicians(self._actor),
            self._actor,
        )

    def _on_shortcuts_action_triggered(self) -> None:
        ShortcutsDialog.show_for(self, self.findChildren(QAction))

    def _on_about_action_triggered(self) -> None:
        AboutDialog.show_for(self, database_label=self._database_label_text)

    def _on_backup_action_triggered(self) -> None:
        BackupActions.back_up(
            self, self._services.backups, self._actor, tasks=self.operations.tasks
        )

    def _on_restore_action_triggered(self) -> None:
        restored = BackupActions.restore(
            self, self._services.backups, self._actor, tasks=self.operations.tasks
        )
        if restored is not None:
            # Data and accounts changed under the window: start again from sign-in.
            self.close()
            self.signed_out.emit()

    def _on_workspace_patient_changed(self, patient_id: int) -> None:
        workspace = self.workspace(patient_id)
        if workspace is not None:
            self.tabs.setTabText(self.tabs.indexOf(workspace), self._tab_title(workspace))

    def _on_tabs_tab_close_requested(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is not None and page not in (self.patients, self.day_view):
            self.tabs.removeTab(index)
            page.deleteLater()
