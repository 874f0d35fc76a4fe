"""A long write (the demo fill) commits in batches, and a long write by another
workstation never stops this one from opening the database and reading it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backclinic.db.database import open_database
from backclinic.db.models import AuditEventRow, PatientRow
from backclinic.services import demo as demo_module
from backclinic.services.bundle import build_services
from tests.actors import COMMAND_LINE
from tests.records import stored_records


def test_audit_verify_opens_and_reads_while_another_workstation_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    database_file = tmp_path / "clinic.db"
    url = f"sqlite:///{database_file}"
    open_database(url).engine.dispose()
    writer = sqlite3.connect(database_file, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        opened = open_database(url)
        result = build_services(opened.session_factory).audit.verify(COMMAND_LINE)
        opened.engine.dispose()
        waited = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert result.ok
    assert waited < 5, f"waited {waited:.1f} s behind the other workstation's write"


def test_a_demo_fill_commits_each_batch_with_its_own_audit_entry(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    monkeypatch.setattr(demo_module, "BATCH_SIZE", 40)
    opened = open_database(database_url)
    services = build_services(opened.session_factory)
    original = demo_module._insert_batch
    batches = 0

    def killed_in_the_third_batch(*args: object, **kwargs: object) -> list[int]:
        nonlocal batches
        batches += 1
        if batches == 3:
            raise KeyboardInterrupt("the fill was stopped")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(demo_module, "_insert_batch", killed_in_the_third_batch)

    with pytest.raises(KeyboardInterrupt):
        services.demo.fill(COMMAND_LINE, patients=200)

    with stored_records(services) as session:
        stored = session.scalar(select(func.count()).select_from(PatientRow))
        entries = session.scalars(
            select(AuditEventRow.details).where(AuditEventRow.action == "demo_fill")
        ).all()
    assert stored == 80
    assert [entry["patients"] for entry in entries] == [40, 40]
    assert services.audit.verify(COMMAND_LINE).ok
    opened.engine.dispose()
