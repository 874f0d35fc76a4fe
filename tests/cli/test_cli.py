"""The command line in-process: the article's case end to end, and one sentence per failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backclinic import cli
from tests.conftest import copy_sqlite

REPOSITORY = Path(__file__).resolve().parents[2]
SHARED = REPOSITORY.parent / "shared"
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"
ARTICLE_CHECK = SHARED / "checks" / "article_plan.py"
OWN_CASES = REPOSITORY / "tests" / "cases"


@pytest.fixture
def database_option(tmp_path: Path, sqlite_template: Path) -> list[str]:
    # Migrated already (a copy of the session's template); bare.db tests a first start.
    copy_sqlite(sqlite_template, tmp_path / "clinic.db")
    return ["--database", f"sqlite:///{tmp_path / 'clinic.db'}"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = cli.main(list(argv))
    except SystemExit as stopped:
        status = int(stopped.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_article_case_imports_plans_and_exports_the_articles_plan(
    capsys: pytest.CaptureFixture[str], database_option: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "her.json"

    imported = run(capsys, *database_option, "import", str(ARTICLE_CASE))
    planned = run(
        capsys, *database_option, "plan", "CASE-0045", "--recommend", "--start", "2026-01-05"
    )
    exported = run(
        capsys, *database_option, "export", "CASE-0045", "--format", "json", "--out", str(out)
    )

    assert imported == (
        0,
        "Imported CASE-0045 (Okafor, Grace): 1 assessment, 0 sessions, no plan.\n",
        "",
    )
    assert planned[0] == 0 and planned[2] == ""
    assert exported == (0, f"Exported CASE-0045 to {out}.\n", "")
    if not ARTICLE_CHECK.exists():
        pytest.skip(f"the reviewer's check is not at {ARTICLE_CHECK}")
    checked = subprocess.run(
        [sys.executable, str(ARTICLE_CHECK), str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("article plan reproduced")


def test_importing_several_files_reports_one_line_each(
    capsys: pytest.CaptureFixture[str], database_option: list[str]
) -> None:
    status, out, err = run(
        capsys,
        *database_option,
        "import",
        str(OWN_CASES / "acute-lifter.json"),
        str(OWN_CASES / "non-ascii-name.json"),
    )

    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "Imported CASE-0101 (Brennan, Tom): 1 assessment, 2 sessions, no plan.",
        "Imported CASE-0105 (Núñez-Øster, Zoë 美玲): 1 assessment, 0 sessions, no plan.",
    ]


def test_a_bad_case_file_is_one_sentence_naming_file_and_field(
    capsys: pytest.CaptureFixture[str], database_option: list[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    text = (
        (OWN_CASES / "unscreened.json").read_text("utf-8").replace('"current": 5', '"current": 11')
    )
    bad.write_text(text, encoding="utf-8")

    status, out, err = run(capsys, *database_option, "import", str(bad))

    assert (status, out) == (1, "")
    assert err == "bad.json: assessments[0].nprs.current: 11 is above 10\n"


def test_an_existing_mrn_needs_update(
    capsys: pytest.CaptureFixture[str], database_option: list[str]
) -> None:
    case = str(OWN_CASES / "unscreened.json")
    run(capsys, *database_option, "import", case)

    refused = run(capsys, *database_option, "import", case)
    updated = run(capsys, *database_option, "import", case, "--update")

    assert refused == (
        1,
        "",
        "MRN CASE-0106 already exists; use --update to replace its record.\n",
    )
    assert updated == (
        0,
        "Updated CASE-0106 (Okoye, Chidi): added 0 assessments, 0 sessions, no plan; "
        "kept 1 record already on record.\n",
        "",
    )


def test_a_bad_start_date_is_bad_input(
    capsys: pytest.CaptureFixture[str], database_option: list[str]
) -> None:
    status, out, err = run(
        capsys, *database_option, "plan", "CASE-0045", "--recommend", "--start", "2026-13-05"
    )

    assert (status, out) == (1, "")
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith("Argument --start: expected a date as YYYY-MM-DD, got '2026-13-05'.")
    )


def test_an_unknown_mrn_is_one_sentence(
    capsys: pytest.CaptureFixture[str], database_option: list[str], tmp_path: Path
) -> None:
    status, out, err = run(
        capsys, *database_option, "export", "NOPE-1", "--out", str(tmp_path / "x.json")
    )

    assert (status, out, err) == (1, "", "No patient has MRN NOPE-1.\n")
    assert not (tmp_path / "x.json").exists()


def test_export_into_a_missing_folder_is_one_sentence(
    capsys: pytest.CaptureFixture[str], database_option: list[str], tmp_path: Path
) -> None:
    run(capsys, *database_option, "import", str(OWN_CASES / "unscreened.json"))

    status, out, err = run(
        capsys,
        *database_option,
        "export",
        "CASE-0106",
        "--out",
        str(tmp_path / "nowhere" / "x.json"),
    )

    assert (status, out) == (1, "")
    assert err.startswith(f"The folder {tmp_path / 'nowhere'} does not exist")
    assert err.count("\n") == 1


def test_an_unknown_subcommand_is_bad_input(
    capsys: pytest.CaptureFixture[str], database_option: list[str]
) -> None:
    status, out, err = run(capsys, *database_option, "frobnicate")

    assert (status, out) == (1, "")
    assert "frobnicate" in err


def test_an_unopenable_database_exits_2_and_masks_its_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+psycopg://clinic:s3cret-pw@127.0.0.1:1/clinic?connect_timeout=2"

    status, out, err = run(capsys, "--database", url, "export", "A-1", "--out", "x.json")

    assert (status, out) == (2, "")  # DESIGN.md: 2, the database cannot be used
    assert "s3cret-pw" not in err
    assert "***" in err
    # The warning about a password on the command line, then the one sentence.
    assert err.count("\n") == 2


def test_importing_history_that_broke_a_precaution_reports_each_session_on_stderr(
    capsys: pytest.CaptureFixture[str], database_option: list[str], tmp_path: Path
) -> None:
    document = json.loads(ARTICLE_CASE.read_text(encoding="utf-8"))
    document["assessments"][0]["precautions"] = ["pregnancy", "pacemaker"]
    document["sessions"] = [
        {"date": "2026-01-06", "modalities": ["acupuncture"], "acupoints": ["SP6"]},
        {"date": "2026-01-08", "modalities": ["acupuncture"], "electro": True},
    ]
    path = tmp_path / "her.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    status, out, err = run(capsys, *database_option, "import", str(path))
    assert status == 0 and out.startswith("Imported")
    assert err.splitlines() == [
        "her.json: Session of 6 Jan 2026: SP6 despite the precaution 'Pregnancy'.",
        "her.json: Session of 8 Jan 2026: electro-acupuncture despite the precaution "
        "'Cardiac pacemaker or implanted device'.",
    ]


def test_plan_recommend_in_pregnancy_needs_the_points_acknowledged_on_the_command_line(
    capsys: pytest.CaptureFixture[str], database_option: list[str]
) -> None:
    case = Path(__file__).parents[1] / "cases" / "pregnancy-precaution.json"
    mrn = json.loads(case.read_text("utf-8"))["patient"]["mrn"]
    assert run(capsys, *database_option, "import", str(case))[0] == 0
    refused = run(capsys, *database_option, "plan", mrn, "--recommend")
    assert refused[0] != 0
    assert "needs your acknowledgement because of the precaution 'Pregnancy'" in refused[2]
    assert "--acknowledge-points" in refused[2]
    planned = run(capsys, *database_option, "plan", mrn, "--recommend", "--acknowledge-points")
    assert planned[0] == 0, planned
