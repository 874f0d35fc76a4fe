"""The longest GUI-thread stall while searching 100,000 patients, printing a discharge
summary, opening a patient with 200 sessions and opening the session form (goal: no stall
over 100 ms).

A QTimer beats every 10 ms on the GUI thread and the longest gap between two beats is the
longest time the window could not repaint or take a key press. The real views do the work
as a user starts it: prefixes typed into the PatientListView's search box (each waited for
until its rows are in the table), and "Print discharge summary…" in a patient's Documents
tab (waited for until its preview is open), a patient's workspace opened (waited for until
its header and every tab are filled in) and the session form opened for that patient
(waited for until its prefill is in). Each is run
twice: with the task runner as the window uses it (work off the GUI thread) and with it
made synchronous, which is how the same work ran before it moved off the GUI thread.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import (
    QEventLoop,
    QMessageLogContext,
    QTimer,
    QtMsgType,
    SignalInstance,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from backclinic.db.database import open_database
from backclinic.services.bundle import Services, build_services
from backclinic.services.context import Actor
from backclinic.ui.documents_tab import DocumentsTab
from backclinic.ui.local_drafts import DRAFTS_FOLDER_VARIABLE
from backclinic.ui.operations import Operations
from backclinic.ui.patient_list import PatientListView
from backclinic.ui.patient_tab import PatientTab
from backclinic.ui.patient_workspace import PatientWorkspace
from backclinic.ui.session_dialog import SessionDialog
from benchmarks.clinic_db import database_argument, ensure, sqlite_url
from benchmarks.sessions import clinician, log_sessions, patient_with_plan

GOAL_MS = 100.0
HEARTBEAT_MS = 10
WAIT_LIMIT_MS = 60_000


class Heartbeat:
    """Beats on the GUI thread; ``longest_gap_ms`` is the longest wait between two beats."""

    def __init__(self) -> None:
        self._timer = QTimer()
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._last = time.perf_counter()
        self.longest_gap_ms = 0.0

    def start(self) -> None:
        self.longest_gap_ms = 0.0
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        self._on_timer_timeout()
        return self.longest_gap_ms

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.longest_gap_ms = max(self.longest_gap_ms, (now - self._last) * 1000)
        self._last = now


def wait_for(signal: SignalInstance, start: Callable[[], None]) -> None:
    """Start the work and run the event loop (beats included) until ``signal`` fires."""
    loop = QEventLoop()
    fired: list[bool] = []

    def done(*_args: object) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(WAIT_LIMIT_MS, loop.quit)
    start()
    if not fired:  # synchronous work has already finished
        loop.exec()
    signal.disconnect(done)


def wait_until(done: Callable[[], bool], start: Callable[[], None]) -> None:
    """Start the work and run the event loop (beats included) until ``done()`` holds."""
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: loop.quit() if done() else None)
    QTimer.singleShot(WAIT_LIMIT_MS, loop.quit)
    start()
    if not done():
        poll.start()
        loop.exec()
        poll.stop()
    if not done():
        raise RuntimeError("the work did not finish within the wait limit")


def settle(app: QApplication, milliseconds: int = 200) -> None:
    deadline = time.perf_counter() + milliseconds / 1000
    while time.perf_counter() < deadline:
        app.processEvents()


def searching(app: QApplication, services: Services, actor: Actor, *, synchronous: bool) -> float:
    operations = Operations()
    operations.tasks.synchronous = synchronous
    view = PatientListView(services, actor, operations=operations)
    view.resize(1100, 700)
    view.show()
    if view.model.busy:
        wait_for(view.model.searched, lambda: None)
    settle(app)
    rng = random.Random(11)
    # Distinct, so that each one changes the search box's text.
    prefixes = list(
        dict.fromkeys(
            "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
            for length in (1, 2, 3)
            for _ in range(20)
        )
    )
    beat = Heartbeat()
    beat.start()
    for prefix in prefixes:
        # Typed as a person types (debounced), then waited for until the rows are shown.
        wait_for(view.model.searched, lambda p=prefix: view.search_edit.setText(p))
    longest = beat.stop()
    view.close()
    view.deleteLater()
    settle(app)
    return longest


def patient_with_sessions(services: Services, actor: Actor) -> int:
    """A patient eight weeks into the recommended plan, with 60 sessions to summarise."""
    patient_id = patient_with_plan(services, actor, weeks_ago=8)
    log_sessions(services, actor, patient_id, 60, hours_apart=22)
    return patient_id


class Printing:
    """Longest stalls of printing discharge summaries from an open Documents tab."""

    def __init__(self, cold: float, rendering: float, with_preview: float) -> None:
        self.cold = cold
        self.rendering = rendering
        self.with_preview = with_preview


def printing(
    app: QApplication, services: Services, actor: Actor, patient_id: int, *, synchronous: bool
) -> Printing:
    operations = Operations()
    operations.tasks.synchronous = synchronous
    tab = DocumentsTab(services, actor, patient_id, operations=operations)
    tab.resize(1000, 700)
    tab.show()
    settle(app)
    use_case = services.documents.print_discharge_summary

    def render_and_store() -> float:
        # What "Print discharge summary…" runs, without the preview window it then opens.
        beat = Heartbeat()
        beat.start()
        wait_for(
            operations.changed,
            lambda: operations.submit(use_case, actor, patient_id, on_result=lambda _d: None),
        )
        settle(app, 100)
        return beat.stop()

    cold = render_and_store()
    rendering = max(render_and_store() for _ in range(3))
    beat = Heartbeat()
    beat.start()
    for _ in range(3):
        # The button drafts the summary off the GUI thread, then opens its preview (the
        # document is kept only when the preview prints or saves it).
        wait_until(
            lambda: tab.preview is not None and tab.preview.isVisible(),
            lambda: tab.discharge_button.click(),
        )
        settle(app, 100)
        if tab.preview is not None:
            tab.preview.close()
            settle(app, 50)
    with_preview = beat.stop()
    tab.close()
    tab.deleteLater()
    settle(app)
    return Printing(cold, rendering, with_preview)


def patient_with_200_sessions(services: Services, actor: Actor) -> int:
    """A patient well into the recommended plan, with 200 sessions in their record."""
    patient_id = patient_with_plan(services, actor, weeks_ago=8)
    log_sessions(services, actor, patient_id, 200, hours_apart=6)
    return patient_id


def _filled_in(workspace: PatientWorkspace) -> bool:
    tabs = [workspace.tabs.widget(i) for i in range(workspace.tabs.count())]
    return not workspace.loading and all(
        not tab.loading for tab in tabs if isinstance(tab, PatientTab)
    )


class Opening:
    """Longest stalls of opening a patient's workspace (the first of the process loads
    QtCharts) and the session form, each waited for until filled in."""

    def __init__(self, cold: float, workspace: float, session_form: float) -> None:
        self.cold = cold
        self.workspace = workspace
        self.session_form = session_form


def opening(
    app: QApplication, services: Services, actor: Actor, patient_id: int, *, synchronous: bool
) -> Opening:
    operations = Operations()
    operations.tasks.synchronous = synchronous

    def open_workspace() -> float:
        opened: list[PatientWorkspace] = []

        def start() -> None:
            workspace = PatientWorkspace(services, actor, patient_id, operations=operations)
            workspace.resize(1100, 700)
            workspace.show()
            opened.append(workspace)

        beat = Heartbeat()
        beat.start()
        wait_until(lambda: bool(opened) and _filled_in(opened[0]), start)
        settle(app, 100)
        longest = beat.stop()
        opened[0].close()
        opened[0].deleteLater()
        settle(app, 50)
        return longest

    def open_session_form() -> float:
        opened: list[SessionDialog] = []

        def start() -> None:
            dialog = SessionDialog(services, actor, patient_id, operations=operations)
            dialog.show()
            opened.append(dialog)

        beat = Heartbeat()
        beat.start()
        wait_until(lambda: bool(opened) and opened[0].loaded, start)
        settle(app, 100)
        longest = beat.stop()
        opened[0].done(0)
        opened[0].deleteLater()
        settle(app, 50)
        return longest

    cold = open_workspace()
    workspace = max(open_workspace() for _ in range(3))
    session_form = max(open_session_form() for _ in range(3))
    return Opening(cold, workspace, session_form)


def _quiet(_kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    # The offscreen platform says this of every dialog shown; the figures drown in it.
    if "propagateSizeHints" not in message:
        sys.stderr.write(f"{message}\n")


def verdict(longest: float) -> str:
    return "met" if longest <= GOAL_MS else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    database_argument(parser)
    arguments = parser.parse_args()
    path = ensure(arguments.database)
    database = open_database(sqlite_url(path))
    services = build_services(database.session_factory)
    qInstallMessageHandler(_quiet)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    # The session form keeps drafts of what is typed: here, in a folder thrown away.
    drafts = tempfile.TemporaryDirectory(prefix="gui-stall-drafts-")
    os.environ[DRAFTS_FOLDER_VARIABLE] = drafts.name
    actor = clinician(services)
    patient_id = patient_with_sessions(services, actor)
    busy_patient = patient_with_200_sessions(services, actor)
    print(f"longest GUI-thread stall ({HEARTBEAT_MS} ms heartbeat) on {path}")
    for label, synchronous in (("off the GUI thread", False), ("on the GUI thread", True)):
        search = searching(app, services, actor, synchronous=synchronous)
        summary = printing(app, services, actor, patient_id, synchronous=synchronous)
        opened = opening(app, services, actor, busy_patient, synchronous=synchronous)
        print(f"  {label}:")
        print(f"    searching 100,000 patients: {search:6.1f} ms ({verdict(search)})")
        print(
            f"    rendering a discharge summary: {summary.rendering:6.1f} ms "
            f"({verdict(summary.rendering)}); the first of the process, loading reportlab "
            f"and its fonts: {summary.cold:6.1f} ms"
        )
        print(
            f"    the Print button with its preview window opening: "
            f"{summary.with_preview:6.1f} ms ({verdict(summary.with_preview)})"
        )
        print(
            f"    opening a patient with 200 sessions: {opened.workspace:6.1f} ms "
            f"({verdict(opened.workspace)}); the first of the process, loading QtCharts: "
            f"{opened.cold:6.1f} ms"
        )
        print(
            f"    opening the session form: {opened.session_form:6.1f} ms "
            f"({verdict(opened.session_form)})"
        )
    print(f"goal: no stall over {GOAL_MS:.0f} ms with the work off the GUI thread")
    database.engine.dispose()
    drafts.cleanup()


if __name__ == "__main__":
    main()
