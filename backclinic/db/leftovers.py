"""Full copies of the database that a killed process left behind, removed at the next start.

A restore stages the backup's data in a ``.backclinic-restore-*`` folder beside the
database, and a backup is written as ``NAME.partial`` before it is checked and renamed. Both
are whole copies of every patient's record: after a kill or a power cut they would stay, out
of sight, for as long as the disk lasts. Only copies nothing has touched for a while are
removed, so that a restore or backup still running in another process is left alone.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

RESTORE_STAGING_PREFIX = ".backclinic-restore-"
PARTIAL_SUFFIX = ".partial"
BACKUPS_FOLDER = "backups"
# Longer than any restore or backup writes without touching its file.
QUIET_SECONDS = 15 * 60


def remove_leftovers(database_file: Path, *, now: float | None = None) -> list[Path]:
    """Remove stale staging folders beside ``database_file`` and partial backups in its
    backups folder; the paths removed. Errors are ignored: this is tidying, not the start."""
    moment = time.time() if now is None else now
    removed = []
    for candidate in _candidates(database_file):
        try:
            if moment - _last_touched(candidate) < QUIET_SECONDS:
                continue
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate)
            else:
                candidate.unlink()
        except OSError:
            continue
        removed.append(candidate)
    return removed


def _candidates(database_file: Path) -> Iterator[Path]:
    folder = database_file.parent
    if folder.is_dir():
        yield from folder.glob(f"{RESTORE_STAGING_PREFIX}*")
    backups = folder / BACKUPS_FOLDER
    if backups.is_dir():
        yield from backups.glob(f"*{PARTIAL_SUFFIX}")


def _last_touched(path: Path) -> float:
    """The newest modification time of the path and, for a folder, of anything in it."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for inner in path.rglob("*"):
            newest = max(newest, inner.lstat().st_mtime)
    return newest
