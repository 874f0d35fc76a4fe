"""Short-lived child processes that keep heavy libraries out of the window's memory.

The window draws documents (backclinic.reports.renderer) and prints them
(backclinic.ui.printing) in children started for the purpose, because reportlab, Qt's print
support and the pages they produce stay resident in whichever process loads them. Both
children are started the same way and end the same way; this is that one way. Standard
library only: a child imports this before anything else.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing.context import SpawnContext
from multiprocessing.process import BaseProcess


def spawn_context() -> SpawnContext:
    """A fresh interpreter per child: a process running Qt threads is never forked."""
    return multiprocessing.get_context("spawn")


def finish(process: BaseProcess, *, grace: float) -> None:
    """Wait up to ``grace`` seconds for the child to exit, then kill it if it has not."""
    if process.pid is None:
        return
    process.join(grace)
    if process.is_alive():
        process.kill()
        process.join()
    process.close()


def stopped_with(error: BaseException, what: str) -> str:
    """``what`` (say "the drawing") stopped with ``error``, as the end of one sentence."""
    message = str(error).strip().rstrip(".").splitlines()
    text = message[0] if message else ""
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"{what} stopped with an error ({detail})"


def exit_now() -> None:
    """End the child at once, without tearing its libraries down module by module (about
    50 ms its parent would wait for): there is nothing left to write but the log."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
