"""The patient registry: register, edit, archive, and search as you type.

Search never wraps an indexed column in a function: each patient's name parts and MRN
are stored folded (casefold, accents stripped) in an indexed term table, so a prefix is a
single index range read with keyset paging, fast at any registry size.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, func, literal, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backclinic.db.models import ClinicSettingsRow, PatientRow, PatientSearchTermRow
from backclinic.domain.untrusted_text import describe_character, first_control
from backclinic.services.context import Actor, AuditEntry, ServiceContext
from backclinic.services.errors import (
    FieldError,
    NotFound,
    ValidationFailed,
)
from backclinic.services.patient_status import PatientStatus, patient_statuses
from backclinic.services.permissions import Permission
from backclinic.services.use_case import Change, reads_no_records, use_case

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
SEXES = ("female", "male", "other", "unknown")
MRN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]{0,39}$")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
_LAST_CODE_POINT = "\U0010ffff"
# How often a registration without an MRN picks the next number when another workstation
# took it at the same moment.
NUMBERING_ATTEMPTS = 3
# The punctuation MRN_PATTERN allows; migration 0011 strips the same three in SQL.
_MRN_PUNCTUATION = str.maketrans("", "", "-/.")
# Single-line fields hold no control characters at all; an address may span lines.
_ONE_LINE_FIELDS = {
    "family_name": "Family name",
    "given_name": "Given name",
    "occupation": "Occupation",
    "phone": "Phone",
    "email": "Email",
}


# Letters that Unicode does not decompose into a base letter plus an accent.
_PLAIN_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ı": "i",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "'": "",
        "’": "",
    }
)


def fold(text: str) -> str:
    """Casefold and strip accents: 'Ñúñez' finds 'nunez', 'Østergaard' 'ostergaard'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_PLAIN_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def mrn_key(mrn: str) -> str:
    """What makes two MRNs the same record: ``case-0045`` and ``CASE-0045.`` are CASE-0045.

    MRN_PATTERN allows only ASCII letters, digits and '-', '/', '.', so lower() in SQL
    agrees with this on every engine.
    """
    return mrn.strip().lower().translate(_MRN_PUNCTUATION)


def search_terms(family_name: str, given_name: str, mrn: str) -> list[tuple[str, str]]:
    """(term, kind) pairs under which a patient can be found."""
    terms: set[tuple[str, str]] = set()
    for kind, name in (("family", family_name), ("given", given_name)):
        folded = fold(name)
        terms.add((folded, kind))
        for part in re.split(r"[\s\-]+", folded):
            if part:
                terms.add((part, kind))
    terms.add((fold(mrn), "mrn"))
    return sorted(terms)


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - int(before_birthday)


def parse_date_query(text: str) -> dt.date | None:
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class PatientInput:
    """What a clinician types on the patient form; mrn blank means 'generate one'."""

    family_name: str
    given_name: str
    date_of_birth: dt.date | None
    mrn: str = ""
    sex: str | None = None
    occupation: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True)
class Patient:
    id: int
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: dt.date
    sex: str | None
    occupation: str
    phone: str
    email: str
    address: str
    archived: bool
    version: int

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    def age(self, today: dt.date) -> int:
        return age_on(self.date_of_birth, today)

    def as_input(self) -> PatientInput:
        return PatientInput(
            family_name=self.family_name,
            given_name=self.given_name,
            date_of_birth=self.date_of_birth,
            mrn=self.mrn,
            sex=self.sex,
            occupation=self.occupation,
            phone=self.phone,
            email=self.email,
            address=self.address,
        )


@dataclass(frozen=True)
class PatientSummary:
    id: int
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: dt.date
    archived: bool


