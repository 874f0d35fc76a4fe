"""An intake opens read-only from its row, and is amended (with a reason, the original
kept and shown) or marked entered in error (kept, struck through, counted nowhere)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.ui.intake_form import EnteredInErrorDialog, IntakeForm
from backclinic.ui.intake_tab import IntakeTab
from tests.services.test_plans import grace
from tests.ui.conftest import ModalDriver


@pytest.fixture
def tab(qtbot: QtBot, services: Services, actor: Actor) -> IntakeTab:
    patient_id = grace(services, actor)
    widget = IntakeTab(services, actor, patient_id)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 1)
    return widget


def row_texts(tab: IntakeTab, row: int) -> list[str]:
    return [tab.model.index(row, c).data() for c in range(tab.model.columnCount())]


def struck(tab: IntakeTab, row: int) -> bool:
    font = tab.model.index(row, 0).data(Qt.ItemDataRole.FontRole)
    return font is not None and font.strikeOut()


def test_a_row_opens_its_intake_read_only_with_amend_and_error_actions(
    qtbot: QtBot, tab: IntakeTab, modal: ModalDriver
) -> None:
    seen: dict[str, object] = {}

    def look(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        seen["read_only"] = form.is_read_only()
        seen["pain"] = form.nprs_current.edit.text()
        seen["save"] = form.save_button().isVisible()
        seen["amend"] = form.amend_button.isVisible()
        seen["error"] = form.error_button.isVisible()
        seen["title"] = form.windowTitle()
        # The section list still moves between sections of a read-only record.
        form.show_section("Pain")
        seen["section"] = form.current_section()
        form.reject()

    modal.then(look)
    tab.table.doubleClicked.emit(tab.model.index(0, 0))
    modal.check()
    assert seen == {
        "read_only": True,
        "pain": "6",
        "save": False,
        "amend": True,
        "error": True,
        "title": "Intake of 2026-01-05 — Okafor, Grace (read-only)",
        "section": "Pain",
    }


def test_an_amendment_needs_its_reason_and_keeps_the_original_struck_through(
    qtbot: QtBot, tab: IntakeTab, modal: ModalDriver, services: Services, actor: Actor
) -> None:
    seen: dict[str, object] = {}

    def amend(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        form.amend_button.click()
        assert not form.is_read_only()
        form.show_section("Pain")
        form.nprs_current.edit.clear()
        qtbot.keyClicks(form.nprs_current.edit, "7")
        form.save_button().click()
        # No reason: the rule shows by the reason field, which takes the focus.
        error = form.findChild(QWidget, "reason_error")
        seen["error"] = error.isVisible() and error.text()  # type: ignore[union-attr]
        seen["still_open"] = form.isVisible()
        qtbot.keyClicks(form.reason, "Patient said 7, not 6")
        modal.then(save_anyway)
        form.save_button().click()

    def save_anyway(box: QWidget) -> None:
        # Her Oswestry has a section skipped, as at intake: the clinician confirms it.
        assert isinstance(box, QMessageBox)
        next(b for b in box.buttons() if b.text() == "Save anyway").click()

    modal.then(amend)
    with qtbot.waitSignal(tab.assessment_saved):
        tab.open_row(0)
    modal.check()
    assert seen == {"error": "Give the reason for the amendment.", "still_open": True}
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    # Newest first: the amendment, then the original it corrected, struck through.
    assert row_texts(tab, 0)[2] == "7 (worst 8, best 3)"
    assert row_texts(tab, 0)[-1] == "Amendment"
    assert row_texts(tab, 1)[2] == "6 (worst 8, best 3)"
    assert row_texts(tab, 1)[-1] == "Amended (original)"
    assert struck(tab, 1) and not struck(tab, 0)

    shown: dict[str, object] = {}

    def original_from_the_amendment(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        shown["banner"] = form.record_banner.text()
        modal.then(look_at_original)
        form.show_original_button.click()
        form.reject()

    def look_at_original(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        shown["original_pain"] = form.nprs_current.edit.text()
        shown["original_banner"] = form.record_banner.text()
        shown["original_amendable"] = form.amend_button.isVisible()
        form.reject()

    modal.then(original_from_the_amendment)
    tab.open_row(0)
    modal.check()
    assert "Patient said 7, not 6" in str(shown["banner"])
    assert shown["original_pain"] == "6"
    assert str(shown["original_banner"]).startswith("AMENDED on ")
    assert shown["original_amendable"] is False


def test_an_intake_entered_in_error_is_struck_through_and_counts_nowhere(
    qtbot: QtBot, tab: IntakeTab, modal: ModalDriver, services: Services, actor: Actor
) -> None:
    seen: dict[str, object] = {}

    def void(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        modal.then(give_reason)
        form.error_button.click()

    def give_reason(dialog: QWidget) -> None:
        assert isinstance(dialog, EnteredInErrorDialog)
        dialog.confirm_button.click()
        error = dialog.findChild(QWidget, "reason_error")
        seen["error"] = error.isVisible() and error.text()  # type: ignore[union-attr]
        qtbot.keyClicks(dialog.findChild(QLineEdit, "reason"), "Recorded for the wrong patient")
        dialog.confirm_button.click()

    modal.then(void)
    with qtbot.waitSignal(tab.assessment_saved):
        tab.open_row(0)
    modal.check()
    assert seen == {"error": "Give the reason the assessment was entered in error."}
    qtbot.waitUntil(lambda: row_texts(tab, 0)[-1] == "Entered in error")
    assert struck(tab, 0)
    tooltip = tab.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Recorded for the wrong patient" in tooltip
    assert services.assessments.for_patient(actor, tab._patient_id) == []
    # A new intake is needed again: Reassess waits for one.
    assert not tab.reassess_button.isEnabled()

    def look(form: QWidget) -> None:
        assert isinstance(form, IntakeForm)
        seen["banner"] = form.record_banner.text()
        seen["amendable"] = form.amend_button.isVisible() or form.error_button.isVisible()
        form.reject()

    modal.then(look)
    tab.open_row(0)
    modal.check()
    assert str(seen["banner"]).startswith("ENTERED IN ERROR on ")
    assert "Recorded for the wrong patient" in str(seen["banner"])
    assert seen["amendable"] is False
