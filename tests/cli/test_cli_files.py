"""Files touched only when they are ours (issue 12, items 1 to 3), through the command line.

The database path is checked before anything opens, chmods or migrates it; every output is
written beside its target and renamed into place, and replaces a file only with --force.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from backclinic import cli
from backclinic.db import migrate
from backclinic.db.database import open_database

REPOSITORY = Path(__file__).resolve().parents[2]
ARTICLE_CASE = REPOSITORY / "tests" / "cases" / "article-office-worker.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = cli.main(list(argv))
    except SystemExit as stopped:
        status = int(stopped.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def one_sentence(text: str) -> bool:
    return text.count("\n") == 1 and text.rstrip().endswith(".") and "Traceback" not in text


@pytest.fixture
def clinic_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "data" / "clinic.db"
    status, _, err = run(capsys, "--database", f"sqlite:///{path}", "import", str(ARTICLE_CASE))
    assert status == 0, err
    return path


def test_a_new_database_is_owner_only_from_the_start_in_an_owner_only_folder(
    clinic_db: Path,
) -> None:
    assert mode(clinic_db) == 0o600
    assert mode(clinic_db.parent) == 0o700


@pytest.fixture(params=["text file", "fifo"])
def system_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Stand-ins for /etc/passwd and /dev/null: the test must not damage the real ones
    when it runs against code that still has the bug (as root, it chmodded them)."""
    if request.param == "text file":
        target = tmp_path / "passwd"
        target.write_text("root:x:0:0:root:/root:/bin/bash\n")
        os.chmod(target, 0o644)
    else:
        target = tmp_path / "null"
        os.mkfifo(target, 0o666)
        os.chmod(target, 0o666)
    return target


def test_a_system_file_named_as_the_database_is_refused_and_left_unchanged(
    capsys: pytest.CaptureFixture[str], system_file: Path
) -> None:
    before = os.stat(system_file)

    status, out, err = run(capsys, "--database", f"sqlite:///{system_file}", "audit", "verify")

    assert status == 2 and out == ""
    assert one_sentence(err) and str(system_file) in err
    after = os.stat(system_file)
    assert (after.st_mode, after.st_size, after.st_mtime_ns) == (
        before.st_mode,
        before.st_size,
        before.st_mtime_ns,
    )


def test_a_symbolic_link_named_as_the_database_is_refused_and_its_target_unchanged(
    capsys: pytest.CaptureFixture[str], clinic_db: Path, tmp_path: Path
) -> None:
    os.chmod(clinic_db, 0o640)
    link = tmp_path / "link.db"
    link.symlink_to(clinic_db)

    status, _, err = run(capsys, "--database", f"sqlite:///{link}", "audit", "verify")

    assert status == 2 and one_sentence(err) and "symbolic link" in err
    assert mode(clinic_db) == 0o640


def test_a_sqlite_file_of_another_program_is_refused_not_migrated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = tmp_path / "photos.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE photo (name TEXT)")
    db.close()
    os.chmod(other, 0o644)

    status, _, err = run(capsys, "--database", f"sqlite:///{other}", "audit", "verify")

    assert status == 2 and one_sentence(err) and "not BackClinic's" in err
    assert mode(other) == 0o644
    with sqlite3.connect(other) as db:
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master")] == ["photo"]
    db.close()


def test_a_read_only_database_opens_read_only_says_so_and_refuses_writes(
    capsys: pytest.CaptureFixture[str], clinic_db: Path, tmp_path: Path
) -> None:
    os.chmod(clinic_db, 0o400)
    database = ["--database", f"sqlite:///{clinic_db}"]

    verified = run(capsys, *database, "audit", "verify")
    exported = run(capsys, *database, "export", "CASE-0045", "--out", str(tmp_path / "x.json"))

    assert verified[0] == 0 and "read-only" in verified[2]
    assert verified[1].startswith("Audit trail intact")
    assert exported[0] == 1
    assert "nothing can be changed" in exported[2] and "Traceback" not in exported[2]
    assert not (tmp_path / "x.json").exists()
    assert mode(clinic_db) == 0o400


def test_export_over_the_live_database_is_refused_and_the_database_stays(
    capsys: pytest.CaptureFixture[str], clinic_db: Path
) -> None:
    database = ["--database", f"sqlite:///{clinic_db}"]
    for target in (clinic_db, Path(f"{clinic_db}-wal")):
        status, _, err = run(
            capsys, *database, "export", "CASE-0045", "--out", str(target), "--force"
        )
        assert status == 1 and one_sentence(err) and "live database" in err
    assert clinic_db.read_bytes().startswith(b"SQLite format 3\x00")
    assert run(capsys, *database, "audit", "verify")[0] == 0


