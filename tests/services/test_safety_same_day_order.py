"""A cauda-equina screen and the referral outcome recorded on the same day are ordered by
the instant each was recorded, not by their shared date (issue 11): a new screen later
that day is not taken as already answered by the morning's outcome."""

from __future__ import annotations

import datetime as dt

import pytest

from backclinic.db.database import OpenDatabase
from backclinic.domain.screening import ScreeningOutcome
from backclinic.services.assessments import Assessment, AssessmentInput
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.context import Actor
from backclinic.services.errors import ValidationFailed
from backclinic.services.patients import PatientInput
from backclinic.services.plans import choices_from_proposal
from backclinic.services.safety import ClearanceInput
from tests.conftest import PASSWORD
from tests.services.test_plans import MON_TO_FRI, START, article_intake, grace
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


def test_an_amendment_of_an_amendment_keeps_the_instant_of_the_original_screen(
    clinic: Services, mei: Actor, clock: Clock
) -> None:
    """Screen at nine, outcome at ten, then two corrections of the screen in the evening:
    each correction is still the screen recorded at nine, which the outcome answered."""
    patient_id = planned_grace(clinic, mei)
    clock.at(9)
    morning = screen_saddle_anaesthesia(clinic, mei, patient_id)
    clock.at(10)
    clinic.safety.record_referral_outcome(mei, patient_id, OUTCOME)
    as_recorded = clinic.safety.status(mei, patient_id)
    clock.at(17)
    first = clinic.assessments.amend(
        mei,
        morning.id,
        saddle_anaesthesia(clinic, nprs_current=5),
        "Pain score typed as six; the patient said five",
        morning.version,
    )
    clock.at(18)

    clinic.assessments.amend(
        mei,
        first.id,
        saddle_anaesthesia(clinic, nprs_current=4),
        "The patient corrected her pain score again: four",
        first.version,
    )

    status = clinic.safety.status(mei, patient_id)
    assert not status.on_hold
    assert status.message == as_recorded.message


# --- the clearance planning stands on, ordered the same way ----------------------------


def flagged_intake(clinic: Services) -> AssessmentInput:
    return AssessmentInput(
        "intake",
        article_intake(clinic, assessed_on=DAY, red_flags=with_flags(clinic, "cancer_history")),
    )


CLEARANCE = ClearanceInput(
    ("cancer_history",), "physician_letter", "Oncologist: in remission for ten years"
)


def registered_grace(clinic: Services, mei: Actor) -> int:
    return clinic.patients.register(
        mei, PatientInput("Okafor", "Grace", dt.date(1980, 11, 2), mrn="CASE-0045")
    ).id


def test_a_clearance_recorded_before_the_intake_that_found_the_flag_does_not_clear_it(
    clinic: Services, mei: Actor, clock: Clock
) -> None:
    """Intake at nine with a history of cancer, cleared at ten; a new intake at two that
    finds it again is not cleared by the morning's clearance, at planning as at a session."""
    patient_id = registered_grace(clinic, mei)
    clock.at(9)
    clinic.assessments.record(mei, patient_id, flagged_intake(clinic))
    clock.at(10)
    clinic.safety.record_clearance(mei, patient_id, CLEARANCE)
    assert not clinic.plans.propose(mei, patient_id).blocked
    clock.at(14)

    clinic.assessments.record(mei, patient_id, flagged_intake(clinic))

    assert clinic.safety.status(mei, patient_id).uncleared
    proposal = clinic.plans.propose(mei, patient_id)
    assert proposal.blocked
    assert proposal.screening.outcome == ScreeningOutcome.NEEDS_CLEARANCE
    with pytest.raises(ValidationFailed) as refused:
        clinic.plans.create(
            mei, patient_id, choices_from_proposal(proposal, start=DAY, clinic_days=MON_TO_FRI)
        )
    assert "red_flag_clearance" in refused.value.by_field
    clock.at(15)
    clinic.safety.record_clearance(mei, patient_id, CLEARANCE)
    cleared = clinic.plans.propose(mei, patient_id)
    assert not cleared.blocked and cleared.screening.outcome == ScreeningOutcome.CLEARED
    plan = clinic.plans.create(
        mei, patient_id, choices_from_proposal(cleared, start=DAY, clinic_days=MON_TO_FRI)
    )
    assert plan.red_flag_clearance is not None
    assert plan.red_flag_clearance.count("Clearance recorded") == 1


def test_an_intake_corrected_after_its_clearance_stays_cleared_at_planning(
    clinic: Services, mei: Actor, clock: Clock
) -> None:
    """The corrected intake is the one recorded at nine, which the ten o'clock clearance
    cleared, however many times it is corrected."""
    patient_id = registered_grace(clinic, mei)
    clock.at(9)
    intake = clinic.assessments.record(mei, patient_id, flagged_intake(clinic))
    clock.at(10)
    clinic.safety.record_clearance(mei, patient_id, CLEARANCE)
    for hour, reason in ((16, "Pain score typed as six; it was five"), (17, "Five, not four")):
        clock.at(hour)
        intake = clinic.assessments.amend(
            mei, intake.id, flagged_intake(clinic), reason, intake.version
        )

    assert not clinic.safety.status(mei, patient_id).uncleared
    proposal = clinic.plans.propose(mei, patient_id)
    assert not proposal.blocked
    assert proposal.screening.outcome == ScreeningOutcome.CLEARED
