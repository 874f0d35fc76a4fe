"""The 100,000-patient SQLite database the benchmarks measure, built with the demo filler."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from backclinic.db.database import open_database
from backclinic.services.context import Actor, ServiceContext
from backclinic.services.demo import DemoService, DemoSummary

# Benchmarks act as the command line does: without signing in, with full rights.
BENCHMARK = Actor(clinician_id=None, name="benchmark", role="system")
PATIENTS = 100_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def fill(path: Path, patients: int = PATIENTS) -> DemoSummary:
    """Create (or extend) the database at path with a demo clinic of `patients` patients."""
    database = open_database(sqlite_url(path))
    try:
        return DemoService(ServiceContext(database.session_factory)).fill(
            BENCHMARK, patients=patients
        )
    finally:
        database.engine.dispose()


def ensure(path: Path | None, patients: int = PATIENTS) -> Path:
    """An existing database at path, else a fresh one there (or in a temporary folder)."""
    if path is not None and path.exists():
        return path
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="backclinic-bench-")) / "clinic.db"
    print(f"building a {patients:,}-patient demo database at {path} ...", flush=True)
    summary = fill(path, patients)
    print(f"  built in {summary.elapsed_seconds:.1f} s", flush=True)
    return path


def database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "database",
        nargs="?",
        type=Path,
        help="SQLite file to use; built with 100,000 demo patients if it does not exist "
        "(default: a new one in a temporary folder)",
    )
