from __future__ import annotations

import pytest

from backclinic.services.context import Actor
from backclinic.services.errors import PermissionDenied
from backclinic.services.permissions import Permission, allows, require

FRONT_DESK = Actor(clinician_id=7, name="Priya Nair", role="front_desk")
ACUPUNCTURIST = Actor(clinician_id=8, name="Mei Lin", role="acupuncturist")


def test_front_desk_registers_patients_and_sees_the_schedule_but_not_clinical_notes() -> None:
    assert allows(FRONT_DESK, Permission.REGISTER_PATIENTS)
    assert allows(FRONT_DESK, Permission.VIEW_SCHEDULE)
    assert not allows(FRONT_DESK, Permission.VIEW_CLINICAL)
    with pytest.raises(PermissionDenied, match=r"front desk account cannot see clinical records"):
        require(FRONT_DESK, Permission.VIEW_CLINICAL)


def test_clinicians_record_care_but_only_admins_manage_accounts() -> None:
    require(ACUPUNCTURIST, Permission.WRITE_CLINICAL)
    assert not allows(ACUPUNCTURIST, Permission.MANAGE_ACCOUNTS)
    assert allows(Actor(1, "Sarah", "admin"), Permission.MANAGE_ACCOUNTS)
