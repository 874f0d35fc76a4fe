from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.models import (
    AssessmentRow,
    AuditEventRow,
    ClinicianRow,
    PatientRow,
    PlanRow,
    ScheduledVisitRow,
    TreatmentSessionRow,
)
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import ClinicService
from backclinic.services.clock import ClinicClock
from backclinic.services.context import Actor, ServiceContext
from backclinic.services.demo import DEMO_CLINIC_NAME, DemoService
from backclinic.services.errors import ServiceError, ValidationFailed
from backclinic.services.patients import (
    PatientInput,
    PatientService,
    age_on,
    fold,
    validate_patient,
)
from tests.actors import COMMAND_LINE

PATIENTS = 300
MONDAY_MORNING = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at_monday_morning() -> dt.datetime:
    return MONDAY_MORNING


def quick_demo(context: ServiceContext) -> DemoService:
    # Cheap hashing parameters: the accounts still verify, the suite does not wait on argon2.
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return DemoService(context, ClinicService(context, hasher))


def demo_over(database: OpenDatabase) -> DemoService:
    return quick_demo(ServiceContext(database.session_factory, ClinicClock(at_monday_morning)))


def stored_patients(database: OpenDatabase) -> list[tuple[object, ...]]:
    with database.session_factory() as session:
        rows = session.scalars(select(PatientRow).order_by(PatientRow.mrn))
        return [
            (
                row.mrn,
                row.family_name,
                row.given_name,
                row.date_of_birth,
                row.sex,
                row.occupation,
                row.phone,
                row.email,
                row.address,
            )
            for row in rows
        ]


def found_ids(patients: PatientService, text: str) -> set[int]:
    return {row.id for row in patients.search(COMMAND_LINE, text, limit=PATIENTS).rows}


def test_a_demo_fill_sets_up_the_clinic_with_staff_who_sign_in_with_the_documented_password(
    services: Services,
) -> None:
    summary = quick_demo(services.context).fill(COMMAND_LINE, patients=0)

    assert summary.clinic_set_up
    assert summary.clinic_name == DEMO_CLINIC_NAME
    assert services.clinic.settings().phone
    assert sorted(account.role for account in summary.clinicians) == [
        "acupuncturist",
        "acupuncturist",
        "admin",
        "front_desk",
        "physical_therapist",
        "physical_therapist",
    ]
    assert summary.password is not None
    for account in summary.clinicians:
        signed_in = services.clinic.sign_in(account.username, summary.password)
        assert (signed_in.full_name, signed_in.role) == (account.full_name, account.role)
    described = summary.describe()
    assert "sarah.whitfield" in described
    assert "demo-password" in described
    assert "(Physical therapist)" in described and "(Front desk)" in described
    assert "physical_therapist" not in described and "front_desk" not in described


def test_demo_patients_get_sequential_unique_mrns_and_one_audit_entry(
    services: Services, database: OpenDatabase
) -> None:
    summary = quick_demo(services.context).fill(COMMAND_LINE, patients=PATIENTS)

    mrns = [row[0] for row in stored_patients(database)]
    assert mrns == [f"BC-{number:06d}" for number in range(1, PATIENTS + 1)]
    assert (summary.patients_created, summary.first_mrn, summary.last_mrn) == (
        PATIENTS,
        "BC-000001",
        "BC-000300",
    )
    assert services.patients.count(COMMAND_LINE) == PATIENTS
    with database.session_factory() as session:
        fills = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "demo_fill")
        ).all()
    assert len(fills) == 1
    assert fills[0].details["patients"] == PATIENTS
    assert fills[0].details["clinicians"] == 6


def test_accented_demo_names_are_found_by_plain_ascii_search(services: Services) -> None:
    quick_demo(services.context).fill(COMMAND_LINE, patients=PATIENTS)

    found = services.patients.search(COMMAND_LINE, "nunez").rows
    assert found
    assert {row.family_name for row in found} == {"Núñez"}
    assert any(
        row.family_name == "Müller" for row in services.patients.search(COMMAND_LINE, "muller").rows
    )


def test_demo_names_span_several_scripts_and_every_one_is_searchable(
    services: Services, database: OpenDatabase
) -> None:
    quick_demo(services.context).fill(COMMAND_LINE, patients=PATIENTS)
    families = {row[1] for row in stored_patients(database)}

    non_ascii = {name for name in families if not name.isascii()}
    assert len(non_ascii) >= 20
    scripts = {"Cyrillic": "\u0400", "Greek": "\u0370", "Hangul": "\uac00"}
    for script, first in scripts.items():
        block = range(ord(first), ord(first) + 0x100 if script != "Hangul" else 0xD7A4)
        assert any(ord(ch) in block for name in non_ascii for ch in name), script
    for name in non_ascii:
        query = fold(name).split("-")[0]
        assert any(
            row.family_name == name
            for row in services.patients.search(COMMAND_LINE, query, limit=PATIENTS).rows
        ), name


