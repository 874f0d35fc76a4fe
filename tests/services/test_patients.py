from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backclinic.db.models import AuditEventRow
from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.errors import ConflictError, ValidationFailed
from backclinic.services.patients import PatientInput, fold
from tests.records import stored_records


def ana(**changes: object) -> PatientInput:
    values: dict[str, object] = {
        "family_name": "Rivera",
        "given_name": "Ana",
        "date_of_birth": dt.date(1980, 3, 14),
        "occupation": "office worker",
    }
    values.update(changes)
    return PatientInput(**values)  # type: ignore[arg-type]


def test_registering_without_an_mrn_generates_one_in_sequence(
    services: Services, actor: Actor
) -> None:
    first = services.patients.register(actor, ana())
    second = services.patients.register(actor, ana(given_name="Luz"))
    assert first.mrn == "BC-000001"
    assert second.mrn == "BC-000002"


def test_a_taken_mrn_is_refused_on_the_mrn_field_and_nothing_is_saved(
    services: Services, actor: Actor
) -> None:
    services.patients.register(actor, ana(mrn="A-1001"))
    with pytest.raises(ValidationFailed) as refused:
        services.patients.register(actor, ana(given_name="Other", mrn="A-1001"))
    assert refused.value.by_field == {"mrn": "MRN A-1001 already belongs to another patient."}
    assert services.patients.count(actor) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"family_name": "  "}, "family_name", "Family name is required."),
        ({"given_name": ""}, "given_name", "Given name is required."),
        ({"date_of_birth": None}, "date_of_birth", "Date of birth is required."),
        (
            {"date_of_birth": dt.date(1899, 12, 31)},
            "date_of_birth",
            "Date of birth cannot be before 1900.",
        ),
        (
            {"date_of_birth": dt.date.today() + dt.timedelta(days=1)},
            "date_of_birth",
            "Date of birth cannot be in the future.",
        ),
        (
            {"mrn": "has space"},
            "mrn",
            "MRN may use letters, digits, '-', '/' and '.', up to 40 characters.",
        ),
    ],
)
def test_bad_patient_input_names_the_field_and_the_rule(
    services: Services, actor: Actor, changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.patients.register(actor, ana(**changes))
    assert refused.value.by_field[field] == message
    assert services.patients.count(actor) == 0


def test_every_write_is_audited_with_the_signed_in_clinician(
    services: Services, actor: Actor
) -> None:
    patient = services.patients.register(actor, ana())
    services.patients.update(
        actor, patient.id, ana(occupation="teacher", mrn=patient.mrn), patient.version
    )
    with stored_records(services) as session:
        events = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.patient_id == patient.id)
            .order_by(AuditEventRow.id)
        ).all()
    assert [(e.action, e.clinician_id) for e in events] == [
        ("create", actor.clinician_id),
        ("change", actor.clinician_id),
    ]
    assert events[1].details == {
        "before": {"occupation": "office worker"},
        "after": {"occupation": "teacher"},
    }


def test_a_stale_edit_is_refused_and_says_who_changed_the_record(
    services: Services, actor: Actor
) -> None:
    patient = services.patients.register(actor, ana())
    services.patients.update(actor, patient.id, ana(phone="555", mrn=patient.mrn), patient.version)
    with pytest.raises(ConflictError) as lost:
        services.patients.update(
            actor, patient.id, ana(phone="777", mrn=patient.mrn), patient.version
        )
    assert "changed by Mei Lin" in str(lost.value)
    assert lost.value.change.theirs["phone"] == "555"
    assert lost.value.change.yours["phone"] == "777"
    assert services.patients.get(actor, patient.id).phone == "555"


def test_search_finds_by_name_prefix_ignoring_case_and_accents(
    services: Services, actor: Actor
) -> None:
    services.patients.register(actor, ana(family_name="Núñez", given_name="José"))
    services.patients.register(actor, ana(family_name="Nguyen", given_name="Thị Hương"))
    services.patients.register(actor, ana(family_name="Okafor", given_name="Grace"))
    names = lambda text: [r.family_name for r in services.patients.search(actor, text).rows]  # noqa: E731
    assert names("nun") == ["Núñez"]
    assert names("N") == ["Nguyen", "Núñez"]
    assert names("huong") == ["Nguyen"]
    assert names("jose nu") == ["Núñez"]
    assert names("zz") == []


