"""Shared fixtures for domain tests: the app's own protocol and catalogues, and the
article's office worker (the case in shared/cases/article-office-worker.json)."""

from __future__ import annotations

from datetime import date

import pytest

from backclinic.domain.catalogue import Catalogue, load_catalogue
from backclinic.domain.intake import Intake
from backclinic.domain.protocol import Protocol, load_default_protocol
from backclinic.domain.screening import red_flags_from_case


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def protocol() -> Protocol:
    return load_default_protocol()


@pytest.fixture
def office_worker(protocol: Protocol) -> Intake:
    """The article's 45-year-old office worker: chronic, worse sitting and with poor
    posture, occasional radiating pain into her hip."""
    return Intake(
        assessed_on=date(2026, 1, 5),
        onset_weeks=30,
        recurrent=True,
        radiating_present=True,
        radiating_side="left",
        radiating_below_knee=False,
        radiating_to="hip",
        aggravated_by=("sitting", "posture"),
        contributing_factors=("posture", "muscle_imbalance", "sedentary"),
        red_flags=red_flags_from_case([], protocol),
        precautions=(),
        nprs_current=6,
        nprs_worst=8,
        nprs_best=3,
        odi_answers=(3, 1, 2, 1, 4, 2, 2, None, 2, 3),
        goals=("sit through a working day without pain", "avoid long-term NSAIDs"),
        age=45,
        occupation="office worker",
    )