def test_every_demo_patient_passes_the_registrys_own_rules_with_plausible_ages(
    services: Services, database: OpenDatabase
) -> None:
    quick_demo(services.context).fill(COMMAND_LINE, patients=PATIENTS)
    today = services.patients.today()

    patients = stored_patients(database)
    ages = []
    for _mrn, family, given, born, sex, occupation, phone, email, address in patients:
        data = PatientInput(
            family_name=str(family),
            given_name=str(given),
            date_of_birth=born,  # type: ignore[arg-type]
            sex=str(sex),
            occupation=str(occupation),
            phone=str(phone),
            email=str(email),
            address=str(address),
        )
        assert validate_patient(data, today) == []
        assert occupation and phone and address
        assert born is not None
        ages.append(age_on(born, today))  # type: ignore[arg-type]
    assert min(ages) >= 18
    assert max(ages) <= 90
    assert sum(30 <= age <= 65 for age in ages) > len(ages) * 0.6
    assert {row[4] for row in patients} >= {"female", "male"}


def test_a_second_fill_continues_the_mrn_sequence_with_new_people_and_no_new_accounts(
    services: Services, database: OpenDatabase
) -> None:
    demo = quick_demo(services.context)
    demo.fill(COMMAND_LINE, patients=PATIENTS)
    again = demo.fill(COMMAND_LINE, patients=50)

    assert (again.first_mrn, again.last_mrn) == ("BC-000301", "BC-000350")
    assert again.clinicians == ()
    assert again.password is None
    assert not again.clinic_set_up
    patients = stored_patients(database)
    assert [row[0] for row in patients] == [f"BC-{n:06d}" for n in range(1, 351)]
    first_people = [row[1:] for row in patients[:50]]
    second_people = [row[1:] for row in patients[PATIENTS:]]
    assert first_people != second_people
    assert found_ids(services.patients, "BC-000350")


def test_a_fill_on_a_clinic_with_real_patients_is_refused_and_changes_nothing(
    services: Services, database: OpenDatabase, actor: Actor
) -> None:
    services.patients.register(
        actor, PatientInput("Rivera", "Ana", dt.date(1980, 3, 14), occupation="office worker")
    )

    with pytest.raises(ServiceError) as refused:
        quick_demo(services.context).fill(patients=10, actor=actor)

    assert str(refused.value) == (
        "This database holds a clinic's own records (1 patient); the demo fills only a new "
        "database or a demo one, so nothing was changed."
    )
    assert len(stored_patients(database)) == 1


def test_real_patients_without_clinic_settings_get_no_demo_administrator(
    database: OpenDatabase,
) -> None:
    # A registry imported or restored before anyone ran the first-start set-up.
    services = build_services(database.session_factory)
    services.cases.import_file(
        services.clinic.system_actor(),
        Path(__file__).resolve().parents[1] / "cases" / "article-office-worker.json",
    )

    with pytest.raises(ServiceError, match="holds a clinic's own records"):
        quick_demo(services.context).fill(COMMAND_LINE, patients=10)

    with database.session_factory() as session:
        assert session.scalars(select(ClinicianRow)).all() == []
    assert not services.clinic.is_set_up()


def test_the_same_seed_gives_the_same_clinic_and_another_seed_does_not(
    database: OpenDatabase, tmp_path: Path
) -> None:
    demo_over(database).fill(COMMAND_LINE, patients=PATIENTS, seed=11)
    twin = open_database(f"sqlite:///{tmp_path / 'twin.db'}")
    other = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        demo_over(twin).fill(COMMAND_LINE, patients=PATIENTS, seed=11)
        demo_over(other).fill(COMMAND_LINE, patients=PATIENTS, seed=12)
        assert stored_patients(twin) == stored_patients(database)
        assert stored_patients(other) != stored_patients(database)
    finally:
        twin.engine.dispose()
        other.engine.dispose()


