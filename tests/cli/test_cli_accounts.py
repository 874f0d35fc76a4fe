"""The command line signs in: clinic setup, accounts, and --user with its role's rights."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from pypdf import PdfReader

from backclinic.db.database import open_database
from backclinic.services.bundle import build_services
from backclinic.services.clinic import SIGN_IN_FAILED
from tests.actors import COMMAND_LINE
from tests.cli.test_cli import ARTICLE_CASE, run

ADMIN_PASSWORD = "harbour admin pw"
DESK_PASSWORD = "front desk pw 1"


@pytest.fixture
def option(tmp_path: Path) -> list[str]:
    return ["--database", f"sqlite:///{tmp_path / 'clinic.db'}"]


@pytest.fixture
def set_up(
    capsys: pytest.CaptureFixture[str], option: list[str], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    monkeypatch.setenv("BACKCLINIC_PASSWORD", ADMIN_PASSWORD)
    status, out, err = run(
        capsys,
        *option,
        "clinic",
        "setup",
        "--name",
        "Harbour Back Clinic",
        "--admin",
        "sarah",
        "--full-name",
        "Sarah Okafor",
    )
    assert (status, err) == (0, ""), err
    assert out == "Set up Harbour Back Clinic with the administrator Sarah Okafor (sarah).\n"
    return option


@pytest.fixture
def with_front_desk(
    capsys: pytest.CaptureFixture[str], set_up: list[str], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    monkeypatch.setenv("BACKCLINIC_NEW_PASSWORD", DESK_PASSWORD)
    status, out, err = run(
        capsys,
        *set_up,
        "--user",
        "sarah",
        "accounts",
        "add",
        "sam",
        "--role",
        "Front desk",
        "--name",
        "Sam Desk",
    )
    assert (status, err) == (0, ""), err
    assert out == "Added Sam Desk (sam) as front desk.\n"
    return set_up


def audit_of(option: list[str], action: str) -> list[tuple[int | None, dict[str, object]]]:
    database = open_database(option[1])
    try:
        records = build_services(database.session_factory).audit.query(COMMAND_LINE, action=action)
        return [(record.clinician_id, record.details) for record in records]
    finally:
        database.engine.dispose()


def test_a_clinic_set_up_on_the_command_line_prints_a_plan_without_the_window(
    capsys: pytest.CaptureFixture[str], set_up: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "plan.pdf"

    assert run(capsys, *set_up, "import", str(ARTICLE_CASE))[0] == 0
    assert run(capsys, *set_up, "plan", "CASE-0045", "--recommend", "--start", "2026-01-05")[0] == 0
    status, printed, error = run(
        capsys, *set_up, "--user", "sarah", "print", "plan", "CASE-0045", "--out", str(out)
    )

    assert (status, error) == (0, "")
    assert printed.startswith("Printed the ")
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Harbour Back Clinic" in text and "Okafor" in text
    assert "Sarah Okafor" in text, "the signed-in account is named as the one who printed"


def test_a_clinic_is_set_up_once(capsys: pytest.CaptureFixture[str], set_up: list[str]) -> None:
    status, out, err = run(
        capsys, *set_up, "clinic", "setup", "--name", "Another", "--admin", "eve"
    )

    assert (status, out) == (1, "")
    assert err == "This clinic has already been set up; nothing was changed.\n"


def test_setup_asks_for_the_password_twice_when_none_is_in_the_environment(
    capsys: pytest.CaptureFixture[str],
    option: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BACKCLINIC_PASSWORD", raising=False)
    answers = iter([ADMIN_PASSWORD, "something else"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))

    status, out, err = run(
        capsys, *option, "clinic", "setup", "--name", "Harbour", "--admin", "sarah"
    )

    assert (status, out) == (1, "")
    assert err == "The two passwords differ; nothing was changed.\n"
    database = open_database(option[1])
    try:
        assert not build_services(database.session_factory).clinic.is_set_up()
    finally:
        database.engine.dispose()


def test_a_front_desk_account_is_refused_clinical_work_with_exit_3_and_nothing_changes(
    capsys: pytest.CaptureFixture[str],
    with_front_desk: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("BACKCLINIC_PASSWORD", DESK_PASSWORD)

    status, out, err = run(capsys, *with_front_desk, "--user", "sam", "import", str(ARTICLE_CASE))

    assert (status, out) == (3, "")
    assert err == "A front desk account cannot record clinical care.\n"
    missing = run(
        capsys, *with_front_desk, "export", "CASE-0045", "--out", str(tmp_path / "x.json")
    )
    assert missing == (1, "", "No patient has MRN CASE-0045.\n")


def test_a_front_desk_account_cannot_manage_accounts(
    capsys: pytest.CaptureFixture[str],
    with_front_desk: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BACKCLINIC_PASSWORD", DESK_PASSWORD)
    monkeypatch.setenv("BACKCLINIC_NEW_PASSWORD", "a new admin pw")

    listed = run(capsys, *with_front_desk, "--user", "sam", "accounts", "list")
    added = run(
        capsys,
        *with_front_desk,
        "--user",
        "sam",
        "accounts",
        "add",
        "eve",
        "--role",
        "admin",
        "--name",
        "Eve Boss",
    )

    refusal = "A front desk account cannot manage clinician accounts.\n"
    assert listed == (3, "", refusal)
    assert added == (3, "", refusal)
    usernames = run(capsys, *with_front_desk, "accounts", "list")[1]
    assert "eve" not in usernames


def test_a_wrong_password_is_one_sentence_and_exit_1(
    capsys: pytest.CaptureFixture[str], set_up: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKCLINIC_PASSWORD", "not the password")

    status, out, err = run(capsys, *set_up, "--user", "sarah", "import", str(ARTICLE_CASE))

    assert (status, out) == (1, "")
    assert err == SIGN_IN_FAILED + "\n"


def test_accounts_are_added_listed_and_deactivated_by_an_admin(
    capsys: pytest.CaptureFixture[str],
    with_front_desk: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BACKCLINIC_NEW_PASSWORD", "therapist pw 1")
    added = run(
        capsys,
        *with_front_desk,
        "--user",
        "sarah",
        "accounts",
        "add",
        "tomas",
        "--role",
        "physical_therapist",
        "--name",
        "Tomas Berg",
    )
    assert added == (0, "Added Tomas Berg (tomas) as physical therapist.\n", "")

    deactivated = run(capsys, *with_front_desk, "--user", "sarah", "accounts", "deactivate", "sam")
    listed = run(capsys, *with_front_desk, "--user", "sarah", "accounts", "list")

    assert deactivated == (0, "Deactivated Sam Desk (sam); their records stay theirs.\n", "")
    assert listed[0] == 0
    assert listed[1].splitlines() == [
        "sarah\tSarah Okafor\tAdministrator\tactive",
        "tomas\tTomas Berg\tPhysical therapist\tactive",
        "sam\tSam Desk\tFront desk\tdeactivated",
    ]
    monkeypatch.setenv("BACKCLINIC_PASSWORD", DESK_PASSWORD)
    signed_in = run(capsys, *with_front_desk, "--user", "sam", "accounts", "list")
    assert signed_in == (1, "", SIGN_IN_FAILED + "\n")


def test_the_accounts_dialogs_rules_hold_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
    set_up: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BACKCLINIC_NEW_PASSWORD", "short")

    own = run(capsys, *set_up, "--user", "sarah", "accounts", "deactivate", "sarah")
    short = run(
        capsys,
        *set_up,
        "accounts",
        "add",
        "tomas",
        "--role",
        "physical therapist",
        "--name",
        "Tomas Berg",
    )
    monkeypatch.setenv("BACKCLINIC_NEW_PASSWORD", "long enough pw")
    bad_role = run(
        capsys, *set_up, "accounts", "add", "tomas", "--role", "surgeon", "--name", "Tomas Berg"
    )
    unknown = run(capsys, *set_up, "accounts", "deactivate", "nobody")

    assert own == (1, "", "You cannot deactivate your own account.\n")
    assert short == (1, "", "Password must be at least 8 characters long.\n")
    assert bad_role[0] == 1 and bad_role[2].startswith("Role must be one of: Administrator")
    assert unknown == (1, "", "No account has the user name nobody.\n")


def test_the_audit_names_the_signed_in_account_or_the_command_line(
    capsys: pytest.CaptureFixture[str], set_up: list[str]
) -> None:
    assert run(capsys, *set_up, "--user", "sarah", "import", str(ARTICLE_CASE))[0] == 0
    assert run(capsys, *set_up, "plan", "CASE-0045", "--recommend")[0] == 0

    [(imported_by, _details)] = audit_of(set_up, "import")
    [(planned_by, plan_details)] = [
        entry for entry in audit_of(set_up, "create") if "protocol" in entry[1]
    ]
    [(signed_in_as, _)] = audit_of(set_up, "sign_in")
    assert imported_by is not None and imported_by == signed_in_as
    assert planned_by is None
    assert str(plan_details["actor"]).startswith("command line (")
