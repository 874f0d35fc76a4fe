"""Crash safety: SIGKILL the app at random moments while it imports case files and logs
sessions; afterwards the file is sound, every acknowledged save is there, and every import
is all or nothing. Runs on every CI run (SQLite: the engine a crash can tear)."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

from sqlalchemy import func, select

from backclinic.db.database import open_database
from backclinic.db.models import AssessmentRow, AuditEventRow, PatientRow, TreatmentSessionRow
from backclinic.services.bundle import build_services
from backclinic.services.clinic import NewClinician
from backclinic.services.patients import PatientInput
from tests.conftest import copy_sqlite
from tests.crash.worker import ANCHOR_MRN, ASSESSMENTS_PER_CASE, SESSIONS_PER_CASE

REPOSITORY = Path(__file__).resolve().parents[2]
KILLS = 40
# Children are started ahead of time so that their start-up (imports, opening the database)
# overlaps the previous child's work; each one waits for GO before touching the data.
WARM_CHILDREN = 3
# A child's life is drawn up to this, or up to twice what one child needs on this machine
# right now to acknowledge its first import and session, if that is longer: on a loaded
# machine a fixed bound would kill every child before its first save.
LONGEST_LIFE_SECONDS = 0.35
CHILD = "from tests.crash.worker import main; main()"


def _prepare(url: str) -> None:
    database = open_database(url)
    services = build_services(database.session_factory)
    founder = services.clinic.set_up(
        clinic_name="Crash Test Clinic",
        first_clinician=NewClinician("Ada Ng", "ada", "admin", "correct horse battery"),
    )
    services.patients.register(
        founder.as_actor(),
        PatientInput(
            mrn=ANCHOR_MRN,
            family_name="Anchor",
            given_name="Session",
            date_of_birth=dt.date(1975, 5, 5),
        ),
    )
    database.engine.dispose()


def _spawn(url: str, run: int, folder: Path) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    environment.pop("BACKCLINIC_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(run), str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPOSITORY,
        env=environment,
    )


def _first_saves_seconds(child: subprocess.Popen[str]) -> tuple[float, list[str]]:
    """Start ``child`` and read it until it acknowledged an import and a session."""
    assert child.stdin is not None and child.stdout is not None
    assert child.stdout.readline().strip() == "READY", child.stderr
    child.stdin.write("GO\n")
    child.stdin.flush()
    began = time.monotonic()
    lines: list[str] = []
    while not ({"import", "session"} <= {line.split()[1] for line in lines}):
        line = child.stdout.readline()
        assert line, f"the calibrating child stopped: {child.communicate()[1]}"
        if line.startswith("ACK "):
            lines.append(line.strip())
    return time.monotonic() - began, lines


def _acknowledge(lines: list[str], imports: set[str], sessions: set[int]) -> None:
    for line in lines:
        words = line.split()
        if words[:2] == ["ACK", "import"]:
            imports.add(words[2])
        elif words[:2] == ["ACK", "session"]:
            sessions.add(int(words[2]))


def _sound(path: Path) -> tuple[list[str], list[tuple[object, ...]]]:
    with sqlite3.connect(path) as db:
        integrity = [row[0] for row in db.execute("PRAGMA integrity_check")]
        dangling = db.execute("PRAGMA foreign_key_check").fetchall()
    db.close()
    return integrity, dangling


def test_sigkill_at_random_moments_loses_no_acknowledged_save_and_tears_no_import(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "clinic.db"
    copy_sqlite(sqlite_template, path)
    url = f"sqlite:///{path}"
    folder = tmp_path / "cases"
    folder.mkdir()
    _prepare(url)
    seed = int(os.environ.get("BACKCLINIC_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    started = time.monotonic()

    acknowledged_imports: set[str] = set()
    acknowledged_sessions: set[int] = set()
    calibrating = _spawn(url, KILLS, folder)
    needed, calibration_lines = _first_saves_seconds(calibrating)
    calibrating.kill()
    calibration_lines += calibrating.communicate()[0].splitlines()
    longest_life = max(LONGEST_LIFE_SECONDS, 2 * needed)
    _acknowledge(calibration_lines, acknowledged_imports, acknowledged_sessions)
    saving_kills = 0
    warm = deque(_spawn(url, run, folder) for run in range(WARM_CHILDREN))
    next_run = WARM_CHILDREN
    try:
        for kill in range(KILLS):
            child = warm.popleft()
            assert child.stdin is not None and child.stdout is not None
            ready = child.stdout.readline().strip()
            assert ready == "READY", f"child failed to start (seed {seed}): {child.stderr}"
            child.stdin.write("GO\n")
            child.stdin.flush()
            if next_run < KILLS:
                warm.append(_spawn(url, next_run, folder))
                next_run += 1
            time.sleep(rng.uniform(0.0, longest_life))
            child.send_signal(signal.SIGKILL)
            child.wait()
            output, errors = child.communicate()
            assert child.returncode == -signal.SIGKILL, (
                f"kill {kill} (seed {seed}): the child died on its own: {errors}"
            )
            before = len(acknowledged_imports) + len(acknowledged_sessions)
            _acknowledge(output.splitlines(), acknowledged_imports, acknowledged_sessions)
            saving_kills += len(acknowledged_imports) + len(acknowledged_sessions) > before
            integrity, dangling = _sound(path)
            assert integrity == ["ok"], f"after kill {kill} (seed {seed}): {integrity}"
            assert dangling == [], f"after kill {kill} (seed {seed}): {dangling}"
    finally:
        for child in warm:
            child.kill()
            child.communicate()

    database = open_database(url)
    try:
        with database.session_factory() as session:
            imported = {
                mrn: patient_id
                for mrn, patient_id in session.execute(
                    select(PatientRow.mrn, PatientRow.id).where(PatientRow.mrn != ANCHOR_MRN)
                )
            }
            assessments = dict(
                session.execute(
                    select(AssessmentRow.patient_id, func.count()).group_by(
                        AssessmentRow.patient_id
                    )
                ).all()
            )
            sessions = dict(
                session.execute(
                    select(TreatmentSessionRow.patient_id, func.count()).group_by(
                        TreatmentSessionRow.patient_id
                    )
                ).all()
            )
            import_audits = dict(
                session.execute(
                    select(AuditEventRow.patient_id, func.count())
                    .where(AuditEventRow.action == "import")
                    .group_by(AuditEventRow.patient_id)
                ).all()
            )
            anchor = session.scalar(select(PatientRow.id).where(PatientRow.mrn == ANCHOR_MRN))
            logged = set(
                session.scalars(
                    select(TreatmentSessionRow.id).where(TreatmentSessionRow.patient_id == anchor)
                )
            )
            session_audits = set(
                session.scalars(
                    select(AuditEventRow.entity_id).where(
                        AuditEventRow.entity == "treatment_session",
                        AuditEventRow.action == "create",
                    )
                )
            )
    finally:
        database.engine.dispose()

    elapsed = time.monotonic() - started
    print(
        f"\ncrash harness: {KILLS} SIGKILLs in {elapsed:.1f} s (seed {seed}); "
        f"{len(acknowledged_imports)} imports and {len(acknowledged_sessions)} sessions "
        f"acknowledged; {len(imported)} imports stored; {saving_kills} killed children had "
        f"saved (lives up to {longest_life:.2f} s)"
    )
    # Every acknowledged save is there.
    assert acknowledged_imports <= imported.keys()
    assert acknowledged_sessions <= logged
    # Every import is all or nothing: a patient exists exactly with all of its file.
    for mrn, patient_id in imported.items():
        assert assessments.get(patient_id) == ASSESSMENTS_PER_CASE, mrn
        assert sessions.get(patient_id) == SESSIONS_PER_CASE, mrn
        assert import_audits.get(patient_id) == 1, mrn
    assert set(assessments) == set(imported.values())
    assert set(sessions) - {anchor} == set(imported.values())
    # Every logged session arrived with its audit entry (same transaction).
    assert logged <= session_audits
    assert acknowledged_imports and acknowledged_sessions, "no save was ever acknowledged"
    assert saving_kills, f"no child killed at random had acknowledged a save (seed {seed})"
