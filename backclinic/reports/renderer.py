"""Where a document is drawn: in this process, or in a short-lived child process.

Drawing loads reportlab, Pillow and two DejaVu fonts (about 23 MB), and they stay resident
in whichever process loaded them. The command line draws in its own process (it exits soon
after). The window hands each document to a child process started for it, with the
"spawn" method (a Qt process is never forked): the child imports only this module and the
layout, draws, sends the PDF back and exits, so its memory goes back to the system.

This module imports no reportlab itself; the layout modules load inside ``draw``.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Protocol

from backclinic.reports.content import DischargeSummary, PlanSummary, RenderedPdf

Summary = PlanSummary | DischargeSummary
Draw = Callable[[Summary], RenderedPdf]

# A discharge summary of 200 sessions draws in well under a second; a minute means stuck.
CHILD_TIMEOUT_SECONDS = 60.0
# A child that sent its document is only closing its pipe and exiting.
_EXIT_GRACE_SECONDS = 10.0


class RenderFailed(Exception):
    """A document could not be drawn; the message is one sentence saying why."""


class DocumentRenderer(Protocol):
    """Draws the reports' plain content as a PDF."""

    def render(self, summary: Summary) -> RenderedPdf: ...


def draw(summary: Summary) -> RenderedPdf:
    """Lay out ``summary`` with reportlab in this process (loading it on first use)."""
    if isinstance(summary, PlanSummary):
        from backclinic.reports.plan_summary import render_plan_summary

        return render_plan_summary(summary)
    from backclinic.reports.discharge_summary import render_discharge_summary

    return render_discharge_summary(summary)


class InProcessRenderer:
    """Draws in the calling process: for the command line and the tests."""

    def __init__(self, draw: Draw = draw) -> None:
        self._draw = draw

    def render(self, summary: Summary) -> RenderedPdf:
        return self._draw(summary)


class ChildProcessRenderer:
    """Draws each document in a new child process that exits once it has sent the PDF.

    Safe to call from several threads at once (each call has its own child). A child that
    raises, dies or takes longer than ``timeout`` seconds is reported as RenderFailed in one
    sentence; one still running is killed, never left behind.
    """

    def __init__(self, *, timeout: float = CHILD_TIMEOUT_SECONDS, draw: Draw = draw) -> None:
        # ``draw`` must be a module-level function: the child imports it by name.
        self._timeout = timeout
        self._draw = draw

    def render(self, summary: Summary) -> RenderedPdf:
        what = _document(summary)
        context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(
            target=_child,
            args=(writer, self._draw, summary),
            name="BackClinic document",
            daemon=True,
        )
        delivered = False
        try:
            try:
                process.start()
            except OSError as error:
                raise RenderFailed(
                    f"The {what} could not be drawn: the drawing process did not start "
                    f"({error.strerror or error})."
                ) from error
            finally:
                # Only the child writes: with this end closed, its death reads as end of file.
                writer.close()
            outcome = self._outcome(reader, what)
            delivered = True
        finally:
            reader.close()
            # A child that sent its document is only exiting; any other is killed now.
            _finish(process, grace=_EXIT_GRACE_SECONDS if delivered else 0.0)
        return outcome

    def _outcome(self, reader: Connection, what: str) -> RenderedPdf:
        if not reader.poll(self._timeout):
            raise RenderFailed(
                f"The {what} could not be drawn: it took longer than {self._timeout:g} seconds, "
                "so the drawing was stopped."
            )
        try:
            kind, value = reader.recv()
        except (EOFError, OSError):
            raise RenderFailed(
                f"The {what} could not be drawn: the drawing process ended before it finished."
            ) from None
        if kind == "failed":
            raise RenderFailed(f"The {what} could not be drawn: {value}.")
        if not isinstance(value, RenderedPdf):
            raise RenderFailed(f"The {what} could not be drawn: the drawing process sent no PDF.")
        return value


def _document(summary: Summary) -> str:
    title = summary.frame.title
    return title[:1].lower() + title[1:]


def _finish(process: multiprocessing.process.BaseProcess, *, grace: float) -> None:
    """Wait up to ``grace`` seconds for the child to exit, then kill it if it has not."""
    if process.pid is None:
        return
    process.join(grace)
    if process.is_alive():
        process.kill()
        process.join()
    process.close()


def _reason(error: BaseException) -> str:
    message = str(error).strip().rstrip(".").splitlines()
    text = message[0] if message else ""
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"the drawing stopped with an error ({detail})"


def _child(connection: Connection, draw: Draw, summary: Summary) -> None:
    """The child process: draw, send the outcome, exit."""
    try:
        try:
            rendered = draw(summary)
        except Exception as error:
            # The whole story goes to the log (the app's standard error); the clinician
            # is told in one sentence.
            traceback.print_exc()
            connection.send(("failed", _reason(error)))
        else:
            connection.send(("rendered", rendered))
    finally:
        connection.close()
