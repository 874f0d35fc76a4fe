"""Permission by construction: every public service method declares who may call it, the
table below is the clinic's rule for each, and every role is tried against every entry point.

A refused call raises PermissionDenied in one sentence naming the role and the permission,
and writes nothing; an allowed call gets past the check (its placeholder arguments may then
fail in the body, which is not what is tested here).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import os
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import backclinic.services
from backclinic.db.audit_chain import KEY_FOLDER_VARIABLE
from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.models import Base, ClinicianRow, PatientRow, PlanRow
from backclinic.services.assessments import AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor, OutsideEntryPoint
from backclinic.services.errors import PermissionDenied
from backclinic.services.patients import PatientInput
from backclinic.services.permissions import ROLE_NAMES, Permission, allows
from backclinic.services.plans import choices_from_proposal
from backclinic.services.use_case import Access, Change, EntryPoint, changes_of, entry_point_of
from tests.actors import COMMAND_LINE
from tests.conftest import PASSWORD, TEST_DATABASE_VARIABLE
from tests.services.test_plans import START, article_intake

P = Permission
BEFORE_SIGN_IN = Access.BEFORE_SIGN_IN
NO_RECORDS = Access.NO_RECORDS
ANY_ACTOR = None

# The clinic's rule for each entry point, written out independently of the declarations.
EXPECTED: dict[str, Permission | Access | None] = {
    "PatientService.today": NO_RECORDS,
    "PatientService.register": P.REGISTER_PATIENTS,
    "PatientService.update": P.REGISTER_PATIENTS,
    "PatientService.archive": P.REGISTER_PATIENTS,
    "PatientService.restore": P.REGISTER_PATIENTS,
    "PatientService.get": P.REGISTER_PATIENTS,
    "PatientService.by_mrn": P.REGISTER_PATIENTS,
    "PatientService.count": P.REGISTER_PATIENTS,
    "PatientService.search": P.REGISTER_PATIENTS,
    "PatientService.statuses": P.REGISTER_PATIENTS,
    "PatientService.possible_duplicates": P.REGISTER_PATIENTS,
    "AssessmentService.record": P.WRITE_CLINICAL,
    "AssessmentService.for_patient": P.VIEW_CLINICAL,
    "AssessmentService.latest_intake": P.VIEW_CLINICAL,
    "AssessmentService.get": P.VIEW_CLINICAL,
    "AssessmentService.history": P.VIEW_CLINICAL,
    "AssessmentService.live_scores": NO_RECORDS,
    "AssessmentService.amend": P.WRITE_CLINICAL,
    "AssessmentService.mark_entered_in_error": P.WRITE_CLINICAL,
    "PlanService.clinic_days": ANY_ACTOR,
    "PlanService.closed_dates": ANY_ACTOR,
    "PlanService.propose": P.VIEW_CLINICAL,
    "PlanService.preview": NO_RECORDS,
    "PlanService.create": P.WRITE_CLINICAL,
    "PlanService.create_recommended": P.WRITE_CLINICAL,
    "PlanService.change_phase": P.WRITE_CLINICAL,
    "PlanService.reschedule_visit": P.VIEW_SCHEDULE,
    "PlanService.discharge": P.WRITE_CLINICAL,
    "PlanService.active_plan": P.VIEW_CLINICAL,
    "PlanService.latest_plan": P.VIEW_CLINICAL,
    "PlanService.get": P.VIEW_CLINICAL,
    "SessionService.log": P.WRITE_CLINICAL,
    "SessionService.amend": P.WRITE_CLINICAL,
    "SessionService.mark_missed": P.VIEW_SCHEDULE,
    "SessionService.get": P.VIEW_CLINICAL,
    "SessionService.history": P.VIEW_CLINICAL,
    "SessionService.prefill": P.VIEW_CLINICAL,
    "SessionService.progress": P.VIEW_CLINICAL,
    "DayScheduleService.today": NO_RECORDS,
    "DayScheduleService.due": P.VIEW_SCHEDULE,
    "DocumentService.print_plan_summary": P.PRINT,
    "DocumentService.draft_plan_summary": P.PRINT,
    "DocumentService.draft_discharge_summary": P.PRINT,
    "DocumentService.keep_printed": P.PRINT,
    "DocumentService.protected_files": NO_RECORDS,
    "DocumentService.print_discharge_summary": P.PRINT,
    "DocumentService.documents": P.VIEW_CLINICAL,
    "DocumentService.pdf": P.VIEW_CLINICAL,
    "DocumentService.reprint": P.PRINT,
    "DocumentService.write_pdf": P.PRINT,
    "DocumentService.plan_summary": P.VIEW_CLINICAL,
    "DocumentService.discharge_summary": P.VIEW_CLINICAL,
    "EpisodeService.course": P.VIEW_CLINICAL,
    "EpisodeService.comparisons": P.VIEW_CLINICAL,
    "EpisodeService.final_comparison": P.VIEW_CLINICAL,
    "CaseService.validate": NO_RECORDS,
    "CaseService.import_file": P.WRITE_CLINICAL,
    "CaseService.export_document": P.PRINT,
    "CaseService.export_file": P.PRINT,
    "ClinicService.system_actor": NO_RECORDS,
    "ClinicService.database_identity": NO_RECORDS,
    "ClinicService.may_administer": ANY_ACTOR,
    "ClinicService.is_set_up": BEFORE_SIGN_IN,
    "ClinicService.settings": BEFORE_SIGN_IN,
    "ClinicService.set_up": BEFORE_SIGN_IN,
    "ClinicService.update_settings": P.CHANGE_SETTINGS,
    "ClinicService.clinicians": ANY_ACTOR,
    "ClinicService.sign_in": BEFORE_SIGN_IN,
    "AccountService.may_manage": ANY_ACTOR,
    "AccountService.accounts": P.MANAGE_ACCOUNTS,
    "AccountService.create": P.MANAGE_ACCOUNTS,
    "AccountService.deactivate": P.MANAGE_ACCOUNTS,
    "AccountService.reactivate": P.MANAGE_ACCOUNTS,
    "AccountService.reset_password": P.MANAGE_ACCOUNTS,
    "AccountService.change_own_password": ANY_ACTOR,
    "AccountService.record_lock": ANY_ACTOR,
    "AccountService.record_unlock": ANY_ACTOR,
    "AuditService.verify": P.VIEW_AUDIT,
    "AuditService.query": P.VIEW_AUDIT,
    "BackupService.database_label": NO_RECORDS,
    "BackupService.is_sqlite": NO_RECORDS,
    "BackupService.suggested_path": NO_RECORDS,
    "BackupService.backup": P.BACKUP,
    "BackupService.automatic_daily_backup": BEFORE_SIGN_IN,
    "BackupService.backup_revision": NO_RECORDS,
    "BackupService.restore": P.BACKUP,
    "DemoService.fill": P.CHANGE_SETTINGS,
    "SafetyService.status": P.VIEW_CLINICAL,
    "SafetyService.needling": NO_RECORDS,
    "SafetyService.age_flag": NO_RECORDS,
    "SafetyService.clearance_methods": NO_RECORDS,
    "SafetyService.method_words": NO_RECORDS,
    "SafetyService.records": P.VIEW_CLINICAL,
    "SafetyService.record_lines": P.VIEW_CLINICAL,
    "SafetyService.supine_note": P.VIEW_CLINICAL,
    "SafetyService.import_notices": P.VIEW_CLINICAL,
    "SafetyService.record_clearance": P.WRITE_CLINICAL,
    "SafetyService.record_referral_outcome": P.WRITE_CLINICAL,
}

C = Change
EVERYTHING = frozenset(Change)
# What each write changes, for the views that reload on it; every other entry point is a read.
EXPECTED_CHANGES: dict[str, frozenset[Change]] = {
    "PatientService.register": frozenset({C.PATIENTS}),
    "PatientService.update": frozenset({C.PATIENTS, C.SCHEDULE}),
    "PatientService.archive": frozenset({C.PATIENTS, C.SCHEDULE}),
    "PatientService.restore": frozenset({C.PATIENTS, C.SCHEDULE}),
    "AssessmentService.record": frozenset({C.ASSESSMENTS}),
    "AssessmentService.amend": frozenset({C.ASSESSMENTS, C.PLAN}),
    "AssessmentService.mark_entered_in_error": frozenset({C.ASSESSMENTS}),
    "SafetyService.record_clearance": frozenset({C.ASSESSMENTS, C.PLAN, C.SCHEDULE}),
    "SafetyService.record_referral_outcome": frozenset({C.ASSESSMENTS, C.PLAN, C.SCHEDULE}),
    "PlanService.create": frozenset({C.PLAN, C.SCHEDULE}),
    "PlanService.create_recommended": frozenset({C.PLAN, C.SCHEDULE}),
    "PlanService.change_phase": frozenset({C.PLAN, C.SCHEDULE}),
    "PlanService.reschedule_visit": frozenset({C.PLAN, C.SCHEDULE}),
    "PlanService.discharge": frozenset({C.PLAN, C.SCHEDULE, C.ASSESSMENTS}),
    "SessionService.log": frozenset({C.SESSIONS, C.SCHEDULE, C.PLAN}),
    "SessionService.amend": frozenset({C.SESSIONS, C.SCHEDULE, C.PLAN}),
    "SessionService.mark_missed": frozenset({C.SCHEDULE, C.PLAN}),
    "DocumentService.print_plan_summary": frozenset({C.DOCUMENTS}),
    "DocumentService.keep_printed": frozenset({C.DOCUMENTS}),
    "DocumentService.print_discharge_summary": frozenset({C.DOCUMENTS}),
    "CaseService.import_file": frozenset(
        {C.PATIENTS, C.ASSESSMENTS, C.PLAN, C.SESSIONS, C.SCHEDULE}
    ),
    "ClinicService.set_up": frozenset({C.SETTINGS, C.ACCOUNTS}),
    "ClinicService.update_settings": frozenset({C.SETTINGS}),
    "ClinicService.sign_in": frozenset({C.ACCOUNTS}),
    "AccountService.create": frozenset({C.ACCOUNTS}),
    "AccountService.deactivate": frozenset({C.ACCOUNTS}),
    "AccountService.reactivate": frozenset({C.ACCOUNTS}),
    "AccountService.reset_password": frozenset({C.ACCOUNTS}),
    "AccountService.change_own_password": frozenset({C.ACCOUNTS}),
    "BackupService.restore": EVERYTHING,
    "DemoService.fill": EVERYTHING,
}

ROLES = ("admin", "acupuncturist", "physical_therapist", "front_desk", "system")


def service_classes() -> list[type[Any]]:
    """Every class named *Service defined in a module of backclinic.services."""
    found = []
    for module_info in pkgutil.iter_modules(backclinic.services.__path__):
        module = importlib.import_module(f"backclinic.services.{module_info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and name.endswith("Service")
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return sorted(found, key=lambda cls: cls.__name__)


def public_methods(cls: type[Any]) -> Iterator[tuple[str, Any]]:
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if inspect.isfunction(value) or isinstance(value, property | staticmethod | classmethod):
            yield f"{cls.__name__}.{name}", value


def all_public_methods() -> dict[str, Any]:
    return dict(item for cls in service_classes() for item in public_methods(cls))


def test_every_public_service_method_declares_who_may_call_it() -> None:
    undeclared = [
        name for name, method in all_public_methods().items() if not entry_point_of(method)
    ]

    assert undeclared == []


def test_the_table_of_rules_names_every_entry_point_and_each_declares_its_rule() -> None:
    declared: dict[str, Permission | Access | None] = {}
    for name, method in all_public_methods().items():
        entry = entry_point_of(method)
        assert entry is not None, name
        declared[name] = entry.permission if entry.access == Access.SIGNED_IN else entry.access

    assert declared == EXPECTED


def test_each_write_declares_what_it_changes_and_reads_declare_nothing() -> None:
    declared = {
        name: changes_of(method)
        for name, method in all_public_methods().items()
        if changes_of(method)
    }

    assert declared == EXPECTED_CHANGES


def test_a_unit_of_work_outside_a_declared_entry_point_is_a_programming_error(
    services: Services,
) -> None:
    outside = r"outside a declared service entry point"
    with pytest.raises(OutsideEntryPoint, match=outside), services.context.reading():
        pass
    with pytest.raises(OutsideEntryPoint, match=outside), services.context.writing():
        pass


def test_an_entry_point_called_without_an_actor_is_refused(services: Services) -> None:
    with pytest.raises(TypeError, match=r"must be called with the acting Actor"):
        services.sessions.history(1)  # type: ignore[call-arg]


@dataclass(frozen=True)
class Clinic:
    services: Services
    database: OpenDatabase
    actors: dict[str, Actor]
    patient_id: int
    plan_id: int


@pytest.fixture(scope="module")
def clinic(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Clinic]:
    """One clinic with an admin and one account of every other role, shared by the matrix
    (refused calls write nothing, so they cannot disturb each other)."""
    # The module's own audit key, kept for its life (the services keep it once read).
    keys = pytest.MonkeyPatch()
    keys.setenv(KEY_FOLDER_VARIABLE, str(tmp_path_factory.mktemp("matrix-keys")))
    shared = os.environ.get(TEST_DATABASE_VARIABLE)
    if shared:
        request.getfixturevalue("postgres_template").fresh()
        url = shared
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'clinic.db'}"
    database = open_database(url)
    services = build_services(database.session_factory)
    admin = services.clinic.set_up(
        clinic_name="Matrix Clinic",
        first_clinician=NewClinician("Sarah Admin", "sarah", "admin", PASSWORD),
    ).as_actor()
    actors = {"admin": admin, "system": COMMAND_LINE}
    for role in ("acupuncturist", "physical_therapist", "front_desk"):
        account = services.accounts.create(
            admin, NewClinician(f"Someone {role}", role, role, PASSWORD)
        )
        actors[role] = account.as_actor()
    patient = services.patients.register(
        admin, PatientInput("Rivera", "Ana", dt.date(1980, 3, 14), mrn="M-1")
    )
    services.assessments.record(
        admin, patient.id, AssessmentInput("intake", article_intake(services))
    )
    proposal = services.plans.propose(admin, patient.id)
    plan = services.plans.create(
        admin,
        patient.id,
        choices_from_proposal(proposal, start=START, clinic_days=frozenset(range(7))),
    )
    yield Clinic(services, database, actors, patient.id, plan.id)
    database.engine.dispose()
    keys.undo()


def stored_counts(clinic: Clinic) -> dict[str, int]:
    """How many rows every table holds: a refused call must leave every count as it was."""
    with clinic.database.session_factory() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def signed_in_entry_points() -> list[tuple[str, EntryPoint]]:
    points = []
    for name, method in sorted(all_public_methods().items()):
        entry = entry_point_of(method)
        if entry is not None and entry.access == Access.SIGNED_IN:
            points.append((name, entry))
    return points


def call_with_placeholders(clinic: Clinic, name: str, actor: Actor, tmp: Path) -> None:
    """Call ``name`` as ``actor`` with every other argument a harmless placeholder."""
    class_name, method_name = name.split(".")
    # Every service of the bundle, the ones built on first use (cases, demo) included.
    names = [name for name in dir(clinic.services) if not name.startswith("_")]
    service = next(
        getattr(clinic.services, field)
        for field in names
        if type(getattr(clinic.services, field)).__name__ == class_name
    )
    method = getattr(service, method_name)
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.default is not inspect.Parameter.empty:
            continue
        value = _placeholder(clinic, parameter.name, tmp)
        if parameter.kind == inspect.Parameter.KEYWORD_ONLY:
            keywords[parameter.name] = value
        else:
            positional.append(value)
    method(actor, *positional, **keywords)


def _placeholder(clinic: Clinic, name: str, tmp: Path) -> Any:
    if name == "patient_id":
        return clinic.patient_id
    if name == "plan_id":
        return clinic.plan_id
    if name in ("path", "out"):
        return tmp / "placeholder-output"
    if name == "mrn":
        return "M-1"
    if name == "text":
        return "riv"
    # Anything else: the check comes first, so a refused call never looks at it.
    return None


MATRIX = [
    pytest.param(name, entry, role, id=f"{role}-{name}")
    for name, entry in signed_in_entry_points()
    for role in ROLES
]


@pytest.mark.parametrize(("name", "entry", "role"), MATRIX)
def test_every_role_against_every_entry_point(
    clinic: Clinic, name: str, entry: EntryPoint, role: str, tmp_path: Path
) -> None:
    actor = clinic.actors[role]
    refused = entry.permission is not None and not allows(actor, entry.permission)
    before = stored_counts(clinic) if refused else {}

    denial: PermissionDenied | None = None
    try:
        call_with_placeholders(clinic, name, actor, tmp_path)
    except PermissionDenied as error:
        denial = error
    except Exception:
        pass

    if not refused:
        assert denial is None, f"{role} was refused {name}: {denial}"
        return
    assert denial is not None, f"{role} was let through {name}"
    assert entry.permission is not None
    sentence = str(denial)
    assert re.fullmatch(r"An? [^.]+ account cannot [^.]+\.", sentence), sentence
    assert ROLE_NAMES[role].lower() in sentence
    assert entry.permission.value in sentence
    assert stored_counts(clinic) == before
    assert not (tmp_path / "placeholder-output").exists()


def test_front_desk_cannot_create_or_change_a_plan(clinic: Clinic) -> None:
    desk = clinic.actors["front_desk"]
    services = clinic.services
    plan = services.plans.get(clinic.actors["admin"], clinic.plan_id)
    proposal = services.plans.propose(clinic.actors["admin"], clinic.patient_id)
    choices = choices_from_proposal(proposal, start=START, clinic_days=frozenset(range(7)))
    before = stored_counts(clinic)

    with pytest.raises(PermissionDenied, match=r"^A front desk account cannot record clinical"):
        services.plans.create(desk, clinic.patient_id, choices)
    with pytest.raises(PermissionDenied, match=r"^A front desk account cannot record clinical"):
        services.plans.change_phase(
            desk,
            plan.id,
            1,
            weeks=4,
            acupuncture_per_week=1,
            acupuncture_as_needed=False,
            pt_per_week=1,
            expected_version=plan.version,
        )

    assert stored_counts(clinic) == before
    assert services.plans.get(clinic.actors["admin"], plan.id).version == plan.version


def test_front_desk_cannot_create_an_administrator(clinic: Clinic) -> None:
    desk = clinic.actors["front_desk"]
    services = clinic.services

    with pytest.raises(PermissionDenied, match=r"^A front desk account cannot manage clinician"):
        services.accounts.create(desk, NewClinician("Eve Boss", "eve", "admin", PASSWORD))

    with clinic.database.session_factory() as session:
        assert session.scalar(select(ClinicianRow).where(ClinicianRow.username == "eve")) is None
    assert not hasattr(services.clinic, "add_clinician")


def test_front_desk_cannot_read_sessions_or_assessments(clinic: Clinic) -> None:
    desk = clinic.actors["front_desk"]
    services = clinic.services

    with pytest.raises(PermissionDenied, match=r"cannot see clinical records"):
        services.sessions.history(desk, clinic.patient_id)
    with pytest.raises(PermissionDenied, match=r"cannot see clinical records"):
        services.sessions.progress(desk, clinic.patient_id, services.patients.today())
    with pytest.raises(PermissionDenied, match=r"cannot see clinical records"):
        services.assessments.latest_intake(desk, clinic.patient_id)
    with pytest.raises(PermissionDenied, match=r"cannot see clinical records"):
        services.plans.propose(desk, clinic.patient_id)


def test_the_fixture_clinic_holds_what_the_matrix_needs(clinic: Clinic) -> None:
    with clinic.database.session_factory() as session:
        assert session.get(PatientRow, clinic.patient_id) is not None
        assert session.get(PlanRow, clinic.plan_id) is not None
