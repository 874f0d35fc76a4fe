"""Every service, built once over one session factory; what app.py hands the UI and CLI."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from backclinic.domain.catalogue import Catalogue, load_catalogue
from backclinic.domain.protocol import Protocol, default_protocol_path, load_protocol
from backclinic.reports.renderer import DocumentRenderer
from backclinic.services.accounts import AccountService
from backclinic.services.assessments import AssessmentService
from backclinic.services.audit import AuditService
from backclinic.services.backups import BackupService
from backclinic.services.clinic import ClinicService, load_clock_zone
from backclinic.services.clock import ClinicClock, Instant, utc_now
from backclinic.services.context import ServiceContext
from backclinic.services.documents import DocumentService
from backclinic.services.episodes import EpisodeService
from backclinic.services.passwords import password_hasher
from backclinic.services.patients import PatientService
from backclinic.services.plans import PlanService
from backclinic.services.safety import SafetyService
from backclinic.services.schedule_view import DayScheduleService
from backclinic.services.sessions import SessionService

if TYPE_CHECKING:
    from backclinic.services.cases import CaseService
    from backclinic.services.demo import DemoService


@dataclass(frozen=True)
class Services:
    context: ServiceContext
    protocol: Protocol
    catalogue: Catalogue
    clinic: ClinicService
    patients: PatientService
    assessments: AssessmentService
    plans: PlanService
    sessions: SessionService
    schedule: DayScheduleService
    backups: BackupService
    documents: DocumentService
    episodes: EpisodeService
    safety: SafetyService
    accounts: AccountService
    audit: AuditService

    # Built on first use: case files and the demo clinic are for now and then, and their
    # modules (the case-file schema, the demo's name lists) need not sit in the window's
    # memory all day (benchmarks/idle_memory.py).
    @cached_property
    def cases(self) -> CaseService:
        from backclinic.services.cases import CaseService

        return CaseService(
            self.context,
            self.protocol,
            self.catalogue,
            self.patients,
            self.assessments,
            self.plans,
            self.episodes,
        )

    @cached_property
    def demo(self) -> DemoService:
        from backclinic.services.demo import DemoService

        return DemoService(
            self.context,
            self.clinic,
            assessments=self.assessments,
            plans=self.plans,
            accounts=self.accounts,
        )


def build_services(
    session_factory: sessionmaker[Session],
    clock: Instant = utc_now,
    *,
    protocol: Protocol | None = None,
    catalogue: Catalogue | None = None,
    renderer: DocumentRenderer | None = None,
) -> Services:
    """Raises ProtocolError/CatalogueError (file, key, reason) for a broken data file.

    ``clock`` gives the current moment; the clinic's time zone setting decides its date.
    ``renderer`` draws the printed documents, in this process unless given (the window
    gives a ChildProcessRenderer).
    """
    context = ServiceContext(session_factory, ClinicClock(clock))
    catalogue = catalogue or load_catalogue()
    protocol = protocol or load_protocol(default_protocol_path(), catalogue)
    patients = PatientService(context)
    assessments = AssessmentService(context, protocol, catalogue)
    plans = PlanService(context, protocol, catalogue, patients, assessments)
    hasher = password_hasher()
    clinic = ClinicService(context, hasher)
    load_clock_zone(context)
    sessions = SessionService(context, protocol, catalogue)
    accounts = AccountService(context, hasher)
    safety = SafetyService(context, protocol, catalogue)
    episodes = EpisodeService(
        context, protocol.thresholds, plans, assessments, sessions, safety=safety
    )
    return Services(
        context=context,
        protocol=protocol,
        catalogue=catalogue,
        clinic=clinic,
        patients=patients,
        assessments=assessments,
        plans=plans,
        sessions=sessions,
        schedule=DayScheduleService(context, protocol=protocol, catalogue=catalogue),
        backups=BackupService(context, session_factory.kw["bind"]),
        documents=DocumentService(
            context,
            protocol,
            catalogue,
            clinic,
            patients,
            plans,
            assessments,
            sessions,
            renderer=renderer,
        ),
        episodes=episodes,
        safety=safety,
        accounts=accounts,
        audit=AuditService(context),
    )
