"""Printing in a child process with its own Qt: the system print dialog, then the pages.

Qt's print support (its CUPS plugin and PDF print engine) and the pages rasterised at up to
300 dpi stay resident in whichever process prints first: about 6 MB of the window's idle
memory for the rest of the day (benchmarks/idle_memory.py --send-to-printer). So the window
prints the way it draws (backclinic.reports.renderer): a child started for one print shows
the system dialog above the window and reports the printer chosen; the window keeps the
document and records where it went; only then does the child print, and it exits.

The waits block, so the window runs them off the GUI thread and keeps painting. This module
imports no Qt; the child's Qt side is backclinic.ui.print_child.
"""

from __future__ import annotations

import threading
import traceback
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from backclinic.child_process import exit_now, finish, spawn_context, stopped_with

# Rasterising ten pages at 300 dpi and spooling them takes seconds; minutes means stuck.
PRINT_TIMEOUT_SECONDS = 120.0
# A child that has printed is only closing its pipe and exiting.
_EXIT_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class PrinterChoice:
    """A printer named in advance, printed on without the dialog: a PDF file when
    ``output_file`` is given, else the printer named (the system default when empty)."""

    printer_name: str = ""
    output_file: str = ""
    copies: int = 1


class PrintFailed(Exception):
    """A document could not be printed; the message is one sentence saying why."""


def recorded_unprinted(error: PrintFailed, destination: str) -> str:
    """The failure of a print that came after its document was kept as sent: the record
    stands (a document handed over is never left unrecorded), so say how to print it."""
    return (
        f"{error} It is recorded as sent to {destination}: reprint it from the patient's "
        "Documents tab."
    )


@dataclass(frozen=True)
class _Request:
    title: str
    pages: int
    preset: PrinterChoice | None
    platform: str
    parent_window: int | None


class PrintJob:
    """One document printed from a child process: ``choose``, then ``print``, then ``close``.

    ``choose`` starts the child, which shows the system print dialog (or takes ``preset``)
    above ``parent_window`` on the window's ``platform``, and returns where the pages will
    go, or None when the dialog was cancelled. ``print`` sends the PDF and returns the pages
    printed. Both block: call them off the GUI thread. ``close`` may be called from any
    thread at any time: a child still running (a dialog left open when its preview closed)
    is killed, and a ``choose`` or ``print`` waiting on it fails.
    """

    def __init__(
        self,
        title: str,
        pages: int,
        *,
        preset: PrinterChoice | None = None,
        platform: str = "",
        parent_window: int | None = None,
        timeout: float = PRINT_TIMEOUT_SECONDS,
    ) -> None:
        self._request = _Request(title, pages, preset, platform, parent_window)
        self._what = title[:1].lower() + title[1:]
        self._timeout = timeout
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._printed = False
        self._closed = False

    def choose(self) -> str | None:
        connection = self._start()
        try:
            connection.send(self._request)
            # No time limit: a person is choosing a printer.
            kind, value = connection.recv()
        except (EOFError, OSError):
            raise self._failed("the print dialog closed before a printer was chosen") from None
        if kind == "failed":
            raise self._failed(value)
        if kind == "cancelled":
            return None
        return str(value)

    def print(self, pdf: bytes) -> int:
        connection = self._connection
        if connection is None:
            raise self._failed("no printer was chosen")
        ended = "the printing process ended before it finished"
        try:
            connection.send_bytes(pdf)
            if not connection.poll(self._timeout):
                raise self._failed(
                    f"it took longer than {self._timeout:g} seconds, so the printing was stopped"
                )
            kind, value = connection.recv()
        except (EOFError, OSError):
            raise self._failed(ended) from None
        if kind != "printed":
            raise self._failed(value if kind == "failed" else ended)
        self._printed = True
        return int(value)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            process, connection = self._process, self._connection
        if connection is not None:
            connection.close()
        if process is not None:
            # A child that printed is only exiting; any other is stopped now (with its pipe
            # closed first, one waiting for the pages exits by itself).
            finish(process, grace=_EXIT_GRACE_SECONDS if self._printed else 0.5)

    def _start(self) -> Connection:
        context = spawn_context()
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_child, args=(theirs,), name="BackClinic printing", daemon=True
        )
        with self._lock:
            if self._closed:
                ours.close()
                theirs.close()
                raise self._failed("the print was called off")
            try:
                process.start()
            except OSError as error:
                ours.close()
                raise self._failed(
                    f"the printing process did not start ({error.strerror or error})"
                ) from None
            finally:
                # With the child's end closed here, its death reads as end of file.
                theirs.close()
            self._process, self._connection = process, ours
        return ours

    def _failed(self, reason: str) -> PrintFailed:
        return PrintFailed(f"The {self._what} was not printed: {reason}.")


def _child(connection: Connection) -> None:
    """The child process: its Qt, the printer chosen, then (if told) the pages printed."""
    try:
        request: _Request = connection.recv()
        try:
            from backclinic.ui import print_child

            print_child.application(request.platform)
            printer = print_child.chosen_printer(
                request.title, request.pages, request.preset, request.parent_window
            )
        except OSError as error:
            connection.send(("failed", str(error)))
            return
        except Exception as error:
            traceback.print_exc()
            connection.send(("failed", stopped_with(error, "the print dialog")))
            return
        if printer is None:
            connection.send(("cancelled", None))
            return
        connection.send(("chosen", print_child.destination(printer)))
        try:
            pdf = connection.recv_bytes()
        except (EOFError, OSError):
            return  # the window did not go on to print (the document could not be kept)
        try:
            pages = print_child.print_pdf(pdf, printer)
        except OSError as error:
            connection.send(("failed", str(error)))
        except Exception as error:
            # The whole story goes to the log; the clinician is told in one sentence.
            traceback.print_exc()
            connection.send(("failed", stopped_with(error, "printing")))
        else:
            connection.send(("printed", pages))
    except (EOFError, OSError):
        return  # the window has gone: nobody to print for
    finally:
        with suppress(OSError):
            connection.close()
        exit_now()
