"""The keyed audit chain's costs: migration 0005 re-chaining an existing trail, then verify.

Builds a SQLite database at schema 0003 holding N entries of the old unkeyed chain, times
the upgrade that re-chains them under the key (the one-off cost a clinic pays at the first
start of this release), then times `AuditService.verify` over the keyed trail. The key and
anchors go to a temporary folder, never the user's config folder.

    python -m benchmarks.audit_chain [--entries 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import column, insert, table

from backclinic.db.audit_chain import KEY_FOLDER_VARIABLE, LEGACY_GENESIS, legacy_entry_hash
from backclinic.db.database import open_database
from backclinic.db.engine import create_database_engine
from backclinic.db.migrate import downgrade, upgrade
from backclinic.db.models import AuditEventRow
from backclinic.services.audit import AuditService
from backclinic.services.bundle import build_services
from backclinic.services.context import Actor

BATCH = 5000


def _old_trail(url: str, entries: int) -> None:
    database = open_database(url)
    downgrade(database.engine, "0003")
    # Schema 0003's columns: no chain_position yet.
    events = table(
        "audit_event",
        *(
            column(name, AuditEventRow.__table__.c[name].type)
            for name in (
                "occurred_at",
                "action",
                "entity",
                "details",
                "previous_hash",
                "entry_hash",
            )
        ),
    )
    previous = LEGACY_GENESIS
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    with database.engine.begin() as connection:
        rows = []
        for number in range(entries):
            at = start + dt.timedelta(seconds=number)
            details = {"mrn": f"A-{number}", "fields": ["family_name"]}
            entry = legacy_entry_hash(
                previous,
                occurred_at=at,
                clinician_id=None,
                action="change",
                entity="patient",
                entity_id=None,
                patient_id=None,
                details=details,
            )
            rows.append(
                {
                    "occurred_at": at,
                    "action": "change",
                    "entity": "patient",
                    "details": details,
                    "previous_hash": previous,
                    "entry_hash": entry,
                }
            )
            previous = entry
            if len(rows) >= BATCH:
                connection.execute(insert(events), rows)
                rows = []
        if rows:
            connection.execute(insert(events), rows)
    database.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        os.environ[KEY_FOLDER_VARIABLE] = str(Path(folder) / "keys")
        url = f"sqlite:///{Path(folder) / 'clinic.db'}"
        _old_trail(url, arguments.entries)
        engine = create_database_engine(url)
        began = time.perf_counter()
        upgrade(engine)
        rechained = time.perf_counter() - began
        engine.dispose()
        database = open_database(url)
        audit = AuditService(build_services(database.session_factory).context)
        began = time.perf_counter()
        result = audit.verify(Actor(clinician_id=None, name="benchmark", role="system"))
        verified = time.perf_counter() - began
        database.engine.dispose()
        print(f"entries: {arguments.entries:,}")
        print(
            f"migration 0005 re-chain: {rechained:.2f} s "
            f"({arguments.entries / rechained:,.0f} entries/s)"
        )
        print(
            f"audit verify: {verified:.2f} s ({result.checked / verified:,.0f} entries/s); "
            f"{result.describe()}"
        )


if __name__ == "__main__":
    main()
