"""The window's SQLite connections keep their file locks for as long as they are open.

POSIX advisory locks belong to the process and the file: closing any descriptor of the file
drops every lock the process holds on it (sqlite.org/howtocorrupt.html, section 2.2). Had
the app opened and closed the database, its -wal or -shm itself (to check or restrict
them) while SQLite held them, the next program to open the file beside the window (the
command line, a second window, a backup) would find nobody using it and, on closing,
checkpoint and delete the write-ahead log the window was still writing into: every save
after that lands in a deleted file and is gone when the window closes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from backclinic.db.database import open_database
from backclinic.db.engine import READ_ONLY_OPTION


def count_elsewhere(path: Path) -> int:
    """The probe rows another program sees (the sqlite3 module, in its own process)."""
    probe = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
        "print(db.execute('SELECT count(*) FROM lock_probe').fetchone()[0]); db.close()"
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    return int(finished.stdout)


def test_a_program_opening_the_file_beside_the_app_leaves_the_apps_saves_in_place(
    tmp_path: Path,
) -> None:
    path = tmp_path / "clinic.db"
    database = open_database(f"sqlite:///{path}")
    engine = database.engine
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
        before = count_elsewhere(path)
        # Two readers at once, as the window's threads read: the second connection is new.
        reading = {READ_ONLY_OPTION: True}
        with (
            engine.connect().execution_options(**reading) as first,
            engine.connect().execution_options(**reading) as second,
        ):
            first.execute(text("SELECT count(*) FROM lock_probe"))
            second.execute(text("SELECT count(*) FROM lock_probe"))
        # Another program reads the clinic while the window is open, then closes.
        assert count_elsewhere(path) == before
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO lock_probe (n) VALUES (1)"))
        # The save is in the database for everyone, not in a log only the window can see.
        assert count_elsewhere(path) == before + 1
        assert Path(f"{path}-wal").exists()
    finally:
        engine.dispose()
    with sqlite3.connect(path) as reopened:
        rows = reopened.execute("SELECT count(*) FROM lock_probe").fetchone()[0]
    reopened.close()
    assert rows == before + 1
