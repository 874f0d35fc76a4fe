"""An unsaved intake or session form survives a crash: its draft is kept on this
workstation and offered back at the same clinician's next sign-in."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from backclinic.db.database import open_database
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.patients import PatientInput
from backclinic.services.plans import PlanView
from backclinic.ui.draft_restore import offer_drafts
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.session_dialog import SessionDialog
from tests.services.test_plans import START, grace
from tests.ui.conftest import ModalDriver
from tests.ui.test_intake_form import fill_article_intake


def drafts(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def crash(form: QWidget) -> None:
    """The app stops with the form open: it is dropped, never closed or saved."""
    form.hide()
    form.deleteLater()
    QApplication.processEvents()


def press(button: str) -> object:
    def answer(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        next(b for b in box.buttons() if b.text() == button).click()

    return answer


def test_an_intake_left_unsaved_by_a_crash_is_offered_back_at_the_next_sign_in(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver, draft_folder: Path
) -> None:
    patient = services.patients.register(actor, _person())
    form = IntakeForm(services, actor, patient.id)
    form.show()
    fill_article_intake(form)
    # Written a few seconds after the change, whole, readable by this user alone.
    qtbot.waitUntil(lambda: len(drafts(draft_folder)) == 1, timeout=6000)
    (path,) = drafts(draft_folder)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(draft_folder.stat().st_mode) == 0o700
    assert json.loads(path.read_text("utf-8"))["patient_name"] == "Okafor, Grace"
    crash(form)
    assert drafts(draft_folder) == [path]

    seen: dict[str, object] = {}

    def restore(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen["question"] = box.text()
        modal.then(check_and_save)
        next(b for b in box.buttons() if b.text() == "Restore").click()

    def check_and_save(restored: QWidget) -> None:
        assert isinstance(restored, IntakeForm)
        seen["pain"] = restored.nprs_current.edit.text()
        seen["odi"] = restored.odi_score.text()
        seen["goals"] = restored.goals.toPlainText()
        modal.then(press("Save anyway"))  # type: ignore[arg-type]
        restored.save_button().click()

    modal.then(restore)
    assert offer_drafts(None, services, actor) == 1
    modal.check()
    question = str(seen["question"])
    assert question.startswith("Restore the draft intake for Okafor, Grace from ")
    assert seen["pain"] == "6" and str(seen["odi"]).startswith("ODI 44.4 %")
    assert "sit through a working day without pain" in str(seen["goals"])
    # Saved: the assessment is on record and the draft is gone.
    assert services.assessments.latest_intake(actor, patient.id) is not None
    assert drafts(draft_folder) == []


def test_discard_at_sign_in_removes_the_draft_and_another_clinician_never_sees_it(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver, draft_folder: Path
) -> None:
    patient = services.patients.register(actor, _person())
    form = IntakeForm(services, actor, patient.id)
    form.drafts.timer.setInterval(10)  # type: ignore[union-attr]
    form.show()
    form.nprs_current.setValue(7)
    qtbot.waitUntil(lambda: len(drafts(draft_folder)) == 1)
    crash(form)

    admin = services.clinic.system_actor()
    other = services.accounts.create(
        admin, NewClinician("Tom Other", "tom", "acupuncturist", "a long enough password")
    ).as_actor()
    assert offer_drafts(None, services, other) == 0
    assert len(drafts(draft_folder)) == 1

    modal.then(press("Discard"))  # type: ignore[arg-type]
    assert offer_drafts(None, services, actor) == 0
    modal.check()
    assert drafts(draft_folder) == []


def test_a_confirmed_discard_removes_the_draft(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver, draft_folder: Path
) -> None:
    patient = services.patients.register(actor, _person())
    form = IntakeForm(services, actor, patient.id)
    qtbot.addWidget(form)
    form.drafts.timer.setInterval(10)  # type: ignore[union-attr]

    def edit_then_cancel(opened: QWidget) -> None:
        assert isinstance(opened, IntakeForm)
        opened.nprs_current.setValue(7)
        qtbot.waitUntil(lambda: len(drafts(draft_folder)) == 1)
        modal.then(press("Discard"))  # type: ignore[arg-type]
        opened.reject()

    modal.then(edit_then_cancel)  # type: ignore[arg-type]
    form.exec()
    modal.check()
    assert drafts(draft_folder) == []


def test_a_session_form_left_unsaved_is_restored_with_its_pain_scores(
    qtbot: QtBot, services: Services, actor: Actor, modal: ModalDriver, draft_folder: Path
) -> None:
    grace(services, actor)
    plan: PlanView = services.plans.create_recommended(actor, "CASE-0045", start=START)
    dialog = SessionDialog(services, actor, plan.patient_id)
    qtbot.waitUntil(lambda: dialog.loaded)
    dialog.drafts.timer.setInterval(10)  # type: ignore[union-attr]
    dialog.show()
    dialog.pain_before.set_value(7)
    dialog.subjective.setPlainText("worse after gardening")
    qtbot.waitUntil(
        lambda: (
            bool(drafts(draft_folder)) and "gardening" in drafts(draft_folder)[0].read_text("utf-8")
        )
    )
    crash(dialog)

    seen: dict[str, object] = {}

    def look(restored: QWidget) -> None:
        assert isinstance(restored, SessionDialog)
        qtbot.waitUntil(lambda: restored.loaded)
        seen["pain_before"] = restored.pain_before.value()
        seen["subjective"] = restored.subjective.toPlainText()
        restored.done(0)

    def restore(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen["question"] = box.text()
        modal.then(look)
        next(b for b in box.buttons() if b.text() == "Restore").click()

    modal.then(restore)
    offer_drafts(None, services, actor)
    modal.check()
    assert str(seen["question"]).startswith("Restore the draft session for Okafor, Grace")
    assert seen["pain_before"] == 7 and seen["subjective"] == "worse after gardening"


def _person() -> PatientInput:
    return PatientInput(
        "Okafor", "Grace", dt.date(1980, 11, 2), mrn="CASE-0045", occupation="office worker"
    )


def test_a_draft_is_offered_only_on_the_database_it_was_written_for(
    qtbot: QtBot,
    services: Services,
    actor: Actor,
    modal: ModalDriver,
    draft_folder: Path,
    tmp_path: Path,
) -> None:
    """A demo clinic and the real one on the same workstation have the same clinician and
    patient ids: a draft about one patient must never be restored onto another."""
    patient = services.patients.register(actor, _person())
    form = IntakeForm(services, actor, patient.id)
    form.drafts.timer.setInterval(10)  # type: ignore[union-attr]
    form.show()
    form.nprs_current.setValue(7)
    qtbot.waitUntil(lambda: len(drafts(draft_folder)) == 1)
    crash(form)

    other = open_database(f"sqlite:///{tmp_path / 'other-clinic.db'}")
    try:
        elsewhere = build_services(other.session_factory)
        same_ids = elsewhere.clinic.set_up(
            clinic_name="Demo Clinic",
            first_clinician=NewClinician("Mei Lin", "mei", "acupuncturist", "a long password"),
        ).as_actor()
        someone_else = elsewhere.patients.register(
            same_ids, PatientInput("Ward", "Peter", dt.date(1950, 1, 1))
        )
        assert (same_ids.clinician_id, someone_else.id) == (actor.clinician_id, patient.id)

        asked: list[str] = []

        def wrongly_asked(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            asked.append(box.text())
            next(b for b in box.buttons() if b.text() == "Discard").click()

        modal.then(wrongly_asked)
        assert offer_drafts(None, elsewhere, same_ids) == 0
        assert asked == []
        modal.stop()
        assert len(drafts(draft_folder)) == 1  # still there for its own clinic
    finally:
        other.engine.dispose()

    modal.then(press("Discard"))  # type: ignore[arg-type]
    assert offer_drafts(None, services, actor) == 0
    modal.check()
