"""Garbage is collected on the GUI thread only, never by a worker thread that allocates."""

from __future__ import annotations

import gc
import threading

from pytestqt.qtbot import QtBot

from backclinic.ui.garbage import GuiThreadCollector


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
