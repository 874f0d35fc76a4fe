"""Every service, built once over one session factory; what app.py hands the UI and CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from backclinic.services.clinic import ClinicService
from backclinic.services.context import Clock, ServiceContext, utc_now
from backclinic.services.patients import PatientService


@dataclass(frozen=True)
class Services:
    context: ServiceContext
    clinic: ClinicService
    patients: PatientService


def build_services(session_factory: sessionmaker[Session], clock: Clock = utc_now) -> Services:
    context = ServiceContext(session_factory, clock)
    return Services(
        context=context,
        clinic=ClinicService(context),
        patients=PatientService(context),
    )