def test_search_finds_by_mrn_and_by_date_of_birth(services: Services, actor: Actor) -> None:
    services.patients.register(actor, ana(mrn="A-1001"))
    services.patients.register(actor, ana(given_name="Luz", date_of_birth=dt.date(1975, 6, 1)))
    assert [r.mrn for r in services.patients.search(actor, "a-10").rows] == ["A-1001"]
    assert [r.given_name for r in services.patients.search(actor, "1975-06-01").rows] == ["Luz"]
    assert [r.given_name for r in services.patients.search(actor, "01.06.1975").rows] == ["Luz"]


def test_search_pages_follow_on_without_gaps_or_repeats(services: Services, actor: Actor) -> None:
    for number in range(25):
        services.patients.register(actor, ana(given_name=f"Ana{number:02d}"))
    for text in ("", "riv"):
        seen = []
        page = services.patients.search(actor, text, limit=10)
        seen += [r.id for r in page.rows]
        while page.cursor is not None:
            page = services.patients.search(actor, text, after=page.cursor, limit=10)
            seen += [r.id for r in page.rows]
        assert len(seen) == 25
        assert len(set(seen)) == 25


def test_archived_patients_leave_the_list_but_are_never_deleted(
    services: Services, actor: Actor
) -> None:
    patient = services.patients.register(actor, ana())
    services.patients.archive(actor, patient.id, patient.version)
    assert services.patients.search(actor, "rivera").rows == ()
    assert [
        r.id for r in services.patients.search(actor, "rivera", include_archived=True).rows
    ] == [patient.id]
    assert services.patients.get(actor, patient.id).archived


def test_fold_strips_accents_and_case() -> None:
    assert fold("ÁLVAREZ Ñúñez") == "alvarez nunez"


def test_letters_without_a_decomposition_fold_to_plain_ones(
    services: Services, actor: Actor
) -> None:
    services.patients.register(actor, ana(family_name="Østergaard", given_name="Łukasz"))
    services.patients.register(actor, ana(family_name="O'Brien", given_name="Đặng"))
    assert [r.family_name for r in services.patients.search(actor, "ostergaard").rows] == [
        "Østergaard"
    ]
    assert [r.family_name for r in services.patients.search(actor, "lukasz").rows] == ["Østergaard"]
    assert [r.family_name for r in services.patients.search(actor, "obrien").rows] == ["O'Brien"]
    assert [r.family_name for r in services.patients.search(actor, "dang").rows] == ["O'Brien"]


def test_a_patient_with_the_same_folded_names_and_birth_date_is_a_possible_duplicate(
    services: Services, actor: Actor
) -> None:
    first = services.patients.register(
        actor, ana(family_name="Phạm", given_name="Văn Hùng", mrn="H-1")
    )
    found = services.patients.possible_duplicates(
        actor, ana(family_name="PHAM", given_name="van hung")
    )
    assert [d.patient.mrn for d in found] == [first.mrn]
    assert found[0].same_name_and_birth and not found[0].same_phone
    assert "H-1" in found[0].describe()
    other_birthday = ana(
        family_name="Pham", given_name="Van Hung", date_of_birth=dt.date(1981, 1, 1)
    )
    assert services.patients.possible_duplicates(actor, other_birthday) == ()


def test_a_patient_with_the_same_phone_is_a_possible_duplicate_but_not_themselves(
    services: Services, actor: Actor
) -> None:
    first = services.patients.register(actor, ana(phone="0903 123 456"))
    found = services.patients.possible_duplicates(
        actor, ana(family_name="Nguyen", phone="0903 123 456")
    )
    assert [(d.patient.id, d.same_phone) for d in found] == [(first.id, True)]
    assert "0903 123 456" in found[0].describe()
    assert services.patients.possible_duplicates(actor, first.as_input(), excluding=first.id) == ()