@dataclass(frozen=True)
class PossibleDuplicate:
    """A patient already on record who may be the one being registered, and why."""

    patient: PatientSummary
    phone: str
    same_name_and_birth: bool
    same_phone: bool

    def describe(self) -> str:
        reasons = []
        if self.same_name_and_birth:
            reasons.append("the same name and date of birth")
        if self.same_phone:
            reasons.append(f"the same phone ({self.phone})")
        record = self.patient
        return (
            f"{record.mrn} ({record.family_name}, {record.given_name}, born "
            f"{record.date_of_birth.isoformat()}) has {' and '.join(reasons)}."
        )


@dataclass(frozen=True)
class SearchPage:
    rows: tuple[PatientSummary, ...]
    # Opaque keyset position after the last row; None when there is nothing more.
    cursor: tuple[object, ...] | None


def _patient(row: PatientRow) -> Patient:
    return Patient(
        id=row.id,
        mrn=row.mrn,
        family_name=row.family_name,
        given_name=row.given_name,
        date_of_birth=row.date_of_birth,
        sex=row.sex,
        occupation=row.occupation,
        phone=row.phone,
        email=row.email,
        address=row.address,
        archived=row.archived,
        version=row.version,
    )


def _summary(row: PatientRow) -> PatientSummary:
    return PatientSummary(
        row.id, row.mrn, row.family_name, row.given_name, row.date_of_birth, row.archived
    )


def validate_patient(data: PatientInput, today: dt.date) -> list[FieldError]:
    errors = []
    if not data.family_name.strip():
        errors.append(FieldError("family_name", "Family name is required."))
    if not data.given_name.strip():
        errors.append(FieldError("given_name", "Given name is required."))
    if data.date_of_birth is None:
        errors.append(FieldError("date_of_birth", "Date of birth is required."))
    elif data.date_of_birth > today:
        errors.append(FieldError("date_of_birth", "Date of birth cannot be in the future."))
    elif data.date_of_birth < EARLIEST_BIRTH_DATE:
        errors.append(FieldError("date_of_birth", "Date of birth cannot be before 1900."))
    for name, label in _ONE_LINE_FIELDS.items():
        control = first_control(getattr(data, name))
        if control is not None:
            errors.append(
                FieldError(
                    name,
                    f"{label} cannot hold the control character {describe_character(control)}.",
                )
            )
    control = first_control(data.address, allow_layout=True)
    if control is not None:
        errors.append(
            FieldError(
                "address",
                f"Address cannot hold the control character {describe_character(control)}.",
            )
        )
    mrn = data.mrn.strip()
    if mrn and not MRN_PATTERN.match(mrn):
        errors.append(
            FieldError(
                "mrn",
                "MRN may use letters, digits, '-', '/' and '.', up to 40 characters.",
            )
        )
    if data.sex is not None and data.sex not in SEXES:
        errors.append(FieldError("sex", f"Sex must be one of: {', '.join(SEXES)}."))
    email = data.email.strip()
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors.append(FieldError("email", "Email must look like name@example.org."))
    return errors


