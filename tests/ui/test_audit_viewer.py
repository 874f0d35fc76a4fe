from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backclinic.services.audit import AuditService
from backclinic.services.bundle import Services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor
from backclinic.services.patients import Patient
from backclinic.ui import audit_viewer
from backclinic.ui.audit_viewer import AuditViewer
from tests.conftest import PASSWORD


@pytest.fixture
def admin(services: Services, clinician: Clinician) -> Actor:
    created = services.accounts.create(
        services.clinic.system_actor(), NewClinician("Sarah Okafor", "sarah", "admin", PASSWORD)
    )
    return created.as_actor()


def _viewer(qtbot: QtBot, services: Services, actor: Actor) -> AuditViewer:
    viewer = AuditViewer(
        AuditService(services.context), services.patients, services.clinic.clinicians(actor), actor
    )
    qtbot.addWidget(viewer)
    viewer.show()
    return viewer


def _column(viewer: AuditViewer, column: int) -> list[str]:
    model = viewer.model
    return [str(model.index(row, column).data()) for row in range(model.rowCount())]


def _show(qtbot: QtBot, viewer: AuditViewer) -> None:
    qtbot.mouseClick(viewer.apply_button, Qt.MouseButton.LeftButton)


def test_the_audit_table_model_passes_qtmodeltester(
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    services: Services,
    registry: list[Patient],
    admin: Actor,
) -> None:
    viewer = _viewer(qtbot, services, admin)
    assert viewer.model.rowCount() >= len(registry)
    qtmodeltester.check(viewer.model)


def test_filtering_by_mrn_shows_only_that_patients_entries(
    qtbot: QtBot, services: Services, registry: list[Patient], admin: Actor
) -> None:
    viewer = _viewer(qtbot, services, admin)
    qtbot.keyClicks(viewer.mrn, "A-1002")
    _show(qtbot, viewer)
    assert _column(viewer, 4) == ["Rivas, Tomás (A-1002)"]
    assert _column(viewer, 1) == ["Mei Lin"]
    assert _column(viewer, 2) == ["Created"]
    assert viewer.message.text() == "1 entry shown, newest first."


def test_filtering_by_clinician_and_action(
    qtbot: QtBot, services: Services, registry: list[Patient], admin: Actor
) -> None:
    services.clinic.sign_in("sarah", PASSWORD)
    viewer = _viewer(qtbot, services, admin)
    viewer.clinician.setCurrentIndex(viewer.clinician.findText("Sarah Okafor"))
    _show(qtbot, viewer)
    assert _column(viewer, 2) == ["Signed in"]
    viewer.clinician.setCurrentIndex(0)
    viewer.action.setCurrentIndex(viewer.action.findData("create"))
    _show(qtbot, viewer)
    assert len(_column(viewer, 2)) == len(registry) + 2  # patients, the clinic, Sarah's account


def test_a_date_range_outside_the_entries_shows_none_and_bad_dates_are_refused_by_field(
    qtbot: QtBot, services: Services, registry: list[Patient], admin: Actor
) -> None:
    viewer = _viewer(qtbot, services, admin)
    qtbot.keyClicks(viewer.start, "2001-01-01")
    qtbot.keyClicks(viewer.end, "2001-12-31")
    _show(qtbot, viewer)
    assert viewer.model.rowCount() == 0
    viewer.end.setText("last week")
    qtbot.keyClicks(viewer.mrn, "Z-404")
    _show(qtbot, viewer)
    assert viewer.errors.label("mrn").text() == "No patient has MRN Z-404."
    assert viewer.errors.label("end").text() == "Write the date as YYYY-MM-DD."
    assert viewer.errors.label("start").isHidden()
    qtbot.waitUntil(viewer.mrn.hasFocus)


def test_older_entries_load_a_page_at_a_time(
    qtbot: QtBot,
    services: Services,
    registry: list[Patient],
    admin: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit_viewer, "PAGE_SIZE", 3)
    viewer = _viewer(qtbot, services, admin)
    assert viewer.model.rowCount() == 3 and viewer.more_button.isEnabled()
    while viewer.more_button.isEnabled():
        qtbot.mouseClick(viewer.more_button, Qt.MouseButton.LeftButton)
    ids = [r.id for r in viewer.model.rows()]
    assert ids == sorted(set(ids), reverse=True)
    assert len(ids) == len(AuditService(services.context).query(admin))


def test_a_clinician_who_is_not_an_admin_is_refused(
    qtbot: QtBot, services: Services, registry: list[Patient], actor: Actor
) -> None:
    viewer = _viewer(qtbot, services, actor)
    assert viewer.model.rowCount() == 0
    assert "cannot view the audit trail" in viewer.message.text()


def test_the_details_column_names_roles_in_words(
    qtbot: QtBot, services: Services, admin: Actor
) -> None:
    services.accounts.create(admin, NewClinician("Priya Nair", "priya", "front_desk", PASSWORD))
    services.accounts.create(
        admin, NewClinician("Sam Okoro", "sam", "physical_therapist", PASSWORD)
    )
    viewer = _viewer(qtbot, services, admin)
    details = " ".join(_column(viewer, 5))
    assert "Front desk" in details and "Physical therapist" in details
    assert "front_desk" not in details and "physical_therapist" not in details
