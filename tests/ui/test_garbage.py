"""Garbage is collected on the GUI thread only, never by a worker thread that allocates."""

from __future__ import annotations

import gc
import sys
import threading

import pytest
from pytestqt.qtbot import QtBot

from backclinic.ui import garbage
from backclinic.ui.garbage import GuiThreadCollector

MIB = 1024 * 1024


def test_the_collector_turns_automatic_collection_off_and_collects_on_its_timer(
    qtbot: QtBot,
) -> None:
    gc.enable()
    collector = GuiThreadCollector()
    assert not gc.isenabled()

    collected_on: list[threading.Thread] = []
    gc.callbacks.append(lambda phase, _info: collected_on.append(threading.current_thread()))
    try:
        # A worker allocating far past the thresholds (and keeping it) triggers no
        # collection of its own.
        kept: list[list[object]] = []
        worker = threading.Thread(target=lambda: kept.extend([object()] for _ in range(100_000)))
        worker.start()
        worker.join()
        assert worker not in collected_on
        qtbot.waitUntil(lambda: bool(collected_on), timeout=3000)
        assert set(collected_on) == {threading.main_thread()}
    finally:
        gc.callbacks.pop()
        collector.deleteLater()


def test_an_idle_moment_after_the_process_grew_hands_free_heap_back(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a long history is opened or a document rendered, the process does not stay at
    its peak size all day: the next idle tick trims the heap, once, and not while typing."""
    resident = [100 * MIB]
    trims: list[int] = []
    monkeypatch.setattr(garbage, "resident_bytes", lambda: resident[0])
    monkeypatch.setattr(garbage, "heap_trimmer", lambda: lambda: trims.append(resident[0]))
    collector = GuiThreadCollector()
    try:
        gc.collect()
        collector.collect_due()
        assert trims == []  # nothing grew

        resident[0] += garbage.TRIM_AFTER_GROWTH_BYTES - MIB
        collector.collect_due()
        assert trims == []  # growth below the threshold (typing, a search)

        resident[0] += 2 * MIB
        collector.collect_due()
        assert trims == [resident[0]]
        collector.collect_due()
        assert len(trims) == 1  # the same size again is not trimmed again
    finally:
        collector.deleteLater()


def test_the_heap_trimmer_runs_on_this_platform() -> None:
    trim = garbage.heap_trimmer()
    if sys.platform.startswith("linux"):
        assert trim is not None
        trim()
        assert garbage.resident_bytes() > 0
    else:
        assert trim is None
