"""Child process for startup.py: BackClinic's first window, exactly as `python main.py` shows it.

The start-up window appears before the database and service layers are imported; this
reports when it is shown (see window_probe.report_when_shown).
"""

from __future__ import annotations

import sys
import time

started = time.time()

from backclinic.app import show_startup_window  # noqa: E402
from benchmarks.window_probe import report_when_shown  # noqa: E402


def main() -> int:
    phases = {"imports": time.time() - started}
    app, _window = show_startup_window(sys.argv)
    report_when_shown(app, phases=phases)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