class PatientService:
    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    @reads_no_records
    def today(self) -> dt.date:
        return self._context.clock.today()

    @use_case(Permission.REGISTER_PATIENTS, changes={Change.PATIENTS})
    def register(self, actor: Actor, data: PatientInput) -> Patient:
        errors = validate_patient(data, self.today())
        if errors:
            raise ValidationFailed(errors)
        try:
            for attempt in range(1, NUMBERING_ATTEMPTS + 1):
                try:
                    with self._context.writing() as session:
                        row = self._insert(session, actor, data)
                        self._context.audit(
                            session,
                            actor,
                            AuditEntry("create", "patient", row.id, row.id, {"mrn": row.mrn}),
                        )
                        return _patient(row)
                except IntegrityError:
                    # A number we chose, taken by another workstation meanwhile: choose
                    # again. A typed MRN is the user's, and is refused below.
                    if data.mrn.strip() or attempt == NUMBERING_ATTEMPTS:
                        raise
            raise AssertionError("unreachable")
        except IntegrityError as error:
            raise self._taken_meanwhile(data.mrn, None) from error

    @use_case(Permission.REGISTER_PATIENTS)
    def possible_duplicates(
        self, actor: Actor, data: PatientInput, *, excluding: int | None = None
    ) -> tuple[PossibleDuplicate, ...]:
        """Patients on record with the same folded names and date of birth, or the same
        phone: shown before a registration so the same person is not entered twice."""
        with self._context.reading() as session:
            return find_duplicates(session, data, excluding=excluding)

    def _insert(self, session: Session, actor: Actor | None, data: PatientInput) -> PatientRow:
        """Insert inside a caller's unit of work (import uses this too); no audit here."""
        mrn = data.mrn.strip() or self._next_mrn(session)
        if session.scalar(select(PatientRow.id).where(PatientRow.mrn == mrn)) is not None:
            raise self._duplicate_mrn(mrn)
        if data.mrn.strip():
            self._refuse_lookalike_mrn(session, mrn, None)
        assert data.date_of_birth is not None
        row = PatientRow(
            mrn=mrn,
            mrn_key=mrn_key(mrn),
            family_name=data.family_name.strip(),
            given_name=data.given_name.strip(),
            family_key=fold(data.family_name),
            given_key=fold(data.given_name),
            date_of_birth=data.date_of_birth,
            sex=data.sex,
            occupation=data.occupation.strip(),
            phone=data.phone.strip(),
            email=data.email.strip(),
            address=data.address.strip(),
            archived=False,
        )
        self._context.stamp_new(row, actor)
        session.add(row)
        session.flush()
        write_search_terms(session, row)
        return row

    # The day's list shows patients' names.
    @use_case(Permission.REGISTER_PATIENTS, changes={Change.PATIENTS, Change.SCHEDULE})
    def update(
        self, actor: Actor, patient_id: int, data: PatientInput, expected_version: int
    ) -> Patient:
        errors = validate_patient(data, self.today())
        if not data.mrn.strip():
            errors.append(FieldError("mrn", "MRN is required once assigned."))
        if errors:
            raise ValidationFailed(errors)
        try:
            with self._context.writing() as session:
                row = self._row_at(session, patient_id, expected_version, data)
                mrn = data.mrn.strip()
                if mrn != row.mrn and session.scalar(
                    select(PatientRow.id).where(PatientRow.mrn == mrn)
                ):
                    raise self._duplicate_mrn(mrn)
                if mrn_key(mrn) != mrn_key(row.mrn):
                    self._refuse_lookalike_mrn(session, mrn, row.id)
                before = _patient(row)
                if mrn != row.mrn:
                    row.mrn, row.mrn_key = mrn, mrn_key(mrn)
                write_details(row, data)
                self._context.stamp_change(row, actor)
                session.flush()
                write_search_terms(session, row)
                after = _patient(row)
                self._context.audit(
                    session,
                    actor,
                    AuditEntry("change", "patient", row.id, row.id, _changes(before, after)),
                )
                return after
        except IntegrityError as error:
            raise self._taken_meanwhile(data.mrn, patient_id) from error
        except StaleDataError as error:
            raise self._context.stale(
                _record_name,
                PatientRow,
                patient_id,
                _fields(data),
                expected_version=expected_version,
            ) from error

    @use_case(Permission.REGISTER_PATIENTS, changes={Change.PATIENTS, Change.SCHEDULE})
    def archive(self, actor: Actor, patient_id: int, expected_version: int) -> Patient:
        """Patients are archived, never deleted: they leave the search list, records stay."""
        with self._context.writing() as session:
            row = self._row_at(session, patient_id, expected_version, None)
            row.archived = True
            row.archived_at = self._context.clock.now()
            self._context.stamp_change(row, actor)
            session.flush()
            write_search_terms(session, row)
            self._context.audit(session, actor, AuditEntry("archive", "patient", row.id, row.id))
            return _patient(row)

    @use_case(Permission.REGISTER_PATIENTS, changes={Change.PATIENTS, Change.SCHEDULE})
    def restore(self, actor: Actor, patient_id: int, expected_version: int) -> Patient:
        with self._context.writing() as session:
            row = self._row_at(session, patient_id, expected_version, None)
            row.archived = False
            row.archived_at = None
            self._context.stamp_change(row, actor)
            session.flush()
            write_search_terms(session, row)
            self._context.audit(session, actor, AuditEntry("unarchive", "patient", row.id, row.id))
            return _patient(row)

    @use_case(Permission.REGISTER_PATIENTS)
    def get(self, actor: Actor, patient_id: int) -> Patient:
        with self._context.reading() as session:
            return _patient(self._row(session, patient_id))

    @use_case(Permission.REGISTER_PATIENTS)
    def by_mrn(self, actor: Actor, mrn: str) -> Patient:
        with self._context.reading() as session:
            row = session.scalars(select(PatientRow).where(PatientRow.mrn == mrn.strip())).first()
            if row is None:
                raise NotFound(f"No patient has MRN {mrn.strip()}.")
            return _patient(row)

    @use_case(Permission.REGISTER_PATIENTS)
    def count(self, actor: Actor, *, text: str = "", include_archived: bool = False) -> int:
        """How many patients ``search`` finds for ``text`` over all its pages."""
        with self._context.reading() as session:
            birth_date = parse_date_query(text)
            tokens = [] if birth_date is not None else fold(text).split()
            if tokens:
                term = PatientSearchTermRow
                matching = select(func.count(func.distinct(term.patient_id))).where(
                    *self._term_conditions(tokens, include_archived)
                )
                return int(session.scalar(matching) or 0)
            query = select(func.count()).select_from(PatientRow)
            if not include_archived:
                query = query.where(PatientRow.archived.is_(False))
            if birth_date is not None:
                query = query.where(PatientRow.date_of_birth == birth_date)
            return int(session.scalar(query) or 0)

    @use_case(Permission.REGISTER_PATIENTS)
    def search(
        self,
        actor: Actor,
        text: str,
        *,
        after: tuple[object, ...] | None = None,
        limit: int = 100,
        include_archived: bool = False,
    ) -> SearchPage:
        """One page of patients matching name, MRN or date of birth, in a stable order."""
        with self._context.reading() as session:
            birth_date = parse_date_query(text)
            if birth_date is not None:
                return self._in_name_order(session, after, limit, include_archived, birth_date)
            tokens = fold(text).split()
            if not tokens:
                return self._in_name_order(session, after, limit, include_archived)
            return self._by_terms(session, tokens, after, limit, include_archived)

    @use_case(Permission.REGISTER_PATIENTS)
    def statuses(self, actor: Actor, patient_ids: Sequence[int]) -> dict[int, PatientStatus]:
        """Where each of these patients stands today (a page of the list at a time)."""
        with self._context.reading() as session:
            return patient_statuses(session, patient_ids, self.today())

    def _in_name_order(
        self,
        session: Session,
        after: tuple[object, ...] | None,
        limit: int,
        include_archived: bool,
        birth_date: dt.date | None = None,
    ) -> SearchPage:
        """Everyone (or everyone born on a date) by family then given name."""
        order = (PatientRow.family_key, PatientRow.given_key, PatientRow.id)
        query = select(PatientRow)
        if not include_archived:
            query = query.where(PatientRow.archived.is_(False))
        if birth_date is not None:
            query = query.where(PatientRow.date_of_birth == birth_date)
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*(literal(value) for value in after)))
        rows = session.scalars(query.order_by(*order).limit(limit + 1)).all()
        page = rows[:limit]
        cursor = (
            (page[-1].family_key, page[-1].given_key, page[-1].id) if len(rows) > limit else None
        )
        return SearchPage(tuple(_summary(row) for row in page), cursor)

    def _by_terms(
        self,
        session: Session,
        tokens: Sequence[str],
        after: tuple[object, ...] | None,
        limit: int,
        include_archived: bool,
    ) -> SearchPage:
        term = PatientSearchTermRow
        conditions = self._term_conditions(tokens, include_archived)
        if after is not None:
            last_term, last_id = after
            conditions.append(
                or_(term.term > last_term, and_(term.term == last_term, term.patient_id > last_id))
            )
        query = (
            select(term.term, PatientRow)
            .join(PatientRow, PatientRow.id == term.patient_id)
            .where(*conditions)
            .order_by(term.term, term.patient_id)
            .limit(limit + 1)
        )
        found = session.execute(query).all()
        page = found[:limit]
        seen: set[int] = set()
        rows = []
        for _matched, patient in page:
            if patient.id not in seen:
                seen.add(patient.id)
                rows.append(_summary(patient))
        cursor = (page[-1][0], page[-1][1].id) if len(found) > limit else None
        return SearchPage(tuple(rows), cursor)

    @staticmethod
    def _term_conditions(
        tokens: Sequence[str], include_archived: bool
    ) -> list[ColumnElement[bool]]:
        """A search term row starting with the first token, its patient having every other."""
        term = PatientSearchTermRow
        first, *rest = tokens
        conditions: list[ColumnElement[bool]] = [
            term.term >= first,
            term.term < _prefix_upper_bound(first),
        ]
        if not include_archived:
            conditions.append(term.archived.is_(False))
        for token in rest:
            other = PatientSearchTermRow.__table__.alias()
            conditions.append(
                exists().where(
                    other.c.patient_id == term.patient_id,
                    other.c.term >= token,
                    other.c.term < _prefix_upper_bound(token),
                )
            )
        return conditions

    def _row(self, session: Session, patient_id: int) -> PatientRow:
        row = session.get(PatientRow, patient_id)
        if row is None:
            raise NotFound(f"Patient {patient_id} does not exist.")
        return row

    def _next_mrn(self, session: Session) -> str:
        prefix = session.scalar(select(ClinicSettingsRow.mrn_prefix)) or "BC"
        stem = f"{prefix}-"
        latest = session.scalar(
            select(func.max(PatientRow.mrn)).where(
                PatientRow.mrn >= stem, PatientRow.mrn < stem + _LAST_CODE_POINT
            )
        )
        number = 1
        if latest:
            digits = latest[len(stem) :]
            if digits.isdigit():
                number = int(digits) + 1
        return f"{stem}{number:06d}"

    def _refuse_lookalike_mrn(self, session: Session, mrn: str, own_id: int | None) -> None:
        # A second record under "case-0045" beside "CASE-0045" splits a patient's history;
        # the UNIQUE constraint on mrn_key stops it, this check says so in words.
        query = select(PatientRow.mrn).where(PatientRow.mrn_key == mrn_key(mrn))
        if own_id is not None:
            query = query.where(PatientRow.id != own_id)
        taken = session.scalars(query.limit(1)).first()
        if taken is not None:
            raise ValidationFailed(
                [
                    FieldError(
                        "mrn",
                        f"MRN {mrn} differs from {taken}, which belongs to another patient, "
                        "only in case or punctuation.",
                    )
                ]
            )

    def _taken_meanwhile(self, mrn: str, own_id: int | None) -> ValidationFailed:
        """The refusal, in the same words, when another workstation stored the same or a
        lookalike MRN between our check and our commit (the UNIQUE constraints caught it)."""
        if not mrn.strip():
            return ValidationFailed(
                [
                    FieldError(
                        "mrn",
                        "Another workstation registered a patient at the same moment and took "
                        "the next MRN; nothing was stored. Save again.",
                    )
                ]
            )
        with self._context.reading() as session:
            same = session.scalar(select(PatientRow.id).where(PatientRow.mrn == mrn.strip()))
            if same is None or same == own_id:
                try:
                    self._refuse_lookalike_mrn(session, mrn.strip(), own_id)
                except ValidationFailed as lookalike:
                    return lookalike
        return self._duplicate_mrn(mrn)

    def _duplicate_mrn(self, mrn: str) -> ValidationFailed:
        return ValidationFailed(
            [FieldError("mrn", f"MRN {mrn.strip()} already belongs to another patient.")]
        )

    def _row_at(
        self, session: Session, patient_id: int, expected_version: int, yours: PatientInput | None
    ) -> PatientRow:
        """The patient's row at the version the form read; yours defaults to the record."""
        row = self._row(session, patient_id)
        mine = _fields(yours if yours is not None else _patient(row).as_input())
        self._context.check_version(session, row, expected_version, record=_record_name, yours=mine)
        return row


