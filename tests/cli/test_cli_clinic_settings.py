from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.cli.test_cli import ARTICLE_CASE, run
from tests.cli.test_cli_accounts import ADMIN_PASSWORD, option, set_up  # noqa: F401

CHRISTMAS_HOURS = [
    "clinic",
    "set",
    "--open-days",
    "mon,tue,wed,thu,fri",
    "--hours",
    "08:00-18:00",
    "--closed",
    "2026-12-25",
    "--closed",
    "2027-01-01",
    "--address",
    "12 Harbour Road",
    "--phone",
    "+84 28 1234 5678",
]


def test_clinic_set_stores_hours_and_closures_and_clinic_show_lists_them(
    capsys: pytest.CaptureFixture[str],
    set_up: list[str],  # noqa: F811
) -> None:
    status, _out, err = run(capsys, *set_up, *CHRISTMAS_HOURS)
    assert (status, err) == (0, ""), err

    status, shown, err = run(capsys, *set_up, "clinic", "show")

    assert (status, err) == (0, "")
    assert "Address: 12 Harbour Road" in shown
    assert "Phone: +84 28 1234 5678" in shown
    assert "Open days: mon, tue, wed, thu, fri" in shown
    assert "Hours: 08:00-18:00" in shown
    assert "Closed: 2026-12-25, 2027-01-01" in shown


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--open-days", "mon,funday"], "--open-days"),
        (["--hours", "8-18"], "--hours"),
        (["--hours", "18:00-08:00"], "--hours"),
        (["--closed", "25/12/2026"], "--closed"),
    ],
)
def test_a_bad_clinic_setting_is_one_sentence_naming_the_option_and_nothing_changes(
    capsys: pytest.CaptureFixture[str],
    set_up: list[str],  # noqa: F811
    arguments: list[str],
    named: str,
) -> None:
    before = run(capsys, *set_up, "clinic", "show")[1]

    status, _out, err = run(capsys, *set_up, "clinic", "set", *arguments)

    assert status == 1
    assert named in err and err.count("\n") == 1
    assert run(capsys, *set_up, "clinic", "show")[1] == before


def test_a_plan_made_after_clinic_set_books_no_visit_on_a_closure(
    capsys: pytest.CaptureFixture[str],
    set_up: list[str],  # noqa: F811
    tmp_path: Path,
) -> None:
    assert run(capsys, *set_up, *CHRISTMAS_HOURS)[0] == 0
    assert run(capsys, *set_up, "import", str(ARTICLE_CASE))[0] == 0
    assert run(capsys, *set_up, "plan", "CASE-0045", "--recommend", "--start", "2026-12-22")[0] == 0
    out = tmp_path / "case.json"
    assert run(capsys, *set_up, "export", "CASE-0045", "--out", str(out))[0] == 0

    visits = json.loads(out.read_text(encoding="utf-8"))["plan"]["visits"]
    booked = {dt.date.fromisoformat(visit["date"]) for visit in visits}
    assert dt.date(2026, 12, 25) not in booked
    assert dt.date(2027, 1, 1) not in booked
    assert dt.date(2026, 12, 24) in booked or dt.date(2026, 12, 23) in booked


@pytest.mark.parametrize("document", ["plan", "discharge"])
def test_a_document_printed_without_user_names_no_operating_system_account(
    capsys: pytest.CaptureFixture[str],
    set_up: list[str],  # noqa: F811
    tmp_path: Path,
    document: str,
) -> None:

    out = tmp_path / f"{document}.pdf"
    assert run(capsys, *set_up, "import", str(ARTICLE_CASE))[0] == 0
    assert run(capsys, *set_up, "plan", "CASE-0045", "--recommend", "--start", "2026-01-05")[0] == 0

    status, _printed, error = run(
        capsys, *set_up, "print", document, "CASE-0045", "--out", str(out)
    )

    assert (status, error) == (0, "")
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Prepared at the clinic" in " ".join(text.split())
    assert "command line" not in text.lower()
    assert "root" not in text.split()
    if document == "discharge":
        # The signature line waits for the hand of the clinician who signs it.
        assert "Signed Date" in " ".join(text.split())


def test_a_plan_from_the_command_line_reads_in_words_and_its_visits_print_with_time_and_who(
    capsys: pytest.CaptureFixture[str],
    set_up: list[str],  # noqa: F811
    tmp_path: Path,
) -> None:
    out = tmp_path / "plan.pdf"
    assert run(capsys, *set_up, "import", str(ARTICLE_CASE))[0] == 0

    status, planned, _err = run(
        capsys,
        *set_up,
        "--user",
        "sarah",
        "plan",
        "CASE-0045",
        "--recommend",
        "--start",
        "2026-01-05",
    )
    assert status == 0
    assert "Posture correction, Myofascial release" in planned
    assert "posture_correction" not in planned and "_" not in planned.split(":", 1)[1]
    assert (
        run(capsys, *set_up, "--user", "sarah", "print", "plan", "CASE-0045", "--out", str(out))[0]
        == 0
    )

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    assert "Date Time Phase Visit With" in text
    assert "Mon 5 Jan 2026 08:00 1 Acupuncture and physical therapy Sarah Okafor" in text
