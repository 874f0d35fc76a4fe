"""Resident memory of BackClinic idling on 100,000 patients after real use (goal <= 150 MB).

Each run is a fresh `python main.py` (benchmarks.backclinic_sign_in): sign in, open the
patient with 200 sessions (workspace, Progress tab and its chart), press "Discharge
summary…" on their Documents tab (drawn in a child process, as the window draws), save it
as PDF from its preview (QtPdf; --send-to-printer prints it instead, in the printing child
process as the window prints) and close it, then let the event loop idle and read VmRSS
(and the peak, VmHWM) from /proc/self/status. The Print button → preview shown time and
the memory at each step are printed too; the bare Qt window is shown for scale. Linux only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.clinic_db import database_argument, ensure, sqlite_url
from benchmarks.startup import child_environment, launch

GOAL_MB = 150.0
SESSIONS = 200


def patient_with_sessions(path: Path, sessions: int = SESSIONS) -> int:
    """The id of a patient with `sessions` sessions in the database, added if none has."""
    from backclinic.db.database import open_database
    from backclinic.services.bundle import build_services
    from benchmarks.sessions import clinician, log_sessions, patient_with_plan

    database = open_database(sqlite_url(path))
    try:
        services = build_services(database.session_factory)
        actor = clinician(services)
        for summary in services.patients.search(actor, "Rivera Ana", limit=50).rows:
            if len(services.sessions.history(actor, summary.id)) >= sessions:
                return summary.id
        print(f"adding a patient with {sessions} sessions to {path} ...", flush=True)
        patient_id = patient_with_plan(services, actor, weeks_ago=9)
        log_sessions(services, actor, patient_id, sessions, hours_apart=7)
        return patient_id
    finally:
        database.engine.dispose()


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Run the event loop (idle in it, as the window is, not spinning) until ``condition``."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return
    loop = QEventLoop()
    deadline = time.monotonic() + seconds

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if not condition():
        raise RuntimeError(f"{what} did not happen within {seconds:g} s")


def open_patient_and_print(window: Any, patient_id: int, *, printer: bool) -> dict[str, float]:
    """In the child: what the clinician does. Open the patient (workspace, Progress tab and
    its chart), then on the Documents tab press "Discharge summary…" (drafted off the GUI
    thread, drawn the window's way), wait for its preview (QtPdf), hand it over from there
    (Save as PDF…, or with ``printer`` Print… to a printer) and close the preview. Returns
    the Print button → preview shown time, the pages and the resident memory at each step."""
    from PySide6.QtWidgets import QFileDialog

    from backclinic.ui.printing import PrinterChoice
    from benchmarks.window_probe import rss_kib

    marks: dict[str, float] = {"rss_main_window_mb": rss_kib() / 1024}
    workspace = window.open_patient(patient_id)
    window.repaint()
    workspace.tabs.setCurrentWidget(workspace.progress_tab)
    workspace.repaint()
    documents = workspace.documents_tab
    workspace.tabs.setCurrentWidget(documents)
    wait_until(lambda: not documents.loading, "the Documents tab's list")
    marks["rss_patient_open_mb"] = rss_kib() / 1024
    drafted: list[float] = []
    show_preview = documents._on_document_printed

    def draft_arrived(draft: Any) -> None:
        drafted.append(time.perf_counter())
        show_preview(draft)

    # What the button asked for, arriving on the GUI thread: the draft, before its preview.
    documents._on_document_printed = draft_arrived
    started = time.perf_counter()
    documents.discharge_button.click()
    wait_until(
        lambda: documents.preview is not None and documents.preview.isVisible(),
        "the discharge summary's preview",
    )
    preview = documents.preview
    preview.repaint()
    shown = time.perf_counter() - started
    marks["rss_preview_shown_mb"] = rss_kib() / 1024
    with tempfile.TemporaryDirectory() as folder:
        target = str(Path(folder) / "discharge-summary.pdf")
        if printer:
            # Print…, with a printer writing a file standing in for the one the system
            # dialog would choose: the same printing process (Qt's print support,
            # rasterising at up to 300 dpi) and the same keep.
            preview.output.printer = PrinterChoice(output_file=target)
            preview.print_button.click()
            wait_until(lambda: preview.output.sent_to is not None, "the summary being printed")
            pages = preview.page_count
        else:
            # Save as PDF…, its file dialog answered with a new file.
            QFileDialog.getSaveFileName = lambda *_a, **_k: (target, "")
            preview.save_button.click()
            pages = preview.page_count
        marks["rss_handed_over_mb"] = rss_kib() / 1024
    # Closed, and deleted once the window's own event loop runs again (the idle time).
    preview.close()
    wait_until(lambda: documents.model.rowCount() > 0, "the handed-over summary being listed")
    if pages < 1:
        raise RuntimeError("the discharge summary printed no page")
    return {
        "preview_seconds": shown,
        "draft_seconds": drafted[0] - started,
        "pages": float(pages),
        **marks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    database_argument(parser)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--send-to-printer",
        action="store_true",
        help="hand the summary over with Print… (Qt's print support) instead of Save as PDF…",
    )
    arguments = parser.parse_args()
    path = ensure(arguments.database)
    patient_id = patient_with_sessions(path)
    environment = child_environment()
    bare = [sys.executable, "-m", "benchmarks.bare_window"]
    backclinic = [
        sys.executable,
        "-m",
        "benchmarks.backclinic_sign_in",
        sqlite_url(path),
        "--idle",
        str(arguments.idle),
        "--open-patient",
        str(patient_id),
        *(["--send-to-printer"] if arguments.send_to_printer else []),
    ]
    bare_reports = [launch(bare, environment)[1] for _ in range(arguments.runs)]
    shown = statistics.median(r["rss_kib"] for r in bare_reports) / 1024
    print(f"{'bare QMainWindow + QTableView':<34} RSS when shown {shown:6.1f} MB")
    reports = [launch(backclinic, environment)[1] for _ in range(arguments.runs)]
    at_sign_in = statistics.median(r["rss_at_sign_in_kib"] for r in reports) / 1024
    shown = statistics.median(r["rss_kib"] for r in reports) / 1024
    idle = statistics.median(r["idle_rss_kib"] for r in reports) / 1024
    peak = statistics.median(r["peak_rss_kib"] for r in reports) / 1024
    preview = [r["printing"]["preview_seconds"] * 1000 for r in reports]
    verdict = "met" if idle <= GOAL_MB else "MISSED"
    print(
        f"{'BackClinic (100k patients)':<34} RSS at sign-in {at_sign_in:6.1f} MB, "
        f"main window {shown:6.1f} MB"
    )
    how = "printing" if arguments.send_to_printer else "saving as PDF"
    print(
        f"  after opening a patient with {SESSIONS} sessions and {how} a discharge summary"
        " from its preview,"
        f" idle {arguments.idle:g} s: {idle:6.1f} MB (peak {peak:6.1f} MB)"
        f"  goal <= {GOAL_MB:.0f} MB: {verdict}"
    )
    for mark in reports[0]["printing"]:
        if mark.startswith("rss_"):
            value = statistics.median(r["printing"][mark] for r in reports)
            print(f"    {mark[4:-3].replace('_', ' ')}: {value:6.1f} MB")
    drafts = [r["printing"]["draft_seconds"] * 1000 for r in reports]
    print(
        f"  the Print button → preview shown: median {statistics.median(preview):6.0f} ms "
        f"({', '.join(f'{ms:.0f}' for ms in preview)}), of which the draft arriving: "
        f"median {statistics.median(drafts):6.0f} ms ({', '.join(f'{ms:.0f}' for ms in drafts)})"
    )


if __name__ == "__main__":
    main()