def _phone_digits(phone: str) -> str:
    # "0903 123 456" and "0903-123-456" are the same phone.
    return "".join(ch for ch in phone if ch.isdigit())


def find_duplicates(
    session: Session, data: PatientInput, *, excluding: int | None = None
) -> tuple[PossibleDuplicate, ...]:
    """Inside a caller's unit of work (import uses this too)."""
    family, given = fold(data.family_name), fold(data.given_name)
    digits = _phone_digits(data.phone)
    same_person: ColumnElement[bool] = literal(False)
    if family and given and data.date_of_birth is not None:
        same_person = and_(
            PatientRow.family_key == family,
            PatientRow.given_key == given,
            PatientRow.date_of_birth == data.date_of_birth,
        )
    # Too few digits is an extension or a typo, not a phone two people could share.
    same_phone: ColumnElement[bool] = literal(False)
    if len(digits) >= 6:
        same_phone = PatientRow.phone.in_({data.phone.strip(), digits})
    query = select(PatientRow).where(or_(same_person, same_phone)).order_by(PatientRow.id)
    if excluding is not None:
        query = query.where(PatientRow.id != excluding)
    found = []
    for row in session.scalars(query):
        by_name = (
            row.family_key == family
            and row.given_key == given
            and row.date_of_birth == data.date_of_birth
        )
        by_phone = len(digits) >= 6 and row.phone in {data.phone.strip(), digits}
        if by_name or by_phone:
            found.append(PossibleDuplicate(_summary(row), row.phone, by_name, by_phone))
    return tuple(found)


