from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from backclinic.app import run_app
from backclinic.launcher import EXIT_DATABASE_UNAVAILABLE
from backclinic.ui.tasks import TaskRunner
from tests.ui.conftest import ModalDriver


def test_an_unusable_database_is_one_sentence_on_stderr_and_in_a_message_box(
    qtbot: QtBot, modal: ModalDriver, capsys: pytest.CaptureFixture[str]
) -> None:
    shown: list[str] = []

    def read(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        shown.append(box.text())
        box.accept()

    modal.then(read)
    status = run_app("mysql://clinic:secret@db/backclinic", [])
    modal.check()
    assert status == EXIT_DATABASE_UNAVAILABLE
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0
    assert "sqlite and postgresql" in message
    assert "secret" not in message
    assert shown == [message]


def test_a_synchronous_task_runner_delivers_the_result_before_returning(qtbot: QtBot) -> None:
    runner = TaskRunner(synchronous=True)
    results: list[int] = []
    runner.run(lambda: 6 * 7, on_result=results.append)
    assert results == [42]


def test_a_synchronous_task_runner_hands_errors_to_the_error_callback(qtbot: QtBot) -> None:
    runner = TaskRunner(synchronous=True)
    errors: list[Exception] = []
    runner.run(lambda: 1 // 0, on_result=lambda _r: None, on_error=errors.append)
    assert isinstance(errors[0], ZeroDivisionError)


def test_background_work_runs_off_the_gui_thread_and_reports_back_on_it(qtbot: QtBot) -> None:
    runner = TaskRunner()
    worked_on: list[threading.Thread] = []
    delivered_on: list[threading.Thread] = []

    def work() -> str:
        worked_on.append(threading.current_thread())
        return "done"

    def deliver(_result: object) -> None:
        delivered_on.append(threading.current_thread())

    runner.run(work, on_result=deliver)
    qtbot.waitUntil(lambda: bool(delivered_on))
    assert worked_on[0] is not threading.main_thread()
    assert delivered_on[0] is threading.main_thread()
    assert not runner.busy


def test_background_failures_reach_the_error_callback_on_the_gui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner()
    errors: list[Exception] = []
    runner.run(lambda: {}["missing"], on_result=lambda _r: None, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], KeyError)


def test_held_work_runs_after_the_block_one_at_a_time_each_once_the_one_before_is_shown(
    qtbot: QtBot,
) -> None:
    runner = TaskRunner()
    log: list[str] = []
    running = threading.Semaphore(1)

    def read(name: str) -> str:
        # Never two at once: the second would wait for the first to be shown.
        assert running.acquire(blocking=False), f"{name} ran beside another read"
        log.append(f"read {name}")
        running.release()
        return name

    with runner.held():
        for name in ("overview", "header", "sessions"):
            runner.run(lambda n=name: read(n), on_result=lambda r: log.append(f"shown {r}"))
        log.append("built")
    assert log == ["built"], "nothing is read before the event loop runs again"
    qtbot.waitUntil(lambda: len(log) == 7)
    assert log == [
        "built",
        "read overview",
        "shown overview",
        "read header",
        "shown header",
        "read sessions",
        "shown sessions",
    ]
    assert not runner.busy


def test_held_work_of_a_view_closed_before_it_started_is_not_run(qtbot: QtBot) -> None:
    runner = TaskRunner()
    view = QWidget()
    ran: list[str] = []
    with runner.held():
        runner.run(lambda: ran.append("other"), on_result=lambda _r: None)
        runner.run(lambda: ran.append("closed"), on_result=lambda _r: None, owner=view)
    view.deleteLater()
    qtbot.wait(1)
    qtbot.waitUntil(lambda: not runner.busy)
    runner.wait_for_done(2000)
    assert ran == ["other"]


def test_the_startup_window_shows_before_the_database_layer_is_imported() -> None:
    # In a fresh interpreter: showing the start-up window must not pull in SQLAlchemy.
    import subprocess
    import sys

    probe = (
        "import sys, os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from backclinic.app import show_startup_window\n"
        "app, window = show_startup_window([])\n"
        "loaded = set(sys.modules)\n"
        "print(window.isVisible(), 'sqlalchemy' in loaded, 'backclinic.services.bundle' in loaded)"
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert finished.stdout.split() == ["True", "False", "False"]
