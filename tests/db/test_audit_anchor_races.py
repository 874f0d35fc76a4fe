"""The audit anchor outside the database only moves forward, even when two processes on one
workstation record their heads at the same moment (two windows, or a window and the command
line): a head moved back would let the last entries of the chain be deleted unnoticed."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from backclinic.db import audit_chain
from backclinic.db.audit_chain import ChainHead, read_head, record_head


@pytest.mark.skipif(os.name != "posix", reason="the anchor lock is an advisory POSIX lock")
def test_a_slower_writer_of_an_older_head_does_not_move_the_anchor_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(audit_chain.KEY_FOLDER_VARIABLE, str(tmp_path))
    real_replace = os.replace
    older_is_writing = threading.Event()
    newer_started = threading.Event()

    def slow_first_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if not older_is_writing.is_set():
            older_is_writing.set()
            # Hold the older head between reading the anchor and replacing it, while the
            # newer head is recorded.
            newer_started.wait(5)
            time.sleep(0.3)
        real_replace(source, target)

    monkeypatch.setattr(audit_chain.os, "replace", slow_first_replace)
    older = threading.Thread(target=record_head, args=("clinic", ChainHead(5, "a" * 64)))
    older.start()
    assert older_is_writing.wait(5)
    newer = threading.Thread(target=record_head, args=("clinic", ChainHead(10, "b" * 64)))
    newer.start()
    newer_started.set()
    older.join(10)
    newer.join(10)
    assert read_head("clinic") == ChainHead(10, "b" * 64)
