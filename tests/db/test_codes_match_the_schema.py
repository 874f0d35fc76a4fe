"""Every status the database accepts has a label in the catalogue, and no label is orphaned."""

from __future__ import annotations

import pytest

from backclinic.db.models import ASSESSMENT_KINDS, PLAN_STATUSES, VISIT_STATUSES
from backclinic.domain.catalogue import load_catalogue


@pytest.mark.parametrize(
    ("kind", "allowed"),
    [
        ("plan_statuses", PLAN_STATUSES),
        ("visit_statuses", VISIT_STATUSES),
        ("assessment_kinds", ASSESSMENT_KINDS),
    ],
)
def test_catalogue_labels_cover_exactly_the_values_the_database_accepts(
    kind: str, allowed: tuple[str, ...]
) -> None:
    assert set(load_catalogue().codes[kind]) == set(allowed)
