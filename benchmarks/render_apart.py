"""How long drafting a discharge summary takes in this process and in a child process.

The command line draws in its own process; the window draws each document in a child
process (backclinic.reports.renderer.ChildProcessRenderer) so that reportlab never stays in
its memory. This drafts the summary of the patient with 200 sessions (added if none has)
on a 100,000-patient database both ways: the first in-process draft of the process (which
loads reportlab and its fonts), later ones, and drafts in a child (each a fresh process).
Also prints the drawing alone (the content gathered once) for each way.
"""

from __future__ import annotations

import argparse
import statistics
import time


def median_ms(samples: list[float]) -> str:
    shown = ", ".join(f"{s * 1000:.0f}" for s in samples)
    return f"median {statistics.median(samples) * 1000:6.0f} ms ({shown})"


def main() -> None:
    # Imported here: the child process imports this module again (as __mp_main__).
    from backclinic.db.database import open_database
    from backclinic.reports.renderer import ChildProcessRenderer, InProcessRenderer
    from backclinic.services.bundle import build_services
    from benchmarks.clinic_db import database_argument, ensure, sqlite_url
    from benchmarks.idle_memory import patient_with_sessions
    from benchmarks.sessions import clinician

    parser = argparse.ArgumentParser(description=__doc__)
    database_argument(parser)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    path = ensure(arguments.database)
    patient_id = patient_with_sessions(path)
    database = open_database(sqlite_url(path))
    try:
        here = build_services(database.session_factory)
        apart = build_services(database.session_factory, renderer=ChildProcessRenderer())
        actor = clinician(here)

        def drafts(services: object, runs: int) -> list[float]:
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                services.documents.draft_discharge_summary(actor, patient_id)  # type: ignore[attr-defined]
                samples.append(time.perf_counter() - started)
            return samples

        # The child first, so the in-process first draft really is the process's first.
        in_child = drafts(apart, arguments.runs)
        first, *warm = drafts(here, arguments.runs + 1)
        summary = here.documents.discharge_summary(actor, patient_id)
        drawing: dict[str, list[float]] = {"here": [], "child": []}
        for label, renderer in (("here", InProcessRenderer()), ("child", ChildProcessRenderer())):
            for _ in range(arguments.runs):
                started = time.perf_counter()
                renderer.render(summary)
                drawing[label].append(time.perf_counter() - started)
        pages = here.documents.draft_discharge_summary(actor, patient_id).pages
    finally:
        database.engine.dispose()
    print(f"drafting the discharge summary of a patient with 200 sessions ({pages} pages)")
    print(f"  in this process, the first (loads reportlab and its fonts): {first * 1000:6.0f} ms")
    print(f"  in this process, later:                 {median_ms(warm)}")
    print(f"  in a child process, one per draft:      {median_ms(in_child)}")
    print(f"  of which drawing alone, in this process: {median_ms(drawing['here'])}")
    print(f"  of which drawing alone, in a child:      {median_ms(drawing['child'])}")


if __name__ == "__main__":
    main()
