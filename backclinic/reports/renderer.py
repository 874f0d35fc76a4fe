"""Where a document is drawn: in this process, or in a short-lived child process.

Drawing loads reportlab, Pillow and two DejaVu fonts, and they stay resident in whichever
process loaded them (about 10 MB of the window's idle memory: benchmarks/idle_memory.py).
The command line draws in its own process (it exits soon after). The window hands each
document to a child process started for it, with the "spawn" method (a Qt process is never
forked): the child imports only this module and the layout, draws, sends the PDF back and
exits, so its memory goes back to the system.

The child is started before the content is gathered (``DocumentRenderer.drawing``), so it
loads reportlab and the fonts while the services read the records. This module imports no
reportlab itself; the layout modules load inside ``draw`` and ``load_layout``.
"""

from __future__ import annotations

import pickle
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from multiprocessing.connection import Connection
from typing import Protocol

from backclinic.child_process import exit_now, finish, spawn_context, stopped_with
from backclinic.reports.content import DischargeSummary, PlanSummary, RenderedPdf

Summary = PlanSummary | DischargeSummary
Draw = Callable[[Summary], RenderedPdf]

# A discharge summary of 200 sessions draws in well under a second; a minute means stuck.
CHILD_TIMEOUT_SECONDS = 60.0
# A child that sent its document is only closing its pipe and exiting.
_EXIT_GRACE_SECONDS = 10.0


class RenderFailed(Exception):
    """A document could not be drawn; the message is one sentence saying why."""


class Drawing(Protocol):
    """One document being drawn: ``render`` once, with its content."""

    def render(self, summary: Summary) -> RenderedPdf: ...


class DocumentRenderer(Protocol):
    """Draws the reports' plain content as a PDF.

    ``drawing()`` is entered before the content is gathered, so that a renderer can get
    ready meanwhile (a child process loads reportlab while the services read the records).
    """

    def drawing(self) -> AbstractContextManager[Drawing]: ...


def draw(summary: Summary) -> RenderedPdf:
    """Lay out ``summary`` with reportlab in this process (loading it on first use)."""
    if isinstance(summary, PlanSummary):
        from backclinic.reports.plan_summary import render_plan_summary

        return render_plan_summary(summary)
    from backclinic.reports.discharge_summary import render_discharge_summary

    return render_discharge_summary(summary)


def load_layout() -> None:
    """Import reportlab and the layouts and read the fonts: the slow part of a first draw."""
    from backclinic.reports import discharge_summary, plan_summary
    from backclinic.reports.frame import register_fonts

    assert discharge_summary and plan_summary
    register_fonts()


class InProcessRenderer:
    """Draws in the calling process: for the command line and the tests."""

    def __init__(self, draw: Draw = draw) -> None:
        self._draw = draw

    @contextmanager
    def drawing(self) -> Iterator[Drawing]:
        # Nothing to get ready: the renderer is its own drawing.
        yield self

    def render(self, summary: Summary) -> RenderedPdf:
        return self._draw(summary)


class ChildProcessRenderer:
    """Draws each document in a new child process that exits once it has sent the PDF.

    The child starts when ``drawing()`` is entered and loads reportlab and the fonts while
    the caller gathers the content. Safe to use from several threads at once (each drawing
    has its own child). A child that raises, dies or takes longer than ``timeout`` seconds
    is reported as RenderFailed in one sentence; one still running is killed, never left
    behind, and one whose content never came (the caller failed first) is stopped.
    """

    def __init__(self, *, timeout: float = CHILD_TIMEOUT_SECONDS, draw: Draw = draw) -> None:
        # ``draw`` must be a module-level function: the child imports it by name.
        self._timeout = timeout
        self._draw = draw

    @contextmanager
    def drawing(self) -> Iterator[Drawing]:
        context = spawn_context()
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_child, args=(theirs, self._draw), name="BackClinic document", daemon=True
        )
        drawing = _ChildDrawing(ours, self._timeout)
        try:
            try:
                process.start()
            except OSError as error:
                drawing.not_started = error
            finally:
                # With the child's end closed here, its death reads as end of file.
                theirs.close()
            yield drawing
        finally:
            ours.close()
            # A child that sent its document is only exiting; any other is killed now.
            finish(process, grace=_EXIT_GRACE_SECONDS if drawing.delivered else 0.0)

    def render(self, summary: Summary) -> RenderedPdf:
        with self.drawing() as drawing:
            return drawing.render(summary)


class _ChildDrawing:
    def __init__(self, connection: Connection, timeout: float) -> None:
        self._connection = connection
        self._timeout = timeout
        self.not_started: OSError | None = None
        self.delivered = False

    def render(self, summary: Summary) -> RenderedPdf:
        what = _document(summary)
        if self.not_started is not None:
            error = self.not_started
            raise RenderFailed(
                f"The {what} could not be drawn: the drawing process did not start "
                f"({error.strerror or error})."
            )
        content = pickle.dumps(summary, protocol=pickle.HIGHEST_PROTOCOL)
        # Sent from a thread: a child stuck before it reads would otherwise hold this
        # thread past the time limit once the content outgrows the pipe's buffer.
        sender = threading.Thread(
            target=_send, args=(self._connection, content), name="document content", daemon=True
        )
        sender.start()
        outcome = self._outcome(what)
        sender.join()
        self.delivered = True
        return outcome

    def _outcome(self, what: str) -> RenderedPdf:
        ended = f"The {what} could not be drawn: the drawing process ended before it finished."
        try:
            ready = self._connection.poll(self._timeout)
        except OSError:
            raise RenderFailed(ended) from None
        if not ready:
            raise RenderFailed(
                f"The {what} could not be drawn: it took longer than {self._timeout:g} seconds, "
                "so the drawing was stopped."
            )
        try:
            kind, value = self._connection.recv()
        except (EOFError, OSError):
            raise RenderFailed(ended) from None
        if kind == "failed":
            raise RenderFailed(f"The {what} could not be drawn: {value}.")
        if not isinstance(value, RenderedPdf):
            raise RenderFailed(f"The {what} could not be drawn: the drawing process sent no PDF.")
        return value


def _send(connection: Connection, content: bytes) -> None:
    # A child gone or stopped is for the waiting side to tell.
    with suppress(OSError):
        connection.send_bytes(content)


def _document(summary: Summary) -> str:
    title = summary.frame.title
    return title[:1].lower() + title[1:]


def _reason(error: BaseException) -> str:
    return stopped_with(error, "the drawing")


def _child(connection: Connection, draw: Draw) -> None:
    """The child process: load the layout, take the content, draw, send the outcome, exit."""
    try:
        failure: str | None = None
        try:
            load_layout()
        except Exception as error:
            traceback.print_exc()
            failure = _reason(error)
        try:
            content = connection.recv_bytes()
        except (EOFError, OSError):
            return  # the caller needed no drawing after all
        try:
            if failure is not None:
                connection.send(("failed", failure))
                return
            rendered = draw(pickle.loads(content))
        except Exception as error:
            # The whole story goes to the log (the app's standard error); the clinician
            # is told in one sentence.
            traceback.print_exc()
            connection.send(("failed", _reason(error)))
        else:
            connection.send(("rendered", rendered))
    finally:
        connection.close()
        exit_now()
