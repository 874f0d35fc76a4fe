"""Work off the GUI thread: run a function on the thread pool, get its result on the GUI thread.

Tests set ``synchronous=True`` so the result arrives before ``run`` returns and nothing
needs waiting for. A result whose ``owner`` (the widget that asked) is gone by the time it
arrives is dropped: a closed tab must not be updated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from backclinic.services.errors import ServiceError

T = TypeVar("T")
LOADING = "Loading…"


def read_failure(error: Exception, what: str) -> str:
    """One sentence, in words, saying that ``what`` could not be read and why."""
    if isinstance(error, ServiceError):
        return f"{what} could not be read: {str(error).rstrip('.')}."
    return (
        f"{what} could not be read: the database did not answer. Close and reopen the "
        "patient to try again."
    )


def expected_failure(error: Exception) -> bool:
    """A refusal or an unreachable database, not a defect: worded, and nothing raised."""
    package = type(error).__module__.split(".")[0]
    return isinstance(error, (ServiceError, OSError)) or package in ("sqlalchemy", "psycopg")


class _Outcome(QObject):
    # Lives on the GUI thread; a worker emitting these is queued back onto it.
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], outcome: _Outcome) -> None:
        super().__init__()
        self._work = work
        self._outcome = outcome

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as error:
            self._outcome.failed.emit(error)
        else:
            self._outcome.succeeded.emit(result)


class TaskRunner(QObject):
    """Runs callables on a QThreadPool and delivers their outcome on the GUI thread.

    Work must not touch widgets; services are safe because each call opens its own session.
    """

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        synchronous: bool = False,
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.synchronous = synchronous
        self._pool = pool or QThreadPool.globalInstance()
        self._pending: set[_Outcome] = set()
        self._held: list[_Job] | None = None

    def run(
        self,
        work: Callable[[], Any],
        *,
        on_result: Callable[[Any], None],
        on_error: Callable[[Exception], None] | None = None,
        owner: QObject | None = None,
    ) -> None:
        if self.synchronous:
            try:
                result = work()
            except Exception as error:
                if on_error is None:
                    raise
                on_error(error)
            else:
                on_result(result)
            return
        outcome = _Outcome()
        self._pending.add(outcome)

        def wanted() -> bool:
            # Not deleted here: a result handler may open a modal loop inside this emission.
            self._pending.discard(outcome)
            return isValid(self) and (owner is None or isValid(owner))

        def finished(result: Any) -> None:
            if wanted():
                on_result(result)

        def failed(error: Exception) -> None:
            if not wanted():
                return
            if on_error is None:
                raise error
            on_error(error)

        outcome.succeeded.connect(finished)
        outcome.failed.connect(failed)
        job = _Job(work, outcome)
        if self._held is not None:
            self._held.append(job)
        else:
            self._pool.start(job)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Start the work asked for inside the block only when the block ends.

        A view that builds several widgets, each asking for its read, builds them all
        before any read runs: a read running meanwhile would share the interpreter with
        the GUI thread and slow the building down.
        """
        if self._held is not None:
            yield
            return
        self._held = []
        try:
            yield
        finally:
            jobs, self._held = self._held, None
            for job in jobs:
                self._pool.start(job)

    def result_of(self, work: Callable[[], T], *, window: QWidget | None) -> T:
        """Run ``work`` off the GUI thread and return its result (or raise its error).

        Meanwhile the window keeps painting but takes no input (disabled, wait cursor), so
        nothing else can start; for an action whose caller needs the answer to go on.
        """
        if self.synchronous:
            return work()
        loop = QEventLoop()
        answer: list[T] = []
        failure: list[Exception] = []

        def finished(result: T) -> None:
            answer.append(result)
            loop.quit()

        def failed(error: Exception) -> None:
            failure.append(error)
            loop.quit()

        top = window.window() if window is not None else None
        if top is not None:
            top.setEnabled(False)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.run(work, on_result=finished, on_error=failed)
            if not answer and not failure:
                loop.exec()
        finally:
            QApplication.restoreOverrideCursor()
            if top is not None:
                top.setEnabled(True)
        if failure:
            raise failure[0]
        return answer[0]

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until queued work has run (delivery still needs the event loop)."""
        return self._pool.waitForDone(msecs)


class LatestRead(QObject):
    """A view's reads off the GUI thread, of which only the latest is shown.

    A read started while another runs supersedes it: the older result is dropped, so a
    slow early read never overwrites a newer one. ``loading`` is True until the latest read
    is shown; ``settled`` is emitted then (or when it failed). A read whose owner (this
    object's parent) has gone is dropped, shown nowhere.
    """

    settled = Signal()

    def __init__(self, tasks: TaskRunner, parent: QObject) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._generation = 0
        self.loading = False

    def run(
        self,
        work: Callable[[], T],
        show: Callable[[T], None],
        fail: Callable[[Exception], None] | None = None,
    ) -> None:
        """Read with ``work`` off the GUI thread and ``show`` the result unless superseded;
        a failure goes to ``fail`` (raised without one)."""
        self._generation += 1
        generation = self._generation
        self.loading = True

        def shown(result: T) -> None:
            if generation == self._generation:
                self.loading = False
                show(result)
                self.settled.emit()

        def failed(error: Exception) -> None:
            if generation != self._generation:
                return
            self.loading = False
            try:
                if fail is None:
                    raise error
                fail(error)
            finally:
                self.settled.emit()

        self._tasks.run(work, on_result=shown, on_error=failed, owner=self)
