"""At sign-in, offer back the forms a crash left unsaved (see local_drafts)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import NotFound
from backclinic.services.sessions import SessionInput
from backclinic.ui.intake_form import IntakeForm
from backclinic.ui.local_drafts import DraftFiles, SavedDraft, decode, restore_question
from backclinic.ui.operations import Operations
from backclinic.ui.session_dialog import SessionDialog

FORM_LABELS = {"intake": "intake", "reassessment": "reassessment", "session": "session"}


def offer_drafts(
    parent: QWidget | None,
    services: Services,
    actor: Actor,
    operations: Operations | None = None,
    files: DraftFiles | None = None,
) -> int:
    """Ask about each of the clinician's drafts, oldest first; returns how many were
    restored (each opens in its form, to be saved or discarded there)."""
    if actor.clinician_id is None:
        return 0
    files = files or DraftFiles()
    restored = 0
    for draft in files.for_clinician(services.clinic.database_identity(), actor.clinician_id):
        label = FORM_LABELS.get(draft.key.form)
        if label is None:
            continue
        if not restore_question(parent, draft, label):
            files.remove(draft.key)
            continue
        if _reopen(parent, services, actor, operations, draft):
            restored += 1
        else:
            files.remove(draft.key)
    return restored


def _reopen(
    parent: QWidget | None,
    services: Services,
    actor: Actor,
    operations: Operations | None,
    draft: SavedDraft,
) -> bool:
    patient_id = draft.key.patient_id
    try:
        if draft.key.form == "session":
            session = SessionDialog(services, actor, patient_id, parent, operations=operations)
            session.restore_draft(decode(SessionInput, draft.data))
            session.exec()
        else:
            intake = IntakeForm(
                services, actor, patient_id, parent, kind=draft.key.form, operations=operations
            )
            intake.restore_draft(decode(AssessmentInput, draft.data))
            intake.exec()
    except NotFound:
        QMessageBox.warning(
            parent,
            "Draft not restored",
            f"The draft for {draft.patient_name} was not restored: the patient is no longer "
            "on record.",
        )
        return False
    except (ValueError, TypeError, KeyError):
        QMessageBox.warning(
            parent,
            "Draft not restored",
            f"The draft for {draft.patient_name} could not be read, so it was discarded.",
        )
        return False
    return True