def test_export_to_a_device_node_is_refused_and_the_node_stays(
    capsys: pytest.CaptureFixture[str], clinic_db: Path
) -> None:
    status, _, err = run(
        capsys,
        "--database",
        f"sqlite:///{clinic_db}",
        "export",
        "CASE-0045",
        "--out",
        "/dev/full",
        "--force",
    )
    assert status == 1 and one_sentence(err) and "not a regular file" in err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_an_existing_export_needs_force_and_is_then_replaced_whole(
    capsys: pytest.CaptureFixture[str], clinic_db: Path, tmp_path: Path
) -> None:
    database = ["--database", f"sqlite:///{clinic_db}"]
    out = tmp_path / "case.json"
    out.write_text("keep me")

    refused = run(capsys, *database, "export", "CASE-0045", "--out", str(out))
    forced = run(capsys, *database, "export", "CASE-0045", "--out", str(out), "--force")

    assert refused[0] == 1 and "already exists" in refused[2] and one_sentence(refused[2])
    assert forced[0] == 0
    assert out.read_text().startswith("{")
    assert mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_print_into_a_folder_is_refused_before_anything_is_stored_or_audited(
    capsys: pytest.CaptureFixture[str], clinic_db: Path, tmp_path: Path
) -> None:
    database = ["--database", f"sqlite:///{clinic_db}"]
    assert run(capsys, *database, "plan", "CASE-0045", "--recommend")[0] == 0
    with sqlite3.connect(clinic_db) as db:
        before = db.execute("SELECT count(*) FROM audit_event").fetchone()
        documents = db.execute("SELECT count(*) FROM document").fetchone()
    db.close()

    status, _, err = run(capsys, *database, "print", "plan", "CASE-0045", "--out", str(tmp_path))

    assert status == 1 and one_sentence(err) and "is a folder" in err
    with sqlite3.connect(clinic_db) as db:
        assert db.execute("SELECT count(*) FROM audit_event").fetchone() == before
        assert db.execute("SELECT count(*) FROM document").fetchone() == documents
    db.close()


def test_an_existing_backup_file_needs_force(
    capsys: pytest.CaptureFixture[str], clinic_db: Path, tmp_path: Path
) -> None:
    database = ["--database", f"sqlite:///{clinic_db}"]
    target = tmp_path / "backup.db"
    target.write_text("an older file")

    refused = run(capsys, *database, "backup", str(target))
    forced = run(capsys, *database, "backup", str(target), "--force")

    assert refused[0] == 1 and "already exists" in refused[2] and one_sentence(refused[2])
    assert forced[0] == 0 and mode(target) == 0o600


def test_the_safety_copy_before_a_migration_is_private_from_its_first_byte(
    clinic_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int]] = []
    real_connect = sqlite3.connect

    def watching(target: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        path = Path(str(target))
        if path.parent.name == "backups":
            # The moment the copy is opened for writing: it must already be private.
            seen.append((mode(path), mode(path.parent)))
        return real_connect(target, *args, **kwargs)  # type: ignore[arg-type]

    os.chmod(clinic_db.parent, 0o755)
    (clinic_db.parent / "backups").mkdir(mode=0o755)
    monkeypatch.setattr(migrate.sqlite3, "connect", watching)
    monkeypatch.setattr(migrate, "HEAD_REVISION", "9999")
    monkeypatch.setattr(migrate, "head_revision", lambda: "9999")
    monkeypatch.setattr(migrate, "upgrade", lambda engine, target="head": None)

    opened = open_database(f"sqlite:///{clinic_db}")
    opened.engine.dispose()

    assert seen == [(0o600, 0o700)]
    assert opened.migration.backup_path is not None
    assert mode(opened.migration.backup_path) == 0o600


def test_audit_verify_prints_the_head_and_a_cut_tail_is_one_sentence_and_exit_1(
    capsys: pytest.CaptureFixture[str], clinic_db: Path
) -> None:
    database = ["--database", f"sqlite:///{clinic_db}"]
    intact = run(capsys, *database, "audit", "verify")
    with sqlite3.connect(clinic_db) as db:
        count = db.execute("SELECT count(*) FROM audit_event").fetchone()[0]
        db.execute("DROP TRIGGER audit_event_no_delete")
        db.execute("DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
    db.close()

    cut = run(capsys, *database, "audit", "verify")

    assert intact[0] == 0 and f"intact: {count} entries, head " in intact[1]
    assert cut[0] == 1 and one_sentence(cut[2])
    assert f"anchored {count}, so the newest 1 were removed" in cut[2]
