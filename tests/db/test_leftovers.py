"""Copies of the whole database that a killed restore or backup left behind are removed at
the next start, and only once nothing has touched them for a while."""

from __future__ import annotations

import os
import time
from pathlib import Path

from backclinic.db.database import open_database
from backclinic.db.leftovers import QUIET_SECONDS


def plant(path: Path, *, age_seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"SQLite format 3\x00 every patient's record")
    moment = time.time() - age_seconds
    os.utime(path, (moment, moment))
    os.utime(path.parent, (moment, moment))
    return path


def test_stale_restore_staging_and_partial_backups_are_removed_at_the_next_start(
    tmp_path: Path,
) -> None:
    database_file = tmp_path / "clinic.db"
    open_database(f"sqlite:///{database_file}").engine.dispose()
    stale = QUIET_SECONDS + 60
    staging = plant(tmp_path / ".backclinic-restore-k1llz" / "restore.db", age_seconds=stale)
    partial = plant(tmp_path / "backups" / "backclinic-2026-12-01.db.partial", age_seconds=stale)
    running = plant(tmp_path / ".backclinic-restore-busy" / "restore.db", age_seconds=5)
    kept_backup = plant(tmp_path / "backups" / "backclinic-2026-11-30.db", age_seconds=stale)

    open_database(f"sqlite:///{database_file}").engine.dispose()

    assert not staging.parent.exists()
    assert not partial.exists()
    assert running.exists()
    assert kept_backup.exists()
