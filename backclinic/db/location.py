"""Where the clinic's database is, and a first look at it, using the standard library alone.

The app's first window (the sign-in) needs the database URL and the clinic's name before
SQLAlchemy and Alembic have loaded, so nothing here may import them.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import platformdirs

DATABASE_URL_VARIABLE = "BACKCLINIC_DATABASE_URL"
APP_NAME = "BackClinic"
SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")


def default_database_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "backclinic.db"


def resolve_database_url(explicit: str | None) -> str:
    """The command-line URL wins, then the environment, then the user's data folder."""
    if explicit:
        return explicit
    from_environment = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if from_environment:
        return from_environment
    return f"sqlite:///{default_database_path()}"


def sqlite_file(url: str) -> Path | None:
    """The file a plain `sqlite:///path` URL names; None for any other database or form."""
    for prefix in SQLITE_PREFIXES:
        if url.startswith(prefix):
            # As SQLAlchemy reads it: the path is taken literally, a query string is options.
            database = url[len(prefix) :].split("?", 1)[0]
            if not database or database == ":memory:" or database.startswith("file:"):
                return None
            return Path(database).expanduser()
    return None


def existing_clinic_name(url: str) -> str | None:
    """The clinic's name when url is a SQLite file of a set-up clinic, else None.

    Read-only and best effort: anything unexpected (no file yet, no tables yet, a file that
    is not a database, a lock) means "not known yet", and the full open decides later.
    """
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute("SELECT clinic_name FROM clinic_settings WHERE id = 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    if row is None or not isinstance(row[0], str) or not row[0].strip():
        return None
    return row[0]
