"""Time to fill 100,000 demo patients into a new SQLite file (goal: under 60 s)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.clinic_db import PATIENTS, fill

GOAL_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=PATIENTS)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backclinic-bench-") as folder:
        path = Path(folder) / "clinic.db"
        started = time.perf_counter()
        summary = fill(path, arguments.patients)
        wall = time.perf_counter() - started
        size_mb = sum(f.stat().st_size for f in Path(folder).iterdir()) / 2**20
    rate = summary.patients_created / summary.elapsed_seconds
    verdict = "met" if summary.elapsed_seconds < GOAL_SECONDS else "MISSED"
    print(f"demo fill: {summary.patients_created:,} patients, {summary.clinicians_created} staff")
    print(f"  fill (set-up + patients):  {summary.elapsed_seconds:6.1f} s ({rate:,.0f} patients/s)")
    print(f"  wall incl. migrations:     {wall:6.1f} s")
    print(f"  database files:            {size_mb:6.1f} MB")
    print(f"  goal < {GOAL_SECONDS:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
