from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from backclinic.db.database import OpenDatabase
from backclinic.db.models import AuditEventRow, PlanRow
from backclinic.domain.intake import Intake
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.documents import DocumentService
from backclinic.services.errors import PermissionDenied, ValidationFailed
from backclinic.services.files import OutputRefused
from backclinic.services.patients import PatientInput
from tests.records import stored_records
from tests.services.test_plans import START, article_intake
from tests.services.test_sessions import visit_input

# Week 7 of a plan starting on START: phase 3 (Strengthen and prevent) is current.
TODAY = dt.date(2026, 2, 18)
NOW = dt.datetime(2026, 2, 18, 16, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
# Pain before/after of the sessions held at the first visits of the plan.
PAIN = [(6, 4), (6, 4), (5, 3), (5, 3), (4, 3), (4, 2), (3, 2), (3, 1), (2, 1), (2, 1)]


def document_service(services: Services) -> DocumentService:
    return DocumentService(
        services.context,
        services.protocol,
        services.catalogue,
        services.clinic,
        services.patients,
        services.plans,
        services.assessments,
        services.sessions,
    )


@pytest.fixture
def services(database: OpenDatabase) -> Services:
    """Services whose clock stands in week 7 of the article patient's plan."""
    return build_services(database.session_factory, clock=lambda: NOW)


@pytest.fixture
def documents(services: Services) -> DocumentService:
    return document_service(services)


def set_up_clinic(services: Services) -> Actor:
    clinician = services.clinic.set_up(
        clinic_name="Harbour Back Clinic",
        first_clinician=NewClinician("Mei Lin", "mei", "acupuncturist", PASSWORD),
    )
    actor = clinician.as_actor()
    settings = services.clinic.settings()
    services.clinic.update_settings(
        actor,
        clinic_name="Harbour Back Clinic",
        address="12 Quay Street\nPortsmouth PO1 2AB",
        phone="023 9200 1234",
        email="hello@harbourback.example",
        idle_lock_minutes=settings.idle_lock_minutes,
        clinic_days=settings.clinic_days,
        expected_version=settings.version,
    )
    return actor


def treated_patient(
    services: Services,
    actor: Actor,
    *,
    family_name: str = "Okafor",
    given_name: str = "Grace",
    mrn: str = "CASE-0045",
    pain: list[tuple[int, int]] = PAIN,
    reassess: bool = True,
    **intake: object,
) -> int:
    """The article's office worker: intake, the recommended plan, sessions at her visits."""
    patient = services.patients.register(
        actor,
        PatientInput(
            family_name, given_name, dt.date(1980, 11, 2), mrn=mrn, occupation="office worker"
        ),
    )
    values: dict[str, object] = {"goals": ("sit through a working day without pain",)}
    values.update(intake)
    services.assessments.record(
        actor, patient.id, AssessmentInput("intake", article_intake(services, **values))
    )
    plan = services.plans.create_recommended(actor, mrn, start=START)
    for visit, (before, after) in zip(plan.visits, pain, strict=False):
        services.sessions.log(
            actor,
            patient.id,
            visit_input(visit.visit_date, pain_before=before, pain_after=after),
        )
    if reassess:
        # A reassessment re-screens the intake's precautions, which still hold.
        reassessment = Intake(
            **{
                **article_intake(services, **values).__dict__,
                "assessed_on": TODAY,
                "nprs_current": 2,
                "odi_answers": (1, 0, 1, 0, 1, 1, 1, None, 1, 1),
            }
        )
        services.assessments.record(
            actor, patient.id, AssessmentInput("reassessment", reassessment)
        )
    return patient.id


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def one_line(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(pages_text(pdf)))


def audit_actions(services: Services) -> list[tuple[str, str, int | None]]:
    with stored_records(services) as session:
        rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        return [(r.action, r.entity, r.clinician_id) for r in rows]


def test_the_plan_summary_tells_the_patient_what_happens_when(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    stored = documents.print_plan_summary(actor, patient_id)
    text = one_line(stored.pdf)
    for expected in (
        "Your treatment plan",
        "Phase 1: Calm and correct",
        "5 Jan 2026 to 18 Jan 2026 (weeks 1–2)",
        "Phase 2: Stabilise",
        "Phase 3: Strengthen and prevent",
        "Acupuncture: twice a week",
        "Acupuncture: once a week",
        "Acupuncture: as needed",
        # The article's own words for each phase.
        "reduce inflammation, relax tight muscles, and calm nerve irritation",
        "Begin core stabilization, glute activation, and spinal mobility exercises",
        "functional strength training and ergonomic retraining for daily life",
    ):
        assert expected in text
    plan = services.plans.active_plan(actor, patient_id)
    assert plan is not None
    visit_dates = [v.visit_date for v in plan.visits]
    assert "Mon 5 Jan 2026" in text
    for when in (visit_dates[0], visit_dates[len(visit_dates) // 2], visit_dates[-1]):
        assert f"{when.day} {when:%b} {when.year}" in text
    assert "attended" in text


def test_the_plan_summary_gives_the_current_phase_home_programme_goals_and_contact(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor, precautions=("anticoagulants",))
    text = one_line(documents.print_plan_summary(actor, patient_id).pdf)
    # Week 7 by the calendar, but her ten sessions reached phase 2: phase 2's programme,
    # with the catalogue's instructions and dosage (treatment, not the calendar, decides).
    assert "Your home programme now (phase 2: Stabilise)" in text
    assert "Core stabilisation Lie on your back with knees bent" in text
    assert "3 sets of 10, hold 10 seconds, daily" in text
    assert "squats to a chair" not in text
    assert "Sit through a working day without pain" in text
    assert "Pain at or below" in text
    assert "Anticoagulants or bleeding disorder" in text
    assert "needle gently with fine needles" in text
    assert "12 Quay Street" in text
    assert "023 9200 1234" in text
    assert "hello@harbourback.example" in text


def test_every_page_carries_the_patient_and_page_n_of_m(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    for stored in (
        documents.print_plan_summary(actor, patient_id),
        documents.print_discharge_summary(actor, patient_id),
    ):
        pages = pages_text(stored.pdf)
        assert len(pages) == stored.pages >= 2
        for number, text in enumerate(pages, 1):
            flat = re.sub(r"\s+", " ", text)
            assert "Okafor, Grace · born 2 Nov 1980 · MRN CASE-0045" in flat
            assert f"Page {number} of {len(pages)}" in flat
            assert "Printed 18 Feb 2026" in flat
            assert "Harbour Back Clinic" in flat
            assert "Integrative low back pain (acupuncture + PT), protocol version 1" in flat


@pytest.mark.parametrize(
    ("family_name", "given_name"),
    [
        ("Nguyễn", "Thị Hương"),
        ("Παπαδόπουλος", "Γιώργος"),
        ("Müller-Østergaard", "Łukasz"),
        ("Иванова", "Анна"),
    ],
)
def test_a_name_in_any_script_prints_exactly(
    services: Services, documents: DocumentService, family_name: str, given_name: str
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(
        services, actor, family_name=family_name, given_name=given_name, mrn="U-1"
    )
    for stored in (
        documents.print_plan_summary(actor, patient_id),
        documents.print_discharge_summary(actor, patient_id),
    ):
        for text in pages_text(stored.pdf):
            assert f"{family_name}, {given_name}" in text


def test_the_discharge_summary_judges_the_change_with_the_protocol_thresholds(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    text = one_line(documents.print_discharge_summary(actor, patient_id).pdf)
    # An active plan prints as an interim summary, and says so.
    assert "Interim treatment summary" in text
    assert "Discharge summary" not in text
    assert "this is not a discharge" in text
    # Intake NPRS 6 → reassessment 2 on the day; ODI 44.4 % → 15.6 % (7 of 45).
    assert (
        "Pain (NPRS 0–10) 6 5 Jan 2026 2 18 Feb 2026 4 points better (67 %) Clinically "
        "meaningful improvement"
    ) in text
    assert "Disability (ODI) 44.4 % 5 Jan 2026 15.6 % 18 Feb 2026 28.8 points better (65 %)" in text
    assert "10 of " in text and "scheduled visits attended" in text
    assert "Sessions recorded 10" in text


def test_the_discharge_summary_lists_every_session_and_the_adverse_events(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor, reassess=False)
    plan = services.plans.active_plan(actor, patient_id)
    assert plan is not None
    late = next(v for v in plan.visits if v.status == "planned" and v.visit_date <= TODAY)
    services.sessions.log(
        actor,
        patient_id,
        visit_input(
            late.visit_date,
            pain_before=2,
            pain_after=1,
            adverse_events=("bruising",),
            adverse_event_note="small bruise at BL40, resolved",
            visit_id=late.id,
        ),
    )
    text = one_line(documents.print_discharge_summary(actor, patient_id).pdf)
    sessions = services.sessions.history(actor, patient_id)
    for record in sessions:
        when = record.performed_on
        assert f"{when.day} {when:%b} {when.year}" in text
    assert "6 → 4" in text and "2 → 1" in text
    assert "BL23 BL40" in text
    assert "Posture correction" in text
    assert "Bruising: small bruise at BL40, resolved" in text
    # An interim summary gives no discharge advice (maintenance comes at discharge).
    assert "Maintenance" not in text
    assert "Home programme to continue" in text
    assert "Signed: Mei Lin" in text


def test_a_discharged_plan_prints_a_discharge_summary_to_its_end_date(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    with stored_records(services) as session:
        row = session.scalars(select(PlanRow).where(PlanRow.patient_id == patient_id)).one()
        row.status = "discharged"
        row.ended_on = TODAY
        row.end_reason = "goals_met"
        row.end_note = "Back at work full time."
    text = one_line(documents.print_discharge_summary(actor, patient_id).pdf)
    assert "Discharge summary" in text
    assert "Interim" not in text
    assert "Discharged 18 Feb 2026; reason: goals met" in text
    assert "Back at work full time." in text


def test_too_little_change_is_said_not_to_be_meaningful(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(
        services, actor, pain=[(6, 5), (6, 5), (6, 5), (5, 5), (5, 4)], reassess=False
    )
    text = one_line(documents.print_discharge_summary(actor, patient_id).pdf)
    assert "No meaningful change (within measurement error)" in text
    # An interim summary recommends what the course suggests, as the Progress tab does.
    recommendations = text[text.index("Recommendations") : text.index("What the guidelines")]
    course = services.episodes.course(actor, patient_id)
    assert course.suggestions
    for suggestion in course.suggestions:
        assert suggestion.why in recommendations


def test_no_plan_means_no_plan_summary_in_one_sentence(
    services: Services, documents: DocumentService
) -> None:
    actor = set_up_clinic(services)
    patient = services.patients.register(
        actor, PatientInput("Rivera", "Ana", dt.date(1980, 3, 14), mrn="A-1")
    )
    with pytest.raises(ValidationFailed, match=r"^This patient has no treatment plan, so there"):
        documents.print_plan_summary(actor, patient.id)
    with pytest.raises(ValidationFailed, match="no discharge summary to print"):
        documents.print_discharge_summary(actor, patient.id)
    assert documents.documents(actor, patient.id) == []


def test_printed_documents_are_listed_audited_and_reprinted_byte_identical(
    services: Services, documents: DocumentService, tmp_path: Path
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    plan_doc = documents.print_plan_summary(actor, patient_id)
    discharge_doc = documents.print_discharge_summary(actor, patient_id)
    listed = documents.documents(actor, patient_id)
    assert [(d.id, d.kind, d.title, d.clinician, d.pages) for d in listed] == [
        (discharge_doc.id, "discharge_summary", "Interim treatment summary", "Mei Lin",
         discharge_doc.pages),
        (plan_doc.id, "plan_summary", "Plan summary", "Mei Lin", plan_doc.pages),
    ]  # fmt: skip
    assert listed[0].created_at.astimezone(dt.UTC) == NOW
    assert documents.reprint(actor, plan_doc.id) == plan_doc.pdf
    assert hashlib.sha256(documents.pdf(actor, plan_doc.id)).hexdigest() == plan_doc.sha256
    target = tmp_path / "plan.pdf"
    documents.write_pdf(actor, plan_doc.id, target)
    assert target.read_bytes() == plan_doc.pdf
    actions = [a for a in audit_actions(services) if a[1] == "document"]
    assert actions == [
        ("print", "document", actor.clinician_id),
        ("print", "document", actor.clinician_id),
        ("reprint", "document", actor.clinician_id),
        ("export", "document", actor.clinician_id),
    ]


def test_saving_into_a_missing_folder_says_so_and_writes_nothing(
    services: Services, documents: DocumentService, tmp_path: Path
) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    stored = documents.print_plan_summary(actor, patient_id)
    with pytest.raises(OutputRefused, match=r"The folder .*missing does not exist;"):
        documents.write_pdf(actor, stored.id, tmp_path / "missing" / "plan.pdf")
    assert [a[0] for a in audit_actions(services) if a[1] == "document"] == ["print"]


def test_front_desk_cannot_print(services: Services, documents: DocumentService) -> None:
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    desk = services.accounts.create(
        actor, NewClinician("Sam Desk", "sam", "front_desk", PASSWORD)
    ).as_actor()
    with pytest.raises(PermissionDenied, match="cannot print"):
        documents.print_plan_summary(desk, patient_id)
    stored = documents.print_plan_summary(actor, patient_id)
    with pytest.raises(PermissionDenied):
        documents.reprint(desk, stored.id)
