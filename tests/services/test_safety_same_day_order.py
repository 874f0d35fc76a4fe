"""A cauda-equina screen and the referral outcome recorded on the same day are ordered by
the instant each was recorded, not by their shared date (issue 11): a new screen later
that day is not taken as already answered by the morning's outcome."""

from __future__ import annotations

import datetime as dt

import pytest

from backclinic.db.database import OpenDatabase
from backclinic.services.assessments import Assessment, AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from tests.conftest import PASSWORD
from tests.services.test_plans import START, article_intake, grace
from tests.services.test_safety_through_the_episode import with_flags
from tests.services.test_sessions import visit_input

DAY = START + dt.timedelta(days=7)
ZONE = dt.UTC


class Clock:
    """A clinic clock the test moves by hand."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def at(self, hour: int, minute: int = 0) -> None:
        self.moment = dt.datetime.combine(DAY, dt.time(hour, minute), ZONE)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime.combine(START, dt.time(8), ZONE))


@pytest.fixture
def clinic(database: OpenDatabase, clock: Clock) -> Services:
    return build_services(database.session_factory, clock)


@pytest.fixture
def mei(clinic: Services) -> Actor:
    return clinic.clinic.set_up(
        clinic_name="Harbour Back Clinic",
        first_clinician=NewClinician(
            full_name="Mei Lin", username="mei", role="acupuncturist", password=PASSWORD
        ),
    ).as_actor()


def planned_grace(clinic: Services, mei: Actor) -> int:
    patient_id = grace(clinic, mei)
    clinic.plans.create_recommended(mei, "CASE-0045", start=START)
    return patient_id


def saddle_anaesthesia(clinic: Services, **changes: object) -> AssessmentInput:
    return AssessmentInput(
        "reassessment",
        article_intake(
            clinic,
            assessed_on=DAY,
            red_flags=with_flags(clinic, "saddle_anaesthesia", "bladder_dysfunction"),
            **changes,
        ),
    )


def screen_saddle_anaesthesia(clinic: Services, mei: Actor, patient_id: int) -> Assessment:
    return clinic.assessments.record(mei, patient_id, saddle_anaesthesia(clinic))


OUTCOME = "Emergency MRI the same morning excluded cauda equina compression"


def test_an_outcome_recorded_after_the_morning_screen_lifts_its_hold(
    clinic: Services, mei: Actor, clock: Clock
) -> None:
    patient_id = planned_grace(clinic, mei)
    clock.at(9)
    screen_saddle_anaesthesia(clinic, mei, patient_id)
    assert clinic.safety.status(mei, patient_id).on_hold
    clock.at(15)
    clinic.safety.record_referral_outcome(mei, patient_id, OUTCOME)

    assert not clinic.safety.status(mei, patient_id).on_hold
    clock.at(16)
    clinic.sessions.log(
        mei, patient_id, visit_input(DAY, performed_at=clock.moment - dt.timedelta(minutes=5))
    )


def test_a_screen_later_the_same_day_is_not_answered_by_the_morning_outcome(
    clinic: Services, mei: Actor, clock: Clock
) -> None:
    patient_id = planned_grace(clinic, mei)
    clock.at(9)
    screen_saddle_anaesthesia(clinic, mei, patient_id)
    clock.at(10)
    clinic.safety.record_referral_outcome(mei, patient_id, OUTCOME)
    assert not clinic.safety.status(mei, patient_id).on_hold

    clock.at(14)
    screen_saddle_anaesthesia(clinic, mei, patient_id)

    status = clinic.safety.status(mei, patient_id)
    assert status.on_hold
    assert status.message.startswith("Urgent referral: possible cauda equina syndrome")
    clock.at(15)
    with pytest.raises(ValidationFailed) as refused:
        clinic.sessions.log(
            mei, patient_id, visit_input(DAY, performed_at=clock.moment - dt.timedelta(minutes=5))
        )
    assert refused.value.by_field["patient"].startswith("Urgent referral")


def test_a_warning_sign_at_a_session_after_the_outcome_the_same_day_holds_again(
    clinic: Services, mei: Actor, clock: Clock
) -> None:
    patient_id = planned_grace(clinic, mei)
    clock.at(9)
    screen_saddle_anaesthesia(clinic, mei, patient_id)
    clock.at(10)
    clinic.safety.record_referral_outcome(mei, patient_id, OUTCOME)
    clock.at(12)
    clinic.sessions.log(
        mei,
        patient_id,
        visit_input(
            DAY,
            performed_at=clock.moment - dt.timedelta(minutes=30),
            adverse_events=("new_numbness",),
        ),
    )

    status = clinic.safety.status(mei, patient_id)
    assert status.on_hold and "new numbness" in status.message


def test_amending_the_morning_screen_after_the_outcome_does_not_hold_again(
    clinic: Services, mei: Actor, clock: Clock
) -> None:
    patient_id = planned_grace(clinic, mei)
    clock.at(9)
    morning = screen_saddle_anaesthesia(clinic, mei, patient_id)
    clock.at(10)
    clinic.safety.record_referral_outcome(mei, patient_id, OUTCOME)
    clock.at(17)

    clinic.assessments.amend(
        mei,
        morning.id,
        saddle_anaesthesia(clinic, nprs_current=5),
        "Pain score typed as six; the patient said five",
        morning.version,
    )

    # The corrected screen is the one recorded at nine, which the outcome answered.
    assert not clinic.safety.status(mei, patient_id).on_hold