def write_details(row: PatientRow, data: PatientInput) -> None:
    """The form's details on the row, trimmed, with the folded keys the search uses."""
    row.family_name = data.family_name.strip()
    row.given_name = data.given_name.strip()
    row.family_key = fold(data.family_name)
    row.given_key = fold(data.given_name)
    assert data.date_of_birth is not None
    row.date_of_birth = data.date_of_birth
    row.sex = data.sex
    row.occupation = data.occupation.strip()
    row.phone = data.phone.strip()
    row.email = data.email.strip()
    row.address = data.address.strip()


def write_search_terms(session: Session, row: PatientRow) -> None:
    """Replace the row's search terms (names and MRN) after its details changed."""
    session.execute(delete(PatientSearchTermRow).where(PatientSearchTermRow.patient_id == row.id))
    session.add_all(
        PatientSearchTermRow(patient_id=row.id, term=term, kind=kind, archived=row.archived)
        for term, kind in search_terms(row.family_name, row.given_name, row.mrn)
    )


def _record_name(row: PatientRow) -> str:
    return f"{_patient(row).display_name}'s record"


def _fields(data: PatientInput) -> dict[str, object]:
    return {
        "family_name": data.family_name,
        "given_name": data.given_name,
        "date_of_birth": data.date_of_birth.isoformat() if data.date_of_birth else None,
        "mrn": data.mrn,
        "sex": data.sex,
        "occupation": data.occupation,
        "phone": data.phone,
        "email": data.email,
        "address": data.address,
    }


def _changes(before: Patient, after: Patient) -> dict[str, object]:
    old, new = _fields(before.as_input()), _fields(after.as_input())
    return {
        "before": {key: old[key] for key in old if old[key] != new[key]},
        "after": {key: new[key] for key in new if old[key] != new[key]},
    }


def _prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with prefix (binary order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if ord(prefix[-1]) < 0x10FFFF else prefix + "\0"
