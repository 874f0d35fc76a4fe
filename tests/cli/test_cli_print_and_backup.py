"""print, backup and restore from the command line: files written, refusals in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from backclinic.db.database import open_database
from backclinic.services.bundle import build_services
from backclinic.services.clinic import NewClinician
from tests.actors import COMMAND_LINE
from tests.cli.test_cli import ARTICLE_CASE, run
from tests.conftest import copy_sqlite


def article_case_planned(
    capsys: pytest.CaptureFixture[str], folder: Path, sqlite_template: Path
) -> list[str]:
    """A clinic in ``folder`` with the article's patient imported and planned; the
    command-line option that names its database."""
    copy_sqlite(sqlite_template, folder / "clinic.db")
    url = f"sqlite:///{folder / 'clinic.db'}"
    database = open_database(url)
    build_services(database.session_factory).clinic.set_up(
        clinic_name="Harbour Back Clinic",
        first_clinician=NewClinician("Mei Lin", "mei", "acupuncturist", "long enough pw"),
    )
    database.engine.dispose()
    option = ["--database", url]
    assert run(capsys, *option, "import", str(ARTICLE_CASE))[0] == 0
    assert run(capsys, *option, "plan", "CASE-0045", "--recommend", "--start", "2026-01-05")[0] == 0
    return option


@pytest.fixture
def planned_case(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sqlite_template: Path
) -> list[str]:
    return article_case_planned(capsys, tmp_path, sqlite_template)


def test_print_plan_writes_the_patients_plan_summary(
    capsys: pytest.CaptureFixture[str], planned_case: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "plan.pdf"
    status, printed, error = run(
        capsys, *planned_case, "print", "plan", "CASE-0045", "--out", str(out)
    )
    assert (status, error) == (0, "")
    assert printed.startswith("Printed the ") and str(out) in printed
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Okafor" in text and "twice a week" in text


def test_print_can_draw_apart_as_the_window_does_with_the_same_pages(
    capsys: pytest.CaptureFixture[str], planned_case: list[str], tmp_path: Path
) -> None:
    here, apart = tmp_path / "here.pdf", tmp_path / "apart.pdf"
    assert run(capsys, *planned_case, "print", "plan", "CASE-0045", "--out", str(here))[0] == 0
    status, printed, error = run(
        capsys, *planned_case, "print", "plan", "CASE-0045", "--draw-apart", "--out", str(apart)
    )
    assert (status, error) == (0, "")
    assert str(apart) in printed
    assert [p.extract_text() for p in PdfReader(apart).pages] == [
        p.extract_text() for p in PdfReader(here).pages
    ]


def test_printing_before_the_clinic_is_set_up_says_how_to_set_it_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    option = ["--database", f"sqlite:///{tmp_path / 'bare.db'}"]
    run(capsys, *option, "import", str(ARTICLE_CASE))
    run(capsys, *option, "plan", "CASE-0045", "--recommend", "--start", "2026-01-05")
    status, _, error = run(
        capsys, *option, "print", "plan", "CASE-0045", "--out", str(tmp_path / "p.pdf")
    )
    assert status == 1
    assert error.startswith("Set up the clinic before printing documents")
    assert not (tmp_path / "p.pdf").exists()


def test_print_into_a_missing_folder_is_one_sentence_and_prints_nothing(
    capsys: pytest.CaptureFixture[str], planned_case: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "no-such-folder" / "plan.pdf"
    status, printed, error = run(
        capsys, *planned_case, "print", "plan", "CASE-0045", "--out", str(out)
    )
    assert status == 1 and printed == ""
    assert error == (
        f"The folder {out.parent} does not exist; create it or choose another place.\n"
    )


def test_print_on_a_printer_that_is_not_there_is_one_sentence_and_keeps_nothing(
    capsys: pytest.CaptureFixture[str], planned_case: list[str]
) -> None:
    status, printed, error = run(
        capsys, *planned_case, "print", "plan", "CASE-0045", "--printer", "Front Desk Laser"
    )
    assert status == 1 and printed == ""
    assert error == (
        "The plan summary was not printed: there is no printer named Front Desk Laser.\n"
    )
    database = open_database(planned_case[1])
    try:
        services = build_services(database.session_factory)
        patient = services.patients.by_mrn(COMMAND_LINE, "CASE-0045")
        assert services.documents.documents(COMMAND_LINE, patient.id) == []
    finally:
        database.engine.dispose()


def test_print_on_a_blank_printer_name_says_what_to_give(
    capsys: pytest.CaptureFixture[str], planned_case: list[str]
) -> None:
    status, printed, error = run(
        capsys, *planned_case, "print", "plan", "CASE-0045", "--printer", "  "
    )
    assert (status, printed) == (1, "")
    assert error == "--printer needs the name of a printer (lpstat -p lists them).\n"


def test_print_goes_to_a_file_or_a_printer_never_both(
    capsys: pytest.CaptureFixture[str], planned_case: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "plan.pdf"
    status, _printed, error = run(
        capsys, *planned_case, "print", "plan", "CASE-0045", "--out", str(out), "--printer", "A"
    )
    assert status == 1
    assert "not allowed with argument" in error and error.count("\n") == 1
    assert not out.exists()


def test_backup_then_restore_needs_yes_and_brings_the_data_back(
    capsys: pytest.CaptureFixture[str], planned_case: list[str], tmp_path: Path
) -> None:
    backup = tmp_path / "clinic-backup.db"
    assert run(capsys, *planned_case, "backup", str(backup))[0] == 0
    assert backup.stat().st_mode & 0o777 == 0o600
    refused = run(capsys, *planned_case, "restore", str(backup))
    assert refused[0] == 1 and "--yes" in refused[2] and refused[2].count("\n") == 1
    restored = run(capsys, *planned_case, "restore", str(backup), "--yes")
    assert restored[0] == 0, restored[2]
    out = tmp_path / "her.json"
    assert run(capsys, *planned_case, "export", "CASE-0045", "--out", str(out))[0] == 0