def test_a_negative_patient_count_is_refused_before_anything_is_written(
    database: OpenDatabase,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        demo_over(database).fill(COMMAND_LINE, patients=-1)
    assert "patients" in refused.value.by_field
    context = ServiceContext(database.session_factory, ClinicClock(at_monday_morning))
    assert not ClinicService(context).is_set_up()


def test_the_demo_caseload_has_intakes_and_plans_in_every_phase(services: Services) -> None:
    summary = services.demo.fill(COMMAND_LINE, patients=40, seed=3)
    assert summary.intakes_created == 40
    today = dt.date.today()
    phases_now = set()
    for row in services.patients.search(COMMAND_LINE, "", limit=100).rows:
        plan = services.plans.active_plan(COMMAND_LINE, row.id)
        if plan is None:
            continue
        for phase in plan.phases:
            if phase.start_date <= today <= phase.end_date:
                phases_now.add(phase.number)
    assert phases_now == {1, 2, 3}
    assert summary.plans_created >= 30


def test_the_demo_caseload_has_sessions_along_plausible_pain_trajectories(
    services: Services, database: OpenDatabase
) -> None:
    summary = services.demo.fill(COMMAND_LINE, patients=40, seed=3)
    today = services.patients.today()
    assert summary.sessions_created > 200
    assert summary.plans_discharged == 2
    assert "sessions logged" in summary.describe()

    with database.session_factory() as session:
        plans = session.scalars(select(PlanRow)).all()
        visits = session.scalars(select(ScheduledVisitRow)).all()
        rows = session.scalars(select(TreatmentSessionRow)).all()
        discharged = [p for p in plans if p.status == "discharged"]
        discharge_assessments = session.scalars(
            select(AssessmentRow).where(AssessmentRow.kind == "discharge")
        ).all()
        reassessments = session.scalars(
            select(AssessmentRow).where(AssessmentRow.kind == "reassessment")
        ).all()
        plan_of = {p.id: p for p in plans}
        # Sessions fulfil visits in the past part of each plan, never after today.
        current = {r.id: r for r in rows if not r.superseded}
        done = [v for v in visits if v.status == "done"]
        assert done and all(v.session_id in current for v in done)
        assert all(v.visit_date < today for v in done)
        assert {r.id for r in current.values()} == {v.session_id for v in done}
        assert all(r.performed_at.astimezone().date() < today for r in rows)
        assert all(v.visit_date <= today for v in visits if v.status == "missed")
        assert sum(v.status == "missed" for v in visits) >= 5
        # Amendments: the original kept, superseded, and the amendment says why.
        amendments = [r for r in rows if r.amends_id is not None]
        assert amendments
        for amendment in amendments:
            original = next(r for r in rows if r.id == amendment.amends_id)
            assert original.superseded and not amendment.superseded
            assert amendment.amendment_reason
        # Discharged plans: reason, date, note, a discharge assessment, no planned visits left.
        assert {p.end_reason for p in discharged} == {"goals_met", "plateau"}
        for plan in discharged:
            assert plan.ended_on is not None and plan.ended_on < today and plan.end_note
            assert any(a.patient_id == plan.patient_id for a in discharge_assessments)
            assert not [v for v in visits if v.plan_id == plan.id and v.status == "planned"]
            assert all(
                v.visit_date <= plan.ended_on
                for v in visits
                if v.plan_id == plan.id and v.status != "cancelled"
            )
        assert reassessments
        patients_with_plans = {p.patient_id for p in plan_of.values() if p.status == "active"}

    reports = {
        pid: services.sessions.progress(COMMAND_LINE, pid, today) for pid in patients_with_plans
    }
    non_responders = [
        report
        for report in reports.values()
        if report.sessions >= 6
        and report.nprs_change is not None
        and (report.nprs_change.percent or 0) < 30
        and any(s.kind == "re-evaluate" for s in report.suggestions)
    ]
    assert non_responders
    responders = [
        r
        for r in reports.values()
        if r.nprs_change is not None
        and r.nprs_change.points >= 2
        and (r.nprs_change.percent or 0) >= 30
    ]
    partial = [
        r
        for r in reports.values()
        if r.sessions >= 6
        and r.nprs_change is not None
        and r.nprs_change.points > 0
        and (r.nprs_change.percent or 0) < 30
    ]
    assert responders and partial


def test_demo_visits_spread_over_the_day_and_over_the_clinics_practitioners(
    services: Services,
) -> None:
    """The day view reads like a clinic's day: not every visit at opening time with the
    administrator; needling with acupuncturists, exercise-only visits with therapists."""
    services.demo.fill(COMMAND_LINE, patients=40, seed=3)
    visits = [
        visit
        for row in services.patients.search(COMMAND_LINE, "", limit=100).rows
        if (plan := services.plans.active_plan(COMMAND_LINE, row.id)) is not None
        for visit in plan.visits
    ]
    roles = {a.username: a.role for a in services.accounts.accounts(COMMAND_LINE)}

    assert len({v.visit_time for v in visits}) >= 10
    needling = {v.clinician_username for v in visits if "acupuncture" in v.modalities}
    exercise = {v.clinician_username for v in visits if "acupuncture" not in v.modalities}
    assert len(needling) >= 2 and len(exercise) >= 2
    assert {roles[name] for name in needling} == {"acupuncturist"}
    assert {roles[name] for name in exercise} == {"physical_therapist"}
