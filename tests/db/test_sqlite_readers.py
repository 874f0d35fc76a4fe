"""On one SQLite file, a workstation reading never waits behind another one's write."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from backclinic.db.database import open_database
from backclinic.services.bundle import build_services
from tests.actors import COMMAND_LINE
from tests.records import stored_records


def test_a_read_goes_ahead_while_another_instance_holds_a_write_transaction(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    writer_db, reader_db = open_database(url), open_database(url)
    writer, reader = (
        build_services(writer_db.session_factory),
        build_services(reader_db.session_factory),
    )
    try:
        with stored_records(writer) as session:
            session.execute(text("CREATE TABLE held (x INTEGER)"))
            started = time.perf_counter()
            assert reader.patients.count(COMMAND_LINE) == 0
            # Well under the 10 s busy timeout a blocked reader would wait for.
            assert time.perf_counter() - started < 2
    finally:
        writer_db.engine.dispose()
        reader_db.engine.dispose()
