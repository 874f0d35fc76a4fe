"""The command line under careless and hostile use: bad database URLs, passwords in `ps`,
escape sequences in what it prints, and batches of case files that stop half-way."""

from __future__ import annotations

from pathlib import Path

import pytest

from backclinic import cli

REPOSITORY = Path(__file__).resolve().parents[2]
OWN_CASES = REPOSITORY / "tests" / "cases"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = cli.main(list(argv))
    except SystemExit as stopped:
        status = int(stopped.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def database_option(tmp_path: Path) -> list[str]:
    return ["--database", f"sqlite:///{tmp_path / 'clinic.db'}"]


@pytest.mark.parametrize(
    "kind", ["a file that is not a database", "a file: URL", "a missing driver", "a bad IPv6 host"]
)
def test_a_bad_database_url_is_one_sentence_and_exit_2(
    kind: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("these are my notes, not a database\n" * 50, encoding="utf-8")
    url = {
        "a file that is not a database": f"sqlite:///{not_a_database}",
        "a file: URL": f"file:{tmp_path / 'clinic.db'}",
        "a missing driver": "postgresql+pg8000://clinic@127.0.0.1/clinic",
        "a bad IPv6 host": "postgresql+psycopg://clinic@[::1/clinic",
    }[kind]

    status, out, err = run(capsys, "--database", url, "audit", "verify")

    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("The database")


def test_a_password_on_the_command_line_gets_a_warning_that_does_not_repeat_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+psycopg://clinic:s3cret-pw@127.0.0.1:1/clinic?connect_timeout=2"

    status, _out, err = run(capsys, "--database", url, "audit", "verify")

    assert status == 2
    assert err.splitlines()[0] == cli.PASSWORD_ON_COMMAND_LINE
    assert "s3cret-pw" not in err


def test_escape_sequences_in_a_file_name_are_shown_not_obeyed(
    capsys: pytest.CaptureFixture[str], database_option: list[str], tmp_path: Path
) -> None:
    hostile = tmp_path / "\x1b[2J\x1b]0;owned\x07case.json"

    status, out, err = run(capsys, *database_option, "import", str(hostile))

    assert (status, out) == (1, "")
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b[2J\\x1b]0;owned\\x07case.json does not exist." in err


def test_a_batch_says_which_files_are_in_when_one_fails_and_reruns_with_skip_existing(
    capsys: pytest.CaptureFixture[str], database_option: list[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        (OWN_CASES / "unscreened.json").read_text("utf-8").replace('"current": 5', '"current": 11'),
        encoding="utf-8",
    )
    first = str(OWN_CASES / "acute-lifter.json")
    last = str(OWN_CASES / "non-ascii-name.json")

    stopped = run(capsys, *database_option, "import", first, str(bad), last)
    rerun = run(capsys, *database_option, "import", "--skip-existing", first, last)

    assert stopped == (
        1,
        "Imported CASE-0101 (Brennan, Tom): 1 assessment, 2 sessions, no plan.\n",
        "bad.json: assessments[0].nprs.current: 11 is above 10\n",
    )
    assert rerun == (
        0,
        "Skipped CASE-0101 (Brennan, Tom): already on record.\n"
        "Imported CASE-0105 (Núñez-Øster, Zoë 美玲): 1 assessment, 0 sessions, no plan.\n",
        "",
    )
